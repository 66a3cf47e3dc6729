"""The registry's SDTM-style domains, patient batch by patient batch (issue 8, CDISC).

A registry of 100,000 patients is never held at once: ``prepare`` reads only the patients' ids,
study codes and protocols (and, for a de-identified export, their keys, created in audited
chunks), and orders them as the datasets are sorted — by ``STUDYID`` then ``USUBJID``, the
pseudonymised one when de-identified — so that batches written one after another give sorted
files. ``domains`` then reads ``batch_size`` patients at a time (``sdtm.read``), cuts at the
data cut-off, builds every domain (pure builders) and de-identifies them (``sdtm_deidentify``).
The writers (``sdtm_write.Writer``, ``odm_write``) take the batches as they come.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from lupus_msc.interop import sdtm, sdtm_findings
from lupus_msc.interop.sdtm import Domain, Records
from lupus_msc.interop.sdtm_deidentify import Dates, deidentify
from lupus_msc.services.access import Actor
from lupus_msc.services.deidentification import PatientKey, keys_for
from lupus_msc.store import models
from lupus_msc.store.database import Database

BATCH_SIZE = 1000
"""[PROJECT] Patients read per batch: memory grows with it, not with the registry."""
DEFAULT_STUDY_OID = "LUPUS-MSC"
"""The study OID of an export that spans several protocols (else the one ``STUDYID``)."""


def build(records: Records) -> dict[str, Domain]:
    """Every domain of the records, by domain name."""
    return {
        "DM": sdtm.dm(records),
        "AE": sdtm.ae(records),
        "CM": sdtm.cm(records),
        "EX": sdtm.ex(records),
        "LB": sdtm.lb(records),
        "VS": sdtm_findings.vs(records),
        "QS": sdtm_findings.qs(records),
        "RS": sdtm_findings.rs(records),
    }


@dataclass(frozen=True)
class Patient:
    id: uuid.UUID
    study_code: str
    studyid: str
    usubjid: str
    """As exported: ``<STUDYID>-<study code>``, or ``<STUDYID>-<pseudonym>`` de-identified."""


@dataclass(frozen=True)
class Plan:
    """The patients of an export, in dataset order, with what every batch shares."""

    patients: list[Patient]
    study_oid: str
    visit_numbers: dict[str, int]
    keys: dict[str, PatientKey] | None
    """By study code, when de-identified."""

    @property
    def study_codes(self) -> list[str]:
        return [patient.study_code for patient in self.patients]


def _selected(database: Database, sites: Sequence[str]) -> list[tuple[uuid.UUID, str, str]]:
    """Id, study code and ``STUDYID`` of every patient (of ``sites`` when given)."""
    query = select(
        models.Patient.id, models.Patient.study_code, models.ProtocolVersion.protocol_code
    ).join(models.ProtocolVersion, models.ProtocolVersion.id == models.Patient.protocol_version_id)
    if sites:
        query = query.join(models.Site, models.Site.id == models.Patient.site_id).where(
            models.Site.code.in_(list(sites))
        )
    with database.reads() as session:
        return [(pid, code, protocol.upper()) for pid, code, protocol in session.execute(query)]


def _keys(
    database: Database, actor: Actor | None, codes: list[str], batch_size: int
) -> dict[str, PatientKey]:
    """Every patient's key, those missing created ``batch_size`` at a time (one audited
    transaction each, so a first export of a large registry commits as it goes), as ``actor``
    (None: the system)."""
    keys: dict[str, PatientKey] = {}
    for start in range(0, len(codes), batch_size):
        keys.update(keys_for(database, actor, codes[start : start + batch_size]))
    return keys


def prepare(
    database: Database,
    *,
    sites: Sequence[str] = (),
    deidentified: bool = False,
    batch_size: int = BATCH_SIZE,
    actor: Actor | None = None,
) -> Plan:
    """The patients to export, in dataset order (see the module docstring); ``sites`` already
    scoped to ``actor`` by the caller (empty: every site)."""
    selected = _selected(database, sites)
    codes = [code for _, code, _ in selected]
    keys = _keys(database, actor, codes, batch_size) if deidentified else None
    patients = []
    for pid, code, studyid in selected:
        subject = code if keys is None else keys[code].pseudonym
        patients.append(Patient(pid, code, studyid, f"{studyid}-{subject}"))
    patients.sort(key=lambda p: (p.studyid, p.usubjid))
    studies = {studyid for _, _, studyid in selected}
    with database.reads() as session:
        numbers = sdtm.visit_plan(session)
    study_oid = studies.pop() if len(studies) == 1 else DEFAULT_STUDY_OID
    return Plan(patients, study_oid, numbers, keys)


def _private(
    domains: dict[str, Domain],
    records: Records,
    keys: dict[str, PatientKey],
    dates: Dates,
    scrub: Callable[[str], str],
) -> dict[str, Domain]:
    found = sdtm.subjects(records)
    by_usubjid = {found[p.id].usubjid: keys[p.study_code] for p in records.patients}
    return {
        name: deidentify(domain, by_usubjid, dates=dates, scrub=scrub)
        for name, domain in domains.items()
    }


def domains(
    database: Database,
    plan: Plan,
    *,
    as_of: dt.date | None = None,
    dates: Dates = "shift",
    scrub: Callable[[str], str] = str,
    batch_size: int = BATCH_SIZE,
) -> Iterator[dict[str, Domain]]:
    """Every domain, one batch of ``plan``'s patients at a time (at least one, maybe empty)."""
    ids = [patient.id for patient in plan.patients]
    starts = range(0, len(ids), batch_size) if ids else range(1)
    for start in starts:
        with database.reads() as session:
            records = sdtm.read(session, ids[start : start + batch_size], plan.visit_numbers)
        if as_of is not None:
            records = sdtm.cut_off(records, as_of)
        built = build(records)
        if plan.keys is not None:
            built = _private(built, records, plan.keys, dates, scrub)
        yield built
