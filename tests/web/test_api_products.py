"""The cell product over HTTP: donor to thawed lot, and who may do what (STYLE habit 5)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

from lupus_msc.cells.identity import validate_lot_code
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import Patient, PatientState
from tests.registry_fixtures import PASSWORD, Api

NEGATIVE = {name: "negative" for name in ("hiv_1_2", "hbv", "hcv", "syphilis", "htlv")}
PASSING: dict[str, Any] = {
    "plastic_adherent": True,
    "trilineage_differentiation": True,
    "cd105_pct": 98.2,
    "cd73_pct": 99,
    "cd90_pct": 97.5,
    "cd45_pct": 0.5,
    "cd34_pct": 1,
    "cd14_or_cd11b_pct": 0.2,
    "cd79a_or_cd19_pct": 0.3,
    "hla_dr_pct": 1.5,
    "viability_pct": 92,
    "sterility": "negative",
    "mycoplasma": "negative",
    "endotoxin_eu_per_kg": 0.8,
}
APPROVE = {
    "decision": "release",
    "password": PASSWORD,
    "meaning": "I approve this lot for clinical use",
}
_mrn = itertools.count(1)


def post(api: Api, persona: str, path: str, body: dict[str, Any], status: int = 201) -> Any:
    with api.as_(persona) as client:
        response = client.post(f"/api/v1{path}", json=body)
    assert response.status_code == status, response.text
    return response.json()


def get(api: Api, persona: str, path: str, status: int = 200) -> Any:
    with api.as_(persona) as client:
        response = client.get(f"/api/v1{path}")
    assert response.status_code == status, response.text
    return response.json()


def new_lot(api: Api) -> dict[str, Any]:
    """A quarantined lot of site A01 from an eligible allogeneic donor's cord."""
    donor = post(
        api,
        "lab",
        "/donors",
        {
            "site_id": str(api.registry.sites["A01"]),
            "kind": "allogeneic",
            "tissue_source": "umbilical-cord",
            "eligibility_tests": NEGATIVE,
        },
    )
    harvest = post(
        api,
        "lab",
        f"/donors/{donor['id']}/harvests",
        {"collected_on": "2024-03-01", "amount": 42.5, "amount_unit": "g"},
    )
    lot: dict[str, Any] = post(
        api,
        "lab",
        "/lots",
        {
            "harvest_id": harvest["id"],
            "passage": 4,
            "total_cells": 6e8,
            "viable_cells_per_ml": 2.5e6,
            "viability_pct": 94.5,
            "volume_ml": 100,
            "cryopreserved_on": "2024-04-02",
            "expires_on": "2029-04-02",
            "storage_location": "LN2 tank 1, rack 2",
        },
    )
    return lot


def lot_with_results(api: Api) -> dict[str, Any]:
    lot = new_lot(api)
    for name, value in PASSING.items():
        body = {"name": name, "value": value, "tested_on": "2024-04-10"}
        post(api, "lab", f"/lots/{lot['id']}/release-tests", body)
    return lot


def consented_patient(api: Api) -> str:
    """A patient of A01 put straight into *consented* (screening and consent are other routes)."""
    body = {
        "site_id": str(api.registry.sites["A01"]),
        "given_name": "Grace",
        "family_name": "Hopper",
        "date_of_birth": "1985-12-09",
        "sex": "female",
        "medical_record_number": f"PROD-{next(_mrn)}",
    }
    patient = post(api, "coordinator", "/patients", body)
    with unit_of_work(api.registry.database, None) as session:
        record = session.get(Patient, uuid.UUID(patient["id"]))
        assert record is not None
        record.state = PatientState.CONSENTED
    return str(patient["id"])


def _ago(hours: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).isoformat()


def test_a_lot_goes_from_donor_to_thawed(api: Api) -> None:
    lot = lot_with_results(api)
    validate_lot_code(lot["code"])
    assert lot["state"] == "quarantine" and lot["release_spec"]["viability_min_pct"] == 70
    assert get(api, "lab", f"/lots/{lot['id']}/release-evaluation")["releasable"] is True

    decision = post(api, "lab", f"/lots/{lot['id']}/release", APPROVE)
    assert decision["signer_name"] == "Lab" and decision["failures"] == []

    patient_id = consented_patient(api)
    allocated = post(
        api, "lab", f"/lots/{lot['id']}/allocation", {"patient_id": patient_id}, status=200
    )
    assert allocated["state"] == "allocated" and allocated["allocated_patient_id"] == patient_id

    shipped = {"kind": "shipped", "at": _ago(2), "location": "Cell lab A01", "note": "DS-4"}
    post(api, "lab", f"/lots/{lot['id']}/custody", shipped)
    thawed_at = _ago(0.5)
    post(api, "lab", f"/lots/{lot['id']}/custody", {**shipped, "kind": "thawed", "at": thawed_at})

    after = get(api, "nurse", f"/lots/by-code/{lot['code'].lower()}")
    assert after["id"] == lot["id"] and after["state"] == "thawed"
    assert dt.datetime.fromisoformat(after["thawed_at"]) == dt.datetime.fromisoformat(thawed_at)
    chain = get(api, "monitor", f"/lots/{lot['id']}/custody")
    assert [event["kind"] for event in chain] == ["shipped", "thawed"]
    assert [d["decision"] for d in get(api, "lab", f"/lots/{lot['id']}/release-decisions")] == [
        "release"
    ]


