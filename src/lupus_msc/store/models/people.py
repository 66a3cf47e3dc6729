"""Sites, users, their roles, site memberships, qualifications and API tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lupus_msc.store.base import Entity


def enum_column(kind: type[StrEnum]) -> Enum:
    """A portable enum column storing the member values (a CHECK constraint, no native type)."""
    return Enum(
        kind,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        name=kind.__name__.lower(),
    )


class Role(StrEnum):
    """What a user does in the programme (DESIGN.md, who uses it)."""

    ADMIN = "admin"
    PHYSICIAN = "physician"
    COORDINATOR = "coordinator"
    LAB = "lab"
    NURSE = "nurse"
    MONITOR = "monitor"
    STATISTICIAN = "statistician"


class QualificationKind(StrEnum):
    """Duties that need a documented, unexpired qualification."""

    INFUSION = "infusion"
    """May administer cell infusions and take part in the bedside identity check."""
    LOT_RELEASE = "lot-release"
    """Qualified person for lot release."""


class Site(Entity):
    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Entity):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    """An optional short sign-in name (the demo's ``physician``); the email always works too."""
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="selectin")
    qualifications: Mapped[list[Qualification]] = relationship(lazy="selectin")

    @property
    def site_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(membership.site_id for membership in self.memberships)


class Membership(Entity):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "site_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    user: Mapped[User] = relationship(back_populates="memberships")


class Qualification(Entity):
    __tablename__ = "qualifications"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[QualificationKind] = mapped_column(enum_column(QualificationKind))
    granted_on: Mapped[dt.date]
    expires_on: Mapped[dt.date]

    def valid_on(self, day: dt.date) -> bool:
        return self.granted_on <= day <= self.expires_on


class ApiToken(Entity):
    """A bearer token: only its SHA-256 is stored, with a short prefix to tell tokens apart."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime]
    session_ends_at: Mapped[dt.datetime | None]
    """Set for web sessions: the latest moment the session may last, however active its user.
    ``expires_at`` then slides forward with use (the idle timeout) up to this moment."""
    revoked_at: Mapped[dt.datetime | None]
