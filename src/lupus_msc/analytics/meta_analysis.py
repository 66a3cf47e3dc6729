"""Random-effects meta-analysis of proportions, computed as R's metafor computes it.

This is the calculation behind ``lupus-msc evidence pool`` and the "realistic expectations" view
(issue 7). Its semantics are fixed by the pooling rules of the evidence folder
(``shared/evidence/README.md``, "Pooling semantics"); which rows may be pooled together (never two
rows of one ``overlap_group``, never HSCT with MSC, only one outcome at comparable time points) is
the caller's responsibility and is described in the same README ("What must not be done").

The functions are pure: plain counts in, plain numbers out, no files, settings or clock.

References
----------
Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw 2010;36(3).
metafor reference manual: ``escalc`` (measures "PLO" and "PFT"), ``rma.uni``, ``predict.rma``,
``transf.ilogit``, ``transf.ipft.hm``.
DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials 1986;7:177-88.
Knapp G, Hartung J. Improved tests for a random effects meta-regression with a single covariate.
Stat Med 2003;22:2693-710.
Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. Stat Med 2002;21:1539-58.
Miller JJ. The inverse of the Freeman-Tukey double arcsine transformation. Am Stat 1978;32:138.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Method = Literal["REML", "DL"]
Measure = Literal["logit", "ft"]
FloatArray = npt.NDArray[np.float64]

#: metafor's default continuity correction for "PLO": ``add = 1/2, to = "only0"``.
CONTINUITY_CORRECTION = 0.5
#: REML stops when a Fisher-scoring step is smaller than this (full convergence; see tests).
REML_THRESHOLD = 1e-15
REML_MAX_ITERATIONS = 10_000


class MetaAnalysisInputError(ValueError):
    """Counts that cannot be pooled; ``row`` is 0-based, ``field`` is "events" or "total"."""

    def __init__(self, message: str, *, row: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.field = field


@dataclass(frozen=True)
class PooledProportion:
    """A pooled proportion with its intervals (proportions) and heterogeneity statistics.

    ``mu`` and ``se`` are on the transformed (logit or double-arcsine) scale, as are ``tau2`` and
    ``q``; ``i2`` is a percentage (0-100) as metafor prints it.
    """

    k: int
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    q: float
    mu: float
    se: float
    method: Method
    measure: Measure
    knapp_hartung: bool


def check_counts(events: Sequence[int], totals: Sequence[int]) -> None:
    """Refuse counts metafor would refuse or that make no sense, naming the row and the field."""
    if len(events) != len(totals):
        raise MetaAnalysisInputError(f"{len(events)} event counts but {len(totals)} totals")
    if len(events) < 2:
        raise MetaAnalysisInputError(f"need at least 2 studies to pool, got {len(events)}")
    for row, (event, total) in enumerate(zip(events, totals, strict=True)):
        if total <= 0:
            raise MetaAnalysisInputError(f"total must be > 0, got {total}", row=row, field="total")
        if event < 0:
            raise MetaAnalysisInputError(
                f"events must be ≥ 0, got {event}", row=row, field="events"
            )
        if event > total:
            raise MetaAnalysisInputError(
                f"events ({event}) exceed total ({total})", row=row, field="events"
            )


def proportion_effects(
    events: Sequence[int], totals: Sequence[int], *, measure: Measure = "logit"
) -> tuple[FloatArray, FloatArray]:
    """Effect sizes ``yi`` and sampling variances ``vi``, as metafor's ``escalc``.

    ``logit`` is ``escalc(measure="PLO")``: yi = log(x/(n−x)), vi = 1/x + 1/(n−x). A study with 0
    events or 0 non-events gets 0.5 added to both cells (metafor's default ``add=1/2,
    to="only0"``); other studies are left alone. ``ft`` is ``escalc(measure="PFT")``, the
    Freeman–Tukey double arcsine yi = ½[asin √(x/(n+1)) + asin √((x+1)/(n+1))], vi = 1/(4n+2),
    which needs no correction (evidence README, "Pooling semantics").
    """
    check_counts(events, totals)
    x = np.asarray(events, dtype=np.float64)
    n = np.asarray(totals, dtype=np.float64)
    if measure == "ft":
        yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
        return yi, 1.0 / (4.0 * n + 2.0)
    non_events = n - x
    zero_cell = (x == 0) | (non_events == 0)
    add = np.where(zero_cell, CONTINUITY_CORRECTION, 0.0)
    x, non_events = x + add, non_events + add
    return np.log(x / non_events), 1.0 / x + 1.0 / non_events


def cochran_q(yi: FloatArray, vi: FloatArray) -> float:
    """Cochran's Q around the fixed-effect (inverse-variance) mean: metafor's ``QE``."""
    w = 1.0 / vi
    mu_fixed = float(np.sum(w * yi) / np.sum(w))
    return float(np.sum(w * (yi - mu_fixed) ** 2))


def tau2_dersimonian_laird(yi: FloatArray, vi: FloatArray) -> float:
    """DerSimonian–Laird tau² = max(0, (Q − (k−1)) / (Σw − Σw²/Σw)), ``rma(method="DL")``."""
    w = 1.0 / vi
    denominator = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max(0.0, (cochran_q(yi, vi) - (len(yi) - 1)) / denominator)


def tau2_reml(yi: FloatArray, vi: FloatArray) -> float:
    """REML tau² by Fisher scoring, as ``rma(method="REML")`` iterates it, kept ≥ 0.

    Each step adds (Y'PPY − tr P) / tr(PP) with P = W − W1(1'W1)⁻¹1'W, W = diag(1/(vi+tau²)),
    halving the step while it would make tau² negative; the start is metafor's (Hedges)
    max(0, var(yi) − mean(vi)). Iterates to full convergence, as the pooling rules ask of R.
    """
    tau2 = max(0.0, float(np.var(yi, ddof=1) - np.mean(vi)))
    for _ in range(REML_MAX_ITERATIONS):
        w = 1.0 / (vi + tau2)
        p_matrix = np.diag(w) - np.outer(w, w) / np.sum(w)
        py = p_matrix @ yi
        step = float((py @ py - np.trace(p_matrix)) / np.sum(p_matrix * p_matrix))
        while tau2 + step < 0:
            step /= 2.0
        tau2 += step
        if abs(step) < REML_THRESHOLD:
            return max(0.0, tau2)
    raise ArithmeticError(f"REML did not converge in {REML_MAX_ITERATIONS} Fisher-scoring steps")


def i_squared(vi: FloatArray, tau2: float) -> float:
    """metafor's I² = 100 × tau² / (tau² + s²), s² = (k−1)Σw / ((Σw)² − Σw²) ("typical" vi)."""
    w = 1.0 / vi
    typical = (len(vi) - 1) * float(np.sum(w)) / float(np.sum(w) ** 2 - np.sum(w**2))
    return 100.0 * tau2 / (tau2 + typical)


