"""Admin pages: the audit trail browser (filters, keyset paging newest first) and the chain
verification (the same walk as ``lupus-msc audit verify``)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from lupus_msc.services import audit_trail
from lupus_msc.services.access import Action
from lupus_msc.services.audit_trail import AuditFilter, ChainOut
from lupus_msc.services.errors import Forbidden
from lupus_msc.store.base import Base
from lupus_msc.store.models import AuditEvent, AuditHead, User
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
FILTERS = ("user_id", "entity", "entity_id", "field", "since", "until")
ENTITIES = sorted(
    name
    for name in Base.metadata.tables
    if name not in {AuditEvent.__tablename__, AuditHead.__tablename__}
)
"""Every audited table (the ``entity`` of an audit row is its table name)."""


def _require_admin(user: WebUser) -> None:
    """The whole trail spans every site: admins only (a monitor reads a patient's trail)."""
    require_action(user, Action.READ_AUDIT)
    if not user.actor.all_sites:
        raise Forbidden("the audit trail browser is for admins; read a patient's trail instead")


def _before(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    values: dict[str, str],
    *,
    chain: ChainOut | None = None,
) -> HTMLResponse:
    errors: dict[str, str] = {}
    message = None
    before = _before(request.query_params.get("before"))
    try:
        chosen = parse(AuditFilter, values)
    except FormErrors as error:
        chosen, errors, message = AuditFilter(), error.fields, error.message
    with registry.reads() as session:
        rows = audit_trail.browse(session, user.actor, chosen, before=before, limit=PAGE_SIZE + 1)
        people = {row.id: row for row in session.scalars(select(User).order_by(User.full_name))}
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    kept = {key: value for key, value in values.items() if value}
    context = {
        "rows": rows,
        "people": people,
        "users": [
            (str(person.id), f"{person.full_name} ({person.email})") for person in people.values()
        ],
        "entities": [(name, name) for name in ENTITIES],
        "values": values,
        "errors": errors,
        "message": message,
        "chain": chain,
        "older": urlencode({**kept, "before": rows[-1].seq}) if more and rows else None,
        "newest": urlencode(kept) if before is not None else None,
        "filtered": bool(kept),
    }
    return render(request, "admin/audit.html", context, user=user, status=422 if errors else 200)


def _filters(request: Request) -> dict[str, str]:
    return {key: request.query_params.get(key, "").strip() for key in FILTERS}


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    _require_admin(user)
    return _page(request, registry, user, _filters(request))


@router.post("/admin/audit/verify", response_class=HTMLResponse)
def verify_chain(
    request: Request, registry: DatabaseDep, user: WebUserDep, _: FormDep
) -> HTMLResponse:
    """Walk the whole hash chain (every row's link and hash, and the head)."""
    _require_admin(user)
    with registry.reads() as session:
        chain = audit_trail.verify(session, user.actor)
    return _page(request, registry, user, _filters(request), chain=chain)
