"""Classic SELENA-SLEDAI Flare Index over a prepared visit table (§2; contract §16.2).

Equal to ``clinical.sfi`` with, for every visit, these single-record inputs, the patient's
previous visit supplying everything "previous":

- ``sledai_previous`` / ``sledai_current``: the batch SLEDAI-2K total (§1) of the previous /
  current visit when that visit's SLEDAI is complete, else absent (§0.4);
- ``pga_previous`` / ``pga_current``: the ``pga`` column (§3), exact hundredths;
- ``prednisone_mg_day_previous`` / ``_current``: the batch prednisone equivalent (§11) as its exact
  fraction NUMERATOR / DENOMINATOR, absent when unknown (a drug without a dose);
  ``weight_kg``: the current visit's. "Increased" is ``Nc·Dp > Np·Dc`` and "> 0.5 mg/kg/day" is
  ``20·N > W·D`` (W = weight in tenths of a kg), both on Int128: never a rounded quotient;
- ``new_mild_manifestations`` / ``new_severe_manifestations``: the current row's lists (an empty
  or absent list is nothing new);
- ``platelets_10e9_l``, ``hemoglobin_g_dl`` and the three treatment flags: the current row's;
- ``hemoglobin_fall_g_dl``: previous − current haemoglobin when both visits give one; 0 when it
  did not fall (a rise is no fall: the single-record field is ≥ 0); absent when either is missing.
  So the D7 haemolysis criterion "fall > 3 g/dL" compares consecutive visits.

The first visit of a patient has no previous visit: everything "previous" is absent, exactly as a
single-record input without those fields (its flare is then null unless a severe criterion fires).

Result columns (prefix ``sfi.``): ``criteria_met`` (bit mask, bit i = ``sfi.CRITERIA[i]``),
``flare``, ``flare_clinical_only`` and ``flare_at_least`` (Enum ``none`` / ``mild_moderate`` /
``severe``; the first two null when undecided, §2 missing-data rule) and ``missing`` (bit mask
over ``PAIRS``, set only while ``flare_clinical_only`` is null). The exact inputs that come from
the previous visit are kept too, so that ``single_record_input`` rebuilds a visit's input from its
row alone: ``sledai_previous``, ``pga_previous_hundredths``, ``prednisone_previous_numerator`` /
``_denominator`` (Int128) and ``hemoglobin_fall_tenths`` (all null at a first visit).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import polars as pl

from lupus_msc.clinical import sfi
from lupus_msc.clinical.batch import prednisone_equivalent as batch_prednisone
from lupus_msc.clinical.batch import sledai2k as batch_sledai2k
from lupus_msc.clinical.batch.frame import (
    exact_value,
    fixed_threshold,
    fixed_value,
    fraction_to_exact,
)
from lupus_msc.clinical.batch.longitudinal import add_positions, previous
from lupus_msc.clinical.batch.masks import mask_expr, names_in
from lupus_msc.clinical.batch.schema import BY_NAME
from lupus_msc.clinical.batch.sri import known_sledai

PREFIX = "sfi."
CRITERIA = sfi.CRITERIA
"""Bit i of ``sfi.criteria_met`` is CRITERIA[i] (the §2 table order)."""
PAIRS = ("sledai_previous", "sledai_current", "pga_previous", "pga_current")
"""Bit i of ``sfi.missing`` is PAIRS[i]."""
FLARE = pl.Enum(["none", "mild_moderate", "severe"])
_SEVERE_BITS = sum(1 << bit for bit, key in enumerate(CRITERIA) if key in sfi.SEVERE)
_CLINICAL_BITS = sum(1 << bit for bit, key in enumerate(CRITERIA) if key not in sfi.TREATMENT)
_PAIRS_MISSING = "_sfi_pairs_missing"
SLEDAI_PREVIOUS = PREFIX + "sledai_previous"
PGA_PREVIOUS = PREFIX + "pga_previous_hundredths"
PREDNISONE_PREVIOUS_NUMERATOR = PREFIX + "prednisone_previous_numerator"
PREDNISONE_PREVIOUS_DENOMINATOR = PREFIX + "prednisone_previous_denominator"
HEMOGLOBIN_FALL = PREFIX + "hemoglobin_fall_tenths"
AS_GIVEN = (
    "new_mild_manifestations",
    "new_severe_manifestations",
    "added_nsaid_or_hydroxychloroquine",
    "added_cyclophosphamide_azathioprine_methotrexate",
    "hospitalized_for_sle",
)
"""Columns the single-record input takes from the current row as they are."""


def _score_criteria(sledai_previous: pl.Expr, sledai: pl.Expr) -> dict[str, pl.Expr]:
    """§2 score row: mild = rise ≥ 3 to ≤ 12; severe = rise to > 12 (null: not evaluable)."""
    return {
        "sledai_mild": (sledai - sledai_previous >= sfi.SLEDAI_RISE)
        & (sledai <= sfi.SLEDAI_SEVERE_ABOVE),
        "sledai_severe": (sledai > sfi.SLEDAI_SEVERE_ABOVE) & (sledai > sledai_previous),
    }


def _pga_criteria() -> dict[str, pl.Expr]:
    """§2 PGA row (D6): mild = rise ≥ 1.0 to ≤ 2.5; severe = rise to > 2.5, in hundredths."""
    pga, pga_previous = pl.col("pga"), previous("pga")
    severe_above = fixed_threshold("pga", sfi.PGA_SEVERE_ABOVE)
    return {
        "pga_mild": (pga - pga_previous >= fixed_threshold("pga", sfi.PGA_RISE))
        & (pga <= severe_above),
        "pga_severe": (pga > severe_above) & (pga > pga_previous),
    }


def _prednisone_criteria() -> dict[str, pl.Expr]:
    """§2 prednisone row, decided on the exact fractions (module doc); null: not evaluated."""
    numerator = pl.col(batch_prednisone.NUMERATOR)
    denominator = pl.col(batch_prednisone.DENOMINATOR)
    increased = numerator * previous(denominator) > previous(numerator) * denominator
    # N/D > limit × W / 10^scale  ⇔  N × q > W × p × D, with limit / 10^scale = p / q.
    limit = Fraction(sfi.PREDNISONE_SEVERE_ABOVE_MG_KG_DAY) / 10 ** BY_NAME["weight_kg"].scale
    weight = pl.col("weight_kg").cast(pl.Int128)
    above = numerator * limit.denominator > weight * limit.numerator * denominator
    return {"prednisone_mild": increased & ~above, "prednisone_severe": increased & above}


def hemoglobin_fall() -> pl.Expr:
    """Previous − current haemoglobin in tenths of g/dL, 0 for a rise, null when one is missing."""
    fall = previous("hemoglobin_g_dl") - pl.col("hemoglobin_g_dl")
    return pl.when(fall.is_not_null()).then(pl.max_horizontal(fall, pl.lit(0)))


def _other_criteria() -> dict[str, pl.Expr]:
    """§2 manifestations, laboratory, drugs, hospitalisation (D7 haemolysis: fall > 3 g/dL)."""
    hemolysis = (
        pl.col("hemoglobin_g_dl") < fixed_threshold("hemoglobin_g_dl", sfi.HEMOGLOBIN_SEVERE_BELOW)
    ) | (hemoglobin_fall() > fixed_threshold("hemoglobin_g_dl", sfi.HEMOGLOBIN_FALL_SEVERE_ABOVE))
    platelets_below = fixed_threshold("platelets_10e9_l", sfi.PLATELETS_SEVERE_BELOW)
    return {
        "manifestation_mild": pl.col(AS_GIVEN[0]).list.len() > 0,
        "manifestation_severe": pl.col(AS_GIVEN[1]).list.len() > 0,
        "platelets_severe": pl.col("platelets_10e9_l") < platelets_below,
        "hemolysis_severe": hemolysis,
        "drug_mild": pl.col(AS_GIVEN[2]),
        "drug_severe": pl.col(AS_GIVEN[3]),
        "hospitalization_severe": pl.col(AS_GIVEN[4]),
    }


def _masks() -> list[pl.Expr]:
    """The visit's exact "previous" inputs, then the criteria met and the absent pair fields as
    bit masks (a null criterion: not met)."""
    sledai = known_sledai()
    sledai_previous = previous(sledai)
    criteria = {
        **_score_criteria(sledai_previous, sledai),
        **_pga_criteria(),
        **_prednisone_criteria(),
        **_other_criteria(),
    }
    pairs = (sledai_previous, sledai, previous("pga"), pl.col("pga"))
    return [
        sledai_previous.alias(SLEDAI_PREVIOUS),
        previous("pga").alias(PGA_PREVIOUS),
        previous(batch_prednisone.NUMERATOR).alias(PREDNISONE_PREVIOUS_NUMERATOR),
        previous(batch_prednisone.DENOMINATOR).alias(PREDNISONE_PREVIOUS_DENOMINATOR),
        hemoglobin_fall().alias(HEMOGLOBIN_FALL),
        mask_expr([(bit, criteria[key]) for bit, key in enumerate(CRITERIA)]).alias(
            PREFIX + "criteria_met"
        ),
        mask_expr([(bit, value.is_null()) for bit, value in enumerate(pairs)]).alias(
            _PAIRS_MISSING
        ),
    ]


def _at_least(met: pl.Expr) -> pl.Expr:
    """The mildest category the criteria met establish (§2 classification rule)."""
    return (
        pl.when((met & _SEVERE_BITS) != 0)
        .then(pl.lit("severe"))
        .when(met != 0)
        .then(pl.lit("mild_moderate"))
        .otherwise(pl.lit("none"))
    )


def _classify(met: pl.Expr) -> pl.Expr:
    """§2 missing-data rule: severe suffices; otherwise an incomplete pair leaves it undecided."""
    decided = ((met & _SEVERE_BITS) != 0) | (pl.col(_PAIRS_MISSING) == 0)
    return pl.when(decided).then(_at_least(met))


def _categories() -> list[pl.Expr]:
    met = pl.col(PREFIX + "criteria_met")
    clinical = _classify(met & _CLINICAL_BITS)
    return [
        _classify(met).cast(FLARE).alias(PREFIX + "flare"),
        clinical.cast(FLARE).alias(PREFIX + "flare_clinical_only"),
        _at_least(met).cast(FLARE).alias(PREFIX + "flare_at_least"),
        pl.when(clinical.is_null())
        .then(pl.col(_PAIRS_MISSING))
        .otherwise(0)
        .alias(PREFIX + "missing"),
    ]


def score(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the SFI result columns to a prepared visit table (§2, §16.2; module doc).

    Adds the batch SLEDAI-2K and prednisone-equivalent columns first when they are absent, and
    the visit positions.
    """
    if batch_sledai2k.PREFIX + "total" not in frame.columns:
        frame = batch_sledai2k.score(frame)
    if batch_prednisone.NUMERATOR not in frame.columns:
        frame = batch_prednisone.score(frame)
    with_masks = add_positions(frame).with_columns(_masks())
    return with_masks.with_columns(_categories()).drop(_PAIRS_MISSING)


