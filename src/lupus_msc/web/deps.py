"""What every registry route depends on: the database and the authenticated actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lupus_msc.services import accounts
from lupus_msc.services.access import Actor
from lupus_msc.services.errors import Unauthenticated
from lupus_msc.store.database import Database

bearer = HTTPBearer(auto_error=False, description="An API token from POST /api/v1/tokens.")


def database(request: Request) -> Database:
    registry: Database = request.app.state.database
    return registry


DatabaseDep = Annotated[Database, Depends(database)]


def current_actor(
    registry: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The user behind the request's bearer token (401 without a valid one)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send an API token: Authorization: Bearer <token>")
    with registry.reads() as session:
        return accounts.actor_for_token(session, credentials.credentials)


ActorDep = Annotated[Actor, Depends(current_actor)]
