"""The audit trail: append-only rows, each carrying the hash of the one before it."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lupus_msc.store.base import Base


class AuditEvent(Base):
    """Who changed what, when, from which value to which, and why (DESIGN.md, rules of the house).

    ``seq`` runs 1, 2, 3 … without gaps; ``row_hash`` is the SHA-256 of this row's content and
    ``prev_hash``, so changing, removing, inserting or reordering a row breaks the chain.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    user_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(1000))
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last link (one row): removing the newest rows leaves it pointing past them."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    row_hash: Mapped[str] = mapped_column(String(64))
