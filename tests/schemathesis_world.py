"""Real records and personas for the Schemathesis run (tests/web/test_schemathesis.py).

Generated requests name random UUIDs, which only ever reach a 404, and random bodies, which
rarely pass the pathway's rules. ``build_world`` makes records of every kind at site A01 over
HTTP (and a patient of site B01, whom site-A01 staff must not find); ``aim`` then points a
generated request at them some of the time, in one of two ways:

- the permission catalogue's valid request for the route (tests/permission_requests.py): its
  path parameters, and its body laid over the generated one (generated extras stay);
- or value by value: each path parameter, query parameter and top-level body field that names
  a record (``patient_id``, ``site_ids`` …) or a credential (``password``,
  ``second_checker_email`` …) takes a real value with even odds.

``persona_for`` picks who sends it: four times in five a persona whose role the catalogue
allows, otherwise anyone (a refused role, another site's staff, or no token at all).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from schemathesis.core.parameters import ParameterLocation

from tests.pathway_helpers import (
    decide,
    infuse,
    infusion_body,
    ok,
    quarantined_lot,
    register,
    release,
    screen,
)
from tests.permission_requests import EVENT, MEDICATION, PERSONA, ROUTES, STARTED, Route, ready
from tests.permission_requests import World as Catalogue
from tests.registry_fixtures import PASSWORD, PERSONAS, Api

Json = dict[str, Any]
ANONYMOUS = "anonymous"
EVERYONE = [*sorted(PERSONAS), ANONYMOUS]
CATALOGUE: dict[str, Route] = {route.key: route for route in ROUTES}
"""Each registry route with the roles it allows and a valid request (``"GET /api/v1/me"``)."""


@dataclass(repr=False)
class World:
    """Values worth sending, by the name of the parameter or body field that takes them, and
    the catalogue's records (its ``ids``) for whole valid requests."""

    values: dict[str, list[Any]]
    catalogue: Catalogue
    tokens: dict[str, str]

    def __repr__(self) -> str:
        return f"World({len(self.catalogue.ids)} records)"

    def headers(self, persona: str) -> dict[str, str]:
        if persona == ANONYMOUS:
            return {}
        return {"Authorization": f"Bearer {self.tokens[persona]}"}


@dataclass(repr=False)
class Tally:
    """Requests sent, by HTTP status, overall and per operation."""

    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)

    def record(self, operation: str, status: int) -> None:
        self.statuses[status] += 1
        self.by_operation.setdefault(operation, Counter())[status] += 1

    def __repr__(self) -> str:
        return f"Tally({self.sent} sent: {sorted(self.statuses.items())})"

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())


def _follow_up(api: Api) -> Json:
    """An infused patient (day 0 on 2026-02-01) with visits, a medication and an adverse event."""
    patient, lot, check = ready(api)
    infusion = ok(infuse(api, patient, infusion_body(check, STARTED)), 201)
    base = f"/api/v1/patients/{patient['id']}"
    with api.as_("physician") as client:
        visits = [visit["id"] for visit in ok(client.get(f"{base}/visits"))]
        medication = ok(client.post(f"{base}/medications", json=MEDICATION), 201)
        event = ok(client.post(f"{base}/adverse-events", json=EVENT), 201)
    return {
        "patient": patient,
        "lot": lot,
        "infusion": infusion["id"],
        "visits": visits[:4],
        "medication": medication["id"],
        "event": event["id"],
    }


def _catalogue_ids(api: Api) -> tuple[dict[str, str], Json]:
    """The records the catalogue's requests name, and the infused patient's follow-up."""
    screened = register(api)
    eligible = register(api)
    decide(api, screen(api, eligible))
    enrolled, allocated, check = ready(api)
    with api.as_("nurse") as client:
        consents = ok(client.get(f"/api/v1/patients/{enrolled['id']}/consents"))
    lot = quarantined_lot(api)
    with api.as_("lab") as client:
        donor = ok(client.get(f"/api/v1/harvests/{lot['harvest_id']}"))["donor_id"]
    infused = _follow_up(api)
    ids = {
        "user": str(api.registry.users["nurse"]),
        "referred": register(api)["id"],
        "screened": screened["id"],
        "screening": screen(api, screened)["id"],
        "eligible": eligible["id"],
        "enrolled": enrolled["id"],
        "enrolled_code": enrolled["study_code"],
        "allocated_lot_code": allocated["code"],
        "bedside_check": check["id"],
        "consent": consents[0]["id"],
        "lot": lot["id"],
        "lot_code": lot["code"],
        "harvest": lot["harvest_id"],
        "donor": donor,
        "infused": infused["patient"]["id"],
        "visit": infused["visits"][0],
        "medication": infused["medication"],
        "event": infused["event"],
    }
    return ids, infused


