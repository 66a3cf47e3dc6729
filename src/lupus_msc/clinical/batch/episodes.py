"""Episodes of a per-visit state over a prepared visit table (§5, §6), as ``clinical.episodes``.

The state is any Boolean column of the table (True holds, False does not, null undecidable):
DORIS remission (``doris.remission``), LLDAS (``lldas.lldas``) or an SFI flare
(``flare_state()`` of the batch SFI's ``sfi.flare``, §2). As in the single-record version, a null
state ends a run like False does, an episode ends at the last visit of its run and is ongoing when
that is the patient's last visit ([IMPL], see ``clinical.episodes``).

Runs are numbered over the whole table without Python per row: a visit starts a run when its
state holds and its previous visit's (same patient) does not; the running count of starts is the
run id of every visit in the run. ``episodes`` groups the visits by run id; ``summaries`` gives one
row per patient (every patient, with or without an episode); ``score`` adds to each visit the
number of its episode within the patient (columns ``episodes.doris``, ``episodes.lldas``,
``episodes.sfi``; null when the state does not hold), which joins visits to the episode table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import polars as pl

from lupus_msc.clinical.batch import doris as batch_doris
from lupus_msc.clinical.batch import lldas as batch_lldas
from lupus_msc.clinical.batch.frame import ROW
from lupus_msc.clinical.batch.longitudinal import (
    PATIENT,
    POSITION_COLUMNS,
    PREVIOUS_ROW,
    add_positions,
    baseline,
    previous,
)

PREFIX = "episodes."
DORIS_STATE = batch_doris.REMISSION
LLDAS_STATE = batch_lldas.LLDAS
SFI_FLARE = "sfi.flare"
"""The batch SFI category column ("none", "mild_moderate", "severe" or null; §2, §16.2)."""
SFI_FLARE_STATE = "sfi.flare_state"
FLARE_CATEGORIES = ("mild_moderate", "severe")
STATES = {"doris": DORIS_STATE, "lldas": LLDAS_STATE, "sfi": SFI_FLARE_STATE}
"""The three states summarised in cohort reports, by short name."""

_KEYS = (ROW, "patient_id", "visit_date", "is_baseline")
"""The columns positions need (``longitudinal.add_positions``)."""
_RUN = "_run"
_LAST_VISIT = "_last_visit"
EPISODE_COLUMNS = ("patient_id", "episode", "start", "end", "visits", "days", "ongoing")
SUMMARY_COLUMNS = ("patient_id", "baseline_date", "episodes", "days_to_first", "longest_days")


def flare_state(flare: str = SFI_FLARE) -> pl.Expr:
    """§2: the visit flares when its SFI category is mild/moderate or severe; null if unknown."""
    category = pl.col(flare).cast(pl.String)
    return pl.when(category.is_not_null()).then(category.is_in(FLARE_CATEGORIES))


def with_states(
    frame: pl.DataFrame, *, prednisone_comparator: Literal["le", "lt"] = "le"
) -> pl.DataFrame:
    """``frame`` with the DORIS and LLDAS states, and the SFI flare state when SFI was scored."""
    if DORIS_STATE not in frame.columns:
        frame = batch_doris.score(frame, prednisone_comparator=prednisone_comparator)
    if LLDAS_STATE not in frame.columns:
        frame = batch_lldas.score(frame)
    if SFI_FLARE in frame.columns and SFI_FLARE_STATE not in frame.columns:
        frame = frame.with_columns(flare_state().alias(SFI_FLARE_STATE))
    return frame


def _starts(state: str) -> tuple[pl.Expr, pl.Expr]:
    """(the state holds, a run starts here) per visit; needs the positions."""
    holds = pl.col(state).fill_null(False)
    return holds, holds & ~previous(holds).fill_null(False)


def episode_number(state: str) -> pl.Expr:
    """Per visit: its episode's number within the patient (from 1); null when not in one."""
    holds, starts = _starts(state)
    count = starts.cast(pl.Int64).cum_sum()  # runs started so far in the whole table
    first_visit = pl.col(PREVIOUS_ROW).is_null()
    before_patient = pl.when(first_visit).then(count - starts.cast(pl.Int64)).forward_fill()
    return pl.when(holds).then(count - before_patient)


