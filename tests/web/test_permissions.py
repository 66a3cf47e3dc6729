"""Every registry route × every role, allowed and refused (issue 5, STYLE habit 5).

The routes come from the live app's ``/openapi.json`` and must be exactly those of the catalogue
(tests/permission_requests.py), so a new route without a permission case fails here. For each
route and each of the seven roles a valid request on real site-A01 records is sent: an allowed
role gets the route's documented 2xx, a refused one 403 and the registry does not change (the
audit chain's head stays put). Staff of site B01 get 404 for a site-A01 record (403 when the body
names site A01, and lists leave A01 out), and a request without a valid token gets 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from lupus_msc.services.access import Action
from lupus_msc.store.models import AuditHead, Role
from tests.pathway_helpers import (
    decide,
    enrolled_patient,
    infusion_body,
    ok,
    quarantined_lot,
    register,
    release,
    screen,
)
from tests.permission_requests import (
    EVENT,
    MEDICATION,
    OTHER_SITE,
    PERSONA,
    ROUTES,
    STARTED,
    Call,
    Route,
    Scope,
    World,
    bedside_body,
    may,
    ready,
)
from tests.registry_fixtures import PASSWORD, Api

Json = dict[str, Any]
OUT_OF_SCOPE = ("/api/v1/score", "/api/v1/tokens")
"""Public scoring (no token) and the login that issues tokens."""
METHODS = {"get", "post", "put", "patch", "delete"}


# --- the world the requests point at -----------------------------------------------------------


class KeptClient(httpx.Client):
    """A client that outlives ``with`` blocks: a new httpx client costs ~40 ms (it loads the CA
    bundle into a TLS context), a request on a kept one ~5 ms."""

    def __enter__(self) -> KeptClient:
        return self

    def __exit__(self, *_: object) -> None:
        return None


@dataclass
class KeptApi(Api):
    """``Api`` with one client per persona for the module, so the helpers reuse them too."""

    clients: dict[str | None, KeptClient] = field(default_factory=dict)

    def client(self, persona: str | None) -> KeptClient:
        if persona not in self.clients:
            token = self.registry.tokens[persona] if persona else None
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            self.clients[persona] = KeptClient(base_url=self.base_url, headers=headers, timeout=30)
        return self.clients[persona]

    def as_(self, persona: str) -> httpx.Client:
        return self.client(persona)

    def anonymous(self) -> httpx.Client:
        return self.client(None)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def many(response: httpx.Response) -> list[Json]:
    """A listing's items (200)."""
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()
    return items


def add_persona(api: Api, name: str, role: Role, site: str) -> str:
    """A user made by the admin over HTTP, logged in with POST /tokens; returns the user id."""
    email = f"{name}@example.org"
    body = {
        "email": email,
        "full_name": name.replace("_", " ").title(),
        "role": role.value,
        "password": PASSWORD,
        "site_ids": [str(api.registry.sites[site])],
    }
    with api.as_("admin") as admin:
        user: str = ok(admin.post("/api/v1/users", json=body), 201)["id"]
    with api.anonymous() as client:
        login = {"email": email, "password": PASSWORD, "label": "permission tests"}
        api.registry.tokens[name] = ok(client.post("/api/v1/tokens", json=login), 201)["token"]
    return user


def follow_up_records(api: Api, ids: dict[str, str]) -> list[str]:
    """An infused patient (day 0 on 2026-02-01) with a medication and an adverse event; returns
    the ids of visits no one records but the signing test."""
    patient, _, check = ready(api)
    with api.as_("nurse") as nurse:
        url = f"/api/v1/patients/{patient['id']}/infusions"
        ok(nurse.post(url, json=infusion_body(check, STARTED)), 201)
    with api.as_("physician") as physician:
        base = f"/api/v1/patients/{patient['id']}"
        visits = {v["code"]: v["id"] for v in many(physician.get(f"{base}/visits"))}
        ids["medication"] = ok(physician.post(f"{base}/medications", json=MEDICATION), 201)["id"]
        ids["event"] = ok(physician.post(f"{base}/adverse-events", json=EVENT), 201)["id"]
    ids["infused"], ids["visit"] = patient["id"], visits["month1"]
    return [visits[code] for code in ("month3", "month6", "month9", "month12")]


