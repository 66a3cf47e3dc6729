"""Screening, the signed eligibility decision and consent in a real browser.

The coordinator fills the screening form and the live 2019 EULAR/ACR total (§7), SLEDAI-2K
(§1) and the protocol's rules follow each tick; every total the page shows is compared with the
clinical engine's own value for the same items. The physician signs (a wrong password and an
unexplained override are refused next to their fields), the coordinator records and withdraws
consent, and the monitor finds nothing to operate.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from lupus_msc.clinical import eular_acr_2019, sledai2k
from lupus_msc.clinical.eular_acr_2019 import EularAcr2019Input
from lupus_msc.clinical.sledai2k import DESCRIPTORS, Sledai2kInput
from lupus_msc.web.pages.screening_view import descriptor_label
from tests.browser_fixtures import TABLET, Site, sign_in
from tests.pathway_helpers import Json, register, screen
from tests.registry_fixtures import PASSWORD, Api

ANA = 320
ACTIVE = {"arthritis", "rash", "low_complement", "increased_dna_binding"}
"""4 + 2 + 2 + 2 (§1 weights)."""
LABELS = {d.key: descriptor_label(d) for d in DESCRIPTORS}


@pytest.fixture(scope="module")
def api(site: Site) -> Api:
    return Api(site.base_url, site.registry)


@pytest.fixture(scope="module")
def patient(api: Api) -> Json:
    """The patient the module walks through screening, decision and consent, in order."""
    return register(api)


def eular_total(criteria: list[str]) -> int:
    return eular_acr_2019.score(EularAcr2019Input(ana_titer=ANA, criteria=criteria)).total  # type: ignore[arg-type]


def live_total(page: Page, expected: int) -> None:
    expect(page.locator("#live-eular-total")).to_have_text(str(expected))


def rule(page: Page, rule_id: str, result: str) -> None:
    expect(page.locator(f"#live-rule-{rule_id}")).to_have_attribute("data-result", result)


def tick(page: Page, key: str) -> None:
    page.locator(f"#eular-{key}").check()


def test_the_live_score_and_rules_follow_each_ticked_item(site: Site, patient: Json) -> None:
    page = site.page_as("coordinator")
    page.goto(f"/patients/{patient['id']}/screening")
    expect(page.get_by_role("heading", name=f"Screening: {patient['study_code']}")).to_be_visible()
    expect(page.get_by_role("button", name="Check")).to_be_hidden()  # JavaScript previews
    rule(page, "sle_classified", "unknown")
    page.get_by_label("ANA titre").fill(str(ANA))
    live_total(page, 0)
    ticked: list[str] = []
    for key in ("oral_ulcers", "acute_cutaneous_lupus", "joint_involvement", "low_c3"):
        tick(page, key)
        ticked.append(key)
        live_total(page, eular_total(ticked))
    assert eular_total(ticked) == 6 + 6 + 3  # oral ulcers do not count beside acute cutaneous
    expect(page.locator("#live-check")).to_contain_text("acute cutaneous lupus")
    rule(page, "sle_classified", "met")
    tick(page, "low_c4")
    ticked.append("low_c4")
    live_total(page, eular_total(ticked))
    site.shot(page, "1-eular-ticked")

    rule(page, "active_disease", "unknown")
    for key in sorted(ACTIVE):
        page.get_by_role("radio", name=f"{LABELS[key]}: present", exact=True).check()
    expect(page.locator("#live-sledai")).to_contain_text("incomplete")
    rule(page, "active_disease", "unknown")  # a partial SLEDAI-2K decides nothing (§16.1)
    page.get_by_role("button", name="Mark every descriptor not assessed as absent").click()
    expect(page.get_by_role("radio", name="Seizure: absent", exact=True)).to_be_checked()
    assessed = Sledai2kInput.model_validate({k: k in ACTIVE for k in LABELS})
    expected_sledai = sledai2k.score(assessed).total
    expect(page.locator("#live-sledai-total")).to_have_text(str(expected_sledai))
    rule(page, "active_disease", "met")

    rule(page, "refractory", "not-met")
    for row, drug in enumerate(("mycophenolate", "azathioprine")):
        page.locator(f"[id='treatments.{row}.drug']").fill(drug)
        page.locator(f"[id='treatments.{row}.drug_class']").select_option("immunosuppressant")
        page.locator(f"[id='treatments.{row}.failed']").check()
    rule(page, "refractory", "met")
    page.locator("#active_infection").get_by_label("No", exact=True).check()
    page.locator("#pregnant").get_by_label("No / not applicable").check()
    rule(page, "no_active_infection", "met")
    rule(page, "not_pregnant", "met")
    expect(page.locator(".live-summary")).to_contain_text("eligible")
    site.shot(page, "2-screening-complete")

    page.get_by_role("button", name="Save the screening").click()
    expect(page.get_by_role("status")).to_contain_text("The screening is recorded")
    expect(page.locator("#saved-eular-total")).to_contain_text(str(eular_total(ticked)))
    expect(page.locator("#saved-sledai-total")).to_have_text(str(expected_sledai))
    expect(page.locator("#saved-rules")).to_have_text("eligible")
    expect(page.locator("#patient-state")).to_have_text("screening")
    site.shot(page, "3-screening-saved")


def test_without_javascript_the_check_button_shows_the_same_check(site: Site) -> None:
    api = Api(site.base_url, site.registry)
    other = register(api)
    context = site.browser.new_context(base_url=site.base_url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, "coordinator@example.org", PASSWORD)
    page.goto(f"/patients/{other['id']}/screening")
    page.get_by_label("ANA titre").fill(str(ANA))
    for key in ("fever", "seizure", "anti_dsdna_or_anti_smith"):
        tick(page, key)
    page.get_by_role("button", name="Check").click()
    live_total(page, eular_total(["fever", "seizure", "anti_dsdna_or_anti_smith"]))
    expect(page.locator("#eular-seizure")).to_be_checked()  # the form keeps what was entered
    site.shot(page, "4-check-without-javascript")
    context.close()


def test_the_physician_signs_eligibility(site: Site, patient: Json) -> None:
    page = site.page_as("physician")
    page.goto(f"/patients/{patient['id']}/screening")
    decision = page.locator("#decision")
    decision.get_by_label("Eligible", exact=True).check()
    page.get_by_label("Re-enter your password to sign").fill("not my password")
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.locator("[id='password-error']")).to_have_text("is wrong")
    expect(page.locator("#patient-state")).to_have_text("screening")
    site.shot(page, "5-signature-refused")

    page.locator("#decision").get_by_label("Screen-failed (not eligible)").check()
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.locator("[id='reason-error']")).to_contain_text("is required")
    expect(page.locator("#patient-state")).to_have_text("screening")
    site.shot(page, "6-override-without-reason-refused")

    page.locator("#decision").get_by_label("Eligible", exact=True).check()
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.get_by_role("status")).to_contain_text("The decision is signed")
    signed = page.locator("#signed-decision")
    expect(signed).to_contain_text("Physician")
    expect(signed).to_contain_text("eligibility decision: eligible")
    expect(signed).to_contain_text("UTC")
    expect(page.locator("#patient-state")).to_have_text("eligible")
    expect(page.get_by_role("button", name="Sign the decision")).to_have_count(0)
    site.shot(page, "7-eligibility-signed")


def test_consent_is_recorded_then_withdrawn(site: Site, patient: Json) -> None:
    page = site.page_as("coordinator")
    page.goto(f"/patients/{patient['id']}/consent")
    expect(page.get_by_text("No consent recorded")).to_be_visible()
    page.get_by_label("Consent form version").fill("2.1")
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("status")).to_contain_text("The consent is recorded")
    history = page.locator("#consent-history")
    expect(history).to_contain_text("2.1")
    expect(history).to_contain_text("Ada Lovelace")
    expect(history).to_contain_text("in force")
    expect(page.locator("#patient-state")).to_have_text("consented")
    site.shot(page, "8-consent-recorded")

    page.get_by_role("button", name="Withdraw consent").click()
    expect(page.locator("[id='reason-error']")).to_be_visible()
    expect(page.locator("#patient-state")).to_have_text("consented")
    page.get_by_label("Reason for withdrawal").fill("the patient moved abroad")
    page.get_by_role("button", name="Withdraw consent").click()
    expect(page.get_by_role("status")).to_contain_text("The consent is withdrawn")
    expect(history).to_contain_text("the patient moved abroad")
    expect(page.locator("#patient-state")).to_have_text("withdrawn")
    expect(page.get_by_role("button", name="Withdraw consent")).to_have_count(0)
    site.shot(page, "9-consent-withdrawn")


@pytest.fixture
def screened(site: Site) -> Json:
    """A patient screened (eligible by the rules) and awaiting the decision."""
    api = Api(site.base_url, site.registry)
    patient = register(api)
    screen(api, patient)
    return patient


def test_the_monitor_reads_the_screening_with_no_control_at_all(site: Site, screened: Json) -> None:
    page = site.page_as("monitor")
    for path in ("screening", "consent"):
        page.goto(f"/patients/{screened['id']}/{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        controls = page.locator("main form, main input, main select, main textarea, main button")
        expect(controls).to_have_count(0)
    page.goto(f"/patients/{screened['id']}/screening")
    expect(page.locator("#saved-eular-total")).to_contain_text("16")
    site.shot(page, "10-monitor-read-only")


def test_the_screening_form_fits_a_tablet(site: Site, screened: Json) -> None:
    page = site.page_as("coordinator", TABLET)
    page.goto(f"/patients/{screened['id']}/screening")
    page.get_by_role("radio", name="Proteinuria: present", exact=True).check()
    tick(page, "proteinuria")
    expect(page.locator("#live-check")).to_contain_text("proteinuria")
    expect(page.locator(".live-summary")).to_be_in_viewport()  # in view while ticking
    page.screenshot(path=str(site.shot(page, "11-screening-768px").with_name("11-viewport.png")))
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= TABLET["width"] + 1
