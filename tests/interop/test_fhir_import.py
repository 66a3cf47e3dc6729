"""Lab results imported from a FHIR Bundle of Observations (issue 8), on SQLite and PostgreSQL.

A seeded cohort is loaded through the services. Its own lab results are emitted as Observations by
the FHIR builders (``interop.fhir_observations``), given new ids and the patient's study code
instead of the registry's UUID, and put in a Bundle; their visits are cleared; the import must put
back what the registry held (analyte, value, unit, reference range, visit) and derive the same
scores. Every refusal names its entry and field and changes nothing: the rows of ``lab_results``
and of the audit trail are counted before and after.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lupus_msc.clinical import codes
from lupus_msc.clinical.codes import LabConcept
from lupus_msc.interop import fhir_observations, fhir_patient, fhir_view
from lupus_msc.interop.fhir_common import LAB_SYSTEM, STUDY_CODE_SYSTEM
from lupus_msc.interop.fhir_import import import_bundle, parse
from lupus_msc.services import visits
from lupus_msc.services.access import Actor
from lupus_msc.services.cohort_loader import LoadResult, load
from lupus_msc.services.errors import Forbidden
from lupus_msc.services.lab_import import ImportRefused
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visit_findings import VisitIn
from lupus_msc.store.database import Database
from lupus_msc.store.models import AuditEvent, LabResult, Patient, Role, Visit
from tests.registry_fixtures import database_url  # noqa: F401 - the backend fixture

PATIENTS = 12
SEED = 5
Row = tuple[str, Decimal | None, str, Decimal | None, Decimal | None]


@dataclass
class Loaded:
    database: Database
    result: LoadResult
    visits: list[uuid.UUID]
    """Recorded visits with at least four results, one per patient, each used by one test."""

    def staff(self, role: Role) -> Actor:
        return next(member.actor for member in self.result.staff if member.actor.role is role)


@pytest.fixture(scope="module")
def loaded(database_url: str) -> Iterator[Loaded]:  # noqa: F811
    database = Database(database_url)
    database.upgrade()
    result = load(database, PATIENTS, seed=SEED)
    with database.reads() as session:
        rich = _rich_visit(session)
        rich_patient = session.get_one(Visit, rich).patient_id  # one visit per patient below
        count = func.count(LabResult.id)
        query = (
            select(Visit.id, Visit.patient_id)
            .join(LabResult, LabResult.visit_id == Visit.id)
            .where(~LabResult.superseded, Visit.patient_id != rich_patient)
            .group_by(Visit.id, Visit.patient_id)
            .having(count >= 4)
            .order_by(Visit.patient_id, Visit.id)
        )
        chosen: dict[uuid.UUID, uuid.UUID] = {}
        for visit_id, patient_id in session.execute(query):
            chosen.setdefault(patient_id, visit_id)
    assert len(chosen) >= 8, "the seeded cohort has too few recorded visits with labs"
    yield Loaded(database, result, [rich, *chosen.values()])
    database.dispose()


def _rich_visit(session: Session) -> uuid.UUID:
    """A visit with anti-dsDNA (IU/mL, UCUM [IU]/mL) and cystatin C (no LOINC in §15: the
    local lab code), so the round trip crosses both mappings."""
    having = [
        select(LabResult.visit_id).where(LabResult.analyte == analyte, ~LabResult.superseded)
        for analyte in ("anti_dsdna", "cystatin_c")
    ]
    found = session.scalar(select(Visit.id).where(*(Visit.id.in_(q) for q in having)).limit(1))
    assert found is not None, "no seeded visit has both anti-dsDNA and cystatin C"
    return found


def _stored(database: Database, visit_id: uuid.UUID) -> set[Row]:
    query = select(LabResult).where(LabResult.visit_id == visit_id, ~LabResult.superseded)
    with database.reads() as session:
        return {
            (lab.analyte, lab.value, lab.unit, lab.reference_low, lab.reference_high)
            for lab in session.scalars(query)
        }


def _observations(database: Database, visit_id: uuid.UUID) -> list[dict[str, Any]]:
    """The visit's current results as the FHIR builders emit them, as another system would
    send them: new ids, the patient by study code."""
    with database.reads() as session:
        visit = session.get(Visit, visit_id)
        assert visit is not None
        patient = session.get(Patient, visit.patient_id)
        assert patient is not None
        query = select(LabResult).where(LabResult.visit_id == visit_id, ~LabResult.superseded)
        built = [
            fhir_observations.lab_observation(lab, visit).model_dump(mode="json")
            for lab in session.scalars(query.order_by(LabResult.analyte))
        ]
    for observation in built:
        observation["id"] = str(uuid.uuid4())
        observation["subject"] = {
            "identifier": {"system": STUDY_CODE_SYSTEM, "value": patient.study_code}
        }
    return built


def _bundle(*resources: dict[str, Any], kind: str = "batch") -> dict[str, Any]:
    entries = [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r} for r in resources]
    return {"resourceType": "Bundle", "id": "lab-feed-1", "type": kind, "entry": entries}


def _clear(database: Database, visit_id: uuid.UUID) -> None:
    """The visit recorded again without its results (they are superseded, kept)."""
    with unit_of_work(database, None) as session:
        visit = session.get(Visit, visit_id)
        patient = session.get(Patient, visit.patient_id) if visit else None
        assert visit is not None and patient is not None
        data = VisitIn.model_validate(
            {**visit.findings, "visit_date": visit.visit_date, "labs": [], "reason": "test"}
        )
        visits.write(session, visit, patient, data)


def _counts(database: Database) -> tuple[int, int]:
    with database.reads() as session:
        labs = session.scalar(select(func.count()).select_from(LabResult)) or 0
        audit = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return labs, audit


def _scores(database: Database, visit_id: uuid.UUID) -> dict[str, Any]:
    with database.reads() as session:
        visit = session.get(Visit, visit_id)
        assert visit is not None
        return visit.scores


def _refused(database: Database, bundle: Any, actor: Actor | None = None) -> ImportRefused:
    before = _counts(database)
    with pytest.raises(ImportRefused) as caught:
        import_bundle(database, actor, bundle)
    assert _counts(database) == before
    return caught.value


def test_a_bundle_of_the_registrys_results_restores_cleared_visits(loaded: Loaded) -> None:
    first, second = loaded.visits[0], loaded.visits[1]
    expected = {visit: _stored(loaded.database, visit) for visit in (first, second)}
    scores = {visit: _scores(loaded.database, visit) for visit in (first, second)}
    sent = _observations(loaded.database, first) + _observations(loaded.database, second)
    for visit in (first, second):
        _clear(loaded.database, visit)
        assert _stored(loaded.database, visit) == set()

    units = {observation["valueQuantity"]["code"] for observation in sent}
    systems = {observation["code"]["coding"][0]["system"] for observation in sent}
    assert "[IU]/mL" in units and LAB_SYSTEM in systems

    summary = import_bundle(loaded.database, None, _bundle(*sent, kind="transaction"))

    for visit in (first, second):
        assert _stored(loaded.database, visit) == expected[visit]
        assert _scores(loaded.database, visit) == scores[visit]
    assert summary.results_written == len(sent) == sum(len(rows) for rows in expected.values())
    assert len(summary.patients) == 2 and not summary.dry_run


def test_the_import_is_in_the_audit_trail_with_its_bundle(loaded: Loaded) -> None:
    visit = loaded.visits[2]
    sent = _observations(loaded.database, visit)
    _clear(loaded.database, visit)
    import_bundle(loaded.database, None, _bundle(*sent))
    query = select(AuditEvent).where(
        AuditEvent.entity == LabResult.__tablename__, AuditEvent.action == "create"
    )
    with loaded.database.reads() as session:
        events = list(session.scalars(query.order_by(AuditEvent.seq.desc()).limit(len(sent))))
    assert {event.reason for event in events} == {
        "lab results imported from FHIR Bundle lab-feed-1"
    }
    assert all(event.user_id is None for event in events)


def test_the_same_bundle_twice_changes_nothing(loaded: Loaded) -> None:
    visit = loaded.visits[3]
    bundle = _bundle(*_observations(loaded.database, visit))
    before = _counts(loaded.database)
    summary = import_bundle(loaded.database, None, bundle)
    assert _counts(loaded.database) == before
    assert summary.results_written == 0
    assert summary.results_skipped == len(bundle["entry"])


def test_one_bad_entry_among_good_ones_changes_nothing(loaded: Loaded) -> None:
    visit = loaded.visits[4]
    sent = _observations(loaded.database, visit)
    _clear(loaded.database, visit)
    bad = copy.deepcopy(sent[0])
    bad["code"]["coding"][0]["code"] = "99999-9"
    error = _refused(loaded.database, _bundle(*sent, bad))
    assert error.fields == [
        (
            f"Bundle.entry[{len(sent)}].resource.code.coding[0]",
            "LOINC 99999-9 is not an analyte the registry records",
        )
    ]
    assert _stored(loaded.database, visit) == set()
    assert error.status == 422


def _first(loaded: Loaded, analyte: LabConcept) -> dict[str, Any]:
    """An Observation of a seeded visit's result for ``analyte`` with its lab's reference
    range (some seeded results have none, and the visits chosen vary with the random ids), as
    stored."""
    for visit in loaded.visits:
        for observation in _observations(loaded.database, visit):
            code = observation["code"]["coding"][0]["code"]
            if code == codes.LOINC[analyte].code and observation.get("referenceRange"):
                return observation
    raise AssertionError(f"no {analyte} result in the seeded visits")


Change = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Change:
    def change(observation: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = observation
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value

    return change


def _drop(name: str) -> Change:
    return lambda observation: observation.pop(name)


def _value_string(observation: dict[str, Any]) -> None:
    observation["valueString"] = str(observation.pop("valueQuantity")["value"])


REFUSALS: list[tuple[str, Change, str, str]] = [
    ("unknown LOINC", _set("code.coding.0.code", "1234-5"), "code.coding[0]", "1234-5"),
    ("misused LOINC", _set("code.coding.0.code", "4486-7"), "code.coding[0]", "C4 is 4498-2"),
    ("eGFR", _set("code.coding.0.code", "98979-8"), "code.coding[0]", "computes eGFR"),
    ("other system", _set("code.coding.0.system", "urn:x"), "code", "urn:x|4485-9"),
    ("bad unit", _set("valueQuantity.code", "mg/L"), "valueQuantity.code", "g/L, mg/dL"),
    ("not UCUM", _set("valueQuantity.system", "urn:x"), "valueQuantity.system", "UCUM"),
    ("no value", _drop("valueQuantity"), "valueQuantity", "no value was sent"),
    ("text value", _value_string, "valueQuantity", "valueString was sent"),
    ("censored", _set("valueQuantity.comparator", "<"), "valueQuantity.comparator", "exact"),
    ("implausible", _set("valueQuantity.value", 50), "valueQuantity.value", "implausible"),
    ("no date", _drop("effectiveDateTime"), "effectiveDateTime", "is required"),
    ("month only", _set("effectiveDateTime", "2025-03"), "effectiveDateTime", "full date"),
    ("preliminary", _set("status", "preliminary"), "status", "preliminary results"),
    ("registered", _set("status", "registered"), "status", "registered results"),
    ("cancelled", _set("status", "cancelled"), "status", "cancelled results"),
    ("in error", _set("status", "entered-in-error"), "status", "entered-in-error"),
    ("unknown patient", _set("subject.identifier.value", "S99-9999"), "subject", "no patient"),
    ("registry UUID", _set("subject", {"reference": "Patient/1"}), "subject.reference", "Bundle"),
    ("range unit", _set("referenceRange.0.low.code", "mg/dL"), "referenceRange[0].low.code", "g/L"),
]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [pytest.param(change, field, words, id=name) for name, change, field, words in REFUSALS],
)
def test_a_bad_observation_is_refused_naming_entry_and_field(
    loaded: Loaded, change: Change, field: str, words: str
) -> None:
    observation = _first(loaded, "c3")
    change(observation)
    error = _refused(loaded.database, _bundle(observation))
    assert [where for where, _ in error.fields] == [f"Bundle.entry[0].resource.{field}"]
    assert words in error.fields[0][1]


def test_a_resource_other_than_an_observation_is_refused(loaded: Loaded) -> None:
    condition = {"resourceType": "Condition", "subject": {"reference": "Patient/1"}}
    error = _refused(loaded.database, _bundle(_first(loaded, "c3"), condition))
    assert error.fields == [
        (
            "Bundle.entry[1].resource.resourceType",
            "a Condition is not imported: only Observations (lab results) and the Patients "
            "they refer to",
        )
    ]


@pytest.mark.parametrize("kind", ["searchset", "history", "document", "message"])
def test_a_bundle_of_another_type_is_refused(loaded: Loaded, kind: str) -> None:
    error = _refused(loaded.database, _bundle(_first(loaded, "c3"), kind=kind))
    assert [where for where, _ in error.fields] == ["Bundle.type"]


def test_a_result_dated_on_no_recorded_visit_is_refused(loaded: Loaded) -> None:
    observation = _first(loaded, "c3")
    observation["effectiveDateTime"] = "2001-01-01"
    error = _refused(loaded.database, _bundle(observation))
    where, message = error.fields[0]
    assert where == "Bundle.entry[0].resource.effectiveDateTime"
    assert "no visit of" in message and "recorded on 2001-01-01" in message


def test_a_different_final_value_for_a_stored_result_is_refused(loaded: Loaded) -> None:
    observation = _first(loaded, "c4")
    stored = Decimal(str(observation["valueQuantity"]["value"]))
    observation["valueQuantity"]["value"] = float(stored + Decimal("0.05"))
    error = _refused(loaded.database, _bundle(observation))
    where, message = error.fields[0]
    assert where == "Bundle.entry[0].resource.status"
    assert "already has c4" in message and "amended or corrected" in message


def test_an_amended_result_replaces_the_stored_one_and_the_visit_is_signed_again(
    loaded: Loaded,
) -> None:
    visit = loaded.visits[5]
    with loaded.database.reads() as session:
        stored = session.get(Visit, visit)
        assert stored is not None and stored.signed_at is not None
    before = _stored(loaded.database, visit)
    observation = _observations(loaded.database, visit)[0]
    old = Decimal(str(observation["valueQuantity"]["value"]))
    observation["valueQuantity"]["value"] = float(old + Decimal("0.1"))
    observation["status"] = "amended"
    summary = import_bundle(loaded.database, None, _bundle(observation))
    analyte = summary.visits[0].replaced[0]
    after = _stored(loaded.database, visit)
    assert {row for row in before if row[0] != analyte} == {
        row for row in after if row[0] != analyte
    }
    assert {row[1] for row in after if row[0] == analyte} == {old + Decimal("0.1")}
    with loaded.database.reads() as session:
        kept = session.scalars(
            select(LabResult).where(LabResult.visit_id == visit, LabResult.analyte == analyte)
        ).all()
        stored = session.get(Visit, visit)
        assert stored is not None and stored.signed_at is None
    assert sorted(lab.superseded for lab in kept) == [False, True]
    assert summary.visits[0].signature_cleared
    _assert_exported_amended(loaded.database, visit, kept)


def _assert_exported_amended(
    database: Database, visit_id: uuid.UUID, kept: Sequence[LabResult]
) -> None:
    """The patient's FHIR view sends the current result as ``amended`` (FHIR R4 status: "the
    content has been modified" after being final) and not the result it replaced; the visit's
    other results stay ``final``."""
    with database.reads() as session:
        patient_id = session.get_one(Visit, visit_id).patient_id
    sent = {
        resource["id"]: resource
        for resource in fhir_view.compartment(database, None, f"Patient/{patient_id}").of_type(
            "Observation"
        )
    }
    (old,) = [lab for lab in kept if lab.superseded]
    (new,) = [lab for lab in kept if not lab.superseded]
    assert str(old.id) not in sent
    assert sent[str(new.id)]["status"] == "amended"
    assert Decimal(str(sent[str(new.id)]["valueQuantity"]["value"])) == new.value
    others = [
        resource
        for resource in sent.values()
        if resource["encounter"]["reference"] == f"Encounter/{visit_id}"
        and resource["id"] != str(new.id)
        and len(resource["id"]) == 36  # a lab's id; a score's is "<visit id>-<score>"
    ]
    assert others and {resource["status"] for resource in others} == {"final"}


def test_a_result_stored_with_a_code_no_longer_given_does_not_block_an_import(
    loaded: Loaded,
) -> None:
    """A µmol/L creatinine stored with 2160-0 before the §15 unit rule (``OTHER_KIND_UNITS``):
    importing a correction of another result of its visit records the visit again with its
    stored results, which must neither be refused for that code nor superseded."""
    with loaded.database.reads() as session:  # a visit no other test uses, with creatinine
        current = ~LabResult.superseded, LabResult.visit_id.not_in(loaded.visits)
        with_c3 = select(LabResult.visit_id).where(*current, LabResult.analyte == "c3")
        visit = session.scalar(
            select(LabResult.visit_id)
            .where(*current, LabResult.analyte == "creatinine")
            .where(LabResult.visit_id.in_(with_c3))
            .limit(1)
        )
    assert visit is not None, "no other seeded visit has creatinine and C3"
    stored = LabResult.visit_id == visit, LabResult.analyte == "creatinine"
    with loaded.database.engine.begin() as connection:  # as an older release stored it
        connection.execute(
            update(LabResult)
            .where(*stored)
            .values(value=Decimal(80), unit="umol/L", loinc="2160-0")
        )
    other = next(
        o
        for o in _observations(loaded.database, visit)
        if o["code"]["coding"][0]["code"] == codes.LOINC["c3"].code
    )
    other["valueQuantity"]["value"] = float(Decimal(str(other["valueQuantity"]["value"])) * 2)
    other["status"] = "amended"
    other.pop("referenceRange", None)
    import_bundle(loaded.database, None, _bundle(other))
    with loaded.database.reads() as session:
        kept = session.scalars(select(LabResult).where(*stored)).all()
    assert [(lab.superseded, lab.unit, lab.loinc) for lab in kept] == [(False, "umol/L", "2160-0")]


def test_a_creatinine_in_umol_l_under_the_mass_loinc_code_is_refused(loaded: Loaded) -> None:
    """§15: 2160-0 is Creatinine [Mass/volume]; a result in µmol/L (substance per volume) sent
    under it is refused, naming the coding; the FHIR export sends such a result with the
    registry's lab code instead (tests/interop/test_fhir_resources.py)."""
    observation = _first(loaded, "creatinine")
    observation.pop("referenceRange", None)
    observation["valueQuantity"].update(value=80, unit="umol/L", code="umol/L")
    error = _refused(loaded.database, _bundle(observation))
    assert [where for where, _ in error.fields] == ["Bundle.entry[0].resource.code.coding"]
    assert "refused for a result in umol/L" in error.fields[0][1]


