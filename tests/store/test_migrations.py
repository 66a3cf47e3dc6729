"""The same Alembic migrations bring SQLite and PostgreSQL to head, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from lupus_msc.store import models  # noqa: F401 - registers every table
from lupus_msc.store.base import Base
from lupus_msc.store.database import Database
from lupus_msc.store.migrate import current_revision, head_revision


def test_migrations_reach_head_and_can_run_twice(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade()
    database.upgrade()
    assert current_revision(database.engine) == head_revision()
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    database.dispose()


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    """A model changed without a migration shows up here as a difference."""
    database = Database(database_url)
    database.upgrade()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    database.dispose()
    assert differences == []
