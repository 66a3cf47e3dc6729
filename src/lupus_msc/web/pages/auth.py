"""Sign in, sign out and change password."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lupus_msc.services import accounts
from lupus_msc.services.accounts import PasswordChange, TokenRequest
from lupus_msc.services.errors import ServiceError, Unauthenticated
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.session import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    FormDep,
    WebUserDep,
    new_sign_in_nonce,
)
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)


def _local(path: str) -> str:
    """Only a path on this site is followed after sign-in (no open redirect)."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


def _sign_in_page(
    request: Request,
    *,
    next_path: str,
    login: str = "",
    message: str | None = None,
    ended: bool = False,
    status: int = 200,
) -> HTMLResponse:
    nonce = new_sign_in_nonce()
    context = {
        "nonce": nonce,
        "next": next_path,
        "values": {"login": login},
        "message": message,
        "ended": ended,
    }
    response = render(request, "sign_in.html", context, status=status)
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        path="/sign-in",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str = "/", ended: bool = False) -> HTMLResponse:
    return _sign_in_page(request, next_path=_local(next), ended=ended)


@router.post("/sign-in")
def sign_in(
    request: Request,
    registry: DatabaseDep,
    login: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    sign_in_nonce: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = _local(next)
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, sign_in_nonce):
        return _sign_in_page(
            request,
            next_path=target,
            login=login,
            status=403,
            message="The sign-in form had expired: please try again.",
        )
    try:
        with unit_of_work(registry, None) as session:
            user = accounts.login(
                session, TokenRequest(email=login or "-", password=password or "-")
            )
            token = accounts.open_session(session, user)
    except Unauthenticated:
        return _sign_in_page(
            request,
            next_path=target,
            login=login,
            status=401,
            message="Wrong email, user name or password.",
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(request: Request, registry: DatabaseDep, user: WebUserDep, _: FormDep) -> Response:
    with unit_of_work(registry, user.actor) as session:
        accounts.close_session(session, user.session_token)
    response = redirect("/sign-in", flash="You are signed out.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, user: WebUserDep) -> HTMLResponse:
    return render(request, "password.html", user=user)


@router.post("/account/password")
def change_password(
    request: Request, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    try:
        if form.get("new_password") != form.get("new_password_again"):
            raise FormErrors(
                "the new passwords differ", {"new_password_again": "must equal the new password"}
            )
        change = parse(PasswordChange, form)
        with unit_of_work(registry, user.actor) as session:
            accounts.change_password(session, user.actor, change)
    except ServiceError as error:
        return render(
            request,
            "password.html",
            {"message": error.message, "errors": dict(error.fields)},
            user=user,
            status=error.status,
        )
    except FormErrors as error:
        return render(
            request,
            "password.html",
            {"message": error.message, "errors": error.fields},
            user=user,
            status=422,
        )
    return redirect("/", flash="Your password is changed.")
