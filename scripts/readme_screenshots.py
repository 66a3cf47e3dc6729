"""Screenshots for the README, taken from the demo database in Debian's Chromium.

    .venv/bin/python scripts/readme_screenshots.py [--database-url URL] [--out docs/img]

Without ``--database-url`` it builds a fresh demo database in a temporary directory first
(``lupus-msc demo --no-serve``). It signs in as the demo physician, opens the dashboard and
the page of a patient in follow-up with the most recorded visits (down to its charts), and saves
both as PNG.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from tests.browser_fixtures import CHROMIUM
from tests.registry_fixtures import serving

from lupus_msc.web.app import create_app

DEMO_PASSWORD = "demo-password"  # noqa: S105 - the documented password of demo accounts only
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def demo_database(directory: Path) -> str:
    url = f"sqlite:///{directory / 'demo.sqlite3'}"
    command = [str(Path(sys.executable).parent / "lupus-msc"), "demo", "--no-serve"]
    subprocess.run([*command, "--database-url", url], check=True)  # noqa: S603
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        url = options.database_url or demo_database(Path(scratch))
        with serving(create_app(url)) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            context = browser.new_context(
                base_url=base_url, viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            page.goto("/sign-in")
            page.get_by_label("Email or user name").fill("physician")
            page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{base_url}/")
            page.screenshot(path=str(options.out / "dashboard.png"), full_page=True)
            page.goto("/patients?state=follow-up")
            links = page.eval_on_selector_all(
                "main a[href^='/patients/']", "els => els.map(e => e.getAttribute('href'))"
            )
            candidates = [href for href in links if re.fullmatch(f"/patients/{UUID}", href)]
            best, most = candidates[0], -1
            for href in candidates[:15]:
                page.goto(href)
                done = page.locator("text=done").count()
                if done > most:
                    best, most = href, done
            page.goto(best)
            page.wait_for_timeout(1500)  # let plotly draw
            charts = page.locator("section, .card").filter(
                has=page.get_by_role("heading", name="Over time")
            )
            box = charts.first.bounding_box()
            height = int(box["y"] + box["height"] + 16) if box else 2400
            page.screenshot(
                path=str(options.out / "patient-page.png"),
                full_page=True,
                clip={"x": 0, "y": 0, "width": 1280, "height": height},
            )
            browser.close()
    print(f"wrote {options.out / 'dashboard.png'} and {options.out / 'patient-page.png'}")


if __name__ == "__main__":
    main()
