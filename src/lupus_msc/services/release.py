"""Release tests of a lot in quarantine, and the signed release or rejection (§14, §16.14).

Each release test is one ``isct-release`` input (§16.14), validated by the instrument itself and
judged against the lot's own specification (copied from its protocol version). The decision
follows the issue's rule: a lot is released only when every test of the specification has a
result within it, or when a deviation is documented (the failures and the missing results are
then kept with the decision); always by a user with an unexpired lot-release qualification who
signs with their password (electronic signature: name, time, meaning).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.cells.lot_state import LotState
from lupus_msc.cells.release import (
    ENDOTOXIN_PARTS,
    NEGATIVE_MARKERS,
    POSITIVE_MARKERS,
    IsctReleaseInput,
    IsctReleaseResult,
    ReleaseSpec,
    identity_checks,
    safety_checks,
    score,
)
from lupus_msc.clinical.common import Tri
from lupus_msc.services import accounts
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import invalid, refused
from lupus_msc.services.fields import MAX_DIGITS, In, LongText, Out, Reason, now, today
from lupus_msc.services.products import get_lot, harvest_of, move, spec_of, writable_lot
from lupus_msc.services.unit import give_reason
from lupus_msc.store.models import Lot, QualificationKind, ReleaseDecision, ReleaseTest

TestName = Literal[
    "plastic_adherent",
    "trilineage_differentiation",
    "cd105_pct",
    "cd73_pct",
    "cd90_pct",
    "cd45_pct",
    "cd34_pct",
    "cd14_or_cd11b_pct",
    "cd79a_or_cd19_pct",
    "hla_dr_pct",
    "viability_pct",
    "sterility",
    "mycoplasma",
    "endotoxin_eu_per_kg",
    "endotoxin_eu_ml",
    "dose_volume_ml",
    "recipient_weight_kg",
]
"""The ``isct-release`` inputs (§16.14) that are test results (every input but ``spec``)."""


def _test_value(value: object) -> bool | Decimal | str:
    """true/false, a number (kept exact, at most 15 significant digits) or negative/positive."""
    if isinstance(value, bool | str):
        return value
    number: Decimal | None = None
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float) and math.isfinite(value):
        number = Decimal(repr(value))
    if number is None or not number.is_finite():
        raise PydanticCustomError("test_value", "must be true/false, a number or a word")
    if len(number.normalize().as_tuple().digits) > MAX_DIGITS:
        raise PydanticCustomError("number_size", "has more than 15 significant digits")
    return number


TestValue = Annotated[
    bool | Decimal | str,
    PlainValidator(_test_value),
    WithJsonSchema(
        {"anyOf": [{"type": "boolean"}, {"type": "number"}, {"enum": ["negative", "positive"]}]}
    ),
]


class ReleaseTestIn(In):
    name: TestName
    value: TestValue = Field(
        description="As the isct-release input of that name takes it (§16.14): true/false, "
        "a number in its range, or negative/positive."
    )
    tested_on: dt.date = Field(description="Not before the harvest, not in the future.")
    reason: Reason | None = Field(
        default=None, description="Required when the test was recorded before (re-test)."
    )


class ReleaseTestOut(Out):
    id: uuid.UUID
    lot_id: uuid.UUID
    name: str
    value: bool | float | int | str
    specification: str
    within_spec: bool | None
    tested_on: dt.date
    recorded_by_id: uuid.UUID
    superseded: bool
    created_at: dt.datetime


class ReleaseIn(In):
    decision: Literal["release", "reject"]
    password: Annotated[str, Field(min_length=1, max_length=200)]
    """The signer's password, re-entered: the electronic signature."""
    meaning: Annotated[str, Field(min_length=3, max_length=200)]
    """What the signature means, e.g. "I approve this lot for clinical use"."""
    deviation: LongText | None = None
    """Why the lot is released although a result is missing or out of specification."""


class Failure(Out):
    test: str
    problem: Literal["out of specification", "no result"]


class DecisionOut(Out):
    id: uuid.UUID
    lot_id: uuid.UUID
    decision: str
    deviation: str | None
    failures: list[Failure]
    signed_by_id: uuid.UUID
    signer_name: str
    signed_at: dt.datetime
    meaning: str


