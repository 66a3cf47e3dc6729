"""The synthetic staff of a site for ``lupus-msc synth load``: a physician (infusion-qualified),
a coordinator, a lab scientist (qualified person for lot release) and two infusion-qualified
nurses, with Argon2 passwords drawn by ``secrets`` — kept in memory for the signatures, returned
to the caller, never printed.

One patient is loaded in one transaction, step by step by the member of staff whose role does
that step: :func:`act` hands the transaction to the next member, so every audit row names the
person who did it, and clears the reason a previous step gave.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.services import accounts
from lupus_msc.services.access import Actor
from lupus_msc.services.accounts import QualificationIn, SiteIn, UserIn
from lupus_msc.services.unit import act_as
from lupus_msc.store.models import QualificationKind, Role, Site, User

EMAIL_DOMAIN = "synthetic.lupus-msc.example"
"""``.example`` is reserved (RFC 2606): no synthetic login can be somebody's address."""
ROSTER: tuple[tuple[str, Role, QualificationKind | None, str], ...] = (
    ("physician", Role.PHYSICIAN, QualificationKind.INFUSION, "Dr Ada Okafor"),
    ("coordinator", Role.COORDINATOR, None, "Ben Lindqvist"),
    ("lab", Role.LAB, QualificationKind.LOT_RELEASE, "Chiara Rossi"),
    ("nurse", Role.NURSE, QualificationKind.INFUSION, "Dev Nakamura"),
    ("nurse2", Role.NURSE, QualificationKind.INFUSION, "Eva Petrov"),
)
"""Duty, role, qualification and name of each member of a site's synthetic staff."""


@dataclass(frozen=True)
class Member:
    """A member of the synthetic staff: who they are to the services, and how they log in."""

    duty: str
    site: str
    actor: Actor
    password: str = field(repr=False)

    @property
    def email(self) -> str:
        return self.actor.email


@dataclass(frozen=True)
class Crew:
    """A site and its synthetic staff."""

    site_id: uuid.UUID
    site_code: str
    physician: Member
    coordinator: Member
    lab: Member
    nurse: Member
    nurse2: Member

    @property
    def members(self) -> tuple[Member, ...]:
        return (self.physician, self.coordinator, self.lab, self.nurse, self.nurse2)


def site_code(number: int) -> str:
    """The registry code of a synthetic cohort's site (``S01``)."""
    return f"S{number:02d}"


def _site(session: Session, code: str) -> Site:
    found = session.scalar(select(Site).where(Site.code == code))
    if found is not None:
        return found
    return accounts.add_site(session, None, SiteIn(code=code, name=f"Synthetic site {code}"))


def _free_email(session: Session, duty: str, code: str) -> str:
    """``duty.s01@…``, or ``duty-2.s01@…`` and so on when an earlier load took it."""
    for number in range(1, 1000):
        suffix = "" if number == 1 else f"-{number}"
        email = f"{duty}{suffix}.{code.lower()}@{EMAIL_DOMAIN}"
        if session.scalar(select(User.id).where(User.email == email)) is None:
            return email
    raise RuntimeError(f"no free synthetic email for {duty} at {code}")


def _member(
    session: Session,
    site: Site,
    duty: tuple[str, Role, QualificationKind | None, str],
    qualified: tuple[dt.date, dt.date],
) -> Member:
    name, role, kind, full_name = duty
    password = secrets.token_urlsafe(24)
    user = accounts.add_user(
        session,
        None,
        UserIn(
            email=_free_email(session, name, site.code),
            full_name=f"{full_name} ({site.code}, synthetic)",
            role=role,
            password=password,
            site_ids=[site.id],
        ),
        hasher=accounts.GENERATED_PASSWORD_HASHER,
    )
    if kind is not None:
        granted, expires = qualified
        grant = QualificationIn(kind=kind, granted_on=granted, expires_on=expires)
        user = accounts.add_qualification(session, None, user.id, grant)
    return Member(name, site.code, Actor.of(user), password)


