"""Admin pages: the sites of the programme (list and add)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from lupus_msc.services import accounts
from lupus_msc.services.access import Action
from lupus_msc.services.accounts import SiteIn
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import Membership
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with registry.reads() as session:
        sites = accounts.sites(session, user.actor)
        query = select(Membership.site_id, func.count()).group_by(Membership.site_id)
        members = {site_id: count for site_id, count in session.execute(query)}
        rows = [{"site": site, "members": members.get(site.id, 0)} for site in sites]
    context = {"rows": rows, "values": values or {}, "errors": errors or {}, "message": message}
    return render(request, "admin/sites.html", context, user=user, status=status)


@router.get("/admin/sites", response_class=HTMLResponse)
def sites_page(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    require_action(user, Action.MANAGE_SITES)
    return _page(request, registry, user)


@router.post("/admin/sites")
def add_site(request: Request, registry: DatabaseDep, user: WebUserDep, form: FormDep) -> Response:
    require_action(user, Action.MANAGE_SITES)
    values = {**form, "code": str(form.get("code", "")).strip().upper()}
    try:
        data = parse(SiteIn, values)
        with unit_of_work(registry, user.actor) as session:
            accounts.add_site(session, user.actor, data)
    except FormErrors as error:
        return _page(
            request,
            registry,
            user,
            values=values,
            errors=error.fields,
            message=error.message,
            status=422,
        )
    except ServiceError as error:
        return _page(
            request,
            registry,
            user,
            values=values,
            errors=dict(error.fields),
            message=error.message,
            status=error.status,
        )
    return redirect("/admin/sites", flash=f"Site {data.code} added.")
