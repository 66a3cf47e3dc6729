"""Time to first LLDAS, DORIS remission or flare after infusion: Kaplan–Meier estimates (issue 7).

Time zero is the first infusion (``day`` 0 of the ``visits`` frame,
``notes/analytics_contract.md``). A patient's event time is the first post-infusion visit at which
the outcome holds; a patient without one is censored at the last recorded visit. The outcomes are
the per-visit flags of the analysis dataset: ``lldas`` (instruments.md §5), ``doris`` (§6, DORIS
2021 remission) and ``flare`` / ``severe_flare`` (§2, SELENA-SLEDAI Flare Index versus the
previous visit).

The curve is the Kaplan–Meier product-limit estimate computed by lifelines'
``KaplanMeierFitter``, with Greenwood's variance and 95% pointwise confidence intervals on the
log(−log) scale ("exponential Greenwood", lifelines' default). For "time to reaching a state" the
usual display is the cumulative proportion reaching it, 1 − S(t); the result carries both.

The functions are pure: frames in, a frozen dataclass out; no files, settings or clock.

References
----------
Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc
1958;53:457-81.
Greenwood M. The natural duration of cancer. Reports on Public Health and Medical Subjects 33.
London: HMSO; 1926.
Kalbfleisch JD, Prentice RL. The Statistical Analysis of Failure Time Data. 2nd ed. Wiley; 2002
(log(−log) confidence intervals for S(t)).
Brookmeyer R, Crowley J. A confidence interval for the median survival time. Biometrics
1982;38:29-41 (median interval read off the pointwise confidence band).
lifelines 0.30.3 documentation: ``KaplanMeierFitter``, ``lifelines.utils.median_survival_times``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

#: Default days for the numbers-at-risk table: 0, 3, 6, 12, 18 and 24 months.
AT_RISK_DAYS: tuple[int, ...] = (0, 90, 180, 365, 540, 730)
CONFIDENCE_LEVEL = 0.95


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier curve with its 95% pointwise band, numbers at risk and median.

    ``timeline`` holds day 0 and every distinct observed time (events and censorings), as
    lifelines reports it; ``survival``, ``ci_low`` and ``ci_high`` are aligned with it and are
    right-continuous step functions (the value at a time applies from that time until the next
    one). The interval is 1.0 to 1.0 while S(t) = 1 (lifelines' convention: the log(−log) interval
    is undefined there).

    ``at_risk`` gives, for each requested day, the number of patients still under observation just
    before that day (time ≥ day), as lifelines defines "at risk". ``median_days`` is the smallest
    time with S(t) ≤ 0.5 (None when the curve never falls to 0.5: "not reached"); ``median_ci`` is
    the same read off the lower and upper confidence curves (the pointwise interval inverted,
    after Brookmeyer and Crowley; R's survfit does the same), each None
    when not reached. ``horizon_days`` is the administrative horizon the times were truncated at, if
    any (recorded for the methods text).
    """

    label: str
    n: int
    events: int
    timeline: tuple[int, ...]
    survival: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    at_risk: tuple[tuple[int, int], ...]
    median_days: float | None
    median_ci: tuple[float | None, float | None]
    horizon_days: int | None = None

    @property
    def censored(self) -> int:
        """Patients without the event (censored at their last visit or at the horizon)."""
        return self.n - self.events

    @property
    def cumulative_incidence(self) -> tuple[float, ...]:
        """1 − S(t) on ``timeline``: the cumulative proportion that has reached the state."""
        return tuple(1.0 - s for s in self.survival)

    @property
    def cumulative_incidence_ci(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(low, high) band of 1 − S(t): 1 − ``ci_high`` and 1 − ``ci_low``."""
        return tuple(1.0 - s for s in self.ci_high), tuple(1.0 - s for s in self.ci_low)

    def survival_at(self, day: int) -> float | None:
        """S(day) read off the step function; None after the last observed time (not estimable)."""
        if day < 0 or day > self.timeline[-1]:
            return None
        index = max(i for i, t in enumerate(self.timeline) if t <= day)
        return self.survival[index]

    def cumulative_incidence_at(self, day: int) -> float | None:
        """1 − S(day): the proportion that has reached the state by ``day``; None when unknown."""
        s = self.survival_at(day)
        return None if s is None else 1.0 - s


def first_event_times(
    visits: pl.DataFrame,
    patients: pl.DataFrame,
    outcome: str,
    *,
    horizon_days: int | None = None,
) -> pl.DataFrame:
    """Days from first infusion to the first visit with ``outcome`` true, one row per patient.

    For each patient of ``patients`` (in its order) the event time is the ``day`` of the first
    visit with ``day > 0`` at which the boolean column ``outcome`` is true (``event`` True).
    Otherwise the patient is censored at the last recorded visit: the largest ``day`` among the
    patient's visits after infusion, or 0 when there is none ("censoring at last visit").

    Choices, stated for the methods text:

    * Only visits after infusion (``day > 0``) can be events. The baseline (day-0) visit is not an
      event "after infusion": a patient already in LLDAS (instruments.md §5) or DORIS remission
      (§6) at baseline has the event at the first later visit where the state holds, and a flare
      (§2) recorded at day 0 compares with a pre-infusion assessment and is ignored.
    * A null outcome means "not assessable at this visit": it is not an event, but the visit still
      counts as follow-up for the censoring time.
    * With ``horizon_days`` (e.g. 730 for 24 months) an event after the horizon is censored at the
      horizon, and so is follow-up beyond it; an event on the horizon day counts.

    Returns columns ``patient_id`` (String), ``days`` (Int64), ``event`` (Boolean).
    """
    if outcome not in visits.columns:
        raise ValueError(f"visits has no outcome column {outcome!r}")
    if visits.schema[outcome] != pl.Boolean:
        raise ValueError(
            f"outcome column {outcome!r} must be Boolean, not {visits.schema[outcome]}"
        )
    if horizon_days is not None and horizon_days <= 0:
        raise ValueError(f"horizon_days must be a positive number of days, not {horizon_days}")
    after = pl.col("day") > 0
    per_patient = visits.group_by("patient_id").agg(
        pl.col("day").filter(after).max().alias("last_day"),
        pl.col("day").filter(after & pl.col(outcome).fill_null(False)).min().alias("event_day"),
    )
    times = patients.select("patient_id").join(
        per_patient, on="patient_id", how="left", maintain_order="left"
    )
    event = pl.col("event_day").is_not_null()
    days = pl.when(event).then(pl.col("event_day")).otherwise(pl.col("last_day").fill_null(0))
    if horizon_days is not None:
        event = event & (pl.col("event_day") <= horizon_days)
        days = pl.min_horizontal(days, pl.lit(horizon_days))
    return times.select(
        "patient_id",
        days.cast(pl.Int64).alias("days"),
        event.fill_null(False).cast(pl.Boolean).alias("event"),
    )


def _check_times(times: pl.DataFrame, label: str, horizon_days: int | None) -> None:
    """Refuse input lifelines would mis-read, saying what to fix."""
    name = f" {label!r}" if label else ""
    if times.height == 0:
        raise ValueError(f"empty cohort{name}: no patients to estimate a Kaplan–Meier curve from")
    for column in ("days", "event"):
        if column not in times.columns:
            raise ValueError(f"times{name} has no column {column!r} (see first_event_times)")
        if times[column].null_count():
            raise ValueError(f"times{name} has null values in {column!r}")
    if times["days"].min() < 0:  # type: ignore[operator]
        raise ValueError(f"times{name} has negative days; time 0 is the first infusion")
    if horizon_days is not None and times["days"].max() > horizon_days:  # type: ignore[operator]
        raise ValueError(f"times{name} has days beyond horizon_days={horizon_days}")


def _none_if_infinite(value: float) -> float | None:
    return None if math.isinf(value) else float(value)


def kaplan_meier(
    times: pl.DataFrame,
    at_risk_days: Sequence[int] = AT_RISK_DAYS,
    label: str = "",
    *,
    horizon_days: int | None = None,
) -> KaplanMeier:
    """Kaplan–Meier product-limit estimate of the time to first event (lifelines).

    ``times`` has the columns of :func:`first_event_times` (``days``, ``event``). S(t) is the
    product over event times tⱼ ≤ t of (1 − dⱼ/nⱼ), dⱼ events among the nⱼ at risk; a censoring
    tied with events at the same day is counted after them (still at risk). The 95% pointwise
    interval is lifelines' default exponential Greenwood interval: with V(t) = Σ dⱼ / (nⱼ(nⱼ − dⱼ))
    (Greenwood), log(−log S(t)) ± 1.96 · √V(t) / |log S(t)|, transformed back. The median and its
    interval come from ``kmf.median_survival_time_`` and
    ``lifelines.utils.median_survival_times(kmf.confidence_interval_)``.

    ``horizon_days`` only records the truncation applied by :func:`first_event_times` (for
    :func:`methods_text`) and checks that no time exceeds it.

    Raises ValueError for an empty cohort (naming ``label``), missing columns, nulls, negative
    days or days beyond ``horizon_days``.
    """
    _check_times(times, label, horizon_days)
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    durations = times["days"].cast(pl.Float64).to_list()
    observed = times["event"].to_list()
    kmf = KaplanMeierFitter(alpha=1 - CONFIDENCE_LEVEL, label="km")
    kmf.fit(durations, event_observed=observed)
    band = kmf.confidence_interval_
    lower = band[f"km_lower_{CONFIDENCE_LEVEL:g}"]
    upper = band[f"km_upper_{CONFIDENCE_LEVEL:g}"]
    median_band = median_survival_times(band)
    at_risk = tuple(
        (int(day), int(times.filter(pl.col("days") >= day).height)) for day in at_risk_days
    )
    return KaplanMeier(
        label=label,
        n=times.height,
        events=int(times["event"].sum()),
        timeline=tuple(int(t) for t in kmf.timeline),
        survival=tuple(float(s) for s in kmf.survival_function_["km"]),
        ci_low=tuple(float(s) for s in lower),
        ci_high=tuple(float(s) for s in upper),
        at_risk=at_risk,
        median_days=_none_if_infinite(kmf.median_survival_time_),
        median_ci=(
            _none_if_infinite(median_band[lower.name].iloc[0]),
            _none_if_infinite(median_band[upper.name].iloc[0]),
        ),
        horizon_days=horizon_days,
    )


def _days(value: float | None) -> str:
    return "not reached" if value is None else f"{value:g} days"


def methods_text(result: KaplanMeier) -> str:
    """One sentence saying exactly what :func:`kaplan_meier` computed, for the report's methods."""
    label = result.label
    if label[:2].istitle():  # "First LLDAS" reads "time to first LLDAS"; "LLDAS" stays as it is
        label = label[0].lower() + label[1:]
    subject = f"Time to {label}" if label else "Time to first event"
    horizon = (
        f" or at {result.horizon_days} days, whichever came first"
        if result.horizon_days is not None
        else ""
    )
    low, high = result.median_ci
    median = f"the median was {_days(result.median_days)} (95% CI {_days(low)} to {_days(high)})"
    return (
        f"{subject} after the first infusion was estimated with the Kaplan–Meier product-limit "
        f"method in {result.n} patients ({result.events} events; {result.censored} censored at "
        f"their last recorded visit{horizon}), with 95% pointwise confidence intervals from "
        f"Greenwood's variance on the log(−log) scale (lifelines), and {median}."
    )
