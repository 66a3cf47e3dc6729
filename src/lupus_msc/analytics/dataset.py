"""The analysis dataset: one row per patient, per patient-visit and per adverse event.

``build`` scores the registry's recorded visits with the batch engine (``clinical.batch``) and
derives every outcome the cohort analyses count (the frames' columns are listed in
``PATIENT_COLUMNS``, ``VISIT_COLUMNS`` and ``EVENT_COLUMNS``). The cohort is every patient with
at least one infusion; time zero is the first infusion, and the baseline is the day-0 visit.
Visits and adverse events are those of the analysis window (``registry_extract.HORIZON_DAYS``
days from the first infusion) up to the data cut-off.

Outcomes per visit (null = not assessable at that visit; the reason is in the instrument):
SRI-4 and the modified SRI-4 without BILAG (§4), LLDAS (§5), DORIS 2021 remission (§6), renal
complete and partial-or-better response (§10, patients with kidney involvement at screening),
prednisone-equivalent ≤ 5 and ≤ 7.5 mg/day (§11; the DORIS and LLDAS dose limits), FACIT-F
improvement by at least its MCID of 4 points (§13), and any / severe SELENA flare against the
previous visit (§2).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from lupus_msc.analytics.proportions import TIMEPOINT_DAYS
from lupus_msc.analytics.registry_extract import HORIZON_DAYS, RegistryTables
from lupus_msc.analytics.visit_table import (
    STORED_EGFR,
    TOO_MANY_GLUCOCORTICOIDS,
    Notes,
    age_on,
    visit_table,
)
from lupus_msc.clinical.batch import engine
from lupus_msc.clinical.batch.frame import prepare
from lupus_msc.clinical.batch.schema import BY_NAME

IMMUNOSUPPRESSANTS = frozenset(
    {
        "mycophenolate mofetil",
        "mycophenolic acid",
        "azathioprine",
        "methotrexate",
        "cyclophosphamide",
        "tacrolimus",
        "ciclosporin",
        "cyclosporine",
        "voclosporin",
        "leflunomide",
        "sirolimus",
        "belimumab",
        "rituximab",
        "anifrolumab",
        "obinutuzumab",
    }
)
"""[PROJECT] Drugs counted as immunosuppressants (biologics included; antimalarials and
glucocorticoids are not), matched on the recorded drug name in lower case."""

SLEDAI_BANDS = ((0, "0–5"), (6, "6–9"), (10, "10–14"), (15, "≥ 15"))
"""[PROJECT] Baseline SLEDAI-2K bands for stratification (not part of the instrument, §1 D4)."""

DOSE_BANDS = ((0.0, "< 1"), (1.0, "1 to < 2"), (2.0, "≥ 2"))
"""[PROJECT] Bands of the first infusion's dose, ×10⁶ cells/kg (§14: published doses are
mostly 1 or 2 × 10⁶/kg)."""

RELATED = ("possible", "probable", "definite")

PATIENT_COLUMNS = (
    "patient_id", "site", "sex", "age_years", "disease_years", "renal", "tissue_source",
    "dose_per_kg_million", "dose_band", "infusions", "first_infusion", "last_visit",
    "baseline_sledai", "sledai_band", "died", "death_date",
)  # fmt: skip
VISIT_COLUMNS = (
    "patient_id", "visit_code", "visit_date", "day", "timepoint", "baseline", "sledai", "pga",
    "pred_mg_day", "upcr", "egfr", "c3", "c4", "anti_dsdna", "facit", "lvef", "nt_probnp",
    "immunosuppressants", "sri4", "msri4", "lldas", "doris", "renal_complete",
    "renal_partial_or_better", "pred_le_5", "pred_le_7_5", "facit_mcid", "flare", "severe_flare",
)  # fmt: skip
EVENT_COLUMNS = (
    "patient_id", "term", "ctcae_term", "grade", "serious", "relatedness", "related",
    "infusion_reaction", "onset", "day", "fatal",
)  # fmt: skip


@dataclass(frozen=True)
class AnalysisDataset:
    patients: pl.DataFrame
    visits: pl.DataFrame
    adverse_events: pl.DataFrame
    as_of: dt.date
    """The data cut-off: follow-up is counted up to this date."""
    notes: Notes

    def write(self, directory: Path, kind: Literal["csv", "parquet"]) -> list[Path]:
        """Write the three frames (``patients``, ``visits``, ``adverse_events``) and
        ``dataset.json`` (the cut-off and the conversion notes), so ``read`` can take it back."""
        written = write_frames({name: getattr(self, name) for name in FRAMES}, directory, kind)
        about = directory / "dataset.json"
        about.write_text(
            json.dumps({"as_of": self.as_of.isoformat(), "notes": asdict(self.notes)}, indent=2)
        )
        return [*written, about]

    @classmethod
    def read(cls, directory: Path) -> AnalysisDataset:
        """A dataset written as Parquet by ``write`` (refused, naming the file, if incomplete)."""
        about_path = directory / "dataset.json"
        try:
            about = json.loads(about_path.read_text())
            frames = {name: pl.read_parquet(directory / f"{name}.parquet") for name in FRAMES}
        except (OSError, ValueError, pl.exceptions.PolarsError) as error:
            raise ValueError(
                f"{directory}: not an analysis dataset written as Parquet ({error})"
            ) from error
        for name, columns in zip(
            FRAMES, (PATIENT_COLUMNS, VISIT_COLUMNS, EVENT_COLUMNS), strict=True
        ):
            if tuple(frames[name].columns) != columns:
                raise ValueError(f"{directory / name}.parquet: columns differ from the dataset's")
        return cls(
            patients=frames["patients"],
            visits=frames["visits"],
            adverse_events=frames["adverse_events"],
            as_of=dt.date.fromisoformat(about["as_of"]),
            notes=Notes(**about["notes"]),
        )


FRAMES = ("patients", "visits", "adverse_events")


def write_frames(
    frames: Mapping[str, pl.DataFrame], directory: Path, kind: Literal["csv", "parquet"]
) -> list[Path]:
    """Each frame as ``<name>.csv`` or ``<name>.parquet`` in ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in frames.items():
        path = directory / f"{name}.{kind}"
        if kind == "csv":
            frame.write_csv(path)
        else:
            frame.write_parquet(path)
        written.append(path)
    return written


