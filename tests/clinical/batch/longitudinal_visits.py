"""Visit tables for the longitudinal batch instruments (SRI, SFI, renal response) and the bridge
from a prepared row to the single-record inputs, computed independently of the batch code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

import polars as pl
from hypothesis import strategies as st

from lupus_msc.clinical.batch import sledai2k as batch_sledai2k
from lupus_msc.clinical.batch.frame import ROW, prepare
from tests.clinical.batch.visits import NOTABLE, frame_of, visit_tables

_TOTAL = st.one_of(st.integers(0, 30), st.sampled_from([0, 2, 8, 9, 12, 13, 16]))
"""SLEDAI-2K totals around the 3-point rise, the 4-point reduction and the 12-point mark."""
_SLEDAI = st.tuples(_TOTAL, st.sampled_from([True] * 5 + [False]))
"""(total, complete): usually a complete assessment."""


def usually(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``values`` five times in six, else None (not given)."""
    given = st.sampled_from([True] * 5 + [False])
    return st.tuples(given, values).map(lambda drawn: drawn[1] if drawn[0] else None)


PGA = usually(
    st.one_of(
        st.sampled_from([Decimal(value) for value in NOTABLE["pga"]]),
        st.integers(0, 300).map(lambda hundredths: Decimal(hundredths) / 100),
    )
)
"""PGA (0–3, two decimals) usually given, so that PGA pairs are often complete."""


class Sledai(NamedTuple):
    """A visit's batch SLEDAI-2K result as the longitudinal instruments read it (§1, §16.1)."""

    total: int
    complete: bool

    @property
    def known(self) -> int | None:
        """The total when the SLEDAI is complete, else unknown."""
        return self.total if self.complete else None


@st.composite
def tables_with_sledai(
    draw: st.DrawFn,
    columns: list[str],
    overrides: Mapping[str, st.SearchStrategy[Any]] | None = None,
) -> tuple[list[dict[str, Any]], list[Sledai]]:
    """``visit_tables(columns)`` and a SLEDAI-2K result for each visit (usually complete);
    ``overrides`` draws the named columns from other strategies (values near thresholds).

    The SLEDAI results are drawn directly rather than from the 24 descriptors: batch SLEDAI-2K
    has its own property test, and these tests check what the instruments do with its columns.
    """
    rows = draw(visit_tables(columns))
    extra = st.fixed_dictionaries(dict(overrides or {}))
    for row in rows:
        row.update(draw(extra))
    return rows, [Sledai(*draw(_SLEDAI)) for _ in rows]


def prepared_with_sledai(rows: list[dict[str, Any]], sledai: list[Sledai]) -> pl.DataFrame:
    """The prepared table of ``rows`` with the batch SLEDAI-2K columns set to ``sledai``."""
    prepared = prepare(frame_of(rows))
    keys = [(row["patient_id"], row["visit_date"]) for row in rows]
    assert prepared.select("patient_id", "visit_date").rows() == keys  # already in table order
    return prepared.with_columns(
        pl.Series(batch_sledai2k.PREFIX + "total", [s.total for s in sledai], dtype=pl.Int32),
        pl.Series(batch_sledai2k.PREFIX + "complete", [s.complete for s in sledai]),
    )


def given_only(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A single-record payload without its absent (None) fields."""
    return {name: value for name, value in payload.items() if value is not None}


class Neighbours(NamedTuple):
    """A visit's patient's previous visit (None at the first) and baseline visit."""

    previous: dict[str, Any] | None
    baseline: dict[str, Any]


def neighbours(rows: Iterable[dict[str, Any]]) -> dict[int, Neighbours]:
    """Row number → neighbours, from prepared rows sorted by patient and date: the baseline is
    the first visit flagged ``is_baseline``, else the first visit."""
    by_patient: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_patient.setdefault(row["patient_id"], []).append(row)
    found: dict[int, Neighbours] = {}
    for visits in by_patient.values():
        flagged = [visit for visit in visits if visit["is_baseline"]]
        first = flagged[0] if flagged else visits[0]
        for index, visit in enumerate(visits):
            found[visit[ROW]] = Neighbours(visits[index - 1] if index else None, first)
    return found
