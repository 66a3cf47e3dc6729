"""Per-visit outcome states of one patient, computed by the clinical engine from stored scores.

For every recorded visit, in date order: SRI-4 (instruments.md §4, §16.3), LLDAS (§5, §16.4),
DORIS 2021 remission (§6, §16.5), renal response (§10, §16.10; patients with kidney involvement
at screening) and the classic SELENA-SLEDAI flare index (§2, §16.2). The inputs are what each
visit stored (SLEDAI-2K result §1/§16.1, PGA §3, prednisone-equivalent §11, eGFR §9, labs):

* baseline = the protocol's day-0 visit (the longitudinal instruments' baseline visit);
* "previous" = the previous recorded visit in date order (§5 criterion 2 Oon reading, §2);
* a SLEDAI-2K counts only when the assessment is complete (every descriptor assessed, §16.1),
  because LLDAS and DORIS take the descriptors given as a complete assessment (§16.4, §16.5) and
  an incomplete total would understate activity;
* nothing is imputed (§3 "Missing: no imputation"): a state whose inputs are missing is shown
  as not assessable with the reason; where the engine itself decides with inputs missing
  (three-valued AND, §16.0) its answer is shown.

Inputs the visit form does not collect take the instrument's documented defaults, and each
state says so: BILAG-2004 is not collected, so SRI-4 is undecided unless a component fails and
the modified SRI-4 without BILAG is given beside it (§4); LLDAS haemolytic anaemia, GI activity
and investigational drug default to absent (§16.4); DORIS drugs default to stable (§16.5); SFI
manifestation lists and drug flags absent count as not present (§16.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from lupus_msc.clinical import doris, lldas, renal_response, sfi, sri
from lupus_msc.store.models import Visit

Tone = Literal["ok", "bad", "warn", "na"]
"""ok = favourable state, bad = unfavourable, warn = not assessable, na = not applicable."""


@dataclass(frozen=True)
class Cell:
    label: str
    tone: Tone
    why: str = ""


@dataclass(frozen=True)
class OutcomeRow:
    day: dt.date
    code: str
    sledai2k: int | None
    sri4: Cell
    lldas: Cell
    doris: Cell
    renal: Cell
    flare: Cell


@dataclass(frozen=True)
class VisitFacts:
    """What the outcome states need from one recorded visit."""

    day: dt.date
    code: str
    baseline: bool
    sledai_total: int | None
    descriptors: frozenset[str] | None
    """The SLEDAI-2K descriptors present, when the assessment is complete (§16.1)."""
    sledai_problem: str
    pga: Decimal | None
    prednisone_mg_day: Decimal | None
    weight_kg: Decimal | None
    upcr_g_g: Decimal | None
    egfr: Decimal | None
    platelets_10e9_l: Decimal | None


def number(value: Any) -> Decimal | None:
    """A stored JSON number as an exact Decimal (None stays None)."""
    if value is None or isinstance(value, bool):
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def part(scores: dict[str, Any], name: str, key: str) -> Decimal | None:
    """One number of one stored score (``scores[name][key]``), or None."""
    found = scores.get(name)
    return number(found.get(key)) if isinstance(found, dict) else None


def egfr_of(scores: dict[str, Any]) -> Decimal | None:
    """The eGFR the §9 category is taken from: eGFRcr-cys when present, else eGFRcr (§16.8)."""
    return part(scores, "egfr", "egfr_cr_cys") or part(scores, "egfr", "egfr_cr")


def facts_of(visit: Visit, labs: dict[str, Decimal], *, baseline: bool) -> VisitFacts:
    """The facts of a recorded visit from its stored scores, findings and canonical labs."""
    assert visit.visit_date is not None  # noqa: S101 - only recorded visits have outcomes
    scores = visit.scores or {}
    sledai = scores.get("sledai2k")
    total: int | None = None
    descriptors: frozenset[str] | None = None
    problem = "SLEDAI-2K not recorded"
    if isinstance(sledai, dict):
        total = int(sledai["total"])
        if sledai.get("complete"):
            descriptors, problem = frozenset(sledai.get("contributions") or {}), ""
        else:
            problem = "SLEDAI-2K incomplete (not every descriptor assessed)"
    vitals = (visit.findings or {}).get("vitals") or {}
    return VisitFacts(
        day=visit.visit_date,
        code=visit.code,
        baseline=baseline,
        sledai_total=total,
        descriptors=descriptors,
        sledai_problem=problem,
        pga=part(scores, "pga", "pga"),
        prednisone_mg_day=part(scores, "prednisone_equivalent", "prednisone_mg_day"),
        weight_kg=number(vitals.get("weight_kg")),
        upcr_g_g=labs.get("upcr"),
        egfr=egfr_of(scores),
        platelets_10e9_l=labs.get("platelets"),
    )


def _lacking(facts: VisitFacts, *, pga: bool = True, dose: bool = False) -> list[str]:
    missing = [facts.sledai_problem] if facts.descriptors is None else []
    if pga and facts.pga is None:
        missing.append("PGA not recorded")
    if dose and facts.prednisone_mg_day is None:
        missing.append("prednisone-equivalent dose unknown")
    return missing


def _not_assessable(reasons: list[str], where: str = "") -> Cell:
    return Cell("not assessable", "warn", where + "; ".join(reasons))


def sri4_cell(current: VisitFacts, baseline: VisitFacts | None) -> Cell:
    """SRI-4 against the day-0 visit (§4, §16.3); BILAG is not collected."""
    if current.baseline:
        return Cell("baseline", "na", "SRI-4 compares later visits with this one")
    if baseline is None:
        return _not_assessable(["the baseline (day-0) visit is not recorded"])
    if _lacking(baseline):
        return _not_assessable(_lacking(baseline), "baseline: ")
    if _lacking(current):
        return _not_assessable(_lacking(current))
    assert baseline.sledai_total is not None and current.sledai_total is not None  # noqa: S101
    assert baseline.pga is not None and current.pga is not None  # noqa: S101
    result = sri.score(
        sri.SriInput(
            sledai_baseline=baseline.sledai_total,
            sledai_current=current.sledai_total,
            pga_baseline=baseline.pga,
            pga_current=current.pga,
        )
    )
    msri = "met" if result.msri else "not met"
    change = f"SLEDAI-2K −{result.sledai_reduction}, PGA change {result.pga_change}"
    if result.responder is None:
        return Cell(
            "not assessable",
            "warn",
            f"BILAG-2004 not collected (§4); modified SRI-4 without BILAG: {msri} ({change})",
        )
    failed = [name for name, ok in result.components.model_dump().items() if ok is False]
    if result.responder:
        return Cell("responder", "ok", change)
    return Cell("not met", "bad", f"{change}; failed: {', '.join(failed)}")


def lldas_cell(current: VisitFacts, previous: VisitFacts | None) -> Cell:
    """LLDAS (§5, §16.4), criterion 2 against the previous recorded visit (Oon reading)."""
    missing = _lacking(current, dose=True)
    if missing:
        return _not_assessable(missing)
    assert current.descriptors is not None and current.pga is not None  # noqa: S101
    assert current.prednisone_mg_day is not None  # noqa: S101
    result = lldas.score(
        lldas.LldasInput(
            sledai_descriptors=sorted(current.descriptors),  # type: ignore[arg-type]
            previous_sledai_descriptors=(
                sorted(previous.descriptors)  # type: ignore[arg-type]
                if previous is not None and previous.descriptors is not None
                else None
            ),
            pga=current.pga,
            prednisone_mg_day=current.prednisone_mg_day,
        )
    )
    defaults = "haemolytic anaemia, GI activity, investigational drug not recorded: taken as absent"
    if result.lldas is None:
        return Cell(
            "not assessable",
            "warn",
            "criterion 2 (no new features) needs a previous complete SLEDAI-2K (§5)",
        )
    if result.lldas:
        return Cell("met", "ok", defaults)
    numbers = ", ".join(str(number) for number in sorted(result.failed_criteria))
    return Cell("not met", "bad", f"failed criteria {numbers} (§5)")


def doris_cell(current: VisitFacts) -> Cell:
    """DORIS 2021 remission on treatment (§6, §16.5)."""
    missing = _lacking(current, dose=True)
    if missing:
        return _not_assessable(missing)
    assert current.descriptors is not None and current.pga is not None  # noqa: S101
    assert current.prednisone_mg_day is not None  # noqa: S101
    result = doris.score(
        doris.DorisInput(
            sledai_descriptors=sorted(current.descriptors),  # type: ignore[arg-type]
            pga=current.pga,
            prednisone_mg_day=current.prednisone_mg_day,
        )
    )
    if result.remission:
        return Cell("remission", "ok", "other drugs not recorded as changed: taken as stable")
    return Cell("no remission", "bad", f"failed: {', '.join(result.failed_components)}")


def renal_cell(current: VisitFacts, baseline: VisitFacts | None, *, renal: bool) -> Cell:
    """Renal response by KDIGO 2024 against the day-0 visit (§10, §16.10)."""
    if not renal:
        return Cell("not applicable", "na", "no kidney involvement recorded at screening")
    if current.baseline:
        return Cell("baseline", "na", "renal response compares later visits with this one")
    if baseline is None:
        return _not_assessable(["the baseline (day-0) visit is not recorded"])
    result = renal_response.score(
        renal_response.RenalResponseInput(
            baseline_upcr_g_g=baseline.upcr_g_g,
            current_upcr_g_g=current.upcr_g_g,
            baseline_egfr=baseline.egfr,
            current_egfr=current.egfr,
        )
    )
    if result.response is None:
        names = {
            "baseline_upcr_g_g": "baseline UPCR",
            "current_upcr_g_g": "UPCR at this visit",
            "baseline_egfr": "baseline eGFR",
            "current_egfr": "eGFR at this visit",
        }
        return _not_assessable([f"{names[name]} not recorded" for name in result.missing])
    tone: Tone = "bad" if result.response == "none" else "ok"
    return Cell(result.response, tone, "KDIGO 2024")


def flare_cell(current: VisitFacts, previous: VisitFacts | None) -> Cell:
    """Classic SELENA-SLEDAI flare index against the previous recorded visit (§2, §16.2)."""
    if previous is None:
        return Cell("not assessable", "warn", "no previous visit to compare with (§2)")
    both_sledai = previous.descriptors is not None and current.descriptors is not None
    result = sfi.score(
        sfi.SfiInput(
            sledai_previous=previous.sledai_total if both_sledai else None,
            sledai_current=current.sledai_total if both_sledai else None,
            pga_previous=previous.pga,
            pga_current=current.pga,
            prednisone_mg_day_previous=previous.prednisone_mg_day,
            prednisone_mg_day_current=current.prednisone_mg_day,
            weight_kg=current.weight_kg,
            platelets_10e9_l=current.platelets_10e9_l,
        )
    )
    criteria = ", ".join(sorted(result.criteria_met))
    if result.flare is None:
        missing = ", ".join(sorted(result.missing)) or "inputs"
        return Cell("not assessable", "warn", f"missing: {missing} (§2)")
    if result.flare == "none":
        return Cell("no flare", "ok", "manifestations and drug changes not recorded")
    label = "severe flare" if result.flare == "severe" else "mild/moderate flare"
    return Cell(label, "bad", f"criteria: {criteria}")


def outcomes(visits: Sequence[VisitFacts], *, renal: bool) -> list[OutcomeRow]:
    """The outcome states of each recorded visit, in date order."""
    ordered = sorted(visits, key=lambda facts: facts.day)
    baseline = next((facts for facts in ordered if facts.baseline), None)
    rows: list[OutcomeRow] = []
    for index, current in enumerate(ordered):
        previous = ordered[index - 1] if index else None
        rows.append(
            OutcomeRow(
                day=current.day,
                code=current.code,
                sledai2k=current.sledai_total,
                sri4=sri4_cell(current, baseline),
                lldas=lldas_cell(current, previous),
                doris=doris_cell(current),
                renal=renal_cell(current, baseline, renal=renal),
                flare=flare_cell(current, previous),
            )
        )
    return rows
