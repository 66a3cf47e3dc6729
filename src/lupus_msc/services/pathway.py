"""The patient pathway as a state machine (DESIGN.md, "The therapy pathway it implements").

::

    referred → screening → eligible → consented → enrolled → infused → follow-up → completed
                    ↓  ↑
              screen-failed (re-screening allowed)

    withdrawn, lost-to-follow-up and deceased end the pathway from any state before them
    (lost to follow-up only once the patient has been infused).

Some states are reached only by their own step, never by a bare state change: *eligible* and
*screen-failed* by the physician's signed eligibility decision, *consented* by recording
consent, *infused* by recording the first infusion and *follow-up* by the first follow-up visit.
"""

from __future__ import annotations

from lupus_msc.store.models import PatientState

S = PatientState
_ENDINGS = {S.WITHDRAWN, S.DECEASED}
_NEXT: dict[PatientState, frozenset[PatientState]] = {
    S.REFERRED: frozenset({S.SCREENING, *_ENDINGS}),
    S.SCREENING: frozenset({S.ELIGIBLE, S.SCREEN_FAILED, *_ENDINGS}),
    S.SCREEN_FAILED: frozenset({S.SCREENING, *_ENDINGS}),
    S.ELIGIBLE: frozenset({S.CONSENTED, *_ENDINGS}),
    S.CONSENTED: frozenset({S.ENROLLED, *_ENDINGS}),
    S.ENROLLED: frozenset({S.INFUSED, *_ENDINGS}),
    S.INFUSED: frozenset({S.FOLLOW_UP, S.LOST_TO_FOLLOW_UP, *_ENDINGS}),
    S.FOLLOW_UP: frozenset({S.COMPLETED, S.LOST_TO_FOLLOW_UP, *_ENDINGS}),
    S.COMPLETED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.LOST_TO_FOLLOW_UP: frozenset(),
    S.DECEASED: frozenset(),
}

SET_BY_STEP: dict[PatientState, str] = {
    S.ELIGIBLE: "signing the screening decision",
    S.SCREEN_FAILED: "signing the screening decision",
    S.CONSENTED: "recording the patient's consent",
    S.INFUSED: "recording the first infusion",
    S.FOLLOW_UP: "recording the first follow-up visit",
}
"""States a bare state change may not set, and the step that sets them."""

TERMINAL = frozenset(state for state, following in _NEXT.items() if not following)


def allowed(current: PatientState) -> frozenset[PatientState]:
    return _NEXT[current]


def move_error(current: PatientState, target: PatientState) -> str | None:
    """Why a patient in ``current`` cannot move to ``target``, or None when the move is legal."""
    if target in _NEXT[current]:
        return None
    following = ", ".join(sorted(state.value for state in _NEXT[current])) or "nothing (ended)"
    return f"a patient cannot go from {current.value} to {target.value}; next may be: {following}"
