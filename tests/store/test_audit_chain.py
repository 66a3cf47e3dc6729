"""The audit hash chain on SQLite and PostgreSQL: what ``verify`` detects, and what it cannot.

Each test builds a fresh database with a chain of 20 rows written the normal way (10 sites
created, then 10 renamed with a reason), then changes ``audit_events`` / ``audit_head`` directly,
behind the application's back (Core statements on a bare connection: no session, no audit
listener), and checks what ``audit.verify`` reports.

``verify`` alone has no secret and no outside reference: anyone who can write to the database and
read our (open) source can recompute every hash. So it cannot see a tail that is cut off or
rewritten *together with the head*. Tests named ``..._cannot_...`` pin those limits and show that
an external anchor (the ``(rows, head_hash)`` of an earlier report, kept outside the database)
exposes them, except a forged row appended at the end, which looks like any later write.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lupus_msc.store import audit
from lupus_msc.store.audit import AuditError, ChainReport
from lupus_msc.store.base import Base
from lupus_msc.store.engine import make_engine, session_factory
from lupus_msc.store.migrate import upgrade
from lupus_msc.store.models import AuditEvent, AuditHead, Role, Site, User

EVENTS = Base.metadata.tables[AuditEvent.__tablename__]
HEAD = Base.metadata.tables[AuditHead.__tablename__]
ACTOR = uuid.UUID("00000000-0000-4000-8000-00000000a11c")
SITES = 10
ROWS = 2 * SITES  # one "create" per site, then one "update" of its name


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated database on each backend (one per test: no state leaks between cases)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgresql_server").new_database("audit_chain")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def chain(engine: Engine) -> Engine:
    """``engine`` holding 20 audit rows written through sessions, one transaction each."""
    for number in range(SITES):
        with acting(engine) as session:
            session.add(Site(code=f"S{number:02d}", name=f"Site {number}"))
            session.commit()
    for number in range(SITES):
        with acting(engine, reason=f"typo in name {number}") as session:
            site = session.scalars(select(Site).where(Site.code == f"S{number:02d}")).one()
            site.name = f"Clinic {number}"
            session.commit()
    return engine


def acting(engine: Engine, reason: str | None = None) -> Session:
    session = session_factory(engine)()
    session.info[audit.ACTOR] = ACTOR
    if reason:
        session.info[audit.REASON] = reason
    return session


def verify(engine: Engine) -> ChainReport:
    with session_factory(engine)() as session:
        return audit.verify(session)


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        found = connection.execute(select(EVENTS).order_by(EVENTS.c.seq)).mappings()
        return [dict(row) for row in found]


def row(engine: Engine, seq: int) -> dict[str, Any]:
    (found,) = [each for each in rows(engine) if each["seq"] == seq]
    return found


def tamper(engine: Engine, *statements: Any) -> None:
    """Run statements on a bare connection, as someone with database access would."""
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


def set_row(seq: int, /, **values: Any) -> Any:
    return update(EVENTS).where(EVENTS.c.seq == seq).values(**values)


def resealed(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` with its own hash recomputed by the public algorithm (a forger's tool)."""
    return {**content, "row_hash": audit.row_hash(content)}


def still_holds(engine: Engine, anchor: ChainReport) -> bool:
    """The external-anchor check ``verify`` lacks: the anchored row is still there, unchanged."""
    found = [each for each in rows(engine) if each["seq"] == anchor.rows]
    return bool(found) and found[0]["row_hash"] == anchor.head_hash


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        sites = connection.execute(select(func.count()).select_from(Site)).scalar_one()
        events = connection.execute(select(func.count()).select_from(EVENTS)).scalar_one()
        return sites, events


# The chain as written ----------------------------------------------------------------------------


def test_a_chain_written_through_sessions_is_intact(chain: Engine) -> None:
    report = verify(chain)
    assert report.intact
    assert (report.rows, report.broken_seq, report.problem) == (ROWS, None, None)
    assert report.head_hash == rows(chain)[-1]["row_hash"]


