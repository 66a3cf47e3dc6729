"""The analysis dataset (issue 7) read from a real registry, on SQLite and PostgreSQL.

A seeded synthetic cohort is loaded through the services; the dataset built by the batch engine
must give, visit by visit, the same outcome states as the patient page's single-record engine
(``services.course_outcomes``), and the same per-visit values the services stored.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from lupus_msc.analytics.dataset import EVENT_COLUMNS, PATIENT_COLUMNS, VISIT_COLUMNS, build
from lupus_msc.analytics.registry_extract import read_registry
from lupus_msc.services import course
from lupus_msc.services.access import Actor
from lupus_msc.services.fields import today
from lupus_msc.store.database import Database
from lupus_msc.store.models import Infusion, Patient, Role
from tests.registry_fixtures import database_url, loaded_cohort  # noqa: F401 - the backend fixture

PATIENTS = 14
SEED = 7


@pytest.fixture(scope="module")
def loaded(database_url: str) -> Iterator[Database]:  # noqa: F811
    yield from loaded_cohort(database_url, PATIENTS, SEED)


@pytest.fixture(scope="module")
def dataset(loaded: Database):  # type: ignore[no-untyped-def]
    with loaded.reads() as session:
        return build(read_registry(session), today())


def _admin() -> Actor:
    """An administrator (every site) reading the patient page."""
    return Actor(uuid.uuid4(), "admin@example.org", "Admin", Role.ADMIN, frozenset(), ())


def _as_dataset_values(row: course.course_outcomes.OutcomeRow) -> dict[str, bool | None]:
    """The page's cells as the dataset's columns (None = not assessable or not applicable)."""
    state = {"ok": True, "bad": False}
    renal = row.renal.label
    flare = row.flare.label
    return {
        "lldas": state.get(row.lldas.tone),
        "doris": state.get(row.doris.tone),
        "renal_complete": None
        if renal not in ("complete", "partial", "none")
        else renal == "complete",
        "renal_partial_or_better": (
            None if renal not in ("complete", "partial", "none") else renal != "none"
        ),
        "flare": None if flare == "not assessable" else flare != "no flare",
        "severe_flare": None if flare == "not assessable" else flare == "severe flare",
    }


def _page_states(database: Database) -> dict[tuple[str, dt.date], dict[str, bool | None]]:
    """Every visit's outcome states as the patient page shows them."""
    actor = _admin()
    states: dict[tuple[str, dt.date], dict[str, bool | None]] = {}
    with database.reads() as session:
        infused = select(Infusion.patient_id).distinct()
        for patient in session.scalars(select(Patient).where(Patient.id.in_(infused))):
            for row in course.load(session, actor, patient.id).outcomes:
                states[(patient.study_code, row.day)] = _as_dataset_values(row)
    return states


def test_the_frames_have_the_documented_columns(dataset) -> None:  # type: ignore[no-untyped-def]
    assert tuple(dataset.patients.columns) == PATIENT_COLUMNS
    assert tuple(dataset.visits.columns) == VISIT_COLUMNS
    assert tuple(dataset.adverse_events.columns) == EVENT_COLUMNS
    assert dataset.patients.height > 0
    assert dataset.visits.height > dataset.patients.height


def test_only_infused_patients_form_the_cohort(loaded: Database, dataset) -> None:  # type: ignore[no-untyped-def]
    with loaded.reads() as session:
        infused = set(
            session.scalars(
                select(Patient.study_code).join(Infusion, Infusion.patient_id == Patient.id)
            )
        )
    assert set(dataset.patients["patient_id"]) == infused


def test_outcome_states_agree_with_the_patient_page(loaded: Database, dataset) -> None:  # type: ignore[no-untyped-def]
    page = _page_states(loaded)
    compared = 0
    for row in dataset.visits.filter(~pl.col("baseline")).iter_rows(named=True):
        shown = page[(row["patient_id"], row["visit_date"])]
        for name, value in shown.items():
            assert row[name] == value, (row["patient_id"], row["visit_date"], name)
        compared += 1
    assert compared > PATIENTS


def test_per_visit_values_are_the_stored_results(loaded: Database, dataset) -> None:  # type: ignore[no-untyped-def]
    from lupus_msc.store.models import Visit

    with loaded.reads() as session:
        stored = {
            (code, visit.visit_date): visit.scores
            for visit, code in session.execute(
                select(Visit, Patient.study_code)
                .join(Patient, Patient.id == Visit.patient_id)
                .where(Visit.visit_date.is_not(None))
            )
        }
    checked = 0
    for row in dataset.visits.iter_rows(named=True):
        scores = stored[(row["patient_id"], row["visit_date"])]
        sledai = scores.get("sledai2k")
        expected_total = sledai["total"] if sledai and sledai.get("complete") else None
        assert row["sledai"] == expected_total
        pred = scores["prednisone_equivalent"]["prednisone_mg_day"]
        assert row["pred_mg_day"] == pytest.approx(float(Decimal(str(pred))), rel=1e-12)
        facit = scores.get("facit_f", {}).get("score")
        assert row["facit"] == (None if facit is None else float(facit))
        checked += 1
    assert checked == dataset.visits.height