def _band(
    value: pl.Expr, bands: tuple[tuple[float, str], ...] | tuple[tuple[int, str], ...]
) -> pl.Expr:
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for start, label in bands:
        expr = pl.when(value >= start).then(pl.lit(label)).otherwise(expr)
    return pl.when(value.is_not_null()).then(expr)


def _stored_egfr(frame: pl.DataFrame) -> pl.DataFrame:
    """Stage: the stored eGFR results as the batch eGFR columns the renal stage reads (§9)."""
    return frame.with_columns(
        pl.col(STORED_EGFR[0]).alias("egfr-ckdepi2021.egfr_cr"),
        pl.col(STORED_EGFR[1]).alias("egfr-ckdepi2021.egfr_cr_cys"),
    )


STAGES = tuple(
    engine.Stage("egfr-stored", _stored_egfr) if stage.name == "egfr-ckdepi2021" else stage
    for stage in engine.STAGES
)
"""The batch engine's stages, the stored eGFR taking the place of its recomputation."""


def score(table: pl.DataFrame, on_stage: Callable[[str], None] | None = None) -> pl.DataFrame:
    """The visit table (sorted by patient and date) with the engine's result columns."""
    inputs = [name for name in table.columns if name in BY_NAME]
    ordered = table.sort("patient_id", "visit_date")
    prepared = prepare(ordered.select(inputs)).with_columns(
        ordered.select(list(STORED_EGFR)).get_columns()
    )
    scored = engine.score_prepared(prepared, stages=STAGES, on_stage=on_stage)
    return ordered.hstack(scored.select(engine.result_columns(scored)))


