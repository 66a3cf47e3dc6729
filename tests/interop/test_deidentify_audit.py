"""Creating de-identification keys is audited, but the trail never holds a key's values: a
pseudonym beside its patient, or a date offset, would undo the de-identification."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lupus_msc.services.cohort_loader import load
from lupus_msc.services.deidentification import keys_for
from lupus_msc.store.database import Database
from lupus_msc.store.models import AuditEvent, Patient


def test_the_audit_trail_records_key_creation_without_the_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    database.upgrade()
    load(database, 3, seed=5)
    with database.reads() as session:
        codes = list(session.scalars(select(Patient.study_code)))
    keys = keys_for(database, None, codes)
    with database.reads() as session:
        trail = list(
            session.scalars(select(AuditEvent).where(AuditEvent.entity == "deidentification_keys"))
        )
    database.dispose()
    assert trail, "creating the keys must be audited"
    written = " ".join(f"{event.field} {event.old_value} {event.new_value}" for event in trail)
    for key in keys.values():
        assert key.pseudonym not in written
    assert written.count('"date_offset_days":"[redacted]"') == len(keys)
    assert written.count('"pseudonym":"[redacted]"') == len(keys)