def build_world(api: Api) -> World:
    """Records of every kind at site A01 (and a patient of site B01)."""
    ids, infused = _catalogue_ids(api)
    released = quarantined_lot(api)
    release(api, released)
    elsewhere = register(api, "coordinator_b", "B01")
    patients = [ids[name] for name in ("referred", "screened", "eligible", "enrolled", "infused")]
    lots = [ids["lot"], released["id"], infused["lot"]["id"]]
    codes = [ids["lot_code"], released["code"], ids["allocated_lot_code"]]
    sites = [str(site) for site in api.registry.sites.values()]
    values: dict[str, list[Any]] = {
        "patient_id": [*patients, elsewhere["id"]],
        "screening_id": [ids["screening"]],
        "consent_id": [ids["consent"]],
        "lot_id": lots,
        "code": codes,
        "donor_id": [ids["donor"]],
        "harvest_id": [ids["harvest"]],
        "visit_id": infused["visits"],
        "medication_id": [ids["medication"]],
        "event_id": [ids["event"]],
        "infusion_id": [infused["infusion"]],
        "user_id": [str(api.registry.users[name]) for name in ("nurse", "monitor")],
        "site_id": sites,
        "site_ids": [[site] for site in sites],
        "bedside_check_ids": [[ids["bedside_check"]]],
        "scanned_patient_code": [ids["enrolled_code"], elsewhere["study_code"]],
        "scanned_lot_code": codes,
        "email": [f"{name}@example.org" for name in ("nurse", "physician")],
        "second_checker_email": ["nurse2@example.org"],
        "password": [PASSWORD],
        "second_checker_password": [PASSWORD],
    }
    catalogue = Catalogue(api, ids, iter(infused["visits"][1:]), itertools.count(1))
    return World(values, catalogue, dict(api.registry.tokens))


def persona_for(key: str, rng: random.Random) -> str:
    """Four times in five a persona allowed the route ``key``; otherwise anyone."""
    route = CATALOGUE.get(key)
    if route is None or rng.randrange(5) == 0:  # None: the public score routes and the login
        return rng.choice(EVERYONE)
    return rng.choice(sorted(PERSONA[role] for role in route.allowed))


def _by_value(world: World, case: Any, rng: random.Random) -> None:
    """Each parameter or top-level body field that takes a record or a credential gets a real
    one with even odds, in every part of the request generated valid (an invalid part stays as
    it is, so the server must still refuse it)."""
    parts = {
        ParameterLocation.PATH: case.path_parameters,
        ParameterLocation.QUERY: case.query,
        ParameterLocation.BODY: case.body if isinstance(case.body, dict) else None,
    }
    for location, container in parts.items():
        if case.meta is not None and case.meta.is_negative_at(location):
            continue
        for name in sorted(container or {}):
            choices = world.values.get(name)
            if choices and rng.random() < 0.5:
                container[name] = rng.choice(choices)


def aim(world: World, case: Any, rng: random.Random) -> None:
    """Point ``case`` at real records: one time in three (when the whole request was generated
    valid) the catalogue's valid request, otherwise value by value."""
    route = CATALOGUE.get(f"{case.method.upper()} {case.operation.path}")
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    if route is None or negative or rng.randrange(3):
        _by_value(world, case, rng)
        return
    call = route.build(world.catalogue, False)
    case.path_parameters.update(call.path)
    if call.body is not None:
        generated = case.body if isinstance(case.body, dict) else {}
        case.body = {**generated, **call.body}


def dice(case: Any) -> random.Random:
    """Randomness drawn from the generated case itself, so that Hypothesis replaying a case (to
    shrink or report it) makes the same choices, and the run is the same every time."""
    sent = [case.method, case.path, case.path_parameters, case.query, case.body]
    digest = hashlib.sha256(json.dumps(sent, sort_keys=True, default=_plain).encode()).digest()
    return random.Random(digest)  # noqa: S311 - test data, not secrets


def _plain(value: object) -> object:
    """Raw bytes as hex; no body at all (Schemathesis' NOT_SET) as null, not as its address."""
    return value.hex() if isinstance(value, bytes) else None
