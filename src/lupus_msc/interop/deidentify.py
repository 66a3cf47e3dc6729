"""De-identification by the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)), for every export.

The secret that makes it stable lives in the database, one row per patient
(``services.deidentification``, table ``deidentification_keys``): a random pseudonym and a
random date offset of ±1…180 days, created the first time a patient is exported and never
changed. Neither is derived from the patient's data, so both are a permitted re-identification
code (164.514(c)); they never appear in an export. The functions here are pure: frames and keys
in, frames out.

Dates (``dates=``):

* ``"shift"`` — every date of a patient moves by the patient's offset, so every interval between
  two of the patient's dates (days to a visit, to an event, to death, follow-up) stays exact;
  the real dates cannot be read back without the offset, and years may differ from the real
  ones. Different patients move by different amounts, so calendar time across patients is
  blurred (a seasonal or calendar-period analysis needs ``"days"`` and the cut-off year).
* ``"days"`` — no calendar date is left at all: every date becomes its day number from the
  patient's first infusion (day 0), the literal form of Safe Harbor (C).

The Safe Harbor identifiers (164.514(b)(2)(i)), item by item, for the analysis dataset
(``analytics.dataset``: patients, visits, adverse events) and for the registry it comes from:

(A) Names — patients' given and family names are never in the dataset, and any name column
    (``DIRECT_IDENTIFIERS``) is dropped from a frame given here; staff names (signers,
    reporters) are not in the dataset either.
(B) Geographic subdivisions smaller than a state — the registry keeps no address. The ``site``
    code stays: it names the treating clinic, not where the patient lives, and multi-site
    analyses stratify by it (164.514(b)(2)(i)(B) is about the individual's address). A site
    with very few patients is a quasi-identifier: an export policy may merge small sites.
(C) Dates directly related to an individual, and ages over 89 — the date of birth and the
    diagnosis date are never in the dataset (age and disease duration are intervals); the first
    infusion, visit, adverse-event onset and death dates are shifted or made day numbers
    (above); ``age_years`` becomes text, and ages of 90 and above are the one category
    ``"90 or older"``. The data cut-off (``as_of``) keeps only its year: a patient followed up
    to the cut-off would otherwise give away their offset.
(D)–(F) Telephone and fax numbers, e-mail addresses — the registry keeps none for patients;
    such columns are dropped if present.
(G) Social security numbers — not kept.
(H) Medical record numbers — not in the dataset; dropped if present.
(I)–(K) Health plan, account, certificate and licence numbers — not kept.
(L)–(M) Vehicle and device identifiers — not kept. Product lot codes (chain of identity) are
    unique codes linked to a patient: they are not in the dataset, and an export of products
    must pseudonymise or drop them (item R).
(N)–(O) URLs, IP addresses — not kept for patients.
(P)–(Q) Biometric identifiers, photographs — not kept.
(R) Any other unique identifying code — the study code (``patient_id``, site-prefixed) is
    replaced by the pseudonym; the internal UUIDs are not in the dataset.

Free text: the adverse-event ``term`` is the reported term, kept because the safety analyses
count by it; it is a clinical term by design, but as free text it is the one place a careless
entry could carry a name (Safe Harbor (b)(2)(ii), actual knowledge): scrubbing free text is
left to the export layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from lupus_msc.analytics.dataset import FRAMES, AnalysisDataset, write_frames
from lupus_msc.analytics.visit_table import Notes
from lupus_msc.interop.sdtm_deidentify import OLDEST_AGE
from lupus_msc.services.deidentification import PatientKey

Dates = Literal["shift", "days"]

OLDEST = "90 or older"
"""The one category of ages above ``OLDEST_AGE`` (164.514(b)(2)(i)(C))."""

DIRECT_IDENTIFIERS = frozenset(
    {
        "given_name",
        "family_name",
        "name",
        "full_name",
        "signer_name",
        "medical_record_number",
        "date_of_birth",
        "diagnosis_date",
        "email",
        "phone",
        "fax",
        "address",
        "postcode",
        "zip",
    }
)
"""Columns dropped from any frame given here (the dataset has none of them today)."""

DATE_COLUMNS: dict[str, dict[str, str | None]] = {
    "patients": {"first_infusion": None, "last_visit": "last_visit_day", "death_date": "death_day"},
    "visits": {"visit_date": "day"},
    "adverse_events": {"onset": "day"},
}
"""Per frame, each date column and the day-number column that takes its place with
``dates="days"`` (None: dropped, ``first_infusion`` is day 0 by definition)."""

ORIGIN = "_first_infusion"
KEY_COLUMNS = ("patient_id", "_pseudonym", "_offset")


@dataclass(frozen=True)
class DeidentifiedDataset:
    """The analysis dataset de-identified: frames as ``AnalysisDataset``'s except that
    ``patient_id`` holds pseudonyms, ``age_years`` is text, and dates follow ``dates``."""

    patients: pl.DataFrame
    visits: pl.DataFrame
    adverse_events: pl.DataFrame
    dates: Dates
    as_of_year: int
    """The year of the data cut-off (the day would give away offsets)."""
    notes: Notes

    def frames(self) -> dict[str, pl.DataFrame]:
        return {name: getattr(self, name) for name in FRAMES}

    def write(self, directory: Path, kind: Literal["csv", "parquet"]) -> list[Path]:
        """The three frames as ``patients``, ``visits`` and ``adverse_events`` files."""
        return write_frames(self.frames(), directory, kind)


def keys_frame(keys: Mapping[str, PatientKey]) -> pl.DataFrame:
    """The keys as a frame to join on ``patient_id`` (the study code)."""
    return pl.DataFrame(
        {
            "patient_id": [key.study_code for key in keys.values()],
            "_pseudonym": [key.pseudonym for key in keys.values()],
            "_offset": [key.offset_days for key in keys.values()],
        },
        schema={"patient_id": pl.String, "_pseudonym": pl.String, "_offset": pl.Int64},
    )


def age_group(age: pl.Expr) -> pl.Expr:
    """Whole years as text, ages above 89 as ``"90 or older"`` (164.514(b)(2)(i)(C))."""
    return pl.when(age > OLDEST_AGE).then(pl.lit(OLDEST)).otherwise(age.cast(pl.String))


def _dates(dates: Dates, columns: Mapping[str, str | None], present: list[str]) -> list[pl.Expr]:
    exprs = []
    for column, day_column in columns.items():
        if column not in present:
            continue
        if dates == "shift":
            exprs.append(pl.col(column) + pl.duration(days=pl.col("_offset")))
        elif day_column is not None:
            days = (pl.col(column) - pl.col(ORIGIN)).dt.total_days().cast(pl.Int64)
            exprs.append(days.alias(day_column))
    return exprs


def deidentify_frame(
    frame: pl.DataFrame,
    keys: pl.DataFrame,
    *,
    dates: Dates,
    date_columns: Mapping[str, str | None],
    origins: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One frame keyed by ``patient_id`` (study code), de-identified (module doc).

    ``keys`` is ``keys_frame``; ``origins`` (``patient_id``, ``_first_infusion``) is needed for
    ``dates="days"``. A patient without a key is refused: nothing leaves unpseudonymised.
    """
    unkeyed = frame.join(keys, on="patient_id", how="anti")
    if unkeyed.height:
        raise ValueError(f"{unkeyed.height} row(s) of patients without a de-identification key")
    present = list(frame.columns)
    joined = frame.join(keys, on="patient_id", how="left", maintain_order="left")
    if dates == "days":
        if origins is None:
            raise ValueError('dates="days" needs each patient\'s first infusion (origins)')
        joined = joined.join(origins, on="patient_id", how="left", maintain_order="left")
    result = joined.with_columns(
        pl.col("_pseudonym").alias("patient_id"), *_dates(dates, date_columns, present)
    )
    return result.select(_kept(present, dates, date_columns)).sort(
        "patient_id", maintain_order=True
    )


