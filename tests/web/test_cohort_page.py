"""The Cohort page over real HTTP (issue 7, "Reports"): who may open it, whose patients it counts,
what its filters select, that its numbers are the outcomes report's, that it shows no identity,
the offline report of its filter, and the dataset kept while the registry is unchanged.

On SQLite and PostgreSQL. A synthetic cohort is loaded through the services at sites S01 and
S02 (tests/cohort_setup.py); the statistician and the monitor are members of S01, the physician
of S01 and S02, physician_b of S02 only. Expected numbers come from the analytics themselves
on a dataset built from the same registry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from lupus_msc.analytics.cohort_filter import CohortFilter, select
from lupus_msc.analytics.proportions import OUTCOMES, TIMEPOINTS, Proportion
from lupus_msc.analytics.report_outcomes import OutcomesReport, outcomes_report
from lupus_msc.services.fields import today
from lupus_msc.store.database import Database
from lupus_msc.web.app import create_app
from lupus_msc.web.cohort_outcomes import cohort_report, dataset_maker, dataset_scope
from tests.cohort_setup import dataset_of, identities, load_two_sites
from tests.registry_fixtures import Api, Registry, seed, serving
from tests.web_client import signed_in

ALLOWED = ("physician", "monitor", "statistician")
REFUSED = ("coordinator", "nurse", "lab", "admin")
PATHS = ("/cohort", "/cohort/report.html", "/cohort/report.pdf")


@dataclasses.dataclass
class Served:
    base_url: str
    registry: Registry
    app: Any
    clients: dict[str, httpx.Client]

    def get(self, persona: str, path: str, **params: str) -> httpx.Response:
        if persona not in self.clients:
            self.clients[persona] = signed_in(self.base_url, f"{persona}@example.org")
        return self.clients[persona].get(path, params=params)

    @property
    def database(self) -> Database:
        return self.registry.database


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[Served]:
    """The cohort's registry on SQLite, then on PostgreSQL, served."""
    database = Database(database_url)
    database.upgrade()
    registry = seed(database)
    load_two_sites(registry)
    app = create_app(database_url)
    with serving(app) as base_url:
        result = Served(base_url, registry, app, {})
        yield result
        for client in result.clients.values():
            client.close()
    database.dispose()


def count(page: str) -> int | None:
    found = re.search(r'id="cohort-patients" data-count="(\d+)"', page)
    return int(found.group(1)) if found else None


def cells(page: str) -> dict[tuple[str, str, str], str]:
    """The outcome table's cells: (outcome, time point, "nri" | "observed") → text."""
    found = {}
    rows = re.finditer(
        r'<tr data-outcome="([^"]+)" data-timepoint="([^"]+)">(.*?)</tr>', page, re.S
    )
    for row in rows:
        for analysis, text in re.findall(r'data-analysis="(\w+)">(.*?)</td>', row.group(3)):
            found[(row.group(1), row.group(2), analysis)] = text
    return found


def shown(value: Proportion) -> str:
    """A proportion as the report writes it: n/N (p%; low–high%)."""
    if not value.denominator:
        return "—"
    assert value.proportion is not None and value.ci_low is not None
    assert value.ci_high is not None
    return (
        f"{value.numerator}/{value.denominator} ({100 * value.proportion:.0f}%; "
        f"{100 * value.ci_low:.0f}–{100 * value.ci_high:.0f}%)"
    )


