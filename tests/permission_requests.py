"""The catalogue of valid requests behind the permission test (issue 5: every route × every role).

Each registry route under ``/api/v1`` says which roles may call it, derived from the role → action
table (``services.access.PERMISSIONS``) through the action its service requires, so the table and
the test cannot drift; the few routes that are not one action say so in words. Each route also
builds a request that passes validation and names real records of site A01 (a ``World`` built
once per test module over HTTP). A write that can succeed only once (a release, an infusion, a
signature …) gets a fresh record whenever the caller is allowed, so every allowed role succeeds.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from lupus_msc.protocol import default_protocol_text
from lupus_msc.services.access import PERMISSIONS, Action
from lupus_msc.store.models import Role
from tests.pathway_helpers import (
    consent,
    decide,
    enrolled_patient,
    infusion_body,
    ok,
    patient_body,
    quarantined_lot,
    register,
    release,
    screen,
    screening_body,
    thawed_lot_for,
)
from tests.registry_fixtures import PASSWORD, Api

Json = dict[str, Any]
A = Action

THAWED = "2026-02-01T10:00:00+00:00"
CHECKED = "2026-02-01T10:20:00+00:00"
STARTED = "2026-02-01T10:30:00+00:00"
"""The infusion chain's clock (as in test_api_infusions): day 0 of the follow-up is 2026-02-01."""

PERSONA: dict[Role, str] = {role: role.value for role in Role}
"""The site-A01 persona of each role (tests/registry_fixtures.py names them after the role)."""
OTHER_SITE: dict[Role, str] = {role: f"{role.value}_b" for role in Role if role is not Role.ADMIN}
"""The site-B01 twin of each role but admin (admins see every site). registry_fixtures seeds
coordinator_b, physician_b and lab_b; the ``world`` fixture adds nurse_b, monitor_b and
statistician_b over HTTP."""
EVERY_ROLE = frozenset(Role)


def may(action: Action) -> frozenset[Role]:
    """The roles whose row of the access table holds ``action``."""
    return frozenset(role for role, actions in PERMISSIONS.items() if action in actions)


class Scope(Enum):
    """How a route meets another site, and what that site's staff get."""

    NONE = "not site-bound (the caller's own account, protocols, users, the whole trail)"
    LIST = "a listing: 200 without site A01's records"
    PATH = "a record of site A01 in the path: 404"
    BODY_RECORD = "a record of site A01 in the body: 404"
    BODY_SITE = "site A01 named in the body: 403 (not a member of this site)"


@dataclass
class World:
    """Records of site A01 the requests point at, built once per module by the ``world`` fixture
    of tests/web/test_permissions.py. ``ids`` by name: a patient ``referred``; one ``screened``
    with an undecided ``screening``; one ``eligible``; one ``enrolled`` (``enrolled_code``) with
    its ``consent``, an ``allocated_lot_code`` and a matched ``bedside_check``; one ``infused``
    (day 0 on 2026-02-01) with a ``visit`` (month 1), a ``medication`` and an ``event``; a
    ``donor``, its ``harvest`` and a ``lot`` (``lot_code``) kept in quarantine; a ``user`` to
    qualify. A refused caller's request names these records: the 403 comes before any rule.
    ``caller`` is the persona about to send the request, for records that are their owner's
    alone (an export job)."""

    api: Api
    ids: dict[str, str]
    unsigned_visits: Iterator[str]
    serials: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    caller: str | None = None

    def unique(self) -> str:
        return f"{next(self.serials)}{uuid.uuid4().hex[:4]}".upper()


@dataclass(frozen=True)
class Call:
    """Path parameters and JSON body of one request."""

    path: dict[str, str]
    body: Json | None = None


Build = Callable[[World, bool], Call]
"""Builds the request; the flag says the caller is allowed (a one-shot write needs a fresh one)."""


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    allowed: frozenset[Role]
    scope: Scope
    build: Build

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    def path(self, call: Call) -> str:
        return self.template.format(**call.path)


def at(body: Json | None = None, **names: str) -> Build:
    """A request on existing world records: path parameter → world id name, and a fixed body."""
    return lambda world, _: Call({key: world.ids[name] for key, name in names.items()}, body)


# --- bodies ------------------------------------------------------------------------------------

