"""Small steps along the pathway over HTTP, shared by the API tests and the end-to-end test."""

from __future__ import annotations

import itertools
from typing import Any

from lupus_msc.clinical.sledai2k import WEIGHTS
from tests.registry_fixtures import PASSWORD, Api

_record_numbers = itertools.count(1)
ACTIVE = ("arthritis", "rash", "low_complement", "increased_dna_binding")
"""4 + 2 + 2 + 2 = a SLEDAI-2K of 10 (§1 weights), above the default protocol's 8."""

Json = dict[str, Any]


def ok(response: Any, status: int = 200) -> Json:
    assert response.status_code == status, response.text
    body: Json = response.json()
    return body


def patient_body(api: Api, site: str = "A01") -> Json:
    return {
        "site_id": str(api.registry.sites[site]),
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1990-05-17",
        "sex": "female",
        "medical_record_number": f"MRN-{next(_record_numbers)}",
        "diagnosis_date": "2015-03-01",
    }


def register(api: Api, persona: str = "coordinator", site: str = "A01") -> Json:
    with api.as_(persona) as client:
        return ok(client.post("/api/v1/patients", json=patient_body(api, site)), 201)


def screening_body(**changes: Any) -> Json:
    """A screening that meets every rule of the default protocol."""
    body: Json = {
        "screened_on": "2026-01-10",
        "eular_acr_2019": {
            "ana_titer": 320,
            "criteria": ["acute_cutaneous_lupus", "joint_involvement", "low_c3", "low_c4"],
        },
        "sledai2k": {key: key in ACTIVE for key in WEIGHTS},
        "organ_involvement": ["skin", "joints"],
        "treatments": [
            {
                "drug": "mycophenolate",
                "drug_class": "immunosuppressant",
                "current": True,
                "failed": True,
            },
            {
                "drug": "azathioprine",
                "drug_class": "immunosuppressant",
                "current": False,
                "failed": True,
            },
            {
                "drug": "hydroxychloroquine",
                "drug_class": "antimalarial",
                "current": True,
                "failed": False,
            },
        ],
        "active_infection": False,
        "pregnant": False,
    }
    body.update(changes)
    return body


def screen(api: Api, patient: Json, persona: str = "coordinator", **changes: Any) -> Json:
    with api.as_(persona) as client:
        url = f"/api/v1/patients/{patient['id']}/screenings"
        return ok(client.post(url, json=screening_body(**changes)), 201)


def decide(api: Api, screening: Json, decision: str = "eligible", **extra: Any) -> Json:
    with api.as_(extra.pop("persona", "physician")) as client:
        body = {"decision": decision, "password": PASSWORD, **extra}
        return ok(client.post(f"/api/v1/screenings/{screening['id']}/decision", json=body))


def consent(api: Api, patient: Json) -> Json:
    body = {"form_version": "2.1", "signed_on": "2026-01-12", "signer_name": "Ada Lovelace"}
    with api.as_("coordinator") as client:
        return ok(client.post(f"/api/v1/patients/{patient['id']}/consents", json=body), 201)


def move(api: Api, patient: Json, to: str, persona: str = "coordinator") -> Json:
    with api.as_(persona) as client:
        url = f"/api/v1/patients/{patient['id']}/transitions"
        return ok(client.post(url, json={"to": to, "reason": f"pathway step: {to}"}))


def enrolled_patient(api: Api) -> Json:
    """A patient screened eligible by a physician, consented and enrolled."""
    patient = register(api)
    decide(api, screen(api, patient))
    consent(api, patient)
    return move(api, patient, "enrolled")


RELEASE_RESULTS: dict[str, Any] = {
    "plastic_adherent": True,
    "trilineage_differentiation": True,
    "cd105_pct": 99.1,
    "cd73_pct": 99.5,
    "cd90_pct": 98.7,
    "cd45_pct": 0.4,
    "cd34_pct": 0.3,
    "cd14_or_cd11b_pct": 0.6,
    "cd79a_or_cd19_pct": 0.2,
    "hla_dr_pct": 0.9,
    "viability_pct": 92,
    "sterility": "negative",
    "mycoplasma": "negative",
    "endotoxin_eu_per_kg": 0.8,
}
"""Release results within the default specification (§14: ISCT ≥ 95 % / ≤ 2 %, viability ≥ 70 %,
sterility and mycoplasma negative, endotoxin ≤ 5 EU/kg)."""

VIABLE_PER_ML = 5_000_000


