"""The declarative base every table derives from: UUID keys, exact decimals, UTC times, JSON."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lupus_msc.store.types import ExactDecimal, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Tables of the registry. Nothing clinical is ever deleted (DESIGN.md, rules of the house)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        Decimal: ExactDecimal(),
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        uuid.UUID: Uuid(),
    }


class Entity(Base):
    """A record with an internal UUID (DESIGN.md, Identifiers) and the moment it was created."""

    __abstract__ = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[dt.datetime] = mapped_column(default=lambda: dt.datetime.now(dt.UTC))
