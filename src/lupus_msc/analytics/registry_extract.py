"""Read what the analyses need from the registry, as polars frames (one query per table).

Only recorded items and the engine's stored per-visit results are read; nothing is scored here.
JSON documents are read as text and decoded by polars into just the fields the analyses use,
so that a registry of hundreds of thousands of patients is read in seconds rather than minutes
(decoding every document into Python dictionaries would dominate the whole report).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import JSON, Select, String, cast, column, func, select, true
from sqlalchemy.orm import Session

from lupus_msc.clinical import facit_f, sledai2k
from lupus_msc.store.models import (
    AdverseEvent,
    Harvest,
    Infusion,
    InfusionLot,
    Lot,
    Medication,
    Patient,
    Screening,
    Site,
    Visit,
)

SLEDAI_LAB_FIELDS = (
    "urine_rbc_hpf",
    "urine_wbc_hpf",
    "proteinuria_g_24h",
    "upcr_g_g",
    "platelets_10e9_l",
    "wbc_10e9_l",
    "c3_g_l",
    "c3_lln_g_l",
    "c4_g_l",
    "c4_lln_g_l",
    "anti_dsdna_iu_ml",
    "anti_dsdna_uln_iu_ml",
    "temperature_c",
)
"""The §16.1 ``labs`` fields a visit's SLEDAI-2K was scored with (``labs_used``)."""

FINDINGS_PARTS: dict[str, pl.DataType] = {
    "sledai2k": pl.Struct(
        {**{d.key: pl.Boolean for d in sledai2k.DESCRIPTORS}, "attribution_confirmed": pl.Boolean}
    ),
    "sledai2k_overrides": pl.Struct(
        {d.key: pl.Struct({"present": pl.Boolean}) for d in sledai2k.DESCRIPTORS}
    ),
    "pga": pl.Float64(),
    "vitals": pl.Struct({"weight_kg": pl.String, "temperature_c": pl.String}),
    "cardiac": pl.Struct({"lvef_pct": pl.String, "nt_probnp_pg_ml": pl.String}),
    "facit_f": pl.Struct({item: pl.Int64 for item in facit_f.ITEMS}),
}
"""The parts of a visit's ``findings`` the analyses read, with the fields kept of each."""
SCORES_PARTS: dict[tuple[str, ...], pl.DataType] = {
    ("sledai2k", "labs_used"): pl.Struct({field: pl.String for field in SLEDAI_LAB_FIELDS}),
    ("egfr",): pl.Struct({"egfr_cr": pl.Float64, "egfr_cr_cys": pl.Float64}),
}
"""The stored per-visit results read: the SLEDAI-2K lab inputs and the CKD-EPI 2021 eGFR."""

HORIZON_DAYS = 850
"""The analysis window, in days from the first infusion: visits are read up to study day 850.
The cohort analyses end at month 24 (day 720 ± its window; the Kaplan–Meier horizon is day 730),
and a further ~4 months are read so that a patient still followed after month 24 is seen to be
(their next visit lies in the window), and is censored at the horizon rather than at the month-24
visit. Later visits are not read, so a registry followed for years is analysed in the same time
as one followed for two; adverse events are counted in the same window (``dataset.build``), so
events and patient-years cover the same time."""


@dataclass(frozen=True)
class RegistryTables:
    """The registry's rows the analysis dataset is built from (see ``analytics.dataset``)."""

    patients: pl.DataFrame
    screenings: pl.DataFrame
    infusions: pl.DataFrame
    visits: pl.DataFrame
    medications: pl.DataFrame
    adverse_events: pl.DataFrame


def _frame(session: Session, query: Any, schema: dict[str, Any]) -> pl.DataFrame:
    rows = session.execute(query).all()
    return pl.DataFrame(rows, schema=schema, orient="row")


def _id(column: Any) -> Any:
    """A UUID key read as text (the same text for every row of one database), for joins."""
    return cast(column, String)


def _as_text(column: Any) -> Any:
    """A JSON column read as its text, for polars to decode (PostgreSQL json → text too)."""
    return cast(column, String)


def _decode(texts: pl.Series, dtype: pl.DataType) -> pl.Series:
    return texts.str.json_decode(dtype)


Sites = Sequence[str] | None
"""Site codes to read (None: every site)."""
Among = Select[Any] | Collection[uuid.UUID] | None
"""The patients to read, by id, as a list or a SELECT (None: every patient): an export reads
the registry in batches of patients this way, so that only a batch is in memory at once."""


