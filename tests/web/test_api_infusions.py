"""The infusion and its gates over HTTP: each refusal of issue 5's infusion rule has a test."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import time_machine
from sqlalchemy import select

from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import Screening
from tests.pathway_helpers import (
    allocate,
    bedside_check,
    consent,
    custody,
    decide,
    enrolled_patient,
    infuse,
    infusion_body,
    ok,
    quarantined_lot,
    register,
    release,
    screen,
    thawed_lot_for,
)
from tests.registry_fixtures import Api

THAWED = "2026-02-01T10:00:00+00:00"
CHECKED = "2026-02-01T10:20:00+00:00"
STARTED = "2026-02-01T10:30:00+00:00"


def ready(api: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An enrolled patient, a thawed lot allocated to them, and a matched bedside check."""
    patient = enrolled_patient(api)
    lot = thawed_lot_for(api, patient, THAWED)
    check = ok(bedside_check(api, patient, lot, CHECKED), 201)
    return patient, lot, check


def refusal(response: Any, status: int = 409) -> tuple[str, str]:
    assert response.status_code == status, response.text
    field = response.json()["error"]["fields"][0]
    return field["field"], field["message"]


def infusions_of(api: Api, patient: dict[str, Any]) -> list[Any]:
    with api.as_("monitor") as client:
        return list(ok(client.get(f"/api/v1/patients/{patient['id']}/infusions")))


def test_an_infusion_with_every_gate_open(api: Api) -> None:
    patient, lot, check = ready(api)
    infusion = ok(infuse(api, patient, infusion_body(check, STARTED)), 201)
    assert infusion["computed_cells"] == 60_000_000  # 1 × 10⁶/kg × 60 kg (§14)
    assert infusion["computed_volume_ml"] == 12  # 60 × 10⁶ ÷ 5 × 10⁶/mL
    assert (infusion["actual_dose_per_kg"], infusion["within_range"]) == (1_000_000, True)
    assert infusion["verified_by_id"] == str(api.registry.users["nurse2"])
    with api.as_("monitor") as client:
        assert ok(client.get(f"/api/v1/patients/{patient['id']}"))["state"] == "infused"
        assert ok(client.get(f"/api/v1/lots/{lot['id']}"))["state"] == "infused"
        kinds = [e["kind"] for e in ok(client.get(f"/api/v1/lots/{lot['id']}/custody"))]
        visits = ok(client.get(f"/api/v1/patients/{patient['id']}/visits"))
    assert kinds[-2:] == ["bedside-verified", "infused"]
    day7 = next(visit for visit in visits if visit["code"] == "day7")
    assert day7["target_date"] == "2026-02-08"


def test_it_refuses_a_patient_without_consent(api: Api) -> None:
    patient = register(api)
    decide(api, screen(api, patient))
    lot = quarantined_lot(api)
    release(api, lot)
    field, _ = refusal(infuse(api, patient, infusion_body({"id": lot["id"]}, STARTED)))
    assert field == "consent"
    assert infusions_of(api, patient) == []


def test_it_refuses_eligibility_not_signed_by_a_physician(api: Api) -> None:
    patient, _, check = ready(api)
    with unit_of_work(api.registry.database, None) as session:
        query = select(Screening).where(Screening.patient_id == uuid.UUID(patient["id"]))
        session.scalars(query).one().decided_by_id = api.registry.users["coordinator"]
    field, message = refusal(infuse(api, patient, infusion_body(check, STARTED)))
    assert (field, message) == ("eligibility", "eligibility must be signed by a physician")


def test_it_refuses_a_lot_thawed_too_long_ago(api: Api) -> None:
    patient, _, check = ready(api)
    late = "2026-02-01T12:01:00+00:00"  # 2 h 1 min after thawing; the protocol allows 120 min
    field, message = refusal(infuse(api, patient, infusion_body(check, late)))
    assert field == "started_at" and "limit is 120 min" in message
    assert infusions_of(api, patient) == []


def test_exactly_120_minutes_after_thawing_is_allowed(api: Api) -> None:
    patient, _, check = ready(api)
    on_time = "2026-02-01T12:00:00+00:00"
    ok(infuse(api, patient, infusion_body(check, on_time, ended_at=None)), 201)


def test_a_lot_patient_mismatch_is_refused_and_logged(api: Api) -> None:
    patient = enrolled_patient(api)
    other = enrolled_patient(api)
    lot = thawed_lot_for(api, other, THAWED)
    field, message = refusal(bedside_check(api, patient, lot, CHECKED))
    assert field == "scanned_lot_code" and "is not allocated to" in message
    with api.as_("monitor") as client:
        trail = ok(client.get(f"/api/v1/patients/{patient['id']}/audit"))
    logged = [event for event in trail if event["entity"] == "bedside_checks"]
    assert len(logged) == 1 and '"matched":false' in logged[0]["new_value"]


