"""De-identification (issue 8) of the analysis dataset of a seeded registry, on SQLite and
PostgreSQL: nothing identifying leaves, intervals stay exact, keys are stable and made once."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace

import polars as pl
import pytest
from sqlalchemy import func, select

from lupus_msc.analytics.dataset import FRAMES, AnalysisDataset, build
from lupus_msc.analytics.registry_extract import read_registry
from lupus_msc.interop.deidentify import (
    OLDEST,
    DeidentifiedDataset,
    deidentify_dataset,
    deidentify_frame,
    keys_frame,
)
from lupus_msc.services.access import Actor
from lupus_msc.services.deidentification import (
    MAX_OFFSET_DAYS,
    PatientKey,
    keys_for,
    new_offset,
    new_pseudonym,
)
from lupus_msc.services.errors import NotFound
from lupus_msc.services.fields import today
from lupus_msc.store.database import Database
from lupus_msc.store.models import AuditEvent, DeidentificationKey, Patient, Role
from tests.registry_fixtures import database_url, loaded_cohort  # noqa: F401 - the backend fixture

PATIENTS = 10
SEED = 11
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module")
def loaded(database_url: str) -> Iterator[Database]:  # noqa: F811
    yield from loaded_cohort(database_url, PATIENTS, SEED)


@pytest.fixture(scope="module")
def dataset(loaded: Database) -> AnalysisDataset:
    with loaded.reads() as session:
        return build(read_registry(session), today())


@pytest.fixture(scope="module")
def counts_before_keys(loaded: Database) -> tuple[int, int]:
    return _key_rows(loaded), _key_audit_events(loaded)


@pytest.fixture(scope="module")
def keys(
    loaded: Database, dataset: AnalysisDataset, counts_before_keys: tuple[int, int]
) -> dict[str, PatientKey]:
    return keys_for(loaded, None, dataset.patients["patient_id"])


def _key_rows(database: Database) -> int:
    with database.reads() as session:
        return session.scalar(select(func.count()).select_from(DeidentificationKey)) or 0


def _key_audit_events(database: Database) -> int:
    query = select(func.count()).where(AuditEvent.entity == DeidentificationKey.__tablename__)
    with database.reads() as session:
        return session.scalar(query) or 0


def _csv(output: DeidentifiedDataset) -> str:
    return "\n".join(frame.write_csv() for frame in output.frames().values())


def _identifiers(database: Database) -> list[str]:
    """Every patient's names, record number, study code and date of birth (ISO text)."""
    found: list[str] = []
    with database.reads() as session:
        for patient in session.scalars(select(Patient)):
            found += [patient.given_name, patient.family_name, patient.medical_record_number]
            found += [patient.study_code, patient.date_of_birth.isoformat()]
    return found


def _source_dates(dataset: AnalysisDataset) -> set[str]:
    """Every date of the source frames (first infusion, last visit, death, visits, onsets)."""
    columns = [
        dataset.patients.select(pl.concat_list("first_infusion", "last_visit", "death_date")),
        dataset.visits.select(pl.concat_list("visit_date")),
        dataset.adverse_events.select(pl.concat_list("onset")),
    ]
    values = pl.concat([frame.to_series().explode() for frame in columns]).drop_nulls()
    return {day.isoformat() for day in values.to_list()}


def _far_keys(keys: dict[str, PatientKey], dataset: AnalysisDataset) -> dict[str, PatientKey]:
    """The stored pseudonyms with offsets longer than the cohort's whole span of dates."""
    span = (dataset.as_of - dataset.patients["first_infusion"].min()).days + 1  # type: ignore[operator]
    return {
        code: replace(
            key, offset_days=(span + abs(key.offset_days)) * (1 if key.offset_days > 0 else -1)
        )
        for code, key in keys.items()
    }


def test_the_first_export_creates_one_audited_key_per_patient(
    loaded: Database,
    dataset: AnalysisDataset,
    keys: dict[str, PatientKey],
    counts_before_keys: tuple[int, int],
) -> None:
    assert counts_before_keys == (0, 0)
    assert len(keys) == dataset.patients.height > 0
    assert _key_rows(loaded) == len(keys)
    assert _key_audit_events(loaded) == len(keys)