class EvaluationOut(Out):
    """The ``isct-release`` result over the lot's current (not superseded) tests (§16.14)."""

    releasable: bool | None
    isct_identity: bool | None
    failures: list[str]
    missing: list[str]


def _json_value(value: Any) -> bool | int | float | str:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    result: bool | int | float | str = value
    return result


def test_view(test: ReleaseTest) -> ReleaseTestOut:
    return ReleaseTestOut(
        id=test.id,
        lot_id=test.lot_id,
        name=test.name,
        value=_json_value(test.result["value"]),
        specification=test.specification,
        within_spec=test.within_spec,
        tested_on=test.tested_on,
        recorded_by_id=test.recorded_by_id,
        superseded=test.superseded,
        created_at=test.created_at,
    )


def specification(name: str, spec: ReleaseSpec) -> str:
    """The limit a test is judged against, in words (§14 [IMPL] default spec, per protocol)."""
    if name in POSITIVE_MARKERS:
        return f"≥ {spec.positive_marker_min_pct} % of cells"
    if name in NEGATIVE_MARKERS:
        return f"≤ {spec.negative_marker_max_pct} % of cells"
    if name in ENDOTOXIN_PARTS:
        return f"endotoxin dose (EU/mL × mL ÷ kg) ≤ {spec.endotoxin_max_eu_per_kg} EU/kg"
    return {
        "plastic_adherent": "true (ISCT identity)",
        "trilineage_differentiation": "true (ISCT identity)",
        "viability_pct": f"≥ {spec.viability_min_pct} %",
        "sterility": "negative",
        "mycoplasma": "negative",
        "endotoxin_eu_per_kg": f"≤ {spec.endotoxin_max_eu_per_kg} EU/kg",
    }[name]


def _current(session: Session, lot: Lot) -> list[ReleaseTest]:
    query = select(ReleaseTest).where(ReleaseTest.lot_id == lot.id, ~ReleaseTest.superseded)
    return list(session.scalars(query))


def _inputs(tests: list[ReleaseTest], spec: ReleaseSpec) -> IsctReleaseInput:
    values = {test.name: test.result["value"] for test in tests}
    return IsctReleaseInput.model_validate({**values, "spec": spec})


def _within(inputs: IsctReleaseInput, spec: ReleaseSpec, name: str) -> Tri:
    """Whether the criterion ``name`` decides is met (§14). An endotoxin part is judged on the
    dose computed from the parts current when it is recorded (null until all three are known);
    ``judge`` always re-judges the lot's whole current set."""
    checks = identity_checks(
        inputs,
        positive_min_pct=spec.positive_marker_min_pct,
        negative_max_pct=spec.negative_marker_max_pct,
    ) | safety_checks(inputs, spec)
    return checks["endotoxin_eu_per_kg" if name in ENDOTOXIN_PARTS else name]


def _validated(data: ReleaseTestIn) -> None:
    """The value checked by the instrument's own input rules (§16.14); 422 naming ``value``."""
    try:
        IsctReleaseInput.model_validate({data.name: data.value})
    except ValidationError as error:
        raise invalid("value", error.errors()[0]["msg"]) from error


def _check_endotoxin_form(name: str, current: dict[str, ReleaseTest]) -> None:
    parts = sorted(part for part in ENDOTOXIN_PARTS if part in current)
    if name == "endotoxin_eu_per_kg" and parts:
        raise refused("name", f"endotoxin is recorded as its parts ({', '.join(parts)})")
    if name in ENDOTOXIN_PARTS and "endotoxin_eu_per_kg" in current:
        raise refused("name", "endotoxin is recorded as endotoxin_eu_per_kg")