def test_one_analyte_twice_for_a_visit_is_refused(loaded: Loaded) -> None:
    observation = _first(loaded, "c3")
    again = {**copy.deepcopy(observation), "id": str(uuid.uuid4())}
    error = _refused(loaded.database, _bundle(observation, again))
    assert error.fields == [
        (
            "Bundle.entry[1].resource.code",
            "c3 of this visit is also given in Bundle.entry[0].resource",
        )
    ]


def test_patients_named_by_bundle_entry_or_conditional_reference(loaded: Loaded) -> None:
    visit = loaded.visits[6]
    expected = _stored(loaded.database, visit)
    sent = _observations(loaded.database, visit)
    study_code = sent[0]["subject"]["identifier"]["value"]
    with loaded.database.reads() as session:
        record = session.scalars(select(Patient).where(Patient.study_code == study_code)).one()
        patient = fhir_patient.patient(record).model_dump(mode="json")
    bundle = _bundle(patient, *sent)
    full_url = bundle["entry"][0]["fullUrl"]
    subjects = [
        {"reference": full_url},
        {"reference": f"Patient/{patient['id']}"},
        {"reference": f"Patient?identifier={STUDY_CODE_SYSTEM}|{study_code}"},
    ]
    for position, entry in enumerate(bundle["entry"][1:]):
        entry["resource"]["subject"] = subjects[position % len(subjects)]
    _clear(loaded.database, visit)
    summary = import_bundle(loaded.database, None, bundle)
    assert _stored(loaded.database, visit) == expected
    assert summary.patients == (study_code,)