def score(
    frame: pl.DataFrame,
    *,
    states: Mapping[str, str] | None = None,
    prednisone_comparator: Literal["le", "lt"] = "le",
) -> pl.DataFrame:
    """Add ``episodes.<name>``, each visit's episode number, for each state column (§5, §6, §2).

    ``states`` maps a short name to a Boolean column; by default the DORIS and LLDAS states
    (scored when absent) and the SFI flare state when the table has ``sfi.flare``.
    """
    if states is None:
        frame = with_states(frame, prednisone_comparator=prednisone_comparator)
        states = {name: column for name, column in STATES.items() if column in frame.columns}
    added = [name for name in POSITION_COLUMNS if name not in frame.columns]
    return (
        add_positions(frame)
        .with_columns(
            episode_number(column).alias(PREFIX + name) for name, column in states.items()
        )
        .drop(added)
    )


def _keys(frame: pl.DataFrame, *extra: str) -> pl.DataFrame:
    """The columns positions need, with row numbers renumbered from 0 (a filtered table works)."""
    return frame.select(*dict.fromkeys((*_KEYS, *extra))).with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias(ROW)
    )


def _runs(frame: pl.DataFrame, state: str) -> pl.DataFrame:
    """Positions plus, per visit, its run id (null when the state does not hold)."""
    holds, starts = _starts(state)
    last_visit = (pl.col(PATIENT) != pl.col(PATIENT).shift(-1)).fill_null(True)
    return add_positions(frame).with_columns(
        pl.when(holds).then(starts.cum_sum()).alias(_RUN),
        last_visit.alias(_LAST_VISIT),
    )


def episodes(frame: pl.DataFrame, state: str) -> pl.DataFrame:
    """One row per episode of Boolean column ``state`` (columns ``EPISODE_COLUMNS``).

    ``episode`` numbers a patient's episodes from 1; ``days`` is end − start.
    """
    in_runs = _runs(_keys(frame, state), state).filter(pl.col(_RUN).is_not_null())
    grouped = in_runs.group_by(_RUN).agg(
        pl.col(PATIENT).first(),
        pl.col("patient_id").first(),
        pl.col("visit_date").min().alias("start"),
        pl.col("visit_date").max().alias("end"),
        pl.len().cast(pl.Int64).alias("visits"),
        pl.col(_LAST_VISIT).any().alias("ongoing"),
    )
    return grouped.sort(_RUN).select(
        "patient_id",
        (pl.int_range(1, pl.len() + 1).over(PATIENT)).cast(pl.Int64).alias("episode"),
        "start",
        "end",
        "visits",
        (pl.col("end") - pl.col("start")).dt.total_days().cast(pl.Int64).alias("days"),
        "ongoing",
    )


def summaries(frame: pl.DataFrame, state: str) -> pl.DataFrame:
    """One row per patient (columns ``SUMMARY_COLUMNS``), as ``clinical.episodes.summarize``.

    ``baseline_date`` is the baseline visit's date (first visit flagged ``is_baseline``, else the
    first visit); ``days_to_first`` and ``longest_days`` are null for a patient without episodes.
    """
    keys = add_positions(_keys(frame))
    patients = (
        keys.with_columns(baseline("visit_date").alias("baseline_date"))
        .group_by(PATIENT)
        .agg(pl.col("patient_id").first(), pl.col("baseline_date").first())
    )
    found = (
        episodes(frame, state)
        .group_by("patient_id")
        .agg(
            pl.len().cast(pl.Int64).alias("episodes"),
            pl.col("start").min().alias("first_start"),
            pl.col("days").max().alias("longest_days"),
        )
    )
    return (
        patients.join(found, on="patient_id", how="left")
        .sort(PATIENT)
        .select(
            "patient_id",
            "baseline_date",
            pl.col("episodes").fill_null(0),
            (pl.col("first_start") - pl.col("baseline_date"))
            .dt.total_days()
            .alias("days_to_first"),
            "longest_days",
        )
    )
