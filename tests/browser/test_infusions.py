"""The infusion at the bedside in a real browser at tablet width (768 px): the nurse sees every
gate, checks identity with a second nurse, sees the dose and infuses; a mismatched lot stops the
flow with a red message and stays on file; a dose outside the range needs a deviation; the monitor
finds no controls. Screenshots of each step are kept as artifacts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import PROBLEMS_JS
from tests.browser_fixtures import TABLET, Site, sign_in
from tests.pathway_helpers import allocate, custody, enrolled_patient, ok, quarantined_lot, release
from tests.registry_fixtures import PASSWORD, Api

Json = dict[str, Any]


def listed(response: Any) -> list[Any]:
    """The JSON list of a successful GET."""
    assert response.status_code == 200, response.text
    body: list[Any] = response.json()
    return body


def _ago(minutes: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)).isoformat()


def thawed_lot(api: Api, patient: Json, *, thawed_minutes_ago: int = 20) -> Json:
    """A released lot allocated to ``patient``, shipped to the ward and thawed a while ago."""
    lot = quarantined_lot(api)
    release(api, lot)
    allocate(api, lot, patient)
    custody(api, lot, "shipped", _ago(thawed_minutes_ago + 10), "infusion ward")
    custody(api, lot, "thawed", _ago(thawed_minutes_ago), "infusion ward")
    return lot


@pytest.fixture
def api(site: Site) -> Api:
    return Api(site.base_url, site.registry)


def nurse_page(site: Site, patient: Json) -> Page:
    page = site.page_as("nurse", TABLET)
    page.goto(f"/patients/{patient['id']}/infusions/new")
    return page


def check_identity(page: Page, patient_code: str, lot_code: str, second: str = "nurse2") -> None:
    """Scan both codes as a scanner does (type, then Enter), then the second checker signs."""
    page.get_by_label("Patient code (wristband)").fill(patient_code)
    page.get_by_label("Patient code (wristband)").press("Enter")
    expect(page.get_by_label("Lot chain-of-identity code (bag label)")).to_be_focused()
    page.keyboard.type(lot_code)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Second checker's email")).to_be_focused()
    page.get_by_label("Second checker's email").fill(f"{second}@example.org")
    page.get_by_label("Second checker's password").fill(PASSWORD)
    page.get_by_role("button", name="Check identity").click()


def fill_vitals(page: Page) -> None:
    before = page.get_by_role("group", name="Vitals before")
    before.get_by_label("Systolic (mmHg)").fill("118")
    before.get_by_label("Diastolic (mmHg)").fill("76")
    before.get_by_label("Heart rate (/min)").fill("72")
    before.get_by_label("Temperature (°C)").fill("36.8")


def test_the_nurse_checks_identity_with_a_second_nurse_and_infuses(site: Site, api: Api) -> None:
    patient = enrolled_patient(api)
    lot = thawed_lot(api, patient)
    page = nurse_page(site, patient)
    gates = page.locator(".gate")
    expect(gates).to_have_count(7)
    expect(page.locator(".gate .badge.bad")).to_have_count(0)
    expect(page.locator(".lots")).to_contain_text(lot["code"])
    expect(page.locator(".lots")).to_contain_text("of 120")
    expect(page.locator("#infusion-form")).to_have_count(0)
    assert page.evaluate(PROBLEMS_JS) == []
    site.shot(page, "1-gates-and-lots")

    check_identity(page, patient["study_code"], lot["code"])
    expect(page.locator(".go")).to_contain_text("Identity confirmed")
    expect(page.locator(".go")).to_contain_text("Nurse2")
    site.shot(page, "2-identity-confirmed")

    page.get_by_label("Weight today (kg)").fill("60")
    preview = page.locator("#dose-preview")
    expect(preview.locator("[data-dose=target-cells]")).to_have_text("60 × 10⁶ cells")
    expect(preview.locator("[data-dose=volume]")).to_have_text("12.0 mL")
    expect(preview.locator("[data-dose=range]")).to_contain_text("48 × 10⁶ – 72 × 10⁶ cells")
    page.get_by_label("Cells actually given").fill("60000000")
    page.get_by_label("Volume actually given (mL)").fill("12")
    expect(preview).to_contain_text("within the range")
    site.shot(page, "3-dose")

    page.get_by_label("Premedication (one per line)").fill("paracetamol 1 g\nchlorphenamine 10 mg")
    page.get_by_label("Access site (route intravenous)").fill("left forearm")
    fill_vitals(page)
    assert page.evaluate(PROBLEMS_JS) == []
    site.shot(page, "4-infusion-record")
    page.get_by_role("button", name="Record the infusion").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Infusion 1 for {patient['study_code']}"
    )
    expect(page.get_by_role("status")).to_contain_text("Infusion 1 is recorded")
    main = page.locator("main")
    expect(main).to_contain_text(lot["code"])
    expect(main).to_contain_text("paracetamol 1 g")
    expect(page.locator("[data-dose=actual]")).to_contain_text("60 × 10⁶ cells in 12 mL")
    assert page.evaluate(PROBLEMS_JS) == []
    site.shot(page, "5-infusion-recorded")
    with api.as_("monitor") as client:
        infusions = listed(client.get(f"/api/v1/patients/{patient['id']}/infusions"))
        state = ok(client.get(f"/api/v1/lots/{lot['id']}"))["state"]
    reaction = f"/patients/{patient['id']}/adverse-events/new?infusion_id={infusions[0]['id']}"
    link = page.get_by_role("link", name="Record an infusion reaction")
    expect(link).to_have_attribute("href", reaction)
    assert [i["administered_by_id"] for i in infusions] == [str(site.registry.users["nurse"])]
    assert infusions[0]["verified_by_id"] == str(site.registry.users["nurse2"])
    assert state == "infused"
    link.click()
    expect(page.get_by_label("Linked infusion")).to_have_value(infusions[0]["id"])


def test_a_mismatched_lot_stops_the_flow_and_stays_on_file(site: Site, api: Api) -> None:
    patient = enrolled_patient(api)
    thawed_lot(api, patient)
    other = enrolled_patient(api)
    wrong = thawed_lot(api, other)
    page = nurse_page(site, patient)
    check_identity(page, patient["study_code"], wrong["code"])

    stop = page.locator(".stop[role=alert]")
    expect(stop).to_be_visible()
    expect(stop).to_contain_text("STOP — do not infuse")
    expect(stop).to_contain_text(f"lot {wrong['code']} is not allocated to {patient['study_code']}")
    expect(stop).to_contain_text(patient["study_code"])
    expect(stop).to_contain_text(wrong["code"])
    expect(stop).to_be_focused()
    expect(page.locator("#infusion-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Record the infusion")).to_have_count(0)
    expect(page.get_by_label("Weight today (kg)")).to_have_count(0)
    mismatch = page.locator(".checks tr[data-matched=false]")
    expect(mismatch).to_have_count(1)
    expect(mismatch).to_contain_text("MISMATCH")
    assert page.evaluate(PROBLEMS_JS) == []
    site.shot(page, "mismatch-stop")

    with api.as_("monitor") as client:
        trail = listed(client.get(f"/api/v1/patients/{patient['id']}/audit"))
        infusions = listed(client.get(f"/api/v1/patients/{patient['id']}/infusions"))
    logged = [event for event in trail if event["entity"] == "bedside_checks"]
    assert len(logged) == 1 and '"matched":false' in logged[0]["new_value"]
    assert infusions == []


def test_a_wrong_wristband_is_refused_with_the_stop_message(site: Site, api: Api) -> None:
    patient = enrolled_patient(api)
    lot = thawed_lot(api, patient)
    page = nurse_page(site, patient)
    check_identity(page, "A01-9999", lot["code"])
    stop = page.locator(".stop[role=alert]")
    expect(stop).to_contain_text("the wristband says A01-9999")
    expect(page.locator("#infusion-form")).to_have_count(0)


def test_a_dose_outside_the_range_is_refused_next_to_the_field_until_a_deviation(
    site: Site, api: Api
) -> None:
    """90 × 10⁶ cells for 60 kg is 1.5 × 10⁶/kg, above the default maximum of 1.2 × 10⁶/kg."""
    patient = enrolled_patient(api)
    lot = thawed_lot(api, patient)
    page = nurse_page(site, patient)
    check_identity(page, patient["study_code"], lot["code"])
    page.get_by_label("Weight today (kg)").fill("60")
    page.get_by_label("Cells actually given").fill("90000000")
    page.get_by_label("Volume actually given (mL)").fill("18")
    expect(page.locator("#dose-preview")).to_contain_text("outside the range")
    fill_vitals(page)
    page.get_by_role("button", name="Record the infusion").click()

    error = page.locator("#actual_cells-error")
    expect(error).to_contain_text("outside the protocol's range")
    expect(page.get_by_label("Cells actually given")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".go")).to_be_visible()
    site.shot(page, "dose-outside-range-refused")
    with api.as_("monitor") as client:
        assert listed(client.get(f"/api/v1/patients/{patient['id']}/infusions")) == []

    page.get_by_label("Dose deviation").fill("Whole lot given on the investigator's instruction")
    fill_vitals(page)
    page.get_by_role("button", name="Record the infusion").click()
    expect(page.locator("[data-dose=actual]")).to_contain_text("outside the range")
    expect(page.locator("main")).to_contain_text("investigator's instruction")


def test_the_monitor_sees_the_gates_but_no_controls(site: Site, api: Api) -> None:
    patient = enrolled_patient(api)
    thawed_lot(api, patient)
    page = site.page_as("monitor", TABLET)
    page.goto(f"/patients/{patient['id']}/infusions/new")
    expect(page.locator(".gate")).to_have_count(6)
    expect(page.locator("main form")).to_have_count(0)
    expect(page.locator("main input, main button")).to_have_count(0)
    site.shot(page, "monitor-read-only")


def test_without_javascript_the_calculate_button_shows_the_dose(site: Site, api: Api) -> None:
    """Progressive enhancement: the live preview's no-JavaScript fallback renders the page."""
    patient = enrolled_patient(api)
    lot = thawed_lot(api, patient)
    context = site.browser.new_context(
        base_url=site.base_url, viewport=TABLET, java_script_enabled=False
    )
    try:
        page = context.new_page()
        sign_in(page, "physician@example.org", PASSWORD)
        page.goto(f"/patients/{patient['id']}/infusions/new")
        page.get_by_label("Patient code (wristband)").fill(patient["study_code"])
        page.get_by_label("Lot chain-of-identity code (bag label)").fill(lot["code"])
        page.get_by_label("Second checker's email").fill("nurse2@example.org")
        page.get_by_label("Second checker's password").fill(PASSWORD)
        page.get_by_role("button", name="Check identity").click()
        expect(page.locator(".go")).to_contain_text("Physician and Nurse2")
        page.get_by_label("Weight today (kg)").fill("80")
        page.get_by_role("button", name="Calculate the dose").click()
        preview = page.locator("#dose-preview")
        expect(preview.locator("[data-dose=target-cells]")).to_have_text("80 × 10⁶ cells")
        expect(preview.locator("[data-dose=volume]")).to_have_text("16.0 mL")
        expect(page.get_by_label("Weight today (kg)")).to_have_value("80")
        site.shot(page, "no-javascript-dose")
    finally:
        context.close()
