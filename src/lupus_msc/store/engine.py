"""Engines and sessions for SQLite (WAL, one writer at a time) and PostgreSQL."""

from __future__ import annotations

from typing import Any

import simplejson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from lupus_msc.store import audit  # noqa: F401 - registers the audit listener on every Session
from lupus_msc.store.options import READ_ONLY


def _json_dumps(value: Any) -> str:
    return simplejson.dumps(value, use_decimal=True)


def _json_loads(text: str) -> Any:
    return simplejson.loads(text, use_decimal=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 would open transactions itself, late and DEFERRED; we begin them ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock at once: two writers never both read the same audit head.
    # A read-only transaction stays DEFERRED: in WAL mode it reads one snapshot, without a lock.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine with exact JSON decimals; SQLite gets WAL and immediate transactions."""
    options: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