def _ilogit(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def _pft(proportion: float, n: float) -> float:
    """metafor's ``transf.pft``: the double arcsine of a proportion at sample size n."""
    x = proportion * n
    return 0.5 * (math.asin(math.sqrt(x / (n + 1))) + math.asin(math.sqrt((x + 1) / (n + 1))))


def ipft_hm(value: float, totals: Sequence[int]) -> float:
    """metafor's ``transf.ipft.hm``: Miller's inverse double arcsine at the harmonic mean n."""
    n_hm = 1.0 / float(np.mean(1.0 / np.asarray(totals, dtype=np.float64)))
    if value > _pft(1.0, n_hm):
        return 1.0
    if value < _pft(0.0, n_hm):
        return 0.0
    s = math.sin(2 * value)
    inner = 1.0 - (s + (s - 1.0 / s) / n_hm) ** 2
    return 0.5 * (1.0 - math.copysign(1.0, math.cos(2 * value)) * math.sqrt(max(inner, 0.0)))


def pool_proportions(
    events: Sequence[int],
    totals: Sequence[int],
    *,
    method: Method = "REML",
    measure: Measure = "logit",
    knapp_hartung: bool = False,
    level: float = 0.95,
) -> PooledProportion:
    """Random-effects pooled proportion: ``rma(escalc(...), method=..., test=...)`` + ``predict``.

    Confidence interval mu ± crit × se; prediction interval mu ± crit × √(tau² + se²) (metafor
    ``predict``), crit from the normal, or under Knapp–Hartung (``test="knha"``) from t with k−1
    df, where se² is multiplied by Σw*(yi−mu)²/(k−1) (not truncated at 1). The estimate and both
    intervals are back-transformed to proportions with ``transf.ilogit`` (logit) or
    ``transf.ipft.hm`` with the study totals (ft). Rules: ``shared/evidence/README.md``.
    """
    yi, vi = proportion_effects(events, totals, measure=measure)
    k = len(yi)
    tau2 = tau2_reml(yi, vi) if method == "REML" else tau2_dersimonian_laird(yi, vi)
    w = 1.0 / (vi + tau2)
    mu = float(np.sum(w * yi) / np.sum(w))
    variance = 1.0 / float(np.sum(w))
    from scipy import stats  # here, not at the top: the CLI starts without loading SciPy

    if knapp_hartung:
        variance *= float(np.sum(w * (yi - mu) ** 2)) / (k - 1)
        crit = float(stats.t.ppf(1 - (1 - level) / 2, k - 1))  # R's qt
    else:
        crit = float(stats.norm.ppf(1 - (1 - level) / 2))
    se = math.sqrt(variance)
    pi_half = crit * math.sqrt(tau2 + variance)

    def back(value: float) -> float:
        return _ilogit(value) if measure == "logit" else ipft_hm(value, totals)

    return PooledProportion(
        k=k,
        estimate=back(mu),
        ci_low=back(mu - crit * se),
        ci_high=back(mu + crit * se),
        pi_low=back(mu - pi_half),
        pi_high=back(mu + pi_half),
        tau2=tau2,
        i2=i_squared(vi, tau2),
        q=cochran_q(yi, vi),
        mu=mu,
        se=se,
        method=method,
        measure=measure,
        knapp_hartung=knapp_hartung,
    )
