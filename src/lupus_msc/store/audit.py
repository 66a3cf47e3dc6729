"""Record every change in the audit hash chain, refuse deletions, and verify the chain.

Each flush of a session turns the inserted and updated rows into audit events (one per created
record, one per changed field) and appends them to the chain under a lock: PostgreSQL locks the
head row, SQLite already serialises writers (``engine.py`` begins every transaction IMMEDIATE).
The acting user and the reason come from the session (``session.info``, set by ``services``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import simplejson
from sqlalchemy import Connection, Engine, event, insert, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from lupus_msc.store.base import Entity
from lupus_msc.store.models.audit import AuditEvent, AuditHead
from lupus_msc.store.options import READ_ONLY

GENESIS = "0" * 64
REDACTED = frozenset({"password_hash", "token_hash", "pseudonym", "date_offset_days"})
"""Columns whose values never enter the audit trail (only the fact that they changed): secrets,
and the de-identification keys (a pseudonym beside its patient, or a date offset, in the trail
would undo the de-identification for anyone who reads it)."""
_CHAIN_TABLES = frozenset({AuditEvent.__tablename__, AuditHead.__tablename__})
ACTOR = "actor_id"
REASON = "reason"
SYSTEM = "system"


class AuditError(RuntimeError):
    """A write the audit trail cannot accept (no actor, or a deletion)."""


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def canonical(value: Any) -> str:
    """One JSON text per value: sorted keys, no spaces, decimals digit for digit."""
    return simplejson.dumps(
        value, default=_plain, use_decimal=True, sort_keys=True, separators=(",", ":")
    )


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 of an audit row's content and the previous row's hash."""
    content = [
        row["seq"],
        row["at"].astimezone(dt.UTC).isoformat(),
        str(row["user_id"]) if row["user_id"] else None,
        row["action"],
        row["entity"],
        row["entity_id"],
        row["field"],
        row["old_value"],
        row["new_value"],
        row["reason"],
        row["prev_hash"],
    ]
    return hashlib.sha256(canonical(content).encode()).hexdigest()


def _value(column: str, value: Any) -> Any:
    return "[redacted]" if column in REDACTED and value is not None else _plain(value)


def _stored(column: str, value: Any) -> str | None:
    return None if value is None else canonical(_value(column, value))


def _changes(session: Session) -> Iterator[dict[str, Any]]:
    """Audit entries for the session's pending inserts and updates (before they are flushed)."""
    for record in session.new:
        if not isinstance(record, Entity):
            continue
        record.id = record.id or uuid.uuid4()
        record.created_at = record.created_at or dt.datetime.now(dt.UTC)
        _apply_scalar_defaults(record)
        values = {
            attr.key: _value(attr.key, getattr(record, attr.key))
            for attr in inspect(record).mapper.column_attrs
        }
        yield _entry(record, "create", None, None, canonical(values))
    for record in session.dirty:
        if not isinstance(record, Entity):
            continue
        state = inspect(record)
        for attr in state.mapper.column_attrs:
            history = state.attrs[attr.key].history
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if _stored(attr.key, old) != _stored(attr.key, new):
                yield _entry(
                    record, "update", attr.key, _stored(attr.key, old), _stored(attr.key, new)
                )


def _apply_scalar_defaults(record: Entity) -> None:
    """Set unset columns to their constant defaults now, so the audit shows what is stored."""
    for column in inspect(record).mapper.columns:
        default = column.default
        key = column.key
        if getattr(record, key) is None and default is not None and default.is_scalar:
            setattr(record, key, getattr(default, "arg"))  # noqa: B009 - typed as a union


def _entry(
    record: Entity, action: str, field: str | None, old: str | None, new: str | None
) -> dict[str, Any]:
    return {
        "action": action,
        "entity": record.__tablename__,
        "entity_id": str(record.id),
        "field": field,
        "old_value": old,
        "new_value": new,
    }


