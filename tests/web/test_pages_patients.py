"""The patient pages over real HTTP: roles (403), sites (404), CSRF on every POST, paging, and
the identity a role may not see."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lupus_msc.services import patients
from lupus_msc.services.access import Actor
from lupus_msc.store.models import PatientState, User
from tests import web_client
from tests.browser_fixtures import Site
from tests.pathway_helpers import move, register
from tests.registry_fixtures import Api


def signed_in(site: Site, persona: str) -> httpx.Client:
    """An httpx client with the persona's session cookie (signed in through the form)."""
    return web_client.signed_in(site.base_url, f"{persona}@example.org")


def csrf_of(client: httpx.Client) -> str:
    return web_client.csrf_of(client, "/account/password")


@pytest.fixture(scope="module")
def patient(site: Site) -> dict[str, Any]:
    return register(Api(site.base_url, site.registry))


def _new_patient_form(site: Site, **changes: str) -> dict[str, str]:
    return {
        "site_id": str(site.registry.sites["A01"]),
        "given_name": "Rosalind",
        "family_name": "Franklin",
        "date_of_birth": "1985-07-25",
        "sex": "female",
        "medical_record_number": "HTTP-1",
        **changes,
    }


def test_register_refuses_a_missing_csrf_token_and_roles_without_the_right(site: Site) -> None:
    coordinator = signed_in(site, "coordinator")
    forged = coordinator.post("/patients/new", data=_new_patient_form(site))
    assert forged.status_code == 403
    assert "security token" in forged.text
    monitor = signed_in(site, "monitor")
    assert monitor.get("/patients/new").status_code == 403
    refused = monitor.post(
        "/patients/new", data={**_new_patient_form(site), "csrf_token": csrf_of(monitor)}
    )
    assert refused.status_code == 403
    statistician = signed_in(site, "statistician")
    assert statistician.get("/patients/new").status_code == 403


