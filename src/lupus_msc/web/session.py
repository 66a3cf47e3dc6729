"""Web sessions: a cookie holding a session token, the signed-in user behind it, and CSRF.

The cookie is HttpOnly, SameSite=Strict and (over HTTPS) Secure. Every form carries a CSRF token
derived from the session token with HMAC (the synchronizer-token pattern without server state):
a page of another origin can neither read the cookie nor compute the token. The sign-in form,
which has no session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData

from lupus_msc.services import accounts
from lupus_msc.services.access import Action, Actor
from lupus_msc.services.errors import Forbidden, Unauthenticated
from lupus_msc.store import audit
from lupus_msc.web.deps import DatabaseDep

SESSION_COOKIE = "lupus_msc_session"
SIGN_IN_COOKIE = "lupus_msc_sign_in"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str, ended: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.ended = ended

    def location(self) -> str:
        suffix = "&ended=1" if self.ended else ""
        return f"/sign-in?next={quote(self.next_path, safe='/')}{suffix}"


def csrf_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"lupus-msc csrf v1", hashlib.sha256).hexdigest()


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class WebUser:
    """The signed-in user of a page request."""

    actor: Actor
    session_token: str

    @property
    def csrf(self) -> str:
        return csrf_for(self.session_token)

    def can(self, action: Action) -> bool:
        return self.actor.may(action)


def _path_with_query(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def web_user(request: Request, registry: DatabaseDep) -> WebUser:
    """The user signed in with the request's session cookie, or a redirect to sign in."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired(_path_with_query(request), ended=False)
    try:
        with registry.sessions() as session, session.begin():
            session.info[audit.REASON] = None
            actor = accounts.actor_for_session(session, token)
    except Unauthenticated as error:
        raise SignInRequired(_path_with_query(request), ended=True) from error
    return WebUser(actor=actor, session_token=token)


WebUserDep = Annotated[WebUser, Depends(web_user)]


async def posted_form(request: Request, user: WebUserDep) -> dict[str, Any]:
    """The submitted form of a signed-in user, after its CSRF token is checked (403 if wrong).

    Single values come as strings; a field given several times (checkbox groups) as a list.
    """
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, user.csrf):
        raise Forbidden("the form's security token is missing or stale: reload the page")
    return form_values(form)


def form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in form:
        if key == CSRF_FIELD:
            continue
        items = [item for item in form.getlist(key) if isinstance(item, str)]
        values[key] = items[0] if len(items) == 1 else items
    return values


FormDep = Annotated[dict[str, Any], Depends(posted_form)]


def require_action(user: WebUser, action: Action) -> None:
    """A page for the roles allowed ``action`` only (403 for the others)."""
    if not user.can(action):
        raise Forbidden(f"your role ({user.actor.role.value}) may not open this page")
