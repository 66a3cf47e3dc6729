"""Batch SFI equals the single-record SFI on every row and field (§2, §16.2)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lupus_msc.clinical import sfi, sledai2k
from lupus_msc.clinical.batch import sfi as batch
from lupus_msc.clinical.batch.frame import ROW, prepare
from lupus_msc.clinical.batch.schema import SEVERE_MANIFESTATIONS
from lupus_msc.scoring.jsonio import to_json
from tests.clinical.batch.activity_visits import single_prednisone
from tests.clinical.batch.longitudinal_visits import (
    PGA,
    Sledai,
    given_only,
    neighbours,
    prepared_with_sledai,
    tables_with_sledai,
)
from tests.clinical.batch.visits import exact, frame_of

FLAGS = (
    "added_nsaid_or_hydroxychloroquine",
    "added_cyclophosphamide_azathioprine_methotrexate",
    "hospitalized_for_sle",
)
MANIFESTATIONS = ("new_mild_manifestations", "new_severe_manifestations")
SLOT_1 = [
    f"glucocorticoid_1_{field}" for field in ("drug", "dose_mg", "doses_per_day", "every_days")
]
COLUMNS = ["pga", "weight_kg", "platelets_10e9_l", "hemoglobin_g_dl", *MANIFESTATIONS, *FLAGS]
COLUMNS += [*SLOT_1, "glucocorticoid_2_drug", "glucocorticoid_2_dose_mg"]


def tenths(low: int, high: int, *notable: str) -> st.SearchStrategy[Decimal | None]:
    """Absent, a notable value, or low/10 … high/10 in tenths."""
    drawn = st.integers(low, high).map(lambda tenth: Decimal(tenth) / 10)
    return st.one_of(st.none(), st.sampled_from([Decimal(value) for value in notable]), drawn)


RARELY = st.sampled_from([None, None, False, False, False, False, False, True])
OVERRIDES: dict[str, st.SearchStrategy[Any]] = {
    "pga": PGA,
    # Severe criteria drawn rarely, so that "none", "mild_moderate" and undecided flares are common.
    "added_cyclophosphamide_azathioprine_methotrexate": RARELY,
    "hospitalized_for_sle": RARELY,
    "new_severe_manifestations": st.one_of(
        *[st.none(), st.just([]), st.just([]), st.just([]), st.just([]), st.just([])],
        st.lists(st.sampled_from(SEVERE_MANIFESTATIONS), min_size=1, max_size=2, unique=True),
    ),
    "platelets_10e9_l": tenths(600, 4000, "59.9", "60", "60.1"),
    "hemoglobin_g_dl": tenths(70, 160, "6.9", "7", "10", "10.1", "13", "13.1"),
}


def hemoglobin_fall(previous: dict[str, Any] | None, row: dict[str, Any]) -> Decimal | None:
    """Previous − current Hb when both are given; 0 when it did not fall (module doc)."""
    before = None if previous is None else exact(previous, "hemoglobin_g_dl")
    now = exact(row, "hemoglobin_g_dl")
    if before is None or now is None:
        return None
    return max(Decimal(before) - Decimal(now), Decimal(0))


def single_payload(
    row: dict[str, Any], previous: dict[str, Any] | None, sledai: list[Sledai]
) -> dict[str, Any]:
    """The single-record input of a visit; at a first visit every "previous" field is left out."""
    payload: dict[str, Any] = {
        "sledai_current": sledai[row[ROW]].known,
        "pga_current": exact(row, "pga"),
        "prednisone_mg_day_current": single_prednisone(row),
        "weight_kg": exact(row, "weight_kg"),
        "platelets_10e9_l": exact(row, "platelets_10e9_l"),
        "hemoglobin_g_dl": exact(row, "hemoglobin_g_dl"),
        "hemoglobin_fall_g_dl": hemoglobin_fall(previous, row),
        **{name: row[name] for name in (*MANIFESTATIONS, *FLAGS)},
    }
    if previous is not None:
        payload["sledai_previous"] = sledai[previous[ROW]].known
        payload["pga_previous"] = exact(previous, "pga")
        payload["prednisone_mg_day_previous"] = single_prednisone(previous)
    return given_only(payload)


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """Lists of names are unordered sets (§16.0)."""
    return {
        key: sorted(value) if isinstance(value, list) else value for key, value in result.items()
    }


@settings(max_examples=2000, deadline=None)
@given(tables_with_sledai(COLUMNS, OVERRIDES))
def test_batch_equals_single_record_on_every_row(
    table: tuple[list[dict[str, Any]], list[Sledai]],
) -> None:
    rows, sledai = table
    scored = batch.score(prepared_with_sledai(rows, sledai)).rows(named=True)
    near = neighbours(scored)
    for row in scored:
        given = batch.single_record_input(row)
        # The batch's input, against the previous visit and doses found independently.
        assert given == single_payload(row, near[row[ROW]].previous, sledai), row
        single = json.loads(to_json(sfi.score(sfi.SfiInput.model_validate(given))))
        del single["instrument"], single["section"]
        assert comparable(batch.result_fields(row)) == comparable(single), (row, given)


def _visit(day: date, *present: str, **more: Any) -> dict[str, Any]:
    """A visit of patient P1 with every SLEDAI descriptor assessed, those named present."""
    descriptors = {key: key in present for key in sledai2k.WEIGHTS}
    given = {
        "pga": None,
        "weight_kg": 60.0,
        "hemoglobin_g_dl": None,
        "glucocorticoid_1_drug": "prednisone",
        "glucocorticoid_1_dose_mg": 5.0,
        "hospitalized_for_sle": None,
        **more,
    }
    return {"patient_id": "P1", "visit_date": day, **descriptors, **given}


def _results(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    scored = batch.score(prepare(frame_of(rows)))
    return [batch.result_fields(row) for row in scored.iter_rows(named=True)]


def test_hand_worked_visits_against_the_previous_visit() -> None:
    """§2 and D7, worked by hand (SLEDAI-2K weights §1: rash 2, arthritis 4, proteinuria 4,
    pleurisy 2, vasculitis 8; weight 60 kg, so 0.5 mg/kg/day is 30 mg).

    1. rash (2), PGA 0.5, prednisone 5 mg, Hb 12: first visit, nothing previous; no criterion
       fires and the pairs are incomplete, so flare and flare_clinical_only are null.
    2. rash + arthritis (6, +4), PGA 1.5 (+1.0), prednisone 30 mg (increased, not > 30 mg), Hb 9
       (fall 3, not > 3): sledai_mild, pga_mild, prednisone_mild: mild/moderate; clinically too.
    3. + proteinuria + pleurisy + vasculitis (20, > 12 and rising), PGA 1.5, methylprednisolone
       32 mg = 40 mg prednisone (> 30 mg), Hb 5.9 (< 7, fall 3.1), hospitalised: severe, with
       the treatment criteria listed; severe clinically too.
    4. nothing present (0), PGA 0.5, prednisone 5 mg, Hb 9 (a rise: fall 0): none.
    """
    rows = [
        _visit(date(2024, 1, 1), "rash", pga=0.5, hemoglobin_g_dl=12.0),
        _visit(date(2024, 3, 1), "rash", "arthritis", pga=1.5, hemoglobin_g_dl=9.0,
               glucocorticoid_1_dose_mg=30.0),
        _visit(date(2024, 5, 1), "rash", "arthritis", "proteinuria", "pleurisy", "vasculitis",
               pga=1.5, hemoglobin_g_dl=5.9, glucocorticoid_1_drug="methylprednisolone",
               glucocorticoid_1_dose_mg=32.0, hospitalized_for_sle=True),
        _visit(date(2024, 7, 1), pga=0.5, hemoglobin_g_dl=9.0),
    ]  # fmt: skip
    first, mild, severe, quiet = (comparable(result) for result in _results(rows))
    assert (first["flare"], first["flare_clinical_only"], first["flare_at_least"]) == (
        None,
        None,
        "none",
    )
    assert first["missing"] == ["pga_previous", "sledai_previous"]
    assert mild["criteria_met"] == ["pga_mild", "prednisone_mild", "sledai_mild"]
    assert (mild["flare"], mild["flare_clinical_only"], mild["missing"]) == (
        "mild_moderate",
        "mild_moderate",
        [],
    )
    assert severe["criteria_met"] == [
        "hemolysis_severe",
        "hospitalization_severe",
        "prednisone_severe",
        "sledai_severe",
    ]
    assert (severe["flare"], severe["flare_clinical_only"]) == ("severe", "severe")
    assert quiet == {
        "flare": "none",
        "criteria_met": [],
        "flare_clinical_only": "none",
        "flare_at_least": "none",
        "missing": [],
    }


def test_prednisone_at_exactly_0_5_mg_per_kg_is_mild_and_just_above_is_severe() -> None:
    """§2 "not to > 0.5 mg/kg/day", decided exactly: at 60 kg the limit is 30 mg/day. Dexa-
    methasone × 5/0.75: 4.499 mg = 29.9933… mg (mild), 4.5 mg = 30 mg exactly (still mild: not
    above), 4.501 mg = 30.0066… mg (severe). Each dose is an increase on the visit before."""

    def dexamethasone(day: date, dose: float) -> dict[str, Any]:
        return _visit(day, pga=0.5, glucocorticoid_1_drug="dexamethasone",
                      glucocorticoid_1_dose_mg=dose)  # fmt: skip

    rows = [
        _visit(date(2024, 1, 1), pga=0.5),
        dexamethasone(date(2024, 2, 1), 4.499),
        dexamethasone(date(2024, 3, 1), 4.5),
        dexamethasone(date(2024, 4, 1), 4.501),
    ]
    _, below, at_limit, above = _results(rows)
    assert below["criteria_met"] == at_limit["criteria_met"] == ["prednisone_mild"]
    assert above["criteria_met"] == ["prednisone_severe"]
    assert (above["flare"], above["flare_clinical_only"]) == ("severe", "none")


def test_a_dose_that_is_not_higher_is_no_prednisone_criterion() -> None:
    """§2 needs an increase: methylprednisolone 4 mg is exactly prednisone 5 mg (§11)."""
    rows = [
        _visit(date(2024, 1, 1), pga=0.5),
        _visit(date(2024, 2, 1), pga=0.5, glucocorticoid_1_drug="methylprednisolone",
               glucocorticoid_1_dose_mg=4.0),
    ]  # fmt: skip
    assert _results(rows)[1]["criteria_met"] == []
