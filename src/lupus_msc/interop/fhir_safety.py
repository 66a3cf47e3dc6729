"""AdverseEvent: the CTCAE term and grade (§12), seriousness, outcome and the suspect infusion.

R4 has no grade element, so the CTCAE v5.0 grade travels in the extension
``CTCAE_GRADE_EXTENSION`` (valueInteger 1–5); R4 ``severity`` (mild/moderate/severe) is not set,
because it is not the CTCAE grade.
"""

from __future__ import annotations

from fhir.resources.R4B.adverseevent import AdverseEvent

from lupus_msc.interop.fhir_common import (
    CTCAE_GRADE_EXTENSION,
    CTCAE_TERM_SYSTEM,
    Draft,
    Json,
    Part,
    built,
    date,
    element,
    local,
    reference,
    text,
)
from lupus_msc.store import models

SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
OUTCOMES = {
    "recovered": "resolved",
    "recovering": "recovering",
    "not-recovered": "ongoing",
    "recovered-with-sequelae": "resolvedWithSequelae",
    "fatal": "fatal",
    "unknown": "unknown",
}
"""Registry outcome → HL7 adverse-event-outcome code."""


def _event(record: models.AdverseEvent) -> Part:
    if record.ctcae_term is None:
        return text(record.term)
    return local(CTCAE_TERM_SYSTEM, record.ctcae_term, record.term)


def _seriousness(record: models.AdverseEvent) -> Part:
    if record.serious_criteria:
        return local(SERIOUSNESS, "serious", "Serious")
    return local(SERIOUSNESS, "non-serious", "Non-serious")


def _suspect(record: models.AdverseEvent) -> list[Json] | None:
    """The infusion the event followed, with the investigator's relatedness as assessment."""
    if record.infusion_id is None:
        return None
    causality = element(assessment=text(record.relatedness))
    return [element(instance=reference("Procedure", record.infusion_id), causality=[causality])]


def adverse_event_draft(record: models.AdverseEvent) -> Draft:
    return Draft(
        AdverseEvent,
        id=str(record.id),
        extension=[element(url=CTCAE_GRADE_EXTENSION, valueInteger=record.grade)],
        actuality="actual",
        event=_event(record),
        subject=reference("Patient", record.patient_id),
        date=date(record.onset_on),
        seriousness=_seriousness(record),
        outcome=local(OUTCOME, OUTCOMES[record.outcome], record.outcome),
        suspectEntity=_suspect(record),
    )


def adverse_event(record: models.AdverseEvent) -> AdverseEvent:
    return built(AdverseEvent, adverse_event_draft(record))
