"""A registry database: its engine, its sessions, and bringing its schema up to date."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lupus_msc.store.engine import make_engine, session_factory
from lupus_msc.store.migrate import upgrade
from lupus_msc.store.options import READ_ONLY


class Database:
    """One registry database, named by its SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        """Sessions that may write (on SQLite their transaction takes the write lock at once)."""
        self.reads: sessionmaker[Session] = session_factory(
            self.engine.execution_options(**{READ_ONLY: True})
        )
        """Sessions that only read: on SQLite (WAL) a snapshot without any lock, so pages and
        counts never hold up a writer, nor wait for one. Nothing written in one is committed."""

    def upgrade(self) -> None:
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
