"""The per-patient secret of de-identified exports: created on first need, never changed.

Each patient gets, the first time an export needs it, a pseudonym (``P-`` and 10 base32
characters, 50 random bits from ``secrets``) and a date offset (a whole number of days drawn
uniformly from −180…−1 and 1…+180, never 0). Neither is derived from anything about the
patient (45 CFR 164.514(c)(1)), so neither can be computed back from an export; both stay in
the database (``store.models.DeidentificationKey``), written in one audited transaction like
every other record. ``interop.deidentify`` applies them.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import NotFound
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.database import Database
from lupus_msc.store.models import DeidentificationKey, Patient

MAX_OFFSET_DAYS = 180
"""[PROJECT] Dates move by at most half a year either way (never 0 days)."""
PSEUDONYM_PREFIX = "P-"
PSEUDONYM_LENGTH = 10
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
"""RFC 4648 base32: no 0/1/8/9, so no O/0 or I/1 mix-ups when a pseudonym is read aloud."""
CHUNK = 500
"""Study codes looked up per query (SQLite limits a statement's parameters)."""
ATTEMPTS = 3
"""Writers that race to create the same key: the loser reads the winner's."""


@dataclass(frozen=True)
class PatientKey:
    """A patient's secret as the de-identification functions take it."""

    study_code: str
    pseudonym: str
    offset_days: int


def new_pseudonym() -> str:
    """``P-`` and 10 base32 characters (50 random bits): the first 50 of 56 random bits in the
    RFC 4648 base32 alphabet (``BASE32``; one call instead of ten, for exports of 100,000)."""
    encoded = base64.b32encode(secrets.token_bytes(7)).decode("ascii")
    return PSEUDONYM_PREFIX + encoded[:PSEUDONYM_LENGTH]


def new_offset() -> int:
    """Uniform in −180…−1, 1…+180 days."""
    drawn = secrets.randbelow(2 * MAX_OFFSET_DAYS) - MAX_OFFSET_DAYS
    return drawn if drawn < 0 else drawn + 1


def _stored(session: Session, codes: list[str]) -> dict[str, PatientKey]:
    found: dict[str, PatientKey] = {}
    for start in range(0, len(codes), CHUNK):
        query = (
            select(
                Patient.study_code,
                DeidentificationKey.pseudonym,
                DeidentificationKey.date_offset_days,
            )
            .join(DeidentificationKey, DeidentificationKey.patient_id == Patient.id)
            .where(Patient.study_code.in_(codes[start : start + CHUNK]))
        )
        for code, pseudonym, offset in session.execute(query):
            found[code] = PatientKey(code, pseudonym, offset)
    return found


def _patients(session: Session, actor: Actor | None, codes: list[str]) -> dict[str, uuid.UUID]:
    """The patients of ``codes`` the actor may see; NotFound names the first that is not."""
    found: dict[str, tuple[uuid.UUID, uuid.UUID]] = {}
    for start in range(0, len(codes), CHUNK):
        query = select(Patient.study_code, Patient.id, Patient.site_id).where(
            Patient.study_code.in_(codes[start : start + CHUNK])
        )
        found.update({code: (pid, site) for code, pid, site in session.execute(query)})
    for code in codes:
        if code not in found or (actor is not None and not actor.sees_site(found[code][1])):
            raise NotFound(f"no patient {code}")
    return {code: pid for code, (pid, _) in found.items()}


def _create(database: Database, actor: Actor | None, codes: list[str]) -> None:
    with unit_of_work(database, actor) as session:
        stored = _stored(session, codes)
        missing = [code for code in codes if code not in stored]
        for patient_id in _patients(session, actor, missing).values():
            session.add(
                DeidentificationKey(
                    patient_id=patient_id, pseudonym=new_pseudonym(), date_offset_days=new_offset()
                )
            )


def keys_for(
    database: Database, actor: Actor | None, study_codes: Iterable[str]
) -> dict[str, PatientKey]:
    """The key of every patient in ``study_codes``, those missing created (one transaction).

    ``actor`` None is the system (the command line); an actor must be allowed to read patients
    and see each patient's site (NotFound otherwise, and nothing is created).
    """
    if actor is not None:
        require(actor, Action.READ_PATIENTS)
    codes = sorted(set(study_codes))
    with database.reads() as session:
        keys = _stored(session, codes)
        if actor is not None:
            _patients(session, actor, list(keys))
    missing = [code for code in codes if code not in keys]
    for attempt in range(ATTEMPTS):
        if not missing:
            break
        try:
            _create(database, actor, missing)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
        with database.reads() as session:
            keys.update(_stored(session, missing))
        missing = [code for code in missing if code not in keys]
    return keys
