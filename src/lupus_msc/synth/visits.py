"""Seeded synthetic SLE cohorts followed after MSC infusion, as a visit table.

``generate_visits`` builds the visit table of ``clinical.batch.schema`` (recorded items only, never
a score) for a cohort of patients of several trajectory types (``cohort.TRAJECTORIES``), each with
a baseline visit and follow-ups on the protocol schedule (``schedule``). Everything is drawn from
one ``numpy.random.Generator`` per block of patients, seeded from ``seed``, so the same arguments
give the same table. Columns are drawn whole with numpy in worker threads, block by block, and
wrapped as polars columns in the calling thread: ten million visits take seconds, not hours.
"""

from __future__ import annotations

import math
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from lupus_msc.clinical.batch.schema import VISIT_COLUMNS
from lupus_msc.synth import damage
from lupus_msc.synth.activity import draw_activity
from lupus_msc.synth.arrays import (
    Columns,
    Floats,
    Ints,
    boolean,
    chance,
    choice,
    decimal,
    integer,
    normal,
)
from lupus_msc.synth.blood import draw_blood
from lupus_msc.synth.cohort import TRAJECTORIES, Patients, draw_patients, site_count
from lupus_msc.synth.descriptors import episodic_truth, recorded_descriptors
from lupus_msc.synth.events import draw_events
from lupus_msc.synth.facit import draw_facit
from lupus_msc.synth.involvement import draw_involvement
from lupus_msc.synth.kidney import draw_kidney
from lupus_msc.synth.pga import draw_pga
from lupus_msc.synth.schedule import Schedule, Visits, attended, expected_visits, schedule
from lupus_msc.synth.serology import draw_serology
from lupus_msc.synth.sites import Sites, draw_sites
from lupus_msc.synth.steroids import draw_plan, draw_slots

BLOCK_VISITS = 500_000
"""Scheduled visits drawn together (bounds the working memory of one block)."""
WORKERS = 2
"""Worker threads drawing blocks (numpy releases the GIL in bulk work) while the calling thread
wraps finished blocks as polars frames. The table does not depend on it: each block has its own
seed. On an idle 2-core machine two workers draw about 1.7× faster than one; on a machine whose
cores are busy with other work, one worker is as fast."""
WEIGHT_NOT_RECORDED = 0.03
PATIENT_MARGIN, SPARE_PATIENTS = 1.01, 10
"""``patients_for`` asks for 1 % and 10 more patients than expected, so that the table is long
enough whatever the seed (missed visits and losses vary by a few patients' worth)."""


@dataclass(frozen=True)
class Cohort:
    """A synthetic cohort: the visit table and, for tests and demos, who each patient is."""

    visits: pl.DataFrame
    """The visit table (``clinical.batch.schema`` columns only)."""
    patients: pl.DataFrame
    """One row per patient: ``patient_id``, ``site``, ``trajectory``, ``infusion_date``."""


@dataclass(frozen=True)
class Block:
    """One block of patients, drawn but not yet wrapped as polars frames."""

    patients: Patients
    visits: Visits
    columns: Columns


