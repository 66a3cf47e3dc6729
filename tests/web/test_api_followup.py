"""Follow-up over HTTP: the schedule with statuses, recording and signing visits, medications and
adverse events; every route for other-site (404), read-only (403) and statistician (403)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from lupus_msc.store.models import AuditEvent
from tests.registry_fixtures import PASSWORD, Api
from tests.services.test_visits import audit_head, infused_patient, visit_of

TODAY = dt.datetime.now(dt.UTC).date()
FIRST = TODAY - dt.timedelta(days=35)
"""Day 0 five weeks ago: day 7 is overdue, month 1 (day 30 ± 7) is due, month 3 upcoming."""


def day(offset: int) -> str:
    return str(FIRST + dt.timedelta(days=offset))


MEDICATION = {
    "drug": "prednisone",
    "dose": 7.5,
    "unit": "mg",
    "frequency": "once-daily",
    "route": "oral",
    "started_on": day(-100),
}
EVENT = {
    "term": "Infusion related reaction",
    "grade": 1,
    "onset_on": day(0),
    "relatedness": "probable",
    "expected": True,
    "action": "infusion-slowed",
    "outcome": "recovering",
}


def body(response: Any) -> Any:
    return response.json()


@pytest.fixture(scope="module")
def patient(api: Api) -> uuid.UUID:
    return infused_patient(api.registry, first=FIRST)


@pytest.fixture(scope="module")
def records(api: Api, patient: uuid.UUID) -> dict[str, str]:
    """A visit, a medication and an adverse event of one patient at site A01."""
    with api.as_("physician") as client:
        medication = client.post(f"/api/v1/patients/{patient}/medications", json=MEDICATION)
        event = client.post(f"/api/v1/patients/{patient}/adverse-events", json=EVENT)
    assert medication.status_code == 201 and event.status_code == 201, event.text
    return {
        "visit": str(visit_of(api.registry, patient, "month1").id),
        "patient": str(patient),
        "medication": body(medication)["id"],
        "event": body(event)["id"],
    }


def _routes(ids: dict[str, str]) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
    return {
        "list visits": ("GET", f"/api/v1/patients/{ids['patient']}/visits", None),
        "read visit": ("GET", f"/api/v1/visits/{ids['visit']}", None),
        "record visit": ("PUT", f"/api/v1/visits/{ids['visit']}", {"visit_date": day(30)}),
        "sign visit": ("POST", f"/api/v1/visits/{ids['visit']}/sign", {"password": PASSWORD}),
        "list medications": ("GET", f"/api/v1/patients/{ids['patient']}/medications", None),
        "record medication": (
            "POST",
            f"/api/v1/patients/{ids['patient']}/medications",
            MEDICATION,
        ),
        "read medication": ("GET", f"/api/v1/medications/{ids['medication']}", None),
        "edit medication": (
            "PATCH",
            f"/api/v1/medications/{ids['medication']}",
            {"dose": 5, "reason": "tapered"},
        ),
        "list events": ("GET", f"/api/v1/patients/{ids['patient']}/adverse-events", None),
        "record event": ("POST", f"/api/v1/patients/{ids['patient']}/adverse-events", EVENT),
        "read event": ("GET", f"/api/v1/adverse-events/{ids['event']}", None),
        "edit event": (
            "PATCH",
            f"/api/v1/adverse-events/{ids['event']}",
            {"grade": 2, "reason": "re-assessed"},
        ),
    }


ROUTES = list(_routes({key: "x" for key in ("visit", "patient", "medication", "event")}))
WRITES = [name for name in ROUTES if not name.startswith(("list", "read"))]


@pytest.mark.parametrize("route", ROUTES)
def test_another_sites_staff_get_not_found(api: Api, records: dict[str, str], route: str) -> None:
    method, path, payload = _routes(records)[route]
    persona = "physician_b" if route == "sign visit" else "coordinator_b"
    before = audit_head(api.registry)
    with api.as_(persona) as client:
        response = client.request(method, path, json=payload)
    assert response.status_code == 404, response.text
    assert body(response)["error"]["status"] == 404
    assert audit_head(api.registry) == before


@pytest.mark.parametrize("route", WRITES)
def test_a_monitor_may_not_write(api: Api, records: dict[str, str], route: str) -> None:
    method, path, payload = _routes(records)[route]
    before = audit_head(api.registry)
    with api.as_("monitor") as client:
        response = client.request(method, path, json=payload)
    assert response.status_code == 403, response.text
    assert audit_head(api.registry) == before


@pytest.mark.parametrize("route", ROUTES)
def test_a_statistician_neither_reads_identified_records_nor_writes(
    api: Api, records: dict[str, str], route: str
) -> None:
    method, path, payload = _routes(records)[route]
    with api.as_("statistician") as client:
        response = client.request(method, path, json=payload)
    assert response.status_code == 403, response.text


@pytest.mark.parametrize("route", [name for name in ROUTES if name.startswith(("list", "read"))])
def test_a_monitor_reads_everything(api: Api, records: dict[str, str], route: str) -> None:
    method, path, payload = _routes(records)[route]
    with api.as_("monitor") as client:
        assert client.request(method, path, json=payload).status_code == 200


@pytest.mark.parametrize(
    ("persona", "route", "status"),
    [
        ("coordinator", "sign visit", 403),  # only physicians sign
        ("nurse", "record visit", 403),
        ("nurse", "record medication", 403),
        ("nurse", "record event", 201),  # infusion reactions are the nurse's to report
        ("lab", "read visit", 403),  # no identified clinical records for the lab
    ],
)
def test_roles_decide_who_does_what(
    api: Api, records: dict[str, str], persona: str, route: str, status: int
) -> None:
    method, path, payload = _routes(records)[route]
    with api.as_(persona) as client:
        assert client.request(method, path, json=payload).status_code == status


def test_the_schedule_shows_each_visits_status_today(api: Api) -> None:
    patient = infused_patient(api.registry, first=FIRST)
    with api.as_("coordinator") as client:
        day7 = visit_of(api.registry, patient, "day7").id
        assert client.put(f"/api/v1/visits/{day7}", json={"visit_date": day(8)}).status_code == 200
        schedule = body(client.get(f"/api/v1/patients/{patient}/visits"))
    status = {visit["code"]: visit["status"] for visit in schedule}
    assert status["day0"] == "overdue"
    assert status["day7"] == "done"  # window day 7 to day 9
    assert status["month1"] == "due"  # window day 23 to day 37; today is day 35
    assert status["month3"] == "upcoming"
    month1 = next(visit for visit in schedule if visit["code"] == "month1")
    assert month1["window_start"] == day(23) and month1["window_end"] == day(37)
    assert "sledai2k" in month1["assessments"]


def test_recording_a_visit_derives_its_scores_and_starts_follow_up(api: Api) -> None:
    patient = infused_patient(api.registry, first=FIRST)
    visit = visit_of(api.registry, patient, "month1").id
    recorded = {
        "visit_date": day(30),
        "sledai2k": {"arthritis": True, "rash": True},
        "pga": 1.5,
        "vitals": {"weight_kg": 61.5, "systolic_mmhg": 128, "diastolic_mmhg": 82},
        "cardiac": {"lvef_pct": 58, "nt_probnp_pg_ml": 120, "pericarditis": False},
        "labs": [
            {"analyte": "c4", "value": 0.08, "unit": "g/L", "reference_low": 0.1},
            {"analyte": "treg_pct", "value": 4.2, "unit": "%"},
        ],
    }
    with api.as_("coordinator") as client:
        response = client.put(f"/api/v1/visits/{visit}", json=recorded)
        state = body(client.get(f"/api/v1/patients/{patient}"))["state"]
    assert response.status_code == 200, response.text
    saved = body(response)
    # §1: arthritis 4 + rash 2 + low complement 2 (C4 0.08 < 0.1 g/L)
    assert saved["scores"]["sledai2k"]["total"] == 8
    assert saved["findings"]["pga"] == 1.5 and saved["findings"]["vitals"]["weight_kg"] == 61.5
    assert {lab["analyte"]: lab["loinc"] for lab in saved["labs"]} == {
        "c4": "4498-2",
        "treg_pct": None,
    }
    assert saved["status"] == "done"
    assert state == "follow-up"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"vitals": {"weight_kg": 4}}, "vitals.weight_kg"),
        ({"vitals": {"systolic_mmhg": 300}}, "vitals.systolic_mmhg"),
        ({"vitals": {"systolic_mmhg": 80, "diastolic_mmhg": 90}}, "vitals"),
        ({"vitals": {"temperature_c": 45}}, "vitals.temperature_c"),
        ({"cardiac": {"lvef_pct": 95}}, "cardiac.lvef_pct"),
        ({"cardiac": {"nt_probnp_pg_ml": -1}}, "cardiac.nt_probnp_pg_ml"),
        ({"pga": 3.5}, "pga"),
        ({"pga": 1.234}, "pga"),
        ({"facit_f": {"An1": 5}}, "facit_f.An1"),
        ({"sdi": {"no_such_item": True}}, "sdi.no_such_item"),
        ({"sledai2k": {"rash": "yes"}}, "sledai2k.rash"),
        ({"labs": [{"analyte": "platelets", "value": 5000, "unit": "10*9/L"}]}, "labs[0].value"),
        ({"labs": [{"analyte": "troponin", "value": 1, "unit": "ng/L"}]}, "labs[0].analyte"),
    ],
)
def test_implausible_values_are_refused_naming_the_field_and_change_nothing(
    api: Api, records: dict[str, str], change: dict[str, Any], field: str
) -> None:
    before = audit_head(api.registry)
    with api.as_("coordinator") as client:
        response = client.put(
            f"/api/v1/visits/{records['visit']}", json={"visit_date": day(30), **change}
        )
    assert response.status_code == 422, response.text
    assert field in [entry["field"] for entry in body(response)["error"]["fields"]]
    assert audit_head(api.registry) == before


def test_a_signed_visit_changes_only_with_a_reason(api: Api) -> None:
    patient = infused_patient(api.registry, first=FIRST)
    visit = visit_of(api.registry, patient, "month1").id
    path = f"/api/v1/visits/{visit}"
    with api.as_("coordinator") as coordinator, api.as_("physician") as physician:
        assert coordinator.put(path, json={"visit_date": day(30), "pga": 1}).status_code == 200
        wrong = physician.post(f"{path}/sign", json={"password": "not it at all"})
        signed = physician.post(f"{path}/sign", json={"password": PASSWORD})
        refused = coordinator.put(path, json={"visit_date": day(31), "pga": 1})
        changed = coordinator.put(
            path, json={"visit_date": day(31), "pga": 1, "reason": "date misread"}
        )
    assert wrong.status_code == 409
    assert signed.status_code == 200 and body(signed)["signed_at"] is not None
    assert body(signed)["signed_by_id"] == str(api.registry.users["physician"])
    assert refused.status_code == 422
    assert body(refused)["error"]["fields"][0]["field"] == "reason"
    assert changed.status_code == 200 and body(changed)["signed_at"] is None
    with api.registry.database.sessions() as session:
        entry = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_id == str(visit),
                AuditEvent.field == "visit_date",
                AuditEvent.reason == "date misread",
            )
        ).one()
    assert entry.old_value == f'"{day(30)}"' and entry.new_value == f'"{day(31)}"'


def test_medications_over_http(api: Api) -> None:
    patient = infused_patient(api.registry, first=FIRST)
    path = f"/api/v1/patients/{patient}/medications"
    with api.as_("coordinator") as client:
        created = client.post(path, json={**MEDICATION, "drug": "dexamethasone", "dose": 1.5})
        medication = body(created)["id"]
        stopped = client.patch(f"/api/v1/medications/{medication}", json={"stopped_on": day(1)})
        uncorrected = client.patch(f"/api/v1/medications/{medication}", json={"dose": 3})
        listed = body(client.get(path))
    assert created.status_code == 201
    assert body(created)["prednisone_mg_day"] == 10  # §11: dexamethasone 1.5 mg → 10 mg
    assert stopped.status_code == 200 and body(stopped)["stopped_on"] == day(1)
    assert uncorrected.status_code == 422
    assert body(uncorrected)["error"]["fields"][0]["field"] == "reason"
    assert [item["id"] for item in listed] == [medication]


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("medications", {**MEDICATION, "dose": 5e-324}, "dose"),  # found by schemathesis
        ("medications", {**MEDICATION, "route": "by mouth"}, "route"),
        ("adverse-events", {**EVENT, "grade": 6}, "grade"),
        ("adverse-events", {**EVENT, "relatedness": "maybe"}, "relatedness"),
        ("adverse-events", {**EVENT, "serious_criteria": ["bad luck"]}, "serious_criteria[0]"),
        ("adverse-events", {**EVENT, "lab_value": 1e-300, "lab_unit": "Cel"}, "lab_value"),
    ],
)
def test_bad_medications_and_events_are_refused_naming_the_field(
    api: Api, records: dict[str, str], path: str, payload: dict[str, Any], field: str
) -> None:
    before = audit_head(api.registry)
    with api.as_("physician") as client:
        response = client.post(f"/api/v1/patients/{records['patient']}/{path}", json=payload)
    assert response.status_code == 422, response.text
    assert field in [entry["field"] for entry in body(response)["error"]["fields"]]
    assert audit_head(api.registry) == before


def test_adverse_events_over_http(api: Api) -> None:
    patient = infused_patient(api.registry, first=FIRST)
    path = f"/api/v1/patients/{patient}/adverse-events"
    neutropenia = {
        **EVENT,
        "term": "Neutrophil count decreased",
        "grade": None,
        "lab_value": 800,
        "lab_unit": "/mm3",
        "action": "not-applicable",
    }
    with api.as_("physician") as client:
        created = client.post(path, json=neutropenia)
        disagreeing = client.post(path, json={**neutropenia, "grade": 2})
        listed = body(client.get(path))
    assert created.status_code == 201, created.text
    # §12: 800/mm³ = 0.8 × 10⁹/L, "< 1.0 – 0.5" is grade 3
    assert (body(created)["grade"], body(created)["grade_derived"]) == (3, True)
    assert body(created)["ctcae_term"] == "neutrophil_count_decreased"
    assert body(created)["serious"] is False
    assert disagreeing.status_code == 422
    assert "grades 800 /mm3 as 3" in body(disagreeing)["error"]["message"]
    assert [item["id"] for item in listed] == [body(created)["id"]]
