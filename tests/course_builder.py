"""A patient with a whole recorded course, built over the JSON API: screening, signed
eligibility, consent, enrolment, steroid taper, infusions and follow-up visits.

Shared by the end-to-end test and the browser tests that need a patient with history. The
first infusion is placed 400 days ago, so that visits up to month 12 can be recorded today.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lupus_msc.clinical.sledai2k import WEIGHTS
from tests.pathway_helpers import (
    allocate,
    bedside_check,
    custody,
    infuse,
    infusion_body,
    ok,
    quarantined_lot,
    register,
    release,
)
from tests.registry_fixtures import PASSWORD, Api

TODAY = dt.datetime.now(dt.UTC).date()
DAY0 = TODAY - dt.timedelta(days=400)


def on(day: int) -> str:
    return (DAY0 + dt.timedelta(days=day)).isoformat()


def at(day: int, clock: str) -> str:
    return f"{on(day)}T{clock}:00+00:00"


def sledai(*present: str) -> dict[str, bool]:
    return {key: key in present for key in WEIGHTS}


def visit_body(day: int, *present: str, pga: float, creatinine: float) -> dict[str, Any]:
    return {
        "visit_date": on(day),
        "sledai2k": sledai(*present),
        "pga": pga,
        "vitals": {"weight_kg": 61, "systolic_mmhg": 122, "diastolic_mmhg": 78},
        "cardiac": {"lvef_pct": 62, "pericarditis": False},
        "labs": [
            {"analyte": "creatinine", "value": creatinine, "unit": "mg/dL"},
            {"analyte": "c3", "value": 0.95, "unit": "g/L", "reference_low": 0.9},
            {"analyte": "platelets", "value": 210, "unit": "10*9/L"},
        ],
    }


def screen_and_consent(api: Api, patient: dict[str, Any]) -> None:
    with api.as_("coordinator") as client:
        pid = patient["id"]
        ok(
            client.post(
                f"/api/v1/patients/{pid}/transitions",
                json={"to": "screening", "reason": "referral accepted"},
            )
        )
        body = {
            "screened_on": on(-14),
            "eular_acr_2019": {
                "ana_titer": 640,
                "criteria": ["acute_cutaneous_lupus", "joint_involvement", "proteinuria", "low_c3"],
            },
            "sledai2k": sledai("arthritis", "rash", "proteinuria", "low_complement"),
            "organ_involvement": ["skin", "joints", "kidneys"],
            "treatments": [
                {
                    "drug": "mycophenolate",
                    "drug_class": "immunosuppressant",
                    "current": True,
                    "failed": True,
                },
                {
                    "drug": "cyclophosphamide",
                    "drug_class": "immunosuppressant",
                    "current": False,
                    "failed": True,
                },
            ],
            "active_infection": False,
            "pregnant": False,
        }
        screening = ok(client.post(f"/api/v1/patients/{pid}/screenings", json=body), 201)
        assert screening["rules_eligible"] is True and screening["sledai2k_total"] == 12
    with api.as_("physician") as client:
        ok(
            client.post(
                f"/api/v1/screenings/{screening['id']}/decision",
                json={"decision": "eligible", "password": PASSWORD},
            )
        )
    with api.as_("coordinator") as client:
        ok(
            client.post(
                f"/api/v1/patients/{pid}/consents",
                json={"form_version": "3.0", "signed_on": on(-12), "signer_name": "Grace Hopper"},
            ),
            201,
        )
        ok(
            client.post(
                f"/api/v1/patients/{pid}/transitions",
                json={"to": "enrolled", "reason": "enrolled after consent"},
            )
        )
        ok(
            client.post(
                f"/api/v1/patients/{pid}/medications",
                json={
                    "drug": "prednisone",
                    "dose": 20,
                    "unit": "mg",
                    "frequency": "once-daily",
                    "route": "oral",
                    "started_on": on(-60),
                    "stopped_on": on(89),
                },
            ),
            201,
        )
        ok(
            client.post(
                f"/api/v1/patients/{pid}/medications",
                json={
                    "drug": "prednisone",
                    "dose": 5,
                    "unit": "mg",
                    "frequency": "once-daily",
                    "route": "oral",
                    "started_on": on(90),
                },
            ),
            201,
        )


def infuse_on(api: Api, patient: dict[str, Any], day: int) -> dict[str, Any]:
    lot = quarantined_lot(api, expires_on=on(700))
    release(api, lot)
    allocate(api, lot, patient)
    custody(api, lot, "shipped", at(day, "09:00"), "infusion ward")
    custody(api, lot, "thawed", at(day, "10:00"), "infusion ward")
    check = ok(bedside_check(api, patient, lot, at(day, "10:20")), 201)
    body = infusion_body(check, at(day, "10:30"), weight_kg=60)
    return ok(infuse(api, patient, body), 201)


TRAJECTORY = {
    "month1": ("arthritis", "rash", "low_complement"),
    "month3": ("arthritis", "low_complement"),
    "month6": ("low_complement",),
}
"""SLEDAI-2K descriptors present at each recorded follow-up visit (screening had 12)."""


def infused_with_reaction(api: Api) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A site-A patient infused on day 0 and 7 with an infusion reaction on day 0; the patient
    and their visit schedule by visit code."""
    patient = register(api)
    screen_and_consent(api, patient)
    first = infuse_on(api, patient, 0)
    infuse_on(api, patient, 7)
    pid = patient["id"]
    with api.as_("nurse") as client:
        reaction = {
            "term": "Infusion related reaction",
            "onset_on": on(0),
            "resolved_on": on(0),
            "grade": 1,
            "relatedness": "probable",
            "expected": True,
            "action": "infusion-slowed",
            "outcome": "recovered",
            "infusion_id": first["id"],
        }
        ok(client.post(f"/api/v1/patients/{pid}/adverse-events", json=reaction), 201)
    with api.as_("coordinator") as client:
        schedule = {v["code"]: v for v in ok(client.get(f"/api/v1/patients/{pid}/visits"))}
    return patient, schedule


def followed_up_patient(api: Api) -> dict[str, Any]:
    """``infused_with_reaction`` with visits recorded to month 6 (``TRAJECTORY``)."""
    patient, schedule = infused_with_reaction(api)
    with api.as_("coordinator") as client:
        for code, present in TRAJECTORY.items():
            visit = schedule[code]
            body = visit_body(visit["study_day"], *present, pga=0.5, creatinine=0.9)
            ok(client.put(f"/api/v1/visits/{visit['id']}", json=body))
    return patient
