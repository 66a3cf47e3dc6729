"""The Exports page over real HTTP, signed in through the form (SQLite and PostgreSQL): ask for
an export, follow it, download its files, delete it; CSRF on every form; the statistician's
exports are de-identified whatever the form sends.

The cohort is tests/cohort_setup.py's: the statistician is a member of S01 (and A01), the
physician of S01 and S02, physician_b of S02 (and B01)."""

from __future__ import annotations

import csv
import io
import re
import time
from contextlib import closing

import httpx
import pytest
from sqlalchemy import select

from lupus_msc.store.models import Infusion, Patient, Site
from tests.cohort_setup import identities, load_two_sites
from tests.registry_fixtures import Api
from tests.web_client import csrf_of, signed_in

EXPORT_ROW = re.compile(r'href="(/exports/([0-9a-f-]{36})/files/([^"]+))"')


@pytest.fixture(scope="module")
def cohort(api: Api) -> Api:
    load_two_sites(api.registry)
    return api


def infused_codes(api: Api, *sites: str) -> set[str]:
    query = (
        select(Patient.study_code)
        .join(Site, Site.id == Patient.site_id)
        .where(Site.code.in_(sites), Patient.id.in_(select(Infusion.patient_id)))
    )
    with api.registry.database.reads() as session:
        return set(session.scalars(query))


def ask(client: httpx.Client, **fields: object) -> httpx.Response:
    data = {"csrf_token": csrf_of(client, "/exports"), **fields}
    return client.post("/exports", data=data)


def files_when_done(client: httpx.Client) -> dict[str, str]:
    """Reload the page (as its refresh does) until no export is pending; the newest export's
    files, by name → link."""
    deadline = time.monotonic() + 120
    while True:
        page = client.get("/exports")
        assert page.status_code == 200
        if 'http-equiv="refresh"' not in page.text:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    links = EXPORT_ROW.findall(page.text)
    newest = links[0][1]
    return {name: href for href, job, name in links if job == newest}


def rows(client: httpx.Client, href: str) -> list[dict[str, str]]:
    response = client.get(href)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return list(csv.DictReader(io.StringIO(response.text)))


def test_a_physician_asks_for_an_identified_export_and_downloads_it(cohort: Api) -> None:
    with closing(signed_in(cohort.base_url, "physician_b@example.org")) as client:
        page = client.get("/exports")
        assert '<a href="/exports"' in page.text  # in the menu
        assert 'value="S02"' in page.text and 'value="S01"' not in page.text  # own sites only
        answer = ask(client, format="csv", deidentify="false", sites="S02")
        assert answer.status_code == 303, answer.text
        files = files_when_done(client)
        assert set(files) == {"patients.csv", "visits.csv", "adverse_events.csv", "dataset.json"}
        patients = rows(client, files["patients.csv"])
    assert {row["patient_id"] for row in patients} == infused_codes(cohort, "S02")


def test_the_statisticians_export_is_de_identified_whatever_the_form_says(cohort: Api) -> None:
    with closing(signed_in(cohort.base_url, "statistician@example.org")) as client:
        page = client.get("/exports")
        assert 'id="deidentify" type="checkbox" checked disabled' in page.text
        answer = ask(client, format="csv", deidentify="false")  # forged: the box is locked
        assert answer.status_code == 303, answer.text
        files = files_when_done(client)
        text = "".join(client.get(href).text for href in files.values())
        patients = rows(client, files["patients.csv"])
    assert len(patients) == len(infused_codes(cohort, "S01", "A01"))
    for person in identities(cohort.registry.database):
        for identifier in ("name", "listed", "born", "record", "code"):
            assert person[identifier] not in text


def test_a_form_without_its_csrf_token_is_refused_and_queues_nothing(cohort: Api) -> None:
    with closing(signed_in(cohort.base_url, "physician@example.org")) as client:
        before = client.get("/exports").text.count("/delete")
        refused = client.post("/exports", data={"format": "csv"})
        assert refused.status_code == 403
        assert client.get("/exports").text.count("/delete") == before


def test_an_option_the_format_does_not_take_is_shown_beside_the_form(cohort: Api) -> None:
    with closing(signed_in(cohort.base_url, "physician@example.org")) as client:
        before = client.get("/exports").text.count("/delete")
        refused = ask(client, format="redcap", deidentify="on", dates="days")
        assert refused.status_code == 422
        assert 'id="dates-error"' in refused.text
        assert "day numbers only for csv, parquet, sdtm, odm" in refused.text
        assert client.get("/exports").text.count("/delete") == before


def test_an_export_is_its_owners_and_deleting_removes_it(cohort: Api) -> None:
    with closing(signed_in(cohort.base_url, "physician@example.org")) as owner:
        assert ask(owner, format="csv", deidentify="on", sites="S01").status_code == 303
        files = files_when_done(owner)
        link = files["dataset.json"]
        job = link.split("/")[2]
        with closing(signed_in(cohort.base_url, "physician_b@example.org")) as other:
            assert other.get(link).status_code == 404
            forged = other.post(
                f"/exports/{job}/delete", data={"csrf_token": csrf_of(other, "/exports")}
            )
            assert forged.status_code == 404
        assert owner.get(link).status_code == 200
        deleted = owner.post(f"/exports/{job}/delete", data={"csrf_token": csrf_of(owner, "/")})
        assert deleted.status_code == 303
        assert owner.get(link).status_code == 404
        assert job not in owner.get("/exports").text