def test_register_then_a_bad_form_says_which_field(site: Site) -> None:
    client = signed_in(site, "coordinator")
    token = csrf_of(client)
    made = client.post("/patients/new", data={**_new_patient_form(site), "csrf_token": token})
    assert made.status_code == 303
    assert made.headers["location"].startswith("/patients/")
    bad = client.post(
        "/patients/new",
        data={**_new_patient_form(site, date_of_birth="2999-01-01", medical_record_number="X-2")},
        headers={},
    )
    assert bad.status_code == 403  # no token: refused before anything is read
    bad = client.post(
        "/patients/new",
        data={
            **_new_patient_form(site, date_of_birth="2999-01-01", medical_record_number="X-2"),
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    assert 'id="date_of_birth-error"' in bad.text
    duplicate = client.post("/patients/new", data={**_new_patient_form(site), "csrf_token": token})
    assert duplicate.status_code == 409
    assert "already registered" in duplicate.text


def test_another_sites_patient_is_not_found_on_every_route(
    site: Site, patient: dict[str, Any]
) -> None:
    client = signed_in(site, "coordinator_b")
    token = csrf_of(client)
    pid = patient["id"]
    assert client.get(f"/patients/{pid}").status_code == 404
    assert client.get(f"/patients/{pid}/edit").status_code == 404
    edit = {"family_name": "Other", "reason": "typo", "csrf_token": token}
    assert client.post(f"/patients/{pid}/edit", data=edit).status_code == 404
    moved = {"to": "screening", "reason": "referral accepted", "csrf_token": token}
    assert client.post(f"/patients/{pid}/move", data=moved).status_code == 404
    listing = client.get("/patients", params={"q": patient["study_code"]})
    assert f'href="/patients/{pid}"' not in listing.text
    assert "No patient matches" in listing.text


def test_edit_and_move_need_the_token_and_the_role(site: Site, patient: dict[str, Any]) -> None:
    pid = patient["id"]
    coordinator = signed_in(site, "coordinator")
    no_token = coordinator.post(f"/patients/{pid}/move", data={"to": "screening", "reason": "x"})
    assert no_token.status_code == 403
    no_token = coordinator.post(f"/patients/{pid}/edit", data={"family_name": "X", "reason": "x"})
    assert no_token.status_code == 403
    monitor = signed_in(site, "monitor")
    token = csrf_of(monitor)
    assert monitor.get(f"/patients/{pid}/edit").status_code == 403
    edit = {"family_name": "Changed", "reason": "typo", "csrf_token": token}
    assert monitor.post(f"/patients/{pid}/edit", data=edit).status_code == 403
    moved = {"to": "screening", "reason": "referral accepted", "csrf_token": token}
    assert monitor.post(f"/patients/{pid}/move", data=moved).status_code == 403
    page = monitor.get(f"/patients/{pid}")
    assert page.status_code == 200
    assert "<form" not in page.text.split("<main", 1)[1]
    assert f"/patients/{pid}/edit" not in page.text


def test_an_illegal_move_is_refused_with_the_allowed_ones(
    site: Site, patient: dict[str, Any]
) -> None:
    client = signed_in(site, "coordinator")
    token = csrf_of(client)
    pid = patient["id"]
    refused = client.post(
        f"/patients/{pid}/move", data={"to": "completed", "reason": "skip", "csrf_token": token}
    )
    assert refused.status_code == 409
    assert "cannot go from referred to completed" in refused.text
    by_step = client.post(
        f"/patients/{pid}/move", data={"to": "eligible", "reason": "skip", "csrf_token": token}
    )
    assert by_step.status_code == 409
    assert "signing the screening decision" in by_step.text
    unreasoned = client.post(f"/patients/{pid}/move", data={"to": "screening", "csrf_token": token})
    assert unreasoned.status_code == 422


def test_a_correction_needs_a_reason_and_a_change(site: Site, patient: dict[str, Any]) -> None:
    client = signed_in(site, "coordinator")
    token = csrf_of(client)
    pid = patient["id"]
    form = client.get(f"/patients/{pid}/edit")
    assert 'value="Lovelace"' in form.text
    same = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1990-05-17",
        "sex": "female",
        "medical_record_number": patient["medical_record_number"],
        "diagnosis_date": "2015-03-01",
        "csrf_token": token,
    }
    unchanged = client.post(f"/patients/{pid}/edit", data={**same, "reason": "checked"})
    assert unchanged.status_code == 422 and "nothing was changed" in unchanged.text
    unreasoned = client.post(f"/patients/{pid}/edit", data={**same, "given_name": "Augusta"})
    assert unreasoned.status_code == 422 and 'id="reason-error"' in unreasoned.text
    done = client.post(
        f"/patients/{pid}/edit", data={**same, "given_name": "Augusta", "reason": "chart says so"}
    )
    assert done.status_code == 303


def test_the_statistician_and_the_lab_see_no_identity(site: Site, patient: dict[str, Any]) -> None:
    for persona in ("statistician", "lab"):
        client = signed_in(site, persona)
        listing = client.get("/patients", params={"q": "Lovelace"})
        assert listing.status_code == 200
        assert "No patient matches" in listing.text  # a name is not even searchable
        listing = client.get("/patients")
        assert patient["study_code"] in listing.text
        assert "Lovelace" not in listing.text and "Augusta" not in listing.text
        page = client.get(f"/patients/{patient['id']}")
        assert page.status_code == 200
        assert "Lovelace" not in page.text and patient["medical_record_number"] not in page.text
        assert "1990" in page.text  # the birth year only


def test_the_list_pages_and_keeps_its_filters(site: Site) -> None:
    api = Api(site.base_url, site.registry)
    for _ in range(52):
        register(api, "coordinator_b", site="B01")
    one = register(api, "coordinator_b", site="B01")
    move(api, one, "screening", persona="coordinator_b")
    client = signed_in(site, "coordinator_b")
    first = client.get("/patients", params={"state": "referred"})
    assert first.text.count('href="/patients/') >= 50
    assert "Next page" in first.text and "state=referred" in first.text
    second = client.get("/patients", params={"state": "referred", "page": "2"})
    assert "Previous page" in second.text and "Next page" not in second.text
    assert one["study_code"] not in first.text + second.text
    screening = client.get("/patients", params={"state": "screening"})
    assert one["study_code"] in screening.text
    by_code = client.get("/patients", params={"q": one["study_code"].lower()})
    assert one["study_code"] in by_code.text
    nonsense = client.get("/patients", params={"site": "x", "state": "y", "page": "-3"})
    assert nonsense.status_code == 200


def test_the_listing_searches_and_filters_on_every_backend(api: Api) -> None:
    """The service behind the list, on SQLite and PostgreSQL (their prefix searches differ)."""
    made = [register(api) for _ in range(3)]
    move(api, made[0], "screening")
    database = api.registry.database
    with database.sessions() as session:
        user = session.get(User, api.registry.users["coordinator"])
        other = session.get(User, api.registry.users["coordinator_b"])
        statistician = session.get(User, api.registry.users["statistician"])
        assert user is not None and other is not None and statistician is not None
        actor, actor_b, anonymous = Actor.of(user), Actor.of(other), Actor.of(statistician)

    def codes(who: Actor, **filters: Any) -> list[str]:
        with database.sessions() as session:
            found = patients.listing(session, who, site_id=None, limit=50, offset=0, **filters)
            return [patient.study_code for patient in found]

    everyone = codes(actor)
    assert everyone == sorted(everyone) and {p["study_code"] for p in made} <= set(everyone)
    assert codes(actor, search=made[1]["study_code"].lower()) == [made[1]["study_code"]]
    assert made[2]["study_code"] in codes(actor, search="lovel")
    assert codes(actor, search=made[2]["medical_record_number"]) == [made[2]["study_code"]]
    assert codes(anonymous, search="lovel") == []
    assert made[0]["study_code"] in codes(actor, state=PatientState.SCREENING)
    assert made[1]["study_code"] not in codes(actor, state=PatientState.SCREENING)
    assert codes(actor_b, search="A01-") == [] and codes(actor_b) == codes(actor_b, search="B01")
    with database.sessions() as session:
        elsewhere = patients.listing(
            session, actor, site_id=api.registry.sites["B01"], limit=50, offset=0
        )
    assert elsewhere == []
