"""Adverse events in the browser: the physician records a platelet decrease whose CTCAE grade
is derived from the lab value while typing (§12), finds it in the filtered lists, records its
resolution; the monitor reads the event without any control.

Expected grades are read off the §12 table by hand: platelets 60 × 10⁹/L lies in
"< 75.0 – 50.0", grade 2; 20 × 10⁹/L lies in "< 25.0", grade 4.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import TABLET, Site
from tests.course_builder import infuse_on, on, screen_and_consent
from tests.pathway_helpers import register
from tests.registry_fixtures import Api


@pytest.fixture(scope="module")
def patient(site: Site) -> dict[str, Any]:
    api = Api(site.base_url, site.registry)
    registered = register(api)
    screen_and_consent(api, registered)
    infuse_on(api, registered, 0)
    return registered


def _fill(page: Page, value: str) -> None:
    page.get_by_label("Term (CTCAE)").fill("Platelet count decreased")
    page.get_by_label("Lab value").fill(value)
    page.get_by_label("Lab unit").select_option("10*9/L")
    page.get_by_label("Lower limit of normal (same unit)").fill("150")


def test_a_lab_graded_event_is_recorded_with_its_derived_grade(
    site: Site, patient: dict[str, Any]
) -> None:
    page = site.page_as("physician")
    page.goto(f"/adverse-events?patient_id={patient['id']}")
    page.get_by_role("link", name="Record an adverse event").click()
    expect(page.get_by_role("heading", name="New adverse event")).to_be_visible()
    _fill(page, "60")
    expect(page.locator("#derived-grade")).to_contain_text("Grade 2 derived from the lab value")
    expect(page.locator(".ae-grades")).to_contain_text("< 75.0 – 50.0")
    page.get_by_label("Lab value").fill("20")
    expect(page.locator("#derived-grade")).to_contain_text("Grade 4")
    page.get_by_label("Lab value").fill("60")
    expect(page.locator("#derived-grade")).to_contain_text("Grade 2")
    page.get_by_label("Onset").fill(on(100))
    page.get_by_label("Relatedness to the cell product").select_option("possible")
    page.get_by_label("Expected", exact=True).select_option("false")
    page.get_by_label("Action taken with the product").select_option("none")
    page.get_by_label("Outcome").select_option("recovering")
    page.get_by_label("CTCAE grade", exact=True).select_option("3")
    site.shot(page, "01-ae-lab-grade")
    page.get_by_role("button", name="Record adverse event").click()
    expect(page.locator("#grade-error")).to_contain_text("grades 60 10*9/L as 2")
    page.get_by_label("CTCAE grade", exact=True).select_option("")
    page.get_by_role("button", name="Record adverse event").click()
    expect(page.locator(".flash")).to_contain_text("grade 2")
    expect(page.locator("#event-grade")).to_contain_text("2 · derived from 60 10*9/L")
    site.shot(page, "02-ae-recorded")

    page.get_by_label("Resolved on").fill(on(110))
    page.get_by_label("Outcome").select_option("recovered")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash")).to_contain_text("updated")
    page.goto("/adverse-events?status=resolved&related=yes")
    expect(page.locator("#adverse-events")).to_contain_text("Platelet count decreased")
    page.goto("/adverse-events?status=open")
    expect(page.locator("main")).not_to_contain_text("Platelet count decreased")
    page.goto("/adverse-events?grade=2&serious=no")
    expect(page.locator("#adverse-events")).to_contain_text("Platelet count decreased")
    site.shot(page, "03-ae-list-filtered")
    tablet = site.page_as("physician", TABLET)
    tablet.goto(f"/adverse-events?patient_id={patient['id']}")
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 769
    site.shot(tablet, "04-ae-list-tablet")
    tablet.get_by_role("link", name="Platelet count decreased").click()
    site.shot(tablet, "05-ae-event-tablet")


def test_the_monitor_reads_events_without_any_control(site: Site, patient: dict[str, Any]) -> None:
    page = site.page_as("monitor")
    page.goto(f"/adverse-events?patient_id={patient['id']}")
    expect(page.get_by_role("link", name="Record an adverse event")).to_have_count(0)
    page.get_by_role("link", name="Platelet count decreased").click()
    expect(page.locator("#event-grade")).to_contain_text("2")
    main = page.locator("main")
    expect(main.locator("form")).to_have_count(0)
    expect(main.locator("input, select, textarea, button")).to_have_count(0)
    site.shot(page, "06-monitor-ae")
