"""Screening: the medical evaluation, the protocol's rules evaluated automatically, and the
physician's signed decision (DESIGN.md pathway step 1)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc import __version__
from lupus_msc.clinical import eular_acr_2019, sledai2k
from lupus_msc.clinical.common import Tri, all_of
from lupus_msc.clinical.eular_acr_2019 import EularAcr2019Input, EularAcr2019Result
from lupus_msc.clinical.sledai2k import Sledai2kInput, Sledai2kResult
from lupus_msc.protocol import EligibilityRule, evaluate_all
from lupus_msc.services import accounts, patients, protocols
from lupus_msc.services.access import Action, Actor, fetch_patient_record, require
from lupus_msc.services.errors import invalid, refused
from lupus_msc.services.fields import In, Out, Reason, Text, now, today
from lupus_msc.store.models import Patient, PatientState, Screening

Organ = Literal["skin", "joints", "kidneys", "heart", "brain", "blood", "serosa", "lungs"]
DrugClass = Literal["glucocorticoid", "antimalarial", "immunosuppressant", "biologic"]
FieldName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
OtherValue = (
    bool | Annotated[Decimal, Field(allow_inf_nan=False)] | Annotated[str, Field(max_length=200)]
)


class TreatmentHistory(In):
    """A treatment the patient has had: ``failed`` when it did not control the disease at an
    adequate dose and duration (refractoriness, DESIGN.md pathway step 1)."""

    drug: Text
    drug_class: DrugClass
    current: bool
    failed: bool


class ScreeningIn(In):
    screened_on: dt.date
    eular_acr_2019: EularAcr2019Input | None = None
    sledai2k: Sledai2kInput | None = None
    organ_involvement: Annotated[list[Organ], Field(max_length=8)] = Field(default_factory=list)
    treatments: Annotated[list[TreatmentHistory], Field(max_length=50)] = Field(
        default_factory=list
    )
    active_infection: bool | None = None
    pregnant: bool | None = None
    other: Annotated[dict[FieldName, OtherValue], Field(max_length=50)] = Field(
        default_factory=dict
    )
    """Further screening fields a protocol's rules may name (e.g. ``egfr_ml_min >= 30``)."""


