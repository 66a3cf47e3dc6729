"""``lupus-msc report patient PATIENT_CODE`` (issue 7): the referring doctor's summary of one
patient, run as a user runs it, against a registry loaded through the services.

A seeded demo cohort (patients at every step of the pathway) is loaded into a SQLite file; the
report must name the patient, list every recorded visit, show the same outcome states as the
patient page's engine (``services.course.load``), render as PDF, report a patient not yet infused,
and refuse an unknown code without writing anything.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lupus_msc.analytics import evidence_panel
from lupus_msc.analytics.evidence_comparison import CAVEAT
from lupus_msc.services import course, visits
from lupus_msc.services.access import Actor
from lupus_msc.services.cohort_loader import load
from lupus_msc.store.database import Database
from lupus_msc.store.models import Infusion, Patient, Role, Visit

PATIENTS = 16
SEED = 7
OUTCOMES = ("sri4", "lldas", "doris", "renal", "flare")


@dataclass(frozen=True)
class Registry:
    url: str
    database: Database


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    url = f"sqlite:///{tmp_path_factory.mktemp('patient-report') / 'registry.sqlite3'}"
    database = Database(url)
    database.upgrade()
    load(database, PATIENTS, seed=SEED, sites=2, demo=True)
    yield Registry(url, database)
    database.dispose()


def _admin() -> Actor:
    return Actor(uuid.uuid4(), "admin@example.org", "Admin", Role.ADMIN, frozenset(), ())


def _followed(database: Database) -> Patient:
    """The infused patient with the most recorded visits."""
    recorded = (
        select(Patient)
        .join(Visit, Visit.patient_id == Patient.id)
        .where(Visit.visit_date.is_not(None))
        .group_by(Patient.id)
        .order_by(func.count(Visit.id).desc(), Patient.study_code)
        .limit(1)
    )
    with database.reads() as session:
        patient = session.scalars(recorded).one()
        session.expunge(patient)
    return patient


def _not_infused(database: Database) -> Patient:
    with database.reads() as session:
        infused = select(Infusion.patient_id)
        patient = session.scalars(
            select(Patient).where(Patient.id.not_in(infused)).order_by(Patient.study_code)
        ).first()
        assert patient is not None
        session.expunge(patient)
    return patient


def _run(
    command: list[str], registry: Registry, *arguments: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, "report", "patient", *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "LUPUS_MSC_DATABASE_URL": registry.url},
        timeout=120,
        check=False,
    )


def _text(page: str) -> str:
    """The page's text: tags and the style sheet removed, entities decoded, spaces collapsed."""
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _shown_states(page: str) -> dict[str, dict[str, tuple[str, str]]]:
    """Each visit's outcome cells in the report: visit code → outcome → (label, reason)."""
    shown: dict[str, dict[str, tuple[str, str]]] = {}
    for code, row in re.findall(r'<tr data-visit="([^"]+)">(.*?)</tr>', page, flags=re.S):
        cells = re.findall(
            r'<td data-outcome="(\w+)"><strong class="state \w+">([^<]*)</strong>'
            r'(?:<br><span class="why">([^<]*)</span>)?</td>',
            row,
        )
        shown[code] = {
            name: (html.unescape(label), html.unescape(why)) for name, label, why in cells
        }
    return shown


@pytest.fixture(scope="module")
def followed(registry: Registry) -> Patient:
    return _followed(registry.database)


@pytest.fixture(scope="module")
def report_html(
    lupus_msc_command: list[str],
    registry: Registry,
    followed: Patient,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    out = tmp_path_factory.mktemp("html") / "summary.html"
    done = _run(lupus_msc_command, registry, followed.study_code, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert followed.study_code in done.stdout
    return out.read_text(encoding="utf-8")


def test_the_html_names_the_patient_and_every_recorded_visit(
    registry: Registry, followed: Patient, report_html: str
) -> None:
    text = _text(report_html)
    assert f"{followed.family_name}, {followed.given_name}" in text
    assert followed.date_of_birth.isoformat() in text
    assert followed.study_code in text
    with registry.database.reads() as session:
        recorded = [
            visit
            for visit in visits.for_patient(session, _admin(), followed.id)
            if visit.visit_date is not None
        ]
    assert len(recorded) >= 3
    table = report_html.split('id="visits"', 1)[1].split("</table>", 1)[0]
    for visit in recorded:
        assert visit.visit_date is not None
        assert f"<td>{visit.code}</td><td>{visit.visit_date.isoformat()}</td>" in table
    assert "<figure><svg" in report_html  # figures inline, nothing to fetch
    assert 'src="http' not in report_html and "<link" not in report_html


def test_the_outcome_states_are_the_engines_as_on_the_patient_page(
    registry: Registry, followed: Patient, report_html: str
) -> None:
    with registry.database.reads() as session:
        loaded = course.load(session, _admin(), followed.id)
    shown = _shown_states(report_html)
    assert set(shown) == {row.code for row in loaded.outcomes}
    assessed = 0
    for row in loaded.outcomes:
        for name in OUTCOMES:
            cell = getattr(row, name)
            assert shown[row.code][name] == (cell.label, cell.why), (row.code, name)
            assessed += cell.tone in ("ok", "bad")
    assert assessed > 0, "no state was assessable: the comparison proves little"


def test_the_published_results_are_those_for_the_patients_kidneys(
    registry: Registry, followed: Patient, report_html: str
) -> None:
    with registry.database.reads() as session:
        renal = course.load(session, _admin(), followed.id).renal
    expected = evidence_panel.panel(renal)
    shown = re.findall(r'<tr data-study="([^"]+)">', report_html)
    assert shown == list(expected.study_ids)
    assert "deng2017_msc" in shown and "deng2017_placebo" in shown
    text = _text(report_html)
    assert CAVEAT in text
    assert "What published studies report for patients like this one" in text


def test_the_pdf_renders(
    lupus_msc_command: list[str], registry: Registry, followed: Patient, tmp_path: Path
) -> None:
    pdf = tmp_path / "summary.pdf"
    done = _run(
        lupus_msc_command, registry, followed.study_code, "--format", "pdf", "--out", str(pdf)
    )
    assert done.returncode == 0, done.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Patient summary {followed.study_code}" in text
    assert followed.family_name in text
    subprocess.run(
        ["pdftoppm", "-r", "30", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    page = next(tmp_path.glob("page*.png"))
    from PIL import Image

    with Image.open(page) as image:
        darkest, lightest = image.convert("L").getextrema()
    assert darkest < 100 and lightest > 200, "the first page is blank"


def test_a_patient_not_yet_infused_gets_a_summary_saying_so(
    lupus_msc_command: list[str], registry: Registry, tmp_path: Path
) -> None:
    patient = _not_infused(registry.database)
    out = tmp_path / "waiting.html"
    done = _run(lupus_msc_command, registry, patient.study_code.lower(), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "follow-up not started" in done.stdout
    text = _text(out.read_text(encoding="utf-8"))
    assert f"{patient.family_name}, {patient.given_name}" in text
    assert "Follow-up has not started: no infusion has been given yet." in text
    assert "No visit recorded yet." in text
    assert "Deng D 2017" in text


def test_an_unknown_code_exits_2_and_writes_nothing(
    lupus_msc_command: list[str], registry: Registry, tmp_path: Path
) -> None:
    out = tmp_path / "nobody.html"
    done = _run(lupus_msc_command, registry, "Z99-9999", "--out", str(out))
    assert done.returncode == 2
    assert "PATIENT_CODE: no patient with code 'Z99-9999'" in done.stderr
    assert done.stdout == ""
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
