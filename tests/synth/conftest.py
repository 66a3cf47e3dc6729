"""One seeded synthetic cohort, scored once with the batch engine, shared by the synth tests."""

from __future__ import annotations

import polars as pl
import pytest

from lupus_msc.clinical.batch import prednisone_equivalent, sledai2k
from lupus_msc.clinical.batch.frame import prepare
from lupus_msc.synth import Cohort, generate_cohort

PATIENTS = 3000
SEED = 7


@pytest.fixture(scope="session")
def cohort() -> Cohort:
    return generate_cohort(PATIENTS, seed=SEED)


@pytest.fixture(scope="session")
def scored(cohort: Cohort) -> pl.DataFrame:
    """The prepared cohort with SLEDAI-2K and prednisone equivalents, its patients' trajectory
    types, and ``day`` (days since the infusion) on every visit."""
    frame = prednisone_equivalent.score(sledai2k.score(prepare(cohort.visits)))
    return frame.join(cohort.patients, on="patient_id", how="left").with_columns(
        (pl.col("visit_date") - pl.col("infusion_date")).dt.total_days().alias("day")
    )


def number(value: object) -> float:
    """A polars aggregate as a float (it must be a number, not null)."""
    assert isinstance(value, int | float), value
    return float(value)


def at_month(frame: pl.DataFrame, month: int) -> pl.DataFrame:
    """Visits in the window of the scheduled month (protocol windows: ±28 days from month 6)."""
    centre = round(month * 30.4375)
    window = 28 if month >= 6 else 14
    return frame.filter((pl.col("day") - centre).abs() <= window)
