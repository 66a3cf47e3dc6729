"""Loading protocol versions through the service: text sent by an admin is only ever YAML text,
and what is not a protocol is refused naming ``source_yaml`` and changes nothing. SQLite and
PostgreSQL."""

from __future__ import annotations

from importlib.resources import files

import pytest
from sqlalchemy import func, select

from lupus_msc.protocol import DEFAULT_PROTOCOL_FILE, default_protocol_text
from lupus_msc.services import protocols
from lupus_msc.services.errors import Invalid
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import ProtocolVersion
from tests.registry_fixtures import Registry
from tests.services.test_visits import actor, audit_head


def add(registry: Registry, source_yaml: str) -> ProtocolVersion:
    admin = actor(registry, "admin")
    with unit_of_work(registry.database, admin) as session:
        return protocols.add(session, admin, source_yaml)


def count(registry: Registry) -> int:
    with registry.database.sessions() as session:
        return session.scalar(select(func.count()).select_from(ProtocolVersion)) or 0


def refused(registry: Registry, source_yaml: str) -> Invalid:
    before = (count(registry), audit_head(registry))
    with pytest.raises(Invalid) as caught:
        add(registry, source_yaml)
    assert (count(registry), audit_head(registry)) == before
    assert {field for field, _ in caught.value.fields} == {"source_yaml"}
    return caught.value


def test_a_new_version_of_the_default_protocol_loads(registry: Registry) -> None:
    text = default_protocol_text().replace('version: "1.0.0"', 'version: "1.0.1"', 1)
    assert add(registry, text).version == "1.0.1"


@pytest.mark.parametrize(
    "source_yaml",
    [
        pytest.param("no-such-protocol.yaml", id="a missing file"),
        pytest.param(str(files("lupus_msc.protocol") / DEFAULT_PROTOCOL_FILE), id="a real file"),
    ],
)
def test_text_that_looks_like_a_file_name_is_not_opened(
    registry: Registry, source_yaml: str
) -> None:
    """Found next to the Schemathesis finding below: a one-line text ending in .yaml was read as
    a path on the server (a 500 when missing; that file's protocol when present)."""
    error = refused(registry, source_yaml)
    assert "(protocol)" in error.fields[0][1], error.fields


def test_control_characters_are_refused_naming_the_field(registry: Registry) -> None:
    """Found by Schemathesis: YAML's reader refused U+0087 before any error handling (a 500)."""
    error = refused(registry, "id: uc\u0087msc\ntitle: x\n")
    assert "YAML syntax" in error.fields[0][1]
    assert "#x0087" in error.fields[0][1]
