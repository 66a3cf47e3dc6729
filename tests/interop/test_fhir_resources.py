"""FHIR R4 (R4B models) resources built from a seeded registry (issue 8, FHIR exchange view).

A small synthetic cohort is loaded through the services into SQLite; every record is turned into
its resource, every resource must validate and survive a JSON round trip through the R4B model,
and the codes and units are checked against hand-written expectations from instruments.md §15.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.resource import Resource
from sqlalchemy import select

from lupus_msc.interop import (
    fhir_common,
    fhir_medications,
    fhir_observations,
    fhir_patient,
    fhir_products,
    fhir_records,
    fhir_safety,
)
from lupus_msc.services.cohort_loader import load
from lupus_msc.store import models
from lupus_msc.store.database import Database

PATIENTS = 14
SEED = 7


@dataclass
class Built:
    """The registry's records and the resources built from them, by FHIR type then id."""

    records: dict[str, list[Any]]
    resources: dict[str, dict[str, Resource]]
    lots_of: dict[uuid.UUID, list[uuid.UUID]]

    def every(self) -> Iterator[Resource]:
        for by_id in self.resources.values():
            yield from by_id.values()


def _records(database: Database) -> dict[str, list[Any]]:
    kinds = {
        "patients": models.Patient,
        "visits": models.Visit,
        "labs": models.LabResult,
        "medications": models.Medication,
        "events": models.AdverseEvent,
        "lots": models.Lot,
        "harvests": models.Harvest,
        "infusions": models.Infusion,
        "infusion_lots": models.InfusionLot,
    }
    with database.reads() as session:
        records = {name: list(session.scalars(select(model))) for name, model in kinds.items()}
        session.expunge_all()
    return records


def _build(records: dict[str, list[Any]]) -> Built:
    recorded = [visit for visit in records["visits"] if visit.visit_date is not None]
    visits = {visit.id: visit for visit in records["visits"]}
    harvests = {harvest.id: harvest for harvest in records["harvests"]}
    lots_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    for link in records["infusion_lots"]:
        lots_of.setdefault(link.infusion_id, []).append(link.lot_id)
    built: list[Resource] = [
        *(fhir_patient.patient(p) for p in records["patients"]),
        *(fhir_patient.sle_condition(p) for p in records["patients"]),
        *(fhir_patient.encounter(v) for v in recorded),
        *(fhir_observations.lab_observation(lab, visits[lab.visit_id]) for lab in records["labs"]),
        *(o for v in recorded for o in fhir_observations.score_observations(v)),
        *(fhir_medications.medication_statement(m) for m in records["medications"]),
        *(fhir_products.product(lot, harvests[lot.harvest_id]) for lot in records["lots"]),
        *(fhir_products.infusion_procedure(i, lots_of.get(i.id, [])) for i in records["infusions"]),
        *(fhir_safety.adverse_event(e) for e in records["events"]),
    ]
    resources: dict[str, dict[str, Resource]] = {}
    for resource in built:
        resources.setdefault(resource.get_resource_type(), {})[str(resource.id)] = resource
    return Built(records, resources, lots_of)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    path: Path = tmp_path_factory.mktemp("fhir") / "registry.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    load(database, PATIENTS, seed=SEED)
    records = _records(database)
    database.dispose()
    return _build(records)


def _lab(built: Built, analyte: str) -> Resource:
    lab = next(lab for lab in built.records["labs"] if lab.analyte == analyte)
    return built.resources["Observation"][str(lab.id)]


def test_every_record_has_its_resource_of_each_kind(built: Built) -> None:
    counts = {kind: len(by_id) for kind, by_id in built.resources.items()}
    records = built.records
    recorded = sum(1 for visit in records["visits"] if visit.visit_date is not None)
    assert counts["Patient"] == counts["Condition"] == PATIENTS
    assert counts["Encounter"] == recorded
    assert counts["MedicationStatement"] == len(records["medications"])
    assert counts["BiologicallyDerivedProduct"] == len(records["lots"])
    assert counts["Procedure"] == len(records["infusions"])
    assert counts["AdverseEvent"] == len(records["events"]) > 0
    assert counts["Observation"] > len(records["labs"])


