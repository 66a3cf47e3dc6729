"""The ``/fhir`` API read over real HTTP with a FHIR client library (fhirpy), issue 8.

A seeded two-site cohort is loaded through the services (SQLite and PostgreSQL); the app is served
by uvicorn. Each persona reads with its own token: a physician of site S01, a physician of S02, and
a statistician of S01, who must only ever get de-identified resources. Every resource received is
validated against its R4B model, and what it says is compared with the registry's records.
The bulk export's kick-off and polling are plain HTTP (fhirpy has no Bulk Data client); every
NDJSON line is validated the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound
from sqlalchemy import select

from lupus_msc.services import accounts
from lupus_msc.services.accounts import UserIn
from lupus_msc.services.cohort_loader import load
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store import models
from lupus_msc.store.database import Database
from lupus_msc.web.app import create_app
from lupus_msc.web.jobs import Jobs
from tests.registry_fixtures import PASSWORD, serving

PATIENTS = 20
STUDY_CODE = "https://lupus-msc.org/fhir/sid/study-code"
PSEUDONYM = "https://lupus-msc.org/fhir/sid/pseudonym"
C3_LOINC = "4485-9"


@dataclass
class Server:
    base_url: str
    database: Database
    tokens: dict[str, str]
    sites: dict[str, uuid.UUID]
    jobs: Jobs

    def client(self, persona: str) -> SyncFHIRClient:
        return SyncFHIRClient(
            f"{self.base_url}/fhir", authorization=f"Bearer {self.tokens[persona]}"
        )

    def http(self, persona: str | None) -> httpx.Client:
        headers = {} if persona is None else {"Authorization": f"Bearer {self.tokens[persona]}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)


def _personas(database: Database) -> tuple[dict[str, str], dict[str, uuid.UUID]]:
    wanted = {
        "physician": (models.Role.PHYSICIAN, "S01"),
        "physician_s02": (models.Role.PHYSICIAN, "S02"),
        "statistician": (models.Role.STATISTICIAN, "S01"),
    }
    tokens: dict[str, str] = {}
    with unit_of_work(database, None) as session:
        sites = {site.code: site.id for site in session.scalars(select(models.Site))}
        for name, (role, site) in wanted.items():
            user = accounts.add_user(
                session,
                None,
                UserIn(
                    email=f"fhir-{name}@example.org",
                    full_name=name.title(),
                    role=role,
                    password=PASSWORD,
                    site_ids=[sites[site]],
                ),
                hasher=accounts.GENERATED_PASSWORD_HASHER,
            )
            tokens[name] = accounts.issue_token(session, user, "fhir tests").token
    return tokens, sites


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    database = Database(database_url)
    database.upgrade()
    load(database, PATIENTS, seed=3)
    tokens, sites = _personas(database)
    app = create_app(database_url)
    with serving(app) as base_url:
        yield Server(base_url, database, tokens, sites, app.state.jobs)
    database.dispose()


def _plain(resource: Any) -> dict[str, Any]:
    """A fhirpy resource as the JSON object it was sent as."""
    plain: dict[str, Any] = resource.serialize()
    return plain


def _validated(resource: dict[str, Any]) -> Any:
    """The resource as its R4B model (raises if it does not validate)."""
    model = get_fhir_model_class(resource["resourceType"])
    assert model.__module__.startswith("fhir.resources.R4B."), model
    return model.model_validate(dict(resource))


def _patients_of(server: Server, site: str) -> list[models.Patient]:
    with server.database.reads() as session:
        found = list(
            session.scalars(
                select(models.Patient)
                .where(models.Patient.site_id == server.sites[site])
                .order_by(models.Patient.study_code)
            )
        )
        session.expunge_all()
    return found


def _infused_patient(server: Server, site: str) -> models.Patient:
    with server.database.reads() as session:
        infused = set(session.scalars(select(models.Infusion.patient_id)))
    return next(p for p in _patients_of(server, site) if p.id in infused)


def _labs(server: Server, patient: models.Patient, analyte: str) -> list[tuple[dt.date, float]]:
    with server.database.reads() as session:
        rows = session.execute(
            select(models.Visit.visit_date, models.LabResult.value)
            .where(models.LabResult.value.is_not(None))
            .join(models.LabResult, models.LabResult.visit_id == models.Visit.id)
            .where(models.Visit.patient_id == patient.id, models.LabResult.analyte == analyte)
            .where(models.Visit.visit_date.is_not(None))
        ).all()
    return sorted((day, float(value)) for day, value in rows if day and value is not None)


def test_the_capability_statement_is_public_and_valid(server: Server) -> None:
    statement = server.http(None).get("/fhir/metadata")
    assert statement.status_code == 200
    assert statement.headers["content-type"].startswith("application/fhir+json")
    model = _validated(statement.json())
    assert model.fhirVersion == "4.3.0"
    kinds = {entry.type for entry in model.rest[0].resource}
    assert {"Patient", "Observation", "AdverseEvent", "BiologicallyDerivedProduct"} <= kinds


def test_a_physician_reads_the_patients_of_their_site_page_by_page(server: Server) -> None:
    client = server.client("physician")
    found = client.resources("Patient").limit(3).fetch_all()
    expected = _patients_of(server, "S01")
    assert len(found) == len(expected) > 3  # more than one page was followed
    codes = []
    for resource in found:
        model = _validated(_plain(resource))
        codes.append(model.identifier[0].value)
    assert sorted(codes) == [p.study_code for p in expected]
    first = expected[0]
    one = client.resources("Patient").search(identifier=f"{STUDY_CODE}|{first.study_code}")
    patient = _validated(_plain(one.get()))
    assert patient.name[0].family == first.family_name
    assert patient.birthDate == first.date_of_birth


def test_another_sites_patient_is_not_found(server: Server) -> None:
    other = _patients_of(server, "S02")[0]
    with pytest.raises(ResourceNotFound):
        server.client("physician").reference("Patient", str(other.id)).to_resource()
    again = server.client("physician_s02").reference("Patient", str(other.id)).to_resource()
    assert again["id"] == str(other.id)


def test_observations_are_searched_by_patient_code_and_date(server: Server) -> None:
    patient = _infused_patient(server, "S01")
    expected = _labs(server, patient, "c3")
    assert len(expected) >= 3
    client = server.client("physician")
    found = (
        client.resources("Observation")
        .search(patient=str(patient.id), code=f"http://loinc.org|{C3_LOINC}")
        .fetch_all()
    )
    got = sorted(
        (
            dt.date.fromisoformat(str(o["effectiveDateTime"])[:10]),
            float(o["valueQuantity"]["value"]),
        )
        for o in found
    )
    assert got == expected
    for observation in found:
        _validated(_plain(observation))
    middle = expected[len(expected) // 2][0]
    later = (
        client.resources("Observation")
        .search(patient=str(patient.id), code=C3_LOINC, date__ge=middle.isoformat())
        .fetch_all()
    )
    assert sorted(float(o["valueQuantity"]["value"]) for o in later) == sorted(
        value for day, value in expected if day >= middle
    )


def test_everything_returns_the_whole_record_of_one_patient(server: Server) -> None:
    patient = _infused_patient(server, "S01")
    bundle = (
        server.client("physician")
        .resource("Patient", id=str(patient.id))
        .execute("$everything", method="get")
    )
    resources = [entry["resource"] for entry in bundle["entry"]]
    kinds = Counter(r["resourceType"] for r in resources)
    with server.database.reads() as session:
        visits = session.scalars(
            select(models.Visit).where(
                models.Visit.patient_id == patient.id, models.Visit.visit_date.is_not(None)
            )
        ).all()
        infusions = session.scalars(
            select(models.Infusion).where(models.Infusion.patient_id == patient.id)
        ).all()
        events = session.scalars(
            select(models.AdverseEvent).where(models.AdverseEvent.patient_id == patient.id)
        ).all()
    assert kinds["Patient"] == kinds["Condition"] == kinds["ResearchSubject"] == 1
    assert kinds["Encounter"] == len(visits)
    assert kinds["Procedure"] == len(infusions) >= 1
    assert kinds["AdverseEvent"] == len(events)
    assert kinds["BiologicallyDerivedProduct"] >= 1
    for resource in resources:
        _validated(resource)
    subject = next(r for r in resources if r["resourceType"] == "ResearchSubject")
    assert subject["individual"]["reference"] == f"Patient/{patient.id}"
    study_id = subject["study"]["reference"].removeprefix("ResearchStudy/")
    study = server.client("physician").reference("ResearchStudy", study_id).to_resource()
    assert _validated(_plain(study)).identifier[0].value == "uc-msc-iv-default/1.0.0"
    consent = next(r for r in resources if r["resourceType"] == "Consent")
    assert subject["consent"]["reference"] == f"Consent/{consent['id']}"


def _identity_texts(patients: list[models.Patient]) -> list[str]:
    texts = []
    for p in patients:
        texts += [p.study_code, p.given_name, p.family_name, p.medical_record_number, str(p.id)]
        texts.append(p.date_of_birth.isoformat())
    return texts


def test_the_statistician_gets_de_identified_resources_only(server: Server) -> None:
    client = server.client("statistician")
    patients = _patients_of(server, "S01")
    found = client.resources("Patient").fetch_all()
    assert len(found) == len(patients)
    pseudonyms = set()
    for resource in found:
        model = _validated(_plain(resource))
        assert model.name is None and model.birthDate is None
        assert model.identifier[0].system == PSEUDONYM
        pseudonyms.add(model.id)
    assert all(p.startswith("P-") for p in pseudonyms)
    texts = [json.dumps(_plain(r)) for r in found]
    for pseudonym in sorted(pseudonyms)[:3]:
        bundle = client.resource("Patient", id=pseudonym).execute("$everything", method="get")
        texts.append(json.dumps(bundle))
        for entry in bundle["entry"]:
            _validated(entry["resource"])
    everything = "\n".join(texts)
    for text in _identity_texts(patients):
        assert text not in everything
    with pytest.raises(ResourceNotFound):
        client.reference("Patient", str(patients[0].id)).to_resource()


AGE = "https://lupus-msc.org/fhir/StructureDefinition/age-at-first-infusion"


def _age_sent(resource: dict[str, Any]) -> int | None:
    ages = [e["valueAge"] for e in resource.get("extension", []) if e["url"] == AGE]
    assert len(ages) <= 1 and all(age["code"] == "a" for age in ages)
    return ages[0]["value"] if ages else None


def test_the_statistician_reads_the_age_at_the_first_infusion(server: Server) -> None:
    """The Patient search and $everything carry the age on the first infusion day (by hand
    from the registry), none for a patient never infused (the CSV export's ``age_years``)."""
    client = server.client("statistician")
    found = {r["id"]: _plain(r) for r in client.resources("Patient").fetch_all()}
    with server.database.reads() as session:
        pseudonym = dict(
            session.execute(
                select(models.DeidentificationKey.patient_id, models.DeidentificationKey.pseudonym)
            ).all()
        )
        first: dict[uuid.UUID, dt.date] = {}
        for pid, started in session.execute(
            select(models.Infusion.patient_id, models.Infusion.started_at)
        ):
            first[pid] = min(started.date(), first.get(pid, started.date()))
    expected = {}
    for patient in _patients_of(server, "S01"):
        day, born = first.get(patient.id), patient.date_of_birth
        expected[pseudonym[patient.id]] = (
            None
            if day is None
            else day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        )
    assert {p: _age_sent(r) for p, r in found.items()} == expected
    assert None in expected.values() and len(set(expected.values())) > 2
    infused = next(p for p, age in expected.items() if age is not None)
    bundle = client.resource("Patient", id=infused).execute("$everything", method="get")
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert _age_sent(patient) == expected[infused]


def test_de_identified_patients_come_in_random_id_order_not_registration_order(
    server: Server,
) -> None:
    """Study codes are numbered as patients register: the statistician's pages must not follow
    them (the order would tell who enrolled first)."""
    listed = server.client("statistician").resources("Patient").limit(7).fetch_all()
    with server.database.reads() as session:
        keys = session.execute(
            select(models.DeidentificationKey.pseudonym, models.DeidentificationKey.patient_id)
        ).all()
    patient_of = dict(keys)
    shown = [patient_of[resource["id"]] for resource in listed]
    assert shown == sorted(shown)  # SQLite (hex text) and PostgreSQL (uuid) order ids alike
    codes = {p.id: p.study_code for p in _patients_of(server, "S01")}
    assert [codes[pid] for pid in shown] != sorted(codes[pid] for pid in shown)


def test_de_identified_dates_keep_every_interval(server: Server) -> None:
    patient = _infused_patient(server, "S01")
    identified = server.client("physician").resource("Patient", id=str(patient.id))
    real = identified.execute("$everything", method="get")
    with server.database.reads() as session:
        key = session.scalar(
            select(models.DeidentificationKey).where(
                models.DeidentificationKey.patient_id == patient.id
            )
        )
    if key is None:  # the statistician's first look creates it
        server.client("statistician").resources("Patient").fetch_all()
        with server.database.reads() as session:
            key = session.scalar(
                select(models.DeidentificationKey).where(
                    models.DeidentificationKey.patient_id == patient.id
                )
            )
    assert key is not None
    private = server.client("statistician").resource("Patient", id=key.pseudonym)
    shifted = private.execute("$everything", method="get")

    def encounter_days(bundle: Any) -> list[dt.date]:
        return sorted(
            dt.date.fromisoformat(e["resource"]["period"]["start"][:10])
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Encounter"
        )

    real_days, shifted_days = encounter_days(real), encounter_days(shifted)
    assert len(real_days) == len(shifted_days) >= 2
    offset = dt.timedelta(days=key.date_offset_days)
    assert shifted_days == [day + offset for day in real_days]


def _bulk(server: Server, persona: str, query: str = "") -> tuple[dict[str, Any], httpx.Client]:
    http = server.http(persona)
    kick_off = http.get(
        f"/fhir/$export{query}",
        headers={"Prefer": "respond-async", "Accept": "application/fhir+json"},
    )
    assert kick_off.status_code == 202, kick_off.text
    return _finished(http, kick_off.headers["Content-Location"]), http


def _finished(http: httpx.Client, status_url: str) -> dict[str, Any]:
    """The manifest of the export at ``status_url``, once it is done."""
    deadline = time.monotonic() + 120
    while True:
        status = http.get(status_url)
        if status.status_code == 200:
            manifest: dict[str, Any] = status.json()
            return manifest
        assert status.status_code == 202, status.text
        assert "X-Progress" in status.headers
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.2)