def result_fields(row: dict[str, Any]) -> dict[str, Any]:
    """One scored row in the single-record result's shape (§16.2)."""
    return {
        "flare": row[PREFIX + "flare"],
        "criteria_met": names_in(row[PREFIX + "criteria_met"], CRITERIA),
        "flare_clinical_only": row[PREFIX + "flare_clinical_only"],
        "flare_at_least": row[PREFIX + "flare_at_least"],
        "missing": names_in(row[PREFIX + "missing"], PAIRS),
    }


def single_record_input(row: dict[str, Any]) -> dict[str, Any]:
    """The single-record input (§16.2) for one scored row (module doc), built from the row alone:
    the previous visit's values are the ``sfi.`` columns kept for it. Absent fields are left out."""
    complete = row[batch_sledai2k.PREFIX + "complete"]
    given = {
        "sledai_previous": row[SLEDAI_PREVIOUS],
        "sledai_current": row[batch_sledai2k.PREFIX + "total"] if complete else None,
        "pga_previous": fixed_value(row[PGA_PREVIOUS], "pga"),
        "pga_current": exact_value(row, "pga"),
        "prednisone_mg_day_previous": fraction_to_exact(
            row[PREDNISONE_PREVIOUS_NUMERATOR], row[PREDNISONE_PREVIOUS_DENOMINATOR]
        ),
        "prednisone_mg_day_current": fraction_to_exact(
            row[batch_prednisone.NUMERATOR], row[batch_prednisone.DENOMINATOR]
        ),
        "weight_kg": exact_value(row, "weight_kg"),
        "platelets_10e9_l": exact_value(row, "platelets_10e9_l"),
        "hemoglobin_g_dl": exact_value(row, "hemoglobin_g_dl"),
        "hemoglobin_fall_g_dl": fixed_value(row[HEMOGLOBIN_FALL], "hemoglobin_g_dl"),
        **{name: row[name] for name in AS_GIVEN},
    }
    return {name: value for name, value in given.items() if value is not None}
