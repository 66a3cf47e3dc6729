"""One transaction per use case, attributed to its actor in the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from lupus_msc.services.access import Actor
from lupus_msc.store import audit
from lupus_msc.store.database import Database


@contextmanager
def unit_of_work(database: Database, actor: Actor | None) -> Iterator[Session]:
    """A session in a transaction that commits on success and rolls back on any error.

    ``actor`` None means the system itself (``lupus-msc init``), recorded as such in the audit.
    """
    with database.sessions() as session, session.begin():
        session.info[audit.ACTOR] = actor.user_id if actor else None
        session.info[audit.SYSTEM] = actor is None
        yield session


def give_reason(session: Session, reason: str | None) -> None:
    """The reason recorded with the changes flushed from now on in this transaction."""
    session.flush()
    session.info[audit.REASON] = reason


def act_as(session: Session, actor: Actor) -> None:
    """Hand the transaction to ``actor``: what is flushed from now on is theirs, with no reason
    until a step gives one."""
    give_reason(session, None)
    session.info[audit.ACTOR] = actor.user_id
    session.info[audit.SYSTEM] = False
