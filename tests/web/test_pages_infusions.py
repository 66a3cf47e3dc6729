"""The infusion pages over HTTP: every route refuses a role without the action (403), another
site's patient or infusion is not found (404), a form without its CSRF token is refused (403),
and none of these refusals writes anything."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from contextlib import closing
from typing import Any

import httpx
import pytest

from tests import web_client
from tests.browser_fixtures import Site
from tests.pathway_helpers import (
    allocate,
    bedside_check,
    custody,
    enrolled_patient,
    infuse,
    infusion_body,
    ok,
    quarantined_lot,
    release,
)
from tests.registry_fixtures import PASSWORD, Api

Json = dict[str, Any]


def listed(response: Any) -> list[Any]:
    """The JSON list of a successful GET."""
    assert response.status_code == 200, response.text
    body: list[Any] = response.json()
    return body


def _ago(minutes: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).isoformat()


def signed_in(site: Site, persona: str) -> closing[httpx.Client]:
    """A client with ``persona``'s session cookie, signed in through the sign-in form."""
    return closing(web_client.signed_in(site.base_url, f"{persona}@example.org"))


def csrf_of(client: httpx.Client) -> str:
    return web_client.csrf_of(client, "/account/password")


@pytest.fixture(scope="module")
def world(site: Site) -> Json:
    """A patient with a thawed lot (and a second, already infused, patient with its infusion)."""
    api = Api(site.base_url, site.registry)
    patient = enrolled_patient(api)
    lot = quarantined_lot(api)
    release(api, lot)
    allocate(api, lot, patient)
    custody(api, lot, "shipped", _ago(40), "ward")
    custody(api, lot, "thawed", _ago(30), "ward")
    infused = enrolled_patient(api)
    used = quarantined_lot(api)
    release(api, used)
    allocate(api, used, infused)
    custody(api, used, "shipped", _ago(40), "ward")
    custody(api, used, "thawed", _ago(30), "ward")
    check = ok(bedside_check(api, infused, used, _ago(20)), 201)
    infusion = ok(infuse(api, infused, infusion_body(check, _ago(10))), 201)
    return {"api": api, "patient": patient, "lot": lot, "infusion": infusion}


def check_form(world: Json, csrf: str | None) -> Json:
    form = {
        "scanned_patient_code": world["patient"]["study_code"],
        "scanned_lot_code": world["lot"]["code"],
        "second_checker_email": "nurse2@example.org",
        "second_checker_password": PASSWORD,
    }
    return form if csrf is None else {**form, "csrf_token": csrf}


def checks_on_file(world: Json) -> int:
    with world["api"].as_("monitor") as client:
        trail = listed(client.get(f"/api/v1/patients/{world['patient']['id']}/audit"))
    return sum(1 for event in trail if event["entity"] == "bedside_checks")


