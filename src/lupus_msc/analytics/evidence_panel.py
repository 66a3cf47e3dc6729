"""What published studies report for patients like this one: the panel of the patient page and
of the patient report (issue 7, "realistic expectations"; shared/evidence/README.md).

The arms are ``evidence_comparison.for_patient``'s (lupus nephritis or not, Deng 2017 always),
each with what the README says a number must never be shown without: its study, its
``verification_level`` and its sources, and beside it the study's design, population, time point
and its own response definition. The panel holds published numbers only, no patient data; it is
labelled as published results, never as a prediction, with ``evidence_comparison.CAVEAT``.

The only randomised, double-blind trial (Deng 2017, MSC and placebo arms) comes first, in a
group of its own; the other studies follow in the table's order. When the reader's view does not
show whether the patient has kidney involvement (``renal=None``), both populations are listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lupus_msc.analytics.evidence_comparison import (
    ALWAYS_SHOWN,
    CAVEAT,
    PublishedArm,
    for_patient,
)
from lupus_msc.analytics.evidence_table import Row, published_studies

HEADING = "What published studies report for patients like this one"
VERIFICATION = {
    "abstract-read": "read in the paper's abstract or results table",
    "secondary-source": "only in a review's table, not checked in the paper: not established",
}
"""What each ``verification_level`` means (shared/evidence/README.md)."""
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class SourceLink:
    """One source a number was read from: a link when the table gives an address."""

    text: str
    url: str | None


@dataclass(frozen=True)
class PanelArm:
    """One published study arm as the panel shows it."""

    label: str
    placebo: bool
    design: str
    population: str
    responders: str
    """``events/total (percent)``, or ``not reported`` (a blank stays blank)."""
    timepoint: str
    definition: str
    verification_level: str
    verification_note: str
    citation_check: str
    sources: tuple[SourceLink, ...]
    study_id: str

    @property
    def established(self) -> bool:
        """False for a number only from a review (``secondary-source``) or whose citation is
        unconfirmed: the panel marks it as not verified (shared/evidence/README.md)."""
        return self.verification_level == "abstract-read" and not self.citation_check.startswith(
            "unconfirmed"
        )


@dataclass(frozen=True)
class PanelGroup:
    title: str
    arms: tuple[PanelArm, ...]


@dataclass(frozen=True)
class EvidencePanel:
    """The published arms for a patient with (``renal``) or without kidney involvement."""

    renal: bool | None
    groups: tuple[PanelGroup, ...]
    heading: str = HEADING
    caveat: str = CAVEAT
    """Begins "Published results, not a prediction for any patient": the panel's label."""

    @property
    def caveat_parts(self) -> tuple[str, str]:
        """The caveat's first sentence (its label, shown in bold) and the rest."""
        lead, _, rest = self.caveat.partition(". ")
        return (f"{lead}." if rest else lead), rest

    @property
    def study_ids(self) -> tuple[str, ...]:
        return tuple(arm.study_id for group in self.groups for arm in group.arms)


def sources_of(text: str) -> tuple[SourceLink, ...]:
    """The ``sources`` cell (entries separated by ";", an entry may be "label: address")."""
    links = []
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        found = _URL.search(entry)
        if found is None:
            links.append(SourceLink(entry, None))
            continue
        url = found.group(0)
        label = entry[: found.start()].strip().rstrip(":").strip()
        host = url.split("://", 1)[1].split("/", 1)[0]
        links.append(SourceLink(f"{label} ({host})" if label else host, url))
    return tuple(links)


def _responders(arm: PublishedArm) -> str:
    if arm.events is None or not arm.total or arm.proportion is None:
        total = f" (of {arm.total})" if arm.total else ""
        return f"not reported{total}"
    return f"{arm.events}/{arm.total} ({100 * arm.proportion:.0f}%)"


def _timepoint(months: str) -> str:
    return f"{months} months" if months else "not given"


def _design(row: Row | None) -> str:
    if row is None:
        return ""
    return ", ".join(part for part in (row.get("design"), row.get("blinding")) if part)


def panel_arm(arm: PublishedArm, row: Row | None) -> PanelArm:
    level = arm.verification_level
    return PanelArm(
        label=arm.label,
        placebo=arm.arm == "placebo",
        design=_design(row),
        population=arm.population,
        responders=_responders(arm),
        timepoint=_timepoint(arm.timepoint_months),
        definition=arm.definition or "not given",
        verification_level=level,
        verification_note=VERIFICATION.get(level, "not checked: not established"),
        citation_check=(row or {}).get("citation_check", ""),
        sources=sources_of(arm.sources),
        study_id=arm.study_id,
    )


def panel(renal: bool | None, rows: list[Row] | None = None) -> EvidencePanel:
    """The panel for a patient with (True) or without (False) kidney involvement at screening,
    or, when the view does not show it (None), for both."""
    table = published_studies() if rows is None else rows
    by_arm = {(row["study_id"], row["arm"]): row for row in table}
    wanted = (True, False) if renal is None else (renal,)
    populations = {
        True: "Other published studies of patients with lupus nephritis",
        False: "Other published studies of patients with SLE, mostly without nephritis",
    }
    trial: list[PanelArm] = []
    groups: list[PanelGroup] = []
    for kidneys in wanted:
        others = []
        for arm in for_patient(kidneys, table):
            shown = panel_arm(arm, by_arm.get((arm.study_id, arm.arm)))
            if arm.study_id not in ALWAYS_SHOWN:
                others.append(shown)
            elif shown not in trial:
                trial.append(shown)
        groups.append(PanelGroup(populations[kidneys], tuple(others)))
    first = PanelGroup(
        "The only randomised, double-blind trial (shown for every patient)", tuple(trial)
    )
    return EvidencePanel(renal=renal, groups=(first, *groups))
