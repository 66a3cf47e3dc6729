"""Recording a visit: each refusal changes nothing; scores are derived from the recorded items;
labs are superseded, never deleted; a signed visit changes only with a reason, and the old value
stays in the audit trail. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from lupus_msc.services import medications, visits
from lupus_msc.services.errors import Invalid, Refused, ServiceError
from lupus_msc.services.medications import MedicationIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.services.visits import SignatureIn
from lupus_msc.store.models import AuditEvent, LabResult, Visit
from tests.registry_fixtures import PASSWORD, Registry
from tests.services.test_visits import actor, audit_head, infused_patient, record, visit_of

MONTH1 = "2024-02-09"


def month1(registry: Registry) -> uuid.UUID:
    return visit_of(registry, infused_patient(registry), "month1").id


def refused_unchanged(
    registry: Registry, visit_id: uuid.UUID, error: type[ServiceError], **body: Any
) -> ServiceError:
    """Recording ``body`` is refused with ``error`` and the audit trail is untouched."""
    before = audit_head(registry)
    with pytest.raises(error) as caught:
        record(registry, "coordinator", visit_id, **body)
    assert audit_head(registry) == before
    return caught.value


def field_of(error: ServiceError) -> str:
    return error.fields[0][0]


# --- refusals -------------------------------------------------------------------------------


def test_a_visit_date_in_the_future_is_refused(registry: Registry) -> None:
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    error = refused_unchanged(registry, month1(registry), Invalid, visit_date=str(tomorrow))
    assert field_of(error) == "visit_date"


def test_a_visit_date_before_the_first_infusion_is_refused(registry: Registry) -> None:
    error = refused_unchanged(registry, month1(registry), Invalid, visit_date="2024-01-09")
    assert field_of(error) == "visit_date"
    assert "2024-01-10" in error.message


@pytest.mark.parametrize(
    ("lab", "field", "words"),
    [
        ({"analyte": "platelets", "value": 150, "unit": "g/L"}, "labs[0].unit", "10*9/L"),
        ({"analyte": "platelets", "value": 5000, "unit": "10*9/L"}, "labs[0].value", "0–2000"),
        ({"analyte": "hemoglobin", "value": 260, "unit": "g/L"}, "labs[0].value", "implausible"),
        ({"analyte": "creatinine", "value": 3000, "unit": "umol/L"}, "labs[0].value", "0.1–30"),
        ({"analyte": "c4", "value": 0.2, "unit": "g/L", "loinc": "4486-7"}, "labs[0].loinc", "C4"),
        ({"analyte": "cd4", "value": 0.5, "unit": "10*9/L", "loinc": "731-0"}, "labs[0].loinc", ""),
        (
            {"analyte": "creatinine", "value": 80, "unit": "umol/L", "loinc": "2160-0"},
            "labs[0].loinc",
            "Mass/volume",
        ),
        (
            {"analyte": "upcr", "value": 56.6, "unit": "mg/mmol", "loinc": "2890-2"},
            "labs[0].loinc",
            "Mass Ratio",
        ),
        (
            {"analyte": "c3", "value": 1, "unit": "g/L", "reference_low": 2, "reference_high": 1},
            "labs[0].reference_high",
            "above",
        ),
    ],
)
def test_a_bad_lab_is_refused_naming_it(
    registry: Registry, lab: dict[str, Any], field: str, words: str
) -> None:
    error = refused_unchanged(registry, month1(registry), Invalid, visit_date=MONTH1, labs=[lab])
    assert field_of(error) == field
    assert words in error.message


def test_an_analyte_given_twice_is_refused(registry: Registry) -> None:
    lab = {"analyte": "crp", "value": 3, "unit": "mg/L"}
    error = refused_unchanged(
        registry, month1(registry), Invalid, visit_date=MONTH1, labs=[lab, lab]
    )
    assert field_of(error) == "labs[1].analyte"


def test_sledai_labs_that_contradict_the_visits_labs_are_refused(registry: Registry) -> None:
    error = refused_unchanged(
        registry,
        month1(registry),
        Invalid,
        visit_date=MONTH1,
        sledai2k={"labs": {"platelets_10e9_l": 150}},
        labs=[{"analyte": "platelets", "value": 80, "unit": "10*9/L"}],
    )
    assert field_of(error) == "sledai2k.labs.platelets_10e9_l"


def test_an_override_of_a_descriptor_also_given_is_refused(registry: Registry) -> None:
    error = refused_unchanged(
        registry,
        month1(registry),
        Invalid,
        visit_date=MONTH1,
        sledai2k={"hematuria": True},
        sledai2k_overrides={"hematuria": {"present": False, "reason": "menstruation"}},
    )
    assert field_of(error) == "sledai2k_overrides.hematuria"


def test_an_override_without_a_sledai_assessment_is_refused(registry: Registry) -> None:
    error = refused_unchanged(
        registry,
        month1(registry),
        Invalid,
        visit_date=MONTH1,
        sledai2k_overrides={"fever": {"present": False, "reason": "influenza"}},
    )
    assert field_of(error) == "sledai2k_overrides"


# --- derived scores ------------------------------------------------------------------------


def test_sledai_2k_is_derived_from_descriptors_labs_and_temperature(registry: Registry) -> None:
    visit = record(
        registry,
        "coordinator",
        month1(registry),
        visit_date=MONTH1,
        sledai2k={"rash": True, "arthritis": False, "attribution_confirmed": True},
        vitals={"temperature_c": 38.5, "weight_kg": 64},
        labs=[
            {"analyte": "platelets", "value": 80000, "unit": "/mm3"},
            {"analyte": "c3", "value": 50, "unit": "mg/dL", "reference_low": 90},
            {"analyte": "anti_dsdna", "value": 200, "unit": "IU/mL", "reference_high": 100},
            {"analyte": "upcr", "value": 135.744, "unit": "mg/mmol"},
        ],
    )
    sledai = visit.scores["sledai2k"]
    # §1 weights: proteinuria 4 (UPCR 135.744 mg/mmol = 1.2 g/g > 0.5), rash 2, low complement 2
    # (C3 0.50 < LLN 0.90 g/L), DNA binding 2 (200 > 100), fever 1 (38.5 > 38, attributed),
    # thrombocytopenia 1 (80 000/mm³ = 80 × 10⁹/L < 100, attributed): 12
    assert sledai["total"] == 12
    assert set(sledai["contributions"]) == {
        "proteinuria",
        "rash",
        "low_complement",
        "increased_dna_binding",
        "fever",
        "thrombocytopenia",
    }
    assert visit.engine_version is not None


def test_a_clinician_override_beats_the_labs(registry: Registry) -> None:
    visit = record(
        registry,
        "coordinator",
        month1(registry),
        visit_date=MONTH1,
        sledai2k={"attribution_confirmed": True},
        sledai2k_overrides={"hematuria": {"present": False, "reason": "menstrual contamination"}},
        labs=[{"analyte": "urine_rbc_hpf", "value": 20, "unit": "/[HPF]"}],
    )
    assert "hematuria" not in visit.scores["sledai2k"]["contributions"]
    assert visit.findings["sledai2k_overrides"]["hematuria"]["present"] is False


def test_egfr_is_the_same_from_umol_and_from_mg_per_dl(registry: Registry) -> None:
    by_mg = record(
        registry,
        "coordinator",
        month1(registry),
        visit_date=MONTH1,
        labs=[{"analyte": "creatinine", "value": 1, "unit": "mg/dL"}],
    )
    by_umol = record(
        registry,
        "coordinator",
        month1(registry),
        visit_date=MONTH1,
        labs=[{"analyte": "creatinine", "value": 88.4, "unit": "umol/L"}],
    )
    # §9 by hand: female, 33 years on 2024-02-09 (born 1990-05-17), Scr 1.0 mg/dL, κ 0.7:
    # 142 × (1.0 / 0.7)^−1.200 × 0.9938^33 × 1.012
    expected = 142 * (1 / 0.7) ** -1.2 * 0.9938**33 * 1.012
    assert math.isclose(float(by_mg.scores["egfr"]["egfr_cr"]), expected, rel_tol=1e-12)
    assert math.isclose(float(by_umol.scores["egfr"]["egfr_cr"]), expected, rel_tol=1e-12)


def test_facit_f_and_sdi_are_scored_from_their_items(registry: Registry) -> None:
    visit = record(
        registry,
        "coordinator",
        month1(registry),
        visit_date=MONTH1,
        # the hand-worked example of clinical/facit_f.py (§13): 31.909
        facit_f={
            "HI7": 1,
            "HI12": 2,
            "An1": 0,
            "An2": 3,
            "An3": 1,
            "An4": 2,
            "An5": 3,
            "An7": 2,
            "An8": 9,
            "An12": 1,
            "An15": 4,
            "An16": 0,
        },
        # §8: cataract 1, two myocardial infarctions 2 ("2 if > 1")
        sdi={"cataract": True, "myocardial_infarction": 2},
        pga=1.25,
    )
    assert visit.scores["facit_f"]["score"] == Decimal("31.909")
    assert visit.scores["sdi"]["total"] == 3
    assert visit.scores["pga"]["category"] == "moderate"


def test_the_visits_glucocorticoid_dose_follows_the_medications(registry: Registry) -> None:
    patient_id = infused_patient(registry)
    visit_id = visit_of(registry, patient_id, "month1").id
    who = actor(registry, "physician")
    with unit_of_work(registry.database, who) as session:
        medications.record(
            session,
            who,
            patient_id,
            MedicationIn(
                drug="Prednisone",
                dose=Decimal(10),
                unit="mg",
                frequency="once-daily",
                route="oral",
                started_on=dt.date(2023, 6, 1),
            ),
        )
    visit = record(registry, "coordinator", visit_id, visit_date=MONTH1, vitals={"weight_kg": 50})
    assert visit.scores["prednisone_equivalent"]["prednisone_mg_day"] == 10
    with unit_of_work(registry.database, who) as session:
        # §11 worked example: methylprednisolone 16 mg → 20 mg prednisone
        medications.record(
            session,
            who,
            patient_id,
            MedicationIn(
                drug="methylprednisolone",
                dose=Decimal(16),
                unit="mg",
                frequency="once-daily",
                route="intravenous",
                started_on=dt.date(2024, 2, 1),
                stopped_on=dt.date(2024, 2, 9),
            ),
        )
    rescored = visit_of(registry, patient_id, "month1")
    assert rescored.scores["prednisone_equivalent"]["prednisone_mg_day"] == 30
    assert rescored.scores["prednisone_equivalent"]["mg_kg_day"] == Decimal("0.6")


# --- labs are superseded, never deleted ----------------------------------------------------


def test_a_changed_lab_supersedes_the_old_one(registry: Registry) -> None:
    visit_id = month1(registry)
    crp = {"analyte": "crp", "value": 12, "unit": "mg/L"}
    esr = {"analyte": "esr", "value": 30, "unit": "mm/h"}
    record(registry, "coordinator", visit_id, visit_date=MONTH1, labs=[crp, esr])
    record(
        registry,
        "coordinator",
        visit_id,
        visit_date=MONTH1,
        labs=[{**crp, "value": 1.2, "unit": "mg/dL"}, esr],
    )
    with registry.database.sessions() as session:
        rows = list(session.scalars(select(LabResult).where(LabResult.visit_id == visit_id)))
    by = {(row.analyte, row.superseded): row for row in rows}
    assert len(rows) == 3  # the old CRP stays, flagged
    assert by[("crp", True)].value == 12
    assert by[("crp", False)].unit == "mg/dL"
    assert by[("esr", False)].loinc == "4537-7"
    assert by[("crp", False)].loinc == "1988-5"


def test_a_result_in_a_unit_of_another_kind_than_its_loinc_is_stored_without_one(
    registry: Registry,
) -> None:
    """§15 (``codes.OTHER_KIND_UNITS``): creatinine in µmol/L and UPCR in mg/mmol get no LOINC
    code; in mg/dL and g/g they get 2160-0 and 2890-2. A row stored with a code before this
    rule is not superseded when the visit is recorded again with the same values."""
    visit_id = month1(registry)
    labs = [
        {"analyte": "creatinine", "value": 80, "unit": "umol/L"},
        {"analyte": "upcr", "value": 56.6, "unit": "mg/mmol"},
    ]
    record(registry, "coordinator", visit_id, visit_date=MONTH1, labs=labs)
    with registry.database.sessions() as session:
        rows = list(session.scalars(select(LabResult).where(LabResult.visit_id == visit_id)))
    assert {row.analyte: row.loinc for row in rows} == {"creatinine": None, "upcr": None}
    with registry.database.engine.begin() as connection:  # as an older release stored them
        for analyte, code in (("creatinine", "2160-0"), ("upcr", "2890-2")):
            stored = LabResult.visit_id == visit_id, LabResult.analyte == analyte
            connection.execute(update(LabResult).where(*stored).values(loinc=code))
    record(registry, "coordinator", visit_id, visit_date=MONTH1, labs=labs)
    with registry.database.sessions() as session:
        rows = list(session.scalars(select(LabResult).where(LabResult.visit_id == visit_id)))
    assert [row.superseded for row in rows] == [False, False]
    in_mass = [
        {"analyte": "creatinine", "value": 0.9, "unit": "mg/dL"},
        {"analyte": "upcr", "value": 0.5, "unit": "g/g"},
    ]
    record(registry, "coordinator", visit_id, visit_date=MONTH1, labs=in_mass)
    with registry.database.sessions() as session:
        query = select(LabResult).where(LabResult.visit_id == visit_id, ~LabResult.superseded)
        current = {row.analyte: row.loinc for row in session.scalars(query)}
    assert current == {"creatinine": "2160-0", "upcr": "2890-2"}


# --- signing and changes after it ------------------------------------------------------------


def sign(registry: Registry, visit_id: uuid.UUID, password: str = PASSWORD) -> Visit:
    who = actor(registry, "physician")
    with unit_of_work(registry.database, who) as session:
        return visits.sign(session, who, visit_id, SignatureIn(password=password))


def test_an_unrecorded_visit_cannot_be_signed(registry: Registry) -> None:
    visit_id = month1(registry)
    before = audit_head(registry)
    with pytest.raises(Refused) as caught:
        sign(registry, visit_id)
    assert caught.value.fields[0][0] == "visit_date"
    assert audit_head(registry) == before


def test_a_wrong_password_signs_nothing(registry: Registry) -> None:
    visit_id = month1(registry)
    record(registry, "coordinator", visit_id, visit_date=MONTH1, pga=1)
    before = audit_head(registry)
    with pytest.raises(Refused) as caught:
        sign(registry, visit_id, password="not the password")  # noqa: S106 - a wrong one
    assert caught.value.fields[0][0] == "password"
    assert audit_head(registry) == before


def test_a_signed_visit_is_not_signed_twice(registry: Registry) -> None:
    visit_id = month1(registry)
    record(registry, "coordinator", visit_id, visit_date=MONTH1, pga=1)
    sign(registry, visit_id)
    with pytest.raises(Refused) as caught:
        sign(registry, visit_id)
    assert caught.value.fields[0][0] == "signed_at"


def test_changing_a_signed_visit_needs_a_reason_and_keeps_the_old_value(
    registry: Registry,
) -> None:
    visit_id = month1(registry)
    record(registry, "coordinator", visit_id, visit_date=MONTH1, pga=1)
    signed = sign(registry, visit_id)
    assert signed.signed_at is not None
    # re-recording the same values is no change and needs no reason
    record(registry, "coordinator", visit_id, visit_date=MONTH1, pga=1)
    error = refused_unchanged(registry, visit_id, Invalid, visit_date=MONTH1, pga=2)
    assert field_of(error) == "reason"
    lab = {"analyte": "esr", "value": 30, "unit": "mm/h"}
    error = refused_unchanged(registry, visit_id, Invalid, visit_date=MONTH1, pga=1, labs=[lab])
    assert field_of(error) == "reason"
    changed = record(
        registry, "coordinator", visit_id, visit_date=MONTH1, pga=2, reason="transcription error"
    )
    assert changed.findings["pga"] == 2
    assert changed.signed_at is None and changed.signed_by_id is None  # signed again later
    with registry.database.sessions() as session:
        trail = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "visits",
                AuditEvent.entity_id == str(visit_id),
                AuditEvent.action == "update",
                AuditEvent.field == "findings",
            )
        ).all()
    last = trail[-1]
    assert last.old_value == '{"pga":1}' and last.new_value == '{"pga":2}'
    assert last.reason == "transcription error"
    # once signed, always a reason: the cleared signature is in the audit trail
    error = refused_unchanged(registry, visit_id, Invalid, visit_date=MONTH1, pga=3)
    assert field_of(error) == "reason"
