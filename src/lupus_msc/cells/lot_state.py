"""Life cycle of an MSC lot, from quarantine to infusion or disposal (§14 chain of identity).

::

    quarantine ──► released ──► allocated ──► shipped ──► thawed ──► infused
        │              │            │            │           │
        ▼              └────────────┴────────────┴───────────┴──► discarded
    rejected

* A lot is made in **quarantine** and leaves it only by the release decision (§14): **released**
  when it meets its specification, **rejected** when it does not.
* **Discard** is how a product that was once good leaves the chain when it expires or is damaged:
  it is allowed from released (expired on the shelf), allocated (expired or damaged before
  dispatch), shipped (cold chain broken in transit) and thawed (not infused in time, or damaged).
  A quarantined lot cannot be discarded: disposing of it is the rejection, so that every lot that
  never reached release is recorded as rejected.
* **Rejected**, **infused** and **discarded** are terminal: nothing follows them. No state leads
  back to itself or to an earlier state (an allocation is not undone by this machine).
"""

from __future__ import annotations

from enum import StrEnum


class LotState(StrEnum):
    """Where an MSC lot is in its life cycle."""

    QUARANTINE = "quarantine"
    RELEASED = "released"
    REJECTED = "rejected"
    ALLOCATED = "allocated"
    SHIPPED = "shipped"
    THAWED = "thawed"
    INFUSED = "infused"
    DISCARDED = "discarded"


_NEXT: dict[LotState, frozenset[LotState]] = {
    LotState.QUARANTINE: frozenset({LotState.RELEASED, LotState.REJECTED}),
    LotState.RELEASED: frozenset({LotState.ALLOCATED, LotState.DISCARDED}),
    LotState.ALLOCATED: frozenset({LotState.SHIPPED, LotState.DISCARDED}),
    LotState.SHIPPED: frozenset({LotState.THAWED, LotState.DISCARDED}),
    LotState.THAWED: frozenset({LotState.INFUSED, LotState.DISCARDED}),
    LotState.REJECTED: frozenset(),
    LotState.INFUSED: frozenset(),
    LotState.DISCARDED: frozenset(),
}

TERMINAL: frozenset[LotState] = frozenset(state for state, after in _NEXT.items() if not after)
"""States that allow no further transition: rejected, infused, discarded."""


class IllegalTransition(ValueError):
    """A lot asked to move from ``current`` to a state that cannot follow it."""

    def __init__(self, current: LotState, target: LotState) -> None:
        self.current = current
        self.target = target
        allowed = ", ".join(sorted(_NEXT[current])) or "nothing (terminal state)"
        super().__init__(
            f"a lot cannot go from {current.value} to {target.value}; "
            f"from {current.value} it may go to: {allowed}"
        )


def allowed_transitions(state: LotState) -> frozenset[LotState]:
    """The states a lot in ``state`` may move to next (see the module docstring)."""
    return _NEXT[state]


def transition(current: LotState, target: LotState) -> LotState:
    """``target`` if a lot may move there from ``current``; otherwise ``IllegalTransition``."""
    if target not in _NEXT[current]:
        raise IllegalTransition(current, target)
    return target
