"""The follow-up pages over real HTTP: every POST needs its CSRF token (403), a role without
the action gets 403, another site's record is not found (404), and refusals come back next
to their field. The app is served by uvicorn over a seeded SQLite registry (``site``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from lupus_msc.clinical.sledai2k import WEIGHTS
from lupus_msc.scoring.registry import get_instrument
from tests.browser_fixtures import Site
from tests.course_builder import infuse_on, on, screen_and_consent
from tests.pathway_helpers import ok, register
from tests.registry_fixtures import PASSWORD, Api

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'name="sign_in_nonce" value="([^"]+)"')


class Browser:
    """A signed-in httpx client with the page's CSRF token."""

    def __init__(self, base_url: str, persona: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30)
        form = self.client.get("/sign-in")
        nonce = NONCE.search(form.text)
        assert nonce is not None
        body = {
            "login": f"{persona}@example.org",
            "password": PASSWORD,
            "sign_in_nonce": nonce.group(1),
            "next": "/",
        }
        signed = self.client.post("/sign-in", data=body)
        assert signed.status_code == 303, signed.text
        token = CSRF.search(self.client.get("/").text)
        assert token is not None
        self.csrf = token.group(1)

    def post(self, url: str, data: dict[str, Any], *, csrf: bool = True) -> httpx.Response:
        sent = {**data, "csrf_token": self.csrf} if csrf else data
        return self.client.post(url, data=sent)


@pytest.fixture(scope="module")
def world(site: Site) -> Iterator[dict[str, Any]]:
    api = Api(site.base_url, site.registry)
    patient = register(api)
    screen_and_consent(api, patient)
    infuse_on(api, patient, 0)
    pid = patient["id"]
    with api.as_("coordinator") as client:
        visits = {v["code"]: v for v in ok(client.get(f"/api/v1/patients/{pid}/visits"))}
        medication = ok(client.get(f"/api/v1/patients/{pid}/medications"))[-1]
        event = {
            "term": "Headache",
            "onset_on": on(20),
            "grade": 1,
            "relatedness": "unlikely",
            "expected": False,
            "action": "none",
            "outcome": "recovering",
        }
        adverse = ok(client.post(f"/api/v1/patients/{pid}/adverse-events", json=event), 201)
    browsers: dict[str, Browser] = {}

    def as_(persona: str) -> Browser:
        if persona not in browsers:
            browsers[persona] = Browser(site.base_url, persona)
        return browsers[persona]

    yield {
        "api": api,
        "pid": pid,
        "visit": visits["month3"]["id"],
        "medication": medication["id"],
        "event": adverse["id"],
        "as": as_,
    }
    for browser in browsers.values():
        browser.client.close()


def _posts(world: dict[str, Any]) -> dict[str, dict[str, str]]:
    pid, vid = world["pid"], world["visit"]
    return {
        f"/visits/{vid}": {"visit_date": on(90), "pga": "1"},
        f"/visits/{vid}/preview": {"visit_date": on(90)},
        f"/visits/{vid}/sign": {"password": PASSWORD},
        f"/patients/{pid}/medications": {"drug": "prednisone", "dose": "5"},
        f"/patients/{pid}/medications/preview": {"drug": "prednisone", "dose": "5"},
        f"/medications/{world['medication']}/stop": {"stopped_on": on(200)},
        f"/patients/{pid}/adverse-events/new": {"term": "Rash", "grade": "1"},
        f"/patients/{pid}/adverse-events/preview": {"term": "Rash"},
        f"/adverse-events/{world['event']}": {"outcome": "recovered", "resolved_on": on(25)},
    }


def _visit(world: dict[str, Any]) -> dict[str, Any]:
    with world["api"].as_("monitor") as client:
        return ok(client.get(f"/api/v1/visits/{world['visit']}"))


def test_every_post_without_its_csrf_token_is_refused(world: dict[str, Any]) -> None:
    physician = world["as"]("physician")
    for url, data in _posts(world).items():
        response = physician.post(url, data, csrf=False)
        assert response.status_code == 403, url
        assert "security token" in response.text
        forged = physician.client.post(url, data={**data, "csrf_token": "forged"})
        assert forged.status_code == 403, url
    assert _visit(world)["visit_date"] is None


def test_the_monitor_is_refused_every_post(world: dict[str, Any]) -> None:
    monitor = world["as"]("monitor")
    for url, data in _posts(world).items():
        assert monitor.post(url, data).status_code == 403, url
    assert _visit(world)["visit_date"] is None


