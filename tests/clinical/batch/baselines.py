"""The baseline visit of each row, found the plain way, to check the batch's ``longitudinal``."""

from __future__ import annotations

from typing import Any


def baseline_positions(rows: list[dict[str, Any]]) -> list[int]:
    """For each row, the position of its patient's baseline visit: the first visit flagged
    ``is_baseline``, else the patient's first visit (rows in patient and date order)."""
    first: dict[str, int] = {}
    flagged: dict[str, int] = {}
    for position, row in enumerate(rows):
        first.setdefault(row["patient_id"], position)
        if row["is_baseline"]:
            flagged.setdefault(row["patient_id"], position)
    return [flagged.get(row["patient_id"], first[row["patient_id"]]) for row in rows]