def test_an_update_records_old_and_new_values_who_and_why(chain: Engine) -> None:
    event_ = row(chain, SITES + 4)
    assert (event_["action"], event_["entity"], event_["field"]) == ("update", "sites", "name")
    assert json.loads(event_["old_value"]) == "Site 3"
    assert json.loads(event_["new_value"]) == "Clinic 3"
    assert event_["reason"] == "typo in name 3"
    assert event_["user_id"] == ACTOR


def test_it_refuses_an_orm_deletion_and_changes_nothing(chain: Engine) -> None:
    before = (counts(chain), verify(chain))
    with acting(chain) as session:
        session.delete(session.scalars(select(Site)).first())
        with pytest.raises(AuditError, match="never deleted"):
            session.commit()
    assert (counts(chain), verify(chain)) == before


def test_it_refuses_a_write_without_an_actor_and_changes_nothing(chain: Engine) -> None:
    before = (counts(chain), verify(chain))
    with session_factory(chain)() as session:
        session.add(Site(code="X01", name="No one's site"))
        with pytest.raises(AuditError, match="acting user"):
            session.commit()
    assert (counts(chain), verify(chain)) == before


# Tampering that verify detects -------------------------------------------------------------------


def test_it_detects_an_edited_middle_row(chain: Engine) -> None:
    tamper(chain, set_row(10, new_value='"Forged"'))
    report = verify(chain)
    assert (report.intact, report.broken_seq) == (False, 10)
    assert report.problem == "its content does not match its hash"


def test_it_detects_an_edited_row_whose_own_hash_was_recomputed_at_the_next_link(
    chain: Engine,
) -> None:
    """Row 10 is self-consistent again, so the break shows where row 11 still points at the old
    row 10: ``broken_seq`` names the link between them, the first place the chain disagrees."""
    forged = resealed({**row(chain, 10), "new_value": '"Forged"'})
    tamper(chain, set_row(10, new_value=forged["new_value"], row_hash=forged["row_hash"]))
    report = verify(chain)
    assert (report.intact, report.broken_seq) == (False, 11)
    assert report.problem == "its link to the previous row is broken"


def test_it_detects_a_deleted_middle_row(chain: Engine) -> None:
    tamper(chain, delete(EVENTS).where(EVENTS.c.seq == 10))
    report = verify(chain)
    assert (report.intact, report.broken_seq) == (False, 10)
    assert report.problem == "audit row 10 is missing"


def test_it_detects_a_deleted_last_row(chain: Engine) -> None:
    tamper(chain, delete(EVENTS).where(EVENTS.c.seq == ROWS))
    report = verify(chain)
    assert (report.intact, report.broken_seq) == (False, ROWS)
    assert report.problem == f"the chain head says {ROWS} rows, the table holds {ROWS - 1}"


def test_it_detects_a_crudely_forged_row_inserted_in_the_middle(chain: Engine) -> None:
    """Later rows are renumbered to make room; the forged row copies a real row's hashes."""
    forged = {**row(chain, 10), "new_value": '"Forged"'}
    tamper(chain, *renumber_from(10), insert(EVENTS).values(**forged))
    report = verify(chain)
    assert (report.intact, report.broken_seq) == (False, 10)


def test_it_detects_a_well_forged_row_inserted_in_the_middle_at_the_next_link(
    chain: Engine,
) -> None:
    """The forged row 10 links to row 9 and carries its own correct hash, so it passes; the
    displaced original (now 11) still points at row 9, and that is where the break shows."""
    forged = resealed({**row(chain, 10), "new_value": '"Forged"'})
    tamper(chain, *renumber_from(10), insert(EVENTS).values(**forged))
    report = verify(chain)
    assert (report.intact, report.broken_seq) == (False, 11)
    assert report.problem == "its link to the previous row is broken"


def renumber_from(seq: int) -> list[Any]:
    """Move rows ``seq``.. one place up (in two steps: the key must stay unique meanwhile)."""
    return [
        update(EVENTS).where(EVENTS.c.seq >= seq).values(seq=EVENTS.c.seq + 1000),
        update(EVENTS).where(EVENTS.c.seq >= seq + 1000).values(seq=EVENTS.c.seq - 999),
    ]


