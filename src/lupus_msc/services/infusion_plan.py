"""Before the infusion: what would block it, which lots wait for the patient, which bedside checks
are on file (DESIGN.md pathway step 4; §14 dose and thaw-to-infusion limit).

Read-only. Each gate is judged by the same function that ``services.infusions.record`` uses to
refuse, so the page shows the refusal staff would meet, in the service's own words.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.cells import dose
from lupus_msc.cells.lot_state import LotState
from lupus_msc.protocol import Dosing, Protocol
from lupus_msc.services import infusions, patients, protocols
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import Refused
from lupus_msc.services.fields import now
from lupus_msc.services.patients import PatientOut
from lupus_msc.store.models import (
    BedsideCheck,
    Infusion,
    Lot,
    Patient,
    PatientState,
    QualificationKind,
    ReleaseDecision,
    User,
)

INFUSABLE = frozenset({PatientState.ENROLLED, PatientState.INFUSED, PatientState.FOLLOW_UP})
"""The patient states ``services.infusions.record`` accepts."""


@dataclass(frozen=True)
class Gate:
    """One condition of the infusion: passed, failed, or ``None`` while still to be done."""

    key: str
    label: str
    passed: bool | None
    detail: str


@dataclass(frozen=True)
class LotStatus:
    """A lot allocated to the patient, and whether it could be infused at ``at``."""

    id: uuid.UUID
    code: str
    state: LotState
    released_at: dt.datetime | None
    released_by: str | None
    expires_on: dt.date
    unexpired: bool
    thawed_at: dt.datetime | None
    minutes_since_thaw: int | None
    limit_minutes: int
    viable_cells_per_ml: Decimal
    volume_ml: Decimal
    problem: str | None
    """Why the infusion service would refuse this lot now (None: it would accept it)."""

    @property
    def ready(self) -> bool:
        return self.problem is None

    @property
    def thawed_in_time(self) -> bool:
        return self.minutes_since_thaw is not None and (
            0 <= self.minutes_since_thaw <= self.limit_minutes
        )


@dataclass(frozen=True)
class CheckRecord:
    """A bedside identity check on file, matched or not."""

    id: uuid.UUID
    checked_at: dt.datetime
    scanned_patient_code: str
    scanned_lot_code: str
    lot_id: uuid.UUID | None
    first_checker: str
    second_checker: str
    matched: bool
    problem: str | None


@dataclass(frozen=True)
class PastInfusion:
    id: uuid.UUID
    number: int
    started_at: dt.datetime


@dataclass(frozen=True)
class Plan:
    """Everything the infusion page shows before staff start."""

    patient: PatientOut
    protocol_title: str
    dosing: Dosing
    gates: list[Gate]
    lots: list[LotStatus]
    checks: list[CheckRecord]
    infusions: list[PastInfusion]

    @property
    def blocked(self) -> bool:
        return any(gate.passed is False for gate in self.gates)

    def matched_checks(self, ids: list[uuid.UUID]) -> list[CheckRecord]:
        """The matched checks among ``ids`` that belong to this patient (others are ignored)."""
        wanted = set(ids)
        return [check for check in self.checks if check.id in wanted and check.matched]

    def lot(self, lot_id: uuid.UUID | None) -> LotStatus | None:
        return next((lot for lot in self.lots if lot.id == lot_id), None)

    def dose_lot(self, checks: list[CheckRecord]) -> LotStatus | None:
        """The lot whose concentration sets the volume: the first checked one, else the first
        ready one, else the first allocated one still to be infused."""
        for check in checks:
            if (found := self.lot(check.lot_id)) is not None:
                return found
        waiting = [lot for lot in self.lots if lot.state is not LotState.INFUSED]
        return next((lot for lot in waiting if lot.ready), waiting[0] if waiting else None)


def _passes(rule: Callable[..., None], *args: object) -> tuple[bool, str | None]:
    """Whether ``rule`` lets the infusion through; if not, the service's reason."""
    try:
        rule(*args)
    except Refused as error:
        return False, error.fields[0][1] if error.fields else error.message
    return True, None


