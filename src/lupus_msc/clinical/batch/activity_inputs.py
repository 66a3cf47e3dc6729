"""The per-visit inputs LLDAS and DORIS share: SLEDAI-2K descriptors and the prednisone dose.

Both state instruments (§5, §6) read the batch SLEDAI-2K columns (``sledai2k.present``,
``sledai2k.complete``, ``sledai2k.total``, ``sledai2k.clinical_sledai``) and the exact daily
prednisone-equivalent fraction (§11). ``with_activity_inputs`` scores those instruments only when
their columns are not there yet, so a bare prepared frame can be scored directly and a frame
already scored is not scored twice.
"""

from __future__ import annotations

import polars as pl

from lupus_msc.clinical.batch import prednisone_equivalent as batch_prednisone
from lupus_msc.clinical.batch import sledai2k as batch_sledai2k

PRESENT = batch_sledai2k.PREFIX + "present"
"""Bit mask of the descriptors present (bit i = descriptor number i + 1)."""
COMPLETE = batch_sledai2k.PREFIX + "complete"
TOTAL = batch_sledai2k.PREFIX + "total"
CLINICAL_SLEDAI = batch_sledai2k.PREFIX + "clinical_sledai"


def descriptor_bits(keys: frozenset[str] | set[str]) -> int:
    """The bit mask of ``keys`` in the batch SLEDAI-2K numbering (§1 order)."""
    return sum(1 << bit for bit, key in enumerate(batch_sledai2k.KEYS) if key in keys)


def with_activity_inputs(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the batch SLEDAI-2K (§1) and prednisone-equivalent (§11) columns."""
    if PRESENT not in frame.columns:
        frame = batch_sledai2k.score(frame)
    if batch_prednisone.NUMERATOR not in frame.columns:
        frame = batch_prednisone.score(frame)
    return frame


def complete_descriptors() -> pl.Expr:
    """This visit's present descriptors, only when its SLEDAI-2K is complete (else null).

    The single-record LLDAS and DORIS take the descriptor list as a complete assessment (§16.4,
    §16.5), so an incomplete visit has no descriptor list to give them.
    """
    return pl.when(pl.col(COMPLETE)).then(pl.col(PRESENT))


def scorable() -> pl.Expr:
    """The row has every input LLDAS and DORIS require (§16.4, §16.5).

    That is a complete SLEDAI-2K, a PGA and a known prednisone dose.
    """
    return (
        complete_descriptors().is_not_null()
        & pl.col("pga").is_not_null()
        & pl.col(batch_prednisone.NUMERATOR).is_not_null()
    )