def test_a_patient_entry_without_a_study_code_is_refused(loaded: Loaded) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "identifier": [{"value": "S01-0001"}]}
    observation = _first(loaded, "c3")
    observation["subject"] = {"reference": "Patient/p1"}
    error = _refused(loaded.database, _bundle(patient, observation))
    assert [where for where, _ in error.fields] == [
        "Bundle.entry[0].resource.identifier",
        "Bundle.entry[1].resource.subject.reference",
    ]


def test_a_dry_run_reports_the_import_and_writes_nothing(loaded: Loaded) -> None:
    visit = loaded.visits[7]
    sent = _observations(loaded.database, visit)
    _clear(loaded.database, visit)
    before = _counts(loaded.database)
    summary = import_bundle(loaded.database, None, _bundle(*sent), dry_run=True)
    assert _counts(loaded.database) == before
    assert summary.dry_run and summary.results_written == len(sent)


def test_a_coordinator_of_the_site_imports_and_others_may_not(loaded: Loaded) -> None:
    visit = loaded.visits[8]
    expected = _stored(loaded.database, visit)
    bundle = _bundle(*_observations(loaded.database, visit))
    _clear(loaded.database, visit)
    with loaded.database.reads() as session:
        record = session.get(Visit, visit)
        patient = session.get(Patient, record.patient_id) if record else None
        assert patient is not None
    coordinator = next(
        member.actor
        for member in loaded.result.staff
        if member.actor.role is Role.COORDINATOR and patient.site_id in member.actor.site_ids
    )
    elsewhere = replace(coordinator, site_ids=frozenset({uuid.uuid4()}))
    error = _refused(loaded.database, bundle, elsewhere)
    assert {message for _, message in error.fields} == {f"no patient {patient.study_code}"}
    before = _counts(loaded.database)
    with pytest.raises(Forbidden):
        import_bundle(loaded.database, replace(coordinator, role=Role.MONITOR), bundle)
    assert _counts(loaded.database) == before

    import_bundle(loaded.database, coordinator, bundle)
    assert _stored(loaded.database, visit) == expected


