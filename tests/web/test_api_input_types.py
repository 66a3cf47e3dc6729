"""Input JSON types over HTTP, found by Schemathesis: text may not hold a NUL character
(PostgreSQL cannot store one: it was a 500 there and stored on SQLite), booleans are JSON
true/false and dates are text (pydantic's lax mode took 0 as false and 0 as 1970-01-01).
Each is refused naming the field, and changes nothing. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from lupus_msc.store.models import AuditHead
from tests.pathway_helpers import patient_body, register, screening_body
from tests.registry_fixtures import PASSWORD, Api


def audit_head(api: Api) -> str | None:
    with api.registry.database.sessions() as session:
        head = session.get(AuditHead, 1)
        return None if head is None else head.row_hash


def refused(api: Api, persona: str, path: str, body: Any) -> list[dict[str, str]]:
    before = audit_head(api)
    with api.as_(persona) as client:
        response = client.post(f"/api/v1{path}", json=body)
    assert response.status_code == 422, response.text
    assert audit_head(api) == before
    fields: list[dict[str, str]] = response.json()["error"]["fields"]
    return fields


def user(**changes: Any) -> dict[str, Any]:
    body = {
        "email": "nul-test@example.org",
        "full_name": "Ada Lovelace",
        "role": "monitor",
        "password": PASSWORD,
    }
    return body | changes


@pytest.mark.parametrize(
    ("persona", "path", "body", "field"),
    [
        ("admin", "/users", user(full_name="Ada\x00Lovelace"), "full_name"),
        ("coordinator", "/patients", None, "given_name"),
    ],
    ids=["a user's name", "a patient's name"],
)
def test_a_nul_character_is_refused_naming_the_field(
    api: Api, persona: str, path: str, body: Any, field: str
) -> None:
    body = body or patient_body(api) | {"given_name": "Ada\x00"}
    fields = refused(api, persona, path, body)
    assert [(entry["field"], entry["message"]) for entry in fields] == [
        (field, "must not contain the NUL character")
    ]


def test_a_nul_character_in_a_login_is_refused_not_looked_up(api: Api) -> None:
    with api.anonymous() as client:
        body = {"email": "nurse\x00@example.org", "password": PASSWORD}
        response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0]["field"] == "email"


@pytest.mark.parametrize("value", [0, 1, "false", "no"])
def test_a_boolean_is_json_true_or_false(api: Api, value: Any) -> None:
    patient = register(api)
    body = screening_body(active_infection=value)
    fields = refused(api, "coordinator", f"/patients/{patient['id']}/screenings", body)
    assert [(entry["field"], entry["message"]) for entry in fields] == [
        ("active_infection", "must be true or false")
    ]


@pytest.mark.parametrize("value", [0, 20_000, 1.5])
def test_a_date_is_written_as_text(api: Api, value: Any) -> None:
    user_id = api.registry.users["nurse"]
    body = {"kind": "infusion", "granted_on": value, "expires_on": "2030-01-01"}
    fields = refused(api, "admin", f"/users/{user_id}/qualifications", body)
    assert [(entry["field"], entry["message"]) for entry in fields] == [
        ("granted_on", "must be a date written YYYY-MM-DD")
    ]


LONGEST_NAME = "N" * 100


@pytest.mark.parametrize("field", ["given_name", "family_name"])
def test_a_name_longer_than_its_column_is_refused_naming_the_field(api: Api, field: str) -> None:
    """Names are stored in 100 characters; 101 was a 500 on PostgreSQL (found by Schemathesis)."""
    fields = refused(api, "coordinator", "/patients", patient_body(api) | {field: "N" * 101})
    assert [entry["field"] for entry in fields] == [field]
    patient = register(api)
    before = audit_head(api)
    with api.as_("coordinator") as client:
        too_long = {field: "N" * 101, "reason": "typing error"}
        response = client.patch(f"/api/v1/patients/{patient['id']}", json=too_long)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["error"]["fields"]] == [field]
        assert audit_head(api) == before
        longest = {field: LONGEST_NAME, "reason": "typing error"}
        response = client.patch(f"/api/v1/patients/{patient['id']}", json=longest)
    assert response.status_code == 200, response.text
    assert response.json()[field] == LONGEST_NAME