def test_every_resource_is_an_r4b_model_that_survives_a_json_round_trip(built: Built) -> None:
    for resource in built.every():
        model = type(resource)
        assert model.__module__.startswith("fhir.resources.R4B."), model
        again = model.model_validate_json(resource.model_dump_json())
        assert again.model_dump(mode="json") == resource.model_dump(mode="json")


def test_the_patient_is_identified_by_the_study_code(built: Built) -> None:
    record = built.records["patients"][0]
    resource = built.resources["Patient"][str(record.id)]
    identifier = resource.identifier[0]  # type: ignore[attr-defined]
    assert identifier.system == "https://lupus-msc.org/fhir/sid/study-code"
    assert identifier.value == record.study_code
    assert resource.birthDate == record.date_of_birth  # type: ignore[attr-defined]
    assert resource.gender in {"female", "male"}  # type: ignore[attr-defined]


def test_the_condition_is_sle_in_snomed_ct(built: Built) -> None:
    """§15: SLE is SNOMED CT 55464009."""
    for condition in built.resources["Condition"].values():
        coding = condition.code.coding[0]  # type: ignore[attr-defined]
        assert (coding.system, coding.code) == ("http://snomed.info/sct", "55464009")
        assert condition.subject.reference == f"Patient/{condition.id}"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("analyte", "loinc", "ucum"),
    [
        ("c3", "4485-9", "g/L"),
        ("c4", "4498-2", "g/L"),
        ("anti_dsdna", "5130-0", "[IU]/mL"),
        ("hemoglobin", "718-7", "g/dL"),
        ("platelets", "777-3", "10*9/L"),
        ("neutrophils", "751-8", "10*9/L"),
        ("creatinine", "2160-0", "mg/dL"),
        ("upcr", "2890-2", "g/g"),
        ("urine_protein_24h", "2889-4", "g/(24.h)"),
        ("urine_rbc_hpf", "13945-1", "/[HPF]"),
    ],
)
def test_a_lab_carries_the_loinc_code_and_ucum_unit_of_instruments_md(
    built: Built, analyte: str, loinc: str, ucum: str
) -> None:
    """Expected codes copied by hand from instruments.md §15 (units: the registry's canonical)."""
    observation: Any = _lab(built, analyte)
    coding = observation.code.coding[0]
    assert (coding.system, coding.code) == ("http://loinc.org", loinc)
    value = observation.valueQuantity
    assert (value.system, value.code) == ("http://unitsofmeasure.org", ucum)
    assert [c.code for c in observation.category[0].coding] == ["laboratory"]


def test_a_lab_without_a_loinc_code_gets_the_local_lab_code(built: Built) -> None:
    observation: Any = _lab(built, "cystatin_c")
    coding = observation.code.coding[0]
    assert (coding.system, coding.code) == (
        "https://lupus-msc.org/fhir/CodeSystem/labs",
        "cystatin_c",
    )
    assert observation.valueQuantity.code == "mg/L"


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "ucum", "code"),
    [
        ("creatinine", "80", "umol/L", "umol/L", None),
        ("creatinine", "0.91", "mg/dL", "mg/dL", "2160-0"),
        ("upcr", "56.6", "mg/mmol", "mg/mmol", None),
        ("upcr", "500", "mg/g", "mg/g", "2890-2"),
    ],
)
def test_a_result_in_a_unit_of_another_kind_than_its_loinc_gets_the_local_code(
    built: Built, analyte: str, value: str, unit: str, ucum: str, code: str | None
) -> None:
    """§15: 2160-0 is Creatinine [Mass/volume] and 2890-2 the protein/creatinine [Mass Ratio]
    ("mass ratio only"). A result in µmol/L or mg/mmol is sent as reported under the local lab
    code, never under a LOINC code for another kind of quantity."""
    visit = next(v for v in built.records["visits"] if v.visit_date is not None)
    lab = models.LabResult(
        id=uuid.uuid4(), visit_id=visit.id, analyte=analyte, value=Decimal(value), unit=unit,
        superseded=False,
    )  # fmt: skip
    observation: Any = fhir_observations.lab_observation(lab, visit)
    codings = [(c.system, c.code) for c in observation.code.coding]
    if code is None:
        assert codings == [("https://lupus-msc.org/fhir/CodeSystem/labs", analyte)]
    else:
        assert codings == [("http://loinc.org", code)]
    assert (observation.valueQuantity.value, observation.valueQuantity.code) == (
        Decimal(value),
        ucum,
    )


