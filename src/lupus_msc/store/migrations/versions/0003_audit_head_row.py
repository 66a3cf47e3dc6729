"""Create the audit chain's head row with the schema, so that the first writers lock it too.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    head = sa.table(
        "audit_head", sa.column("id", sa.Integer), sa.column("seq"), sa.column("row_hash")
    )
    connection = op.get_bind()
    if connection.execute(sa.select(sa.func.count()).select_from(head)).scalar() == 0:
        op.bulk_insert(head, [{"id": 1, "seq": 0, "row_hash": GENESIS}])


def downgrade() -> None:
    pass