def test_exports_write_csv_and_parquet_that_read_back(dataset, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for kind in ("csv", "parquet"):
        paths = dataset.write(tmp_path / kind, kind)
        assert [path.name for path in paths][:3] == [
            f"patients.{kind}",
            f"visits.{kind}",
            f"adverse_events.{kind}",
        ]
        visits = pl.read_parquet(paths[1]) if kind == "parquet" else pl.read_csv(paths[1])
        assert visits.height == dataset.visits.height
        assert visits.columns == list(VISIT_COLUMNS)


def test_infused_patients_without_a_recorded_visit_give_an_empty_visit_table(
    loaded: Database,
) -> None:
    import dataclasses

    with loaded.reads() as session:
        tables = read_registry(session)
    no_visits = build(dataclasses.replace(tables, visits=tables.visits.clear()), today())
    assert no_visits.visits.height == 0
    assert tuple(no_visits.visits.columns) == VISIT_COLUMNS
    assert no_visits.patients.height > 0
    assert no_visits.patients["last_visit"].null_count() == no_visits.patients.height


def test_a_sites_dataset_reads_only_its_patients_and_equals_the_whole_filtered(
    loaded: Database,
    dataset,  # type: ignore[no-untyped-def]
) -> None:
    from lupus_msc.analytics.cohort_filter import CohortFilter, select

    sites = sorted(set(dataset.patients["site"]))
    site = sites[0]
    with loaded.reads() as session:
        tables = read_registry(session, site_codes=[site])
    own = set(tables.patients["pid"])
    for name in ("screenings", "infusions", "visits", "medications", "adverse_events"):
        assert set(getattr(tables, name)["pid"]) <= own, name
    alone = build(tables, dataset.as_of)
    filtered = select(dataset, CohortFilter(sites=(site,)))
    assert alone.patients.equals(filtered.patients)
    assert alone.visits.equals(filtered.visits)
    assert alone.adverse_events.equals(filtered.adverse_events)
    assert len(sites) > 1 or alone.patients.height == dataset.patients.height


def test_adverse_events_count_within_the_analysis_window_only(loaded: Database) -> None:
    import dataclasses

    from lupus_msc.analytics.registry_extract import HORIZON_DAYS

    with loaded.reads() as session:
        tables = read_registry(session)
    first = tables.infusions.group_by("pid").agg(pl.col("started_at").min().dt.date())
    pid, day0 = first.row(0)
    far_out = dt.date(2100, 1, 1)
    added = pl.DataFrame(
        {
            "pid": [pid, pid],
            "term": ["inside the window", "after the window"],
            "ctcae_term": [None, None],
            "grade": [1, 1],
            "relatedness": ["not-related", "not-related"],
            "infusion_reaction": [False, False],
            "onset": [
                day0 + dt.timedelta(days=HORIZON_DAYS),
                day0 + dt.timedelta(days=HORIZON_DAYS + 1),
            ],
            "outcome": ["recovered", "recovered"],
            "serious": [False, False],
        },
        schema=tables.adverse_events.schema,
    )
    widened = dataclasses.replace(tables, adverse_events=pl.concat([tables.adverse_events, added]))
    terms = set(build(widened, far_out).adverse_events["term"])
    assert "inside the window" in terms
    assert "after the window" not in terms


@pytest.mark.parametrize(
    ("value", "bands", "label"),
    [
        (0.99, "dose", "< 1"),
        (1.0, "dose", "1 to < 2"),
        (1.99, "dose", "1 to < 2"),
        (2.0, "dose", "≥ 2"),
        (None, "dose", None),
        (5, "sledai", "0–5"),
        (6, "sledai", "6–9"),
        (9, "sledai", "6–9"),
        (10, "sledai", "10–14"),
        (14, "sledai", "10–14"),
        (15, "sledai", "≥ 15"),
    ],
)
def test_dose_and_sledai_bands_start_at_their_lower_bound(
    value: float | None, bands: str, label: str | None
) -> None:
    """[PROJECT] stratification bands (dataset.DOSE_BANDS, SLEDAI_BANDS; §14, §1 D4)."""
    from lupus_msc.analytics.dataset import DOSE_BANDS, SLEDAI_BANDS, _band

    chosen = DOSE_BANDS if bands == "dose" else SLEDAI_BANDS
    frame = pl.DataFrame({"x": [value]}, schema={"x": pl.Float64})
    assert frame.select(_band(pl.col("x"), chosen)).item() == label
