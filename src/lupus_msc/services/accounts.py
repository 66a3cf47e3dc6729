"""Sites, users, memberships, qualifications, passwords (Argon2) and API tokens (SHA-256)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import NotFound, Refused, Unauthenticated, invalid, refused
from lupus_msc.services.fields import In, Out, ShortText, Text, now
from lupus_msc.store.models import (
    ApiToken,
    Membership,
    Qualification,
    QualificationKind,
    Role,
    Site,
    User,
)

HASHER = PasswordHasher()
"""Argon2id with the library's recommended cost: for every password a person chose."""
GENERATED_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""For machine-drawn passwords of at least 128 random bits (synthetic staff, test personas):
their entropy, not the hash's cost, makes guessing hopeless. Argon2 verifies with the cost
written in each hash, so the choice is made once, when the user is added."""
TOKEN_PREFIX = "lmsc_"  # noqa: S105 - a label in front of every token, no secret
TOKEN_DAYS = 90
"""A token lasts 90 days unless revoked [PROJECT choice]."""
MIN_PASSWORD = 12
SESSION_LABEL = "web session"
SESSION_IDLE = dt.timedelta(minutes=30)
"""A web session ends after 30 minutes without a request [PROJECT choice: a bedside tablet left
unattended must not stay signed in for long]."""
SESSION_LONGEST = dt.timedelta(hours=12)
"""...and after 12 hours in any case, one clinical shift [PROJECT choice]."""
SESSION_SLIDE_STEP = dt.timedelta(minutes=5)
"""The idle deadline is moved forward at most every 5 minutes, so that an active session writes
to the database (and its audit trail) a few times an hour rather than on every page."""

SiteCode = Annotated[str, Field(pattern=r"^[A-Z][0-9A-Z]{1,5}$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD, max_length=200)]
Username = Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{1,63}$")]


class SiteIn(In):
    code: SiteCode
    name: Text


class SiteOut(Out):
    id: uuid.UUID
    code: str
    name: str


class UserIn(In):
    email: Email
    username: Username | None = None
    full_name: Text
    role: Role
    password: Password
    site_ids: list[uuid.UUID] = Field(default_factory=list)


class QualificationIn(In):
    kind: QualificationKind
    granted_on: dt.date
    expires_on: dt.date


class QualificationOut(Out):
    kind: QualificationKind
    granted_on: dt.date
    expires_on: dt.date


class UserOut(Out):
    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    active: bool
    site_ids: list[uuid.UUID]
    qualifications: list[QualificationOut]


class TokenRequest(In):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    """The user's email, or their sign-in name."""
    password: Annotated[str, Field(min_length=1, max_length=200)]
    label: ShortText = "api"


class PasswordChange(In):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


class TokenOut(Out):
    token: str
    prefix: str
    expires_at: dt.datetime


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_site(session: Session, actor: Actor | None, data: SiteIn) -> Site:
    if actor is not None:
        require(actor, Action.MANAGE_SITES)
    if session.scalar(select(Site).where(Site.code == data.code)) is not None:
        raise refused("code", f"site {data.code} exists already")
    site = Site(code=data.code, name=data.name)
    session.add(site)
    session.flush()
    return site


def sites(session: Session, actor: Actor) -> list[Site]:
    query = select(Site).order_by(Site.code)
    if not actor.all_sites:
        query = query.where(Site.id.in_(actor.site_ids))
    return list(session.scalars(query))


def add_user(
    session: Session, actor: Actor | None, data: UserIn, *, hasher: PasswordHasher = HASHER
) -> User:
    """A user with an Argon2 password hash, member of the given sites."""
    if actor is not None:
        require(actor, Action.MANAGE_USERS)
    if session.scalar(select(User).where(User.email == data.email.lower())) is not None:
        raise refused("email", "a user with this email exists already")
    if data.username and session.scalar(select(User).where(User.username == data.username)):
        raise refused("username", "a user with this name exists already")
    for index, site_id in enumerate(data.site_ids):
        if session.get(Site, site_id) is None:
            raise invalid(f"site_ids[{index}]", f"no site {site_id}")
    user = User(
        email=data.email.lower(),
        username=data.username,
        full_name=data.full_name,
        role=data.role,
        password_hash=hasher.hash(data.password),
        active=True,
    )
    session.add(user)
    session.flush()
    for site_id in dict.fromkeys(data.site_ids):
        session.add(Membership(user_id=user.id, site_id=site_id))
    session.flush()
    session.refresh(user)
    return user