def quarantined_lot(api: Api, site: str = "A01", expires_on: str = "2030-01-01") -> Json:
    """An allogeneic umbilical-cord donor, a harvest and a lot in quarantine."""
    tests = {name: "negative" for name in ("hiv_1_2", "hbv", "hcv", "syphilis", "htlv")}
    persona = "lab" if site == "A01" else "lab_b"
    with api.as_(persona) as client:
        donor = ok(
            client.post(
                "/api/v1/donors",
                json={
                    "site_id": str(api.registry.sites[site]),
                    "kind": "allogeneic",
                    "tissue_source": "umbilical-cord",
                    "eligibility_tests": tests,
                },
            ),
            201,
        )
        harvest = ok(
            client.post(
                f"/api/v1/donors/{donor['id']}/harvests",
                json={"collected_on": "2025-06-01", "amount": 30, "amount_unit": "g"},
            ),
            201,
        )
        return ok(
            client.post(
                "/api/v1/lots",
                json={
                    "harvest_id": harvest["id"],
                    "passage": 3,
                    "total_cells": 100_000_000,
                    "viable_cells_per_ml": VIABLE_PER_ML,
                    "viability_pct": 92,
                    "volume_ml": 20,
                    "cryopreserved_on": "2025-07-01",
                    "expires_on": expires_on,
                    "storage_location": "LN2 tank 2, rack 4",
                },
            ),
            201,
        )


def release(api: Api, lot: Json, results: dict[str, Any] | None = None) -> Json:
    with api.as_("lab") as client:
        for name, value in (results or RELEASE_RESULTS).items():
            body = {"name": name, "value": value, "tested_on": "2025-07-10"}
            ok(client.post(f"/api/v1/lots/{lot['id']}/release-tests", json=body), 201)
        body = {"decision": "release", "password": PASSWORD, "meaning": "Approved for clinical use"}
        return ok(client.post(f"/api/v1/lots/{lot['id']}/release", json=body), 201)


def custody(api: Api, lot: Json, kind: str, at: str, location: str = "cell lab") -> Json:
    with api.as_("lab") as client:
        body = {"kind": kind, "at": at, "location": location}
        return ok(client.post(f"/api/v1/lots/{lot['id']}/custody", json=body), 201)


def allocate(api: Api, lot: Json, patient: Json) -> Json:
    with api.as_("lab") as client:
        body = {"patient_id": patient["id"]}
        return ok(client.post(f"/api/v1/lots/{lot['id']}/allocation", json=body))


def thawed_lot_for(api: Api, patient: Json, thawed_at: str) -> Json:
    """A released lot allocated to ``patient``, shipped to the ward and thawed at ``thawed_at``."""
    lot = quarantined_lot(api)
    release(api, lot)
    allocate(api, lot, patient)
    custody(api, lot, "shipped", thawed_at.replace("T10:", "T09:"), "infusion ward")
    custody(api, lot, "thawed", thawed_at, "infusion ward")
    return lot


def bedside_check(
    api: Api, patient: Json, lot: Json, checked_at: str, *, second: str = "nurse2", **changes: Any
) -> Any:
    persona = changes.pop("persona", "nurse")
    body = {
        "scanned_patient_code": patient["study_code"],
        "scanned_lot_code": lot["code"],
        "second_checker_email": f"{second}@example.org",
        "second_checker_password": PASSWORD,
        "checked_at": checked_at,
        **changes,
    }
    with api.as_(persona) as client:
        return client.post(f"/api/v1/patients/{patient['id']}/bedside-checks", json=body)


VITALS = {"systolic_mmhg": 118, "diastolic_mmhg": 76, "heart_rate_bpm": 72, "temperature_c": 36.8}


def infusion_body(check: Json, started_at: str, weight_kg: float = 60, **changes: Any) -> Json:
    """60 kg at 1 × 10⁶/kg (default protocol, §14): 60 × 10⁶ cells, 12 mL at 5 × 10⁶/mL."""
    body: Json = {
        "bedside_check_ids": [check["id"]],
        "weight_kg": weight_kg,
        "actual_cells": 60_000_000,
        "actual_volume_ml": 12,
        "premedication": ["paracetamol 1 g", "chlorphenamine 10 mg"],
        "vitals_before": VITALS,
        "vitals_after": VITALS,
        "started_at": started_at,
        "ended_at": started_at.replace("T10:30", "T11:00"),
    }
    body.update(changes)
    return body


def infuse(api: Api, patient: Json, body: Json, persona: str = "nurse") -> Any:
    with api.as_(persona) as client:
        return client.post(f"/api/v1/patients/{patient['id']}/infusions", json=body)
