"""Server-rendered pages: the Jinja2 environment, the role-aware menu, flash messages, redirects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from lupus_msc import __version__
from lupus_msc.services.access import Action
from lupus_msc.web.session import CSRF_FIELD, WebUser

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
FLASH_COOKIE = "lupus_msc_flash"


@dataclass(frozen=True)
class MenuItem:
    label: str
    href: str
    action: Action | None
    """The action a role needs to see the item (None: every signed-in user)."""
    all_sites: bool = False
    """Only for users who see every site (admins): the audit browser spans the whole registry."""


MENU = (
    MenuItem("Dashboard", "/", None),
    MenuItem("Patients", "/patients", Action.READ_PATIENTS),
    MenuItem("Adverse events", "/adverse-events", Action.READ_IDENTITY),
    MenuItem("Cohort", "/cohort", Action.READ_OUTCOMES),
    MenuItem("Exports", "/exports", Action.READ_PATIENTS),
    MenuItem("Lots", "/lab/lots", Action.READ_PRODUCTS),
    MenuItem("Donors", "/lab/donors", Action.READ_PRODUCTS),
    MenuItem("Users", "/admin/users", Action.MANAGE_USERS),
    MenuItem("Sites", "/admin/sites", Action.MANAGE_SITES),
    MenuItem("Protocols", "/admin/protocols", Action.MANAGE_PROTOCOLS),
    MenuItem("Audit trail", "/admin/audit", Action.READ_AUDIT, all_sites=True),
)


def menu_for(user: WebUser | None, path: str) -> list[dict[str, Any]]:
    if user is None:
        return []
    items = [
        item
        for item in MENU
        if (item.action is None or user.can(item.action))
        and (not item.all_sites or user.actor.all_sites)
    ]
    return [
        {
            "label": item.label,
            "href": item.href,
            "current": path == item.href or (item.href != "/" and path.startswith(item.href)),
        }
        for item in items
    ]


def _date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def _number(value: Decimal | float | int | None, places: int | None = None) -> str:
    if value is None:
        return "—"
    if places is not None:
        return f"{float(value):.{places}f}"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


TEMPLATES.env.filters["date"] = _date
TEMPLATES.env.filters["number"] = _number
TEMPLATES.env.globals["version"] = __version__
TEMPLATES.env.globals["csrf_field"] = CSRF_FIELD
TEMPLATES.env.globals["Action"] = Action


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    user: WebUser | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A page with the layout's context: the user, the menu, the CSRF token and the flash."""
    flash = request.cookies.get(FLASH_COOKIE)
    page = {
        "user": user,
        "csrf": user.csrf if user else None,
        "menu": menu_for(user, request.url.path),
        "flash": unquote(flash) if flash else None,
        "errors": {},
        **(context or {}),
    }
    response = TEMPLATES.TemplateResponse(request, template, page, status_code=status)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(location: str, flash: str | None = None) -> RedirectResponse:
    """A redirect after a successful form (303, so the browser follows with GET), with an
    optional message shown once on the next page."""
    response = RedirectResponse(location, status_code=303)
    if flash:
        response.set_cookie(
            FLASH_COOKIE, quote(flash), max_age=60, httponly=True, samesite="strict", path="/"
        )
    return response
