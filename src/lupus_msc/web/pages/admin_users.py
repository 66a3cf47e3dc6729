"""Admin pages: users, their role, sites and qualifications; deactivation (never deletion).

Every change goes through ``services.accounts`` in one unit of work, so the store's audit trail
records it with the admin as the actor.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from lupus_msc.services import accounts
from lupus_msc.services.access import Action
from lupus_msc.services.accounts import QualificationIn, UserChange, UserIn
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.fields import today
from lupus_msc.services.unit import give_reason, unit_of_work
from lupus_msc.store.models import QualificationKind, Role, User
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
ROLES = [(role.value, role.value.capitalize()) for role in Role]
MAX_REASON = 1000
KINDS = [(kind.value, kind.value.replace("-", " ").capitalize()) for kind in QualificationKind]


def _sites(session: Session, user: WebUser) -> list[dict[str, Any]]:
    return [
        {"id": str(site.id), "code": site.code, "name": site.name}
        for site in accounts.sites(session, user.actor)
    ]


def _row(user: User, codes: dict[uuid.UUID, str]) -> dict[str, Any]:
    day = today()
    return {
        "user": user,
        "sites": sorted(codes.get(site_id, "?") for site_id in user.site_ids),
        "qualifications": [
            {"q": q, "expired": q.expires_on < day, "pending": q.granted_on > day}
            for q in sorted(user.qualifications, key=lambda q: (q.kind.value, q.expires_on))
        ],
    }


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    require_action(user, Action.MANAGE_USERS)
    with registry.reads() as session:
        codes = {uuid.UUID(site["id"]): site["code"] for site in _sites(session, user)}
        rows = [_row(found, codes) for found in accounts.users(session, user.actor)]
    return render(request, "admin/users.html", {"rows": rows}, user=user)


def _new_form(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with registry.reads() as session:
        sites = _sites(session, user)
    context = {
        "values": values,
        "errors": errors or {},
        "message": message,
        "roles": ROLES,
        "sites": sites,
        "chosen": _chosen(values),
    }
    return render(request, "admin/user_new.html", context, user=user, status=status)


def _chosen(values: dict[str, Any]) -> set[str]:
    picked = values.get("site_ids", [])
    return set(picked if isinstance(picked, list) else [picked])


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user_form(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    require_action(user, Action.MANAGE_USERS)
    return _new_form(request, registry, user, values={})


@router.post("/admin/users/new")
def create_user(
    request: Request, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    require_action(user, Action.MANAGE_USERS)
    kept = {key: value for key, value in form.items() if key != "password"}
    try:
        data = parse(UserIn, form)
        with unit_of_work(registry, user.actor) as session:
            created = accounts.add_user(session, user.actor, data)
            created_id = created.id
    except FormErrors as error:
        return _new_form(
            request,
            registry,
            user,
            values=kept,
            errors=error.fields,
            message=error.message,
            status=422,
        )
    except ServiceError as error:
        return _new_form(
            request,
            registry,
            user,
            values=kept,
            errors=dict(error.fields),
            message=error.message,
            status=error.status,
        )
    return redirect(f"/admin/users/{created_id}", flash=f"User {data.email} added.")


def _user_page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    user_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    with registry.reads() as session:
        found = accounts.get_user(session, user.actor, user_id)
        sites = _sites(session, user)
        codes = {uuid.UUID(site["id"]): site["code"] for site in sites}
        tokens = accounts.open_tokens(session, user.actor, user_id)
        context = {
            "row": _row(found, codes),
            "sites": sites,
            "chosen": {str(site_id) for site_id in found.site_ids},
            "roles": ROLES,
            "kinds": KINDS,
            "tokens": tokens,
            "session_label": accounts.SESSION_LABEL,
            "errors": errors or {},
            "message": message,
            "values": {"role": found.role.value, **(values or {})},
            "is_me": found.id == user.actor.user_id,
        }
        return render(request, "admin/user.html", context, user=user, status=status)


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user_page(
    request: Request, registry: DatabaseDep, user: WebUserDep, user_id: uuid.UUID
) -> HTMLResponse:
    require_action(user, Action.MANAGE_USERS)
    return _user_page(request, registry, user, user_id)


def _reason(form: dict[str, Any]) -> str | None:
    """The optional reason of a change, recorded with it in the audit trail."""
    text = str(form.get("reason") or "").strip()
    if text and not 3 <= len(text) <= MAX_REASON:
        raise FormErrors("please correct the reason", {"reason": f"3 to {MAX_REASON} characters"})
    return text or None


def _change(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    user_id: uuid.UUID,
    form: dict[str, Any],
    step: Callable[[Session], None],
    done: str,
) -> Response:
    """Run ``step(session)`` in a unit of work with the form's reason; on a refusal, the user
    page again with the fields named."""
    require_action(user, Action.MANAGE_USERS)
    try:
        reason = _reason(form)
        with unit_of_work(registry, user.actor) as session:
            give_reason(session, reason)
            step(session)
    except FormErrors as error:
        return _user_page(
            request,
            registry,
            user,
            user_id,
            errors=error.fields,
            message=error.message,
            values=form,
            status=422,
        )
    except ServiceError as error:
        return _user_page(
            request,
            registry,
            user,
            user_id,
            errors=dict(error.fields),
            message=error.message,
            values=form,
            status=error.status,
        )
    return redirect(f"/admin/users/{user_id}", flash=done)


@router.post("/admin/users/{user_id}")
def change_user(
    request: Request, registry: DatabaseDep, user: WebUserDep, user_id: uuid.UUID, form: FormDep
) -> Response:
    def step(session: Session) -> None:
        accounts.change_user(session, user.actor, user_id, parse(UserChange, form))

    return _change(request, registry, user, user_id, form, step, "Role and sites saved.")


@router.post("/admin/users/{user_id}/qualifications")
def add_qualification(
    request: Request, registry: DatabaseDep, user: WebUserDep, user_id: uuid.UUID, form: FormDep
) -> Response:
    def step(session: Session) -> None:
        accounts.get_user(session, user.actor, user_id)
        accounts.add_qualification(session, user.actor, user_id, parse(QualificationIn, form))

    return _change(request, registry, user, user_id, form, step, "Qualification added.")


@router.post("/admin/users/{user_id}/deactivate")
def deactivate(
    request: Request, registry: DatabaseDep, user: WebUserDep, user_id: uuid.UUID, form: FormDep
) -> Response:
    def step(session: Session) -> None:
        accounts.set_active(session, user.actor, user_id, active=False)

    done = "User deactivated: sign-in is refused and their sessions and tokens are revoked."
    return _change(request, registry, user, user_id, form, step, done)


@router.post("/admin/users/{user_id}/reactivate")
def reactivate(
    request: Request, registry: DatabaseDep, user: WebUserDep, user_id: uuid.UUID, form: FormDep
) -> Response:
    def step(session: Session) -> None:
        accounts.set_active(session, user.actor, user_id, active=True)

    return _change(request, registry, user, user_id, form, step, "User reactivated.")


@router.post("/admin/users/{user_id}/revoke-tokens")
def revoke_tokens(
    request: Request, registry: DatabaseDep, user: WebUserDep, user_id: uuid.UUID, form: FormDep
) -> Response:
    def step(session: Session) -> None:
        accounts.revoke_tokens(session, user.actor, user_id)

    done = "Every web session and API token of this user is revoked."
    return _change(request, registry, user, user_id, form, step, done)
