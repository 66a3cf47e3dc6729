"""The dashboard in a real browser (issue 6): its counts equal what was set up over the JSON API,
each figure opens its filtered list, each role sees its own work first and nothing its role may
not read, and site-B staff do not count site-A patients. Screenshots at desktop and 768 px."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import TABLET, Site
from tests.pathway_helpers import (
    allocate,
    bedside_check,
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
)
from tests.registry_fixtures import Api

TODAY = dt.datetime.now(dt.UTC).date()
SUNDAY = TODAY + dt.timedelta(days=6 - TODAY.weekday())
Json = dict[str, Any]


def infuse_days_ago(api: Api, patient: Json, days: int) -> Json:
    """A released lot allocated, shipped, thawed, checked at the bedside and infused."""
    day = (TODAY - dt.timedelta(days=days)).isoformat()
    lot = quarantined_lot(api)
    release(api, lot)
    allocate(api, lot, patient)
    custody(api, lot, "shipped", f"{day}T09:00:00+00:00", "infusion ward")
    custody(api, lot, "thawed", f"{day}T10:00:00+00:00", "infusion ward")
    check = ok(bedside_check(api, patient, lot, f"{day}T10:20:00+00:00"), 201)
    return ok(infuse(api, patient, infusion_body(check, f"{day}T10:30:00+00:00")), 201)


def adverse_event(api: Api, patient: Json, **changes: Any) -> None:
    body = {
        "term": "Pneumonia",
        "grade": 3,
        "onset_on": (TODAY - dt.timedelta(days=20)).isoformat(),
        "relatedness": "unlikely",
        "expected": False,
        "action": "none",
        "outcome": "recovering",
        **changes,
    }
    with api.as_("physician") as client:
        ok(client.post(f"/api/v1/patients/{patient['id']}/adverse-events", json=body), 201)


@pytest.fixture(scope="module")
def expected(site: Site) -> dict[str, Any]:
    """Site A01: two referred patients, one eligible, one enrolled, one infused 35 days ago
    (with an open serious and a resolved mild adverse event); two quarantined lots, one
    expiring in 20 days. Site B01: two referred patients. Expected visit counts come from the
    API's own visit statuses."""
    api = Api(site.base_url, site.registry)
    register(api)
    register(api)
    decide(api, screen(api, register(api)))
    enrolled_patient(api)
    infused = enrolled_patient(api)
    infuse_days_ago(api, infused, 35)
    adverse_event(api, infused, serious_criteria=["hospitalisation"])
    resolved = (TODAY - dt.timedelta(days=5)).isoformat()
    adverse_event(api, infused, grade=1, term="Headache", outcome="recovered", resolved_on=resolved)
    quarantined_lot(api, expires_on=(TODAY + dt.timedelta(days=20)).isoformat())
    quarantined_lot(api)
    register(api, "coordinator_b", "B01")
    register(api, "coordinator_b", "B01")
    with api.as_("coordinator") as client:
        answer = client.get(f"/api/v1/patients/{infused['id']}/visits")
    assert answer.status_code == 200, answer.text
    schedule: list[Json] = answer.json()
    due = [
        v
        for v in schedule
        if v["status"] == "due"
        or (v["status"] == "upcoming" and dt.date.fromisoformat(v["window_start"]) <= SUNDAY)
    ]
    overdue = [v for v in schedule if v["status"] == "overdue"]
    assert due and overdue  # the set-up is meaningful: day0/day7 overdue, month1 due
    return {"due": len(due), "overdue": len(overdue)}


def count(page: Page, figure: str) -> int:
    return int(page.locator(f"#{figure} .stat").get_attribute("data-count") or "-1")


def headings(page: Page) -> list[str]:
    return page.locator("main h2").all_inner_texts()


