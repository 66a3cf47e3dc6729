"""Hypothesis strategies for random valid visit tables, and the bridge to single-record inputs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import polars as pl
from hypothesis import strategies as st

from lupus_msc.clinical.batch.frame import exact_value, polars_type
from lupus_msc.clinical.batch.schema import BY_NAME, VISIT_COLUMNS, Column

# Values at and around the instruments' thresholds, so that boundaries are drawn often.
NOTABLE: dict[str, list[str]] = {
    "urine_rbc_hpf": ["4.9", "5", "5.1"],
    "urine_wbc_hpf": ["4.9", "5", "5.1"],
    "proteinuria_g_24h": ["0.499", "0.5", "0.501", "3.5"],
    "upcr_g_g": ["0.499", "0.5", "0.501", "0.7", "3", "3.5"],
    "platelets_10e9_l": ["24.9", "25", "49.9", "50", "59.9", "60", "75", "99.9", "100", "100.1"],
    "platelets_lln_10e9_l": ["150"],
    "wbc_10e9_l": ["0.9", "1", "2", "2.99", "3", "3.01"],
    "wbc_lln_10e9_l": ["4"],
    "neutrophils_10e9_l": ["0.49", "0.5", "1", "1.5"],
    "neutrophils_lln_10e9_l": ["1.8"],
    "lymphocytes_10e9_l": ["0.19", "0.2", "0.5", "0.8"],
    "lymphocytes_lln_10e9_l": ["1"],
    "hemoglobin_g_dl": ["6.9", "7", "8", "10"],
    "hemoglobin_lln_g_dl": ["12"],
    "temperature_c": ["37.9", "38", "38.1", "39", "40", "40.1"],
    "pga": ["0", "0.49", "0.5", "1", "1.01", "1.5", "1.8", "2.5", "2.51", "3"],
    "c3_g_l": ["0.89", "0.9", "0.91"],
    "c3_lln_g_l": ["0.9"],
    "c4_g_l": ["0.099", "0.1", "0.101"],
    "c4_lln_g_l": ["0.1"],
    "anti_dsdna_iu_ml": ["29.9", "30", "30.1"],
    "anti_dsdna_uln_iu_ml": ["30"],
    "creatinine_mg_dl": ["0.7", "0.9", "1", "1.2"],
    "cystatin_c_mg_l": ["0.8", "1"],
    "weight_kg": ["40", "60", "80"],
    "glucocorticoid_1_dose_mg": ["0", "5", "7.5", "10", "16", "1.125", "30", "100"],
    "glucocorticoid_2_dose_mg": ["0", "2.5", "4", "1.5"],
}
# Upper ends for random draws where the schema leaves a column unbounded or very wide.
DRAW_HIGH: dict[str, str] = {
    "urine_rbc_hpf": "60",
    "urine_wbc_hpf": "60",
    "proteinuria_g_24h": "8",
    "upcr_g_g": "8",
    "platelets_10e9_l": "600",
    "platelets_lln_10e9_l": "200",
    "wbc_10e9_l": "20",
    "wbc_lln_10e9_l": "5",
    "neutrophils_10e9_l": "15",
    "neutrophils_lln_10e9_l": "2.5",
    "lymphocytes_10e9_l": "5",
    "lymphocytes_lln_10e9_l": "1.5",
    "hemoglobin_g_dl": "18",
    "hemoglobin_lln_g_dl": "13",
    "temperature_c": "41.5",
    "hours_above_40": "72",
    "c3_g_l": "2",
    "c3_lln_g_l": "1",
    "c4_g_l": "0.5",
    "c4_lln_g_l": "0.2",
    "anti_dsdna_iu_ml": "400",
    "anti_dsdna_uln_iu_ml": "100",
    "creatinine_mg_dl": "6",
    "creatinine_uln_mg_dl": "1.3",
    "cystatin_c_mg_l": "5",
    "weight_kg": "150",
    "glucocorticoid_1_dose_mg": "120",
    "glucocorticoid_2_dose_mg": "40",
    "alt_u_l": "2000",
    "alt_uln_u_l": "60",
    "ast_u_l": "2000",
    "ast_uln_u_l": "60",
}


def _decimal_strategy(column: Column) -> st.SearchStrategy[Decimal]:
    unit = Decimal(1).scaleb(-column.scale)
    low = column.low if column.low is not None else Decimal(0)
    high = Decimal(DRAW_HIGH.get(column.name, str(column.high if column.high is not None else 100)))
    drawn = st.integers(int(low / unit), int(high / unit)).map(lambda n: Decimal(n) * unit)
    notable = [Decimal(value) for value in NOTABLE.get(column.name, [])]
    return st.one_of(drawn, st.sampled_from(notable)) if notable else drawn


def value_strategy(column: Column) -> st.SearchStrategy[Any]:
    """A valid value of ``column`` (or None where the column is optional)."""
    if column.kind == "decimal":
        inner: st.SearchStrategy[Any] = _decimal_strategy(column)
    elif column.kind == "int":
        low = int(column.low or 0)
        high = int(DRAW_HIGH.get(column.name, column.high if column.high is not None else 4))
        inner = st.integers(low, high)
    elif column.kind == "bool":
        inner = st.booleans()
    elif column.kind == "choice":
        inner = st.sampled_from(column.choices)
    elif column.kind == "text_list":
        inner = st.lists(st.sampled_from(column.choices), max_size=3, unique=True)
    else:
        raise ValueError(f"no strategy for {column.name}")
    return st.one_of(st.none(), inner)


@cache
def visit_strategy(columns: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """One visit with a random value (or null) in each of ``columns`` (built once, then reused)."""
    return st.fixed_dictionaries({name: value_strategy(BY_NAME[name]) for name in columns})


@st.composite
def visit_tables(
    draw: st.DrawFn, columns: list[str], max_patients: int = 3, max_visits: int = 4
) -> list[dict[str, Any]]:
    """Rows of a visit table: a few patients, each with a few visits on increasing dates."""
    rows: list[dict[str, Any]] = []
    visit = visit_strategy(tuple(columns))
    for patient in range(draw(st.integers(1, max_patients))):
        day = date(2024, 1, 1)
        for _ in range(draw(st.integers(1, max_visits))):
            day += timedelta(days=draw(st.integers(1, 200)))
            rows.append({"patient_id": f"P{patient}", "visit_date": day, **draw(visit)})
    return rows


def frame_of(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The rows as a visit table with the types a Parquet file would carry (decimals as floats)."""
    names = list(rows[0])
    data = {
        name: [float(row[name]) if isinstance(row[name], Decimal) else row[name] for row in rows]
        for name in names
    }
    return pl.DataFrame(data, schema={name: polars_type(BY_NAME[name]) for name in names})


def exact(row: dict[str, Any], name: str) -> Any:
    """A prepared row's value as the single-record interface receives it (decimals exact)."""
    return exact_value(row, name)


def as_json_number(value: Decimal | int | None) -> Any:
    """A value for a JSON payload built as a dict (our test helper re-reads floats exactly)."""
    return float(value) if isinstance(value, Decimal) else value


ALL_COLUMN_NAMES = [column.name for column in VISIT_COLUMNS]
