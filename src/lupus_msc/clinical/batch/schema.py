"""The visit table: one row per patient visit, recorded items only (never precomputed scores).

Each decimal column has a fixed number of decimal places that it keeps exactly: the batch engine
works on ``round(value × 10^scale)`` as an integer, so thresholds and differences are exact
(§0.2) — a PGA of 1.8 against 1.5 is 180 − 150 = 30 hundredths, never 0.30000000000000004.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from lupus_msc.clinical import facit_f, prednisone_equivalent, sdi, sfi, sledai2k

Kind = Literal["text", "date", "bool", "int", "decimal", "choice", "text_list"]


@dataclass(frozen=True)
class Column:
    """One column of the visit table."""

    name: str
    kind: Kind
    description: str
    scale: int = 0
    """Decimal places kept exactly (decimal columns)."""
    low: Decimal | None = None
    high: Decimal | None = None
    choices: tuple[str, ...] = ()
    """Allowed texts (choice and text_list columns)."""
    allowed: tuple[int, ...] = ()
    """Allowed whole numbers, when not every value in the range is (FACIT-F answers)."""
    required: bool = False


def _decimal(
    name: str, scale: int, description: str, low: str | int = 0, high: str | int | None = None
) -> Column:
    return Column(
        name,
        "decimal",
        description,
        scale=scale,
        low=Decimal(low),
        high=None if high is None else Decimal(high),
    )


def _int(name: str, description: str, low: int = 0, high: int | None = None) -> Column:
    return Column(
        name, "int", description, low=Decimal(low), high=None if high is None else Decimal(high)
    )


def _bool(name: str, description: str) -> Column:
    return Column(name, "bool", description)


FIXED_POINT_MAX = 2**31 - 1
"""Every decimal column's maximum × 10^scale fits a 32-bit integer (checked by a test)."""

GLUCOCORTICOID_SLOTS = 2
"""Systemic glucocorticoids recorded per visit (prednisone-equivalent sums them, §11)."""

GLUCOCORTICOID_DRUGS: tuple[str, ...] = get_args(prednisone_equivalent.Drug)
MILD_MANIFESTATIONS: tuple[str, ...] = get_args(sfi.MildManifestation)
SEVERE_MANIFESTATIONS: tuple[str, ...] = get_args(sfi.SevereManifestation)


def _glucocorticoid_columns(slot: int) -> list[Column]:
    prefix = f"glucocorticoid_{slot}"
    return [
        Column(f"{prefix}_drug", "choice", "systemic glucocorticoid", choices=GLUCOCORTICOID_DRUGS),
        _decimal(f"{prefix}_dose_mg", 3, "dose per administration, mg", high=2000),
        _int(f"{prefix}_doses_per_day", "administrations per dosing day", low=1, high=24),
        _int(f"{prefix}_every_days", "1 daily, 2 alternate days …", low=1, high=28),
    ]


