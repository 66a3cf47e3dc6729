"""Episodes of a per-visit state in one patient's visits (instruments.md §5, §6; [IMPL])."""

from __future__ import annotations

from datetime import date

import pytest

from lupus_msc.clinical.episodes import Episode, EpisodeSummary, State, episodes, summarize

JAN, FEB, MAR, APR, MAY = (date(2024, month, 1) for month in range(1, 6))


def history(*states: State) -> list[tuple[date, State]]:
    """Visits on the first of January, February, … with the given states."""
    return list(zip((JAN, FEB, MAR, APR, MAY), states, strict=False))


def test_no_visit_and_no_true_visit_have_no_episode() -> None:
    assert episodes([]) == []
    assert episodes(history(False, None, False)) == []


def test_a_run_ends_at_its_last_visit_and_the_next_true_visit_starts_another() -> None:
    """T T F T: Jan–Feb (2 visits, 31 days, over), then Apr alone (0 days, ongoing)."""
    assert episodes(history(True, True, False, True)) == [
        Episode(start=JAN, end=FEB, visits=2, ongoing=False),
        Episode(start=APR, end=APR, visits=1, ongoing=True),
    ]
    assert [episode.days for episode in episodes(history(True, True, False, True))] == [31, 0]


def test_impl_an_undecidable_visit_ends_a_run() -> None:
    """[IMPL] (§5, §6): T None T is two episodes, never one spanning the undecided visit."""
    assert episodes(history(True, None, True)) == [
        Episode(start=JAN, end=JAN, visits=1, ongoing=False),
        Episode(start=MAR, end=MAR, visits=1, ongoing=True),
    ]


def test_a_run_reaching_the_last_visit_is_ongoing() -> None:
    """Feb–May, 4 visits: 1 Feb to 1 May 2024 is 29 + 31 + 30 = 90 days (leap year)."""
    (only,) = episodes(history(False, True, True, True, True))
    assert only == Episode(start=FEB, end=MAY, visits=4, ongoing=True)
    assert only.days == 90


def test_a_false_last_visit_closes_the_episode() -> None:
    (only,) = episodes(history(True, True, True, False))
    assert only.ongoing is False


@pytest.mark.parametrize("dates", [[FEB, JAN], [JAN, JAN]])
def test_it_refuses_visits_not_in_increasing_date_order(dates: list[date]) -> None:
    with pytest.raises(ValueError, match="visit dates must increase"):
        episodes([(day, True) for day in dates])


def test_summary_counts_time_to_first_and_longest_episode() -> None:
    """F T F T T from baseline 1 Jan: first starts 1 Feb (31 days); longest Apr–May (30 days)."""
    assert summarize(history(False, True, False, True, True), baseline=JAN) == EpisodeSummary(
        episodes=2, days_to_first=31, longest_days=30
    )


def test_summary_without_an_episode_has_no_times() -> None:
    assert summarize(history(False, None), baseline=JAN) == EpisodeSummary(
        episodes=0, days_to_first=None, longest_days=None
    )


def test_an_episode_before_a_later_baseline_gives_negative_days_to_first() -> None:
    """The first episode is counted even when it starts before the baseline visit (1 Mar)."""
    assert summarize(history(True, False, False), baseline=MAR).days_to_first == -60