def test_a_second_export_creates_no_key_and_gets_the_same_ones(
    loaded: Database, dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    again = keys_for(loaded, None, dataset.patients["patient_id"])
    assert again == keys
    assert _key_rows(loaded) == len(keys)
    assert _key_audit_events(loaded) == len(keys)


def test_the_same_patient_gets_the_same_pseudonym_and_dates_in_two_runs(
    loaded: Database, dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    first = deidentify_dataset(dataset, keys)
    second = deidentify_dataset(dataset, keys_for(loaded, None, dataset.patients["patient_id"]))
    for name, frame in first.frames().items():
        assert frame.equals(second.frames()[name]), name


def test_keys_are_random_not_derived_from_the_study_code(keys: dict[str, PatientKey]) -> None:
    pseudonyms = [key.pseudonym for key in keys.values()]
    assert len(set(pseudonyms)) == len(pseudonyms)
    for code, key in keys.items():
        assert re.fullmatch(r"P-[A-Z2-7]{10}", key.pseudonym)
        assert code not in key.pseudonym
        assert key.offset_days != 0 and abs(key.offset_days) <= MAX_OFFSET_DAYS


def test_offsets_cover_both_directions_and_never_zero() -> None:
    drawn = {new_offset() for _ in range(20_000)}
    assert 0 not in drawn
    assert min(drawn) == -MAX_OFFSET_DAYS and max(drawn) == MAX_OFFSET_DAYS
    assert len(drawn) == 2 * MAX_OFFSET_DAYS
    assert re.fullmatch(r"P-[A-Z2-7]{10}", new_pseudonym())


@pytest.mark.parametrize("dates", ["shift", "days"])
def test_no_identifier_of_the_source_appears_in_the_export(
    loaded: Database, dataset: AnalysisDataset, keys: dict[str, PatientKey], dates: str
) -> None:
    text = _csv(deidentify_dataset(dataset, keys, dates=dates))  # type: ignore[arg-type]
    identifiers = _identifiers(loaded)
    assert len(identifiers) >= 5 * PATIENTS
    leaked = [value for value in identifiers if value in text]
    assert leaked == []
    source = "\n".join(getattr(dataset, name).write_csv() for name in FRAMES)
    assert all(code in source for code in keys)  # the search would have found them


def test_no_original_date_appears_once_dates_are_shifted(
    dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    """With the stored offsets (±180 days) one patient's shifted date may fall on another's real
    date by chance; offsets longer than the cohort's span make the search exact."""
    output = deidentify_dataset(dataset, _far_keys(keys, dataset), dates="shift")
    text = _csv(output)
    originals = _source_dates(dataset)
    assert len(originals) > PATIENTS
    assert [day for day in originals if day in text] == []


def test_with_the_stored_keys_every_row_moves_by_its_patients_offset(
    dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    output = deidentify_dataset(dataset, keys, dates="shift")
    pseudonym = {code: key.pseudonym for code, key in keys.items()}
    offset = {code: key.offset_days for code, key in keys.items()}
    for name, column in (("visits", "visit_date"), ("adverse_events", "onset")):
        source = (
            getattr(dataset, name)
            .with_columns(
                pl.col("patient_id").replace_strict(offset, return_dtype=pl.Int64).alias("offset"),
                pl.col("patient_id").replace_strict(pseudonym),
            )
            .sort("patient_id", maintain_order=True)
        )
        shifted = output.frames()[name]
        assert shifted["patient_id"].equals(source["patient_id"])
        moved = (shifted[column] - source[column]).dt.total_days()
        assert moved.equals(source["offset"], check_names=False)
        assert (moved != 0).all()


def test_with_days_no_calendar_date_is_left(
    dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    output = deidentify_dataset(dataset, keys, dates="days")
    for frame in output.frames().values():
        assert pl.Date not in frame.dtypes
    assert ISO_DATE.search(_csv(output)) is None
    assert "last_visit_day" in output.patients.columns and "death_day" in output.patients.columns


def _intervals(patients: pl.DataFrame, visits: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Per patient, days from the first infusion to each visit, event, last visit and death."""
    first = patients.select("patient_id", "first_infusion")
    parts = [
        visits.join(first, on="patient_id").select(
            "patient_id", pl.col("visit_date").alias("d"), "first_infusion"
        ),
        events.join(first, on="patient_id").select(
            "patient_id", pl.col("onset").alias("d"), "first_infusion"
        ),
        patients.select("patient_id", pl.col("last_visit").alias("d"), "first_infusion"),
        patients.select("patient_id", pl.col("death_date").alias("d"), "first_infusion"),
    ]
    return (
        pl.concat(parts)
        .drop_nulls("d")
        .select(
            "patient_id", (pl.col("d") - pl.col("first_infusion")).dt.total_days().alias("days")
        )
        .sort("patient_id", "days")
    )


def test_intervals_between_a_patients_dates_are_unchanged(
    dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    output = deidentify_dataset(dataset, keys, dates="shift")
    before = (
        _intervals(dataset.patients, dataset.visits, dataset.adverse_events)
        .with_columns(
            pl.col("patient_id").replace_strict({c: k.pseudonym for c, k in keys.items()})
        )
        .sort("patient_id", "days")
    )
    after = _intervals(output.patients, output.visits, output.adverse_events)
    assert before.height > PATIENTS
    assert after.equals(before)
    assert output.visits["day"].equals(
        output.visits.join(
            output.patients.select("patient_id", "first_infusion"),
            on="patient_id",
            maintain_order="left",
        )
        .select((pl.col("visit_date") - pl.col("first_infusion")).dt.total_days())
        .to_series()
        .rename("day")
    )


def test_day_numbers_match_the_intervals_of_the_source(
    dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    output = deidentify_dataset(dataset, keys, dates="days")
    pseudonym = {code: key.pseudonym for code, key in keys.items()}
    source = dataset.patients.select(
        pl.col("patient_id").replace_strict(pseudonym),
        (pl.col("last_visit") - pl.col("first_infusion")).dt.total_days().alias("last_visit_day"),
        (pl.col("death_date") - pl.col("first_infusion")).dt.total_days().alias("death_day"),
    ).sort("patient_id")
    assert output.patients.select(source.columns).equals(source)
    assert sorted(output.visits["day"].to_list()) == sorted(dataset.visits["day"].to_list())


@pytest.mark.parametrize(
    ("age", "label"),
    [(45, "45"), (88, "88"), (89, "89"), (90, OLDEST), (91, OLDEST), (104, OLDEST)],
)
def test_ages_over_89_become_90_or_older(
    dataset: AnalysisDataset, keys: dict[str, PatientKey], age: int, label: str
) -> None:
    aged = replace(
        dataset, patients=dataset.patients.with_columns(pl.lit(age, pl.Int64).alias("age_years"))
    )
    output = deidentify_dataset(aged, keys)
    assert output.patients["age_years"].unique().to_list() == [label]


def test_the_cut_off_keeps_only_its_year(
    dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    output = deidentify_dataset(dataset, keys)
    assert output.as_of_year == dataset.as_of.year
    assert not any(isinstance(value, dt.date) for value in vars(output).values())


def test_a_patient_without_a_key_is_refused(
    dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    partial = dict(list(keys.items())[1:])
    with pytest.raises(ValueError, match="without a de-identification key"):
        deidentify_frame(dataset.patients, keys_frame(partial), dates="shift", date_columns={})


def test_a_direct_identifier_column_given_is_dropped(keys: dict[str, PatientKey]) -> None:
    code, key = next(iter(keys.items()))
    frame = pl.DataFrame(
        {"patient_id": [code], "given_name": ["Ada"], "medical_record_number": ["MRN-1"], "x": [1]}
    )
    output = deidentify_frame(frame, keys_frame(keys), dates="shift", date_columns={})
    assert output.to_dicts() == [{"patient_id": key.pseudonym, "x": 1}]


def test_an_outsider_gets_no_key_and_creates_none(
    loaded: Database, dataset: AnalysisDataset, keys: dict[str, PatientKey]
) -> None:
    outsider = Actor(uuid.uuid4(), "stat@example.org", "Stat", Role.STATISTICIAN, frozenset(), ())
    rows = _key_rows(loaded)
    with pytest.raises(NotFound):
        keys_for(loaded, outsider, dataset.patients["patient_id"])
    assert _key_rows(loaded) == rows