def _anti_dsdna(**changes: Any) -> dict[str, Any]:
    """A hand-written Observation as another laboratory system would send it."""
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "5130-0"}]},
        "subject": {"identifier": {"system": STUDY_CODE_SYSTEM, "value": "S01-0001"}},
        "effectiveDateTime": "2025-03-04T08:15:00+01:00",
        "valueQuantity": {"value": 36.5, "system": "http://unitsofmeasure.org", "code": "[IU]/mL"},
        "referenceRange": [{"high": {"value": 30, "code": "[IU]/mL"}}],
    }
    observation.update(changes)
    return observation


def test_a_sent_observation_becomes_the_registrys_result() -> None:
    parsed = parse(_bundle(_anti_dsdna()))
    assert parsed.problems == ()
    (entry,) = parsed.labs
    assert (entry.study_code, entry.day, entry.correction) == ("S01-0001", date(2025, 3, 4), False)
    lab = entry.lab
    assert (lab.analyte, lab.value, lab.unit, lab.loinc) == (
        "anti_dsdna",
        Decimal("36.5"),
        "IU/mL",
        "5130-0",
    )
    assert (lab.reference_low, lab.reference_high) == (None, Decimal(30))


def test_the_day_is_the_one_written_not_the_utc_day() -> None:
    late = _anti_dsdna(effectiveDateTime="2025-03-04T23:30:00-05:00")
    assert parse(_bundle(late)).labs[0].day == date(2025, 3, 4)
    period = _anti_dsdna(effectivePeriod={"start": "2025-03-02"})
    del period["effectiveDateTime"]
    assert parse(_bundle(period)).labs[0].day == date(2025, 3, 2)


