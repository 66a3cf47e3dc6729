"""The registry's recorded visits as the batch engine's visit table (``clinical.batch.schema``).

Each column is the recorded item the single-record scorer was given when the visit was saved
(``services.visit_scores``), so the batch engine reproduces the stored per-visit results and adds
the longitudinal ones:

* SLEDAI-2K descriptors as recorded, a clinician's override replacing the descriptor (§1, §0.5),
  and the lab values the visit's SLEDAI-2K was scored with (``labs_used``: canonical units,
  with the lab's own LLN/ULN for complement and anti-dsDNA, §16.1);
* PGA (§3), FACIT-F answers (§13), weight and age on the visit date, sex (§9);
* systemic glucocorticoids taken on the visit date (§11: oral or intravenous §11 drugs, with their
  regimen), in the engine's two slots; a visit with more than two at once is left without a dose
  (its prednisone-dependent outcomes become not assessable) and counted in ``Notes``;
* the baseline is the protocol's day-0 visit (study day 0, the first infusion).

eGFR is not recomputed: the stored CKD-EPI 2021 result (§9), computed from the creatinine in the
unit the lab reported, is given to the renal-response stage as the eGFR columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lupus_msc.analytics.registry_extract import SLEDAI_LAB_FIELDS as _LAB_COLUMNS
from lupus_msc.clinical import facit_f, sledai2k
from lupus_msc.clinical.batch.schema import BY_NAME, GLUCOCORTICOID_SLOTS
from lupus_msc.services.visit_prednisone import REGIMENS

STORED_EGFR = ("stored_egfr_cr", "stored_egfr_cr_cys")
"""Columns carrying the stored eGFR results into the scoring run (not batch schema columns)."""
TOO_MANY_GLUCOCORTICOIDS = "too_many_glucocorticoids"

_CARDIAC = pl.col("findings").struct.field("cardiac")
SIDE_COLUMNS = (
    pl.col("pid"),
    pl.col("visit_code"),
    pl.col("study_day"),
    _CARDIAC.struct.field("lvef_pct").cast(pl.Float64).alias("lvef"),
    _CARDIAC.struct.field("nt_probnp_pg_ml").cast(pl.Float64).alias("nt_probnp"),
)
"""Columns the analyses read beside the batch inputs (kept, not scored)."""


@dataclass(frozen=True)
class Notes:
    """What the conversion had to leave out, for the report's data notes."""

    visits_with_too_many_glucocorticoids: int
    values_rounded: int


def _descriptor(key: str) -> pl.Expr:
    override = pl.col("findings").struct.field("sledai2k_overrides").struct.field(key)
    recorded = pl.col("findings").struct.field("sledai2k").struct.field(key)
    return pl.coalesce(override.struct.field("present"), recorded).alias(key)


def _decimal(value: pl.Expr, name: str) -> pl.Expr:
    """A recorded decimal as the batch column keeps it (at the column's scale)."""
    return value.cast(pl.Float64).round(BY_NAME[name].scale).alias(name)


def age_on(day: pl.Expr, born: pl.Expr) -> pl.Expr:
    """Age in whole years on ``day`` (a birthday counts from the day itself)."""

    def month_day(value: pl.Expr) -> pl.Expr:
        return value.dt.month().cast(pl.Int32) * 100 + value.dt.day()

    before_birthday = (month_day(day) < month_day(born)).cast(pl.Int32)
    return (day.dt.year() - born.dt.year() - before_birthday).cast(pl.Int64)


def _over_scale(value: pl.Expr, name: str) -> pl.Expr:
    scaled: pl.Expr = value.cast(pl.Float64) * 10 ** BY_NAME[name].scale
    return (scaled - scaled.round(0)).abs() > 1e-6