def test_release_tests_show_their_specification_and_supersession(api: Api) -> None:
    lot = new_lot(api)
    path = f"/lots/{lot['id']}/release-tests"
    first = post(
        api, "lab", path, {"name": "viability_pct", "value": 64, "tested_on": "2024-04-10"}
    )
    assert first["within_spec"] is False and first["specification"] == "≥ 70 %"
    refused = post(api, "lab", path, {**first_body(64), "value": 81}, status=422)
    assert refused["error"]["fields"][0]["field"] == "reason"
    post(api, "lab", path, {**first_body(81), "reason": "recount of a second vial"})
    listed = get(api, "lab", path)
    assert [(t["value"], t["superseded"]) for t in listed] == [(64, True), (81, False)]


def first_body(value: float) -> dict[str, Any]:
    return {"name": "viability_pct", "value": value, "tested_on": "2024-04-10"}


def test_a_release_with_a_failure_is_refused_naming_the_deviation(api: Api) -> None:
    lot = new_lot(api)
    error = post(api, "lab", f"/lots/{lot['id']}/release", APPROVE, status=409)["error"]
    assert error["fields"][0]["field"] == "deviation"
    assert get(api, "lab", f"/lots/{lot['id']}")["state"] == "quarantine"


def test_a_mistyped_lot_code_is_a_422_naming_the_code(api: Api) -> None:
    code: str = new_lot(api)["code"]
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    error = get(api, "lab", f"/lots/by-code/{wrong}", status=422)["error"]
    assert error["fields"][0]["field"] == "code"
    assert "check character" in error["fields"][0]["message"]


def test_another_sites_lot_is_not_found(api: Api) -> None:
    lot = new_lot(api)
    for path in (
        f"/lots/{lot['id']}",
        f"/lots/by-code/{lot['code']}",
        f"/lots/{lot['id']}/custody",
    ):
        assert get(api, "coordinator_b", path, status=404)["error"]["status"] == 404
    assert lot["id"] not in {listed["id"] for listed in get(api, "physician_b", "/lots")}
    assert get(api, "statistician", f"/lots/{lot['id']}")["code"] == lot["code"]


def test_another_sites_lab_cannot_touch_the_lot(api: Api) -> None:
    lot = lot_with_results(api)
    post(api, "lab_b", f"/lots/{lot['id']}/release", APPROVE, status=404)
    stored = {"kind": "stored", "at": _ago(1), "location": "LN2 tank 3"}
    post(api, "lab_b", f"/lots/{lot['id']}/custody", stored, status=404)
    body = {"name": "sterility", "value": "negative", "tested_on": "2024-04-10", "reason": "x" * 5}
    post(api, "lab_b", f"/lots/{lot['id']}/release-tests", body, status=404)
    assert get(api, "lab", f"/lots/{lot['id']}")["state"] == "quarantine"


def test_a_monitor_cannot_write_products(api: Api) -> None:
    lot = new_lot(api)
    donor = {
        "site_id": str(api.registry.sites["A01"]),
        "kind": "allogeneic",
        "tissue_source": "adipose",
    }
    post(api, "monitor", "/donors", donor, status=403)
    stored = {"kind": "stored", "at": _ago(1), "location": "LN2 tank 3"}
    post(api, "monitor", f"/lots/{lot['id']}/custody", stored, status=403)
    assert get(api, "monitor", f"/lots/{lot['id']}/custody") == []


def test_a_nurse_cannot_release(api: Api) -> None:
    lot = lot_with_results(api)
    post(api, "nurse", f"/lots/{lot['id']}/release", APPROVE, status=403)


def test_an_unqualified_lab_scientist_cannot_release(api: Api) -> None:
    lot = lot_with_results(api)
    error = post(api, "lab_unqualified", f"/lots/{lot['id']}/release", APPROVE, status=409)
    assert error["error"]["fields"][0]["field"] == "qualification"
    assert get(api, "lab", f"/lots/{lot['id']}")["state"] == "quarantine"


def test_infusion_events_are_refused_here(api: Api) -> None:
    lot = new_lot(api)
    event = {"kind": "infused", "at": _ago(1), "location": "Ward 3"}
    error = post(api, "lab", f"/lots/{lot['id']}/custody", event, status=422)["error"]
    assert error["fields"][0]["field"] == "kind"


def test_every_products_route_declares_the_error_shape(api: Api) -> None:
    with api.anonymous() as client:
        schema = client.get("/openapi.json").json()
    routes = [
        (path, operation)
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if "products" in operation["tags"]
    ]
    assert len(routes) == 19
    for path, operation in routes:
        for status in ("401", "403", "404", "422"):
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"]["$ref"].endswith("/ErrorOut"), path
