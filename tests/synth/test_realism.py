"""The synthetic cohort looks like published MSC cohorts when scored with the batch engine.

Shares and effect sizes are those the generator was built to reproduce (synth.cohort,
shared/evidence/msc-sle-studies.csv): SLEDAI-2K falls from about 10–14 to about 3 in responders by
month 12 (Liang 2010: 12.2 → 3.2), not in non-responders; nephritis responders halve their
proteinuria; flares bring activity back after improvement; damage only accrues.
"""

from __future__ import annotations

import polars as pl

from lupus_msc.clinical.batch.schema import BY_NAME
from lupus_msc.clinical.facit_f import ITEMS as FACIT_ITEMS
from lupus_msc.clinical.facit_f import MAX_ITEM_SCORE, POSITIVE_ITEMS
from lupus_msc.synth import Cohort
from lupus_msc.synth.cohort import SHARES, TRAJECTORIES
from tests.synth.conftest import at_month, number

TOTAL = "sledai2k.total"
DOSE = "prednisone-equivalent.prednisone_mg_day"


def mean_sledai(frame: pl.DataFrame, kind: str, month: int) -> float:
    """Mean SLEDAI-2K of a trajectory type at the baseline visit (month 0) or at ``month``."""
    patients = frame.filter(pl.col("trajectory") == kind)
    visits = patients.filter(pl.col("is_baseline")) if month == 0 else at_month(patients, month)
    return number(visits[TOTAL].mean())


def test_trajectory_types_come_in_their_expected_shares(cohort: Cohort) -> None:
    counts = dict(cohort.patients["trajectory"].value_counts().iter_rows())
    for kind, share in zip(TRAJECTORIES, SHARES, strict=True):
        assert abs(counts[kind] / cohort.patients.height - share) < 0.03, kind


def test_baseline_activity_is_that_of_refractory_active_sle(scored: pl.DataFrame) -> None:
    baseline = scored.filter(pl.col("is_baseline"))
    assert 9 <= number(baseline[TOTAL].mean()) <= 16
    assert number((baseline["pga"] / 100).mean()) > 0.9  # PGA is kept in hundredths


def test_responders_sledai_at_month_12_is_well_below_baseline(scored: pl.DataFrame) -> None:
    assert mean_sledai(scored, "responder", 12) < 0.4 * mean_sledai(scored, "responder", 0)


def test_partial_responders_improve_less_than_responders(scored: pl.DataFrame) -> None:
    def kept(kind: str) -> float:
        return mean_sledai(scored, kind, 12) / mean_sledai(scored, kind, 0)

    assert kept("responder") + 0.2 < kept("partial_responder") < 0.85


def test_non_responders_sledai_at_month_12_stays_near_baseline(scored: pl.DataFrame) -> None:
    assert mean_sledai(scored, "non_responder", 12) > 0.85 * mean_sledai(scored, "non_responder", 0)


def _rise_after_improvement(frame: pl.DataFrame, kind: str) -> float:
    """Share of patients whose SLEDAI rises by ≥ 4 after its lowest point of months 3–6."""
    visits = frame.filter(pl.col("trajectory") == kind, pl.col(TOTAL).is_not_null())
    per_patient = visits.group_by("patient_id").agg(
        pl.col(TOTAL).filter(pl.col("day").is_between(70, 215)).min().alias("nadir"),
        pl.col(TOTAL).filter(pl.col("day") > 150).max().alias("later"),
    )
    rises = per_patient.drop_nulls().select((pl.col("later") - pl.col("nadir") >= 4).mean())
    return float(rises.item())


def test_flares_bring_activity_back_after_improvement(scored: pl.DataFrame) -> None:
    assert _rise_after_improvement(scored, "flare") > 0.6
    assert _rise_after_improvement(scored, "responder") < 0.3


def _upcr_ratio(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    patients = frame.filter(pl.col("trajectory") == kind)
    baseline = patients.filter(pl.col("is_baseline")).select("patient_id", base="upcr_g_g")
    later = at_month(patients, 12).select("patient_id", "upcr_g_g")
    return baseline.join(later, on="patient_id").drop_nulls()


def test_nephritis_responders_halve_their_proteinuria_non_responders_do_not(
    scored: pl.DataFrame,
) -> None:
    responders = _upcr_ratio(scored, "renal_responder")
    non_responders = _upcr_ratio(scored, "renal_non_responder")
    halved = pl.col("upcr_g_g") * 2 <= pl.col("base")
    assert responders.select(halved.mean()).item() > 0.75
    assert non_responders.select(halved.mean()).item() < 0.25
    assert responders.select((pl.col("base") > 500).mean()).item() > 0.9  # > 0.5 g/g at baseline


def test_steroid_taper_patients_end_on_low_doses(scored: pl.DataFrame) -> None:
    taper = scored.filter(pl.col("trajectory") == "steroid_taper")
    assert number(taper.filter(pl.col("is_baseline"))[DOSE].median()) >= 20
    assert at_month(taper, 12).select((pl.col(DOSE) <= 7.5).mean()).item() > 0.8


def test_some_lab_candidates_stay_unconfirmed(scored: pl.DataFrame) -> None:
    unconfirmed = scored.filter(
        (pl.col("sledai2k.candidates") > 0) & ~pl.col("attribution_confirmed").fill_null(False)
    )
    confirmed = scored.filter((pl.col("sledai2k.candidates") > 0) & pl.col("attribution_confirmed"))
    assert 0 < unconfirmed.height < confirmed.height


def test_damage_items_never_decrease_for_a_patient(cohort: Cohort) -> None:
    items = [name for name in BY_NAME if name.startswith("sdi_")]
    ordered = cohort.visits.sort("patient_id", "visit_date")
    decreased = ordered.select(
        [
            (pl.col(name) < pl.col(name).cum_max().over("patient_id")).fill_null(False).any()
            for name in items
        ]
    )
    assert not any(decreased.row(0))
    assert ordered.select(pl.sum_horizontal(items).max()).item() >= 2


def test_damage_accrues_over_follow_up(scored: pl.DataFrame) -> None:
    items = [name for name in BY_NAME if name.startswith("sdi_")]
    total = pl.sum_horizontal(items)
    baseline = scored.filter(pl.col("is_baseline")).select(total.mean()).item()
    month_24 = at_month(scored, 24).filter(pl.col("sdi_cataract").is_not_null())
    assert month_24.select(total.mean()).item() > baseline


def _facit_change(frame: pl.DataFrame, kind: str) -> float:
    """Mean FACIT-F change baseline → month 12, scored as §13 (reverse all but An5, An7)."""
    scored = [
        pl.when(pl.col(f"facit_{code}") <= MAX_ITEM_SCORE).then(
            pl.col(f"facit_{code}")
            if code in POSITIVE_ITEMS
            else MAX_ITEM_SCORE - pl.col(f"facit_{code}")
        )
        for code in FACIT_ITEMS
    ]
    patients = frame.filter(pl.col("trajectory") == kind).with_columns(
        (pl.mean_horizontal(scored) * len(FACIT_ITEMS)).alias("facit")
    )
    baseline = number(patients.filter(pl.col("is_baseline"))["facit"].mean())
    return number(at_month(patients, 12)["facit"].mean()) - baseline


def test_fatigue_improves_by_the_mcid_in_responders_only(scored: pl.DataFrame) -> None:
    """§13: MCID 4 points (higher = less fatigue)."""
    assert _facit_change(scored, "responder") >= 4
    assert abs(_facit_change(scored, "non_responder")) < 2
