"""The table of published studies of MSC therapy in SLE, shipped as package data with every
source column (shared/evidence/README.md), and users' own rows added in the same columns.

Every value is kept as the text it was recorded as: a blank stays blank (the number was not
found), and nothing is filled in. Each row says where it came from (``origin``), so a view can
show a number only with its study, its ``verification_level`` and its source.
"""

from __future__ import annotations

import csv
import io
from importlib.resources import files
from pathlib import Path

PACKAGED = files("lupus_msc.analytics") / "data" / "msc-sle-studies.csv"
ORIGIN = "origin"
"""Added to every row: ``published table`` for the shipped rows, the file name for a user's."""
REQUIRED = ("study_id", "therapy", "verification_level", "sources")
"""Columns a user's row must fill: without them a number could not be shown with its source."""

Row = dict[str, str]


class EvidenceTableError(ValueError):
    """A user's file that cannot be added, naming the column or the line."""


def _packaged() -> io.StringIO:
    return io.StringIO(PACKAGED.read_text(encoding="utf-8"))


def columns() -> list[str]:
    """The published table's columns, in its order."""
    return next(csv.reader(_packaged()))


def published_studies() -> list[Row]:
    """The shipped rows, each with ``origin`` set to ``published table``."""
    return [{**row, ORIGIN: "published table"} for row in csv.DictReader(_packaged())]


def user_rows(path: Path) -> list[Row]:
    """A user's CSV of further rows: it must have exactly the published table's columns, fill
    the ``REQUIRED`` ones, and not reuse a published ``study_id`` with the same ``arm``."""
    expected = columns()
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            found = list(reader.fieldnames or [])
            missing = [name for name in expected if name not in found]
            extra = [name for name in found if name not in expected]
            if missing or extra:
                raise EvidenceTableError(
                    f"{path.name}: columns differ from the published table"
                    + (f"; missing {', '.join(missing)}" if missing else "")
                    + (f"; unknown {', '.join(extra)}" if extra else "")
                )
            rows = list(reader)
    except OSError as error:
        raise EvidenceTableError(f"{path}: cannot read it ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise EvidenceTableError(f"{path.name}: not UTF-8 text") from error
    taken = {(row["study_id"], row["arm"]) for row in published_studies()}
    for line, row in enumerate(rows, start=2):
        for name in REQUIRED:
            if not (row.get(name) or "").strip():
                raise EvidenceTableError(f"{path.name} line {line}: {name} is empty")
        if (row["study_id"], row["arm"]) in taken:
            raise EvidenceTableError(
                f"{path.name} line {line}: study_id {row['study_id']!r} arm {row['arm']!r} is "
                "already in the published table"
            )
    return [{**row, ORIGIN: path.name} for row in rows]


def studies(extra: Path | None = None) -> list[Row]:
    """The published rows, then the user's (if ``extra`` is given)."""
    return published_studies() + (user_rows(extra) if extra is not None else [])