def _infusions(tables: RegistryTables) -> pl.DataFrame:
    infusions = tables.infusions.with_columns(pl.col("started_at").dt.date().alias("day"))
    first = infusions.filter(pl.col("number") == pl.col("number").min().over("pid"))
    sources = infusions.group_by("pid").agg(
        pl.col("number").n_unique().alias("infusions"),
        pl.col("day").min().alias("first_infusion"),
        pl.col("tissue_source").drop_nulls().unique().alias("_sources"),
    )
    dose = first.group_by("pid").agg(
        (pl.col("dose_per_kg").first() / 1e6).alias("dose_per_kg_million")
    )
    return (
        sources.join(dose, on="pid", how="left")
        .with_columns(
            pl.when(pl.col("_sources").list.len() == 1)
            .then(pl.col("_sources").list.first())
            .when(pl.col("_sources").list.len() > 1)
            .then(pl.lit("mixed"))
            .alias("tissue_source")
        )
        .drop("_sources")
    )


def _immunosuppressants(visits: pl.DataFrame, medications: pl.DataFrame) -> pl.DataFrame:
    taken = medications.filter(
        pl.col("drug").str.strip_chars().str.to_lowercase().is_in(list(IMMUNOSUPPRESSANTS))
    )
    counted = (
        visits.select("pid", "visit_date")
        .join(taken, on="pid", how="inner")
        .filter(
            (pl.col("started_on") <= pl.col("visit_date"))
            & (pl.col("stopped_on").is_null() | (pl.col("stopped_on") >= pl.col("visit_date")))
        )
        .group_by("pid", "visit_date")
        .agg(pl.col("drug").str.to_lowercase().n_unique().alias("immunosuppressants"))
    )
    return (
        visits.select("pid", "visit_date")
        .join(counted, on=["pid", "visit_date"], how="left")
        .with_columns(pl.col("immunosuppressants").fill_null(0).cast(pl.Int64))
    )


def _outcomes() -> list[pl.Expr]:
    renal = pl.col("renal-response.response").cast(pl.String)
    flare = pl.col("sfi.flare").cast(pl.String)
    on_record = ~pl.col(TOO_MANY_GLUCOCORTICOIDS)
    pred_known = on_record & pl.col("prednisone-equivalent.prednisone_mg_day").is_not_null()
    return [
        pl.col("sri.responder").alias("sri4"),
        pl.col("sri.msri").alias("msri4"),
        pl.when(pred_known).then(pl.col("lldas.lldas")).alias("lldas"),
        pl.when(pred_known).then(pl.col("doris.remission")).alias("doris"),
        pl.when(pl.col("renal")).then(renal == "complete").alias("renal_complete"),
        pl.when(pl.col("renal"))
        .then(renal.is_in(["complete", "partial"]))
        .alias("renal_partial_or_better"),
        pl.when(pred_known).then(pl.col("prednisone-equivalent.doris_dose_ok")).alias("pred_le_5"),
        pl.when(pred_known)
        .then(pl.col("prednisone-equivalent.lldas_dose_ok"))
        .alias("pred_le_7_5"),
        pl.col("facit-f.improved").alias("facit_mcid"),
        pl.when(pred_known).then(flare != "none").alias("flare"),
        pl.when(pred_known).then(flare == "severe").alias("severe_flare"),
    ]