def _of_sites(query: Any, patient_id: Any, site_codes: Sites, among: Among = None) -> Any:
    """``query`` limited to rows of patients of ``site_codes`` and ``among`` (each unchanged
    when None)."""
    if among is not None:
        query = query.where(patient_id.in_(among))
    if site_codes is None:
        return query
    patients_there = (
        select(Patient.id)
        .join(Site, Site.id == Patient.site_id)
        .where(Site.code.in_(list(site_codes)))
    )
    return query.where(patient_id.in_(patients_there))


def read_patients(session: Session, site_codes: Sites, among: Among = None) -> pl.DataFrame:
    query = select(
        _id(Patient.id),
        Patient.study_code,
        Site.code,
        Patient.sex,
        Patient.date_of_birth,
        Patient.diagnosis_date,
        Patient.state,
    ).join(Site, Site.id == Patient.site_id)
    if site_codes is not None:
        query = query.where(Site.code.in_(list(site_codes)))
    if among is not None:
        query = query.where(Patient.id.in_(among))
    frame = _frame(
        session,
        query,
        {
            "pid": pl.String,
            "patient_id": pl.String,
            "site": pl.String,
            "sex": pl.String,
            "date_of_birth": pl.Date,
            "diagnosis_date": pl.Date,
            "state": pl.String,
        },
    )
    return frame


def read_screenings(
    session: Session, site_codes: Sites = None, among: Among = None
) -> pl.DataFrame:
    """Each patient's screenings in date order: the last one tells the organ involvement."""
    query = _of_sites(
        select(_id(Screening.patient_id), Screening.screened_on, _as_text(Screening.data)),
        Screening.patient_id,
        site_codes,
        among,
    )
    frame = _frame(session, query, {"pid": pl.String, "screened_on": pl.Date, "data": pl.String})
    involvement = _decode(
        frame["data"], pl.Struct({"organ_involvement": pl.List(pl.String)})
    ).struct.field("organ_involvement")
    return (
        frame.with_columns(renal=involvement.list.contains("kidneys").fill_null(False))
        .sort("pid", "screened_on")
        .group_by("pid", maintain_order=True)
        .agg(pl.col("renal").last())
    )


def read_infusions(session: Session, site_codes: Sites = None, among: Among = None) -> pl.DataFrame:
    """Infusions with the tissue source of the lots given (one row per infusion and lot)."""
    query = (
        select(
            _id(Infusion.patient_id),
            Infusion.number,
            Infusion.started_at,
            Infusion.actual_dose_per_kg,
            Harvest.tissue_source,
        )
        .outerjoin(InfusionLot, InfusionLot.infusion_id == Infusion.id)
        .outerjoin(Lot, Lot.id == InfusionLot.lot_id)
        .outerjoin(Harvest, Harvest.id == Lot.harvest_id)
    )
    query = _of_sites(query, Infusion.patient_id, site_codes, among)
    frame = _frame(
        session,
        query,
        {
            "pid": pl.String,
            "number": pl.Int64,
            "started_at": pl.Datetime("us", "UTC"),
            "dose_per_kg": pl.Float64,
            "tissue_source": pl.String,
        },
    )
    return frame


def _part(document: Any, path: tuple[str, ...]) -> Any:
    """One sub-document of a JSON column, as text (only it crosses to Python, not the whole)."""
    element = document
    for key in path:
        element = element[key]
    return _as_text(element)


