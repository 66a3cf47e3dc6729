"""Screening, the signed eligibility decision and consent over HTTP (issue 5 pathway rules)."""

from __future__ import annotations

from lupus_msc.clinical.sledai2k import WEIGHTS
from tests.pathway_helpers import (
    consent,
    decide,
    move,
    ok,
    register,
    screen,
    screening_body,
)
from tests.registry_fixtures import PASSWORD, Api


def test_a_screening_evaluates_every_rule_of_the_protocol(api: Api) -> None:
    patient = register(api)
    screening = screen(api, patient)
    assert screening["rule_results"] == {
        "adult": True,
        "sle_classified": True,
        "active_disease": True,
        "refractory": True,
        "no_active_infection": True,
        "not_pregnant": True,
    }
    assert screening["rules_eligible"] is True
    assert screening["sledai2k_total"] == 10
    assert screening["eular_acr_score"] == 6 + 6 + 4  # cutaneous 6, joints 6, low C3+C4 4 (§7)
    with api.as_("coordinator") as client:
        assert ok(client.get(f"/api/v1/patients/{patient['id']}"))["state"] == "screening"


def test_sledai_at_exactly_8_is_active_and_7_is_not(api: Api) -> None:
    eight = {key: key in ("arthritis", "rash", "low_complement") for key in WEIGHTS}
    seven = {key: key in ("arthritis", "rash", "fever") for key in WEIGHTS}
    at = screen(api, register(api), sledai2k=eight)
    below = screen(api, register(api), sledai2k=seven)
    assert (at["sledai2k_total"], at["rule_results"]["active_disease"]) == (8, True)
    assert (below["sledai2k_total"], below["rule_results"]["active_disease"]) == (7, False)
    assert below["rules_eligible"] is False


def test_an_incomplete_sledai_leaves_the_activity_rule_undecided(api: Api) -> None:
    screening = screen(api, register(api), sledai2k={"arthritis": True, "rash": True})
    assert screening["sledai2k_total"] is None
    assert screening["rule_results"]["active_disease"] is None
    assert screening["rules_eligible"] is None


def test_one_failed_immunosuppressant_is_not_refractory(api: Api) -> None:
    body = screening_body()
    screening = screen(api, register(api), treatments=body["treatments"][:1])
    assert screening["rule_results"]["refractory"] is False


def test_the_physicians_decision_moves_the_patient(api: Api) -> None:
    patient = register(api)
    decided = decide(api, screen(api, patient))
    assert decided["decision"] == "eligible" and decided["decided_by_id"]
    with api.as_("coordinator") as client:
        assert ok(client.get(f"/api/v1/patients/{patient['id']}"))["state"] == "eligible"


def test_overriding_the_rules_needs_a_reason(api: Api) -> None:
    patient = register(api)
    screening = screen(api, patient, pregnant=True)
    with api.as_("physician") as client:
        url = f"/api/v1/screenings/{screening['id']}/decision"
        refused = client.post(url, json={"decision": "eligible", "password": PASSWORD})
        assert refused.status_code == 422
        assert refused.json()["error"]["fields"] == [
            {"field": "reason", "message": "is required: the rules say ineligible"}
        ]
        assert ok(client.get(f"/api/v1/patients/{patient['id']}"))["state"] == "screening"


def test_a_wrong_password_does_not_sign(api: Api) -> None:
    screening = screen(api, register(api))
    with api.as_("physician") as client:
        url = f"/api/v1/screenings/{screening['id']}/decision"
        response = client.post(url, json={"decision": "eligible", "password": "not mine at all"})
    assert response.status_code == 409
    assert response.json()["error"]["fields"] == [{"field": "password", "message": "is wrong"}]


def test_a_coordinator_cannot_sign_eligibility(api: Api) -> None:
    screening = screen(api, register(api))
    with api.as_("coordinator") as client:
        url = f"/api/v1/screenings/{screening['id']}/decision"
        response = client.post(url, json={"decision": "eligible", "password": PASSWORD})
    assert response.status_code == 403


def test_a_screen_failed_patient_may_be_screened_again(api: Api) -> None:
    patient = register(api)
    decide(api, screen(api, patient, active_infection=True), decision="ineligible")
    again = screen(api, patient)
    assert again["rules_eligible"] is True
    with api.as_("coordinator") as client:
        assert ok(client.get(f"/api/v1/patients/{patient['id']}"))["state"] == "screening"


def test_consent_is_refused_before_eligibility(api: Api) -> None:
    patient = register(api)
    body = {"form_version": "2.1", "signed_on": "2026-01-12", "signer_name": "Ada Lovelace"}
    with api.as_("coordinator") as client:
        response = client.post(f"/api/v1/patients/{patient['id']}/consents", json=body)
        assert response.status_code == 409
        assert ok(client.get(f"/api/v1/patients/{patient['id']}/consents")) == []


def test_withdrawing_consent_withdraws_the_patient(api: Api) -> None:
    patient = register(api)
    decide(api, screen(api, patient))
    given = consent(api, patient)
    with api.as_("coordinator") as client:
        body = {"withdrawn_on": "2026-02-01", "reason": "moved abroad"}
        withdrawn = ok(client.post(f"/api/v1/consents/{given['id']}/withdrawal", json=body))
        assert withdrawn["withdrawal_reason"] == "moved abroad"
        assert ok(client.get(f"/api/v1/patients/{patient['id']}"))["state"] == "withdrawn"


def test_a_withdrawal_reason_longer_than_its_column_is_refused(api: Api) -> None:
    """The reason is kept in 500 characters; 501 would have been a 500 error on PostgreSQL."""
    patient = register(api)
    decide(api, screen(api, patient))
    given = consent(api, patient)
    with api.as_("coordinator") as client:
        path = f"/api/v1/consents/{given['id']}/withdrawal"
        response = client.post(path, json={"withdrawn_on": "2026-02-01", "reason": "r" * 501})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["fields"][0]["field"] == "reason"
        assert ok(client.get(f"/api/v1/patients/{patient['id']}"))["state"] == "consented"
        withdrawn = ok(client.post(path, json={"withdrawn_on": "2026-02-01", "reason": "r" * 500}))
    assert withdrawn["withdrawal_reason"] == "r" * 500


def test_enrolment_follows_consent(api: Api) -> None:
    patient = register(api)
    decide(api, screen(api, patient))
    consent(api, patient)
    assert move(api, patient, "enrolled")["state"] == "enrolled"


def test_eligible_cannot_be_set_by_a_bare_state_change(api: Api) -> None:
    patient = register(api)
    screen(api, patient)
    with api.as_("coordinator") as client:
        url = f"/api/v1/patients/{patient['id']}/transitions"
        response = client.post(url, json={"to": "eligible", "reason": "looks fine"})
    assert response.status_code == 409
    assert "signing the screening decision" in response.json()["error"]["message"]
