"""Sub-cohorts by site, tissue source, dose band and period (Cohort page and report filters)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lupus_msc.analytics.cohort_filter import CohortFilter, select
from lupus_msc.analytics.dataset import AnalysisDataset
from lupus_msc.analytics.visit_table import Notes


def _dataset() -> AnalysisDataset:
    patients = pl.DataFrame(
        {
            "patient_id": ["A", "B", "C", "D"],
            "site": ["S01", "S01", "S02", "S02"],
            "tissue_source": ["umbilical-cord", "bone-marrow", "umbilical-cord", None],
            "dose_band": ["1 to < 2", "≥ 2", "< 1", "1 to < 2"],
            "first_infusion": [
                dt.date(2024, 1, 1),
                dt.date(2024, 6, 1),
                dt.date(2025, 1, 1),
                dt.date(2025, 6, 30),
            ],
        }
    )
    visits = pl.DataFrame({"patient_id": ["A", "A", "B", "C", "D"], "day": [0, 30, 0, 0, 0]})
    events = pl.DataFrame({"patient_id": ["B", "D"], "grade": [1, 3]})
    return AnalysisDataset(patients, visits, events, dt.date(2026, 1, 1), Notes(0, 0))


@pytest.mark.parametrize(
    ("chosen", "kept"),
    [
        (CohortFilter(), {"A", "B", "C", "D"}),
        (CohortFilter(sites=("S02",)), {"C", "D"}),
        (CohortFilter(tissue_sources=("umbilical-cord",)), {"A", "C"}),
        (CohortFilter(dose_bands=("1 to < 2",), sites=("S02",)), {"D"}),
        (
            CohortFilter(infused_from=dt.date(2024, 6, 1), infused_to=dt.date(2025, 1, 1)),
            {"B", "C"},
        ),
        (CohortFilter(infused_to=dt.date(2025, 6, 30)), {"A", "B", "C", "D"}),
    ],
)
def test_filters_keep_the_patients_they_name_and_their_records(
    chosen: CohortFilter, kept: set[str]
) -> None:
    selected = select(_dataset(), chosen)
    assert set(selected.patients["patient_id"]) == kept
    assert set(selected.visits["patient_id"]) <= kept
    assert set(selected.adverse_events["patient_id"]) == kept & {"B", "D"}


def test_a_period_that_ends_before_it_starts_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="infused_from"):
        CohortFilter(infused_from=dt.date(2025, 1, 2), infused_to=dt.date(2025, 1, 1))


def test_the_filter_describes_itself() -> None:
    assert CohortFilter().describe() == "all patients"
    text = CohortFilter(sites=("S01",), infused_from=dt.date(2024, 1, 1)).describe()
    assert "site S01" in text and "from 2024-01-01 to the data cut-off" in text