class _Columns:
    """A table-valued function's columns read by name, as ``_part`` reads a document's keys."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def __getitem__(self, key: str) -> Any:
        return self.function.c[key]


def _documents(session: Session) -> tuple[Any, Any, Any]:
    """A visit's ``findings`` and ``scores``, whose parts ``read_visits`` selects.

    PostgreSQL keeps ``json`` as text and parses it again for every ``->``, so eight parts
    cost eight parses of each document: there the top-level parts are split out once per
    document by ``json_to_record`` (PostgreSQL 15 manual, §9.16.1), which gives the same text
    for each part as ``->`` (both documents are JSON objects: the model maps them to dicts).
    """
    if session.get_bind().dialect.name != "postgresql":
        return Visit.findings, Visit.scores, Visit.__table__

    def record(document: Any, name: str, parts: list[str]) -> Any:
        function = func.json_to_record(document).table_valued(*[column(p, JSON) for p in parts])
        return function.render_derived(name=name, with_types=True)

    findings = record(Visit.findings, "f", list(FINDINGS_PARTS))
    scores = record(Visit.scores, "s", list(dict.fromkeys(path[0] for path in SCORES_PARTS)))
    # A function in FROM may refer to the tables before it (PostgreSQL's implicit LATERAL).
    visits = Visit.__table__.join(findings, true()).join(scores, true())
    return _Columns(findings), _Columns(scores), visits


def read_visits(
    session: Session,
    horizon_days: int = HORIZON_DAYS,
    site_codes: Sites = None,
    among: Among = None,
) -> pl.DataFrame:
    """Recorded visits up to ``horizon_days`` with the findings and stored results analysed.

    ``findings`` and ``scores`` come back as structs holding only the parts read.
    """
    finding_names = list(FINDINGS_PARTS)
    score_names = ["_".join(path) for path in SCORES_PARTS]
    findings, scores, visits = _documents(session)
    query = (
        select(
            _id(Visit.patient_id),
            Visit.code,
            Visit.study_day,
            Visit.visit_date,
            *[_part(findings, (name,)) for name in finding_names],
            *[_part(scores, path) for path in SCORES_PARTS],
        )
        .select_from(visits)
        .where(Visit.visit_date.is_not(None), Visit.study_day <= horizon_days)
    )
    query = _of_sites(query, Visit.patient_id, site_codes, among)
    schema: dict[str, Any] = {
        "pid": pl.String,
        "visit_code": pl.String,
        "study_day": pl.Int64,
        "visit_date": pl.Date,
        **{f"f_{name}": pl.String for name in finding_names},
        **{f"s_{name}": pl.String for name in score_names},
    }
    frame = _frame(session, query, schema)
    decoded = frame.with_columns(
        *[_decode(frame[f"f_{name}"], dtype).alias(name) for name, dtype in FINDINGS_PARTS.items()],
        *[
            _decode(frame[f"s_{name}"], dtype).alias(name)
            for name, dtype in zip(score_names, SCORES_PARTS.values(), strict=True)
        ],
    )
    return decoded.select(
        "pid",
        "visit_code",
        "study_day",
        "visit_date",
        pl.struct(finding_names).alias("findings"),
        pl.struct(
            pl.struct(pl.col("sledai2k_labs_used").alias("labs_used")).alias("sledai2k"),
            pl.col("egfr"),
        ).alias("scores"),
    )


def read_medications(
    session: Session, site_codes: Sites = None, among: Among = None
) -> pl.DataFrame:
    query = select(
        _id(Medication.patient_id),
        Medication.drug,
        Medication.dose,
        Medication.frequency,
        Medication.route,
        Medication.started_on,
        Medication.stopped_on,
        Medication.prednisone_mg_day,
    )
    query = _of_sites(query, Medication.patient_id, site_codes, among)
    frame = _frame(
        session,
        query,
        {
            "pid": pl.String,
            "drug": pl.String,
            "dose": pl.String,
            "frequency": pl.String,
            "route": pl.String,
            "started_on": pl.Date,
            "stopped_on": pl.Date,
            "prednisone_mg_day": pl.String,
        },
    )
    return frame


def read_adverse_events(
    session: Session, site_codes: Sites = None, among: Among = None
) -> pl.DataFrame:
    query = select(
        _id(AdverseEvent.patient_id),
        AdverseEvent.term,
        AdverseEvent.ctcae_term,
        AdverseEvent.grade,
        _as_text(AdverseEvent.serious_criteria),
        AdverseEvent.relatedness,
        AdverseEvent.infusion_id.is_not(None),
        AdverseEvent.onset_on,
        AdverseEvent.outcome,
    )
    query = _of_sites(query, AdverseEvent.patient_id, site_codes, among)
    frame = _frame(
        session,
        query,
        {
            "pid": pl.String,
            "term": pl.String,
            "ctcae_term": pl.String,
            "grade": pl.Int64,
            "serious_criteria": pl.String,
            "relatedness": pl.String,
            "infusion_reaction": pl.Boolean,
            "onset": pl.Date,
            "outcome": pl.String,
        },
    )
    criteria = _decode(frame["serious_criteria"], pl.List(pl.String))
    return frame.with_columns(
        serious=criteria.list.len().fill_null(0) > 0,
    ).drop("serious_criteria")


def read_registry(
    session: Session,
    site_codes: Sites = None,
    horizon_days: int = HORIZON_DAYS,
    among: Among = None,
) -> RegistryTables:
    """Everything the analysis dataset needs of the patients of ``site_codes`` (every site when
    None) and ``among`` (every patient when None), read in one read-only session; other
    patients' rows are not read at all."""
    return RegistryTables(
        patients=read_patients(session, site_codes, among),
        screenings=read_screenings(session, site_codes, among),
        infusions=read_infusions(session, site_codes, among),
        visits=read_visits(session, horizon_days, site_codes, among),
        medications=read_medications(session, site_codes, among),
        adverse_events=read_adverse_events(session, site_codes, among),
    )


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
