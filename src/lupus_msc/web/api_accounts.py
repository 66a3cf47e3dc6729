"""``/api/v1``: tokens, the current user, sites, users and their qualifications, protocols."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from lupus_msc.services import accounts, protocols
from lupus_msc.services.accounts import (
    QualificationIn,
    SiteIn,
    SiteOut,
    TokenOut,
    TokenRequest,
    UserIn,
    UserOut,
)
from lupus_msc.services.fields import In, Out
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import User
from lupus_msc.web.deps import ActorDep, DatabaseDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class ProtocolOut(Out):
    id: uuid.UUID
    protocol_code: str
    version: str
    title: str
    sha256: str


class ProtocolIn(In):
    source_yaml: Annotated[str, Field(min_length=1, max_length=200_000)]


@router.post("/tokens", status_code=201, response_model=TokenOut)
def create_token(data: TokenRequest, registry: DatabaseDep) -> TokenOut:
    """Exchange an email and password for a bearer token (shown once; only its hash is kept)."""
    with unit_of_work(registry, None) as session:
        user = accounts.login(session, data)
        return accounts.issue_token(session, user, data.label)


@router.get("/me", response_model=UserOut)
def me(actor: ActorDep, registry: DatabaseDep) -> UserOut:
    """The user behind the token: role, sites and qualifications."""
    with registry.reads() as session:
        user = session.get(User, actor.user_id)
        assert user is not None  # noqa: S101 - the token resolved to this user a moment ago
        return accounts.user_view(user)


@router.get("/sites", response_model=list[SiteOut])
def list_sites(actor: ActorDep, registry: DatabaseDep) -> list[SiteOut]:
    """The sites the user belongs to (every site for an admin)."""
    with registry.reads() as session:
        return [SiteOut.model_validate(site) for site in accounts.sites(session, actor)]


@router.post("/sites", status_code=201, response_model=SiteOut)
def create_site(data: SiteIn, actor: ActorDep, registry: DatabaseDep) -> SiteOut:
    """Add a site (admin)."""
    with unit_of_work(registry, actor) as session:
        return SiteOut.model_validate(accounts.add_site(session, actor, data))


@router.get("/users", response_model=list[UserOut])
def list_users(actor: ActorDep, registry: DatabaseDep) -> list[UserOut]:
    """Every user with roles, sites and qualifications (admin)."""
    with registry.reads() as session:
        return [accounts.user_view(user) for user in accounts.users(session, actor)]


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(data: UserIn, actor: ActorDep, registry: DatabaseDep) -> UserOut:
    """Add a user with a role and sites; the password is stored as an Argon2 hash (admin)."""
    with unit_of_work(registry, actor) as session:
        return accounts.user_view(accounts.add_user(session, actor, data))


@router.post("/users/{user_id}/qualifications", status_code=201, response_model=UserOut)
def add_qualification(
    user_id: uuid.UUID, data: QualificationIn, actor: ActorDep, registry: DatabaseDep
) -> UserOut:
    """Record a qualification with its expiry date, e.g. lot release or infusion (admin)."""
    with unit_of_work(registry, actor) as session:
        return accounts.user_view(accounts.add_qualification(session, actor, user_id, data))


@router.get("/protocols", response_model=list[ProtocolOut])
def list_protocols(actor: ActorDep, registry: DatabaseDep) -> list[ProtocolOut]:
    """The protocol versions loaded, oldest first."""
    with registry.reads() as session:
        return [ProtocolOut.model_validate(v) for v in protocols.listing(session)]


@router.post("/protocols", status_code=201, response_model=ProtocolOut)
def add_protocol(data: ProtocolIn, actor: ActorDep, registry: DatabaseDep) -> ProtocolOut:
    """Load a new protocol version from its YAML text (refused naming the field and line)."""
    with unit_of_work(registry, actor) as session:
        return ProtocolOut.model_validate(protocols.add(session, actor, data.source_yaml))
