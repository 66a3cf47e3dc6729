"""Protocol versions: load a programme definition, keep its text, and read it back."""

from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache

import yaml
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


def _load_text(source_yaml: str) -> Protocol:
    """Parse ``source_yaml`` as YAML text, refusing what is not a protocol (422 on the field).

    ``load_protocol`` reads a one-line string ending in .yaml/.yml as a path; text that comes in
    through the API must never name a file on the server, so a one-line text gets its newline.
    YAML's reader refuses control characters before the loader's own error handling runs.
    """
    text = source_yaml if "\n" in source_yaml else f"{source_yaml}\n"
    try:
        return load_protocol(text)
    except (ProtocolError, yaml.YAMLError) as error:
        problems = error.problems if isinstance(error, ProtocolError) else [f"YAML syntax: {error}"]
        fields = [("source_yaml", problem) for problem in problems]
        raise Invalid("invalid protocol: " + "; ".join(problems), fields) from error


def add(session: Session, actor: Actor | None, source_yaml: str) -> ProtocolVersion:
    """Store a new protocol version; a malformed file is refused naming its field and line."""
    if actor is not None:
        require(actor, Action.MANAGE_PROTOCOLS)
    protocol = _load_text(source_yaml)
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
