"""Indexes for the pages' lookups: a patient's records by patient, a visit's labs by visit, the
dashboard's counts — unrecorded visits by window (a partial index: only visits not yet
recorded), patients by site and state, lots by site, state and expiry (docs/performance.md,
issue 6).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_lab_results_visit_id", "lab_results", ("visit_id",)),
    ("ix_medications_patient_id", "medications", ("patient_id",)),
    ("ix_adverse_events_patient_id", "adverse_events", ("patient_id",)),
    ("ix_infusions_patient_id", "infusions", ("patient_id",)),
    ("ix_infusion_lots_infusion_id", "infusion_lots", ("infusion_id",)),
    ("ix_screenings_patient_id", "screenings", ("patient_id",)),
    ("ix_consents_patient_id", "consents", ("patient_id",)),
    ("ix_bedside_checks_patient_id", "bedside_checks", ("patient_id",)),
    ("ix_lots_allocated_patient_id", "lots", ("allocated_patient_id",)),
    ("ix_release_tests_lot_id", "release_tests", ("lot_id",)),
    ("ix_release_decisions_lot_id", "release_decisions", ("lot_id",)),
    ("ix_custody_events_lot_id", "custody_events", ("lot_id",)),
    ("ix_patients_site_id_state", "patients", ("site_id", "state")),
    ("ix_lots_site_id_state_expires_on", "lots", ("site_id", "state", "expires_on")),
)
OPEN_WINDOWS = ("ix_visits_open_window", "visits", ("window_start", "window_end", "patient_id"))
"""The dashboard's visits due and overdue: unrecorded visits only (``visit_date IS NULL``)."""
UNRECORDED = "visit_date IS NULL"


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))
    name, table, columns = OPEN_WINDOWS
    where = sa.text(UNRECORDED)
    op.create_index(name, table, list(columns), sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index(OPEN_WINDOWS[0], table_name=OPEN_WINDOWS[1])
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
