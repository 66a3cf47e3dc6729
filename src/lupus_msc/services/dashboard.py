"""The dashboard's figures: one aggregate query per figure, scoped to the actor's sites.

Each figure is a COUNT / GROUP BY in the database (no rows are loaded into Python), so the
dashboard stays fast on a registry of 100,000 patients and 5 million visits. Each function checks
the action that reading its records needs, so a role sees only figures it may read:

* patients by pathway state and the screening funnel: ``READ_PATIENTS``;
* visits due and overdue, open and serious adverse events: ``READ_IDENTITY`` (what the visit and
  adverse-event services ask to read those records);
* lots in quarantine and near expiry: ``READ_PRODUCTS``.

Admins count every site; everyone else the sites they are members of (``access``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from lupus_msc.cells.lot_state import TERMINAL as LOT_TERMINAL
from lupus_msc.cells.lot_state import LotState
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.fields import now
from lupus_msc.services.screening import Decision
from lupus_msc.store.database import Database
from lupus_msc.store.models import (
    AdverseEvent,
    AuditHead,
    Infusion,
    Lot,
    Patient,
    PatientState,
    Screening,
)
from lupus_msc.store.models import Visit as VisitRow

LOG = logging.getLogger(__name__)

EXPIRY_HORIZON_DAYS = 30
"""A lot "expires soon" within 30 days (issue 6)."""
FOLLOWED = (PatientState.INFUSED, PatientState.FOLLOW_UP)
"""Patients whose follow-up schedule is live: their unrecorded visits are due or overdue.
Visits of patients who completed, withdrew, were lost to follow-up or died are not chased."""


@dataclass(frozen=True)
class VisitCounts:
    due_this_week: int
    overdue: int
    week_start: dt.date
    week_end: dt.date


@dataclass(frozen=True)
class LotCounts:
    quarantine: int
    expiring: int
    expired_not_discarded: int
    horizon: dt.date


@dataclass(frozen=True)
class EventCounts:
    open: int
    serious: int
    open_serious: int


@dataclass(frozen=True)
class Funnel:
    referred: int
    eligible: int
    infused: int


Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def _scoped(query: Q, actor: Actor, site_column: Any) -> Q:
    if actor.all_sites:
        return query
    return query.where(site_column.in_(actor.site_ids))


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.count(case((condition, 1)))


def _int(value: Any) -> int:
    return int(value or 0)


def patients_by_state(session: Session, actor: Actor) -> dict[PatientState, int]:
    """Patients in each pathway state (every state, zero when none)."""
    require(actor, Action.READ_PATIENTS)
    query = select(Patient.state, func.count()).group_by(Patient.state)
    rows = session.execute(_scoped(query, actor, Patient.site_id))
    counts: dict[PatientState, int] = {state: count for state, count in rows}
    return {state: _int(counts.get(state)) for state in PatientState}


def visits_due(session: Session, actor: Actor, today: dt.date) -> VisitCounts:
    """Unrecorded visits of patients in follow-up (``FOLLOWED``): *due this week* when the
    visit's window is open on some day from today to Sunday, *overdue* when it closed before
    today (``services.visits.status``: due within the window, overdue after it)."""
    require(actor, Action.READ_IDENTITY)
    week_end = today + dt.timedelta(days=6 - today.weekday())
    week_start = today - dt.timedelta(days=today.weekday())
    query = (
        select(
            _count_if(VisitRow.window_end >= today),
            _count_if(VisitRow.window_end < today),
        )
        .select_from(VisitRow)
        .join(Patient, Patient.id == VisitRow.patient_id)
        .where(
            VisitRow.visit_date.is_(None),
            VisitRow.window_start <= week_end,
            Patient.state.in_(FOLLOWED),
        )
    )
    due, overdue = session.execute(_scoped(query, actor, Patient.site_id)).one()
    return VisitCounts(_int(due), _int(overdue), week_start, week_end)


def lots(session: Session, actor: Actor, today: dt.date) -> LotCounts:
    """Lots in quarantine; lots still in the chain (not rejected, infused or discarded) whose
    expiry date falls within ``EXPIRY_HORIZON_DAYS``; and those already past it."""
    require(actor, Action.READ_PRODUCTS)
    horizon = today + dt.timedelta(days=EXPIRY_HORIZON_DAYS)
    live = Lot.state.not_in(LOT_TERMINAL)
    query = select(
        _count_if(Lot.state == LotState.QUARANTINE),
        _count_if(live & (Lot.expires_on >= today) & (Lot.expires_on <= horizon)),
        _count_if(live & (Lot.expires_on < today)),
    )
    quarantine, expiring, expired = session.execute(_scoped(query, actor, Lot.site_id)).one()
    return LotCounts(_int(quarantine), _int(expiring), _int(expired), horizon)


def adverse_events(session: Session, actor: Actor) -> EventCounts:
    """Open events (no resolution date), serious events (at least one seriousness criterion),
    and events both open and serious."""
    require(actor, Action.READ_IDENTITY)
    serious = func.json_array_length(AdverseEvent.serious_criteria) > 0
    unresolved = AdverseEvent.resolved_on.is_(None)
    query = select(
        _count_if(unresolved), _count_if(serious), _count_if(unresolved & serious)
    ).select_from(AdverseEvent)
    if not actor.all_sites:  # the site is the patient's: join only when it narrows
        query = query.join(Patient, Patient.id == AdverseEvent.patient_id)
    opened, grave, both = session.execute(_scoped(query, actor, Patient.site_id)).one()
    return EventCounts(_int(opened), _int(grave), _int(both))


INFUSED_OR_LATER = (
    PatientState.INFUSED,
    PatientState.FOLLOW_UP,
    PatientState.COMPLETED,
    PatientState.LOST_TO_FOLLOW_UP,
)
ELIGIBLE_OR_LATER = (
    PatientState.ELIGIBLE,
    PatientState.CONSENTED,
    PatientState.ENROLLED,
    *INFUSED_OR_LATER,
)
"""States only reachable through eligible (``services.pathway``: consented follows eligible
only, enrolled consented only, and so on); INFUSED_OR_LATER likewise through infused."""
ENDED_ANYWHERE = (PatientState.WITHDRAWN, PatientState.DECEASED)
"""Endings reachable from any earlier state: only the records tell how far the patient got."""


def funnel(session: Session, actor: Actor, states: dict[PatientState, int]) -> Funnel:
    """Patients who ever reached each stage (``services.pathway``), from ``states`` (the
    counts of ``patients_by_state``) and one query over the withdrawn and deceased:

    * *referred*: every patient registered (every patient starts there);
    * *eligible*: patients in eligible or a state that only follows it, plus withdrawn or
      deceased patients with a signed eligible screening decision (the only step that sets
      eligible; screen-failed, referred and screening patients never were eligible, since no
      state leads back from eligible to them);
    * *infused*: patients in infused or a state that only follows it, plus withdrawn or
      deceased patients with a recorded infusion (the only step that sets infused).
    """
    require(actor, Action.READ_PATIENTS)
    signed_eligible = (
        select(Screening.id)
        .where(
            Screening.patient_id == Patient.id,
            Screening.decision == Decision.ELIGIBLE.value,
        )
        .exists()
    )
    infused = select(Infusion.id).where(Infusion.patient_id == Patient.id).exists()
    query = select(_count_if(signed_eligible), _count_if(infused)).where(
        Patient.state.in_(ENDED_ANYWHERE)
    )
    ended_eligible, ended_infused = session.execute(_scoped(query, actor, Patient.site_id)).one()
    return Funnel(
        referred=sum(states.values()),
        eligible=sum(states[s] for s in ELIGIBLE_OR_LATER) + _int(ended_eligible),
        infused=sum(states[s] for s in INFUSED_OR_LATER) + _int(ended_infused),
    )


def reached(stage: PatientState) -> ColumnElement[bool]:
    """The condition on ``Patient`` behind a funnel figure (``stage`` eligible or infused), for
    the patient list to show the patients a figure counts (``/patients?reached=...``)."""
    if stage is PatientState.ELIGIBLE:
        later: tuple[PatientState, ...] = ELIGIBLE_OR_LATER
        record = (
            select(Screening.id)
            .where(
                Screening.patient_id == Patient.id,
                Screening.decision == Decision.ELIGIBLE.value,
            )
            .exists()
        )
    elif stage is PatientState.INFUSED:
        later = INFUSED_OR_LATER
        record = select(Infusion.id).where(Infusion.patient_id == Patient.id).exists()
    else:
        raise ValueError(f"the funnel has no stage {stage.value}")
    return Patient.state.in_(later) | (Patient.state.in_(ENDED_ANYWHERE) & record)


def pending_visits(kind: str, today: dt.date) -> ColumnElement[bool]:
    """The condition on ``Patient`` behind a visit figure (``kind`` due or overdue): the patient
    has such a visit (``/patients?visits=...``); the same rules as ``visits_due``."""
    if kind not in ("due", "overdue"):
        raise ValueError(f"no visit figure {kind!r}")
    week_end = today + dt.timedelta(days=6 - today.weekday())
    window = VisitRow.window_end >= today if kind == "due" else VisitRow.window_end < today
    visit = (
        select(VisitRow.id)
        .where(
            VisitRow.patient_id == Patient.id,
            VisitRow.visit_date.is_(None),
            VisitRow.window_start <= week_end,
            window,
        )
        .exists()
    )
    return Patient.state.in_(FOLLOWED) & visit


@dataclass(frozen=True)
class Snapshot:
    """Dashboard figures as computed at one state of the registry."""

    head: int
    """The audit chain's head when they were computed: every write moves it."""
    figures: dict[str, Any]
    as_of: dt.datetime
    seconds: float
    """How long computing them took."""
    stale: bool = False
    """True when the registry has changed since, and newer figures are being computed."""


