"""Read-only sessions take no lock on SQLite: a page being read never holds up a writer."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from lupus_msc.services import accounts
from lupus_msc.services.accounts import SiteIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.database import Database
from lupus_msc.store.models import Site


def test_a_long_read_does_not_hold_up_a_write(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    database.upgrade()
    try:
        with database.reads() as reading:
            before = reading.scalar(select(func.count()).select_from(Site))  # snapshot taken
            started = time.monotonic()
            with unit_of_work(database, None) as writing:
                accounts.add_site(writing, None, SiteIn(code="R01", name="Reader's"))
            assert time.monotonic() - started < 5  # a write lock would wait 30 s, then fail
            assert reading.scalar(select(func.count()).select_from(Site)) == before  # snapshot
        with database.reads() as fresh:
            assert fresh.scalar(select(func.count()).select_from(Site)) == before + 1
    finally:
        database.dispose()