def test_a_lab_keeps_the_value_and_reference_range_as_reported(built: Built) -> None:
    lab = next(lab for lab in built.records["labs"] if lab.analyte == "c3" and lab.reference_low)
    observation: Any = built.resources["Observation"][str(lab.id)]
    assert observation.valueQuantity.value == lab.value
    assert observation.referenceRange[0].low.value == lab.reference_low
    assert observation.referenceRange[0].low.code == "g/L"
    visit = next(v for v in built.records["visits"] if v.id == lab.visit_id)
    assert observation.encounter.reference == f"Encounter/{visit.id}"
    assert observation.subject.reference == f"Patient/{visit.patient_id}"
    assert f"{visit.id}" in built.resources["Encounter"]


def test_scores_use_the_local_code_system_with_sledai_descriptors_as_components(
    built: Built,
) -> None:
    """§15: no LOINC code for SLEDAI-2K or FACIT-F totals: local codes."""
    visit = next(
        v
        for v in built.records["visits"]
        if v.visit_date and v.scores.get("sledai2k", {}).get("contributions")
    )
    observations: list[Any] = fhir_observations.score_observations(visit)
    by_code = {o.code.coding[0].code: o for o in observations}
    assert set(by_code) == {"sledai-2k-total", "pga", "facit-fatigue-total"}
    sledai: Any = by_code["sledai-2k-total"]
    assert sledai.code.coding[0].system == "urn:lupus-msc:score"  # instruments.md §15
    assert sledai.valueInteger == visit.scores["sledai2k"]["total"]
    components = {c.code.coding[0].code: c.valueInteger for c in sledai.component}
    contributions = visit.scores["sledai2k"]["contributions"]
    assert components == {f"sledai-2k-{name}": points for name, points in contributions.items()}
    pga: Any = by_code["pga"]
    assert (pga.valueQuantity.value, pga.valueQuantity.code) == (
        visit.scores["pga"]["pga"],
        "{score}",
    )
    facit: Any = by_code["facit-fatigue-total"]
    assert facit.valueQuantity.value == Decimal(str(visit.scores["facit_f"]["score"]))
    assert sledai.encounter.reference == f"Encounter/{visit.id}"


def test_egfr_goes_out_under_its_section_15_loinc_codes_at_full_precision(built: Built) -> None:
    """§9 ("store full precision; display rounded to integer": an exchange is no display, so
    14.95 is not sent as 15.0, across the G4/G5 limit) and §15 (98979-8 creatinine-based,
    98980-6 creatinine–cystatin C, whose display §15 did not retrieve, so none is sent)."""
    visit = next(v for v in built.records["visits"] if v.visit_date)
    worked = models.Visit(
        id=visit.id, patient_id=visit.patient_id, visit_date=visit.visit_date, findings={},
        scores={"egfr": {"egfr_cr": 14.95, "egfr_cr_cys": 116.25049}},
    )  # fmt: skip
    sent: Any = {o.id: o for o in fhir_observations.egfr_observations(worked)}
    cr, cr_cys = sent[f"{visit.id}-egfr-cr"], sent[f"{visit.id}-egfr-cr-cys"]
    assert [(c.system, c.code) for c in cr.code.coding] == [("http://loinc.org", "98979-8")]
    assert cr.code.coding[0].display == (
        "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or "
        "Blood by Creatinine-based formula (CKD-EPI 2021)"
    )
    assert [(c.system, c.code, c.display) for c in cr_cys.code.coding] == [
        ("http://loinc.org", "98980-6", None)
    ]
    assert (cr.valueQuantity.value, cr_cys.valueQuantity.value) == (
        Decimal("14.95"),
        Decimal("116.25049"),
    )
    assert (cr.valueQuantity.system, cr.valueQuantity.code) == (
        "http://unitsofmeasure.org",
        "mL/min/{1.73_m2}",
    )
    assert cr.encounter.reference == f"Encounter/{visit.id}" and cr.status == "final"
    records = fhir_records.PatientRecords(visits=[worked])
    assert {draft.fields["id"] for _, draft in fhir_records.drafts(records)} >= set(sent)
    without = models.Visit(id=visit.id, patient_id=visit.patient_id, visit_date=visit.visit_date)
    assert fhir_observations.egfr_observations(without) == []


