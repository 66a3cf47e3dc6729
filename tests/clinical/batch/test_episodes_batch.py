"""Batch episodes equal the single-record episodes for every patient (§5, §6; [IMPL])."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings

from lupus_msc.clinical import episodes as single
from lupus_msc.clinical import sledai2k
from lupus_msc.clinical.batch import episodes as batch
from lupus_msc.clinical.batch.frame import prepare
from tests.clinical.batch.visits import frame_of, visit_tables

STATE = "new_features"
"""Any Boolean column with nulls serves as a random state; this one is in the visit table."""


def by_patient(prepared: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    visits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in prepared.iter_rows(named=True):
        visits[row["patient_id"]].append(row)
    return visits


def baseline_date(visits: list[dict[str, Any]]) -> date:
    """The first visit flagged as baseline, else the first visit (longitudinal convention)."""
    flagged: list[date] = [visit["visit_date"] for visit in visits if visit["is_baseline"]]
    first: date = visits[0]["visit_date"]
    return flagged[0] if flagged else first


def expected_numbers(prepared: pl.DataFrame, state: str) -> list[int | None]:
    """Each visit's episode number within its patient, from ``clinical.episodes``."""
    numbers: list[int | None] = []
    for visits in by_patient(prepared).values():
        found = single.episodes([(visit["visit_date"], visit[state]) for visit in visits])
        for visit in visits:
            numbers.append(
                next(
                    (n for n, e in enumerate(found, 1) if e.start <= visit["visit_date"] <= e.end),
                    None,
                )
            )
    return numbers


def expected_tables(
    prepared: pl.DataFrame, state: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Episode rows and summary rows computed patient by patient with ``clinical.episodes``."""
    episode_rows, summary_rows = [], []
    for patient, visits in by_patient(prepared).items():
        states = [(visit["visit_date"], visit[state]) for visit in visits]
        for number, found in enumerate(single.episodes(states), start=1):
            episode_rows.append(
                {"patient_id": patient, "episode": number, "start": found.start, "end": found.end}
                | {"visits": found.visits, "days": found.days, "ongoing": found.ongoing}
            )
        summary = single.summarize(states, baseline_date(visits))
        summary_rows.append(
            {"patient_id": patient, "baseline_date": baseline_date(visits)}
            | {"episodes": summary.episodes, "days_to_first": summary.days_to_first}
            | {"longest_days": summary.longest_days}
        )
    return episode_rows, summary_rows


@settings(max_examples=2000, deadline=None)
@given(visit_tables([STATE, "is_baseline"], max_patients=4, max_visits=8))
def test_batch_equals_single_record_for_every_patient(rows: list[dict[str, Any]]) -> None:
    prepared = prepare(frame_of(rows))
    episode_rows, summary_rows = expected_tables(prepared, STATE)
    assert batch.episodes(prepared, STATE).to_dicts() == episode_rows
    assert batch.summaries(prepared, STATE).to_dicts() == summary_rows
    numbered = batch.score(prepared, states={"random": STATE})
    assert numbered["episodes.random"].to_list() == expected_numbers(prepared, STATE)


# --- hand-worked tables with DORIS, LLDAS and SFI states -----------------------------------------

QUIET = dict.fromkeys(sledai2k.WEIGHTS, False)
D = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1), date(2024, 5, 1)


def visit(patient: str, day: date, pga: float, **changes: Any) -> dict[str, Any]:
    """A complete SLEDAI-2K with nothing present and no glucocorticoid (0 mg/day)."""
    return {"patient_id": patient, "visit_date": day, **QUIET, "pga": pga, **changes}


def cohort() -> pl.DataFrame:
    """P1: PGA 0.2, 0.4, 0.8, 0.3, 0.1; P2: PGA 1.5 throughout; P3 baseline flagged at visit 2.

    DORIS (PGA < 0.5, all else met) holds for P1 at Jan, Feb, Apr, May. LLDAS (PGA ≤ 1) is
    undecided at each first visit (no previous assessment, §5) and holds at every later P1 visit.
    """
    rows = [visit("P1", day, pga) for day, pga in zip(D, (0.2, 0.4, 0.8, 0.3, 0.1), strict=True)]
    rows += [visit("P2", day, 1.5) for day in D[:3]]
    rows += [
        visit("P3", D[0], 0.2, is_baseline=False),
        visit("P3", D[1], 0.2, is_baseline=True),
        visit("P3", D[2], 0.2, arthritis=True),
    ]
    names = {name for row in rows for name in row}
    return batch.with_states(
        prepare(pl.DataFrame([{n: row.get(n) for n in names} for row in rows]))
    )


def test_doris_remission_episodes_by_hand() -> None:
    """P1: Jan–Feb (31 days), Apr–May (30, ongoing); P2 none; P3 Jan–Feb (arthritis in Mar)."""
    found = batch.episodes(cohort(), batch.DORIS_STATE)
    assert found.select(
        "patient_id", "episode", "start", "end", "visits", "days", "ongoing"
    ).rows() == [
        ("P1", 1, D[0], D[1], 2, 31, False),
        ("P1", 2, D[3], D[4], 2, 30, True),
        ("P3", 1, D[0], D[1], 2, 31, False),
    ]
    summaries = batch.summaries(cohort(), batch.DORIS_STATE)
    assert summaries.rows() == [
        ("P1", D[0], 2, 0, 31),
        ("P2", D[0], 0, None, None),
        ("P3", D[1], 1, -31, 31),  # the episode began a month before the flagged baseline
    ]


def test_score_numbers_each_visit_by_its_episode() -> None:
    """P1's DORIS: Jan, Feb in episode 1, Mar none, Apr, May in episode 2 (see the cohort)."""
    scored = batch.score(cohort())
    p1 = scored.filter(pl.col("patient_id") == "P1")
    assert p1["episodes.doris"].to_list() == [1, 1, None, 2, 2]
    assert p1["episodes.lldas"].to_list() == [None, 1, 1, 1, 1]
    assert "episodes.sfi" not in scored.columns  # no SFI scored in this table


def test_lldas_episodes_by_hand() -> None:
    """P1: undecided in Jan, then Feb–May (4 visits, 29 + 31 + 30 = 90 days, ongoing)."""
    found = batch.episodes(cohort(), batch.LLDAS_STATE)
    assert found.filter(pl.col("patient_id") == "P1").rows() == [("P1", 1, D[1], D[4], 4, 90, True)]
    assert batch.summaries(cohort(), batch.LLDAS_STATE).row(0) == ("P1", D[0], 1, 31, 90)


@pytest.mark.parametrize(
    "dtype", [pl.String(), pl.Enum(["none", "mild_moderate", "severe"])], ids=["string", "enum"]
)
def test_sfi_flare_state_counts_mild_moderate_and_severe(dtype: pl.DataType) -> None:
    """§2: a flare is a mild/moderate or severe category; an unknown category stays unknown."""
    flares = ["none", "mild_moderate", "severe", None, "severe"]
    frame = prepare(pl.DataFrame({"patient_id": ["P1"] * 5, "visit_date": list(D)}))
    with_flares = frame.with_columns(pl.Series(batch.SFI_FLARE, flares, dtype=dtype))
    states = batch.with_states(with_flares)
    assert states[batch.SFI_FLARE_STATE].to_list() == [False, True, True, None, True]
    found = batch.episodes(states, batch.SFI_FLARE_STATE)
    assert found.select("start", "end", "ongoing").rows() == [
        (D[1], D[2], False),
        (D[4], D[4], True),
    ]