CONSENT = {"form_version": "2.1", "signed_on": "2026-01-12", "signer_name": "Ada Lovelace"}
MEDICATION = {
    "drug": "prednisone",
    "dose": 7.5,
    "unit": "mg",
    "frequency": "once-daily",
    "route": "oral",
    "started_on": "2025-10-01",
}
EVENT = {
    "term": "Infusion related reaction",
    "grade": 1,
    "onset_on": "2026-02-01",
    "relatedness": "probable",
    "expected": True,
    "action": "infusion-slowed",
    "outcome": "recovering",
}
REASON = "checked against the source document"


EXPORT = {"format": "csv", "sites": ["A01"]}
"""A de-identified CSV export of site A01 (the API's default form, so every role may ask)."""


# --- fresh records for one-shot writes ---------------------------------------------------------


def _transition(world: World, allowed: bool) -> Call:
    patient = register(world.api)["id"] if allowed else world.ids["referred"]
    return Call({"patient_id": patient}, {"to": "screening", "reason": "referral accepted"})


def _decision(world: World, allowed: bool) -> Call:
    screening = screen(world.api, register(world.api))["id"] if allowed else world.ids["screening"]
    return Call({"screening_id": screening}, {"decision": "eligible", "password": PASSWORD})


def _eligible(world: World) -> Json:
    patient = register(world.api)
    decide(world.api, screen(world.api, patient))
    return patient


def _consent(world: World, allowed: bool) -> Call:
    patient = _eligible(world)["id"] if allowed else world.ids["eligible"]
    return Call({"patient_id": patient}, CONSENT)


def _withdrawal(world: World, allowed: bool) -> Call:
    given = consent(world.api, _eligible(world))["id"] if allowed else world.ids["consent"]
    return Call({"consent_id": given}, {"withdrawn_on": "2026-01-20", "reason": "changed her mind"})


