"""Every page, as every role finds it by following links: labelled fields, usable at 768 px,
one h1, operable with the keyboard, no server error; and the monitor finds no way to edit.

The crawl starts at the dashboard and follows the links each role is shown (GET only), visiting
at most ``PER_PATTERN`` pages per route pattern, so a new page is checked as soon as it is linked.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser_fixtures import TABLET, Site
from tests.course_builder import followed_up_patient
from tests.pathway_helpers import quarantined_lot
from tests.registry_fixtures import Api

PER_PATTERN = 1
MOST_PAGES = 80
SKIPPED = ("/static/", "/api/", "/openapi.json", "/docs", "/fhir")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NOT_RECORDS = ("/account/", "/exports")
"""Every user may change their own password and ask for an export (a read of the registry):
neither writes a record of the programme."""
ROLES = ("admin", "physician", "coordinator", "lab", "nurse", "monitor", "statistician")

PROBLEMS_JS = """
() => {
  const problems = [];
  const shown = (e) => e.type !== 'hidden' && e.getClientRects().length > 0;
  for (const c of document.querySelectorAll('input, select, textarea')) {
    if (!shown(c)) continue;
    const named = (c.labels && c.labels.length > 0) || c.getAttribute('aria-label')
      || c.getAttribute('aria-labelledby');
    if (!named) problems.push('field without a label: ' + c.outerHTML.slice(0, 140));
  }
  const wide = document.documentElement.scrollWidth;
  if (wide > window.innerWidth + 1) problems.push('page wider than the window: ' + wide + ' px');
  const headings = document.querySelectorAll('h1').length;
  if (headings !== 1) problems.push(headings + ' h1 headings');
  for (const e of document.querySelectorAll('a[href], button, input, select, textarea, summary')) {
    if (shown(e) && !e.disabled && e.tabIndex < 0) {
      problems.push('not reachable with Tab: ' + e.outerHTML.slice(0, 140));
    }
  }
  for (const e of document.querySelectorAll('[onclick], div[role=button], span[role=button]')) {
    problems.push('control that is not a link or button: ' + e.outerHTML.slice(0, 140));
  }
  return problems;
}
"""
EDIT_CONTROLS_JS = """
() => Array.from(document.querySelectorAll('main form')).filter(
  (f) => (f.getAttribute('method') || 'get').toLowerCase() === 'post'
).map((f) => f.getAttribute('action') || location.pathname)
"""


@pytest.fixture(scope="module")
def populated(site: Site) -> Site:
    api = Api(site.base_url, site.registry)
    followed_up_patient(api)
    quarantined_lot(api)
    return site


def pattern(path: str) -> str:
    return UUID.sub("{id}", path)


def links(page: Page, base_url: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(urljoin(base_url, href))
        if f"{parts.scheme}://{parts.netloc}" != base_url or parts.path.startswith(SKIPPED):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(page: Page, base_url: str) -> dict[str, list[str]]:
    """Problems by page path, for every page reached from the dashboard."""
    queue, seen, per_pattern = ["/"], set(), Counter[str]()
    problems: dict[str, list[str]] = {}
    while queue and len(seen) < MOST_PAGES:
        path = queue.pop(0)
        key = pattern(path.split("?")[0])
        if path in seen or per_pattern[key] >= PER_PATTERN:
            continue
        seen.add(path)
        per_pattern[key] += 1
        response = page.goto(path)
        assert response is not None
        found = [] if response.status < 500 else [f"server error {response.status}"]
        found += page.evaluate(PROBLEMS_JS)
        if found:
            problems[path] = found
        queue += [link for link in links(page, base_url) if link not in seen]
    assert len(seen) >= 1
    return problems


@pytest.mark.parametrize("persona", ROLES)
def test_every_page_a_role_reaches_is_accessible_at_tablet_width(
    populated: Site, persona: str
) -> None:
    page = populated.page_as(persona, TABLET)
    problems = crawl(page, populated.base_url)
    assert problems == {}


def test_the_monitor_finds_no_way_to_edit(populated: Site) -> None:
    page = populated.page_as("monitor", TABLET)
    queue, seen = ["/"], set()
    editable: dict[str, list[str]] = {}
    while queue and len(seen) < MOST_PAGES:
        path = queue.pop(0)
        if path in seen or pattern(path) in {pattern(p) for p in seen}:
            continue
        seen.add(path)
        page.goto(path)
        forms = page.evaluate(EDIT_CONTROLS_JS)
        if forms and not path.startswith(NOT_RECORDS):
            editable[path] = forms
        queue += links(page, populated.base_url)
    assert len(seen) > 3, "the monitor should reach the patient pages"
    assert editable == {}


def test_the_keyboard_reaches_the_content_first(populated: Site) -> None:
    page = populated.page_as("coordinator", TABLET)
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