def test_a_registry_spelling_that_is_not_ucum_is_refused_with_the_ucum_units() -> None:
    sent = _anti_dsdna(valueQuantity={"value": 36.5, "code": "IU/mL"})
    (problem,) = parse(_bundle(sent)).problems
    assert problem.path == "Bundle.entry[0].resource.valueQuantity.code"
    assert problem.message == "IU/mL is not accepted for anti_dsdna; accepted UCUM units: [IU]/mL"


def test_codings_of_other_systems_beside_loinc_are_ignored_but_two_analytes_are_refused() -> None:
    local = {"system": "urn:oid:1.2.3", "code": "DSDNA"}
    c3 = {"system": "http://loinc.org", "code": "4485-9"}
    kept = _anti_dsdna(code={"coding": [local, *_anti_dsdna()["code"]["coding"]]})
    assert parse(_bundle(kept)).labs[0].lab.analyte == "anti_dsdna"
    both = _anti_dsdna(code={"coding": [*_anti_dsdna()["code"]["coding"], c3]})
    (problem,) = parse(_bundle(both)).problems
    assert (problem.path, problem.message) == (
        "Bundle.entry[0].resource.code.coding",
        "names several analytes (anti_dsdna, c3)",
    )


def test_every_problem_of_every_entry_is_listed() -> None:
    first = _anti_dsdna(status="preliminary", valueQuantity={"value": 1, "code": "g/L"})
    del first["effectiveDateTime"]
    second = _anti_dsdna(subject={"reference": "Patient/x"})
    problems = parse(_bundle(first, second, kind="searchset")).problems
    assert [problem.path for problem in problems] == [
        "Bundle.type",
        "Bundle.entry[0].resource.status",
        "Bundle.entry[0].resource.valueQuantity.code",
        "Bundle.entry[0].resource.effectiveDateTime",
        "Bundle.entry[1].resource.subject.reference",
    ]


PATIENT_ONLY = {
    "resourceType": "Patient",
    "identifier": [{"system": STUDY_CODE_SYSTEM, "value": "S01-0001"}],
}


@pytest.mark.parametrize(
    ("document", "path", "words"),
    [
        ("{not json", "Bundle", "is not JSON"),
        ('{"resourceType": "Observation"}', "Bundle.resourceType", "must be Bundle"),
        ('{"resourceType": "Bundle", "type": "batch"}', "Bundle.entry", "nothing to import"),
        ('{"resourceType": "Bundle", "type": "batch", "entry": {}}', "Bundle.entry", "list"),
        (json.dumps(_bundle(PATIENT_ONLY)), "Bundle.entry", "holds no Observation"),
    ],
)
def test_a_document_that_is_no_bundle_is_refused(document: str, path: str, words: str) -> None:
    problems = parse(document).problems
    assert [problem.path for problem in problems] == [path]
    assert words in problems[0].message