def chart_data(page: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="cohort-chart-data">(.*?)</script>', page
    )
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def assert_page_shows(page: str, report: OutcomesReport) -> None:
    """Every outcome cell, the counts, the time-to-event events and the safety figures of the
    report are on the page, as the report writes them; the charts carry the same numbers."""
    assert count(page) == report.patients
    assert f'id="cohort-visits" data-count="{report.visits}"' in page
    table = cells(page)
    assert len(table) == 2 * len(report.outcomes.cells)
    for cell in report.outcomes.cells:
        assert table[(cell.outcome, cell.timepoint, "nri")] == shown(cell.nri), cell
        assert table[(cell.outcome, cell.timepoint, "observed")] == shown(cell.observed), cell
    for item in report.time_to:
        row = f'<tr><th scope="row">{item.label}</th><td class="num">{item.curve.n}</td>'
        assert f'{row}<td class="num">{item.curve.events}</td>' in page, item.label
    any_event = report.safety.row("any")
    assert f'<td>Any adverse event</td><td class="num">{any_event.events}</td>' in page
    assert f"{report.safety.patient_years:,.1f} patient-years" in page
    charts = chart_data(page)["proportions"]["outcomes"]
    assert len(charts) == len(OUTCOMES)
    for outcome in charts:
        for timepoint, point in zip(TIMEPOINTS, outcome["nri"], strict=True):
            expected = report.outcomes.cell(outcome["key"], timepoint).nri
            if point is None:
                assert not expected.denominator
            else:
                assert expected.proportion is not None
                assert point["value"] == pytest.approx(100 * expected.proportion, abs=0.01)


# --- who may open it ----------------------------------------------------------------------------


def test_physicians_monitors_and_statisticians_open_it_and_others_are_refused(
    served: Served,
) -> None:
    for persona in ALLOWED:
        answer = served.get(persona, "/cohort")
        assert answer.status_code == 200, (persona, answer.text[:300])
        assert answer.text.count("<h1") == 1
        assert 'href="/cohort"' in served.get(persona, "/").text, persona
    for persona in REFUSED:
        for path in PATHS:
            answer = served.get(persona, path)
            assert answer.status_code == 403, (persona, path)
            assert "report" not in answer.headers.get("content-disposition", "")
        assert 'href="/cohort"' not in served.get(persona, "/").text, persona


def test_without_a_session_the_page_asks_to_sign_in(served: Served) -> None:
    with httpx.Client(base_url=served.base_url) as anonymous:
        for path in PATHS:
            answer = anonymous.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/sign-in?next=/cohort")


# --- whose patients it counts -------------------------------------------------------------------


def test_each_user_counts_the_patients_of_their_own_sites_only(served: Served) -> None:
    s01 = dataset_of(served.database, "S01").patients.height
    s02 = dataset_of(served.database, "S02").patients.height
    assert s01 > 3 and s02 > 3  # both sites have a cohort worth counting
    assert count(served.get("statistician", "/cohort").text) == s01
    assert count(served.get("monitor", "/cohort").text) == s01
    assert count(served.get("physician_b", "/cohort").text) == s02
    assert count(served.get("physician", "/cohort").text) == s01 + s02
    assert count(served.get("physician", "/cohort", site="S02").text) == s02


def test_another_sites_cohort_cannot_be_asked_for(served: Served) -> None:
    for path in PATHS:
        answer = served.get("statistician", path, site="S02")
        assert answer.status_code == 422, path
        assert "choose one of your sites" in answer.text
        assert count(answer.text) is None


def test_a_site_without_infused_patients_has_no_cohort(served: Served) -> None:
    """B01 has no patients: its dataset is None (the batch engine is not asked to score an
    empty visit table), and physician_b's page for B01 alone says no patient matches."""
    with served.database.reads() as session:
        assert dataset_maker(("B01",), today())(session) == {"dataset": None}
    answer = served.get("physician_b", "/cohort", site="B01")
    assert answer.status_code == 200
    assert 'id="no-patients"' in answer.text and count(answer.text) is None
    assert 'id="cohort-chart-data"' not in answer.text
    assert served.get("physician_b", "/cohort/report.html", site="B01").status_code == 404


# --- what its filters select --------------------------------------------------------------------


