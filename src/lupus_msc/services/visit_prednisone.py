"""Glucocorticoid dose as prednisone equivalent (§11, §16.11): per recorded medication, and the
daily total on a visit date, both computed by the ``prednisone-equivalent`` instrument.

§11: equivalences hold for systemic (oral or intravenous) use only; a dose is given in mg; the
daily dose is the sum of all systemic doses in the day, alternate-day (and longer) regimens
averaged over their interval [IMPL].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lupus_msc.clinical.prednisone_equivalent import EQUIVALENT_DOSE_MG
from lupus_msc.scoring.registry import get_instrument
from lupus_msc.store.models import Medication

INSTRUMENT = get_instrument("prednisone-equivalent")

Frequency = Literal[
    "once-daily",
    "twice-daily",
    "three-times-daily",
    "four-times-daily",
    "every-other-day",
    "weekly",
    "every-2-weeks",
    "every-4-weeks",
    "monthly",
    "as-needed",
]
Route = Literal[
    "oral",
    "intravenous",
    "subcutaneous",
    "intramuscular",
    "intra-articular",
    "topical",
    "inhaled",
    "rectal",
    "other",
]
DoseUnit = Literal["mg", "g", "ug", "mg/kg", "mg/m2", "IU", "mL", "tablet"]

GLUCOCORTICOIDS = frozenset(EQUIVALENT_DOSE_MG)
"""The drugs of the §11 table, by their lower-case names."""
SYSTEMIC_ROUTES = frozenset({"oral", "intravenous"})
"""§11: equivalences are for oral/IV systemic use only (depots are not convertible)."""
REGIMENS: Mapping[str, tuple[int, int]] = {
    "once-daily": (1, 1),
    "twice-daily": (2, 1),
    "three-times-daily": (3, 1),
    "four-times-daily": (4, 1),
    "every-other-day": (1, 2),
    "weekly": (1, 7),
    "every-2-weeks": (1, 14),
    "every-4-weeks": (1, 28),
}
"""Frequency → (doses_per_day, every_days) of the §16.11 input; ``monthly`` and ``as-needed``
have no fixed daily average and are refused for glucocorticoids."""


def is_glucocorticoid(drug: str) -> bool:
    return drug.strip().lower() in GLUCOCORTICOIDS


def counted(drug: str, route: str) -> bool:
    """Whether a medication enters the prednisone equivalent: a §11 drug, taken systemically."""
    return is_glucocorticoid(drug) and route in SYSTEMIC_ROUTES


def entry(drug: str, dose_mg: Decimal, frequency: str) -> dict[str, Any]:
    """One medication as a §16.11 ``medications`` entry."""
    doses_per_day, every_days = REGIMENS[frequency]
    return {
        "drug": drug.strip().lower(),
        "dose_mg": dose_mg,
        "doses_per_day": doses_per_day,
        "every_days": every_days,
    }


def score(entries: Iterable[dict[str, Any]], weight_kg: Decimal | None = None) -> dict[str, Any]:
    """The instrument's result for these medications (plain data, exact numbers)."""
    given: dict[str, Any] = {"medications": list(entries)}
    if weight_kg is not None:
        given["weight_kg"] = weight_kg
    result = INSTRUMENT.score(INSTRUMENT.input_model.model_validate(given))
    dumped: dict[str, Any] = result.model_dump()
    return dumped


def mg_day(drug: str, dose_mg: Decimal, frequency: str) -> Decimal:
    """Prednisone-equivalent mg/day of one medication (§11)."""
    value = score([entry(drug, dose_mg, frequency)])["prednisone_mg_day"]
    return Decimal(value)


def active_on(session: Session, patient_id: Any, day: dt.date) -> list[Medication]:
    """The patient's medications taken on ``day`` (started, and not stopped before it)."""
    query = select(Medication).where(
        Medication.patient_id == patient_id,
        Medication.started_on <= day,
        or_(Medication.stopped_on.is_(None), Medication.stopped_on >= day),
    )
    return list(session.scalars(query.order_by(Medication.started_on, Medication.created_at)))


def on_date(
    session: Session, patient_id: Any, day: dt.date, weight_kg: Decimal | None
) -> dict[str, Any]:
    """The §16.11 result for every systemic glucocorticoid taken on ``day``."""
    taken = [
        entry(medication.drug, medication.dose, medication.frequency)
        for medication in active_on(session, patient_id, day)
        if medication.prednisone_mg_day is not None
    ]
    return score(taken, weight_kg)