class Decision(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"


class DecisionIn(In):
    decision: Decision
    password: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Reason | None = None
    """Required when the decision differs from the rules (or the rules are undecided)."""


class ScreeningOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    protocol_version_id: uuid.UUID
    screened_on: dt.date
    data: dict[str, Any]
    age_years: int | None
    eular_acr_score: int | None
    eular_acr_classified: bool | None
    sledai2k_total: int | None
    rule_results: dict[str, bool | None]
    rules_eligible: bool | None
    engine_version: str
    decision: str | None
    decision_reason: str | None
    decided_by_id: uuid.UUID | None
    decided_at: dt.datetime | None


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years of age on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


DERIVED_FIELDS = frozenset(
    {
        "age_years",
        "eular_acr_2019_classified",
        "eular_acr_2019_total",
        "sledai2k_total",
        "immunosuppressants_failed",
        "active_infection",
        "pregnant",
    }
)
"""The fields ``screening_fields`` derives; a rule over any other field reads ``other``."""


def screening_fields(patient: Patient, data: ScreeningIn) -> dict[str, Any]:
    """The named values a protocol's eligibility rules are written over.

    ``sledai2k_total`` is given only for a complete SLEDAI-2K (§16.1 ``complete``): an
    incomplete one leaves an activity rule undecided rather than judged on a partial score.
    """
    sledai = sledai2k.score(data.sledai2k) if data.sledai2k else None
    eular = eular_acr_2019.score(data.eular_acr_2019) if data.eular_acr_2019 else None
    failed = [t for t in data.treatments if t.failed and t.drug_class == "immunosuppressant"]
    return {
        **data.other,
        "age_years": age_on(patient.date_of_birth, data.screened_on),
        "eular_acr_2019_classified": eular.classified if eular else None,
        "eular_acr_2019_total": eular.total if eular else None,
        "sledai2k_total": sledai.total if sledai and sledai.complete else None,
        "immunosuppressants_failed": len({t.drug.lower() for t in failed}),
        "active_infection": data.active_infection,
        "pregnant": data.pregnant,
    }


@dataclass(frozen=True)
class CountedItem:
    """The criterion that scores in one 2019 EULAR/ACR domain (§7: only the highest counts)."""

    domain: str
    criterion: str
    points: int


def counted_items(result: EularAcr2019Result, criteria: Sequence[str]) -> list[CountedItem]:
    """Which criterion each scoring domain counted, as the engine's ``domain_points`` say (§7).

    Criteria of equal weight in one domain are named together; low C3 and low C4 together
    are the combination of §7 (4 points).
    """
    items = []
    for domain, points in result.domain_points.items():
        names = [
            c.definition
            for c in eular_acr_2019.CRITERIA
            if c.domain == domain and c.key in criteria and c.weight == points
        ]
        names += [
            combo.definition
            for combo in eular_acr_2019.COMBINATIONS
            if combo.domain == domain and combo.requires <= set(criteria) and combo.weight == points
        ]
        items.append(CountedItem(domain, " / ".join(names), points))
    return items


@dataclass(frozen=True)
class RuleCheck:
    """One eligibility rule of the protocol, the screening value it reads, and its result."""

    rule: EligibilityRule
    value: object
    result: Tri


@dataclass(frozen=True)
class Preview:
    """What a screening would give if recorded now: scores, counted items and each rule."""

    eular: EularAcr2019Result | None
    counted: list[CountedItem]
    sledai: Sledai2kResult | None
    rules: list[RuleCheck]
    eligible: Tri


def preview(session: Session, actor: Actor, patient_id: uuid.UUID, data: ScreeningIn) -> Preview:
    """The scores (§7, §1) and the protocol's rules (three-valued, §0.4) for ``data``, without
    recording anything: the live feedback of the screening form."""
    require(actor, Action.RECORD_SCREENING)
    patient = patients.get(session, actor, patient_id)
    protocol = protocols.definition(protocols.get(session, patient.protocol_version_id))
    fields = screening_fields(patient, data)
    try:
        results = evaluate_all(protocol, fields)
    except TypeError as error:
        raise invalid("other", str(error)) from error
    eular = eular_acr_2019.score(data.eular_acr_2019) if data.eular_acr_2019 else None
    criteria = list(data.eular_acr_2019.criteria) if data.eular_acr_2019 else []
    return Preview(
        eular=eular,
        counted=counted_items(eular, criteria) if eular else [],
        sledai=sledai2k.score(data.sledai2k) if data.sledai2k else None,
        rules=[
            RuleCheck(rule, fields.get(rule.condition.field), results[rule.id])
            for rule in protocol.eligibility
        ],
        eligible=all_of(results.values()),
    )


SCREENABLE = {PatientState.REFERRED, PatientState.SCREENING, PatientState.SCREEN_FAILED}


def record(session: Session, actor: Actor, patient_id: uuid.UUID, data: ScreeningIn) -> Screening:
    """Record a screening; the protocol's rules are evaluated at once (three-valued, §0.4)."""
    require(actor, Action.RECORD_SCREENING)
    patient = patients.get(session, actor, patient_id)
    if patient.state not in SCREENABLE:
        raise refused("state", f"a patient who is {patient.state.value} is not screened")
    if not patient.date_of_birth <= data.screened_on <= today():
        raise invalid("screened_on", "must be between the date of birth and today")
    version = protocols.get(session, patient.protocol_version_id)
    fields = screening_fields(patient, data)
    try:
        results = evaluate_all(protocols.definition(version), fields)
    except TypeError as error:
        raise invalid("other", str(error)) from error
    eligible = all_of(results.values())
    screening = Screening(
        patient_id=patient.id,
        protocol_version_id=version.id,
        screened_on=data.screened_on,
        data=data.model_dump(mode="json", exclude_none=True),
        age_years=fields["age_years"],
        eular_acr_score=fields["eular_acr_2019_total"],
        eular_acr_classified=fields["eular_acr_2019_classified"],
        sledai2k_total=fields["sledai2k_total"],
        rule_results=results,
        rules_eligible=eligible,
        engine_version=__version__,
    )
    session.add(screening)
    if patient.state is not PatientState.SCREENING:
        patients.move(session, patient, PatientState.SCREENING)
    session.flush()
    return screening


def get(session: Session, actor: Actor, screening_id: uuid.UUID) -> Screening:
    require(actor, Action.READ_IDENTITY)
    return fetch_patient_record(session, actor, Screening, screening_id)


def for_patient(session: Session, actor: Actor, patient_id: uuid.UUID) -> list[Screening]:
    require(actor, Action.READ_IDENTITY)
    patient = patients.get(session, actor, patient_id)
    query = select(Screening).where(Screening.patient_id == patient.id)
    return list(session.scalars(query.order_by(Screening.created_at)))


def decide(session: Session, actor: Actor, screening_id: uuid.UUID, data: DecisionIn) -> Screening:
    """The physician's electronically signed decision; a reason when it departs from the rules."""
    require(actor, Action.SIGN_ELIGIBILITY)
    screening = get(session, actor, screening_id)
    patient = patients.get(session, actor, screening.patient_id)
    if screening.decision is not None:
        raise refused("decision", "this screening is already decided; record a new screening")
    latest = for_patient(session, actor, patient.id)[-1]
    if latest.id != screening.id:
        raise refused("screening", "a newer screening exists; decide that one")
    agrees = screening.rules_eligible is (data.decision is Decision.ELIGIBLE)
    if not agrees and data.reason is None:
        rules = {True: "eligible", False: "ineligible", None: "undecided"}[screening.rules_eligible]
        raise invalid("reason", f"is required: the rules say {rules}")
    accounts.sign(session, actor, data.password)
    screening.decision = data.decision.value
    screening.decision_reason = data.reason
    screening.decided_by_id = actor.user_id
    screening.decided_at = now()
    target = (
        PatientState.ELIGIBLE if data.decision is Decision.ELIGIBLE else PatientState.SCREEN_FAILED
    )
    patients.move(session, patient, target)
    session.flush()
    return screening
