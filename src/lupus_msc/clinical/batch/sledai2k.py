"""SLEDAI-2K over a prepared visit table (§1; contract §16.1), equal to ``clinical.sledai2k``.

Result columns (prefix ``sledai2k.``): ``total``, ``score_max_possible``, ``complete``,
``clinical_sledai``, ``clinical_sledai_no_labs``, and three descriptor sets as bit masks (bit i is
descriptor number i + 1): ``present`` (the contributions), ``missing`` (not assessed) and
``candidates``. The window and flavour are parameters of the run, as in the single-record version.
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl

from lupus_msc.clinical.batch.frame import exact_value, fixed_threshold
from lupus_msc.clinical.batch.masks import mask_expr, names_in
from lupus_msc.clinical.sledai2k import DESCRIPTORS, LABORATORY, SEROLOGY, WEIGHTS, SledaiLabs

PREFIX = "sledai2k."
KEYS = [descriptor.key for descriptor in DESCRIPTORS]


def _above(name: str, threshold: str | int) -> pl.Expr:
    return pl.col(name) > fixed_threshold(name, threshold)


def _below(name: str, threshold: str | int) -> pl.Expr:
    return pl.col(name) < fixed_threshold(name, threshold)


def _low_complement() -> pl.Expr:
    """§16.1: true if any complement given with its LLN is below it; null if none is given."""
    c3 = pl.col("c3_g_l") < pl.col("c3_lln_g_l")
    c4 = pl.col("c4_g_l") < pl.col("c4_lln_g_l")
    return (
        pl.when(c3.is_null() & c4.is_null())
        .then(None)
        .otherwise(c3.fill_null(False) | c4.fill_null(False))
    )


def lab_findings() -> dict[str, pl.Expr]:
    """Descriptors decided by labs, with the strict inequalities of §1 (null when no lab)."""
    return {
        "hematuria": _above("urine_rbc_hpf", 5),
        "pyuria": _above("urine_wbc_hpf", 5),
        "proteinuria": pl.coalesce(_above("proteinuria_g_24h", "0.5"), _above("upcr_g_g", "0.5")),
        "thrombocytopenia": _below("platelets_10e9_l", 100),
        "leukopenia": _below("wbc_10e9_l", 3),
        "fever": _above("temperature_c", 38),
        "low_complement": _low_complement(),
        "increased_dna_binding": pl.col("anti_dsdna_iu_ml") > pl.col("anti_dsdna_uln_iu_ml"),
    }


def _states() -> list[pl.Expr]:
    """Temporary columns per descriptor: ``_present_``, ``_unassessed_``, ``_candidate_<key>``."""
    from_labs = lab_findings()
    confirmed = pl.col("attribution_confirmed").fill_null(False)
    states: list[pl.Expr] = []
    for descriptor in DESCRIPTORS:
        explicit = pl.col(descriptor.key)
        finding = (
            pl.coalesce(explicit, from_labs[descriptor.key])
            if descriptor.key in from_labs
            else explicit
        )
        if descriptor.needs_attribution and descriptor.key in from_labs:
            candidate = explicit.is_null() & from_labs[descriptor.key].fill_null(False)
        else:
            candidate = pl.lit(False)
        unassessed = finding.is_null() | (candidate & ~confirmed)
        states += [
            candidate.alias(f"_candidate_{descriptor.key}"),
            unassessed.alias(f"_unassessed_{descriptor.key}"),
            (finding.fill_null(False) & ~unassessed).alias(f"_present_{descriptor.key}"),
        ]
    return states


def _weighted(state: str, keys: list[str]) -> pl.Expr:
    parts = [pl.when(pl.col(f"_{state}_{key}")).then(WEIGHTS[key]).otherwise(0) for key in keys]
    return pl.sum_horizontal(parts).cast(pl.Int32)


def score(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the SLEDAI-2K result columns to a prepared visit table (§1, §16.1)."""
    with_states = frame.with_columns(_states())
    total = _weighted("present", KEYS)
    results = [
        total.alias(PREFIX + "total"),
        (total + _weighted("unassessed", KEYS)).alias(PREFIX + "score_max_possible"),
        (~pl.any_horizontal([pl.col(f"_unassessed_{key}") for key in KEYS])).alias(
            PREFIX + "complete"
        ),
        _weighted("present", [key for key in KEYS if key not in SEROLOGY]).alias(
            PREFIX + "clinical_sledai"
        ),
        _weighted("present", [key for key in KEYS if key not in LABORATORY]).alias(
            PREFIX + "clinical_sledai_no_labs"
        ),
        *[
            mask_expr([(bit, pl.col(f"_{state}_{key}")) for bit, key in enumerate(KEYS)]).alias(
                PREFIX + name
            )
            for state, name in (
                ("present", "present"),
                ("unassessed", "missing"),
                ("candidate", "candidates"),
            )
        ],
    ]
    temporary = [
        column
        for column in with_states.columns
        if column.startswith(("_present_", "_unassessed_", "_candidate_"))
    ]
    return with_states.with_columns(results).drop(temporary)


def result_fields(
    row: dict[str, Any], *, window_days: Literal[10, 30] = 10, flavor: str = "2K"
) -> dict[str, Any]:
    """One scored row in the single-record result's shape (§16.1), for comparison and export."""
    present = names_in(row[PREFIX + "present"], KEYS)
    return {
        "total": row[PREFIX + "total"],
        "score_max_possible": row[PREFIX + "score_max_possible"],
        "complete": row[PREFIX + "complete"],
        "contributions": {key: WEIGHTS[key] for key in present},
        "candidates": names_in(row[PREFIX + "candidates"], KEYS),
        "clinical_sledai": row[PREFIX + "clinical_sledai"],
        "clinical_sledai_no_labs": row[PREFIX + "clinical_sledai_no_labs"],
        "missing": names_in(row[PREFIX + "missing"], KEYS),
        "window_days": window_days,
        "flavor": flavor,
    }


def single_record_input(row: dict[str, Any]) -> dict[str, Any]:
    """The single-record input (§16.1) for one prepared row: what a per-visit calculator gets."""
    return {
        **{key: row[key] for key in KEYS},
        "labs": {name: exact_value(row, name) for name in SledaiLabs.model_fields},
        "attribution_confirmed": bool(row["attribution_confirmed"]),
    }
