"""Where each patient of the demo cohort stops on the pathway (``lupus-msc demo``), seeded.

A cohort loaded by ``lupus-msc synth load`` walks every patient as far as its dates allow:
screen-failed, in follow-up, completed or lost to follow-up. A demo must also show the states
a programme holds on any given day: patients just referred, in screening, found eligible,
consented, enrolled but not yet infused, infused and waiting for their first follow-up visit,
and patients who withdrew or died. ``demo_stops`` picks them: the early stops go to the most
recently infused patients of the plan (their screening is the most recent), the endings
(in follow-up with overdue visits, lost to follow-up, withdrawn, deceased) to patients
infused earlier, a few each; the rest walk as far as their dates allow (mostly completed).
A patient the rules find ineligible at screening still becomes screen-failed, whatever its
stop (the loader passes the stop on to the next patient).

Pure and seeded (the same plan and seed give the same stops); the loader
(``services.cohort_loader``) carries them out through the services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from lupus_msc.synth.registry_plan import PatientPlan


class Stop(StrEnum):
    """The last step the loader takes for a patient (values are pathway state names)."""

    REFERRED = "referred"
    """Registered only."""
    SCREENING = "screening"
    """Screening recorded, no decision signed yet."""
    ELIGIBLE = "eligible"
    CONSENTED = "consented"
    ENROLLED = "enrolled"
    INFUSED = "infused"
    """Infused; no follow-up visit recorded yet."""
    FOLLOW_UP = "follow-up"
    """Still in follow-up: the later visits not recorded (overdue)."""
    LOST_TO_FOLLOW_UP = "lost-to-follow-up"
    """No visit recorded after part of the follow-up; declared lost."""
    WITHDRAWN = "withdrawn"
    """Withdrew consent after some of the follow-up visits."""
    DECEASED = "deceased"
    """Died after some of the follow-up visits."""


PART_WAY = frozenset({Stop.FOLLOW_UP, Stop.LOST_TO_FOLLOW_UP, Stop.WITHDRAWN, Stop.DECEASED})
"""Stops after about half of the patient's follow-up visits."""


EARLY: tuple[Stop, ...] = (
    Stop.REFERRED,
    Stop.SCREENING,
    Stop.ELIGIBLE,
    Stop.CONSENTED,
    Stop.ENROLLED,
    Stop.INFUSED,
)
EARLY_SHARE = 0.03
"""Each early stop takes about 3 % of the cohort (6 of 200), at least one patient."""
ENDING_SHARES = {
    Stop.FOLLOW_UP: 0.05,
    Stop.LOST_TO_FOLLOW_UP: 0.02,
    Stop.WITHDRAWN: 0.025,
    Stop.DECEASED: 0.01,
}
"""Part-way stops, given to patients infused earlier (at least one each)."""
OPEN_SERIOUS_SHARE = 0.015
"""About 3 of 200 patients in follow-up have an open serious adverse event."""
SERIOUS_TERMS = ("Pneumonia", "Lupus nephritis flare", "Deep vein thrombosis")


@dataclass(frozen=True)
class SeriousEvent:
    """A serious adverse event (CTCAE grade, seriousness, relatedness, outcome)."""

    term: str
    grade: int
    onset_on: dt.date
    resolved_on: dt.date | None
    serious_criteria: tuple[str, ...]
    relatedness: str
    outcome: str


def _count(patients: int, share: float) -> int:
    return max(1, round(patients * share))


def demo_stops(plans: Sequence[PatientPlan], seed: int) -> dict[str, Stop]:
    """The stop of each patient that does not walk the whole pathway (by ``synth_id``)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    recent = sorted(plans, key=lambda plan: (plan.infusions[0], plan.synth_id), reverse=True)
    stops: dict[str, Stop] = {}
    position = 0
    for stop in EARLY:
        for plan in recent[position : position + _count(len(plans), EARLY_SHARE)]:
            stops[plan.synth_id] = stop
        position += _count(len(plans), EARLY_SHARE)
    earlier = [plan.synth_id for plan in recent[position:] if len(plan.visits) > 2]
    order = rng.permutation(len(earlier))
    endings = [
        stop for stop, share in ENDING_SHARES.items() for _ in range(_count(len(plans), share))
    ]
    for stop, index in zip(endings, order, strict=False):
        stops[earlier[index]] = stop
    return stops


def open_serious_events(
    plans: Sequence[PatientPlan], stops: Mapping[str, Stop], seed: int, today: dt.date
) -> dict[str, SeriousEvent]:
    """An open (unresolved) serious adverse event, needing hospital admission, for a few
    patients who walk the whole pathway, starting in the last weeks before ``today``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    walking = [
        plan
        for plan in plans
        if plan.synth_id not in stops and plan.visits[-1].on >= today - dt.timedelta(days=120)
    ]
    chosen = rng.permutation(len(walking))[: _count(len(plans), OPEN_SERIOUS_SHARE)]
    events = {}
    for number, index in enumerate(chosen):
        plan = walking[int(index)]
        onset = max(plan.visits[-1].on, today - dt.timedelta(days=int(rng.integers(3, 21))))
        term = SERIOUS_TERMS[number % len(SERIOUS_TERMS)]
        events[plan.synth_id] = SeriousEvent(
            term, 3, onset, None, ("hospitalisation",), "unlikely", "recovering"
        )
    return events
