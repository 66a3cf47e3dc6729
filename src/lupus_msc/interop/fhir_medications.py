"""MedicationStatement: a recorded medication with its dose and frequency (issue 8)."""

from __future__ import annotations

from fhir.resources.R4B.medicationstatement import MedicationStatement

from lupus_msc.interop.fhir_common import (
    Draft,
    Json,
    built,
    date,
    element,
    period,
    quantity,
    reference,
    text,
)
from lupus_msc.services.visit_prednisone import REGIMENS
from lupus_msc.store import models


def _timing(frequency: str) -> Json:
    """``REGIMENS`` gives (doses, every n days): ``twice-daily`` → 2 per 1 d."""
    if frequency not in REGIMENS:
        return element(code=text(frequency))
    doses, days = REGIMENS[frequency]
    repeat = element(frequency=doses, period=days, periodUnit="d")
    return element(repeat=repeat, code=text(frequency))


def medication_statement_draft(record: models.Medication) -> Draft:
    """The drug by name (the registry keeps no RxNorm/ATC code), its dose, schedule and route."""
    dosage = element(
        text=f"{record.dose.normalize():f} {record.unit} {record.frequency} {record.route}",
        timing=_timing(record.frequency),
        route=text(record.route),
        doseAndRate=[element(doseQuantity=quantity(record.dose, record.unit))],
    )
    return Draft(
        MedicationStatement,
        id=str(record.id),
        status="active" if record.stopped_on is None else "completed",
        medicationCodeableConcept=text(record.drug),
        subject=reference("Patient", record.patient_id),
        effectivePeriod=period(date(record.started_on), date(record.stopped_on)),
        dosage=[dosage],
    )


def medication_statement(record: models.Medication) -> MedicationStatement:
    return built(MedicationStatement, medication_statement_draft(record))
