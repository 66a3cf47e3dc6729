"""Pooled proportions against R's metafor, called live (issue 7; shared/evidence/README.md).

Expected values come from an independent implementation: R's metafor, run with ``Rscript`` in
this test session (Debian ``r-base-core`` and ``r-cran-metafor``). For each data set, measure
(PLO, PFT), tau² estimator (REML, DL) and test (z, knha) the R code is::

    library(metafor)
    dat <- escalc(measure = measure, xi = xi, ni = ni)
    fit <- rma(yi, vi, data = dat, method = method, test = test,
               control = list(threshold = 1e-15, maxiter = 10000))
    p <- if (measure == "PLO") predict(fit, transf = transf.ilogit)
         else predict(fit, transf = transf.ipft.hm, targs = list(ni = ni))
    c(fit$k, p$pred, p$ci.lb, p$ci.ub, p$pi.lb, p$pi.ub, fit$tau2, fit$I2, fit$QE)
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Iterator
from itertools import product

import pytest

from lupus_msc.analytics.evidence_table import published_studies
from lupus_msc.analytics.meta_analysis import (
    MetaAnalysisInputError,
    pool_proportions,
    proportion_effects,
)

FIELDS = ("k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q")
#: Six significant digits asked by the issue; the code agrees far closer (see the report).
RELATIVE = 1e-9
#: For values that are 0 in exact arithmetic (tau² and I² at the boundary).
ABSOLUTE = 1e-10

R_SCRIPT = r"""
suppressPackageStartupMessages(library(metafor))
for (line in readLines(file("stdin"))) {
  f <- strsplit(line, ";")[[1]]
  xi <- as.numeric(strsplit(f[2], ",")[[1]]); ni <- as.numeric(strsplit(f[3], ",")[[1]])
  dat <- escalc(measure = f[4], xi = xi, ni = ni)
  fit <- rma(yi, vi, data = dat, method = f[5], test = f[6],
             control = list(threshold = 1e-15, maxiter = 10000))
  p <- if (f[4] == "PLO") predict(fit, transf = transf.ilogit) else
       predict(fit, transf = transf.ipft.hm, targs = list(ni = ni))
  v <- c(fit$k, p$pred, p$ci.lb, p$ci.ub, p$pi.lb, p$pi.ub, fit$tau2, fit$I2, fit$QE)
  cat(f[1], sprintf("%.17g", v), "\n")
}
"""


def _evidence_rows() -> tuple[list[int], list[int]]:
    """MSC study arms of the evidence table marked for pooling that report response counts.

    Used for numerical agreement only: these rows differ in outcome and time point and pooling
    them is not a clinically meaningful summary (shared/evidence/README.md).
    """
    events, totals = [], []
    for row in published_studies():
        usable = row["therapy"] == "MSC" and row["arm"] != "placebo"
        if usable and row["use_in_pooling"].startswith("yes") and row["n_any_response"]:
            events.append(int(row["n_any_response"]))
            totals.append(int(row["response_denominator"]))
    return events, totals


DATA_SETS: dict[str, tuple[list[int], list[int]]] = {
    # metafor's dat.pritz1997 (14 studies, heterogeneous).
    "pritz1997": (
        [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6],
        [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10],
    ),
    # Zero-event and all-event studies: the PLO continuity correction (to = "only0").
    "zero_cells": ([0, 3, 1, 7, 0, 12], [10, 15, 12, 20, 8, 12]),
    # Homogeneous: Q < k − 1, so DerSimonian–Laird gives tau² = 0.
    "homogeneous": ([10, 12, 9, 11], [50, 55, 48, 52]),
}
CASES = list(product(DATA_SETS, ("PLO", "PFT"), ("REML", "DL"), ("z", "knha")))
EVIDENCE_CASES = list(product(("evidence",), ("PLO", "PFT"), ("REML", "DL"), ("z", "knha")))


def _case_id(case: tuple[str, str, str, str]) -> str:
    return "-".join(case)


@pytest.fixture(scope="session")
def metafor() -> Iterator[dict[str, list[float]]]:
    """metafor's numbers for every case, from one ``Rscript`` run."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip(
            "Rscript is missing: install Debian's r-base-core and r-cran-metafor to compare "
            "the meta-analysis with metafor"
        )
    data = dict(DATA_SETS)
    data["evidence"] = _evidence_rows()
    lines = []
    for name, measure, method, test in CASES + EVIDENCE_CASES:
        if name in data:
            xi, ni = data[name]
            joined = ";".join(
                [
                    _case_id((name, measure, method, test)),
                    ",".join(map(str, xi)),
                    ",".join(map(str, ni)),
                    measure,
                    method,
                    test,
                ]
            )
            lines.append(joined)
    done = subprocess.run(
        [rscript, "--vanilla", "-e", R_SCRIPT],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    yield {
        parts[0]: [float(value) for value in parts[1:]]
        for parts in (line.split() for line in done.stdout.splitlines())
    }


def _agreement(ours: float, theirs: float) -> float:
    """Significant digits in common (inf when equal)."""
    if ours == theirs:
        return math.inf
    return -math.log10(abs(ours - theirs) / max(abs(theirs), ABSOLUTE))


def _check(
    case: tuple[str, str, str, str],
    events: list[int],
    totals: list[int],
    metafor: dict[str, list[float]],
) -> None:
    _name, measure, method, test = case
    result = pool_proportions(
        events,
        totals,
        method="REML" if method == "REML" else "DL",
        measure="logit" if measure == "PLO" else "ft",
        knapp_hartung=test == "knha",
    )
    expected = dict(zip(FIELDS, metafor[_case_id(case)], strict=True))
    for field in FIELDS:
        assert float(getattr(result, field)) == pytest.approx(
            expected[field], rel=RELATIVE, abs=ABSOLUTE
        ), (field, _agreement(float(getattr(result, field)), expected[field]))


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_it_agrees_with_metafor(
    case: tuple[str, str, str, str], metafor: dict[str, list[float]]
) -> None:
    events, totals = DATA_SETS[case[0]]
    _check(case, events, totals, metafor)


@pytest.mark.parametrize("case", EVIDENCE_CASES, ids=_case_id)
def test_it_agrees_with_metafor_on_the_evidence_table(
    case: tuple[str, str, str, str], metafor: dict[str, list[float]]
) -> None:
    events, totals = _evidence_rows()
    assert len(events) >= 2
    _check(case, events, totals, metafor)


def test_the_homogeneous_set_really_gives_dl_tau2_zero() -> None:
    events, totals = DATA_SETS["homogeneous"]
    result = pool_proportions(events, totals, method="DL")
    assert result.tau2 == 0.0
    assert result.i2 == 0.0
    assert result.q < result.k - 1


def test_only_studies_with_a_zero_cell_get_the_continuity_correction() -> None:
    """escalc(measure="PLO", xi=c(0, 3, 5), ni=c(10, 15, 5)): 0.5 added to rows 1 and 3 only."""
    yi, vi = proportion_effects([0, 3, 5], [10, 15, 5])
    assert list(yi) == pytest.approx([math.log(0.5 / 10.5), math.log(3 / 12), math.log(5.5 / 0.5)])
    assert list(vi) == pytest.approx([1 / 0.5 + 1 / 10.5, 1 / 3 + 1 / 12, 1 / 5.5 + 1 / 0.5])


def test_freeman_tukey_gets_no_correction() -> None:
    """escalc(measure="PFT", xi=0, ni=10) prints yi 0.1531, vi 0.0238 (R, metafor 3.8-1)."""
    yi, vi = proportion_effects([0, 3], [10, 15], measure="ft")
    assert yi[0] == pytest.approx(0.1531, abs=5e-5)
    assert vi[0] == pytest.approx(1 / 42)


@pytest.mark.parametrize(
    ("events", "totals", "field", "row"),
    [
        ([3, 11], [10, 10], "events", 1),
        ([3, -1], [10, 10], "events", 1),
        ([3, 1], [0, 10], "total", 0),
    ],
)
def test_it_refuses_impossible_counts_naming_the_row(
    events: list[int], totals: list[int], field: str, row: int
) -> None:
    with pytest.raises(MetaAnalysisInputError) as caught:
        pool_proportions(events, totals)
    assert (caught.value.field, caught.value.row) == (field, row)


def test_it_refuses_a_single_study() -> None:
    with pytest.raises(MetaAnalysisInputError, match="at least 2"):
        pool_proportions([3], [10])
