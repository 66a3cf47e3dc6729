"""A fixed cohort of eight patients in the frames of the analytics contract (issue 7).

Every expected value in the analytics tests is worked out by hand from the tables below; the
tests' comments show the arithmetic. Days are days since the first infusion. The data cut-off
``AS_OF`` decides who is due at each time point (nominal days 30, 90, 180, 360, 720):

=====  ============  =====================================================================
id     infused       follow-up
=====  ============  =====================================================================
P1     AS_OF − 800   renal; every visit to month 24
P2     AS_OF − 800   every visit to month 24, plus an unscheduled visit on day 60
P3     AS_OF − 800   renal; every visit to month 24
P4     AS_OF − 800   visits to month 6, then lost (missed months 12 and 24)
P5     AS_OF − 715   renal; month-24 visit early (day 710), before its nominal day 720
P6     AS_OF − 400   visits to month 12; not yet due at month 24
P7     AS_OF − 180   visits months 1 and 3, died on day 120; due at month 6 exactly
P8     AS_OF − 29    baseline only; not yet due at month 1 (30 > 29)
=====  ============  =====================================================================
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

AS_OF = date(2025, 6, 30)

PATIENT_SCHEMA: dict[str, Any] = {
    "patient_id": pl.String,
    "site": pl.String,
    "sex": pl.String,
    "age_years": pl.Int64,
    "disease_years": pl.Float64,
    "renal": pl.Boolean,
    "tissue_source": pl.String,
    "dose_per_kg_million": pl.Float64,
    "dose_band": pl.String,
    "infusions": pl.Int64,
    "first_infusion": pl.Date,
    "last_visit": pl.Date,
    "baseline_sledai": pl.Int64,
    "sledai_band": pl.String,
    "died": pl.Boolean,
    "death_date": pl.Date,
}

OUTCOME_COLUMNS = (
    "sri4",
    "msri4",
    "lldas",
    "doris",
    "renal_complete",
    "renal_partial_or_better",
    "pred_le_5",
    "pred_le_7_5",
    "facit_mcid",
    "flare",
    "severe_flare",
)
NUMBER_COLUMNS = (
    "pga",
    "pred_mg_day",
    "upcr",
    "egfr",
    "c3",
    "c4",
    "anti_dsdna",
    "facit",
    "lvef",
    "nt_probnp",
)
VISIT_SCHEMA: dict[str, Any] = {
    "patient_id": pl.String,
    "visit_code": pl.String,
    "visit_date": pl.Date,
    "day": pl.Int64,
    "timepoint": pl.String,
    "baseline": pl.Boolean,
    "sledai": pl.Int64,
    **dict.fromkeys(NUMBER_COLUMNS, pl.Float64),
    "immunosuppressants": pl.Int64,
    **dict.fromkeys(OUTCOME_COLUMNS, pl.Boolean),
}

AE_SCHEMA: dict[str, Any] = {
    "patient_id": pl.String,
    "term": pl.String,
    "ctcae_term": pl.String,
    "grade": pl.Int64,
    "serious": pl.Boolean,
    "relatedness": pl.String,
    "related": pl.Boolean,
    "infusion_reaction": pl.Boolean,
    "onset": pl.Date,
    "day": pl.Int64,
    "fatal": pl.Boolean,
}

#: days before AS_OF of each first infusion
INFUSED_BEFORE_AS_OF = {
    "P1": 800,
    "P2": 800,
    "P3": 800,
    "P4": 800,
    "P5": 715,
    "P6": 400,
    "P7": 180,
    "P8": 29,
}


def first_infusion(patient_id: str) -> date:
    return AS_OF - timedelta(days=INFUSED_BEFORE_AS_OF[patient_id])


def on_day(patient_id: str, day: int | None) -> date | None:
    return None if day is None else first_infusion(patient_id) + timedelta(days=day)


# id, sex, age, disease years, renal, source, dose, dose band, infusions, last visit day,
# baseline SLEDAI-2K, band, death day
_PATIENTS: list[tuple[Any, ...]] = [
    ("P1", "female", 30, 5.0, True, "umbilical-cord", 1.0, "1 to < 2", 1, 720, 12, "10–14", None),
    ("P2", "female", 40, 10.0, False, "bone-marrow", 0.5, "< 1", 2, 721, 8, "6–9", None),
    ("P3", "male", 25, 2.0, True, "umbilical-cord", 2.0, "≥ 2", 3, 718, 16, "≥ 15", None),
    ("P4", "female", 52, None, False, "adipose", 1.5, "1 to < 2", 1, 180, 6, "6–9", None),
    ("P5", "female", 35, 7.5, True, "umbilical-cord", None, None, 2, 710, 20, "≥ 15", None),
    ("P6", "male", 48, 12.0, False, None, 0.9, "< 1", 1, 361, 10, "10–14", None),
    ("P7", "female", 29, 1.0, False, "bone-marrow", 1.2, "1 to < 2", 4, 90, None, None, 120),
    ("P8", "female", 60, 20.0, False, "adipose", 2.5, "≥ 2", 1, None, 4, "0–5", None),
]


def patients() -> pl.DataFrame:
    rows = []
    for pid, sex, age, years, renal, source, dose, band, n, last, sledai, sband, death in _PATIENTS:
        rows.append(
            {
                "patient_id": pid,
                "site": "A",
                "sex": sex,
                "age_years": age,
                "disease_years": years,
                "renal": renal,
                "tissue_source": source,
                "dose_per_kg_million": dose,
                "dose_band": band,
                "infusions": n,
                "first_infusion": first_infusion(pid),
                "last_visit": on_day(pid, last),
                "baseline_sledai": sledai,
                "sledai_band": sband,
                "died": death is not None,
                "death_date": on_day(pid, death),
            }
        )
    return pl.DataFrame(rows, schema=PATIENT_SCHEMA)


# Baseline (day-0) values: pga, pred_mg_day, upcr, egfr, c3, c4, anti_dsdna, facit, sledai,
# immunosuppressants.
_BASELINE: dict[str, tuple[Any, ...]] = {
    "P1": (1.5, 10.0, 2.0, 80.0, 0.6, 0.08, 200.0, 30.0, 12, 2),
    "P2": (1.0, 5.0, None, 100.0, 0.9, 0.15, 50.0, 40.0, 8, 1),
    "P3": (2.0, 20.0, 3.0, 60.0, 0.5, 0.05, 400.0, 20.0, 16, 2),
    "P4": (0.8, 7.5, 0.1, 110.0, 1.0, 0.2, 30.0, 44.0, 6, 0),
    "P5": (2.5, 30.0, 5.0, 45.0, 0.4, 0.04, 600.0, 15.0, 20, 3),
    "P6": (1.2, 12.5, None, 90.0, 0.7, 0.1, 100.0, 35.0, 10, 1),
    "P7": (None, None, None, 95.0, None, None, None, None, None, None),
    "P8": (1.0, 5.0, 0.2, 105.0, 0.8, 0.12, 80.0, 38.0, 4, 0),
}
_BASELINE_FIELDS = (
    "pga",
    "pred_mg_day",
    "upcr",
    "egfr",
    "c3",
    "c4",
    "anti_dsdna",
    "facit",
    "sledai",
    "immunosuppressants",
)

# Follow-up visits: (patient, timepoint or None, day, values). Values not given are null.
T, F = True, False
_FOLLOW_UP: list[tuple[str, str | None, int, dict[str, Any]]] = [
    ("P1", "month1", 30, {"sri4": F, "pred_mg_day": 10.0}),
    ("P1", "month3", 90, {"sri4": T, "pred_mg_day": 7.5}),
    ("P1", "month6", 180, {"sri4": T, "renal_complete": T, "renal_partial_or_better": T,
                           "pred_mg_day": 5.0, "immunosuppressants": 2}),
    ("P1", "month12", 360, {"sri4": T, "renal_complete": T, "pred_mg_day": 5.0, "c3": 0.9,
                            "immunosuppressants": 1}),
    ("P1", "month24", 720, {"sri4": T, "renal_complete": T, "pred_mg_day": 2.5}),
    ("P2", "month1", 31, {"sri4": F, "pred_mg_day": 5.0}),
    ("P2", None, 60, {"sri4": T}),
    ("P2", "month3", 91, {"sri4": F, "pred_mg_day": 5.0}),
    ("P2", "month6", 181, {"sri4": T, "pred_mg_day": 2.5, "immunosuppressants": 1}),
    ("P2", "month12", 362, {"sri4": F, "pred_mg_day": 0.0, "c3": 1.0, "immunosuppressants": 1}),
    ("P2", "month24", 721, {"sri4": T, "pred_mg_day": 0.0}),
    ("P3", "month1", 29, {"sri4": None, "pred_mg_day": 20.0}),
    ("P3", "month3", 88, {"sri4": T, "pred_mg_day": 15.0}),
    ("P3", "month6", 178, {"sri4": F, "renal_complete": T, "renal_partial_or_better": T,
                           "pred_mg_day": 10.0, "immunosuppressants": 1}),
    ("P3", "month12", 358, {"sri4": T, "renal_complete": F, "pred_mg_day": 7.5, "c3": 0.8,
                            "immunosuppressants": 0}),
    ("P3", "month24", 718, {"sri4": F, "renal_complete": None, "pred_mg_day": 5.0}),
    ("P4", "month1", 30, {"sri4": F, "pred_mg_day": 7.5}),
    ("P4", "month3", 90, {"sri4": F, "pred_mg_day": 5.0}),
    ("P4", "month6", 180, {"sri4": T, "pred_mg_day": 5.0, "immunosuppressants": 0}),
    ("P5", "month1", 30, {"sri4": F, "pred_mg_day": 25.0}),
    ("P5", "month3", 90, {"sri4": None, "pred_mg_day": 20.0}),
    ("P5", "month6", 180, {"sri4": T, "renal_complete": F, "renal_partial_or_better": T,
                           "pred_mg_day": None, "immunosuppressants": 3}),
    ("P5", "month12", 360, {"sri4": None, "renal_complete": None, "pred_mg_day": 10.0,
                            "c3": 0.6, "immunosuppressants": 4}),
    ("P5", "month24", 710, {"sri4": T, "renal_complete": T, "pred_mg_day": 7.5}),
    ("P6", "month1", 30, {"sri4": T, "pred_mg_day": 12.5}),
    ("P6", "month3", 90, {"sri4": T, "pred_mg_day": 10.0}),
    ("P6", "month6", 180, {"sri4": F, "pred_mg_day": 7.5, "immunosuppressants": 1}),
    ("P6", "month12", 361, {"sri4": T, "pred_mg_day": 5.0, "c3": None,
                            "immunosuppressants": None}),
    ("P7", "month1", 30, {"sri4": F, "pred_mg_day": 10.0}),
    ("P7", "month3", 90, {"sri4": F, "pred_mg_day": 10.0}),
]  # fmt: skip


def _visit(
    patient_id: str, timepoint: str | None, day: int, values: dict[str, Any]
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(VISIT_SCHEMA)
    code = "day0" if day == 0 else timepoint or f"unscheduled-day{day}"
    row.update(
        patient_id=patient_id,
        visit_code=code,
        visit_date=on_day(patient_id, day),
        day=day,
        timepoint=timepoint,
        baseline=day == 0,
    )
    row.update(values)
    pred = row["pred_mg_day"]
    if pred is not None:
        row["pred_le_5"] = pred <= 5
        row["pred_le_7_5"] = pred <= 7.5
    return row


def visits() -> pl.DataFrame:
    rows = [
        _visit(pid, None, 0, dict(zip(_BASELINE_FIELDS, values, strict=True)))
        for pid, values in _BASELINE.items()
    ]
    rows += [_visit(*visit) for visit in _FOLLOW_UP]
    return pl.DataFrame(rows, schema=VISIT_SCHEMA).sort("patient_id", "visit_date")


# patient, grade, serious, relatedness, infusion reaction, day, fatal
_ADVERSE_EVENTS: list[tuple[str, int, bool, str, bool, int, bool]] = [
    ("P1", 1, False, "definite", True, 0, False),
    ("P1", 2, False, "possible", False, 40, False),
    ("P2", 3, True, "unlikely", False, 100, False),
    ("P3", 1, False, "not-related", False, -5, False),  # before the first infusion
    ("P3", 2, False, "probable", True, 1, False),
    ("P5", 1, False, "not-related", False, 200, False),
    ("P7", 5, True, "unlikely", False, 120, True),
    ("P1", 1, False, "not-related", False, 300, False),
]


def adverse_events() -> pl.DataFrame:
    rows = [
        {
            "patient_id": pid,
            "term": f"event {i}",
            "ctcae_term": None,
            "grade": grade,
            "serious": serious,
            "relatedness": relatedness,
            "related": relatedness in ("possible", "probable", "definite"),
            "infusion_reaction": reaction,
            "onset": on_day(pid, day),
            "day": day,
            "fatal": fatal,
        }
        for i, (pid, grade, serious, relatedness, reaction, day, fatal) in enumerate(
            _ADVERSE_EVENTS, start=1
        )
    ]
    return pl.DataFrame(rows, schema=AE_SCHEMA)
