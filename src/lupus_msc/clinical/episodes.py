"""Episodes of a per-visit state in one patient's visits: remission, LLDAS, flare (§5, §6, §2).

An *episode* is a maximal run of consecutive visits at which the state holds (``True``): it starts
at the run's first visit, ends at its last visit (not at the first visit after it), and is
*ongoing* when its last visit is the patient's last visit. [IMPL] This is a descriptive summary for
cohort reports, not part of any instrument: DORIS says duration is not part of the definition of
remission, which is assessed at a single time point (§6), and LLDAS is likewise a state assessed at
one visit (§5); "sustained" remission or LLDAS needs a protocol rule that instruments.md does not
give. Two [IMPL] choices follow:

* A visit whose state is undecidable (``None``, e.g. LLDAS without a previous assessment) ends a
  run, like a ``False`` visit: the state is not known to have held there, so the run is not carried
  across it. The next ``True`` visit starts a new episode.
* An episode's length in days is end date − start date, so a one-visit episode lasts 0 days; time
  between visits is not extrapolated beyond the last visit of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

State = bool | None
"""A visit's state: True (holds), False (does not), None (undecidable)."""


@dataclass(frozen=True)
class Episode:
    """One run of consecutive visits at which the state holds."""

    start: date
    end: date
    """The date of the last visit of the run."""
    visits: int
    ongoing: bool
    """The run reaches the patient's last visit."""

    @property
    def days(self) -> int:
        """Days from the first to the last visit of the run (0 for a single visit)."""
        return (self.end - self.start).days


@dataclass(frozen=True)
class EpisodeSummary:
    """One patient's episodes in a few numbers."""

    episodes: int
    days_to_first: int | None
    """Days from the baseline visit to the first episode's start (negative if it began before);
    None when there is no episode."""
    longest_days: int | None
    """The longest episode's ``days``; None when there is no episode."""


def _check_order(visits: Sequence[tuple[date, State]]) -> None:
    for (earlier, _), (later, _) in pairwise(visits):
        if later <= earlier:
            raise ValueError(f"visit dates must increase: {later} follows {earlier}")


def episodes(visits: Sequence[tuple[date, State]]) -> list[Episode]:
    """The episodes in one patient's visits, given in date order as (visit_date, state).

    A ``None`` state ends a run, as ``False`` does ([IMPL], module docstring; §5, §6).
    """
    _check_order(visits)
    found: list[Episode] = []
    run: list[date] = []
    for visit_date, state in visits:
        if state is True:
            run.append(visit_date)
            continue
        if run:
            found.append(Episode(run[0], run[-1], len(run), ongoing=False))
        run = []
    if run:
        found.append(Episode(run[0], run[-1], len(run), ongoing=True))
    return found


def summarize(visits: Sequence[tuple[date, State]], baseline: date) -> EpisodeSummary:
    """Count, days from ``baseline`` to the first episode's start, and the longest episode.

    ``baseline`` is the date of the patient's baseline visit (the first visit flagged as baseline,
    else the first visit — the convention of the longitudinal instruments).
    """
    found = episodes(visits)
    if not found:
        return EpisodeSummary(episodes=0, days_to_first=None, longest_days=None)
    return EpisodeSummary(
        episodes=len(found),
        days_to_first=(found[0].start - baseline).days,
        longest_days=max(episode.days for episode in found),
    )
