"""Who may do what, and where: roles map to actions; every record is fetched through ``fetch``.

STYLE habit 5: a record of another site is *not found* (404), an action the role lacks is
*forbidden* (403). Admins see every site; everyone else sees the sites they are members of.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from lupus_msc.services.errors import Forbidden, NotFound
from lupus_msc.store.models import Patient, QualificationKind, Role, User


class Action(StrEnum):
    MANAGE_SITES = "manage-sites"
    MANAGE_USERS = "manage-users"
    MANAGE_PROTOCOLS = "manage-protocols"
    READ_PATIENTS = "read-patients"
    READ_IDENTITY = "read-identity"
    """Names, dates of birth and record numbers; without it patients come de-identified."""
    REGISTER_PATIENT = "register-patient"
    EDIT_PATIENT = "edit-patient"
    RECORD_CONSENT = "record-consent"
    RECORD_SCREENING = "record-screening"
    SIGN_ELIGIBILITY = "sign-eligibility"
    READ_PRODUCTS = "read-products"
    WRITE_PRODUCTS = "write-products"
    RELEASE_LOT = "release-lot"
    CHECK_AT_BEDSIDE = "check-at-bedside"
    RECORD_INFUSION = "record-infusion"
    RECORD_VISIT = "record-visit"
    SIGN_VISIT = "sign-visit"
    RECORD_MEDICATION = "record-medication"
    RECORD_ADVERSE_EVENT = "record-adverse-event"
    READ_AUDIT = "read-audit"
    READ_OUTCOMES = "read-outcomes"
    """Cohort outcomes of the actor's sites: aggregate analyses only, never a patient's identity."""


A = Action
_CLINICAL_READ = {A.READ_PATIENTS, A.READ_IDENTITY, A.READ_PRODUCTS}
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(
        {A.MANAGE_SITES, A.MANAGE_USERS, A.MANAGE_PROTOCOLS, A.READ_AUDIT, *_CLINICAL_READ}
    ),
    Role.PHYSICIAN: frozenset(
        {
            *_CLINICAL_READ,
            A.REGISTER_PATIENT,
            A.EDIT_PATIENT,
            A.RECORD_CONSENT,
            A.RECORD_SCREENING,
            A.SIGN_ELIGIBILITY,
            A.CHECK_AT_BEDSIDE,
            A.RECORD_INFUSION,
            A.RECORD_VISIT,
            A.SIGN_VISIT,
            A.RECORD_MEDICATION,
            A.RECORD_ADVERSE_EVENT,
            A.READ_OUTCOMES,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            *_CLINICAL_READ,
            A.REGISTER_PATIENT,
            A.EDIT_PATIENT,
            A.RECORD_CONSENT,
            A.RECORD_SCREENING,
            A.RECORD_VISIT,
            A.RECORD_MEDICATION,
            A.RECORD_ADVERSE_EVENT,
        }
    ),
    Role.LAB: frozenset({A.READ_PATIENTS, A.READ_PRODUCTS, A.WRITE_PRODUCTS, A.RELEASE_LOT}),
    Role.NURSE: frozenset(
        {*_CLINICAL_READ, A.CHECK_AT_BEDSIDE, A.RECORD_INFUSION, A.RECORD_ADVERSE_EVENT}
    ),
    Role.MONITOR: frozenset({*_CLINICAL_READ, A.READ_AUDIT, A.READ_OUTCOMES}),
    Role.STATISTICIAN: frozenset({A.READ_PATIENTS, A.READ_PRODUCTS, A.READ_OUTCOMES}),
}
"""The role → action table (README, "Roles"). Qualifications add a second gate for infusing
(``QualificationKind.INFUSION``) and lot release (``QualificationKind.LOT_RELEASE``)."""


@dataclass(frozen=True)
class Actor:
    """The authenticated user a service acts for."""

    user_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    site_ids: frozenset[uuid.UUID]
    qualifications: tuple[tuple[QualificationKind, dt.date, dt.date], ...]

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(
            user_id=user.id,
            email=user.email,
            full_name=user.full_name,
            role=user.role,
            site_ids=user.site_ids,
            qualifications=tuple((q.kind, q.granted_on, q.expires_on) for q in user.qualifications),
        )

    @property
    def all_sites(self) -> bool:
        return self.role is Role.ADMIN

    def may(self, action: Action) -> bool:
        return action in PERMISSIONS[self.role]

    def sees_site(self, site_id: uuid.UUID) -> bool:
        return self.all_sites or site_id in self.site_ids

    def qualified(self, kind: QualificationKind, on: dt.date) -> bool:
        return any(k is kind and start <= on <= end for k, start, end in self.qualifications)


def require(actor: Actor, action: Action) -> None:
    """Forbidden unless the actor's role allows ``action``."""
    if not actor.may(action):
        raise Forbidden(f"the {actor.role.value} role may not {action.value.replace('-', ' ')}")


def require_site(actor: Actor, site_id: uuid.UUID, action: Action) -> None:
    """Forbidden for the role, or not a member of the site that will hold the record."""
    require(actor, action)
    if not actor.sees_site(site_id):
        raise Forbidden("you are not a member of this site")


T = TypeVar("T")


def fetch(
    session: Session, actor: Actor, model: type[T], record_id: uuid.UUID, *, site: Any = None
) -> T:
    """The record ``record_id`` if the actor may see its site; NotFound otherwise.

    ``site`` gives the record's site id when the model has no ``site_id`` column of its own
    (a callable taking the record).
    """
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"no {model.__name__.lower()} {record_id}")
    site_id = site(record) if site is not None else getattr(record, "site_id")  # noqa: B009
    if not actor.sees_site(site_id):
        raise NotFound(f"no {model.__name__.lower()} {record_id}")
    return record


def fetch_patient_record(session: Session, actor: Actor, model: type[T], record_id: uuid.UUID) -> T:
    """A record kept for a patient (it has ``patient_id``): found if the actor sees the
    patient's site, NotFound otherwise."""

    def patient_site(record: Any) -> uuid.UUID:
        patient = session.get(Patient, record.patient_id)
        if patient is None:  # the foreign key makes this impossible; never reveal a record
            raise NotFound(f"no {model.__name__.lower()} {record_id}")
        return patient.site_id

    return fetch(session, actor, model, record_id, site=patient_site)


def roles_markdown() -> str:
    """The role → action table as Markdown (the README shows it; a test keeps them equal)."""
    roles = list(Role)
    lines = [
        "| action | " + " | ".join(role.value for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action in Action:
        marks = ["✓" if action in PERMISSIONS[role] else "" for role in roles]
        lines.append(f"| {action.value} | " + " | ".join(marks) + " |")
    return "\n".join(lines)
