"""The per-patient secret of de-identified exports: a stable pseudonym and a date offset in a
table of their own (issue 8, ``interop.deidentify``); nothing clinical changes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lupus_msc.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deidentification_keys",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("pseudonym", sa.String(length=20), nullable=False),
        sa.Column("date_offset_days", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", lupus_msc.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_deidentification_keys_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deidentification_keys")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_deidentification_keys_patient_id")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_deidentification_keys_pseudonym")),
    )


def downgrade() -> None:
    op.drop_table("deidentification_keys")