def test_it_detects_a_forged_row_appended_without_moving_the_head(chain: Engine) -> None:
    last = row(chain, ROWS)
    forged = resealed({**last, "seq": ROWS + 1, "prev_hash": last["row_hash"], "reason": "x"})
    tamper(chain, insert(EVENTS).values(**forged))
    report = verify(chain)
    assert (report.intact, report.broken_seq) == (False, ROWS + 1)
    assert report.problem == f"the chain head says {ROWS} rows, the table holds {ROWS + 1}"


def test_it_detects_two_rows_swapped(chain: Engine) -> None:
    seventh, thirteenth = row(chain, 7), row(chain, 13)
    tamper(
        chain,
        set_row(7, **{**thirteenth, "seq": 7}),
        set_row(13, **{**seventh, "seq": 13}),
    )
    report = verify(chain)
    assert (report.intact, report.broken_seq) == (False, 7)


def test_it_detects_a_head_whose_hash_was_edited(chain: Engine) -> None:
    tamper(chain, update(HEAD).values(row_hash="f" * 64))
    report = verify(chain)
    assert not report.intact
    assert "head" in str(report.problem)


def test_it_detects_a_deleted_head(chain: Engine) -> None:
    """With the head gone nothing anchors the chain's end, so no row after the genesis can be
    vouched for: ``broken_seq`` is 1, although each row still links to the one before it."""
    tamper(chain, delete(HEAD))
    report = verify(chain)
    assert (report.intact, report.broken_seq) == (False, 1)
    assert "head" in str(report.problem)


def test_it_says_the_head_is_missing_when_it_was_deleted(chain: Engine) -> None:
    tamper(chain, delete(HEAD))
    assert verify(chain).problem == "the chain head is missing"  # not "says 0 rows"


def test_a_head_with_a_wrong_hash_is_reported_at_the_last_row(chain: Engine) -> None:
    """Not at row 21, which does not exist, with "the head says 20 rows, the table holds 20"."""
    tamper(chain, update(HEAD).values(row_hash="f" * 64))
    report = verify(chain)
    assert (report.broken_seq, report.problem) == (
        ROWS,
        f"the chain head's hash does not match row {ROWS}",
    )


def test_after_the_head_is_deleted_writes_fail_and_change_nothing(chain: Engine) -> None:
    """The next write would restart the chain at row 1, which exists: it fails, closed."""
    tamper(chain, delete(HEAD))
    before = (counts(chain), rows(chain))
    with acting(chain) as session:
        session.add(Site(code="X01", name="After the head went"))
        with pytest.raises((AuditError, IntegrityError)):
            session.commit()
    assert (counts(chain), rows(chain)) == before


# What verify alone cannot detect -----------------------------------------------------------------


def test_it_cannot_detect_a_deleted_last_row_when_the_head_is_rewound_too(chain: Engine) -> None:
    anchor = verify(chain)
    new_last = row(chain, ROWS - 1)
    tamper(
        chain,
        delete(EVENTS).where(EVENTS.c.seq == ROWS),
        update(HEAD).values(seq=ROWS - 1, row_hash=new_last["row_hash"]),
    )
    report = verify(chain)
    assert report.intact  # the limit: a shorter chain with a matching head is a valid chain
    assert report.rows == ROWS - 1
    assert not still_holds(chain, anchor)  # an anchor kept outside the database exposes it


def test_it_cannot_detect_a_rewritten_tail_when_every_later_hash_and_the_head_are_recomputed(
    chain: Engine,
) -> None:
    anchor = verify(chain)
    forged, previous = [], row(chain, 9)["row_hash"]
    for original in rows(chain)[9:]:
        edited = {**original, "prev_hash": previous}
        if original["seq"] == 10:
            edited["new_value"] = '"Forged"'
        edited = resealed(edited)
        forged.append(set_row(edited["seq"], **edited))
        previous = edited["row_hash"]
    tamper(chain, *forged, update(HEAD).values(row_hash=previous))
    assert verify(chain).intact  # the limit: the hashes carry no secret
    assert not still_holds(chain, anchor)