KEYS = [
    Column("patient_id", "text", "study code of the patient", required=True),
    Column("visit_date", "date", "date of the assessment", required=True),
]
PATIENT = [
    Column("sex", "choice", "female or male (eGFR, §9)", choices=("female", "male")),
    _int("age_years", "age at the visit, whole years (eGFR needs 18–120, §9)", high=120),
    _decimal("weight_kg", 1, "body weight, kg", low=2, high=400),
    _bool("is_baseline", "the baseline visit SRI, renal response and FACIT change compare with"),
]
SLEDAI = [
    *[_bool(d.key, f"SLEDAI-2K descriptor {d.number} (§1)") for d in sledai2k.DESCRIPTORS],
    _bool("attribution_confirmed", "lab-derived SLEDAI candidates confirmed as lupus (§1)"),
]
LABS = [
    _decimal("urine_rbc_hpf", 1, "urine red cells per high-power field", high=1000),
    _decimal("urine_wbc_hpf", 1, "urine white cells per high-power field", high=1000),
    _decimal("proteinuria_g_24h", 3, "24-hour urine protein, g", high=100),
    _decimal("upcr_g_g", 3, "urine protein/creatinine ratio, g/g", high=100),
    _decimal("platelets_10e9_l", 1, "platelets, 10⁹/L", high=2000),
    _decimal("platelets_lln_10e9_l", 1, "platelets lower limit of normal, 10⁹/L", high=2000),
    _decimal("wbc_10e9_l", 2, "white cells, 10⁹/L", high=500),
    _decimal("wbc_lln_10e9_l", 2, "white cells lower limit of normal, 10⁹/L", high=500),
    _decimal("neutrophils_10e9_l", 2, "neutrophils, 10⁹/L", high=500),
    _decimal("neutrophils_lln_10e9_l", 2, "neutrophils LLN, 10⁹/L", high=500),
    _decimal("lymphocytes_10e9_l", 2, "lymphocytes, 10⁹/L", high=500),
    _decimal("lymphocytes_lln_10e9_l", 2, "lymphocytes LLN, 10⁹/L", high=500),
    _decimal("hemoglobin_g_dl", 1, "hemoglobin, g/dL", high=25),
    _decimal("hemoglobin_lln_g_dl", 1, "hemoglobin LLN, g/dL", high=25),
    _decimal("temperature_c", 1, "body temperature, °C", low=25, high=45),
    _decimal("hours_above_40", 1, "hours of fever above 40.0 °C (CTCAE, §12)", high=2400),
    _decimal("c3_g_l", 2, "complement C3, g/L", high=20),
    _decimal("c3_lln_g_l", 2, "C3 lower limit of normal, g/L", high=20),
    _decimal("c4_g_l", 3, "complement C4, g/L", high=20),
    _decimal("c4_lln_g_l", 3, "C4 lower limit of normal, g/L", high=20),
    _decimal("anti_dsdna_iu_ml", 1, "anti-dsDNA, IU/mL", high=100000),
    _decimal("anti_dsdna_uln_iu_ml", 1, "anti-dsDNA upper limit of normal, IU/mL", high=100000),
    _decimal("creatinine_mg_dl", 2, "serum creatinine, mg/dL (IDMS)", high=30),
    _decimal("creatinine_uln_mg_dl", 2, "creatinine upper limit of normal, mg/dL", high=30),
    _decimal("cystatin_c_mg_l", 2, "serum cystatin C, mg/L", high=20),
    _int("alt_u_l", "ALT, U/L", high=100000),
    _int("alt_uln_u_l", "ALT upper limit of normal, U/L", high=100000),
    _int("ast_u_l", "AST, U/L", high=100000),
    _int("ast_uln_u_l", "AST upper limit of normal, U/L", high=100000),
]
ACTIVITY = [
    _decimal("pga", 2, "physician global assessment, 0–3 (§3)", high=3),
    _int("bilag_new_a", "new BILAG-2004 A domains since baseline (SRI, §4)", high=9),
    _int("bilag_new_b", "new BILAG-2004 B domains since baseline (SRI, §4)", high=9),
    Column("new_mild_manifestations", "text_list", "SFI mild/moderate manifestations (§2)",
           choices=MILD_MANIFESTATIONS),
    Column("new_severe_manifestations", "text_list", "SFI severe manifestations (§2)",
           choices=SEVERE_MANIFESTATIONS),
    _bool("added_nsaid_or_hydroxychloroquine", "NSAID or HCQ added for SLE activity (§2)"),
    _bool(
        "added_cyclophosphamide_azathioprine_methotrexate",
        "CYC, AZA or MTX started for SLE activity (§2)",
    ),
    _bool("hospitalized_for_sle", "hospitalised for SLE activity (§2)"),
    _bool("new_features", "clinician: new lupus activity since the previous assessment (§5)"),
    _bool("hemolytic_anemia", "haemolytic anaemia (LLDAS, §5)"),
    _bool("gi_activity", "gastrointestinal lupus activity (LLDAS, §5)"),
    _bool("investigational_drug", "on an investigational drug (LLDAS, §5)"),
    _bool("immunosuppressants_tolerated", "maintenance immunosuppressants well tolerated (§5)"),
    _bool("other_drugs_stable", "antimalarials, immunosuppressives, biologics stable (§6)"),
]  # fmt: skip
MEDICATION = [column for slot in (1, 2) for column in _glucocorticoid_columns(slot)]
FACIT = [
    Column(f"facit_{code}", "int", f"FACIT-Fatigue item {code}: 0–4, 8/9 unanswered (§13)",
           low=Decimal(0), high=Decimal(9), allowed=(0, 1, 2, 3, 4, 8, 9))
    for code in facit_f.ITEMS
]  # fmt: skip
SDI = [
    _int(f"sdi_{key}", f"SLICC/ACR damage item {key}: 0/1, or a count (§8)", high=20)
    for key in sdi.BY_KEY
]

VISIT_COLUMNS: tuple[Column, ...] = (
    *KEYS,
    *PATIENT,
    *SLEDAI,
    *LABS,
    *ACTIVITY,
    *MEDICATION,
    *FACIT,
    *SDI,
)
BY_NAME: dict[str, Column] = {column.name: column for column in VISIT_COLUMNS}


def _kind_text(column: Column) -> str:
    if column.kind == "decimal":
        return f"number ({column.scale} dp)"
    if column.kind in ("choice", "text_list"):
        prefix = "text" if column.kind == "choice" else "list of"
        return f"{prefix}: {', '.join(column.choices)}"
    return column.kind


def _range_text(column: Column) -> str:
    if column.allowed:
        return ", ".join(str(value) for value in column.allowed)
    if column.low is None and column.high is None:
        return ""
    high = "" if column.high is None else str(column.high)
    return f"{column.low}–{high}" if high else f"≥ {column.low}"


def markdown_table() -> str:
    """The visit table's columns as a Markdown table (README, kept in step by a test)."""
    lines = ["| column | type | range | meaning |", "|---|---|---|---|"]
    for column in VISIT_COLUMNS:
        required = " (required)" if column.required else ""
        lines.append(
            f"| `{column.name}` | {_kind_text(column)} | {_range_text(column)} "
            f"| {column.description}{required} |"
        )
    return "\n".join(lines)