def user_view(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        active=user.active,
        site_ids=sorted(user.site_ids),
        qualifications=[QualificationOut.model_validate(q) for q in user.qualifications],
    )


def get_user(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    require(actor, Action.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def users(session: Session, actor: Actor) -> list[User]:
    require(actor, Action.MANAGE_USERS)
    return list(session.scalars(select(User).order_by(User.email)))


def add_qualification(
    session: Session, actor: Actor | None, user_id: uuid.UUID, data: QualificationIn
) -> User:
    if actor is not None:
        require(actor, Action.MANAGE_USERS)
    if data.expires_on <= data.granted_on:
        raise invalid("expires_on", "must be after granted_on")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    session.add(Qualification(user_id=user.id, **data.model_dump()))
    session.flush()
    session.refresh(user)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(session: Session, request: TokenRequest) -> User:
    """The active user with this email (or sign-in name) and password; one vague refusal for
    every failure, so that the answer does not tell which accounts exist."""
    name = request.email.strip().lower()
    column = User.email if "@" in name else User.username
    user = session.scalar(select(User).where(column == name))
    if user is None or not user.active or not password_matches(user, request.password):
        raise Unauthenticated("wrong email or password")
    return user


def issue_token(session: Session, user: User, label: str) -> TokenOut:
    """A new bearer token; only its SHA-256 is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = now() + dt.timedelta(days=TOKEN_DAYS)
    session.info["actor_id"] = user.id
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            prefix=token[:12],
            label=label,
            expires_at=expires_at,
        )
    )
    session.flush()
    return TokenOut(token=token, prefix=token[:12], expires_at=expires_at)


def actor_for_token(session: Session, token: str) -> Actor:
    """The actor a bearer token stands for; Unauthenticated if unknown, expired or revoked."""
    found = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if found is None or found.revoked_at is not None or found.expires_at <= now():
        raise Unauthenticated("invalid or expired token")
    user = session.get(User, found.user_id)
    if user is None or not user.active:
        raise Unauthenticated("invalid or expired token")
    return Actor.of(user)


def sign(session: Session, actor: Actor, password: str) -> User:
    """Re-check the actor's password for an electronic signature (name, time, meaning)."""
    user = session.get(User, actor.user_id)
    if user is None or not password_matches(user, password):
        raise Refused("signature: the password is wrong", [("password", "is wrong")])
    return user


def open_session(session: Session, user: User) -> str:
    """A web session for a signed-in user: a token like an API token (only its SHA-256 is kept)
    that ends after ``SESSION_IDLE`` without use and after ``SESSION_LONGEST`` in any case."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    started = now()
    session.info["actor_id"] = user.id
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            prefix=token[:12],
            label=SESSION_LABEL,
            expires_at=started + SESSION_IDLE,
            session_ends_at=started + SESSION_LONGEST,
        )
    )
    session.flush()
    return token


def _session_token(session: Session, token: str) -> ApiToken:
    found = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if found is None or found.session_ends_at is None:
        raise Unauthenticated("your session has ended: sign in again")
    return found


def actor_for_session(session: Session, token: str) -> Actor:
    """The actor behind a web session; Unauthenticated once it has ended. Use keeps it alive:
    the idle deadline moves forward (in steps, see ``SESSION_SLIDE_STEP``), never past the
    session's longest end."""
    found = _session_token(session, token)
    moment = now()
    if found.revoked_at is not None or found.expires_at <= moment:
        raise Unauthenticated("your session has ended: sign in again")
    user = session.get(User, found.user_id)
    if user is None or not user.active:
        raise Unauthenticated("your session has ended: sign in again")
    assert found.session_ends_at is not None  # noqa: S101 - checked by _session_token
    slid = min(moment + SESSION_IDLE, found.session_ends_at)
    if slid - found.expires_at >= SESSION_SLIDE_STEP:
        session.info["actor_id"] = user.id
        found.expires_at = slid
        session.flush()
    return Actor.of(user)


def close_session(session: Session, token: str) -> None:
    """Sign out: the session's token is revoked (kept, like every record)."""
    try:
        found = _session_token(session, token)
    except Unauthenticated:
        return
    if found.revoked_at is None:
        session.info["actor_id"] = found.user_id
        found.revoked_at = now()
        session.flush()


def change_password(session: Session, actor: Actor, change: PasswordChange) -> None:
    """A new password for the actor, who proves the current one; their other web sessions and
    API tokens stay valid until revoked or expired (a token is not a password)."""
    user = session.get(User, actor.user_id)
    if user is None or not password_matches(user, change.current_password):
        raise Refused("current_password: is wrong", [("current_password", "is wrong")])
    if change.new_password == change.current_password:
        raise invalid("new_password", "must differ from the current password")
    user.password_hash = HASHER.hash(change.new_password)
    session.flush()


# --- administration: role and sites, deactivation, tokens (issue 6) ----------------------------


class UserChange(In):
    """A user's new role and sites (admin)."""

    role: Role
    site_ids: list[uuid.UUID] = Field(default_factory=list)


def _check_sites(session: Session, site_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    for index, site_id in enumerate(site_ids):
        if session.get(Site, site_id) is None:
            raise invalid(f"site_ids[{index}]", f"no site {site_id}")
    return list(dict.fromkeys(site_ids))


def _move_memberships(session: Session, user: User, wanted: list[uuid.UUID]) -> None:
    """Make the user a member of exactly ``wanted``. Nothing is deleted (the audit trail
    refuses it): a membership no longer wanted is moved to a newly wanted site (its site_id
    change is audited); a net removal is refused until memberships can be ended."""
    current = {membership.site_id: membership for membership in user.memberships}
    added = [site_id for site_id in wanted if site_id not in current]
    spare = [membership for site_id, membership in current.items() if site_id not in wanted]
    if len(spare) > len(added):
        raise refused(
            "site_ids",
            "a site membership cannot be ended yet (memberships are kept like every record): "
            "replace the site with another one instead",
        )
    for site_id in added:
        if spare:
            spare.pop().site_id = site_id
        else:
            session.add(Membership(user_id=user.id, site_id=site_id))
    session.flush()


def change_user(session: Session, actor: Actor, user_id: uuid.UUID, data: UserChange) -> User:
    """A new role and site list for a user; admins may not demote themselves (no lock-out)."""
    user = get_user(session, actor, user_id)
    if user.id == actor.user_id and data.role is not Role.ADMIN:
        raise refused("role", "you cannot take the admin role from yourself")
    wanted = _check_sites(session, data.site_ids)
    if user.role is not data.role:
        user.role = data.role
    _move_memberships(session, user, wanted)
    session.refresh(user)
    return user


def open_tokens(session: Session, actor: Actor, user_id: uuid.UUID) -> list[ApiToken]:
    """The user's web sessions and API tokens that are neither revoked nor expired."""
    user = get_user(session, actor, user_id)
    query = (
        select(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now(),
        )
        .order_by(ApiToken.created_at.desc())
    )
    return list(session.scalars(query))


def revoke_tokens(session: Session, actor: Actor, user_id: uuid.UUID) -> int:
    """Revoke every open web session and API token of the user (kept, marked revoked)."""
    moment = now()
    found = open_tokens(session, actor, user_id)
    for token in found:
        token.revoked_at = moment
    session.flush()
    return len(found)


def set_active(session: Session, actor: Actor, user_id: uuid.UUID, *, active: bool) -> User:
    """Deactivate (sign-in refused, sessions and tokens revoked) or reactivate a user; users are
    never deleted. Admins may not deactivate themselves."""
    user = get_user(session, actor, user_id)
    if not active and user.id == actor.user_id:
        raise refused("active", "you cannot deactivate yourself")
    if user.active is not active:
        user.active = active
        session.flush()
    if not active:
        revoke_tokens(session, actor, user_id)
    return user
