"""``bench/bulk_registry.py``: the benchmark's bulk builder gives the counts asked for, its
rows read back through the models, its audit chain (the template load) verifies, and the web
application serves a cloned patient's page to the bench physician."""

from __future__ import annotations

import asyncio
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from lupus_msc.store import audit
from lupus_msc.store.database import Database
from lupus_msc.store.models import LabResult, Patient, PatientState, Visit

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import bulk_registry  # noqa: E402

PATIENTS, VISITS, TEMPLATES = 200, 50, 8


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, bulk_registry.BuildReport]:
    url = f"sqlite:///{tmp_path_factory.mktemp('bulk') / 'bench.sqlite3'}"
    report = bulk_registry.build(url, PATIENTS, visits_per_patient=VISITS, templates=TEMPLATES)
    return url, report


def test_it_builds_the_patients_and_visits_asked_for(
    built: tuple[str, bulk_registry.BuildReport],
) -> None:
    url, report = built
    database = Database(url)
    with database.sessions() as session:
        patients = session.scalar(select(func.count()).select_from(Patient))
        per_patient = session.execute(
            select(Visit.patient_id, func.count()).group_by(Visit.patient_id)
        ).all()
        labs = session.scalar(select(func.count()).select_from(LabResult))
        clone = session.scalars(
            select(Patient).where(Patient.medical_record_number == "BENCH-00000000")
        ).one()
        visits = session.scalars(
            select(Visit).where(Visit.patient_id == clone.id).order_by(Visit.study_day)
        ).all()
        intact = audit.verify(session).intact
    database.dispose()
    assert patients == report.patients == PATIENTS
    clones = [count for _, count in per_patient if count == VISITS]
    assert len(clones) == PATIENTS - report.template_patients
    assert report.visits == sum(count for _, count in per_patient)
    assert labs == report.lab_results > 3 * VISITS * len(clones)
    assert clone.state in (PatientState.FOLLOW_UP, PatientState.COMPLETED)
    assert len({visit.code for visit in visits}) == VISITS
    recorded = [visit for visit in visits if visit.visit_date is not None]
    assert len(recorded) >= VISITS - 10
    assert all("sledai2k" in visit.scores for visit in recorded[1:])
    assert intact


def test_the_app_serves_a_cloned_patient_page(
    built: tuple[str, bulk_registry.BuildReport],
) -> None:
    url, _ = built
    from lupus_msc.web.app import create_app

    database = Database(url)
    with database.sessions() as session:
        clone = session.scalars(
            select(Patient).where(Patient.medical_record_number == "BENCH-00000001")
        ).one()
    database.dispose()
    app = create_app(url)

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            form = await client.get("/sign-in")
            nonce = re.search(r'name="sign_in_nonce" value="([^"]+)"', form.text)
            assert nonce is not None
            login = {"login": bulk_registry.BENCH_USERNAME, "next": "/"}
            login |= {"password": bulk_registry.BENCH_PASSWORD, "sign_in_nonce": nonce.group(1)}
            assert (await client.post("/sign-in", data=login)).status_code == 303
            return await client.get(f"/patients/{clone.id}")

    # In a thread of its own: a browser test in the same worker leaves Playwright's event loop
    # running in this one, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        page = pool.submit(asyncio.run, fetch()).result()
    app.state.database.dispose()
    assert page.status_code == 200
    assert clone.study_code in page.text