def test_the_filters_change_the_counts(served: Served) -> None:
    everyone = dataset_of(served.database, "S01", "S02")
    starts = sorted(everyone.patients["first_infusion"].to_list())
    middle = starts[len(starts) // 2]
    period = CohortFilter(infused_from=starts[0], infused_to=middle)
    expected = select(everyone, period).patients.height
    assert 0 < expected < everyone.patients.height
    page = served.get("physician", "/cohort", **{"from": str(starts[0]), "to": str(middle)}).text
    assert count(page) == expected
    assert f"first infusion from {starts[0]} to {middle}" in page
    later = served.get("physician", "/cohort", **{"from": str(middle + dt.timedelta(days=1))})
    assert count(later.text) == everyone.patients.height - expected
    # The synthetic cohort is all umbilical-cord cells at 1 to < 2 × 10⁶/kg (cohort_product).
    assert count(served.get("physician", "/cohort", source="umbilical-cord").text) == len(starts)
    for name, value in (("source", "bone-marrow"), ("dose", "≥ 2")):
        empty = served.get("physician", "/cohort", **{name: value})
        assert empty.status_code == 200 and count(empty.text) is None
        assert 'id="no-patients"' in empty.text
    assert count(served.get("physician", "/cohort", dose="1 to < 2").text) == len(starts)


def test_wrong_filters_say_which_field(served: Served) -> None:
    cases = {
        "from": ({"from": "last spring"}, "enter a date as YYYY-MM-DD"),
        "to": ({"from": "2024-06-01", "to": "2024-01-01"}, "must not be before the start"),
        "source": ({"source": "placenta"}, "choose a tissue source from the list"),
        "dose": ({"dose": "3"}, "choose a dose band from the list"),
    }
    for field, (params, message) in cases.items():
        answer = served.get("physician", "/cohort", **params)
        assert answer.status_code == 422, field
        assert f'id="{field}-error">{message}' in answer.text, field
        assert 'aria-invalid="true"' in answer.text


def test_the_filter_form_is_a_get_form_keeping_its_values(served: Served) -> None:
    page = served.get("physician", "/cohort", site="S01", **{"from": "2019-01-01"}).text
    assert '<form method="get" action="/cohort"' in page
    assert '<option value="S01" selected>' in page
    assert 'name="from" type="date" value="2019-01-01"' in page
    # the download buttons carry the same filter
    assert '<input type="hidden" name="site" value="S01">' in page
    assert '<input type="hidden" name="from" value="2019-01-01">' in page


# --- its numbers are the outcomes report's -------------------------------------------------------


def test_the_numbers_are_those_of_the_outcomes_report(served: Served) -> None:
    s01 = dataset_of(served.database, "S01")
    report = outcomes_report(s01, cohort=CohortFilter(sites=("S01",)))
    assert_page_shows(served.get("statistician", "/cohort").text, report)
    both = dataset_of(served.database, "S01", "S02")
    starts = sorted(both.patients["first_infusion"].to_list())
    chosen = CohortFilter(sites=("S01", "S02"), infused_from=starts[3])
    report = outcomes_report(select(both, chosen), cohort=chosen)
    page = served.get("physician", "/cohort", **{"from": str(starts[3])}).text
    assert_page_shows(page, report)


def test_the_pages_report_is_the_outcomes_report_without_its_figures(served: Served) -> None:
    """``web.cohort_outcomes.cohort_report`` is ``outcomes_report`` minus the SVG figures:
    an analysis changed in one and not the other fails here."""
    both = dataset_of(served.database, "S01", "S02")
    for chosen in (CohortFilter(sites=("S01", "S02")), CohortFilter(sites=("S02",))):
        cohort = select(both, chosen)
        full = outcomes_report(cohort, cohort=chosen)
        assert full.figures  # the report draws them; the page does not
        assert cohort_report(cohort, cohort=chosen) == dataclasses.replace(full, figures={})


def test_the_published_evidence_carries_its_caveat_and_the_placebo_arm(served: Served) -> None:
    page = served.get("monitor", "/cohort").text
    caveat = re.search(r'id="evidence-caveat">(.*?)</p>', page)
    assert caveat is not None
    assert caveat.group(1).startswith("Published results, not a prediction")
    evidence = page[page.index('id="evidence-table"') :]
    assert "Deng D 2017" in evidence and "placebo arm" in evidence
    labels = [row["label"] for row in chart_data(page)["forest"]["rows"]]
    assert "Deng D 2017, placebo" in labels and "Deng D 2017" in labels
    assert labels[-1].startswith("This cohort")


# --- no identity -------------------------------------------------------------------------------


def test_the_statistician_sees_no_identity_and_nobody_sees_study_codes(served: Served) -> None:
    people = identities(served.database)
    assert len(people) > 20
    pages = {
        persona: served.get(persona, "/cohort").text for persona in ("statistician", "physician")
    }
    pages["statistician report"] = served.get("statistician", "/cohort/report.html").text
    for where, page in pages.items():
        for person in people:
            assert person["code"] not in page, where
        if where.startswith("statistician"):
            for person in people:
                for kind in ("name", "listed", "born", "record"):
                    assert person[kind] not in page, (where, kind)


# --- the offline report ------------------------------------------------------------------------


def test_the_report_of_the_filter_downloads_as_html_and_pdf(served: Served) -> None:
    s01 = dataset_of(served.database, "S01")
    html = served.get("statistician", "/cohort/report.html", site="S01")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    disposition = html.headers["content-disposition"]
    assert disposition == f'attachment; filename="outcomes-report-{today().isoformat()}.html"'
    assert "<h1>Program outcomes report</h1>" in html.text
    assert f"<p>{s01.patients.height} infused patients" in html.text
    assert "site S01" in html.text
    pdf = served.get("statistician", "/cohort/report.pdf", site="S01")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    nobody = served.get("statistician", "/cohort/report.html", source="adipose")
    assert nobody.status_code == 404
    assert "no infused patient" in nobody.text


# --- the dataset kept while the registry is unchanged -------------------------------------------


def test_the_dataset_is_kept_until_the_registry_changes(served: Served) -> None:
    """Built once per set of sites while the audit head stays put, and shared by the users of
    those sites; a write makes the next page say its numbers are being brought up to date, and
    the page after shows the new ones. Runs last: it records an adverse event."""
    s01 = dataset_of(served.database, "S01")
    for persona in ("monitor", "statistician"):  # both are members of A01 and S01
        served.get(persona, "/")  # signed in (signing in is a write, like any other)
    served.get("monitor", "/cohort")
    cache = served.app.state.cohort_datasets
    cache.wait()
    for persona in ("monitor", "statistician"):
        assert count(served.get(persona, "/cohort").text) == s01.patients.height
    rebuilt: list[int] = []

    def built_again(_: Session) -> dict[str, Any]:
        rebuilt.append(1)
        return {"dataset": None}

    with served.database.reads() as session:
        kept = cache.figures(session, dataset_scope(("A01", "S01"), today()), built_again)
    cache.wait()
    assert rebuilt == [] and not kept.stale
    assert kept.figures["dataset"].patients.height == s01.patients.height
    before = outcomes_report(s01).safety.row("any").events
    alive = s01.patients.filter(~s01.patients["died"])
    patient, infused = alive["patient_id"][0], alive["first_infusion"][0]
    # within the analysis window, where adverse events are counted (registry_extract.HORIZON_DAYS)
    _record_event(served, patient, min(today(), infused + dt.timedelta(days=100)))
    stale = served.get("monitor", "/cohort").text
    if "a newer dataset is being built" in stale:  # built in the background (FigureCache.SLOW)
        assert f'<td>Any adverse event</td><td class="num">{before}</td>' in stale
        cache.wait()
    fresh = served.get("monitor", "/cohort").text
    assert "a newer dataset is being built" not in fresh
    assert f'<td>Any adverse event</td><td class="num">{before + 1}</td>' in fresh


def _record_event(served: Served, study_code: str, onset: dt.date) -> None:
    from sqlalchemy import select as query

    from lupus_msc.store.models import Patient

    with served.database.reads() as session:
        patient_id = session.scalar(query(Patient.id).where(Patient.study_code == study_code))
    body = {
        "term": "Headache",
        "grade": 1,
        "onset_on": onset.isoformat(),
        "relatedness": "unlikely",
        "expected": False,
        "action": "none",
        "outcome": "recovering",
    }
    with closing(Api(served.base_url, served.registry).as_("physician")) as client:
        answer = client.post(f"/api/v1/patients/{patient_id}/adverse-events", json=body)
    assert answer.status_code == 201, answer.text
