"""The cell-processing lab in a real browser: a donor, a harvest, a lot, its release tests (one
out of specification), the signed release, custody events, the allocation and the printed label
with its QR code; the unqualified lab user, the monitor and another site's lab as they find it.

Release specification (§14 default, D22): viability ≥ 70 %, so 60 % is out of specification.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from lupus_msc.cells.identity import check_character, has_valid_check, parse_lot_code
from tests.browser.qr_reading import decode_svg
from tests.browser_fixtures import TABLET, Site
from tests.pathway_helpers import RELEASE_RESULTS, enrolled_patient, quarantined_lot
from tests.registry_fixtures import PASSWORD, Api

CODE = re.compile(r"A01-\d{4}-\d{6}-[0-9A-Z*]")


def _fits_the_width(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide at a {width} px viewport"


UNLABELLED = """() => [...document.querySelectorAll('main input, main select, main textarea')]
  .filter(c => c.type !== 'hidden')
  .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label'))
  .map(c => c.outerHTML.slice(0, 120))"""


def _accessible(page: Page) -> None:
    """Every field has a label; one h1; headings never skip a level."""
    assert page.evaluate(UNLABELLED) == []
    levels = page.evaluate("[...document.querySelectorAll('h1,h2,h3,h4')].map(h => +h.tagName[1])")
    assert levels.count(1) == 1
    assert all(after - before <= 1 for before, after in itertools.pairwise(levels))


def _record_donor_and_harvest(site: Site, page: Page) -> None:
    page.goto("/lab/donors")
    page.get_by_role("link", name="Record a donor").click()
    page.wait_for_url("**/lab/donors/new")
    _accessible(page)
    page.get_by_label("Donor", exact=True).select_option("allogeneic")
    page.get_by_label("Tissue source").select_option("umbilical-cord")
    for name in ("hiv_1_2", "hbv", "hcv", "syphilis"):
        page.locator(f"#test_{name}").select_option("negative")
    page.get_by_role("button", name="Record the donor").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Donor A01-D")
    expect(page.locator(".facts")).to_contain_text("Not established")  # no HTLV result yet
    page.get_by_label("Collected on").fill("2025-06-01")
    page.get_by_label("Amount collected").fill("30")
    page.get_by_label("Unit").select_option("g")
    page.get_by_role("button", name="Record the harvest").click()
    expect(page.get_by_role("alert")).to_contain_text("eligibility is not established")
    expect(page.get_by_role("alert")).to_contain_text("no result yet for htlv")
    site.shot(page, "01-harvest-refused-donor-not-eligible")
    page.get_by_text("Add or correct test results").click()
    page.locator("#test_htlv").select_option("negative")
    page.get_by_role("button", name="Save the test results").click()
    expect(page.locator(".facts")).to_contain_text("Eligible")
    page.get_by_label("Collected on").fill("2025-06-01")
    page.get_by_label("Amount collected").fill("30")
    page.get_by_label("Unit").select_option("g")
    page.get_by_role("button", name="Record the harvest").click()
    expect(page.get_by_role("status")).to_contain_text("Harvest recorded")
    site.shot(page, "02-donor-with-harvest")


def _make_lot(site: Site, page: Page) -> str:
    page.get_by_role("link", name="Make a lot from the harvest of 2025-06-01").click()
    page.wait_for_url("**/lab/lots/new**")
    _accessible(page)
    page.get_by_label("Passage").fill("3")
    page.get_by_label("Total cells in the lot").fill("1.2e8")
    page.get_by_label("Viable cells per mL").fill("5e6")
    page.get_by_label("Viability (%)").fill("92")
    page.get_by_label("Volume (mL)").fill("24")
    page.get_by_label("Storage location").fill("LN2 tank 2, rack 4")
    page.get_by_label("Cryopreserved on").fill("2025-07-01")
    page.get_by_label("Expires on").fill("2024-07-01")
    page.get_by_role("button", name="Make the lot").click()
    expect(page.locator("#expires_on-error")).to_contain_text("after the cryopreservation date")
    page.get_by_label("Expires on").fill("2030-07-01")
    page.get_by_role("button", name="Make the lot").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("quarantine")
    found = CODE.search(heading.inner_text())
    assert found is not None
    code = found.group(0)
    parse_lot_code(code)  # well formed, check character right (ISO 7064 MOD 37-2, §14)
    assert code[-1] == check_character(code[:-2].replace("-", ""))
    expect(page.get_by_role("status")).to_contain_text(f"its check character is {code[-1]}")
    expect(page.locator("main")).to_contain_text("1.2 × 10⁸")
    site.shot(page, "03-lot-in-quarantine")
    return code


def _enter_release_tests(site: Site, page: Page) -> None:
    results: dict[str, Any] = {**RELEASE_RESULTS, "viability_pct": 60}
    for name, value in results.items():
        field = page.locator(f"#result_{name}")
        if isinstance(value, bool):
            field.select_option("true" if value else "false")
        elif value in ("negative", "positive"):
            field.select_option(value)
        else:
            field.fill(str(value))
    page.get_by_label("Tested on").fill("2025-07-10")
    page.get_by_role("button", name="Record the results").click()
    expect(page.get_by_role("status")).to_contain_text("14 result(s) recorded")
    viability = page.locator("#test-viability_pct")
    expect(viability).to_contain_text("≥ 70 %")
    expect(viability).to_contain_text("60")
    expect(viability.locator(".badge")).to_have_text("no · out of spec")
    expect(viability.locator(".badge")).to_have_class(re.compile("bad"))
    expect(page.locator("#test-cd105_pct .badge")).to_have_text("yes · within spec")
    expect(page.locator("#failures")).to_have_text("viability_pct")
    site.shot(page, "04-release-tests-one-out-of-spec")


def _sign_release(site: Site, page: Page) -> None:
    page.get_by_role("link", name="Release or reject (e-signature)").click()
    expect(page.locator("#failures")).to_have_text("viability_pct")
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.locator("#deviation-error")).to_contain_text("does not meet its specification")
    expect(page.locator("#deviation-error")).to_contain_text("viability_pct: out of specification")
    expect(page.locator("#lot-state")).to_have_text("quarantine")
    site.shot(page, "05-release-refused-without-deviation")
    page.get_by_label(re.compile("^Deviation")).fill(
        "Viability 60 % after thaw test; QA approved use under deviation DV-2025-014."
    )
    page.get_by_label("Re-enter your password to sign").fill("not my password")
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.locator("#password-error")).to_have_text("is wrong")
    expect(page.locator("#lot-state")).to_have_text("quarantine")
    site.shot(page, "06-signature-wrong-password")
    expect(page.get_by_label(re.compile("^Deviation"))).to_contain_text("DV-2025-014")
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.get_by_role("status")).to_contain_text("Lot released: signed by Lab at")
    expect(page.locator("#lot-state")).to_have_text("released")
    decision = page.locator(".signed-decision")
    expect(decision.locator(".signer")).to_have_text("Lab")
    expect(decision).to_contain_text("Meaning: I release this lot for clinical use")
    expect(decision).to_contain_text("DV-2025-014")
    expect(decision.locator("time")).to_contain_text("UTC")
    site.shot(page, "07-released-with-signature")


def _custody_and_allocation(site: Site, page: Page, patient: dict[str, Any]) -> None:
    page.get_by_role("link", name=re.compile("^← Lot")).click()
    page.get_by_label("Event").select_option("moved")
    page.get_by_label("When (UTC)").fill("2025-07-11T09:00")
    page.get_by_label("Where", exact=True).fill("LN2 tank 3, rack 1")
    page.get_by_label("Note").fill("tank 2 maintenance")
    page.get_by_role("button", name="Add the event").click()
    expect(page.get_by_role("status")).to_contain_text("Custody event recorded: moved")
    expect(page.locator("#lot-storage")).to_have_text("LN2 tank 3, rack 1")
    page.get_by_label("Event").select_option("discarded")
    page.get_by_role("button", name="Add the event").click()
    expect(page.locator("#custody_reason-error")).to_contain_text("required to discard")
    expect(page.locator("#lot-state")).to_have_text("released")
    page.get_by_label("Patient", exact=True).select_option(
        label=f"{patient['study_code']} (enrolled)"
    )
    page.get_by_role("button", name="Allocate the lot").click()
    expect(page.get_by_role("status")).to_contain_text("allocated")
    expect(page.locator("#lot-patient")).to_have_text(patient["study_code"])
    page.get_by_label("Event").select_option("shipped")
    page.get_by_label("When (UTC)").fill("2025-07-12T08:30")
    page.get_by_label("Where", exact=True).fill("infusion ward")
    page.get_by_role("button", name="Add the event").click()
    expect(page.locator("#lot-state")).to_have_text("shipped")
    log = page.locator(".custody-log tbody tr")
    expect(log).to_have_count(2)
    expect(log.nth(0)).to_contain_text("Moved")
    expect(log.nth(1)).to_contain_text("Shipped")
    expect(log.nth(1)).to_contain_text("Lab")
    expect(log.nth(1)).to_contain_text("2025-07-12 08:30 UTC")
    site.shot(page, "08-custody-log-and-allocation")


def _label(site: Site, page: Page, code: str) -> None:
    page.get_by_role("link", name="Label with QR code").click()
    expect(page.locator("#label-code")).to_have_text(code)
    svg = page.locator(".label-qr svg").evaluate("node => node.outerHTML")
    assert decode_svg(svg) == code
    assert has_valid_check(code.replace("-", ""))
    label = page.locator(".lot-label")
    for text in ("Umbilical cord", "1.2 × 10⁸", "24 mL", "2030-07-01", "LN2 tank 3, rack 1"):
        expect(label).to_contain_text(text)
    expect(page.get_by_role("button", name="Print the label")).to_be_visible()
    site.shot(page, "09-label")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_hidden()
    expect(page.locator("#label-code")).to_be_visible()
    site.shot(page, "10-label-printed")
    page.emulate_media(media="screen")


def test_the_lab_makes_tests_releases_ships_and_labels_a_lot(site: Site) -> None:
    patient = enrolled_patient(Api(site.base_url, site.registry))
    page = site.page_as("lab")
    _record_donor_and_harvest(site, page)
    code = _make_lot(site, page)
    _enter_release_tests(site, page)
    _sign_release(site, page)
    _custody_and_allocation(site, page, patient)
    _label(site, page, code)
    page.goto("/lab/lots?state=shipped")
    expect(page.get_by_role("link", name=code)).to_be_visible()
    page.goto("/lab/lots?state=quarantine")
    expect(page.get_by_role("link", name=code)).to_have_count(0)


def test_the_lab_pages_fit_a_tablet(site: Site) -> None:
    lot = quarantined_lot(Api(site.base_url, site.registry), expires_on="2030-01-01")
    page = site.page_as("lab", TABLET)
    for path, name in (
        ("/lab/lots", "11-tablet-lots"),
        ("/lab/donors", "12-tablet-donors"),
        (f"/lab/lots/{lot['id']}", "13-tablet-lot"),
        (f"/lab/lots/{lot['id']}/release", "14-tablet-release"),
        (f"/lab/lots/{lot['id']}/label", "15-tablet-label"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        _fits_the_width(page, TABLET["width"])
        _accessible(page)
        site.shot(page, name)
    page.goto(f"/lab/donors/{lot['harvest_id']}")  # a harvest id is no donor: not found
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")


def test_the_lots_list_filters_by_status_and_expiry(site: Site) -> None:
    api = Api(site.base_url, site.registry)
    soon = quarantined_lot(api, expires_on=_in_days(10))
    later = quarantined_lot(api, expires_on="2031-01-01")
    page = site.page_as("lab")
    page.goto("/lab/lots")
    page.get_by_label("Status").select_option("quarantine")
    page.get_by_label("Expiring within 30 days").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=soon["code"])).to_be_visible()
    expect(page.get_by_role("link", name=later["code"])).to_have_count(0)
    expect(page.locator("tbody")).to_contain_text("within 30 days")
    site.shot(page, "16-lots-expiring-within-30-days")


def _in_days(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def test_a_lab_user_without_the_qualification_is_refused(site: Site) -> None:
    lot = quarantined_lot(Api(site.base_url, site.registry))
    page = site.page_as("lab_unqualified")
    page.goto(f"/lab/lots/{lot['id']}/release")
    expect(page.locator("#not-qualified")).to_contain_text("no unexpired lot-release qualification")
    expect(page.get_by_role("button", name="Sign the decision")).to_have_count(0)
    site.shot(page, "17-release-refused-unqualified")
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    csrf = page.locator("main input[name=csrf_token]")
    expect(csrf).to_have_count(0)
    token = page.locator("header input[name=csrf_token]").get_attribute("value")
    posted = httpx.post(
        f"{site.base_url}/lab/lots/{lot['id']}/release",
        data={"csrf_token": token or "", "decision": "reject", "password": PASSWORD},
        cookies=cookies,
    )
    assert posted.status_code == 409
    assert "no unexpired lot-release qualification" in posted.text
    page.goto(f"/lab/lots/{lot['id']}")
    expect(page.get_by_role("link", name="Release or reject (e-signature)")).to_be_visible()
    expect(page.locator("#lot-state")).to_have_text("quarantine")


def test_the_monitor_reads_everything_and_finds_no_control(site: Site) -> None:
    lot = quarantined_lot(Api(site.base_url, site.registry))
    page = site.page_as("monitor")
    paths = (
        "/lab/lots",
        "/lab/donors",
        f"/lab/lots/{lot['id']}",
        f"/lab/lots/{lot['id']}/release",
        f"/lab/lots/{lot['id']}/label",
    )
    for number, path in enumerate(paths, start=18):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator("main form[method=post]")).to_have_count(0)
        expect(page.locator("main textarea, main input[type=password]")).to_have_count(0)
        for words in ("Record a donor", "Make a lot", "Release or reject", "Allocate"):
            expect(page.get_by_role("link", name=words)).to_have_count(0)
        site.shot(page, f"{number}-monitor-{path.rsplit('/', 1)[-1] or 'lots'}")
    page.goto(f"/lab/lots/{lot['id']}")
    expect(page.locator("#test-viability_pct")).to_contain_text("≥ 70 %")
    page.goto("/lab/lots/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")


def test_another_sites_lot_is_not_found(site: Site) -> None:
    lot = quarantined_lot(Api(site.base_url, site.registry))
    page = site.page_as("lab_b")
    for path in (f"/lab/lots/{lot['id']}", f"/lab/lots/{lot['id']}/label"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    page.goto("/lab/lots")
    expect(page.get_by_role("link", name=lot["code"])).to_have_count(0)
    site.shot(page, "23-other-site-lot-not-found")
