"""``/api/v1/exports`` over real HTTP, on SQLite and PostgreSQL (issue 8: the exports through
authenticated API endpoints).

A seeded synthetic cohort at sites S01 and S02 (tests/cohort_setup.py): the statistician is a
member of S01, the physician of S01 and S02, physician_b of S02, the coordinator of neither.
Each export is started, polled until done, and its files downloaded and read back: rows are
compared with the registry's records of the sites the user may export, and a de-identified
export is searched for every identifier of the registry.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import polars as pl
import pytest
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import select

from lupus_msc.services import accounts
from lupus_msc.services.access import Actor
from lupus_msc.services.accounts import UserChange, UserIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import Infusion, Patient, Role, Site, User
from tests.cohort_setup import identities, load_two_sites
from tests.registry_fixtures import PASSWORD, Api

Json = dict[str, Any]


@pytest.fixture(scope="module")
def cohort(api: Api) -> Api:
    load_two_sites(api.registry)
    return api


def study_codes(api: Api, *sites: str, infused: bool = False) -> set[str]:
    """The study codes of the patients of ``sites`` (with an infusion, when ``infused``)."""
    query = select(Patient.study_code).join(Site, Site.id == Patient.site_id)
    query = query.where(Site.code.in_(sites))
    if infused:
        query = query.where(Patient.id.in_(select(Infusion.patient_id)))
    with api.registry.database.reads() as session:
        return set(session.scalars(query))


def start(api: Api, persona: str, **body: Any) -> Any:
    with api.as_(persona) as client:
        return client.post("/api/v1/exports", json=body)


def finished(api: Api, persona: str, response: Any) -> Json:
    """Poll the started export until it is no longer queued or running."""
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location == f"/api/v1/exports/{response.json()['id']}"
    deadline = time.monotonic() + 300
    with api.as_(persona) as client:
        while True:
            job: Json = client.get(location).json()
            if job["state"] not in ("queued", "running"):
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.2)


def download(api: Api, persona: str, job: Json, name: str) -> bytes:
    (listed,) = [file for file in job["files"] if file["name"] == name]
    with api.as_(persona) as client:
        response = client.get(listed["url"])
    assert response.status_code == 200, response.text
    assert len(response.content) == listed["bytes"]
    return response.content


def exported(api: Api, persona: str, **body: Any) -> Json:
    job = finished(api, persona, start(api, persona, **body))
    assert job["state"] == "done", job
    return job


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_a_physician_exports_the_identified_dataset_of_their_sites(cohort: Api) -> None:
    job = exported(cohort, "physician_b", format="csv", deidentify=False)
    assert job["sites"] == ["B01", "S02"]
    assert [file["name"] for file in job["files"]] == [
        "patients.csv",
        "visits.csv",
        "adverse_events.csv",
        "dataset.json",
    ]
    patients = csv_rows(download(cohort, "physician_b", job, "patients.csv"))
    assert {row["patient_id"] for row in patients} == study_codes(cohort, "S02", infused=True)
    assert study_codes(cohort, "S01", infused=True)  # the other site has patients left out
    assert job["summary"].startswith(f"{len(patients)} patients, ")


def test_an_admin_exports_every_site(cohort: Api) -> None:
    job = exported(cohort, "admin", format="csv", deidentify=False)
    assert job["sites"] == []
    patients = csv_rows(download(cohort, "admin", job, "patients.csv"))
    every = study_codes(cohort, "S01", "S02", "A01", "B01", infused=True)
    assert {row["patient_id"] for row in patients} == every


def test_the_statistician_receives_de_identified_exports_only(cohort: Api) -> None:
    refused = start(cohort, "statistician", format="csv", deidentify=False)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["fields"][0]["field"] == "deidentify"
    with cohort.as_("statistician") as client:
        assert client.get("/api/v1/exports").json() == []
    job = exported(cohort, "statistician", format="csv")  # de-identified by default
    assert job["deidentified"] is True
    assert job["dates"] == "shift"
    content = b"".join(download(cohort, "statistician", job, f["name"]) for f in job["files"])
    text = content.decode()
    for person in identities(cohort.registry.database):
        for identifier in ("name", "listed", "born", "record", "code"):
            assert person[identifier] not in text
    patients = csv_rows(download(cohort, "statistician", job, "patients.csv"))
    assert len(patients) == len(study_codes(cohort, "S01", "A01", infused=True))


@pytest.mark.parametrize("kind", ["parquet", "sdtm", "odm", "redcap", "fhir"])
def test_every_format_is_exported_and_reads_back(cohort: Api, kind: str) -> None:
    job = exported(cohort, "physician", format=kind, deidentify=False, sites=["S01"])
    names = [file["name"] for file in job["files"]]
    in_s01 = study_codes(cohort, "S01")
    if kind == "parquet":
        patients = pl.read_parquet(download(cohort, "physician", job, "patients.parquet"))
        assert set(patients["patient_id"]) == study_codes(cohort, "S01", infused=True)
    elif kind == "sdtm":
        document = json.loads(download(cohort, "physician", job, "dm.json"))
        column = [c["name"] for c in document["columns"]].index("SUBJID")
        assert {row[column] for row in document["rows"]} == in_s01
        assert "define.json" in names
    elif kind == "odm":
        root = ET.fromstring(download(cohort, "physician", job, "odm.xml"))  # noqa: S314 - ours
        assert root.tag == "{http://www.cdisc.org/ns/odm/v1.3}ODM"
        subjects = root.iter("{http://www.cdisc.org/ns/odm/v1.3}SubjectData")
        keys = {str(subject.get("SubjectKey")) for subject in subjects}  # USUBJID: <STUDYID>-<code>
        assert {"-".join(key.rsplit("-", 2)[-2:]) for key in keys} == in_s01
    elif kind == "redcap":
        records = [n for n in names if "records" in n]
        rows = csv_rows(download(cohort, "physician", job, records[0]))
        assert {row["record_id"] for row in rows} == in_s01
    else:
        lines = download(cohort, "physician", job, "Patient.ndjson").decode().splitlines()
        for line in lines:
            get_fhir_model_class("Patient").model_validate_json(line)
        assert len(lines) == len(in_s01)


def test_a_site_the_user_is_not_a_member_of_is_forbidden(cohort: Api) -> None:
    refused = start(cohort, "physician_b", format="csv", sites=["S01"])
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["fields"] == [
        {"field": "sites", "message": "you are not a member of site S01"}
    ]
    unknown = start(cohort, "physician_b", format="csv", sites=["ZZ9"])
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["fields"][0]["field"] == "sites"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "redcap", "dates": "days"}, "dates"),
        ({"format": "fhir", "as_of": "2026-01-01"}, "as_of"),
        ({"format": "csv", "types": ["Patient"]}, "types"),
        ({"format": "fhir", "types": ["Spaceship"]}, "types"),
        ({"format": "sdtm", "deidentify": False, "dates": "days"}, "dates"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_options_the_format_does_not_take_are_refused(cohort: Api, body: Json, field: str) -> None:
    with cohort.as_("physician") as client:
        before = client.get("/api/v1/exports").json()
        refused = client.post("/api/v1/exports", json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["fields"][0]["field"] == field
        assert client.get("/api/v1/exports").json() == before  # nothing queued


def test_an_export_is_its_owners_alone_and_deleting_removes_it(cohort: Api) -> None:
    job = exported(cohort, "physician", format="csv", deidentify=False, sites=["S02"])
    url, file_url = f"/api/v1/exports/{job['id']}", job["files"][0]["url"]
    with cohort.as_("physician_b") as other:
        assert other.get(url).status_code == 404
        assert other.get(file_url).status_code == 404
        assert other.delete(url).status_code == 404
        assert job["id"] not in {j["id"] for j in other.get("/api/v1/exports").json()}
    with cohort.as_("physician") as owner:
        assert job["id"] in {j["id"] for j in owner.get("/api/v1/exports").json()}
        assert owner.delete(url).status_code == 204
        assert owner.get(url).status_code == 404
        assert owner.get(file_url).status_code == 404


def test_a_user_of_no_site_with_patients_exports_nobody_elses(cohort: Api) -> None:
    job = exported(cohort, "coordinator", format="csv", deidentify=False)
    assert job["sites"] == ["A01"]
    patients = csv_rows(download(cohort, "coordinator", job, "patients.csv"))
    assert {row["patient_id"] for row in patients} == study_codes(cohort, "A01", infused=True)


def _site_ids(api: Api, *codes: str) -> list[uuid.UUID]:
    with api.registry.database.reads() as session:
        return list(session.scalars(select(Site.id).where(Site.code.in_(codes))))


def _change(api: Api, user_id: uuid.UUID, role: Role, *sites: str) -> None:
    """What an admin does on the user's page: a new role and sites."""
    with unit_of_work(api.registry.database, None) as session:
        admin = Actor.of(session.get_one(User, api.registry.users["admin"]))
        change = UserChange(role=role, site_ids=_site_ids(api, *sites))
        accounts.change_user(session, admin, user_id, change)


