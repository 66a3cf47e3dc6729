"""The screening and consent pages over HTTP: role refusals (403), other site (404), CSRF, and a
refused write that changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from lupus_msc.clinical import eular_acr_2019
from lupus_msc.clinical.eular_acr_2019 import EularAcr2019Input
from lupus_msc.services.screening import DERIVED_FIELDS, ScreeningIn, screening_fields
from lupus_msc.store.models import Patient
from tests.browser_fixtures import Site
from tests.pathway_helpers import Json, decide, ok, register, screen
from tests.registry_fixtures import PASSWORD, Api

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient:
    """An httpx client signed in through the sign-in form, with the page's CSRF token."""

    def __init__(self, site: Site, persona: str) -> None:
        self.client = httpx.Client(base_url=site.base_url, timeout=30, follow_redirects=False)
        form = self.client.get("/sign-in")
        nonce = re.search(r'name="sign_in_nonce" value="([^"]+)"', form.text)
        assert nonce is not None
        signed = self.client.post(
            "/sign-in",
            data={
                "login": f"{persona}@example.org",
                "password": PASSWORD,
                "sign_in_nonce": nonce.group(1),
                "next": "/",
            },
        )
        assert signed.status_code == 303, signed.text
        found = CSRF.search(self.client.get("/account/password").text)
        assert found is not None
        self.csrf = found.group(1)

    def post(self, url: str, data: dict[str, Any], *, csrf: bool = True) -> httpx.Response:
        body = {**data, "csrf_token": self.csrf} if csrf else data
        return self.client.post(url, data=body)


@pytest.fixture(scope="module")
def api(site: Site) -> Api:
    return Api(site.base_url, site.registry)


@pytest.fixture(scope="module")
def clients(site: Site) -> Iterator[dict[str, WebClient]]:
    made = {
        persona: WebClient(site, persona)
        for persona in ("coordinator", "nurse", "monitor", "statistician", "physician_b")
    }
    yield made
    for web in made.values():
        web.client.close()


def screenings_of(api: Api, patient: Json) -> list[Json]:
    with api.as_("coordinator") as client:
        answer = client.get(f"/api/v1/patients/{patient['id']}/screenings")
        assert answer.status_code == 200, answer.text
        found: list[Json] = answer.json()
        return found


def test_the_fields_a_rule_may_read_outside_other_are_those_the_service_derives() -> None:
    patient = Patient(date_of_birth=dt.date(1990, 5, 17))
    data = ScreeningIn(screened_on=dt.date(2026, 1, 10), other={"egfr_ml_min": Decimal(60)})
    assert set(screening_fields(patient, data)) == DERIVED_FIELDS | {"egfr_ml_min"}


def state_of(api: Api, patient: Json) -> str:
    with api.as_("coordinator") as client:
        state: str = ok(client.get(f"/api/v1/patients/{patient['id']}"))["state"]
        return state


FORM = {
    "screened_on": "2026-01-10",
    "eular_acr_2019.ana_titer": "320",
    "eular_acr_2019.criteria": ["oral_ulcers", "acute_cutaneous_lupus", "low_c3"],
}


def test_the_preview_fragment_shows_the_engines_total(
    api: Api, clients: dict[str, WebClient]
) -> None:
    patient = register(api)
    url = f"/patients/{patient['id']}/screening/preview"
    answer = clients["coordinator"].post(url, FORM)
    assert answer.status_code == 200
    expected = eular_acr_2019.score(
        EularAcr2019Input(
            ana_titer=320, criteria=["oral_ulcers", "acute_cutaneous_lupus", "low_c3"]
        )
    ).total
    shown = re.search(r'id="live-eular-total">(\d+)<', answer.text)
    assert shown is not None and int(shown.group(1)) == expected == 9
    assert "<html" not in answer.text  # a fragment, not a page
    assert screenings_of(api, patient) == []  # a preview records nothing


def test_a_screening_posted_without_its_csrf_token_is_refused_and_records_nothing(
    api: Api, clients: dict[str, WebClient]
) -> None:
    patient = register(api)
    url = f"/patients/{patient['id']}/screening"
    refused = clients["coordinator"].post(url, FORM, csrf=False)
    assert refused.status_code == 403
    assert "security token" in refused.text
    assert screenings_of(api, patient) == []
    saved = clients["coordinator"].post(url, FORM)
    assert saved.status_code == 303
    assert len(screenings_of(api, patient)) == 1