def test_signed_out_visitors_are_sent_to_sign_in(site: Site, world: Json) -> None:
    path = f"/patients/{world['patient']['id']}/infusions/new"
    answer = httpx.get(f"{site.base_url}{path}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("persona", ["nurse", "physician"])
def test_nurses_and_physicians_see_the_check_form_and_the_monitor_none(
    site: Site, world: Json, persona: str
) -> None:
    path = f"/patients/{world['patient']['id']}/infusions/new"
    with signed_in(site, persona) as nurse, signed_in(site, "monitor") as monitor:
        shown = nurse.get(path)
        read_only = monitor.get(path)
    assert shown.status_code == 200 and 'action="' + path.replace("new", "check") in shown.text
    assert read_only.status_code == 200 and world["lot"]["code"] in read_only.text
    assert "<form" not in read_only.text.split('<main id="main"')[1]


@pytest.mark.parametrize("persona", ["monitor", "coordinator", "statistician"])
@pytest.mark.parametrize("route", ["check", "preview", ""])
def test_roles_without_the_action_get_403_on_every_post(
    site: Site, world: Json, persona: str, route: str
) -> None:
    path = f"/patients/{world['patient']['id']}/infusions" + (f"/{route}" if route else "")
    before = checks_on_file(world)
    with signed_in(site, persona) as client:
        answer = client.post(path, data=check_form(world, csrf_of(client)))
    assert answer.status_code == 403, answer.text
    assert checks_on_file(world) == before


def test_a_post_without_its_csrf_token_is_refused(site: Site, world: Json) -> None:
    before = checks_on_file(world)
    with signed_in(site, "nurse") as client:
        path = f"/patients/{world['patient']['id']}/infusions/check"
        missing = client.post(path, data=check_form(world, None))
        forged = client.post(path, data=check_form(world, "forged"))
    assert (missing.status_code, forged.status_code) == (403, 403)
    assert "security token" in missing.text
    assert checks_on_file(world) == before


def test_another_sites_patient_and_infusion_are_not_found(site: Site, world: Json) -> None:
    pid = world["patient"]["id"]
    with signed_in(site, "physician_b") as client:
        csrf = csrf_of(client)
        page = client.get(f"/patients/{pid}/infusions/new")
        infusion = client.get(f"/infusions/{world['infusion']['id']}")
        check = client.post(f"/patients/{pid}/infusions/check", data=check_form(world, csrf))
    assert (page.status_code, infusion.status_code, check.status_code) == (404, 404, 404)


def test_an_unknown_patient_or_infusion_is_not_found(site: Site, world: Json) -> None:
    with signed_in(site, "nurse") as client:
        assert client.get(f"/patients/{uuid.uuid4()}/infusions/new").status_code == 404
        assert client.get(f"/infusions/{uuid.uuid4()}").status_code == 404
        assert client.get("/infusions/not-a-uuid").status_code == 404


def test_the_infusion_page_shows_the_reaction_link_only_to_roles_that_record_events(
    site: Site, world: Json
) -> None:
    path = f"/infusions/{world['infusion']['id']}"
    link = f"adverse-events/new?infusion_id={world['infusion']['id']}"
    with signed_in(site, "nurse") as nurse, signed_in(site, "monitor") as monitor:
        assert link in nurse.get(path).text
        shown = monitor.get(path)
    assert shown.status_code == 200 and link not in shown.text
    assert "Nurse2" in shown.text


def test_a_mismatch_answers_409_with_the_stop_message_and_is_kept(site: Site, world: Json) -> None:
    before = checks_on_file(world)
    with signed_in(site, "nurse") as client:
        form = {**check_form(world, csrf_of(client)), "scanned_patient_code": "A01-9999"}
        answer = client.post(f"/patients/{world['patient']['id']}/infusions/check", data=form)
    assert answer.status_code == 409
    assert 'class="stop" role="alert"' in answer.text and "A01-9999" in answer.text
    assert 'id="infusion-form"' not in answer.text
    assert checks_on_file(world) == before + 1


def test_text_that_is_not_a_number_is_refused_next_to_its_field(site: Site, world: Json) -> None:
    check = ok(bedside_check(world["api"], world["patient"], world["lot"], _ago(1)), 201)
    with signed_in(site, "nurse") as client:
        form = {
            "csrf_token": csrf_of(client),
            "bedside_check_ids": check["id"],
            "weight_kg": "sixty",
            "actual_cells": "60000000",
            "actual_volume_ml": "12",
            "vitals_before.systolic_mmhg": "118.5",
            "vitals_before.diastolic_mmhg": "76",
            "vitals_before.heart_rate_bpm": "72",
            "vitals_before.temperature_c": "36.8",
        }
        answer = client.post(f"/patients/{world['patient']['id']}/infusions", data=form)
    assert answer.status_code == 422
    weight = re.search(r'id="weight_kg-error">([^<]*)<', answer.text)
    systolic = re.search(r'id="vitals_before.systolic_mmhg-error">([^<]*)<', answer.text)
    assert weight is not None and weight.group(1) == "must be a number"
    assert systolic is not None and systolic.group(1) == "must be a whole number"
    assert 'value="sixty"' in answer.text
    with world["api"].as_("monitor") as client:
        assert listed(client.get(f"/api/v1/patients/{world['patient']['id']}/infusions")) == []


@pytest.mark.parametrize(
    ("changes", "status", "field", "text"),
    [
        ({"second_checker_password": "wrong"}, 422, "second_checker_password", "is wrong"),
        ({"second_checker_email": "nurse@example.org"}, 409, "second_checker_email", "different"),
    ],
)
def test_the_second_checker_is_refused_next_to_the_field(
    site: Site, world: Json, changes: dict[str, str], status: int, field: str, text: str
) -> None:
    before = checks_on_file(world)
    with signed_in(site, "nurse") as client:
        form = {**check_form(world, csrf_of(client)), **changes}
        answer = client.post(f"/patients/{world['patient']['id']}/infusions/check", data=form)
    assert answer.status_code == status
    shown = re.search(rf'id="{field}-error">([^<]*)<', answer.text)
    assert shown is not None and text in shown.group(1)
    assert 'class="stop"' not in answer.text and "persona-" not in answer.text
    assert checks_on_file(world) == before


def test_the_statistician_reads_the_pages_without_identity(site: Site, world: Json) -> None:
    with signed_in(site, "statistician") as client:
        page = client.get(f"/patients/{world['patient']['id']}/infusions/new")
        infusion = client.get(f"/infusions/{world['infusion']['id']}")
    assert (page.status_code, infusion.status_code) == (200, 200)
    assert world["patient"]["study_code"] in page.text
    for shown in (page.text, infusion.text):
        assert (
            "Lovelace" not in shown
            and "MRN-" not in shown
            and "<form" not in shown.split("<main")[1]
        )
