"""The Cohort page in a real browser (issue 7, "Reports"): plotly.js draws every chart from the
page's numbers, choosing an outcome redraws its chart, the filter form gives a link that shows the
same cohort again, the page is usable at 768 px and by keyboard, nothing goes wrong in the
console, and without JavaScript the tables carry the numbers. Screenshots at desktop and 768 px.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from lupus_msc.analytics.cohort_filter import CohortFilter, select
from tests.browser.test_accessibility import PROBLEMS_JS
from tests.browser_fixtures import TABLET, Site, sign_in
from tests.cohort_setup import dataset_of, load_two_sites
from tests.registry_fixtures import PASSWORD

CHARTS = (
    "chart-proportions",
    "chart-time-to",
    "chart-trajectory-c3",
    "chart-trajectory-c4",
    "chart-trajectory-anti-dsdna",
    "chart-forest",
)


@pytest.fixture(scope="module")
def cohort(site: Site) -> Site:
    load_two_sites(site.registry)
    return site


class Console:
    """Errors a page logs or throws (a missing favicon is the browser's own request)."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("favicon.ico"):
            self.errors.append(f"{message.text} at {message.location.get('url')}")


@pytest.fixture(scope="module")
def statistician(cohort: Site) -> Iterator[tuple[Page, Console]]:
    page = cohort.page_as("statistician")
    yield page, Console(page)


def patients_shown(page: Page) -> int:
    return int(page.locator("#cohort-patients").get_attribute("data-count") or "-1")


def drawn(page: Page) -> None:
    for chart in CHARTS:
        expect(page.locator(f"#{chart}")).to_have_attribute("data-drawn", "true")
        expect(page.locator(f"#{chart} .main-svg").first).to_be_visible()


def test_plotly_draws_every_chart_from_the_pages_numbers(
    cohort: Site, statistician: tuple[Page, Console]
) -> None:
    page, console = statistician
    page.goto("/cohort")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cohort outcomes")
    assert patients_shown(page) == dataset_of(cohort.registry.database, "S01").patients.height
    drawn(page)
    assert page.locator(".plotly").count() >= len(CHARTS)
    data = json.loads(page.locator("#cohort-chart-data").text_content() or "{}")
    shown = data["proportions"]["shown"]
    expect(page.locator("#chart-proportions")).to_have_attribute("data-outcome", shown)
    wanted = next(o for o in data["proportions"]["outcomes"] if o["key"] == shown)
    plotted = page.evaluate("document.getElementById('chart-proportions').data[0].y")
    assert plotted == [None if p is None else p["value"] for p in wanted["nri"]]
    curves = page.evaluate(
        "document.getElementById('chart-time-to').data.filter(t => t.name).map(t => t.name)"
    )
    assert curves == [curve["label"] for curve in data["time_to"]["curves"]]
    cohort.shot(page, "cohort-statistician-desktop")
    assert console.errors == []


def test_choosing_an_outcome_redraws_its_chart(statistician: tuple[Page, Console]) -> None:
    page, console = statistician
    page.goto("/cohort")
    drawn(page)
    data = json.loads(page.locator("#cohort-chart-data").text_content() or "{}")
    lldas = next(o for o in data["proportions"]["outcomes"] if o["key"] == "lldas")
    page.get_by_label("Outcome shown").select_option("lldas")
    expect(page.locator("#chart-proportions")).to_have_attribute("data-outcome", "lldas")
    observed = page.evaluate("document.getElementById('chart-proportions').data[1].y")
    assert observed == [None if p is None else p["value"] for p in lldas["observed"]]
    assert console.errors == []


def test_the_filter_form_gives_a_link_to_the_same_cohort(cohort: Site) -> None:
    page = cohort.page_as("physician")
    console = Console(page)
    page.goto("/cohort")
    both = dataset_of(cohort.registry.database, "S01", "S02")
    assert patients_shown(page) == both.patients.height
    starts = sorted(both.patients["first_infusion"].to_list())
    start = starts[len(starts) // 3]
    expected = select(both, CohortFilter(sites=("S02",), infused_from=start)).patients.height
    assert 0 < expected < both.patients.height
    page.get_by_label("Site").select_option("S02")
    page.get_by_label("First infusion from").fill(start.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/cohort\?site=S02&.*from={start.isoformat()}"))
    assert patients_shown(page) == expected
    drawn(page)
    link = page.url
    page.goto("/cohort")
    page.goto(link)
    assert patients_shown(page) == expected
    expect(page.get_by_label("Site")).to_have_value("S02")
    page.get_by_role("link", name="Clear filters").click()
    assert patients_shown(page) == both.patients.height
    assert console.errors == []


def test_usable_at_tablet_width_and_by_keyboard(cohort: Site) -> None:
    page = cohort.page_as("monitor", TABLET)
    console = Console(page)
    page.goto("/cohort")
    drawn(page)
    assert page.evaluate(PROBLEMS_JS) == []
    cohort.shot(page, "cohort-monitor-tablet")
    stratum = page.locator("details.stratum").first
    stratum.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(stratum).to_have_attribute("open", "")
    expect(stratum.locator("table")).to_be_visible()
    page.get_by_label("Outcome shown").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#chart-proportions")).not_to_have_attribute("data-outcome", "msri4")
    assert page.evaluate(PROBLEMS_JS) == []
    assert console.errors == []


def test_without_javascript_the_tables_carry_the_numbers(cohort: Site) -> None:
    context = cohort.browser.new_context(base_url=cohort.base_url, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, "statistician@example.org", PASSWORD)
        page.goto("/cohort")
        for chart in CHARTS:
            expect(page.locator(f"#{chart}")).to_be_hidden()
        for table in ("#table-1", "#outcome-table", "#time-to-table", "#trajectory-table"):
            expect(page.locator(table)).to_be_visible()
        expect(page.locator("#evidence-caveat")).to_contain_text("not a prediction")
        expect(page.locator("#evidence-table")).to_contain_text("placebo arm")
        cohort.shot(page, "cohort-without-javascript")
    finally:
        context.close()