def product_records(api: Api, ids: dict[str, str]) -> None:
    """A donor, its harvest and a lot in quarantine that stays there."""
    lot = quarantined_lot(api)
    with api.as_("lab") as lab:
        harvest = ok(lab.get(f"/api/v1/harvests/{lot['harvest_id']}"))
    ids |= {"lot": lot["id"], "lot_code": lot["code"], "harvest": harvest["id"]}
    ids["donor"] = harvest["donor_id"]


def pathway_records(api: Api, ids: dict[str, str]) -> None:
    """A patient at each step before the infusion, and an enrolled one with an allocated lot and
    a matched bedside check."""
    ids["referred"] = register(api)["id"]
    screened = register(api)
    ids["screening"], ids["screened"] = screen(api, screened)["id"], screened["id"]
    eligible = register(api)
    decide(api, screen(api, eligible))
    ids["eligible"] = eligible["id"]
    enrolled = enrolled_patient(api)
    lot = quarantined_lot(api)
    release(api, lot)
    with api.as_("lab") as lab:
        url = f"/api/v1/lots/{lot['id']}/allocation"
        ok(lab.post(url, json={"patient_id": enrolled["id"]}))
    with api.as_("nurse") as nurse:
        url = f"/api/v1/patients/{enrolled['id']}/bedside-checks"
        ids["bedside_check"] = ok(nurse.post(url, json=bedside_body(enrolled, lot)), 201)["id"]
        consents = many(nurse.get(f"/api/v1/patients/{enrolled['id']}/consents"))
    ids |= {"enrolled": enrolled["id"], "enrolled_code": enrolled["study_code"]}
    ids |= {"allocated_lot_code": lot["code"], "consent": consents[0]["id"]}


@pytest.fixture(scope="module")
def world(api: Api) -> Iterator[World]:
    """Site-A01 records for every route, and site-B01 twins of the roles the seed lacks."""
    api = KeptApi(api.base_url, api.registry)
    for role in (Role.NURSE, Role.MONITOR, Role.STATISTICIAN):
        add_persona(api, OTHER_SITE[role], role, "B01")
    ids = {"user": add_persona(api, "qualification_subject", Role.NURSE, "A01")}
    pathway_records(api, ids)
    product_records(api, ids)
    unsigned = follow_up_records(api, ids)
    yield World(api, ids, iter(unsigned))
    api.close()


@pytest.fixture(scope="module")
def schema(api: Api) -> Json:
    with api.anonymous() as client:
        document: Json = ok(client.get("/openapi.json"))
    return document


def audit_head(api: Api) -> tuple[int, str] | None:
    with api.registry.database.sessions() as session:
        head = session.get(AuditHead, 1)
        return None if head is None else (head.seq, head.row_hash)


def send(api: Api, persona: str | None, route: Route, call: Call, token: str | None = None) -> Any:
    client = api.as_(persona) if persona else api.anonymous()
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return client.request(route.method, route.path(call), json=call.body, headers=headers)


def success(schema: Json, route: Route) -> int:
    """The route's documented 2xx status."""
    responses = schema["paths"][route.template][route.method.lower()]["responses"]
    (status,) = [int(code) for code in responses if code.startswith("2")]
    return status