def _patient_ids(patients: Patients, cohort_size: int) -> pl.Series:
    """Site-prefixed study codes (``S03-000042``) that sort in generation order."""
    sites = site_count(cohort_size)
    site_first = -(-(patients.site * cohort_size) // sites)
    local = patients.number - site_first + 1
    width = max(6, len(str(cohort_size)))
    codes = pl.DataFrame({"site": patients.site + 1, "local": local}).select(
        pl.format(
            "S{}-{}",
            pl.col("site").cast(pl.String).str.zfill(2),
            pl.col("local").cast(pl.String).str.zfill(width),
        )
    )
    return codes.to_series().alias("patient_id")


def _patient_columns(
    patients: Patients, visits: Visits, daily: Floats, rng: np.random.Generator
) -> Columns:
    """Visit date and the patient's characteristics at the visit (``patient_id`` comes later)."""
    p, n = visits.patient, visits.size
    dates = (patients.infusion_day[p] + visits.day).astype(np.int32)
    age = np.floor(patients.age[p] + visits.day / 365.25).astype(np.int16)
    weight = patients.weight[p] * (1 + normal(rng, n, 0.012)) + 0.06 * daily
    return {
        "visit_date": lambda: pl.Series("visit_date", dates).cast(pl.Date),
        "sex": choice("sex", (~patients.female[p]).astype(np.int64), ("female", "male")),
        "age_years": integer("age_years", age, pl.Int16),
        "weight_kg": decimal("weight_kg", weight, chance(rng, n, WEIGHT_NOT_RECORDED)),
        "is_baseline": boolean("is_baseline", visits.first),
    }


def _clinical_columns(
    patients: Patients, sites: Sites, visits: Visits, rng: np.random.Generator
) -> tuple[Columns, Floats]:
    """Every recorded clinical column of a block, and the planned glucocorticoid mg/day."""
    involvement = draw_involvement(patients, rng)
    activity = draw_activity(patients, visits, rng)
    plan = draw_plan(patients, sites, rng)
    first_event = damage.onsets(patients, plan.start, rng)
    esrd = first_event["end_stage_renal_disease"]
    truth = episodic_truth(involvement, activity, visits, rng)
    blood = draw_blood(patients, sites, involvement, activity, truth["fever"], visits, rng)
    kidney = draw_kidney(patients, sites, involvement, activity, esrd, visits, rng)
    serology = draw_serology(patients, sites, involvement, activity, visits, rng)
    truth |= blood.truth | kidney.truth | serology.truth
    explicit = sites.explicit_lab_descriptors[patients.site[visits.patient]]
    labs = blood.labs | kidney.labs | serology.labs
    findings = (kidney.protein, blood.platelets, blood.hemoglobin, blood.hemolysis)
    events = draw_events(truth, findings, patients, sites, visits, rng)
    slots, daily = draw_slots(plan, activity.flare, events.severe, visits, rng)
    columns = {
        **recorded_descriptors(truth, labs, explicit, rng),
        **blood.columns,
        **kidney.columns,
        **serology.columns,
        **draw_pga(truth, blood.hemolysis, visits, patients.size, rng),
        **events.columns,
        **slots,
        **draw_facit(activity.clinical, visits, patients.size, rng),
        **damage.draw_damage(first_event, patients, visits, rng),
    }
    return columns, daily


def _draw_block(
    numbers: Ints,
    cohort_size: int,
    plan: Schedule,
    sites: Sites,
    seed: np.random.SeedSequence,
) -> Block:
    """Draw one block of patients with numpy only (safe to run in a worker thread)."""
    rng = np.random.default_rng(seed)
    follow_up = int(plan.days[-1] + plan.windows[-1])
    patients = draw_patients(numbers, cohort_size, follow_up, rng)
    visits = attended(plan, patients.size, rng)
    clinical, daily = _clinical_columns(patients, sites, visits, rng)
    return Block(patients, visits, _patient_columns(patients, visits, daily, rng) | clinical)


def _frames(block: Block, cohort_size: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The visit table and patient table of a drawn block."""
    ids = _patient_ids(block.patients, cohort_size)
    rows = pl.Series(block.visits.patient.astype(np.uint32))
    columns = block.columns | {"patient_id": lambda: ids.gather(rows).alias("patient_id")}
    table = pl.DataFrame([columns[column.name]() for column in VISIT_COLUMNS])
    who = pl.DataFrame(
        {
            "patient_id": ids,
            "site": pl.Series(block.patients.site + 1, dtype=pl.Int16),
            "trajectory": choice("trajectory", block.patients.trajectory, TRAJECTORIES)(),
            "infusion_date": pl.Series(block.patients.infusion_day.astype(np.int32)).cast(pl.Date),
        }
    )
    return table, who


def generate_cohort(
    patients: int, seed: int = 0, *, visits_per_patient: int | None = None
) -> Cohort:
    """A cohort of ``patients`` with ``visits_per_patient`` scheduled visits (module docstring).

    The default schedule is the protocol's, baseline to month 24 (9 visits); a longer one
    continues every 3 months. Missed visits and losses to follow-up make the table about 8 %
    shorter than patients × scheduled visits.
    """
    if patients < 1:
        raise ValueError("patients must be at least 1")
    plan = schedule(visits_per_patient)
    per_block = max(1, BLOCK_VISITS // plan.size)
    starts = range(0, patients, per_block)
    seeds = np.random.SeedSequence(seed).spawn(len(starts) + 1)
    sites = draw_sites(site_count(patients), np.random.default_rng(seeds[0]))
    frames: list[tuple[pl.DataFrame, pl.DataFrame]] = []
    waiting: deque[Future[Block]] = deque()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for start, block_seed in zip(starts, seeds[1:], strict=True):
            numbers = np.arange(start, min(start + per_block, patients))
            waiting.append(pool.submit(_draw_block, numbers, patients, plan, sites, block_seed))
            if len(waiting) > WORKERS:
                frames.append(_frames(waiting.popleft().result(), patients))
        while waiting:
            frames.append(_frames(waiting.popleft().result(), patients))
    return Cohort(
        visits=pl.concat([table for table, _ in frames], rechunk=False),
        patients=pl.concat([who for _, who in frames]),
    )


def patients_for(visits: int, *, visits_per_patient: int | None = None) -> int:
    """Patients whose table has about ``visits`` rows (a little more: take ``.head(visits)``)."""
    expected = expected_visits(schedule(visits_per_patient))
    return math.ceil(visits / expected * PATIENT_MARGIN) + SPARE_PATIENTS


def generate_visits(
    patients: int, seed: int = 0, *, visits_per_patient: int | None = None
) -> pl.DataFrame:
    """The visit table of a synthetic cohort (see ``generate_cohort``)."""
    return generate_cohort(patients, seed, visits_per_patient=visits_per_patient).visits


def write_visits(
    patients: int, out_dir: Path, seed: int = 0, *, visits_per_patient: int | None = None
) -> Path:
    """Write a synthetic cohort's visit table to ``out_dir/visits.parquet``; return the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "visits.parquet"
    table = generate_visits(patients, seed, visits_per_patient=visits_per_patient)
    table.lazy().sink_parquet(path, compression="zstd", compression_level=1)
    return path