def test_it_cannot_detect_a_wiped_trail_when_the_head_goes_too(chain: Engine) -> None:
    """The sites remain, their history is gone, and an empty chain verifies as intact."""
    anchor = verify(chain)
    tamper(chain, delete(EVENTS), delete(HEAD))
    report = verify(chain)
    assert (report.intact, report.rows, report.head_hash) == (True, 0, audit.GENESIS)
    assert counts(chain) == (SITES, 0)
    assert not still_holds(chain, anchor)


def test_it_cannot_tell_a_forged_row_appended_with_the_head_moved_from_a_real_write(
    chain: Engine,
) -> None:
    anchor = verify(chain)
    last = row(chain, ROWS)
    forged = resealed({**last, "seq": ROWS + 1, "prev_hash": last["row_hash"], "reason": "x"})
    tamper(
        chain,
        insert(EVENTS).values(**forged),
        update(HEAD).values(seq=ROWS + 1, row_hash=forged["row_hash"]),
    )
    assert verify(chain).intact
    assert still_holds(chain, anchor)  # even the anchor passes: the past is untouched


# Writes that would bypass the trail --------------------------------------------------------------


def test_it_refuses_a_bulk_delete_statement_and_changes_nothing(chain: Engine) -> None:
    before = (counts(chain), verify(chain))
    with acting(chain) as session, pytest.raises(AuditError, match="bypass the audit trail"):
        session.execute(delete(Site).where(Site.code == "S01"))
    assert (counts(chain), verify(chain)) == before


def test_it_refuses_a_bulk_update_statement_and_changes_nothing(chain: Engine) -> None:
    before = (counts(chain), rows(chain))
    refused = pytest.raises(AuditError, match="bypass the audit trail")
    with acting(chain, reason="bulk rename") as session, refused:
        session.execute(update(Site).values(name="Renamed in bulk"))
    assert (counts(chain), rows(chain)) == before


def test_a_create_event_records_the_values_stored_including_column_defaults(
    engine: Engine,
) -> None:
    with acting(engine) as session:
        session.add(User(email="a@example.org", full_name="A", role=Role.ADMIN, password_hash="-"))  # noqa: S106
        session.commit()
    created = json.loads(rows(engine)[0]["new_value"])
    assert created["active"] is True  # the database holds active = true


def test_it_refuses_a_bulk_insert_statement_and_changes_nothing(chain: Engine) -> None:
    before = (counts(chain), verify(chain))
    with acting(chain) as session:
        try:
            session.execute(insert(Site), [{"code": "X01", "name": "Inserted in bulk"}])
            session.commit()
        except AuditError:
            session.rollback()
    assert (counts(chain), verify(chain)) == before


# verify while the registry writes ----------------------------------------------------------------


def test_verify_stays_intact_when_a_write_commits_while_it_reads(chain: Engine) -> None:
    """A write committing between verify's read of the rows and its read of the head (forced here
    from a listener) is not a broken chain."""
    with session_factory(chain)() as session:
        report = verify_with_a_write_in_between(chain, session)
    assert report.intact, report


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_verify_stays_intact_when_a_write_commits_while_it_reads_in_a_session_in_use(
    chain: Engine,
) -> None:
    """The same, in a session that has already read something (so its transaction has begun
    and its isolation level can no longer change). PostgreSQL only: on SQLite that session's
    transaction (BEGIN IMMEDIATE) holds the write lock, so no write could commit meanwhile."""
    with session_factory(chain)() as session:
        session.scalars(select(Site)).first()
        report = verify_with_a_write_in_between(chain, session)
    assert report.intact, report


def verify_with_a_write_in_between(engine: Engine, session: Session) -> ChainReport:
    written = threading.Event()

    def write_once(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM audit_events" in statement and not written.is_set():
            written.set()
            writer = threading.Thread(target=rename_s00, args=(engine,))
            writer.start()
            writer.join()

    event.listen(engine, "after_cursor_execute", write_once)
    try:
        report = audit.verify(session)
    finally:
        event.remove(engine, "after_cursor_execute", write_once)
    assert written.is_set()
    assert len(rows(engine)) == ROWS + 1  # the write did commit while verify was reading
    return report


def rename_s00(engine: Engine) -> None:
    with acting(engine, reason="written during verify") as session:
        session.scalars(select(Site).where(Site.code == "S00")).one().name = "Concurrent"
        session.commit()
