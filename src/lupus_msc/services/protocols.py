"""Protocol versions: load a programme definition, keep its text, and read it back."""

from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.protocol import DEFAULT_PROTOCOL_FILE, Protocol, ProtocolError, load_protocol
from lupus_msc.services.access import Action, Actor, require
from lupus_msc.services.errors import Invalid, NotFound, Refused
from lupus_msc.store.models import ProtocolVersion


@lru_cache(maxsize=64)
def _parse(source_yaml: str) -> Protocol:
    return load_protocol(source_yaml)


def definition(version: ProtocolVersion) -> Protocol:
    """The parsed programme definition of a stored protocol version."""
    return _parse(version.source_yaml)


def add(session: Session, actor: Actor | None, source_yaml: str) -> ProtocolVersion:
    """Store a new protocol version; a malformed file is refused naming its field and line."""
    if actor is not None:
        require(actor, Action.MANAGE_PROTOCOLS)
    try:
        protocol = load_protocol(source_yaml)
    except ProtocolError as error:
        raise Invalid(
            str(error), [("source_yaml", problem) for problem in error.problems]
        ) from error
    clash = session.scalar(
        select(ProtocolVersion).where(
            ProtocolVersion.protocol_code == protocol.id,
            ProtocolVersion.version == protocol.version,
        )
    )
    if clash is not None:
        raise Refused(f"protocol {protocol.id} version {protocol.version} is already loaded")
    version = ProtocolVersion(
        protocol_code=protocol.id,
        version=protocol.version,
        title=protocol.title,
        source_yaml=source_yaml,
        sha256=hashlib.sha256(source_yaml.encode()).hexdigest(),
    )
    session.add(version)
    session.flush()
    return version


def get(session: Session, version_id: uuid.UUID) -> ProtocolVersion:
    version = session.get(ProtocolVersion, version_id)
    if version is None:
        raise NotFound(f"no protocol version {version_id}")
    return version


def newest(session: Session) -> ProtocolVersion:
    """The most recently loaded protocol version (the default for new patients)."""
    version = session.scalar(select(ProtocolVersion).order_by(ProtocolVersion.created_at.desc()))
    if version is None:
        raise Refused("no protocol is loaded; run `lupus-msc init`")
    return version


def listing(session: Session) -> list[ProtocolVersion]:
    return list(session.scalars(select(ProtocolVersion).order_by(ProtocolVersion.created_at)))


__all__ = ["DEFAULT_PROTOCOL_FILE", "add", "definition", "get", "listing", "newest"]