def _glucocorticoid_slots(visits: pl.DataFrame, medications: pl.DataFrame) -> pl.DataFrame:
    """Per visit (``_visit``), the systemic glucocorticoids taken that day, in slots 1 and 2."""
    regimen = pl.DataFrame(
        {
            "frequency": list(REGIMENS),
            "doses_per_day": [pair[0] for pair in REGIMENS.values()],
            "every_days": [pair[1] for pair in REGIMENS.values()],
        }
    )
    counted = medications.filter(pl.col("prednisone_mg_day").is_not_null()).join(
        regimen, on="frequency", how="left"
    )
    taken = (
        visits.select("_visit", "pid", "visit_date")
        .join(counted, on="pid", how="inner")
        .filter(
            (pl.col("started_on") <= pl.col("visit_date"))
            & (pl.col("stopped_on").is_null() | (pl.col("stopped_on") >= pl.col("visit_date")))
        )
        .sort("_visit", "started_on", "drug")
        .with_columns(slot=pl.int_range(pl.len()).over("_visit") + 1)
    )
    columns = []
    for slot in range(1, GLUCOCORTICOID_SLOTS + 1):
        prefix = f"glucocorticoid_{slot}"
        columns += [
            pl.col("drug").str.strip_chars().str.to_lowercase().alias(f"{prefix}_drug"),
            pl.col("dose").cast(pl.Float64).alias(f"{prefix}_dose_mg"),
            pl.col("doses_per_day").alias(f"{prefix}_doses_per_day"),
            pl.col("every_days").alias(f"{prefix}_every_days"),
        ]
    slots = [
        taken.filter(pl.col("slot") == slot).select("_visit", *columns[4 * (slot - 1) : 4 * slot])
        for slot in range(1, GLUCOCORTICOID_SLOTS + 1)
    ]
    too_many = taken.group_by("_visit").agg(
        (pl.col("slot").max() > GLUCOCORTICOID_SLOTS).alias("_too_many")
    )
    out = visits.select("_visit").join(too_many, on="_visit", how="left")
    for slot_frame in slots:
        out = out.join(slot_frame, on="_visit", how="left")
    return out.with_columns(pl.col("_too_many").fill_null(False))


def visit_table(
    visits: pl.DataFrame, patients: pl.DataFrame, medications: pl.DataFrame
) -> tuple[pl.DataFrame, Notes]:
    """The batch visit table of the patients' recorded visits (module doc), and its notes.

    ``visits`` and ``medications`` are ``registry_extract`` frames; ``patients`` has ``pid``,
    ``patient_id`` (study code), ``sex`` and ``date_of_birth``.
    """
    base = visits.join(
        patients.select("pid", "patient_id", "sex", "date_of_birth"), on="pid", how="inner"
    ).with_row_index("_visit")
    findings = pl.col("findings")
    labs = pl.col("scores").struct.field("sledai2k").struct.field("labs_used")
    egfr = pl.col("scores").struct.field("egfr")
    age = age_on(pl.col("visit_date"), pl.col("date_of_birth"))
    lab_values = [labs.struct.field(name) for name in _LAB_COLUMNS]
    items = [
        pl.col("patient_id"),
        pl.col("visit_date"),
        pl.col("sex"),
        age.alias("age_years"),
        _decimal(findings.struct.field("vitals").struct.field("weight_kg"), "weight_kg"),
        (pl.col("study_day") == 0).alias("is_baseline"),
        *[_descriptor(d.key) for d in sledai2k.DESCRIPTORS],
        findings.struct.field("sledai2k").struct.field("attribution_confirmed"),
        *[_decimal(value, name) for value, name in zip(lab_values, _LAB_COLUMNS, strict=True)],
        _decimal(findings.struct.field("pga"), "pga"),
        *[
            findings.struct.field("facit_f").struct.field(item).alias(f"facit_{item}")
            for item in facit_f.ITEMS
        ],
        egfr.struct.field("egfr_cr").alias(STORED_EGFR[0]),
        egfr.struct.field("egfr_cr_cys").alias(STORED_EGFR[1]),
        pl.col("_visit"),
        *SIDE_COLUMNS,
    ]
    rounded = pl.sum_horizontal(
        [_over_scale(value, name) for value, name in zip(lab_values, _LAB_COLUMNS, strict=True)]
    )
    table = base.select(*items, rounded.alias("_rounded"))
    slots = _glucocorticoid_slots(base, medications)
    table = table.join(slots, on="_visit", how="left")
    too_many = int(table["_too_many"].sum())
    slot_columns = [c for c in slots.columns if c.startswith("glucocorticoid_")]
    table = table.with_columns(
        [pl.when(~pl.col("_too_many")).then(pl.col(c)).alias(c) for c in slot_columns]
    )  # the engine would read a visit without its doses as "no glucocorticoid"
    notes = Notes(
        visits_with_too_many_glucocorticoids=too_many,
        values_rounded=int(table["_rounded"].sum()),
    )
    table = table.rename({"_too_many": TOO_MANY_GLUCOCORTICOIDS})
    return table.drop("_rounded", "_visit").sort("patient_id", "visit_date"), notes