def _head(session: Session) -> tuple[int, str]:
    """The head, locked on PostgreSQL until the transaction ends (the migration creates it, so
    even the very first writers queue on it)."""
    statement = select(AuditHead.seq, AuditHead.row_hash).where(AuditHead.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    found = session.execute(statement).one_or_none()
    if found is None:
        raise AuditError("the audit chain has no head: run `lupus-msc audit verify`")
    return found.seq, found.row_hash


def append(session: Session, entries: list[dict[str, Any]]) -> None:
    """Chain ``entries`` after the head and move the head, inside the caller's transaction."""
    if not entries:
        return
    actor = session.info.get(ACTOR)
    if actor is None and not session.info.get(SYSTEM):
        raise AuditError("every change needs an acting user (session.info['actor_id'])")
    seq, previous = _head(session)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for entry in entries:
        seq += 1
        row = {**entry, "seq": seq, "at": now, "user_id": actor, "reason": session.info.get(REASON)}
        row["prev_hash"] = previous
        row["row_hash"] = previous = row_hash(row)
        rows.append(row)
    session.execute(insert(AuditEvent), rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, row_hash=previous))


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_writes(state: ORMExecuteState) -> None:
    """Statements written by hand bypass the flush, and with it the audit trail: refuse them.

    Only the chain itself (``append``) writes this way."""
    target = getattr(getattr(state.statement, "table", None), "name", None)
    writes = state.is_insert or state.is_update or state.is_delete
    if writes and target not in _CHAIN_TABLES:
        raise AuditError("bulk INSERT, UPDATE and DELETE bypass the audit trail; use the ORM")


@event.listens_for(Session, "before_flush")
def _audit_before_flush(session: Session, _context: object, _instances: object) -> None:
    for record in session.deleted:
        raise AuditError(f"{type(record).__name__} records are never deleted; record a correction")
    with session.no_autoflush:
        append(session, list(_changes(session)))


@dataclass(frozen=True)
class ChainReport:
    """What ``verify`` found: the rows checked, the head, and the first broken row if any."""

    rows: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(session: Session) -> ChainReport:
    """Walk the chain from the first row: every seq in order, every link and hash recomputed.

    It reads on a connection of its own, in one snapshot (REPEATABLE READ on PostgreSQL, a
    deferred read transaction in SQLite's WAL mode), so a write committing meanwhile is never
    mistaken for a break, whatever ``session`` has done, and writers are not held up.
    """
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    postgresql = engine.dialect.name == "postgresql"
    options = {"isolation_level": "REPEATABLE READ"} if postgresql else {READ_ONLY: True}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        return _walk(connection)


def _walk(connection: Connection) -> ChainReport:
    expected_seq, previous, rows = 1, GENESIS, 0
    table = AuditEvent.__table__
    statement = select(table).order_by(table.c.seq).execution_options(yield_per=5000)
    for row in connection.execute(statement).mappings():
        if row["seq"] != expected_seq:
            return ChainReport(rows, previous, expected_seq, f"audit row {expected_seq} is missing")
        if row["prev_hash"] != previous:
            return ChainReport(rows, previous, row["seq"], "its link to the previous row is broken")
        if row_hash(dict(row)) != row["row_hash"]:
            return ChainReport(rows, previous, row["seq"], "its content does not match its hash")
        previous, expected_seq, rows = row["row_hash"], expected_seq + 1, rows + 1
    head = connection.execute(select(AuditHead.seq, AuditHead.row_hash)).one_or_none()
    if head is None and rows:
        return ChainReport(rows, previous, 1, "the chain head is missing")
    head_seq, head_hash = (0, GENESIS) if head is None else (head.seq, head.row_hash)
    if head_seq != rows:
        problem = f"the chain head says {head_seq} rows, the table holds {rows}"
        return ChainReport(rows, previous, min(head_seq, rows) + 1, problem)
    if head_hash != previous:
        return ChainReport(rows, previous, rows, f"the chain head's hash does not match row {rows}")
    return ChainReport(rows, previous)


def anchor_holds(session: Session, seq: int, expected_hash: str) -> bool:
    """Row ``seq`` still carries ``expected_hash``: checks the chain against an anchor (a row
    number and hash printed by an earlier ``verify``) kept outside the database."""
    found = session.scalar(select(AuditEvent.row_hash).where(AuditEvent.seq == seq))
    return found == expected_hash