def test_a_failed_bulk_export_answers_its_status_with_an_error_outcome(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bulk Data: once the export has failed, the status URL answers an error status with an
    OperationOutcome (the server logs the cause; the client is told it failed). The failure
    is injected into the NDJSON writer (the server runs in this process)."""

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr("lupus_msc.interop.fhir_bulk.export_ndjson", broken)
    http = server.http("physician")
    kick_off = http.get("/fhir/$export", headers={"Prefer": "respond-async"})
    assert kick_off.status_code == 202, kick_off.text
    deadline = time.monotonic() + 60
    while (status := http.get(kick_off.headers["Content-Location"])).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status.status_code == 500, status.text
    outcome = status.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "failed: the export failed: OSError" in outcome["issue"][0]["diagnostics"]
    assert "disk full" not in status.text


def test_a_bulk_export_gives_ndjson_files_that_validate(server: Server) -> None:
    manifest, http = _bulk(server, "physician")
    assert manifest["requiresAccessToken"] is True
    counts: Counter[str] = Counter()
    for output in manifest["output"]:
        response = http.get(output["url"])
        assert response.status_code == 200
        assert server.http(None).get(output["url"]).status_code == 401
        assert server.http("physician_s02").get(output["url"]).status_code == 404
        lines = response.text.splitlines()
        assert len(lines) == output["count"]
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == output["type"]
            _validated(resource)
            counts[output["type"]] += 1
    patients = _patients_of(server, "S01")
    assert counts["Patient"] == len(patients)
    with server.database.reads() as session:
        visits = session.scalars(
            select(models.Visit.id).where(
                models.Visit.patient_id.in_([p.id for p in patients]),
                models.Visit.visit_date.is_not(None),
            )
        ).all()
    assert counts["Encounter"] == len(visits)


def test_a_de_identified_bulk_export_holds_no_identifier(server: Server) -> None:
    manifest, http = _bulk(server, "statistician", "?_type=Patient,Encounter,Observation")
    assert {o["type"] for o in manifest["output"]} == {"Patient", "Encounter", "Observation"}
    text = "\n".join(http.get(o["url"]).text for o in manifest["output"])
    for identity in _identity_texts(_patients_of(server, "S01")):
        assert identity not in text


def test_a_repeated_type_parameter_exports_every_type_it_names(server: Server) -> None:
    """Bulk Data kick-off: a repeated ``_type`` is treated as its values joined by commas."""
    manifest, _ = _bulk(server, "physician", "?_type=Patient&_type=Encounter,Condition")
    assert {o["type"] for o in manifest["output"]} == {"Patient", "Encounter", "Condition"}


def test_bulk_export_refusals_are_operation_outcomes(server: Server) -> None:
    http = server.http("physician")
    no_prefer = http.get("/fhir/$export")
    assert no_prefer.status_code == 422
    assert no_prefer.json()["resourceType"] == "OperationOutcome"
    assert "Prefer" in no_prefer.json()["issue"][0]["diagnostics"]
    bad_type = http.get("/fhir/$export?_type=Spaceship", headers={"Prefer": "respond-async"})
    assert bad_type.status_code == 422
    assert bad_type.json()["issue"][0]["expression"] == ["_type"]
    assert server.http(None).get("/fhir/Patient").status_code == 401


def _exports_of(server: Server, persona: str) -> list[uuid.UUID]:
    """The ids of the persona's Bulk Data jobs, read from the server's job list."""
    with server.database.reads() as session:
        actor = accounts.actor_for_token(session, server.tokens[persona])
    return [job.id for job in server.jobs.mine(actor, "fhir")]


def _refused_kick_off(server: Server, path: str, query: str) -> list[dict[str, Any]]:
    """The issues of a kick-off that must be refused, checking that nothing was queued."""
    before = _exports_of(server, "physician")
    refused = server.http("physician").get(
        f"/fhir/{path}{query}", headers={"Prefer": "respond-async"}
    )
    assert refused.status_code == 422, refused.text
    assert "Content-Location" not in refused.headers
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert _exports_of(server, "physician") == before
    issues: list[dict[str, Any]] = refused.json()["issue"]
    return issues


@pytest.mark.parametrize("path", ["$export", "Patient/$export"])
def test_an_export_since_a_time_includes_everything_and_says_so(server: Server, path: str) -> None:
    """Bulk Data IG: ``_since`` support is required of a server, and resources without a
    last-updated time MAY be included irrespective of it; the 202's outcome says they all are."""
    http = server.http("physician")
    kick_off = http.get(
        f"/fhir/{path}?_type=Patient&_since=2999-01-01T00:00:00Z",
        headers={"Prefer": "respond-async"},
    )
    assert kick_off.status_code == 202, kick_off.text
    (issue,) = kick_off.json()["issue"]
    assert (
        issue["expression"] == ["_since"] and "every resource is included" in issue["diagnostics"]
    )
    manifest = _finished(http, kick_off.headers["Content-Location"])
    assert [(o["type"], o["count"]) for o in manifest["output"]] == [
        ("Patient", len(_patients_of(server, "S01")))
    ]


@pytest.mark.parametrize("since", ["2025-01-01", "yesterday", "2025-01-01T00:00:00"])
def test_a_since_that_is_not_an_instant_is_refused_and_nothing_is_queued(
    server: Server, since: str
) -> None:
    """FHIR R4 instant: a full date and time with its zone (a date alone is not one)."""
    issues = _refused_kick_off(server, "$export", f"?_since={since}")
    assert [issue["expression"] for issue in issues] == [["_since"]]


def test_an_unknown_export_parameter_is_refused_by_name(server: Server) -> None:
    issues = _refused_kick_off(server, "$export", "?_typo=Patient")
    assert [issue["expression"] for issue in issues] == [["_typo"]]


def test_every_unsupported_export_parameter_is_named(server: Server) -> None:
    query = "?_typeFilter=Observation%3Fcode%3D4485-9&_type=Observation&includeAssociatedData=x"
    issues = _refused_kick_off(server, "Patient/$export", query)
    named = [issue["expression"][0] for issue in issues]
    assert named == ["_typeFilter", "includeAssociatedData"]


def test_a_lenient_client_gets_the_whole_export_with_the_ignored_parameters_named(
    server: Server,
) -> None:
    """``Prefer: respond-async, handling=lenient`` (RFC 7240: one header, two preferences):
    ``_elements`` and ``_typo`` are ignored, the 202 says so, and the export holds every patient
    of the site."""
    http = server.http("physician")
    kick_off = http.get(
        "/fhir/$export?_type=Patient&_elements=id&_typo=1",
        headers={"Prefer": "respond-async, handling=lenient"},
    )
    assert kick_off.status_code == 202, kick_off.text
    warned = [issue["expression"] for issue in kick_off.json()["issue"]]
    assert warned == [["_elements"], ["_typo"]]
    manifest = _finished(http, kick_off.headers["Content-Location"])
    assert [(o["type"], o["count"]) for o in manifest["output"]] == [
        ("Patient", len(_patients_of(server, "S01")))
    ]
    two_headers = http.get(
        "/fhir/$export?_type=Patient&_elements=id",
        headers=[("Prefer", "handling=lenient"), ("Prefer", "respond-async")],
    )
    assert two_headers.status_code == 202, two_headers.text
    assert http.delete(two_headers.headers["Content-Location"]).status_code == 202
    not_async = http.get("/fhir/$export", headers={"Prefer": "handling=lenient"})
    assert not_async.status_code == 422
    assert not_async.json()["issue"][0]["expression"] == ["Prefer"]


def test_a_cancelled_export_is_gone(server: Server) -> None:
    http = server.http("physician")
    kick_off = http.get("/fhir/$export", headers={"Prefer": "respond-async"})
    status_url = kick_off.headers["Content-Location"]
    assert server.http("physician_s02").delete(status_url).status_code == 404
    assert http.delete(status_url).status_code == 202
    assert http.get(status_url).status_code == 404


def test_unsupported_searches_are_refused_by_name(server: Server) -> None:
    client = server.client("physician")
    with pytest.raises(OperationOutcome) as refused:
        client.resources("Observation").search(colour="blue").fetch()
    assert "colour" in str(refused.value)
    with pytest.raises(OperationOutcome) as no_patient:
        client.resources("Observation").fetch()
    assert "patient" in str(no_patient.value)
    with pytest.raises(ResourceNotFound):
        client.resources("Spaceship").fetch()


def _c3_observation(patient: models.Patient, day: dt.date, value: float, status: str) -> Any:
    return {
        "resourceType": "Observation",
        "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": C3_LOINC}]},
        "subject": {"identifier": {"system": STUDY_CODE, "value": patient.study_code}},
        "effectiveDateTime": day.isoformat(),
        "valueQuantity": {
            "value": value,
            "unit": "g/L",
            "system": "http://unitsofmeasure.org",
            "code": "g/L",
        },
    }