def _patients(people: pl.DataFrame, scored: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    baseline = scored.filter(pl.col("is_baseline")).group_by("patient_id").agg(
        pl.when(pl.col("sledai2k.complete")).then(pl.col("sledai2k.total")).first()
        .cast(pl.Int64).alias("baseline_sledai")
    )  # fmt: skip
    last = scored.group_by("patient_id").agg(pl.col("visit_date").max().alias("last_visit"))
    deaths = (
        events.filter(pl.col("fatal"))
        .group_by("patient_id")
        .agg(pl.col("onset").min().alias("death_date"))
    )
    first = pl.col("first_infusion")
    years = (first - pl.col("diagnosis_date")).dt.total_days() / 365.25
    return (
        people.join(baseline, on="patient_id", how="left")
        .join(last, on="patient_id", how="left")
        .join(deaths, on="patient_id", how="left")
        .with_columns(
            age_on(first, pl.col("date_of_birth")).alias("age_years"),
            years.alias("disease_years"),
            pl.col("renal").fill_null(False),
            _band(pl.col("dose_per_kg_million"), DOSE_BANDS).alias("dose_band"),
            _band(pl.col("baseline_sledai"), SLEDAI_BANDS).alias("sledai_band"),
            pl.col("death_date").is_not_null().alias("died"),
            pl.col("infusions").cast(pl.Int64),
        )
        .select(PATIENT_COLUMNS)
        .sort("patient_id")
    )


def _events(tables: RegistryTables, people: pl.DataFrame) -> pl.DataFrame:
    return (
        tables.adverse_events.join(
            people.select("pid", "patient_id", "first_infusion"), on="pid", how="inner"
        )
        .with_columns(
            pl.col("relatedness").is_in(list(RELATED)).alias("related"),
            (pl.col("onset") - pl.col("first_infusion")).dt.total_days().alias("day"),
            (pl.col("outcome") == "fatal").alias("fatal"),
        )
        .select(EVENT_COLUMNS)
        .sort("patient_id", "onset")
    )


def _visits(scored: pl.DataFrame) -> pl.DataFrame:
    codes = pl.col("visit_code")
    values = [
        (pl.col("visit_date") - pl.col("first_infusion")).dt.total_days().alias("day"),
        pl.when(codes.is_in(list(TIMEPOINT_DAYS))).then(codes).alias("timepoint"),
        pl.col("is_baseline").alias("baseline"),
        pl.when(pl.col("sledai2k.complete")).then(pl.col("sledai2k.total")).cast(pl.Int64)
        .alias("sledai"),
        pl.col("pga").cast(pl.Float64),
        pl.when(~pl.col(TOO_MANY_GLUCOCORTICOIDS))
        .then(pl.col("prednisone-equivalent.prednisone_mg_day").cast(pl.Float64))
        .alias("pred_mg_day"),
        pl.col("upcr_g_g").cast(pl.Float64).alias("upcr"),
        pl.coalesce(STORED_EGFR[1], STORED_EGFR[0]).alias("egfr"),
        pl.col("c3_g_l").cast(pl.Float64).alias("c3"),
        pl.col("c4_g_l").cast(pl.Float64).alias("c4"),
        pl.col("anti_dsdna_iu_ml").cast(pl.Float64).alias("anti_dsdna"),
        pl.col("facit-f.score").cast(pl.Float64).alias("facit"),
    ]  # fmt: skip
    return scored.with_columns(values).with_columns(_outcomes()).select(VISIT_COLUMNS)


def build(tables: RegistryTables, as_of: dt.date) -> AnalysisDataset:
    """The analysis dataset of every infused patient in ``tables`` (module doc)."""
    people = (
        tables.patients.join(_infusions(tables), on="pid", how="inner")
        .join(tables.screenings, on="pid", how="left")
        .filter(pl.col("first_infusion") <= as_of)
    )
    visits = (
        tables.visits.join(people.select("pid"), on="pid", how="inner")
        .filter(pl.col("visit_date") <= as_of)
        .sort("pid", "visit_date", "study_day")
        .unique(["pid", "visit_date"], keep="first", maintain_order=True)
    )
    table, notes = visit_table(visits, people, tables.medications)
    context = people.select("pid", "first_infusion", pl.col("renal").fill_null(False))
    scored = score(table.join(context, on="pid", how="left"))
    scored = scored.join(_immunosuppressants(scored, tables.medications), on=["pid", "visit_date"])
    events = _events(tables, people).filter(
        (pl.col("onset") <= as_of) & (pl.col("day") <= HORIZON_DAYS)
    )
    return AnalysisDataset(
        patients=_patients(people, scored, events),
        visits=_visits(scored),
        adverse_events=events,
        as_of=as_of,
        notes=notes,
    )
