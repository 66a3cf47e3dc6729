"""The lab pages over real HTTP: every write needs the CSRF token and the write role (monitor:
403), another site's records are not found (404), the release needs the qualification (409),
and a refused form changes nothing (STYLE habits 5 and 6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import web_client
from tests.pathway_helpers import RELEASE_RESULTS, enrolled_patient, ok, quarantined_lot
from tests.registry_fixtures import PASSWORD, Api

Json = dict[str, Any]


def signed_in(api: Api, persona: str) -> httpx.Client:
    """A browser-like client signed in through the sign-in form, with ``csrf`` set."""
    client = web_client.signed_in(api.base_url, f"{persona}@example.org")
    client.headers["x-test-csrf"] = web_client.csrf_of(client, "/lab/lots")
    return client


def csrf(client: httpx.Client) -> str:
    return client.headers["x-test-csrf"]


@pytest.fixture(scope="module")
def lot(api: Api) -> Json:
    return quarantined_lot(api)


@pytest.fixture(scope="module")
def clients(api: Api) -> Iterator[dict[str, httpx.Client]]:
    made = {name: signed_in(api, name) for name in ("lab", "monitor", "lab_b", "lab_unqualified")}
    yield made
    for client in made.values():
        client.close()


def _writes(lot: Json, donor_id: str) -> list[tuple[str, Json]]:
    return [
        ("/lab/donors/new", {"kind": "allogeneic", "tissue_source": "adipose"}),
        (f"/lab/donors/{donor_id}/harvests", {"collected_on": "2025-06-02", "amount": "20"}),
        (f"/lab/donors/{donor_id}/tests", {"test_cmv": "negative"}),
        ("/lab/lots/new", {"harvest_id": lot["harvest_id"], "passage": "2"}),
        (
            f"/lab/lots/{lot['id']}/release-tests",
            {"result_cd105_pct": "99", "tested_on": "2025-07-10"},
        ),
        (
            f"/lab/lots/{lot['id']}/custody",
            {"custody_kind": "stored", "custody_at": "2025-07-11T09:00", "custody_location": "x"},
        ),
        (f"/lab/lots/{lot['id']}/allocate", {"patient_id": lot["id"]}),
        (f"/lab/lots/{lot['id']}/release", {"decision": "reject", "password": PASSWORD}),
    ]


def _donor_id(api: Api, lot: Json) -> str:
    with api.as_("lab") as client:
        harvest = ok(client.get(f"/api/v1/harvests/{lot['harvest_id']}"))
    return str(harvest["donor_id"])


def _unchanged(api: Api, lot: Json) -> None:
    with api.as_("lab") as client:
        assert ok(client.get(f"/api/v1/lots/{lot['id']}"))["state"] == "quarantine"
        assert client.get(f"/api/v1/lots/{lot['id']}/release-tests").json() == []
        assert client.get(f"/api/v1/lots/{lot['id']}/custody").json() == []


def test_the_monitor_reads_every_lab_page_without_a_form(
    api: Api, lot: Json, clients: dict[str, httpx.Client]
) -> None:
    monitor = clients["monitor"]
    donor_id = _donor_id(api, lot)
    for path in (
        "/lab/lots",
        "/lab/donors",
        f"/lab/donors/{donor_id}",
        f"/lab/lots/{lot['id']}",
        f"/lab/lots/{lot['id']}/release",
        f"/lab/lots/{lot['id']}/label",
    ):
        page = monitor.get(path)
        assert page.status_code == 200, path
        main = page.text.split('<main id="main"', 1)[1]
        assert 'method="post"' not in main, path
        assert lot["code"] in page.text or path.endswith("donors") or "donors/" in path


def test_the_monitor_is_forbidden_every_write(
    api: Api, lot: Json, clients: dict[str, httpx.Client]
) -> None:
    monitor = clients["monitor"]
    for path, body in _writes(lot, _donor_id(api, lot)):
        answer = monitor.post(path, data={"csrf_token": csrf(monitor), **body})
        assert answer.status_code == 403, (path, answer.text[:300])
    for path in ("/lab/donors/new", "/lab/lots/new"):
        assert monitor.get(path).status_code == 403
    _unchanged(api, lot)


def test_every_lab_form_needs_its_csrf_token(
    api: Api, lot: Json, clients: dict[str, httpx.Client]
) -> None:
    lab = clients["lab"]
    for path, body in _writes(lot, _donor_id(api, lot)):
        missing = lab.post(path, data=body)
        forged = lab.post(path, data={"csrf_token": "0" * 64, **body})
        assert missing.status_code == forged.status_code == 403, path
        assert "security token" in forged.text
    _unchanged(api, lot)


def test_another_sites_lab_finds_nothing(
    api: Api, lot: Json, clients: dict[str, httpx.Client]
) -> None:
    lab_b = clients["lab_b"]
    donor_id = _donor_id(api, lot)
    for path in (
        f"/lab/donors/{donor_id}",
        f"/lab/lots/{lot['id']}",
        f"/lab/lots/{lot['id']}/release",
        f"/lab/lots/{lot['id']}/label",
    ):
        assert lab_b.get(path).status_code == 404, path
    for path, body in _writes(lot, donor_id):
        if path.endswith("/new"):
            continue
        answer = lab_b.post(path, data={"csrf_token": csrf(lab_b), **body})
        assert answer.status_code == 404, (path, answer.text[:300])
    assert lot["code"] not in lab_b.get("/lab/lots").text
    _unchanged(api, lot)


def test_release_needs_the_qualification(
    api: Api, lot: Json, clients: dict[str, httpx.Client]
) -> None:
    unqualified = clients["lab_unqualified"]
    page = unqualified.get(f"/lab/lots/{lot['id']}/release")
    assert "no unexpired lot-release qualification" in page.text
    assert 'name="password"' not in page.text
    body = {"csrf_token": csrf(unqualified), "decision": "reject", "password": PASSWORD}
    answer = unqualified.post(f"/lab/lots/{lot['id']}/release", data=body)
    assert answer.status_code == 409
    assert "no unexpired lot-release qualification" in answer.text
    _unchanged(api, lot)


def test_a_refused_result_records_none_of_the_form(
    api: Api, lot: Json, clients: dict[str, httpx.Client]
) -> None:
    lab = clients["lab"]
    body = {
        "csrf_token": csrf(lab),
        "result_cd105_pct": "99.1",
        "result_viability_pct": "140",
        "tested_on": "2025-07-10",
    }
    answer = lab.post(f"/lab/lots/{lot['id']}/release-tests", data=body)
    assert answer.status_code == 422
    assert 'id="result_viability_pct-error"' in answer.text
    assert 'value="99.1"' in answer.text  # what was typed is kept
    bedside = {
        "csrf_token": csrf(lab),
        "custody_kind": "bedside-verified",
        "custody_at": "2025-07-11T09:00",
        "custody_location": "ward",
    }
    refused = lab.post(f"/lab/lots/{lot['id']}/custody", data=bedside)
    assert refused.status_code == 422
    assert 'id="custody_kind-error"' in refused.text
    _unchanged(api, lot)


def test_the_lab_releases_and_allocates_through_the_pages(
    api: Api, clients: dict[str, httpx.Client]
) -> None:
    lab = clients["lab"]
    fresh = quarantined_lot(api)
    results = {f"result_{name}": str(value).lower() for name, value in RELEASE_RESULTS.items()}
    recorded = lab.post(
        f"/lab/lots/{fresh['id']}/release-tests",
        data={"csrf_token": csrf(lab), "tested_on": "2025-07-10", **results},
    )
    assert recorded.status_code == 303, recorded.text[:500]
    sign = {"csrf_token": csrf(lab), "decision": "release", "password": PASSWORD}
    assert lab.post(f"/lab/lots/{fresh['id']}/release", data=sign).status_code == 303
    patient = enrolled_patient(api)
    allocated = lab.post(
        f"/lab/lots/{fresh['id']}/allocate",
        data={"csrf_token": csrf(lab), "patient_id": patient["id"]},
    )
    assert allocated.status_code == 303
    with api.as_("lab") as client:
        stored = ok(client.get(f"/api/v1/lots/{fresh['id']}"))
        decisions = client.get(f"/api/v1/lots/{fresh['id']}/release-decisions").json()
    assert stored["state"] == "allocated" and stored["allocated_patient_id"] == patient["id"]
    assert decisions[0]["signer_name"] == "Lab" and decisions[0]["failures"] == []


def test_lab_pages_refuse_what_they_cannot_read(api: Api, clients: dict[str, httpx.Client]) -> None:
    lab = clients["lab"]
    assert lab.get("/lab/lots/not-a-lot").status_code == 404
    assert lab.get("/lab/lots?state=melted").status_code == 422
    assert lab.get("/lab/lots?site_id=nope").status_code == 404
    with httpx.Client(base_url=api.base_url) as anonymous:
        answer = anonymous.get("/lab/lots", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/sign-in?next=/lab/lots")


def test_an_autologous_donor_names_the_patient(api: Api, clients: dict[str, httpx.Client]) -> None:
    lab = clients["lab"]
    body = {
        "csrf_token": csrf(lab),
        "site_id": str(api.registry.sites["A01"]),
        "kind": "autologous",
        "tissue_source": "bone-marrow",
        "test_hiv_1_2": "negative",
    }
    refused = lab.post("/lab/donors/new", data=body)
    assert refused.status_code == 422
    assert 'id="patient_id-error"' in refused.text and "must name the patient" in refused.text
    patient = enrolled_patient(api)
    made = lab.post("/lab/donors/new", data={**body, "patient_id": patient["id"]})
    assert made.status_code == 303
    donor_page = lab.get(made.headers["location"])
    assert patient["study_code"] in donor_page.text and "Not established" in donor_page.text