def test_the_egfr_of_a_visit_whose_creatinine_was_replaced_is_amended(built: Built) -> None:
    """FHIR R4 observation-status: a value modified after being final is ``amended``; the
    replaced creatinine is not sent, the one that replaced it and the eGFR are amended."""
    visit = next(v for v in built.records["visits"] if v.visit_date)
    worked = models.Visit(
        id=visit.id, patient_id=visit.patient_id, visit_date=visit.visit_date, findings={},
        scores={"egfr": {"egfr_cr": 80.5}},
    )  # fmt: skip
    old, new = (
        models.LabResult(
            id=uuid.uuid4(),
            visit_id=visit.id,
            analyte="creatinine",
            value=Decimal(value),
            unit="mg/dL",
            superseded=superseded,
        )
        for value, superseded in (("1.4", True), ("0.9", False))
    )
    records = fhir_records.PatientRecords(visits=[worked], labs=[old, new])
    sent = {draft.fields["id"]: draft.fields for _, draft in fhir_records.drafts(records)}
    assert str(old.id) not in sent
    assert sent[str(new.id)]["status"] == "amended"
    assert sent[f"{visit.id}-egfr-cr"]["status"] == "amended"
    alone = fhir_records.PatientRecords(visits=[worked], labs=[new])
    sent = {draft.fields["id"]: draft.fields for _, draft in fhir_records.drafts(alone)}
    assert sent[str(new.id)]["status"] == sent[f"{visit.id}-egfr-cr"]["status"] == "final"


FACIT_ITEMS = ["HI7", "HI12", "An1", "An2", "An3", "An4", "An5", "An7", "An8", "An12", "An14"]
FACIT_ITEMS += ["An15", "An16"]
"""§13's item codes in questionnaire order, copied by hand."""


def test_facit_f_items_are_components_with_the_answers_as_given(built: Built) -> None:
    """§13: the §16.13 hand-worked answers (An8 9 and An14 blank are not answered); each
    answered item is a component with its answer as given (not reversed), in §13's order."""
    visit = next(v for v in built.records["visits"] if v.visit_date and v.scores.get("facit_f"))
    answers = {"HI7": 1, "HI12": 2, "An1": 0, "An2": 3, "An3": 1, "An4": 2, "An5": 3, "An7": 2}
    answers |= {"An8": 9, "An12": 1, "An14": None, "An15": 4, "An16": 0}
    worked = models.Visit(
        id=visit.id, patient_id=visit.patient_id, visit_date=visit.visit_date,
        findings={**visit.findings, "facit_f": answers},
        scores={**visit.scores, "facit_f": {"score": "31.909"}},  # §16.13: 27 / 11 × 13
    )  # fmt: skip
    facit: Any = next(
        o
        for o in fhir_observations.score_observations(worked)
        if o.code.coding[0].code == "facit-fatigue-total"
    )
    sent = [(c.code.coding[0].code, c.valueInteger) for c in facit.component]
    assert "not reversed" in facit.component[0].code.coding[0].display
    assert sent == [
        (f"facit-fatigue-{item}", answers[item])
        for item in FACIT_ITEMS
        if item not in {"An8", "An14"}
    ]
    assert {c.code.coding[0].system for c in facit.component} == {"urn:lupus-msc:score"}


def test_the_hand_worked_sledai_descriptor_weights_are_those_of_section_1(built: Built) -> None:
    """§1 weights by hand: haematuria 4, rash 2, low complement 2, increased DNA binding 2."""
    weights = {"hematuria": 4, "rash": 2, "low_complement": 2, "increased_dna_binding": 2}
    seen: Counter[str] = Counter()
    for observation in built.resources["Observation"].values():
        for component in getattr(observation, "component", None) or []:
            name = component.code.coding[0].code.removeprefix("sledai-2k-")
            if name in weights:
                assert component.valueInteger == weights[name]
                seen[name] += 1
    assert seen