@pytest.mark.parametrize(
    ("role", "sites"),
    [(Role.PHYSICIAN, ("S02",)), (Role.STATISTICIAN, ("S01",))],
    ids=["removed from the site", "no longer reads identity"],
)
def test_a_user_who_lost_access_no_longer_finds_the_export(
    cohort: Api, role: Role, sites: tuple[str, ...]
) -> None:
    """An identified export of S01: once its owner has left S01, or became a statistician,
    neither it nor its files are found (a job keeps no rights of its own)."""
    name = f"leaver_{role.value}"
    with unit_of_work(cohort.registry.database, None) as session:
        user = accounts.add_user(
            session,
            None,
            UserIn(
                email=f"{name}@example.org",
                full_name="Leaver",
                role=Role.PHYSICIAN,
                password=PASSWORD,
                site_ids=_site_ids(cohort, "S01"),
            ),
            hasher=accounts.GENERATED_PASSWORD_HASHER,
        )
        user_id = user.id
        cohort.registry.tokens[name] = accounts.issue_token(session, user, "exports").token
    job = exported(cohort, name, format="csv", deidentify=False)
    url, file_url = f"/api/v1/exports/{job['id']}", job["files"][0]["url"]
    with cohort.as_(name) as client:
        response = client.get(file_url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
    _change(cohort, user_id, role, *sites)
    with cohort.as_(name) as client:
        assert client.get(url).status_code == 404
        assert client.get(file_url).status_code == 404
        assert client.get("/api/v1/exports").json() == []


def test_a_redcap_export_without_a_protocol_is_refused_before_it_is_queued(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Refused at the request (409), not failed in the job later."""
    from lupus_msc.store.database import Database
    from lupus_msc.web.app import create_app
    from tests.registry_fixtures import serving

    database = Database(f"sqlite:///{tmp_path_factory.mktemp('empty')}/registry.sqlite3")
    database.upgrade()
    with unit_of_work(database, None) as session:
        user = accounts.add_user(
            session,
            None,
            UserIn(email="a@example.org", full_name="A", role=Role.ADMIN, password=PASSWORD),
            hasher=accounts.GENERATED_PASSWORD_HASHER,
        )
        token = accounts.issue_token(session, user, "exports").token
    headers = {"Authorization": f"Bearer {token}"}
    with serving(create_app(database.url)) as base, httpx.Client(base_url=base) as client:
        refused = client.post("/api/v1/exports", json={"format": "redcap"}, headers=headers)
        assert refused.status_code == 409, refused.text
        assert "protocol" in refused.json()["error"]["message"]
        assert client.get("/api/v1/exports", headers=headers).json() == []
    database.dispose()