def _finished_export(world: World, persona: str) -> str:
    """A finished export of ``persona``'s (once their earlier jobs leave room for it: a user
    may have only so many pending, and the Schemathesis run queues many)."""
    deadline = time.monotonic() + 120
    with world.api.as_(persona) as client:
        started = client.post("/api/v1/exports", json=EXPORT)
        while started.status_code == 409 and time.monotonic() < deadline:
            time.sleep(0.2)
            started = client.post("/api/v1/exports", json=EXPORT)
        job = ok(started, 202)
        while job["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
            job = ok(client.get(f"/api/v1/exports/{job['id']}"))
    assert job["state"] == "done", job
    return str(job["id"])


def _export(world: World, allowed: bool) -> Call:
    """An allowed caller's own finished export (jobs are their owner's alone; a fresh one, so a
    delete can succeed each time); otherwise one of site A01's coordinator."""
    if allowed:
        return Call({"export_id": _finished_export(world, world.caller or "coordinator")})
    if "export" not in world.ids:
        world.ids["export"] = _finished_export(world, "coordinator")
    return Call({"export_id": world.ids["export"]})


def _export_file(world: World, allowed: bool) -> Call:
    call = _export(world, allowed)
    return Call(call.path | {"name": "dataset.json"})


def bedside_body(patient: Json, lot: Json) -> Json:
    return {
        "scanned_patient_code": patient["study_code"],
        "scanned_lot_code": lot["code"],
        "second_checker_email": "nurse2@example.org",
        "second_checker_password": PASSWORD,
        "checked_at": CHECKED,
    }


def ready(api: Api) -> tuple[Json, Json, Json]:
    """An enrolled patient, a thawed lot allocated to them and a matched bedside check."""
    patient = enrolled_patient(api)
    lot = thawed_lot_for(api, patient, THAWED)
    with api.as_("nurse") as client:
        url = f"/api/v1/patients/{patient['id']}/bedside-checks"
        check = ok(client.post(url, json=bedside_body(patient, lot)), 201)
    return patient, lot, check


def _infusion(world: World, allowed: bool) -> Call:
    if allowed:
        patient, _, check = ready(world.api)
        return Call({"patient_id": patient["id"]}, infusion_body(check, STARTED))
    check = {"id": world.ids["bedside_check"]}
    return Call({"patient_id": world.ids["enrolled"]}, infusion_body(check, STARTED))


def _release(world: World, allowed: bool) -> Call:
    lot = quarantined_lot(world.api)["id"] if allowed else world.ids["lot"]
    body = {"decision": "reject", "password": PASSWORD, "meaning": "Rejected for clinical use"}
    return Call({"lot_id": lot}, body)


def _allocation(world: World, allowed: bool) -> Call:
    if allowed:
        lot = quarantined_lot(world.api)
        release(world.api, lot)
        return Call({"lot_id": lot["id"]}, {"patient_id": world.ids["enrolled"]})
    return Call({"lot_id": world.ids["lot"]}, {"patient_id": world.ids["enrolled"]})


def _signature(world: World, allowed: bool) -> Call:
    visit = next(world.unsigned_visits) if allowed else world.ids["visit"]
    if allowed:
        with world.api.as_("coordinator") as client:
            ok(client.put(f"/api/v1/visits/{visit}", json={"visit_date": "2026-06-01"}))
    return Call({"visit_id": visit}, {"password": PASSWORD})


def _site(world: World, allowed: bool) -> Call:
    return Call({}, {"code": f"Z{world.unique()[:5]}", "name": "Permission test site"})


def _user(world: World, allowed: bool) -> Call:
    body = {
        "email": f"perm-{world.unique().lower()}@example.org",
        "full_name": "Permission Test",
        "role": "monitor",
        "password": PASSWORD,
        "site_ids": [str(world.api.registry.sites["A01"])],
    }
    return Call({}, body)


def _protocol(world: World, allowed: bool) -> Call:
    """The default protocol under a new version number (same rules: later patients unaffected)."""
    text = default_protocol_text()
    assert 'version: "1.0.0"' in text  # the replacement below must take
    version = f'version: "9.{next(world.serials)}.{uuid.uuid4().int % 1000}"'
    return Call({}, {"source_yaml": text.replace('version: "1.0.0"', version, 1)})


def _patient(world: World, allowed: bool) -> Call:
    return Call({}, patient_body(world.api))


def _bedside_check(world: World, allowed: bool) -> Call:
    body = bedside_body(
        {"study_code": world.ids["enrolled_code"]}, {"code": world.ids["allocated_lot_code"]}
    )
    return Call({"patient_id": world.ids["enrolled"]}, body)


def _donor(world: World, allowed: bool) -> Call:
    tests = {name: "negative" for name in ("hiv_1_2", "hbv", "hcv", "syphilis", "htlv")}
    body = {
        "site_id": str(world.api.registry.sites["A01"]),
        "kind": "allogeneic",
        "tissue_source": "umbilical-cord",
        "eligibility_tests": tests,
    }
    return Call({}, body)


LOT = {
    "passage": 3,
    "total_cells": 100_000_000,
    "viable_cells_per_ml": 5_000_000,
    "viability_pct": 92,
    "volume_ml": 20,
    "cryopreserved_on": "2025-07-01",
    "expires_on": "2030-01-01",
    "storage_location": "LN2 tank 2, rack 4",
}


def _lot(world: World, allowed: bool) -> Call:
    return Call({}, {"harvest_id": world.ids["harvest"], **LOT})


PATIENTS, DONORS, LOTS = "/api/v1/patients", "/api/v1/donors", "/api/v1/lots"
PATIENT, LOT_PATH = f"{PATIENTS}/{{patient_id}}", f"{LOTS}/{{lot_id}}"

ROUTES: tuple[Route, ...] = (
    # accounts: the caller's own (every role) or administration (admin)
    Route("GET", "/api/v1/me", EVERY_ROLE, Scope.NONE, at()),
    Route("GET", "/api/v1/sites", EVERY_ROLE, Scope.LIST, at()),
    Route("POST", "/api/v1/sites", may(A.MANAGE_SITES), Scope.NONE, _site),
    Route("GET", "/api/v1/users", may(A.MANAGE_USERS), Scope.NONE, at()),
    Route("POST", "/api/v1/users", may(A.MANAGE_USERS), Scope.NONE, _user),
    Route(
        "POST",
        "/api/v1/users/{user_id}/qualifications",
        may(A.MANAGE_USERS),
        Scope.NONE,  # users are not site-bound; only admins (every site) may call it
        at(
            {"kind": "infusion", "granted_on": "2026-01-01", "expires_on": "2027-01-01"},
            user_id="user",
        ),
    ),
    Route("GET", "/api/v1/protocols", EVERY_ROLE, Scope.NONE, at()),
    Route("POST", "/api/v1/protocols", may(A.MANAGE_PROTOCOLS), Scope.NONE, _protocol),
    # patients
    Route("GET", PATIENTS, may(A.READ_PATIENTS), Scope.LIST, at()),
    Route("POST", PATIENTS, may(A.REGISTER_PATIENT), Scope.BODY_SITE, _patient),
    Route("GET", PATIENT, may(A.READ_PATIENTS), Scope.PATH, at(patient_id="referred")),
    Route(
        "PATCH",
        PATIENT,
        may(A.EDIT_PATIENT),
        Scope.PATH,
        at({"given_name": "Ada", "reason": REASON}, patient_id="referred"),
    ),
    Route("POST", f"{PATIENT}/transitions", may(A.EDIT_PATIENT), Scope.PATH, _transition),
    # screening, consent, bedside check, infusion
    Route(
        "POST",
        f"{PATIENT}/screenings",
        may(A.RECORD_SCREENING),
        Scope.PATH,
        at(screening_body(), patient_id="screened"),
    ),
    Route(
        "GET", f"{PATIENT}/screenings", may(A.READ_IDENTITY), Scope.PATH, at(patient_id="screened")
    ),
    Route(
        "POST",
        "/api/v1/screenings/{screening_id}/decision",
        may(A.SIGN_ELIGIBILITY),
        Scope.PATH,
        _decision,
    ),
    Route("POST", f"{PATIENT}/consents", may(A.RECORD_CONSENT), Scope.PATH, _consent),
    Route(
        "GET", f"{PATIENT}/consents", may(A.READ_IDENTITY), Scope.PATH, at(patient_id="enrolled")
    ),
    Route(
        "POST",
        "/api/v1/consents/{consent_id}/withdrawal",
        may(A.RECORD_CONSENT),
        Scope.PATH,
        _withdrawal,
    ),
    Route("POST", f"{PATIENT}/bedside-checks", may(A.CHECK_AT_BEDSIDE), Scope.PATH, _bedside_check),
    Route("POST", f"{PATIENT}/infusions", may(A.RECORD_INFUSION), Scope.PATH, _infusion),
    Route(
        "GET", f"{PATIENT}/infusions", may(A.READ_PATIENTS), Scope.PATH, at(patient_id="infused")
    ),
    # the cell product
    Route("GET", DONORS, may(A.READ_PRODUCTS), Scope.LIST, at()),
    Route("POST", DONORS, may(A.WRITE_PRODUCTS), Scope.BODY_SITE, _donor),
    Route("GET", f"{DONORS}/{{donor_id}}", may(A.READ_PRODUCTS), Scope.PATH, at(donor_id="donor")),
    Route(
        "POST",
        f"{DONORS}/{{donor_id}}/eligibility-tests",
        may(A.WRITE_PRODUCTS),
        Scope.PATH,
        at({"eligibility_tests": {"cmv": "negative"}}, donor_id="donor"),
    ),
    Route(
        "GET",
        f"{DONORS}/{{donor_id}}/harvests",
        may(A.READ_PRODUCTS),
        Scope.PATH,
        at(donor_id="donor"),
    ),
    Route(
        "POST",
        f"{DONORS}/{{donor_id}}/harvests",
        may(A.WRITE_PRODUCTS),
        Scope.PATH,
        at({"collected_on": "2025-06-01", "amount": 30, "amount_unit": "g"}, donor_id="donor"),
    ),
    Route(
        "GET",
        "/api/v1/harvests/{harvest_id}",
        may(A.READ_PRODUCTS),
        Scope.PATH,
        at(harvest_id="harvest"),
    ),
    Route("GET", LOTS, may(A.READ_PRODUCTS), Scope.LIST, at()),
    Route("POST", LOTS, may(A.WRITE_PRODUCTS), Scope.BODY_RECORD, _lot),
    Route("GET", f"{LOTS}/by-code/{{code}}", may(A.READ_PRODUCTS), Scope.PATH, at(code="lot_code")),
    Route("GET", LOT_PATH, may(A.READ_PRODUCTS), Scope.PATH, at(lot_id="lot")),
    Route("GET", f"{LOT_PATH}/release-tests", may(A.READ_PRODUCTS), Scope.PATH, at(lot_id="lot")),
    Route(
        "POST",
        f"{LOT_PATH}/release-tests",
        may(A.WRITE_PRODUCTS),
        Scope.PATH,
        at(
            {"name": "viability_pct", "value": 92, "tested_on": "2025-07-10", "reason": REASON},
            lot_id="lot",
        ),
    ),
    Route(
        "GET", f"{LOT_PATH}/release-evaluation", may(A.READ_PRODUCTS), Scope.PATH, at(lot_id="lot")
    ),
    Route(
        "GET", f"{LOT_PATH}/release-decisions", may(A.READ_PRODUCTS), Scope.PATH, at(lot_id="lot")
    ),
    Route("POST", f"{LOT_PATH}/release", may(A.RELEASE_LOT), Scope.PATH, _release),
    Route("POST", f"{LOT_PATH}/allocation", may(A.WRITE_PRODUCTS), Scope.PATH, _allocation),
    Route("GET", f"{LOT_PATH}/custody", may(A.READ_PRODUCTS), Scope.PATH, at(lot_id="lot")),
    Route(
        "POST",
        f"{LOT_PATH}/custody",
        may(A.WRITE_PRODUCTS),
        Scope.PATH,
        at(
            {"kind": "moved", "at": "2026-01-05T09:00:00+00:00", "location": "LN2 tank 3"},
            lot_id="lot",
        ),
    ),
    # follow-up: visits, medications, adverse events (identified clinical records)
    Route("GET", f"{PATIENT}/visits", may(A.READ_IDENTITY), Scope.PATH, at(patient_id="infused")),
    Route(
        "GET", "/api/v1/visits/{visit_id}", may(A.READ_IDENTITY), Scope.PATH, at(visit_id="visit")
    ),
    Route(
        "PUT",
        "/api/v1/visits/{visit_id}",
        may(A.RECORD_VISIT),
        Scope.PATH,
        at({"visit_date": "2026-03-01"}, visit_id="visit"),
    ),
    Route("POST", "/api/v1/visits/{visit_id}/sign", may(A.SIGN_VISIT), Scope.PATH, _signature),
    Route(
        "GET", f"{PATIENT}/medications", may(A.READ_IDENTITY), Scope.PATH, at(patient_id="infused")
    ),
    Route(
        "POST",
        f"{PATIENT}/medications",
        may(A.RECORD_MEDICATION),
        Scope.PATH,
        at(MEDICATION, patient_id="infused"),
    ),
    Route(
        "GET",
        "/api/v1/medications/{medication_id}",
        may(A.READ_IDENTITY),
        Scope.PATH,
        at(medication_id="medication"),
    ),
    Route(
        "PATCH",
        "/api/v1/medications/{medication_id}",
        may(A.RECORD_MEDICATION),
        Scope.PATH,
        at({"dose": 5, "reason": "tapered"}, medication_id="medication"),
    ),
    Route(
        "GET",
        f"{PATIENT}/adverse-events",
        may(A.READ_IDENTITY),
        Scope.PATH,
        at(patient_id="infused"),
    ),
    Route(
        "POST",
        f"{PATIENT}/adverse-events",
        may(A.RECORD_ADVERSE_EVENT),
        Scope.PATH,
        at(EVENT, patient_id="infused"),
    ),
    Route(
        "GET",
        "/api/v1/adverse-events/{event_id}",
        may(A.READ_IDENTITY),
        Scope.PATH,
        at(event_id="event"),
    ),
    Route(
        "PATCH",
        "/api/v1/adverse-events/{event_id}",
        may(A.RECORD_ADVERSE_EVENT),
        Scope.PATH,
        at({"grade": 2, "reason": "re-assessed"}, event_id="event"),
    ),
    # the audit trail: the whole of it spans every site, so it is for admins alone (a monitor
    # holds read-audit but reads it patient by patient); the chain check is read-audit
    Route("GET", "/api/v1/audit", may(A.READ_AUDIT) & {Role.ADMIN}, Scope.NONE, at()),
    Route("GET", "/api/v1/audit/verify", may(A.READ_AUDIT), Scope.NONE, at()),
    Route("GET", f"{PATIENT}/audit", may(A.READ_AUDIT), Scope.PATH, at(patient_id="infused")),
    # exports: every role reads patients, de-identified at least; a job is its owner's alone,
    # so another site's staff (like any other user) do not find it
    Route("POST", "/api/v1/exports", may(A.READ_PATIENTS), Scope.BODY_SITE, at(EXPORT)),
    Route("GET", "/api/v1/exports", may(A.READ_PATIENTS), Scope.NONE, at()),
    Route("GET", "/api/v1/exports/{export_id}", may(A.READ_PATIENTS), Scope.PATH, _export),
    Route(
        "GET",
        "/api/v1/exports/{export_id}/files/{name}",
        may(A.READ_PATIENTS),
        Scope.PATH,
        _export_file,
    ),
    Route("DELETE", "/api/v1/exports/{export_id}", may(A.READ_PATIENTS), Scope.PATH, _export),
)
"""Every registry route but ``POST /api/v1/tokens`` (anonymous: it is how a token is obtained)."""