def test_the_glucocorticoid_statement_has_dose_and_frequency(built: Built) -> None:
    record = next(m for m in built.records["medications"] if m.frequency == "once-daily")
    statement: Any = built.resources["MedicationStatement"][str(record.id)]
    dosage = statement.dosage[0]
    dose = dosage.doseAndRate[0].doseQuantity
    assert (dose.value, dose.code) == (record.dose, "mg")
    repeat = dosage.timing.repeat
    assert (repeat.frequency, repeat.period, repeat.periodUnit) == (1, Decimal(1), "d")
    assert statement.medicationCodeableConcept.text == record.drug
    assert statement.subject.reference == f"Patient/{record.patient_id}"


def test_the_product_carries_the_chain_of_identity_code_and_tissue_source(built: Built) -> None:
    harvests = {h.id: h for h in built.records["harvests"]}
    for lot in built.records["lots"]:
        product: Any = built.resources["BiologicallyDerivedProduct"][str(lot.id)]
        identifier = product.identifier[0]
        assert identifier.system == "https://lupus-msc.org/fhir/sid/chain-of-identity"
        assert identifier.value == lot.code
        extension = product.extension[0]
        assert extension.url == "https://lupus-msc.org/fhir/StructureDefinition/tissue-source"
        tissue = harvests[lot.harvest_id].tissue_source.value
        assert extension.valueCodeableConcept.coding[0].code == tissue
        assert product.productCategory == "cells"


def test_the_infusion_procedure_references_its_products(built: Built) -> None:
    for infusion in built.records["infusions"]:
        procedure: Any = built.resources["Procedure"][str(infusion.id)]
        used = [r.reference for r in procedure.usedReference]
        assert used == [f"BiologicallyDerivedProduct/{lot}" for lot in built.lots_of[infusion.id]]
        for reference in used:
            assert reference.split("/")[1] in built.resources["BiologicallyDerivedProduct"]
        assert procedure.subject.reference == f"Patient/{infusion.patient_id}"


def test_the_adverse_event_carries_the_ctcae_grade_extension(built: Built) -> None:
    for record in built.records["events"]:
        event: Any = built.resources["AdverseEvent"][str(record.id)]
        (extension,) = event.extension
        assert extension.url == "https://lupus-msc.org/fhir/StructureDefinition/ctcae-grade"
        assert extension.valueInteger == record.grade
        assert event.event.text == record.term
        assert event.seriousness.coding[0].code == "non-serious"
        assert event.subject.reference == f"Patient/{record.patient_id}"


def test_the_suspect_entity_is_the_infusion_the_event_followed(built: Built) -> None:
    record = next(e for e in built.records["events"] if e.infusion_id is not None)
    event: Any = built.resources["AdverseEvent"][str(record.id)]
    suspect = event.suspectEntity[0]
    assert suspect.instance.reference == f"Procedure/{record.infusion_id}"
    assert str(record.infusion_id) in built.resources["Procedure"]
    assert suspect.causality[0].assessment.text == record.relatedness


def test_a_serious_grade_4_event_is_marked_serious_with_its_grade() -> None:
    record = models.AdverseEvent(
        id=uuid.uuid4(),
        patient_id=uuid.uuid4(),
        infusion_id=None,
        term="Neutrophil count decreased",
        ctcae_term="neutrophil_count_decreased",
        grade=4,
        onset_on=dt.date(2026, 3, 2),
        serious_criteria=["hospitalisation"],
        relatedness="possible",
        outcome="recovering",
    )
    event: Any = fhir_safety.adverse_event(record)
    assert event.extension[0].valueInteger == 4
    assert event.seriousness.coding[0].code == "serious"
    assert event.outcome.coding[0].code == "recovering"
    assert event.event.coding[0].system == fhir_common.CTCAE_TERM_SYSTEM
    assert event.suspectEntity is None


def test_an_unrecorded_visit_is_not_sent_as_an_encounter(built: Built) -> None:
    planned = next(v for v in built.records["visits"] if v.visit_date is None)
    with pytest.raises(ValueError, match="no visit date"):
        fhir_patient.encounter(planned)
