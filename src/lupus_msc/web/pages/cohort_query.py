"""The Cohort page's filters, read from the query string: the form is a GET, so a filtered view
is a link one can share (``/cohort?site=A01&source=umbilical-cord&from=2024-01-01``).

Choices come from the analyses themselves (``analytics.proportions.STRATA``: the tissue sources
and dose bands the dataset knows); a site must be one of the user's own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lupus_msc.analytics.cohort_filter import CohortFilter
from lupus_msc.analytics.proportions import STRATA

FIELDS = ("site", "source", "dose", "from", "to")
SOURCE_LABELS = {
    "umbilical-cord": "umbilical cord",
    "bone-marrow": "bone marrow",
    "adipose": "adipose tissue",
    "mixed": "more than one source",
}
SOURCES: tuple[tuple[str, str], ...] = tuple(
    (source, SOURCE_LABELS.get(source, source)) for source in STRATA["tissue_source"]
)
DOSE_BANDS: tuple[tuple[str, str], ...] = tuple(
    (band, f"{band} × 10⁶ cells/kg") for band in STRATA["dose_band"]
)


@dataclass(frozen=True)
class CohortQuery:
    """The filters as given (``values``, for the form), and the cohort they select (None when
    a field is wrong: ``errors`` says which and why)."""

    values: dict[str, str]
    cohort: CohortFilter | None
    errors: dict[str, str] = field(default_factory=dict)


def _date(values: dict[str, str], name: str, errors: dict[str, str]) -> dt.date | None:
    text = values[name]
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[name] = "enter a date as YYYY-MM-DD"
        return None


def _choice(
    values: dict[str, str], name: str, allowed: Sequence[str], errors: dict[str, str], why: str
) -> tuple[str, ...]:
    chosen = values[name]
    if not chosen:
        return ()
    if chosen not in allowed:
        errors[name] = why
        return ()
    return (chosen,)


def read(given: Mapping[str, str], codes: Sequence[str]) -> CohortQuery:
    """The filters of a request's query string; ``codes`` are the sites the user sees."""
    values = {name: (given.get(name) or "").strip()[:40] for name in FIELDS}
    errors: dict[str, str] = {}
    sites = _choice(values, "site", codes, errors, "choose one of your sites")
    sources = _choice(
        values, "source", [s for s, _ in SOURCES], errors, "choose a tissue source from the list"
    )
    doses = _choice(
        values, "dose", [d for d, _ in DOSE_BANDS], errors, "choose a dose band from the list"
    )
    start = _date(values, "from", errors)
    end = _date(values, "to", errors)
    if start is not None and end is not None and start > end:
        errors["to"] = "must not be before the start of the period"
    if errors:
        return CohortQuery(values, None, errors)
    cohort = CohortFilter(
        sites=sites, tissue_sources=sources, dose_bands=doses, infused_from=start, infused_to=end
    )
    return CohortQuery(values, cohort)