def refused(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["status"] == status


# --- the catalogue is the app's route table ------------------------------------------------------


def test_the_catalogue_holds_every_registry_route_exactly_once(schema: Json) -> None:
    served = {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/") and not path.startswith(OUT_OF_SCOPE)
        for method in operations
        if method in METHODS
    }
    listed = [route.key for route in ROUTES]
    assert len(listed) == len(set(listed))
    assert set(listed) == served


READS_NOT_GET = {"POST /api/v1/exports", "DELETE /api/v1/exports/{export_id}"}
"""Reads that are not GETs: an export job is asked for with a POST (its options are a body)
and dropped with a DELETE. Neither changes a clinical record; a de-identified export may create
the patients' pseudonym keys (audited), as a de-identified read of /fhir does."""


def test_writes_are_refused_to_the_monitor_and_the_statistician() -> None:
    """DESIGN.md rules of the house: the monitor is read-only; so is the statistician."""
    for route in ROUTES:
        if route.method != "GET" and route.key not in READS_NOT_GET:
            assert not route.allowed & {Role.MONITOR, Role.STATISTICIAN}, route.key


# --- every route × every role ------------------------------------------------------------------

MATRIX = [
    pytest.param(route, role, id=f"{route.key} as {role.value}")
    for route in ROUTES
    for role in Role
]


@pytest.mark.parametrize(("route", "role"), MATRIX)
def test_each_role_is_allowed_or_refused(
    world: World, schema: Json, route: Route, role: Role
) -> None:
    allowed = role in route.allowed
    world.caller = PERSONA[role]
    call = route.build(world, allowed)
    before = audit_head(world.api)
    response = send(world.api, PERSONA[role], route, call)
    if allowed:
        assert response.status_code == success(schema, route), response.text
    else:
        refused(response, 403)
        assert audit_head(world.api) == before


# --- another site's staff ----------------------------------------------------------------------

EXPECTED = {Scope.PATH: 404, Scope.BODY_RECORD: 404, Scope.BODY_SITE: 403, Scope.LIST: 200}
OTHER_SITE_CASES = [
    pytest.param(route, role, id=f"{route.key} as {OTHER_SITE[role]}")
    for route in ROUTES
    if route.scope is not Scope.NONE
    for role in sorted(route.allowed - {Role.ADMIN})
]


@pytest.mark.parametrize(("route", "role"), OTHER_SITE_CASES)
def test_another_sites_staff_do_not_reach_site_a01(world: World, route: Route, role: Role) -> None:
    """A role allowed the route, at site B01: a site-A01 record is not found (404), a body naming
    site A01 is forbidden (403), a listing leaves site A01 out; nothing changes."""
    call = route.build(world, False)
    before = audit_head(world.api)
    response = send(world.api, OTHER_SITE[role], route, call)
    if route.scope is Scope.LIST:
        assert response.status_code == 200, response.text
        assert str(world.api.registry.sites["A01"]) not in response.text
    else:
        refused(response, EXPECTED[route.scope])
    assert audit_head(world.api) == before


# --- no token, or a wrong one ------------------------------------------------------------------

NO_TOKEN = [
    pytest.param(route, token, id=f"{route.key} {label}")
    for route in ROUTES
    for token, label in ((None, "without a token"), ("lmsc_not-a-real-token", "with a bad token"))
]


@pytest.mark.parametrize(("route", "token"), NO_TOKEN)
def test_a_request_without_a_valid_token_is_unauthenticated(
    world: World, route: Route, token: str | None
) -> None:
    call = route.build(world, False)
    before = audit_head(world.api)
    response = send(world.api, None, route, call, token=token)
    refused(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert audit_head(world.api) == before


# --- what a read shows ---------------------------------------------------------------------------

IDENTITY = ("given_name", "family_name", "date_of_birth", "medical_record_number", "diagnosis_date")


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_patients_come_deidentified_without_read_identity(world: World, role: Role) -> None:
    """The statistician and the lab read patients with every identity field null."""
    identified = role in may(Action.READ_IDENTITY)
    patient = world.ids["referred"]
    with world.api.as_(PERSONA[role]) as client:
        one = ok(client.get(f"/api/v1/patients/{patient}"))
        listed = many(client.get("/api/v1/patients", params={"limit": 500}))
    (same,) = [item for item in listed if item["id"] == patient]
    for shown in (one, same):
        assert shown["deidentified"] is not identified
        assert all((shown[key] is not None) is identified for key in IDENTITY), shown
