"""Patients over HTTP: registration, reading with and without identity, corrections, pathway."""

from __future__ import annotations

import itertools

from lupus_msc.store.models import AuditHead
from tests.registry_fixtures import Api

_mrn = itertools.count(1)


def new_patient(api: Api, persona: str = "coordinator", site: str = "A01") -> dict[str, object]:
    body = {
        "site_id": str(api.registry.sites[site]),
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1990-05-17",
        "sex": "female",
        "medical_record_number": f"MRN-{next(_mrn)}",
        "diagnosis_date": "2015-03-01",
    }
    with api.as_(persona) as client:
        response = client.post("/api/v1/patients", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


def test_it_registers_a_referred_patient_with_a_site_prefixed_code(api: Api) -> None:
    patient = new_patient(api)
    assert patient["state"] == "referred"
    assert str(patient["study_code"]).startswith("A01-")
    assert patient["given_name"] == "Ada"


def test_a_statistician_reads_no_identity(api: Api) -> None:
    patient = new_patient(api)
    with api.as_("statistician") as client:
        seen = client.get(f"/api/v1/patients/{patient['id']}").json()
    assert seen["deidentified"] is True
    assert seen["given_name"] is None and seen["medical_record_number"] is None
    assert seen["birth_year"] == 1990


def test_another_sites_coordinator_gets_not_found(api: Api) -> None:
    patient = new_patient(api)
    with api.as_("coordinator_b") as client:
        response = client.get(f"/api/v1/patients/{patient['id']}")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_a_monitor_cannot_register(api: Api) -> None:
    with api.as_("monitor") as client:
        response = client.post("/api/v1/patients", json={})
    assert response.status_code in (403, 422)


def test_an_illegal_move_is_refused_naming_the_allowed_ones(api: Api) -> None:
    patient = new_patient(api)
    with api.as_("coordinator") as client:
        response = client.post(
            f"/api/v1/patients/{patient['id']}/transitions",
            json={"to": "enrolled", "reason": "skip ahead"},
        )
    assert response.status_code == 409
    assert "next may be: deceased, screening, withdrawn" in response.json()["error"]["message"]


def test_a_correction_needs_a_reason(api: Api) -> None:
    patient = new_patient(api)
    with api.as_("coordinator") as client:
        refused = client.patch(f"/api/v1/patients/{patient['id']}", json={"given_name": "Ann"})
        accepted = client.patch(
            f"/api/v1/patients/{patient['id']}",
            json={"given_name": "Ann", "reason": "spelling on the referral letter"},
        )
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "reason"
    assert accepted.json()["given_name"] == "Ann"


def test_no_token_is_401(api: Api) -> None:
    with api.anonymous() as client:
        response = client.get("/api/v1/patients")
    assert response.status_code == 401


def audit_head(api: Api) -> str | None:
    with api.registry.database.sessions() as session:
        head = session.get(AuditHead, 1)
        return None if head is None else head.row_hash


def test_a_correction_to_another_patients_record_number_is_refused(api: Api) -> None:
    """Found by Schemathesis: the clash reached the database's unique constraint (a 500)."""
    first, second = new_patient(api), new_patient(api)
    url = f"/api/v1/patients/{second['id']}"
    before = audit_head(api)
    with api.as_("coordinator") as client:
        clash = {"medical_record_number": first["medical_record_number"], "reason": "typo fix"}
        refused = client.patch(url, json=clash)
        after = audit_head(api)
        same = {"medical_record_number": second["medical_record_number"], "reason": "re-read it"}
        accepted = client.patch(url, json=same)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["fields"][0]["field"] == "medical_record_number"
    assert first["study_code"] in refused.json()["error"]["message"]
    assert after == before
    assert accepted.status_code == 200, accepted.text  # its own number is no clash
    assert accepted.json()["medical_record_number"] == second["medical_record_number"]