@pytest.mark.parametrize(
    ("persona", "method", "path"),
    [
        ("nurse", "post", "/visits/{visit}"),
        ("coordinator", "post", "/visits/{visit}/sign"),
        ("nurse", "post", "/patients/{pid}/medications"),
        ("statistician", "get", "/visits/{visit}"),
        ("statistician", "get", "/adverse-events"),
        ("statistician", "get", "/adverse-events/{event}"),
        ("lab", "get", "/patients/{pid}/medications"),
        ("monitor", "get", "/patients/{pid}/adverse-events/new"),
    ],
)
def test_roles_without_the_action_get_403(
    world: dict[str, Any], persona: str, method: str, path: str
) -> None:
    url = path.format(visit=world["visit"], pid=world["pid"], event=world["event"])
    user = world["as"](persona)
    response = user.post(url, {}) if method == "post" else user.client.get(url)
    assert response.status_code == 403


def test_another_sites_records_are_not_found(world: dict[str, Any]) -> None:
    other = world["as"]("physician_b")
    for url in (
        f"/visits/{world['visit']}",
        f"/patients/{world['pid']}/medications",
        f"/patients/{world['pid']}/adverse-events/new",
        f"/adverse-events/{world['event']}",
    ):
        assert other.client.get(url).status_code == 404, url
    for url, data in _posts(world).items():
        assert other.post(url, data).status_code == 404, url
    listed = other.client.get("/adverse-events")
    assert listed.status_code == 200 and "Headache" not in listed.text
    assert _visit(world)["visit_date"] is None


def test_implausible_values_are_refused_next_to_their_field(world: dict[str, Any]) -> None:
    physician = world["as"]("physician")
    form = {
        "visit_date": on(90),
        "pga": "4",
        "lab.platelets.value": "5000",
        "lab.platelets.unit": "10*9/L",
        "vitals.weight_kg": "heavy",
    }
    response = physician.post(f"/visits/{world['visit']}", form)
    assert response.status_code == 422
    assert 'id="pga-error"' in response.text
    assert 'id="vitals.weight_kg-error">must be a number' in response.text
    form.update({"pga": "1", "vitals.weight_kg": "61"})
    response = physician.post(f"/visits/{world['visit']}", form)
    assert response.status_code == 422
    assert re.search(r'id="lab.platelets.value-error">[^<]*implausible', response.text)
    assert _visit(world)["visit_date"] is None


def test_the_preview_fragment_shows_the_engines_sledai_2k_total(world: dict[str, Any]) -> None:
    form = {
        "visit_date": on(90),
        "sledai2k.rash": "on",
        "sledai2k.alopecia": "on",
        "lab.c4.value": "0.05",
        "lab.c4.low": "0.1",
        "lab.wbc.value": "2.5",
        "sledai2k.attribution_confirmed": "on",
    }
    response = world["as"]("physician").post(f"/visits/{world['visit']}/preview", form)
    assert response.status_code == 200
    assert "<html" not in response.text
    instrument = get_instrument("sledai2k")
    given = {key: key in ("rash", "alopecia") for key in WEIGHTS}
    for derived in ("low_complement", "leukopenia"):
        given.pop(derived)
    given |= {
        "labs": {"c4_g_l": 0.05, "c4_lln_g_l": 0.1, "wbc_10e9_l": 2.5},
        "attribution_confirmed": True,
    }
    given["labs"] = {key: Decimal(str(value)) for key, value in given["labs"].items()}
    expected = instrument.score(instrument.input_model.model_validate(given))
    total = expected.total  # type: ignore[attr-defined]
    assert total == 2 + 2 + 2 + 1
    assert f'id="sledai-total">{total}</output>' in response.text
    assert 'data-descriptor="leukopenia"' in response.text
    assert _visit(world)["visit_date"] is None


def test_the_check_button_shows_the_scores_without_saving(world: dict[str, Any]) -> None:
    form = {"visit_date": on(90), "sledai2k.arthritis": "on", "pga": "0.4", "action": "check"}
    response = world["as"]("physician").post(f"/visits/{world['visit']}", form)
    assert response.status_code == 200
    assert 'id="sledai-total">4</output>' in response.text
    assert "0.4 · none" in response.text
    assert _visit(world)["visit_date"] is None


def test_the_medication_check_button_shows_the_prednisone_equivalent(
    world: dict[str, Any],
) -> None:
    form = {
        "drug": "dexamethasone",
        "dose": "1.5",
        "unit": "mg",
        "frequency": "once-daily",
        "route": "oral",
        "action": "check",
    }
    response = world["as"]("physician").post(f"/patients/{world['pid']}/medications", form)
    assert response.status_code == 200
    # §11 worked example: dexamethasone 1.5 mg → 10 mg prednisone.
    assert re.search(
        r'id="prednisone-preview">\s*Prednisone equivalent: <strong>10 mg/day', response.text
    )
    with world["api"].as_("monitor") as client:
        listed = ok(client.get(f"/api/v1/patients/{world['pid']}/medications"))
    assert all(item["drug"] != "dexamethasone" for item in listed)
