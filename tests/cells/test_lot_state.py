"""The MSC lot life cycle (cells/lot_state.py): every legal move, every illegal pair, terminals."""

from __future__ import annotations

import itertools

import pytest

from lupus_msc.cells.lot_state import (
    TERMINAL,
    IllegalTransition,
    LotState,
    allowed_transitions,
    transition,
)

Q, REL, REJ, ALL, SHIP, THAW, INF, DIS = (
    LotState.QUARANTINE,
    LotState.RELEASED,
    LotState.REJECTED,
    LotState.ALLOCATED,
    LotState.SHIPPED,
    LotState.THAWED,
    LotState.INFUSED,
    LotState.DISCARDED,
)

LEGAL = {
    (Q, REL),
    (Q, REJ),
    (REL, ALL),
    (ALL, SHIP),
    (SHIP, THAW),
    (THAW, INF),
    (THAW, DIS),
    (REL, DIS),
    (ALL, DIS),
    (SHIP, DIS),
}
"""Written out from the brief, independently of the module's table."""
ILLEGAL = sorted(set(itertools.product(LotState, repeat=2)) - LEGAL)


def test_there_are_eight_states_with_their_names() -> None:
    assert {state.value for state in LotState} == {
        "quarantine",
        "released",
        "rejected",
        "allocated",
        "shipped",
        "thawed",
        "infused",
        "discarded",
    }


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_every_legal_transition_returns_the_target(current: LotState, target: LotState) -> None:
    assert transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_every_other_pair_is_illegal_naming_both_states(
    current: LotState, target: LotState
) -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(current, target)
    assert caught.value.current is current
    assert caught.value.target is target
    assert f"from {current.value} to {target.value}" in str(caught.value)


def test_the_illegal_pairs_are_the_rest_of_the_64() -> None:
    assert len(LEGAL) + len(ILLEGAL) == 64
    assert len(ILLEGAL) == 54


@pytest.mark.parametrize("state", list(LotState))
def test_allowed_transitions_match_the_legal_table(state: LotState) -> None:
    assert allowed_transitions(state) == {target for current, target in LEGAL if current is state}


def test_terminal_states_are_rejected_infused_discarded() -> None:
    assert {REJ, INF, DIS} == TERMINAL


@pytest.mark.parametrize("state", [REJ, INF, DIS])
def test_a_terminal_state_allows_nothing(state: LotState) -> None:
    assert allowed_transitions(state) == frozenset()
    with pytest.raises(IllegalTransition, match="nothing"):
        transition(state, DIS)


def test_a_quarantined_lot_cannot_be_discarded_it_is_rejected() -> None:
    with pytest.raises(IllegalTransition, match="from quarantine to discarded"):
        transition(Q, DIS)
    assert transition(Q, REJ) is REJ


def test_a_released_lot_cannot_be_infused_without_shipping_and_thawing() -> None:
    with pytest.raises(IllegalTransition):
        transition(REL, INF)


def test_an_infused_lot_cannot_be_discarded() -> None:
    with pytest.raises(IllegalTransition):
        transition(INF, DIS)


def test_the_happy_path_from_quarantine_to_infusion() -> None:
    state = Q
    for target in (REL, ALL, SHIP, THAW, INF):
        state = transition(state, target)
    assert state is INF


def test_the_error_lists_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition, match="may go to: allocated, discarded"):
        transition(REL, SHIP)


def test_states_read_from_their_stored_strings() -> None:
    assert LotState("thawed") is THAW