def test_a_nurse_posting_a_decision_is_forbidden_and_nothing_changes(
    api: Api, clients: dict[str, WebClient]
) -> None:
    patient = register(api)
    screening = screen(api, patient)
    body = {"screening_id": screening["id"], "decision": "eligible", "password": PASSWORD}
    answer = clients["nurse"].post(f"/patients/{patient['id']}/screening/decision", body)
    assert answer.status_code == 403
    assert screenings_of(api, patient)[-1]["decision"] is None
    assert state_of(api, patient) == "screening"


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("monitor", "screening"),
        ("monitor", "screening/preview"),
        ("monitor", "consent"),
        ("monitor", "consent/withdraw"),
        ("statistician", "screening"),
    ],
)
def test_read_only_roles_may_not_post(
    api: Api, clients: dict[str, WebClient], persona: str, path: str
) -> None:
    patient = register(api)
    answer = clients[persona].post(f"/patients/{patient['id']}/{path}", FORM)
    assert answer.status_code == 403
    assert screenings_of(api, patient) == []


def test_the_statistician_may_not_read_the_identified_screening(
    api: Api, clients: dict[str, WebClient]
) -> None:
    patient = register(api)
    for path in ("screening", "consent"):
        answer = clients["statistician"].client.get(f"/patients/{patient['id']}/{path}")
        assert answer.status_code == 403
        assert "Lovelace" not in answer.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "screening"),
        ("post", "screening"),
        ("post", "screening/preview"),
        ("post", "screening/decision"),
        ("get", "consent"),
        ("post", "consent"),
        ("post", "consent/withdraw"),
    ],
)
def test_another_sites_patient_is_not_found(
    api: Api, clients: dict[str, WebClient], method: str, path: str
) -> None:
    patient = register(api)
    screening = screen(api, patient)
    web = clients["physician_b"]
    url = f"/patients/{patient['id']}/{path}"
    body = {
        **FORM,
        "screening_id": screening["id"],
        "decision": "eligible",
        "password": PASSWORD,
        "form_version": "2.1",
        "signed_on": "2026-01-12",
        "signer_name": "Ada Lovelace",
        "withdrawn_on": "2026-01-13",
        "reason": "moved away",
    }
    answer = web.client.get(url) if method == "get" else web.post(url, body)
    assert answer.status_code == 404, answer.text
    assert "Lovelace" not in answer.text
    assert screenings_of(api, patient)[-1]["decision"] is None


def test_a_wrong_signature_changes_nothing(api: Api, site: Site) -> None:
    patient = register(api)
    screening = screen(api, patient)
    physician = WebClient(site, "physician")
    body = {"screening_id": screening["id"], "decision": "eligible", "password": "wrong"}
    answer = physician.post(f"/patients/{patient['id']}/screening/decision", body)
    assert answer.status_code == 409
    assert re.search(r'id="password-error">is wrong<', answer.text)
    assert state_of(api, patient) == "screening"
    decide(api, screening)  # the right password still works afterwards
    assert state_of(api, patient) == "eligible"
    physician.client.close()


def test_unreadable_fields_are_refused_next_to_the_field_and_record_nothing(
    api: Api, clients: dict[str, WebClient]
) -> None:
    patient = register(api)
    url = f"/patients/{patient['id']}/screening"
    bad = {**FORM, "eular_acr_2019.ana_titer": "1:160", "treatments.0.drug": "azathioprine"}
    answer = clients["coordinator"].post(url, bad)
    assert answer.status_code == 422
    assert re.search(r'id="eular_acr_2019.ana_titer-error">must be a whole number<', answer.text)
    assert re.search(r'id="treatments.0.drug_class-error">[^<]+<', answer.text)
    assert 'value="azathioprine"' in answer.text  # what was typed is kept
    future = clients["coordinator"].post(url, {**FORM, "screened_on": "2999-01-01"})
    assert future.status_code == 422
    assert re.search(
        r'id="screened_on-error">must be between the date of birth and today<', future.text
    )
    assert screenings_of(api, patient) == []


def test_the_preview_names_what_it_cannot_read_yet(api: Api, clients: dict[str, WebClient]) -> None:
    patient = register(api)
    bad = {**FORM, "eular_acr_2019.ana_titer": "lots"}
    answer = clients["coordinator"].post(f"/patients/{patient['id']}/screening/preview", bad)
    assert answer.status_code == 200
    assert "eular_acr_2019.ana_titer: must be a whole number" in answer.text
    assert 'id="live-eular-total">—<' in answer.text
