"""Browser fixtures: the app over a seeded SQLite registry, driven by Playwright in Debian's
Chromium (``executable_path``; never ``playwright install``), with screenshots as artifacts.

Screenshots go to ``test-artifacts/browser/<test module>/`` (or ``$LUPUS_MSC_ARTIFACTS``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from lupus_msc.store.database import Database
from lupus_msc.web.app import create_app
from tests.registry_fixtures import PASSWORD, Registry, seed, serving

CHROMIUM = os.environ.get("LUPUS_MSC_CHROMIUM", "/usr/bin/chromium")
"""The binary of Debian's ``chromium`` package (``make test`` installs it when missing)."""
ARTIFACTS = Path(
    os.environ.get("LUPUS_MSC_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts")
)
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: run `make test` (installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@dataclass
class Site:
    """The app served over a seeded registry, and signed-in pages per persona."""

    base_url: str
    registry: Registry
    browser: Browser
    shots: Path
    pages: dict[tuple[str, int], Page] = field(default_factory=dict)

    def page_as(self, persona: str, viewport: dict[str, int] = DESKTOP) -> Page:
        """A page signed in as ``persona`` (one browser context per persona and width)."""
        key = (persona, viewport["width"])
        if key not in self.pages:
            context = self.browser.new_context(base_url=self.base_url, viewport=viewport)
            context.set_default_timeout(15_000)
            page = context.new_page()
            sign_in(page, f"{persona}@example.org", PASSWORD)
            self.pages[key] = page
        return self.pages[key]

    def anonymous(self, viewport: dict[str, int] = DESKTOP) -> Page:
        context = self.browser.new_context(base_url=self.base_url, viewport=viewport)
        context.set_default_timeout(15_000)
        return context.new_page()

    def shot(self, page: Page, name: str) -> Path:
        """A full-page screenshot kept as a test artifact."""
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def sign_in(page: Page, login: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email or user name").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture(scope="module")
def site(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Site]:
    """A fresh seeded SQLite registry served on a local port, for one test module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'registry.sqlite3'}"
    database = Database(url)
    database.upgrade()
    registry = seed(database)
    shots = ARTIFACTS / "browser" / request.module.__name__.rsplit(".", 1)[-1]
    with serving(create_app(url)) as base_url:
        served = Site(base_url, registry, browser, shots)
        yield served
        for page in served.pages.values():
            page.context.close()
    database.dispose()
