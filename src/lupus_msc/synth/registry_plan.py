"""A seeded plan for loading a synthetic cohort into the registry (``lupus-msc synth load``).

``plan_cohort`` turns a :class:`~lupus_msc.synth.visits.Cohort` (recorded visit items only) into
everything else a registry holds for those patients, as plain values: who they are (names,
date of birth, record number), when they were screened, consented and infused, the cord donor
and one lot per infusion with release-test results within the default specification,
a few adverse events, and the visits that lie in the past. It is pure and seeded: the same
cohort, seed and ``today`` give the same plan. It knows nothing of the database;
``services.cohort_loader`` writes the plan through the services (DESIGN.md: synth/ writes only
through services/).

Dates: the cohort's dates are historical; the whole cohort moves by one offset so that the
latest infusion falls about ``RECENT_DAYS`` before ``today`` (nearer, down to
``NEAREST_DAYS``, when the cohort spans so long that its oldest lots would otherwise be past the
longest shelf life the registry accepts). Visits after ``today`` are left out (still upcoming).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from lupus_msc.clinical.batch.schema import BY_NAME
from lupus_msc.synth.visits import Cohort

RECENT_DAYS, NEAREST_DAYS = 60, 30
SCREENING_DAYS = 14
"""The screening visit is 14 days before the first infusion (the default protocol's day −14)."""
CONSENT_DAYS = 3
CRYO_LEAD_DAYS = 21
"""A patient's lots are cryopreserved together, 21 days before the first infusion."""
HARVEST_LEAD_DAYS = 35
PATIENTS_PER_DONOR = 5
QUALIFIED_BEFORE_DAYS = 365
"""Staff qualifications start a year before anything in the cohort happens."""
REACTION_SHARE, INFECTION_SHARE = 0.10, 0.15


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE = _words("Ana Beatriz Chloé Dana Elif Fatima Grace Hana Inès Julia Keiko Laila")
FEMALE += _words("Maria Nadia Olga Priya Rosa Sofia Tara Yasmin")
MALE = _words("Adam Bruno Carlos David Emil Farid Goran Hiro Ivan Jonas Kofi Luca Mateo")
MALE += _words("Nikhil Omar Pavel")
FAMILY = _words("Almeida Bauer Chen Dubois Eriksen Fernández García Haddad Ivanova")
FAMILY += _words("Jensen Kowalski Lindqvist Moreau Nakamura Okafor Petrov Quinn Rossi")
FAMILY += _words("Schmidt Tanaka Varga Wójcik Yilmaz Zhang")
"""Given names (by sex) and family names of the synthetic patients."""
INFECTIONS = ("Upper respiratory infection", "Urinary tract infection", "Herpes zoster")


@dataclass(frozen=True)
class Identity:
    given_name: str
    family_name: str
    sex: str
    date_of_birth: dt.date
    medical_record_number: str
    diagnosis_date: dt.date


@dataclass(frozen=True)
class LotPlan:
    """One manufactured lot and its release-test results (within the default §14 spec)."""

    passage: int
    total_cells: Decimal
    viability_pct: Decimal
    volume_ml: Decimal
    viable_cells_per_ml: Decimal
    cryopreserved_on: dt.date
    expires_on: dt.date
    tested_on: dt.date
    tests: tuple[tuple[str, bool | Decimal | str], ...]


@dataclass(frozen=True)
class DonorPlan:
    """An allogeneic umbilical-cord donor shared by up to ``PATIENTS_PER_DONOR`` patients."""

    key: tuple[int, int]
    """(site, donor number within the site)."""
    harvested_on: dt.date
    amount_g: Decimal


@dataclass(frozen=True)
class Vitals:
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    temperature_c: Decimal
    spo2_pct: int


@dataclass(frozen=True)
class EventPlan:
    term: str
    grade: int
    onset_on: dt.date
    resolved_on: dt.date
    relatedness: str
    expected: bool
    action: str
    infusion: int | None
    """The number of the infusion a reaction is linked to; None for other events."""


@dataclass(frozen=True)
class VisitPlan:
    day: int
    """Days since the first infusion (0 = baseline)."""
    on: dt.date
    row: dict[str, Any]
    """The visit-table row (``clinical.batch.schema`` columns)."""


@dataclass(frozen=True)
class PatientPlan:
    synth_id: str
    site: int
    trajectory: str
    identity: Identity
    screened_on: dt.date
    consented_on: dt.date
    infusions: tuple[dt.date, ...]
    """The infusion dates (the protocol's infusion days after the first)."""
    weight_kg: Decimal
    ana_titer: int
    history: tuple[str, ...]
    """EULAR/ACR 2019 criteria present before the screening (§7 criteria are 'ever')."""
    renal_biopsy: str | None
    failed_immunosuppressants: tuple[str, ...]
    current_immunosuppressant: str
    hydroxychloroquine: bool
    donor: DonorPlan
    lots: tuple[LotPlan, ...]
    """One lot per infusion."""
    infusion_vitals: tuple[tuple[Vitals, Vitals], ...]
    """Vital signs before and after each infusion."""
    visits: tuple[VisitPlan, ...]
    """Visits in the past, in date order; the first is the baseline (day 0)."""
    events: tuple[EventPlan, ...]

    @property
    def baseline(self) -> dict[str, Any]:
        return self.visits[0].row


@dataclass(frozen=True)
class CohortPlan:
    patients: tuple[PatientPlan, ...]
    offset_days: int
    qualified_from: dt.date
    skipped: tuple[str, ...]
    """Patients left out: infused so long ago that no lot of theirs can still be in date today."""


def exact(value: float, column: str) -> Decimal:
    """A visit-table float as the exact decimal it stands for (the column's scale)."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-BY_NAME[column].scale))


def _offset(infusions: pl.Series, today: dt.date, shelf_life_days: int) -> int:
    """Days to add to every cohort date (module docstring)."""
    earliest, latest = infusions.min(), infusions.max()
    assert isinstance(earliest, dt.date) and isinstance(latest, dt.date)  # noqa: S101
    offset = (today - dt.timedelta(days=RECENT_DAYS) - latest).days
    first_in_date = today - dt.timedelta(days=shelf_life_days - CRYO_LEAD_DAYS)
    if earliest + dt.timedelta(days=offset) < first_in_date:
        nearest = (today - dt.timedelta(days=NEAREST_DAYS) - latest).days
        offset = min((first_in_date - earliest).days, nearest)
    return offset


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _identity(rng: np.random.Generator, row: dict[str, Any], on: dt.date, mrn: str) -> Identity:
    """Names and a date of birth that makes the patient ``age_years`` old on ``on``."""
    names = FEMALE if row["sex"] == "female" else MALE
    latest_birth = _years_before(on, int(row["age_years"]))
    born = latest_birth - dt.timedelta(days=int(rng.integers(0, 365)))
    onset_age = min(int(row["age_years"]) - 1, 12 + int(rng.integers(4, 20)))
    diagnosed = _years_before(on, int(row["age_years"]) - onset_age)
    return Identity(
        given_name=str(names[rng.integers(len(names))]),
        family_name=str(FAMILY[rng.integers(len(FAMILY))]),
        sex=str(row["sex"]),
        date_of_birth=born,
        medical_record_number=mrn,
        diagnosis_date=max(diagnosed, born + dt.timedelta(days=1)),
    )


def _uniform(rng: np.random.Generator, low: float, high: float, places: int) -> Decimal:
    return Decimal(repr(round(float(rng.uniform(low, high)), places)))


def _lot(rng: np.random.Generator, cryo: dt.date, shelf_life_days: int) -> LotPlan:
    """A lot whose results sit well inside the default specification (§14 [IMPL], D22)."""
    total = Decimal(int(rng.integers(16, 25)) * 10_000_000)
    viability = _uniform(rng, 86, 97, 1)
    volume = Decimal(50)
    marker = {name: _uniform(rng, 97, 99.9, 1) for name in ("cd105_pct", "cd73_pct", "cd90_pct")}
    negative = ("cd45_pct", "cd34_pct", "cd14_or_cd11b_pct", "cd79a_or_cd19_pct", "hla_dr_pct")
    tests: dict[str, bool | Decimal | str] = {
        "plastic_adherent": True,
        "trilineage_differentiation": True,
        **marker,
        **{name: _uniform(rng, 0.1, 1.2, 1) for name in negative},
        "viability_pct": viability,
        "sterility": "negative",
        "mycoplasma": "negative",
        "endotoxin_eu_per_kg": _uniform(rng, 0.05, 0.8, 2),
    }
    return LotPlan(
        passage=int(rng.integers(2, 6)),
        total_cells=total,
        viability_pct=viability,
        volume_ml=volume,
        viable_cells_per_ml=(total * viability / 100 / volume).to_integral_value(),
        cryopreserved_on=cryo,
        expires_on=cryo + dt.timedelta(days=shelf_life_days),
        tested_on=cryo + dt.timedelta(days=int(rng.integers(1, 8))),
        tests=tuple(tests.items()),
    )


def _vitals(rng: np.random.Generator) -> Vitals:
    systolic = int(rng.integers(102, 138))
    return Vitals(
        systolic_mmhg=systolic,
        diastolic_mmhg=int(rng.integers(62, min(systolic - 20, 88))),
        heart_rate_bpm=int(rng.integers(60, 92)),
        temperature_c=_uniform(rng, 36.3, 37.2, 1),
        spo2_pct=int(rng.integers(96, 100)),
    )


def _events(
    rng: np.random.Generator, infusions: tuple[dt.date, ...], last_visit: dt.date, today: dt.date
) -> tuple[EventPlan, ...]:
    """~10 % an infusion reaction (grade 1, linked); ~15 % an unrelated infection (grade 2)
    starting between two weeks after the first infusion and the last visit (resolved by today)."""
    events = []
    if rng.random() < REACTION_SHARE:
        number = int(rng.integers(1, len(infusions) + 1))
        day = infusions[number - 1]
        reaction = ("Infusion related reaction", 1, day, day, "probable", True, "infusion-slowed")
        events.append(EventPlan(*reaction, infusion=number))
    latest_onset = min((today - infusions[0]).days - 20, (last_visit - infusions[0]).days)
    if rng.random() < INFECTION_SHARE and latest_onset > 14:
        onset = infusions[0] + dt.timedelta(days=int(rng.integers(14, latest_onset + 1)))
        resolved = onset + dt.timedelta(days=int(rng.integers(5, 15)))
        term = str(INFECTIONS[rng.integers(len(INFECTIONS))])
        events.append(EventPlan(term, 2, onset, resolved, "not-related", False, "none", None))
    return tuple(events)


def _history(rng: np.random.Generator, trajectory: str) -> tuple[tuple[str, ...], str | None]:
    """Criteria met before the screening, and a renal biopsy class for nephritis patients."""
    chances = {
        "anti_dsdna_or_anti_smith": 0.8,
        "joint_involvement": 0.5,
        "acute_cutaneous_lupus": 0.35,
        "low_c3": 0.5,
        "low_c4": 0.4,
        "leukopenia": 0.3,
        "antiphospholipid_antibodies": 0.15,
    }
    history = tuple(key for key, share in chances.items() if rng.random() < share)
    if not trajectory.startswith("renal"):
        return history, None
    biopsy = "renal_biopsy_class_iii_or_iv" if rng.random() < 0.7 else "renal_biopsy_class_ii_or_v"
    return history, biopsy


IMMUNOSUPPRESSANTS: tuple[str, ...] = ("mycophenolate mofetil", "azathioprine", "methotrexate")
IMMUNOSUPPRESSANTS += ("cyclophosphamide", "tacrolimus", "ciclosporin")


def _treatments(rng: np.random.Generator) -> tuple[tuple[str, ...], str]:
    """At least two failed immunosuppressants (refractory SLE) and the one taken now."""
    order = rng.permutation(len(IMMUNOSUPPRESSANTS))
    drugs = [IMMUNOSUPPRESSANTS[index] for index in order]
    failed = int(rng.integers(2, 4))
    return tuple(drugs[:failed]), drugs[failed]


def _shifted(frame: pl.DataFrame, offset: int, today: dt.date) -> tuple[VisitPlan, ...]:
    """The patient's visits moved by ``offset`` days, up to ``today``."""
    rows = frame.sort("visit_date").iter_rows(named=True)
    visits = []
    start: dt.date | None = None
    for row in rows:
        on = row["visit_date"] + dt.timedelta(days=offset)
        start = start or on
        if on <= today:
            visits.append(VisitPlan((on - start).days, on, row))
    return tuple(visits)


@dataclass(frozen=True)
class _Context:
    seed: int
    today: dt.date
    offset: int
    shelf_life_days: int
    infusion_days: tuple[int, ...]
    donors: dict[str, DonorPlan]


def _weight(visits: tuple[VisitPlan, ...]) -> Decimal:
    weights = [visit.row["weight_kg"] for visit in visits if visit.row["weight_kg"] is not None]
    return exact(weights[0], "weight_kg") if weights else Decimal(62)


def _patient(
    context: _Context, number: int, who: dict[str, Any], frame: pl.DataFrame
) -> PatientPlan:
    rng = np.random.default_rng(np.random.SeedSequence([context.seed, number]))
    first = who["infusion_date"] + dt.timedelta(days=context.offset)
    infusions = tuple(first + dt.timedelta(days=day) for day in context.infusion_days)
    visits = _shifted(frame, context.offset, context.today)
    screened = first - dt.timedelta(days=SCREENING_DAYS)
    mrn = f"SYN{context.seed % 10_000:04d}-{number + 1:06d}"
    history, biopsy = _history(rng, str(who["trajectory"]))
    failed, current = _treatments(rng)
    cryo = first - dt.timedelta(days=CRYO_LEAD_DAYS)
    lots = tuple(_lot(rng, cryo, context.shelf_life_days) for _ in infusions)
    vitals = tuple((_vitals(rng), _vitals(rng)) for _ in infusions)
    return PatientPlan(
        synth_id=str(who["patient_id"]),
        site=int(who["site"]),
        trajectory=str(who["trajectory"]),
        identity=_identity(rng, visits[0].row, first, mrn),
        screened_on=screened,
        consented_on=screened + dt.timedelta(days=CONSENT_DAYS),
        infusions=infusions,
        weight_kg=_weight(visits),
        ana_titer=int(rng.choice([160, 320, 640, 1280])),
        history=history,
        renal_biopsy=biopsy,
        failed_immunosuppressants=failed,
        current_immunosuppressant=current,
        hydroxychloroquine=bool(rng.random() < 0.85),
        donor=context.donors[str(who["patient_id"])],
        lots=lots,
        infusion_vitals=vitals,
        visits=visits,
        events=_events(rng, infusions, visits[-1].on, context.today),
    )


def _donors(patients: pl.DataFrame, offset: int) -> dict[str, DonorPlan]:
    """One donor per ``PATIENTS_PER_DONOR`` patients of a site, in order of infusion date."""
    donors: dict[str, DonorPlan] = {}
    ordered = patients.sort("site", "infusion_date", "patient_id")
    for (site,), group in ordered.group_by("site", maintain_order=True):
        ids = group["patient_id"].to_list()
        dates = group["infusion_date"].to_list()
        for start in range(0, len(ids), PATIENTS_PER_DONOR):
            first_cryo = dates[start] + dt.timedelta(days=offset - CRYO_LEAD_DAYS)
            harvested = first_cryo - dt.timedelta(days=HARVEST_LEAD_DAYS - CRYO_LEAD_DAYS)
            number = start // PATIENTS_PER_DONOR + 1
            amount = Decimal(25 + 5 * (number % 6))
            plan = DonorPlan((int(site), number), harvested, amount)
            donors.update(dict.fromkeys(ids[start : start + PATIENTS_PER_DONOR], plan))
    return donors


def plan_cohort(
    cohort: Cohort,
    *,
    seed: int,
    today: dt.date,
    shelf_life_days: int,
    infusion_days: Sequence[int],
) -> CohortPlan:
    """The registry plan of ``cohort`` (module docstring).

    ``shelf_life_days`` is the longest shelf life the registry accepts: lots expire then, so
    that lots released today (the loader records the release now) are still in date.
    ``infusion_days`` are the protocol's infusion days (0 first); each infusion has its lot.
    """
    if not infusion_days or infusion_days[0] != 0 or max(infusion_days) >= NEAREST_DAYS:
        raise ValueError(f"infusion days must start at 0 and end before day {NEAREST_DAYS}")
    who = cohort.patients.sort("patient_id")
    offset = _offset(who["infusion_date"], today, shelf_life_days)
    donors = _donors(who, offset)
    context = _Context(seed, today, offset, shelf_life_days, tuple(infusion_days), donors)
    frames = cohort.visits.partition_by("patient_id", as_dict=True)
    patients, skipped = [], []
    for number, row in enumerate(who.iter_rows(named=True)):
        plan = _patient(context, number, row, frames[(row["patient_id"],)])
        if plan.lots[0].expires_on < today:
            skipped.append(plan.synth_id)
            continue
        patients.append(plan)
    earliest = min(plan.donor.harvested_on for plan in patients) if patients else today
    return CohortPlan(
        patients=tuple(patients),
        offset_days=offset,
        qualified_from=earliest - dt.timedelta(days=QUALIFIED_BEFORE_DAYS),
        skipped=tuple(skipped),
    )