def _bundle(*observations: Any) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": o, "request": {"method": "POST", "url": "Observation"}}
            for o in observations
        ],
    }


def test_a_posted_lab_bundle_is_imported_all_or_nothing(server: Server) -> None:
    patient = _infused_patient(server, "S01")
    day, old = _labs(server, patient, "c3")[-1]
    new = round(old + 0.07, 2)
    good = _c3_observation(patient, day, new, "amended")
    bad = {
        **_c3_observation(patient, day, new, "final"),
        "code": {"coding": [{"system": "http://loinc.org", "code": "0000-0"}]},
    }
    http = server.http("physician")
    refused = http.post(
        "/fhir", json=_bundle(good, bad), headers={"Content-Type": "application/fhir+json"}
    )
    assert refused.status_code == 422
    outcome = refused.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any("entry[1]" in issue["diagnostics"] for issue in outcome["issue"])
    assert _labs(server, patient, "c3")[-1] == (day, old)
    other_site = server.http("physician_s02").post("/fhir", json=_bundle(good))
    assert other_site.status_code == 422
    assert _labs(server, patient, "c3")[-1] == (day, old)
    assert server.http("statistician").post("/fhir", json=_bundle(good)).status_code == 403
    done = http.post("/fhir", json=_bundle(good))
    assert done.status_code == 200, done.text
    assert "1 lab results written" in done.json()["issue"][0]["diagnostics"]
    with server.database.reads() as session:
        current = session.scalars(
            select(models.LabResult.value)
            .join(models.Visit, models.Visit.id == models.LabResult.visit_id)
            .where(
                models.Visit.patient_id == patient.id,
                models.Visit.visit_date == day,
                models.LabResult.analyte == "c3",
                models.LabResult.superseded.is_(False),
            )
        ).all()
    assert [float(v) for v in current if v is not None] == [new]