def test_the_coordinator_sees_the_counts_set_up_over_the_api(
    site: Site, expected: dict[str, Any]
) -> None:
    page = site.page_as("coordinator")
    page.goto("/")
    states = {"referred": 2, "eligible": 1, "enrolled": 1, "infused": 1, "screening": 0}
    for state, number in states.items():
        assert count(page, f"state-{state}") == number, state
    assert count(page, "funnel-referred") == 5
    assert count(page, "funnel-eligible") == 3
    assert count(page, "funnel-infused") == 1
    assert count(page, "visits-due") == expected["due"]
    assert count(page, "visits-overdue") == expected["overdue"]
    assert count(page, "events-open") == 1
    assert count(page, "events-serious") == 1
    assert count(page, "events-open-serious") == 1
    assert count(page, "lots-quarantine") == 2
    assert count(page, "lots-expiring") == 1
    assert count(page, "lots-expired") == 0
    assert headings(page)[0] == "Follow-up visits"
    expect(page.locator("#funnel-definition")).to_contain_text("ever reached each stage")
    site.shot(page, "dashboard-coordinator")


def test_each_figure_links_to_its_filtered_list(site: Site, expected: dict[str, Any]) -> None:
    page = site.page_as("coordinator")
    page.goto("/")
    links = {
        "state-infused": "/patients?state=infused",
        "events-serious": "/adverse-events?serious=yes",
        "events-open": "/adverse-events?status=open",
        "lots-expiring": "/lab/lots?expiring=1",
        "lots-quarantine": "/lab/lots?state=quarantine",
        "visits-overdue": "/patients?visits=overdue",
        "funnel-eligible": "/patients?reached=eligible",
    }
    for figure, href in links.items():
        expect(page.locator(f"#{figure}")).to_have_attribute("href", href)
    page.locator("#lots-quarantine").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.base_url}/lab/lots?state=quarantine")
    expect(page.locator("main tbody tr")).to_have_count(2)  # the figure's 2 lots
    site.shot(page, "dashboard-to-quarantined-lots")


def test_the_lab_sees_lots_first_and_no_visits_or_adverse_events(
    site: Site, expected: dict[str, Any]
) -> None:
    page = site.page_as("lab")
    page.goto("/")
    assert headings(page) == ["Lots", "Patients by pathway state", "Screening funnel"]
    assert count(page, "lots-quarantine") == 2
    expect(page.locator("#events-open")).to_have_count(0)
    expect(page.locator("#visits-due")).to_have_count(0)
    site.shot(page, "dashboard-lab")


def test_a_site_b_coordinator_does_not_count_site_a_patients(
    site: Site, expected: dict[str, Any]
) -> None:
    page = site.page_as("coordinator_b")
    page.goto("/")
    assert count(page, "state-referred") == 2
    assert count(page, "state-infused") == 0
    assert count(page, "funnel-referred") == 2
    assert count(page, "funnel-eligible") == 0
    assert count(page, "visits-overdue") == 0
    assert count(page, "events-open") == 0
    assert count(page, "lots-quarantine") == 0
    expect(page.get_by_text("Counts for your sites")).to_be_visible()


def test_an_admin_counts_every_site_at_tablet_width(site: Site, expected: dict[str, Any]) -> None:
    page = site.page_as("admin", TABLET)
    page.goto("/")
    assert count(page, "funnel-referred") == 7
    assert count(page, "state-referred") == 4
    assert count(page, "visits-due") == expected["due"]
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 768
    assert page.locator("h1").count() == 1
    site.shot(page, "dashboard-admin-tablet")


def test_the_statistician_sees_only_what_the_role_may_read(
    site: Site, expected: dict[str, Any]
) -> None:
    page = site.page_as("statistician", TABLET)
    page.goto("/")
    assert headings(page) == ["Screening funnel", "Patients by pathway state", "Lots"]
    assert count(page, "funnel-infused") == 1
    site.shot(page, "dashboard-statistician-tablet")


def test_each_list_behind_a_figure_holds_what_the_figure_counts(
    site: Site, expected: dict[str, Any]
) -> None:
    """A funnel figure counts patients, so its list has as many rows; a visit figure counts
    visits, and its list has the patients owning them (here: the one infused patient)."""
    page = site.page_as("coordinator")
    page.goto("/")
    rows_expected = {
        "funnel-eligible": count(page, "funnel-eligible"),
        "funnel-infused": count(page, "funnel-infused"),
        "visits-due": 1,
        "visits-overdue": 1,
        "lots-expiring": count(page, "lots-expiring"),
    }
    for figure, rows in rows_expected.items():
        page.goto("/")
        page.locator(f"#{figure}").click()
        expect(page.locator("main tbody tr:has(a)")).to_have_count(rows)
    assert rows_expected["funnel-eligible"] == 3