FigureMaker = Callable[[Session], dict[str, Any]]


class FigureCache:
    """Dashboard figures kept while the registry is unchanged, per scope (sites, parts, day).

    Every write to the registry moves the audit chain's head (``store/audit.py``: one
    transaction, one head), so the head's sequence number names a state of the registry:
    figures computed after reading head N are exact until the next write. A request that finds
    the head moved gets new figures, computed at once — unless the last computation of its
    scope took ``SLOW`` seconds or more (a registry of many thousands of patients): then it gets
    the previous figures, marked stale with their time, while one background computation per
    scope brings them up to date (docs/performance.md, the dashboard). Kept per application
    process, for ``SIZE`` scopes.
    """

    SIZE = 256
    SLOW = 0.05
    """The pages' latency target (issue 6: p95 ≤ 50 ms): counts that take longer are brought
    up to date in the background. A clinic's registry counts in a few milliseconds."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._latest: OrderedDict[tuple[Any, ...], Snapshot] = OrderedDict()
        self._refreshing: set[tuple[Any, ...]] = set()
        self._lock = threading.Lock()

    def figures(self, session: Session, scope: tuple[Any, ...], make: FigureMaker) -> Snapshot:
        head = _head(session)
        with self._lock:
            known = self._latest.get(scope)
            if known is not None:
                self._latest.move_to_end(scope)
        if known is not None and known.head == head:
            return known
        if known is not None and known.seconds >= self.SLOW:
            self._refresh_in_background(scope, make)
            return replace(known, stale=True)
        return self._compute(session, scope, head, make)

    def _compute(
        self, session: Session, scope: tuple[Any, ...], head: int, make: FigureMaker
    ) -> Snapshot:
        started = time.perf_counter()
        figures = make(session)
        snapshot = Snapshot(head, figures, now(), time.perf_counter() - started)
        with self._lock:
            known = self._latest.get(scope)
            if known is None or known.head <= head:
                self._latest[scope] = snapshot
            while len(self._latest) > self.SIZE:
                self._latest.popitem(last=False)
        return snapshot

    def _refresh_in_background(self, scope: tuple[Any, ...], make: FigureMaker) -> None:
        with self._lock:
            if scope in self._refreshing:
                return
            self._refreshing.add(scope)

        def refresh() -> None:
            try:
                with self._database.reads() as session:
                    self._compute(session, scope, _head(session), make)
            except Exception:
                LOG.exception("dashboard figures could not be refreshed")
            finally:
                with self._lock:
                    self._refreshing.discard(scope)

        threading.Thread(target=refresh, name="dashboard-figures", daemon=True).start()

    def wait(self, timeout: float = 30) -> None:
        """Until no background computation runs (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._refreshing:
                    return
            time.sleep(0.01)

    def clear(self) -> None:
        with self._lock:
            self._latest.clear()


def _head(session: Session) -> int:
    head: int | None = session.scalar(select(AuditHead.seq).where(AuditHead.id == 1))
    return head or 0
