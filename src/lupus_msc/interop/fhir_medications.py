"""MedicationStatement: a recorded medication with its dose and frequency (issue 8)."""

from __future__ import annotations

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.dosage import Dosage, DosageDoseAndRate
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.timing import Timing, TimingRepeat

from lupus_msc.interop.fhir_common import quantity, reference
from lupus_msc.services.visit_prednisone import REGIMENS
from lupus_msc.store import models


def _timing(frequency: str) -> Timing:
    """``REGIMENS`` gives (doses, every n days): ``twice-daily`` → 2 per 1 d."""
    if frequency not in REGIMENS:
        return Timing(code=CodeableConcept(text=frequency))
    doses, days = REGIMENS[frequency]
    repeat = TimingRepeat(frequency=doses, period=days, periodUnit="d")
    return Timing(repeat=repeat, code=CodeableConcept(text=frequency))


def medication_statement(record: models.Medication) -> MedicationStatement:
    """The drug by name (the registry keeps no RxNorm/ATC code), its dose, schedule and route."""
    dosage = Dosage(
        text=f"{record.dose.normalize():f} {record.unit} {record.frequency} {record.route}",
        timing=_timing(record.frequency),
        route=CodeableConcept(text=record.route),
        doseAndRate=[DosageDoseAndRate(doseQuantity=quantity(record.dose, record.unit))],
    )
    return MedicationStatement(
        id=str(record.id),
        status="active" if record.stopped_on is None else "completed",
        medicationCodeableConcept=CodeableConcept(text=record.drug),
        subject=reference("Patient", record.patient_id),
        effectivePeriod=Period(start=record.started_on, end=record.stopped_on),
        dosage=[dosage],
    )
