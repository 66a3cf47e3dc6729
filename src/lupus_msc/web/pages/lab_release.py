"""Page: release or reject a lot in quarantine with an electronic signature (§14; issue 5 rule).

``services.release.decide`` holds every rule: only a qualified person (an unexpired lot-release
qualification) signs, with their password re-entered; a release with a result out of
specification or missing needs a documented deviation. The page shows the ``isct-release``
evaluation (§16.14) beside the form and each refusal next to its field.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from lupus_msc.cells.lot_state import LotState
from lupus_msc.services import products, release
from lupus_msc.services.access import Action
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.fields import today
from lupus_msc.services.release import ReleaseIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import QualificationKind
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.pages.lab_common import STATE_BADGE, kept, refusal
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

MEANINGS = {
    "release": "I release this lot for clinical use: it meets its specification, "
    "or the deviation recorded here is justified",
    "reject": "I reject this lot: it is not for clinical use",
}
"""What the signature means when the signer does not write it in their own words."""
DECISIONS = [("release", "Release the lot"), ("reject", "Reject the lot")]


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    lot_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with registry.reads() as session:
        lot = products.get_lot(session, user.actor, lot_id)
        context = {
            "lot": lot,
            "evaluation": release.evaluate(session, user.actor, lot.id),
            "decisions": release.decisions(session, user.actor, lot.id),
        }
    may_release = user.can(Action.RELEASE_LOT)
    context.update(
        badge=STATE_BADGE,
        may_release=may_release,
        qualified=user.actor.qualified(QualificationKind.LOT_RELEASE, today()),
        open=lot.state is LotState.QUARANTINE,
        decisions_offered=DECISIONS,
        meanings=MEANINGS,
        values=values or {"decision": "release"},
        errors=errors or {},
        message=message,
    )
    return render(request, "lab/release.html", context, user=user, status=status)


@router.get("/lab/lots/{lot_id}/release", response_class=HTMLResponse)
def release_form(
    request: Request, lot_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep
) -> HTMLResponse:
    require_action(user, Action.READ_PRODUCTS)
    return _page(request, registry, user, lot_id)


@router.post("/lab/lots/{lot_id}/release")
def decide(
    request: Request, lot_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    """Sign the decision; a refusal comes back next to its field (deviation, password …)."""
    require_action(user, Action.RELEASE_LOT)
    try:
        meaning = str(form.get("meaning") or "").strip()
        fixed = {} if meaning else {"meaning": MEANINGS.get(str(form.get("decision")), "")}
        data = parse(ReleaseIn, form, **fixed)
        with unit_of_work(registry, user.actor) as session:
            decision = release.decide(session, user.actor, lot_id, data)
            signed = f"{decision.signer_name} at {decision.signed_at:%Y-%m-%d %H:%M} UTC"
    except (ServiceError, FormErrors) as error:
        if isinstance(error, ServiceError) and error.status == 404:
            raise
        message, errors, status = refusal(error, rename={"state": "decision"})
        return _page(
            request, registry, user, lot_id, values=kept(form), errors=errors,
            message=message, status=status,
        )  # fmt: skip
    done = "released" if data.decision == "release" else "rejected"
    return redirect(f"/lab/lots/{lot_id}/release", flash=f"Lot {done}: signed by {signed}.")
