"""A registry database: its engine, its sessions, and bringing its schema up to date."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lupus_msc.store.engine import make_engine, session_factory
from lupus_msc.store.migrate import upgrade


class Database:
    """One registry database, named by its SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)

    def upgrade(self) -> None:
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