def _kept(present: list[str], dates: Dates, date_columns: Mapping[str, str | None]) -> list[str]:
    """The output columns in the input's order: identifiers dropped, and with ``"days"`` each
    date replaced by its day number (or dropped when the frame already has that column)."""
    kept = []
    for name in present:
        if name in DIRECT_IDENTIFIERS:
            continue
        if dates == "days" and name in date_columns:
            day_column = date_columns[name]
            if day_column is not None and day_column not in present:
                kept.append(day_column)
            continue
        kept.append(name)
    return kept


def deidentify_dataset(
    dataset: AnalysisDataset, keys: Mapping[str, PatientKey], *, dates: Dates = "shift"
) -> DeidentifiedDataset:
    """The analysis dataset with pseudonyms, ages over 89 aggregated and dates shifted by each
    patient's offset or turned into day numbers from the first infusion (module doc)."""
    key_frame = keys_frame(keys)
    origins = dataset.patients.select("patient_id", pl.col("first_infusion").alias(ORIGIN))
    frames = {}
    for name in FRAMES:
        source: pl.DataFrame = getattr(dataset, name)
        if name == "patients":
            source = source.with_columns(age_group(pl.col("age_years")).alias("age_years"))
        frames[name] = deidentify_frame(
            source, key_frame, dates=dates, date_columns=DATE_COLUMNS[name], origins=origins
        )
    return DeidentifiedDataset(
        patients=frames["patients"],
        visits=frames["visits"],
        adverse_events=frames["adverse_events"],
        dates=dates,
        as_of_year=dataset.as_of.year,
        notes=dataset.notes,
    )
