"""This program's cohort beside what published MSC studies in SLE report (shared/evidence rules).

The rules of the evidence table's README are applied here, in one place:

* only MSC arms are pooled (HSCT is another therapy), never the placebo arm, and only rows the
  table marks for pooling (``use_in_pooling`` begins with "yes"), so no two rows of one
  ``overlap_group`` are pooled;
* a study's own definition of response is kept beside its number: definitions differ, so the
  pooled figure is "response as each study defined it", never the same thing as this program's
  SRI-4 or DORIS, and the view says so;
* the only randomised, double-blind trial (Deng 2017) is always shown, placebo arm included;
* every number shows its study, its ``verification_level`` and its sources; a blank stays blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lupus_msc.analytics.evidence_table import Row, published_studies
from lupus_msc.analytics.meta_analysis import PooledProportion, pool_proportions

ALWAYS_SHOWN = ("deng2017_msc", "deng2017_placebo")
"""The only randomised, double-blind comparison: shown in every view of MSC results."""
RESPONSE_MONTHS = (3.0, 12.0)
"""Time points (months) close enough to the cohort's month-6 and month-12 visits to stand beside
them; a study reporting at 60 months is not."""
CAVEAT = (
    "Published results, not a prediction for any patient. Response definitions differ between "
    "studies; most are single-arm, open-label cohorts with background immunosuppression, which "
    "cannot show that the cells caused the improvement. The only randomised, double-blind trial "
    "(Deng 2017, in lupus nephritis) stopped early for futility."
)


@dataclass(frozen=True)
class PublishedArm:
    """One study arm's reported response, with where the number comes from."""

    study_id: str
    label: str
    arm: str
    population: str
    events: int | None
    total: int | None
    timepoint_months: str
    definition: str
    verification_level: str
    sources: str
    pooled: bool
    note: str

    @property
    def short_label(self) -> str:
        """First author and year, as a forest plot prints it."""
        return self.label.split(" (")[0]

    @property
    def proportion(self) -> float | None:
        if self.events is None or not self.total:
            return None
        return self.events / self.total


@dataclass(frozen=True)
class Comparison:
    """Published arms reporting a response, the pooled estimate of those that may be pooled."""

    arms: tuple[PublishedArm, ...]
    pooled: PooledProportion | None
    caveat: str = CAVEAT

    @property
    def pooled_ids(self) -> tuple[str, ...]:
        return tuple(arm.study_id for arm in self.arms if arm.pooled)


def _count(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


def _months(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _poolable(row: Row) -> str:
    """Why a row is not pooled for response ("" when it is)."""
    months = _months(row["response_timepoint_months"])
    if row["therapy"] != "MSC":
        return "another therapy (HSCT): never pooled with MSC"
    if row["arm"] == "placebo":
        return "placebo arm: shown for comparison, never pooled"
    if not row["use_in_pooling"].startswith("yes"):
        return f"not for pooling: {row['use_in_pooling']}"
    if _count(row["n_any_response"]) is None or not _count(row["response_denominator"]):
        return "no response count reported"
    if months is None or not RESPONSE_MONTHS[0] <= months <= RESPONSE_MONTHS[1]:
        return f"time point {row['response_timepoint_months'] or 'not given'} months"
    return ""


def arm_of(row: Row, *, pooled: bool, note: str) -> PublishedArm:
    journal = f" ({row['journal']})" if row.get("journal") else ""
    return PublishedArm(
        study_id=row["study_id"],
        label=f"{row['first_author']} {row['year']}{journal}".strip(),
        arm=row.get("arm") or "",
        population=row.get("population") or "",
        events=_count(row.get("n_any_response", "")),
        total=_count(row.get("response_denominator", "")),
        timepoint_months=row.get("response_timepoint_months") or "",
        definition=row.get("response_definition") or "",
        verification_level=row["verification_level"],
        sources=row["sources"],
        pooled=pooled,
        note=note,
    )


def response_comparison(rows: Sequence[Row] | None = None) -> Comparison:
    """Every MSC arm reporting a response count, pooled where the rules allow (module doc)."""
    table = published_studies() if rows is None else list(rows)
    arms = []
    for row in table:
        reason = _poolable(row)
        has_count = _count(row.get("n_any_response", "")) is not None
        if row["therapy"] == "MSC" and (has_count or row["study_id"] in ALWAYS_SHOWN):
            arms.append(arm_of(row, pooled=not reason, note=reason))
    pooled_arms = [arm for arm in arms if arm.pooled]
    pooled = None
    if len(pooled_arms) >= 2:
        pooled = pool_proportions(
            [arm.events or 0 for arm in pooled_arms], [arm.total or 0 for arm in pooled_arms]
        )
    return Comparison(arms=tuple(arms), pooled=pooled)


def _renal_population(row: Row) -> bool:
    text = f"{row.get('population', '')} {row.get('primary_outcome', '')}".lower()
    return "nephritis" in text or " ln" in f" {text}" or "renal" in text


def for_patient(renal: bool, rows: Sequence[Row] | None = None) -> tuple[PublishedArm, ...]:
    """MSC arms whose population matches the patient's (lupus nephritis or not), plus Deng 2017.

    A study of mostly nephritis patients counts as renal; the matching is by the words of the
    published population, so it is shown with the population text for the reader to judge.
    """
    table = published_studies() if rows is None else list(rows)
    chosen = []
    for row in table:
        if row["therapy"] != "MSC" or row["row_type"] != "study_arm":
            continue
        if row["study_id"] in ALWAYS_SHOWN or _renal_population(row) == renal:
            chosen.append(arm_of(row, pooled=False, note=_poolable(row)))
    return tuple(chosen)
