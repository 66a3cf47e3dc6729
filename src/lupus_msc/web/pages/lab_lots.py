"""Pages: manufactured lots, listed with filters, made from a harvest (the chain-of-identity code
with its check character is issued by ``services.lots``, §14), and each lot's own page."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from lupus_msc.cells.lot_state import LotState
from lupus_msc.services import donors, lots
from lupus_msc.services.access import Action
from lupus_msc.services.errors import ServiceError, invalid
from lupus_msc.services.fields import today
from lupus_msc.services.lots import LotIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import TRUE, FormErrors, parse
from lupus_msc.web.pages.lab_common import (
    STATE_BADGE,
    TISSUE_NAMES,
    cells,
    kept,
    parse_id,
    refusal,
    site_codes,
    sites_of,
    with_numbers,
)
from lupus_msc.web.pages.lab_lot_view import lot_context
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

EXPIRING_DAYS = 30
"""The lots list flags, and filters on, lots expiring within 30 days (issue 6, dashboard)."""
NUMBERS = ("passage", "total_cells", "viable_cells_per_ml", "viability_pct", "volume_ml")
STATES = [(state.value, state.value.capitalize()) for state in LotState]


def _filters(state: str, site_id: str, expiring: bool, expired: bool) -> dict[str, Any]:
    """The list's filters from the query string; an unknown state or site is a 422 page."""
    try:
        chosen = LotState(state) if state else None
    except ValueError as error:
        raise invalid("state", f"unknown lot state {state!r}") from error
    return {
        "state": chosen,
        "site_id": parse_id(site_id, "site") if site_id else None,
        "expiring_by": today() + dt.timedelta(days=EXPIRING_DAYS) if expiring else None,
        "expired": expired,
    }


@router.get("/lab/lots", response_class=HTMLResponse)
def lots_page(
    request: Request,
    registry: DatabaseDep,
    user: WebUserDep,
    state: str = "",
    site_id: str = "",
    expiring: str = "",
    expired: str = "",
) -> HTMLResponse:
    require_action(user, Action.READ_PRODUCTS)
    soon = expiring.lower() in TRUE
    past = expired.lower() in TRUE
    chosen = _filters(state, site_id, soon, past)
    with registry.reads() as session:
        found = lots.list_lots(session, user.actor, limit=500, offset=0, **chosen)
        context = {
            "lots": found,
            "codes": site_codes(session, user),
            "sites": sites_of(session, user),
            "states": STATES,
            "values": {"state": state, "site_id": site_id, "expiring": soon, "expired": past},
            "soon": today() + dt.timedelta(days=EXPIRING_DAYS),
            "today": today(),
            "badge": STATE_BADGE,
            "cells": cells,
        }
    return render(request, "lab/lots.html", context, user=user)


def _harvests(session: Session, user: WebUser) -> list[tuple[str, str]]:
    """Harvests of eligible donors of the user's sites, as options for a new lot."""
    found = []
    for donor in donors.list_donors(session, user.actor, site_id=None, limit=500, offset=0):
        if donor.eligible is not True:
            continue
        for harvest in donors.list_harvests(session, user.actor, donor.id):
            text = (
                f"{donor.code} · {TISSUE_NAMES[harvest.tissue_source]} · collected "
                f"{harvest.collected_on.isoformat()}"
            )
            found.append((str(harvest.id), text))
    return found


def _new_form(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with registry.reads() as session:
        harvests = _harvests(session, user)
    context = {"values": values, "errors": errors or {}, "message": message, "harvests": harvests}
    return render(request, "lab/lot_new.html", context, user=user, status=status)


@router.get("/lab/lots/new", response_class=HTMLResponse)
def new_lot_form(
    request: Request, registry: DatabaseDep, user: WebUserDep, harvest_id: str = ""
) -> HTMLResponse:
    require_action(user, Action.WRITE_PRODUCTS)
    return _new_form(request, registry, user, {"harvest_id": harvest_id})


@router.post("/lab/lots/new")
def create_lot(
    request: Request, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    require_action(user, Action.WRITE_PRODUCTS)
    try:
        data = parse(LotIn, with_numbers(form, *NUMBERS))
        with unit_of_work(registry, user.actor) as session:
            lot = lots.create_lot(session, user.actor, data)
            lot_id, code = lot.id, lot.code
    except (ServiceError, FormErrors) as error:
        message, errors, status = refusal(error)
        return _new_form(
            request, registry, user, kept(form), errors=errors, message=message, status=status
        )
    flash = f"Lot {code} is made and in quarantine; its check character is {code[-1]}."
    return redirect(f"/lab/lots/{lot_id}", flash=flash)


def lot_page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    lot_id: uuid.UUID,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The lot page; after a refusal, ``form`` names the form whose fields show the errors."""
    with registry.reads() as session:
        context = lot_context(session, user, lot_id)
    context.update(
        form=form, values=values or {}, errors=errors or {}, message=message, now=_now_local()
    )
    return render(request, "lab/lot.html", context, user=user, status=status)


def _now_local() -> str:
    """Now in UTC as a ``datetime-local`` field value (the pages show times in UTC)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M")


@router.get("/lab/lots/{lot_id}", response_class=HTMLResponse)
def read_lot(
    request: Request, lot_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep
) -> HTMLResponse:
    require_action(user, Action.READ_PRODUCTS)
    return lot_page(request, registry, user, lot_id)