def create_crew(session: Session, code: str, qualified: tuple[dt.date, dt.date]) -> Crew:
    """The site ``code`` (added if missing) and a new synthetic staff for it (system actor).

    ``qualified`` is (granted_on, expires_on) of every qualification.
    """
    site = _site(session, code)
    members = {duty[0]: _member(session, site, duty, qualified) for duty in ROSTER}
    return Crew(site_id=site.id, site_code=site.code, **members)


def act(session: Session, member: Member) -> Actor:
    """Hand the transaction to ``member``: what is flushed from now on is theirs, with no reason
    until a step gives one (``services.unit``, ``store.audit``)."""
    act_as(session, member.actor)
    return member.actor


DEMO_EMAIL_DOMAIN = "demo.lupus-msc.example"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - published: demo databases only, never real ones
DEMO_SITE_PREFIX = "Demo "
"""Every site of a demo database is named "Demo …", so every page that names a site shows it."""
DEMO_SITES: tuple[tuple[str, str], ...] = (
    ("S01", "Demo — Northgate University Hospital"),
    ("S02", "Demo — Riverside Lupus Clinic"),
)
DEMO_ACCOUNTS: tuple[tuple[str, Role, QualificationKind | None, str], ...] = (
    ("admin", Role.ADMIN, None, "Demo Admin"),
    ("physician", Role.PHYSICIAN, QualificationKind.INFUSION, "Dr Demo Physician"),
    ("coordinator", Role.COORDINATOR, None, "Demo Coordinator"),
    ("lab", Role.LAB, QualificationKind.LOT_RELEASE, "Demo Lab Scientist"),
    ("nurse", Role.NURSE, QualificationKind.INFUSION, "Demo Nurse"),
    ("monitor", Role.MONITOR, None, "Demo Monitor"),
    ("statistician", Role.STATISTICIAN, None, "Demo Statistician"),
)
"""User name, role, qualification and name of each demo account (one per role)."""
GENERATED_DOMAINS = (EMAIL_DOMAIN, DEMO_EMAIL_DOMAIN)


class RealUsersPresent(Exception):
    """Demo accounts are refused in a database with real users (their published password
    would open a real registry)."""


def real_users(session: Session) -> list[str]:
    """Emails of users that are neither synthetic staff nor demo accounts."""
    emails = session.scalars(select(User.email).order_by(User.email))
    return [email for email in emails if email.rpartition("@")[2] not in GENERATED_DOMAINS]


def is_demo(session: Session) -> bool:
    """A demo database: it has sites, all named "Demo …"."""
    names = list(session.scalars(select(Site.name)))
    return bool(names) and all(name.startswith(DEMO_SITE_PREFIX) for name in names)


def demo_sites(session: Session) -> list[Site]:
    """The demo's two sites (system actor); added before the cohort so they carry its names."""
    found = []
    for code, name in DEMO_SITES:
        site = session.scalar(select(Site).where(Site.code == code))
        found.append(site or accounts.add_site(session, None, SiteIn(code=code, name=name)))
    return found


def add_demo_accounts(
    session: Session, site_ids: list[uuid.UUID], qualified: tuple[dt.date, dt.date]
) -> list[User]:
    """One account per role (``DEMO_ACCOUNTS``), password ``DEMO_PASSWORD``, members of every
    site; the physician and nurse qualified to infuse, the lab user to release lots, from
    ``qualified[0]`` to ``qualified[1]``. Refused (``RealUsersPresent``) if the database has a
    real user."""
    real = real_users(session)
    if real:
        raise RealUsersPresent(
            f"this database has {len(real)} real user(s) (e.g. {real[0]}): demo accounts, whose "
            "password is published, are only added to demo databases"
        )
    added = []
    for username, role, kind, full_name in DEMO_ACCOUNTS:
        user = accounts.add_user(
            session,
            None,
            UserIn(
                email=f"{username}@{DEMO_EMAIL_DOMAIN}",
                username=username,
                full_name=full_name,
                role=role,
                password=DEMO_PASSWORD,
                site_ids=site_ids,
            ),
        )
        if kind is not None:
            grant = QualificationIn(kind=kind, granted_on=qualified[0], expires_on=qualified[1])
            user = accounts.add_qualification(session, None, user.id, grant)
        added.append(user)
    return added
