"""Alembic environment: the same migrations run on SQLite and PostgreSQL (DESIGN.md, storage)."""

from __future__ import annotations

from alembic import context

from lupus_msc.store import models  # noqa: F401 - registers every table
from lupus_msc.store.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
