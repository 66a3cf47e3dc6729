"""Schemathesis against the API's OpenAPI document (issue 5): thousands of generated requests to
the app served over real HTTP, on SQLite and on PostgreSQL, with no server error and no response
that contradicts the schema.

What is sent. Every operation of ``/openapi.json`` (registry and score routes) gets Schemathesis'
coverage phase (each field's boundaries and typical invalid values, valid and invalid requests;
skipped for the score routes, pure functions also tested in tests/web/test_api_score.py and
tests/scoring) and 30 fuzzed cases, valid and invalid (the stateful phase is off: the
catalogue's valid requests below reach deep states instead). The document is the app's own,
built in-process at collection time; ``test_the_served_document_is_the_one_tested`` pins that
the server's ``/openapi.json`` is exactly it. (Schemathesis' lazy ``from_fixture`` loader, which
would fetch it over HTTP, does not run under pytest 9: it sets ``Function._nodeid``.)

Who sends it, and at what. tests/schemathesis_world.py: four requests in five come from a
persona whose role may call the route (the catalogue of tests/permission_requests.py), the rest
from anyone (another role, another site's staff, no token); and real site-A01 records replace
generated ids often enough that requests pass 404 and reach the services' rules (the
catalogue's whole valid request one time in three, otherwise id by id). Those choices are drawn
from the generated case itself, so with the fixed seed, ``derandomize`` and no example database
a run is the same every time on a given backend.

Checks on every response:

- ``not_a_server_error``: no 5xx;
- ``status_code_conformance``: the status is one the operation documents;
- ``content_type_conformance`` and ``response_schema_conformance``: the body is the documented
  media type and validates against the documented schema for that status (errors included);
- ``response_headers_conformance``: documented headers are present and valid;
- ``negative_data_rejection``: a request generated invalid is refused with a 4xx.

Left out: ``positive_data_acceptance`` (a schema-valid request is rightly refused by the
pathway's rules: 403, 404, 409); ``ignored_auth`` (it re-sends every request without credentials,
requests that would not be counted; tests/web/test_permissions.py sends every route without a
token and with a bad one); ``use_after_free`` and ``ensure_resource_availability`` (nothing is
deleted: the registry refuses deletes); ``unsupported_method`` and the coverage phase's
unexpected-method probes (FastAPI's router answers those, not our code); ``max_response_time``
(timing on a shared two-core machine would flake).

``test_enough_requests_were_sent`` runs after the operations of its backend and fails below
2,000 requests actually sent on that backend, so the bar cannot drop silently; it prints the
status distribution (``pytest -s``).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis import checks

from lupus_msc.web.app import create_app
from tests.registry_fixtures import Api
from tests.schemathesis_world import Tally, World, aim, build_world, dice, persona_for

LEAST = 2000
"""Requests each backend must have sent (issue 5: at least 2,000 generated requests)."""
DOCUMENT = create_app("sqlite://").openapi()
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260501,
        "generation": {
            "mode": "all",
            "max-examples": 30,
            "deterministic": True,
            "database": "none",
            "with-security-parameters": False,  # the personas' tokens are sent instead
        },
        "phases": {"stateful": {"enabled": False}, "coverage": {"unexpected-methods": []}},
        "operations": [{"include-tag": "score", "phases": {"coverage": {"enabled": False}}}],
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
TALLIES: dict[str, Tally] = {}


def backend(api: Api) -> str:
    return "sqlite" if api.registry.database.url.startswith("sqlite") else "postgresql"


@pytest.fixture(scope="module")
def world(api: Api) -> World:
    return build_world(api)


@pytest.fixture(scope="module")
def tally(api: Api) -> Tally:
    return TALLIES.setdefault(backend(api), Tally())


def test_the_served_document_is_the_one_tested(api: Api) -> None:
    with api.anonymous() as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == DOCUMENT


@schema.parametrize()
def test_the_api_keeps_to_its_schema(case: Any, api: Api, world: World, tally: Tally) -> None:
    rng = dice(case)
    persona = persona_for(f"{case.method.upper()} {case.operation.path}", rng)
    aim(world, case, rng)
    headers = world.headers(persona)
    response = case.call(base_url=api.base_url, headers=headers)
    tally.record(case.operation.label, response.status_code)
    case.validate_response(response, checks=CHECKS, headers=headers)


def test_enough_requests_were_sent(api: Api, tally: Tally) -> None:
    print(f"\n{backend(api)}: {tally.sent} requests, by status {sorted(tally.statuses.items())}")
    for label, statuses in tally.by_operation.items():
        print(f"  {label:55} {sum(statuses.values()):5} {sorted(statuses.items())}")
    assert tally.sent >= LEAST, f"{tally!r}: run the whole module, not a selection"