def _release(session: Session, lot: Lot) -> ReleaseDecision | None:
    query = select(ReleaseDecision).where(
        ReleaseDecision.lot_id == lot.id, ReleaseDecision.decision == "release"
    )
    return session.scalars(query).first()


def _lot_status(
    session: Session, patient: Patient, lot: Lot, protocol: Protocol, at: dt.datetime
) -> LotStatus:
    released = _release(session, lot)
    minutes = None
    if lot.thawed_at is not None and lot.state is LotState.THAWED:
        minutes = int((at - lot.thawed_at).total_seconds() // 60)
    problem: str | None = f"lot {lot.code} is already {lot.state.value}"
    if lot.state is not LotState.INFUSED:
        _, problem = _passes(infusions.require_lot_ready, session, patient, lot, protocol, at)
    return LotStatus(
        id=lot.id,
        code=lot.code,
        state=lot.state,
        released_at=released.signed_at if released else None,
        released_by=released.signer_name if released else None,
        expires_on=lot.expires_on,
        unexpired=lot.expires_on >= at.date(),
        thawed_at=lot.thawed_at,
        minutes_since_thaw=minutes,
        limit_minutes=protocol.dosing.thaw_to_infusion_max_minutes,
        viable_cells_per_ml=lot.viable_cells_per_ml,
        volume_ml=lot.volume_ml,
        problem=problem,
    )


def _lots(
    session: Session, patient: Patient, protocol: Protocol, at: dt.datetime
) -> list[LotStatus]:
    query = select(Lot).where(Lot.allocated_patient_id == patient.id).order_by(Lot.code)
    return [_lot_status(session, patient, lot, protocol, at) for lot in session.scalars(query)]


def names_of(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return {row.id: row.full_name for row in rows}


def checks_for(session: Session, patient: Patient) -> list[CheckRecord]:
    """The patient's bedside checks, newest first, mismatches included."""
    query = select(BedsideCheck).where(BedsideCheck.patient_id == patient.id)
    found = list(session.scalars(query.order_by(BedsideCheck.checked_at.desc())))
    names = names_of(
        session, {c.first_checker_id for c in found} | {c.second_checker_id for c in found}
    )
    return [
        CheckRecord(
            id=check.id,
            checked_at=check.checked_at,
            scanned_patient_code=check.scanned_patient_code,
            scanned_lot_code=check.scanned_lot_code,
            lot_id=check.lot_id,
            first_checker=names.get(check.first_checker_id, "?"),
            second_checker=names.get(check.second_checker_id, "?"),
            matched=check.matched,
            problem=check.problem,
        )
        for check in found
    ]


def _past(session: Session, patient: Patient) -> list[PastInfusion]:
    query = select(Infusion).where(Infusion.patient_id == patient.id).order_by(Infusion.number)
    return [PastInfusion(i.id, i.number, i.started_at) for i in session.scalars(query)]


def _lot_gate(lots: list[LotStatus]) -> Gate:
    label = "Lot released, unexpired, allocated to this patient and thawed in time"
    waiting = [lot for lot in lots if lot.state is not LotState.INFUSED]
    ready = [lot for lot in waiting if lot.ready]
    if ready:
        lot = ready[0]
        detail = f"lot {lot.code}: thawed {lot.minutes_since_thaw} min ago"
        return Gate("lot", label, True, f"{detail} (limit {lot.limit_minutes} min)")
    if not waiting:
        return Gate("lot", label, False, "no lot waiting to be infused is allocated to the patient")
    return Gate("lot", label, False, "; ".join(lot.problem or "" for lot in waiting))


def _gates(
    session: Session, actor: Actor, patient: Patient, protocol: Protocol, lots: list[LotStatus]
) -> list[Gate]:
    consent_ok, consent_why = _passes(infusions.require_consent, session, patient)
    eligible_ok, eligible_why = _passes(infusions.require_eligibility, session, patient)
    done = len(_past(session, patient))
    limit = protocol.dosing.infusions
    gates = [
        Gate("consent", "Active consent", consent_ok, consent_why or "consent on file"),
        Gate(
            "eligibility",
            "Eligibility signed by a physician",
            eligible_ok,
            eligible_why or "signed eligible",
        ),
        Gate(
            "state",
            "Patient on the pathway for an infusion",
            patient.state in INFUSABLE,
            f"the patient is {patient.state.value}",
        ),
        Gate(
            "number",
            "Infusions left in the protocol",
            done < limit,
            f"{done} of {limit} infusion(s) given",
        ),
        _lot_gate(lots),
    ]
    if actor.may(Action.RECORD_INFUSION):
        today = now().date()
        qualified = actor.qualified(QualificationKind.INFUSION, today)
        detail = "valid" if qualified else "no valid infusion qualification"
        gates.append(
            Gate("qualification", f"Your qualification ({actor.full_name})", qualified, detail)
        )
    gates.append(
        Gate(
            "bedside_check",
            "Two-person identity check at the bedside",
            None,
            "step 1 below, just before the infusion",
        )
    )
    return gates


def plan(session: Session, actor: Actor, patient_id: uuid.UUID, *, at: dt.datetime) -> Plan:
    """The patient, their lots and every gate of the infusion as they stand at ``at``."""
    patient = patients.get(session, actor, patient_id)
    require(actor, Action.READ_PRODUCTS)
    version = protocols.get(session, patient.protocol_version_id)
    protocol = protocols.definition(version)
    lots = _lots(session, patient, protocol, at)
    return Plan(
        patient=patients.view(actor, patient),
        protocol_title=f"{version.title} (version {version.version})",
        dosing=protocol.dosing,
        gates=_gates(session, actor, patient, protocol, lots),
        lots=lots,
        checks=checks_for(session, patient),
        infusions=_past(session, patient),
    )


@dataclass(frozen=True)
class DosePlan:
    """The dose for a weight and a lot (§14, §16.15), with the protocol's range in cells and mL.

    Every number comes from the ``msc-dose`` instrument (``cells.dose``): the target at the
    protocol's dose per kg, and the two ends of the range as the targets at its minimum and
    maximum dose per kg.
    """

    lot_code: str
    viable_cells_per_ml: Decimal
    weight_kg: Decimal
    dose_per_kg: Decimal
    dose_min_per_kg: Decimal
    dose_max_per_kg: Decimal
    result: dose.MscDoseResult
    low: dose.MscDoseResult
    high: dose.MscDoseResult


def _at_per_kg(
    per_kg: Decimal, *, weight_kg: Decimal, viable_cells_per_ml: Decimal
) -> dose.MscDoseResult:
    return dose.score(
        dose.MscDoseInput(
            weight_kg=weight_kg, dose_per_kg=per_kg, viable_cells_per_ml=viable_cells_per_ml
        )
    )


def dose_plan(
    dosing: Dosing, lot: LotStatus, *, weight_kg: Decimal, actual_cells: Decimal | None
) -> DosePlan:
    """Target cells and volume for ``weight_kg`` from ``lot``'s concentration, the allowed range,
    and whether ``actual_cells`` lies within it (§14; ``services.infusions.dose_for``)."""
    concentration = lot.viable_cells_per_ml
    return DosePlan(
        lot_code=lot.code,
        viable_cells_per_ml=concentration,
        weight_kg=weight_kg,
        dose_per_kg=dosing.dose_per_kg,
        dose_min_per_kg=dosing.dose_min_per_kg,
        dose_max_per_kg=dosing.dose_max_per_kg,
        result=infusions.dose_for(
            dosing,
            viable_cells_per_ml=concentration,
            weight_kg=weight_kg,
            actual_cells=actual_cells,
        ),
        low=_at_per_kg(
            dosing.dose_min_per_kg, weight_kg=weight_kg, viable_cells_per_ml=concentration
        ),
        high=_at_per_kg(
            dosing.dose_max_per_kg, weight_kg=weight_kg, viable_cells_per_ml=concentration
        ),
    )