def record_test(
    session: Session, actor: Actor, lot_id: uuid.UUID, data: ReleaseTestIn
) -> ReleaseTest:
    """Record one result while the lot is in quarantine; a re-test supersedes, with a reason."""
    lot = writable_lot(session, actor, lot_id)
    if lot.state is not LotState.QUARANTINE:
        raise refused("state", f"the lot is {lot.state.value}; tests are recorded in quarantine")
    _validated(data)
    collected = harvest_of(session, lot).collected_on
    if not collected <= data.tested_on <= today():
        raise invalid("tested_on", f"must be between the harvest ({collected}) and today")
    current = {test.name: test for test in _current(session, lot)}
    _check_endotoxin_form(data.name, current)
    earlier = current.pop(data.name, None)
    if earlier is not None and data.reason is None:
        raise invalid("reason", f"{data.name} was recorded before; give the reason for the re-test")
    give_reason(session, data.reason)
    if earlier is not None:
        earlier.superseded = True
    spec = spec_of(lot)
    test = ReleaseTest(
        lot_id=lot.id,
        name=data.name,
        result={"value": data.value},
        tested_on=data.tested_on,
        recorded_by_id=actor.user_id,
        specification=specification(data.name, spec),
        superseded=False,
    )
    test.within_spec = _within(_inputs([*current.values(), test], spec), spec, data.name)
    session.add(test)
    session.flush()
    return test


def list_tests(session: Session, actor: Actor, lot_id: uuid.UUID) -> list[ReleaseTest]:
    """Every test of the lot, superseded ones included, in the order they were recorded."""
    lot = get_lot(session, actor, lot_id)
    query = select(ReleaseTest).where(ReleaseTest.lot_id == lot.id)
    return list(session.scalars(query.order_by(ReleaseTest.created_at, ReleaseTest.name)))


def judge(session: Session, lot: Lot) -> IsctReleaseResult:
    """The ``isct-release`` result (§16.14) over the lot's current tests and its own spec."""
    spec = spec_of(lot)
    return score(_inputs(_current(session, lot), spec))


def evaluate(session: Session, actor: Actor, lot_id: uuid.UUID) -> EvaluationOut:
    result = judge(session, get_lot(session, actor, lot_id))
    return EvaluationOut(
        releasable=result.releasable,
        isct_identity=result.isct_identity,
        failures=result.failures,
        missing=result.missing,
    )


def _failures(result: IsctReleaseResult) -> list[dict[str, str]]:
    out = [{"test": name, "problem": "out of specification"} for name in result.failures]
    return out + [{"test": name, "problem": "no result"} for name in result.missing]


def _check_signer(actor: Actor, lot: Lot) -> None:
    if lot.state is not LotState.QUARANTINE:
        raise refused("state", f"the lot is {lot.state.value}; only a quarantined lot is decided")
    if not actor.qualified(QualificationKind.LOT_RELEASE, today()):
        raise refused(
            "qualification", "you hold no unexpired lot-release qualification (qualified person)"
        )


def _check_release(lot: Lot, failures: list[dict[str, str]], deviation: str | None) -> None:
    if lot.expires_on < today():
        raise refused("expires_on", f"the lot expired on {lot.expires_on.isoformat()}")
    if failures and deviation is None:
        listed = "; ".join(f"{item['test']}: {item['problem']}" for item in failures)
        raise refused("deviation", f"the lot does not meet its specification ({listed})")


def decide(session: Session, actor: Actor, lot_id: uuid.UUID, data: ReleaseIn) -> ReleaseDecision:
    """Release or reject a quarantined lot, signed by a qualified person (§14; issue 5 rule)."""
    require(actor, Action.RELEASE_LOT)
    lot = get_lot(session, actor, lot_id)
    _check_signer(actor, lot)
    failures = _failures(judge(session, lot))
    if data.decision == "release":
        _check_release(lot, failures, data.deviation)
    signer = accounts.sign(session, actor, data.password)
    give_reason(session, f"{data.decision}: {data.meaning}")
    decision = ReleaseDecision(
        lot_id=lot.id,
        decision=data.decision,
        deviation=data.deviation,
        failures=failures,
        signed_by_id=signer.id,
        signer_name=signer.full_name,
        signed_at=now(),
        meaning=data.meaning,
    )
    session.add(decision)
    move(lot, LotState.RELEASED if data.decision == "release" else LotState.REJECTED)
    session.flush()
    return decision


def decisions(session: Session, actor: Actor, lot_id: uuid.UUID) -> list[ReleaseDecision]:
    lot = get_lot(session, actor, lot_id)
    query = select(ReleaseDecision).where(ReleaseDecision.lot_id == lot.id)
    return list(session.scalars(query.order_by(ReleaseDecision.signed_at)))