def test_a_wrong_wristband_is_refused(api: Api) -> None:
    patient = enrolled_patient(api)
    lot = thawed_lot_for(api, patient, THAWED)
    response = bedside_check(api, patient, lot, CHECKED, scanned_patient_code="A01-9999")
    assert "the wristband says A01-9999" in refusal(response)[1]


def test_the_two_checkers_must_be_different_people(api: Api) -> None:
    patient = enrolled_patient(api)
    lot = thawed_lot_for(api, patient, THAWED)
    response = bedside_check(api, patient, lot, CHECKED, second="nurse")
    assert refusal(response)[0] == "second_checker_email"


def test_the_second_checker_must_be_qualified(api: Api) -> None:
    patient = enrolled_patient(api)
    lot = thawed_lot_for(api, patient, THAWED)
    field, message = refusal(bedside_check(api, patient, lot, CHECKED, second="physician2"))
    assert field == "second_checker_email" and "no valid infusion qualification" in message


def test_an_unchecked_lot_cannot_be_infused(api: Api) -> None:
    patient = enrolled_patient(api)
    thawed_lot_for(api, patient, THAWED)
    response = infuse(
        api, patient, infusion_body({"id": "00000000-0000-4000-8000-000000000000"}, STARTED)
    )
    assert refusal(response, 422)[0] == "bedside_check_ids"


def test_a_dose_outside_the_range_needs_a_deviation(api: Api) -> None:
    """90 × 10⁶ cells for 60 kg = 1.5 × 10⁶/kg, above the default maximum of 1.2 × 10⁶/kg."""
    patient, _, check = ready(api)
    body = infusion_body(check, STARTED, actual_cells=90_000_000, actual_volume_ml=18)
    field, _ = refusal(infuse(api, patient, body))
    assert field == "actual_cells"
    body["dose_deviation"] = "Whole lot given on the investigator's instruction (dose note 12)"
    infusion = ok(infuse(api, patient, body), 201)
    assert (infusion["actual_dose_per_kg"], infusion["within_range"]) == (1_500_000, False)


def test_the_dose_range_edges_are_inside(api: Api) -> None:
    """1.2 × 10⁶/kg exactly is within the default range (0.8–1.2 × 10⁶/kg)."""
    patient, _, check = ready(api)
    body = infusion_body(check, STARTED, actual_cells=72_000_000, actual_volume_ml=14.4)
    assert ok(infuse(api, patient, body), 201)["within_range"] is True


def test_a_coordinator_cannot_infuse(api: Api) -> None:
    patient, _, check = ready(api)
    assert (
        infuse(api, patient, infusion_body(check, STARTED), persona="coordinator").status_code
        == 403
    )


def test_it_refuses_an_expired_lot(api: Api) -> None:
    """Allocated while good, expired by the day of the infusion (clock moved 20 days on)."""
    today = dt.datetime.now(dt.UTC)
    expires = (today + dt.timedelta(days=10)).date().isoformat()
    patient = enrolled_patient(api)
    lot = quarantined_lot(api, expires_on=expires)
    release(api, lot)
    allocate(api, lot, patient)
    later = today + dt.timedelta(days=20)
    with time_machine.travel(later, tick=False):
        thawed = (later - dt.timedelta(minutes=30)).isoformat()
        custody(api, lot, "shipped", (later - dt.timedelta(minutes=40)).isoformat(), "ward")
        custody(api, lot, "thawed", thawed, "ward")
        checked = (later - dt.timedelta(minutes=20)).isoformat()
        check = ok(bedside_check(api, patient, lot, checked), 201)
        response = infuse(api, patient, infusion_body(check, later.isoformat(), ended_at=None))
    field, message = refusal(response)
    assert field == "lot" and "expired" in message


def test_consent_withdrawn_blocks_the_infusion(api: Api) -> None:
    patient = register(api)
    decide(api, screen(api, patient))
    given = consent(api, patient)
    with api.as_("coordinator") as client:
        body = {"withdrawn_on": "2026-01-20", "reason": "changed her mind"}
        ok(client.post(f"/api/v1/consents/{given['id']}/withdrawal", json=body))
    field, _ = refusal(infuse(api, patient, infusion_body({"id": patient["id"]}, STARTED)))
    assert field == "consent"


def test_an_injection_site_longer_than_its_column_is_refused(api: Api) -> None:
    """The site is stored in 100 characters; 101 would have been a 500 on PostgreSQL."""
    patient, _lot, check = ready(api)
    body = infusion_body(check, STARTED, injection_site="x" * 101)
    assert refusal(infuse(api, patient, body), 422)[0] == "injection_site"
    assert infusions_of(api, patient) == []
    body = infusion_body(check, STARTED, injection_site="x" * 100)
    assert ok(infuse(api, patient, body), 201)["injection_site"] == "x" * 100
