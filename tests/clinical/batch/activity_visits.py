"""Visit tables for the state instruments (LLDAS §5, DORIS §6) and their single-record inputs.

The generic ``visits.visit_tables`` leaves each SLEDAI-2K descriptor null half of the time, so a
complete assessment (which LLDAS and DORIS need) would almost never be drawn. Here a visit's
SLEDAI-2K is drawn as a small set of present descriptors plus, half of the time, one or two
descriptors left unassessed; a temperature can then decide fever when it is left unassessed, or
leave it an unconfirmed candidate (SLEDAI-2K incomplete). Doses are drawn around the 5 and
7.5 mg/day limits (§5, §6, §11).

The single-record side is computed independently of the batch engine: the single-record
SLEDAI-2K (§1) decides which descriptors are present and whether the assessment is complete, and
the single-record prednisone equivalent (§11) gives the exact daily dose.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from itertools import combinations, product
from typing import Any

from hypothesis import strategies as st

from lupus_msc.clinical import lldas, prednisone_equivalent, sledai2k
from lupus_msc.clinical.batch.schema import GLUCOCORTICOID_DRUGS
from lupus_msc.clinical.common import Instrument
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.visits import exact

KEYS = list(sledai2k.WEIGHTS)
LABS = ("temperature_c",)
"""Fever is lab-derived and needs attribution: an unconfirmed fever leaves the SLEDAI incomplete."""
FLAGS = (
    "attribution_confirmed",
    "new_features",
    "hemolytic_anemia",
    "gi_activity",
    "investigational_drug",
    "immunosuppressants_tolerated",
    "other_drugs_stable",
)
# Doses (mg) whose prednisone equivalents fall at, just below and just above 5 and 7.5 mg/day.
DOSES = ["0", "2.5", "4", "4.999", "5", "5.001", "6", "7.499", "7.5", "7.501", "0.75", "1.125"]
PGAS = ["0", "0.49", "0.5", "0.51", "0.99", "1", "1.01", "2", "3"]
TEMPERATURES = ["37.9", "38", "38.1", "40"]

# Hypothesis spends most of its time per draw, so each visit is drawn in a few draws: descriptor
# sets and flag combinations are sampled whole from precomputed lists.
_SETS = [frozenset(chosen) for size in range(4) for chosen in combinations(KEYS, size)]
_QUIET_SETS = [frozenset(c) for size in range(3) for c in combinations(sorted(lldas.ALLOWED), size)]
_UNASSESSED = [frozenset(c) for size in (1, 2) for c in combinations(KEYS, size)]
_TRI = (None, False, True)


def _descriptor_values() -> st.SearchStrategy[dict[str, bool | None]]:
    """A few present descriptors (often only low-weight ones); half of the time 1–2 unassessed."""
    present = st.one_of(st.sampled_from(_QUIET_SETS), st.sampled_from(_SETS))
    unassessed = st.one_of(st.just(frozenset[str]()), st.sampled_from(_UNASSESSED))
    return st.tuples(present, unassessed).map(
        lambda drawn: {key: None if key in drawn[1] else key in drawn[0] for key in KEYS}
    )


def _flags() -> st.SearchStrategy[dict[str, bool | None]]:
    """Every optional flag null, false or true, in one draw (shrinks towards all null)."""
    return st.integers(0, 3 ** len(FLAGS) - 1).map(
        lambda code: {name: _TRI[code // 3**index % 3] for index, name in enumerate(FLAGS)}
    )


def _decimal(notable: list[str], high: int, scale: int) -> st.SearchStrategy[Decimal | None]:
    listed = st.sampled_from([None, *(Decimal(value) for value in notable)])
    drawn = st.integers(0, high).map(lambda n: Decimal(n).scaleb(-scale))
    return st.one_of(listed, drawn)


def _slot(slot: int) -> st.SearchStrategy[dict[str, Any]]:
    prefix = f"glucocorticoid_{slot}"
    regimens = list(product((None, *GLUCOCORTICOID_DRUGS), (None, 1, 2), (None, 1, 2)))
    return st.tuples(st.sampled_from(regimens), _decimal(DOSES, 40_000, 3)).map(
        lambda drawn: {
            f"{prefix}_drug": drawn[0][0],
            f"{prefix}_dose_mg": drawn[1],
            f"{prefix}_doses_per_day": drawn[0][1],
            f"{prefix}_every_days": drawn[0][2],
        }
    )


def _visit() -> st.SearchStrategy[dict[str, Any]]:
    others = st.fixed_dictionaries(
        {
            "temperature_c": st.sampled_from([None, *(Decimal(t) for t in TEMPERATURES)]),
            "pga": _decimal(PGAS, 300, 2),
        }
    )
    return st.tuples(_descriptor_values(), _flags(), others, _slot(1), _slot(2)).map(
        lambda parts: {key: value for part in parts for key, value in part.items()}
    )


VISIT = _visit()


@st.composite
def activity_tables(
    draw: st.DrawFn, max_patients: int = 3, max_visits: int = 4
) -> list[dict[str, Any]]:
    """Rows of a visit table with the columns LLDAS and DORIS read (a few patients and visits)."""
    rows: list[dict[str, Any]] = []
    for patient in range(draw(st.integers(1, max_patients))):
        day = date(2024, 1, 1)
        for _ in range(draw(st.integers(1, max_visits))):
            day += timedelta(days=draw(st.integers(1, 200)))
            rows.append({"patient_id": f"P{patient}", "visit_date": day, **draw(VISIT)})
    return rows


def single_descriptors(row: dict[str, Any]) -> list[str] | None:
    """The present descriptors by the single-record SLEDAI-2K; None when it is incomplete."""
    labs = {name: exact(row, name) for name in LABS}
    result = sledai2k.score(
        sledai2k.Sledai2kInput.model_validate(
            {
                **{key: row[key] for key in KEYS},
                "labs": labs,
                "attribution_confirmed": bool(row["attribution_confirmed"]),
            }
        )
    )
    return list(result.contributions) if result.complete else None


def single_prednisone(row: dict[str, Any]) -> Decimal | None:
    """The single-record prednisone-equivalent mg/day; None when a drug has no dose (§11)."""
    medications = []
    for slot in (1, 2):
        prefix = f"glucocorticoid_{slot}"
        if row[f"{prefix}_drug"] is None:
            continue
        dose = exact(row, f"{prefix}_dose_mg")
        if dose is None:
            return None
        medication: dict[str, Any] = {"drug": row[f"{prefix}_drug"], "dose_mg": dose}
        for field in ("doses_per_day", "every_days"):
            if row[f"{prefix}_{field}"] is not None:
                medication[field] = row[f"{prefix}_{field}"]
        medications.append(medication)
    model = prednisone_equivalent.PrednisoneEquivalentInput.model_validate(
        {"medications": medications}
    )
    return prednisone_equivalent.score(model).prednisone_mg_day


def required_inputs(row: dict[str, Any], descriptors: list[str] | None) -> dict[str, Any] | None:
    """The inputs LLDAS and DORIS both require (§16.4, §16.5), found independently: the present
    ``descriptors`` (``single_descriptors``), the PGA and the single-record prednisone dose; None
    when one of them is unknown (the single-record input cannot be built)."""
    dose = single_prednisone(row)
    if descriptors is None or row["pga"] is None or dose is None:
        return None
    return {"sledai_descriptors": descriptors, "pga": exact(row, "pga"), "prednisone_mg_day": dose}


def single_result(
    instrument: Instrument[Any, Any], payload: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The single-record result of ``payload`` as JSON data; None when there is no input."""
    if payload is None:
        return None
    result = instrument.score(instrument.input_model.model_validate(payload))
    data: dict[str, Any] = json.loads(to_json(result))
    return data


def flags_given(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The row's optional Boolean inputs that are not null (null = the single-record default)."""
    return {name: row[name] for name in names if row[name] is not None}


def comparable(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """A result (or an input) without instrument/section, lists as sorted lists (unordered sets,
    §16.0)."""
    if result is None:
        return None
    return {
        key: sorted(value) if isinstance(value, list) else value
        for key, value in result.items()
        if key not in ("instrument", "section")
    }
