"""The physician records a month-3 visit in the browser: labs pre-fill the lab-derived
SLEDAI-2K descriptors, the live total follows (equal to the engine's), an override needs a
reason, FACIT-F is scored, the visit is saved and signed, and a change after signing needs a
reason. Then a medication shows its prednisone equivalent, and the monitor finds no controls.

Expected values come from the instruments themselves (``scoring.registry``), fed the same
inputs the physician types, and from hand-worked §-examples where noted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from lupus_msc.clinical.sledai2k import WEIGHTS
from lupus_msc.scoring.registry import get_instrument
from tests.browser_fixtures import TABLET, Site
from tests.course_builder import infuse_on, on, screen_and_consent
from tests.pathway_helpers import ok, register
from tests.registry_fixtures import PASSWORD, Api

LABS = {
    "c3": ("0.7", "0.9", ""),
    "anti_dsdna": ("80", "", "30"),
    "platelets": ("210", "", ""),
    "wbc": ("5.1", "", ""),
    "urine_rbc_hpf": ("12", "", ""),
    "creatinine": ("0.9", "", ""),
}
"""Value, reference low, reference high, as the physician types them (canonical units)."""
ENGINE_LABS = {
    "c3_g_l": Decimal("0.7"),
    "c3_lln_g_l": Decimal("0.9"),
    "anti_dsdna_iu_ml": Decimal(80),
    "anti_dsdna_uln_iu_ml": Decimal(30),
    "platelets_10e9_l": Decimal(210),
    "wbc_10e9_l": Decimal("5.1"),
    "urine_rbc_hpf": Decimal(12),
}
FACIT = {item: 1 for item in ("HI7", "HI12", "An1", "An2", "An3", "An4", "An8", "An12")}
FACIT |= {"An14": 1, "An15": 1, "An16": 1, "An5": 3, "An7": 3}
"""Hand-worked (§13): eleven items answered 1 reverse to 3 (33), An5 and An7 stay 3 (6):
mean 39/13 × 13 = 39."""


def engine_total(**explicit: bool) -> int:
    """The SLEDAI-2K total the instrument gives for the physician's entries (§1)."""
    clinical = {key: False for key in WEIGHTS if key not in _DERIVED}
    clinical["arthritis"] = True
    instrument = get_instrument("sledai2k")
    given = instrument.input_model.model_validate({**clinical, **explicit, "labs": ENGINE_LABS})
    total: int = instrument.score(given).total  # type: ignore[attr-defined]
    return total


_DERIVED = {
    "low_complement",
    "increased_dna_binding",
    "thrombocytopenia",
    "leukopenia",
    "pyuria",
    "hematuria",
    "proteinuria",
    "fever",
}


@pytest.fixture(scope="module")
def course(site: Site) -> dict[str, Any]:
    """A site-A patient infused 400 days ago (so month 3 is in the past), with a steroid taper."""
    api = Api(site.base_url, site.registry)
    patient = register(api)
    screen_and_consent(api, patient)
    infuse_on(api, patient, 0)
    with api.as_("coordinator") as client:
        schedule = ok(client.get(f"/api/v1/patients/{patient['id']}/visits"))
    visits = {visit["code"]: visit for visit in schedule}
    return {"patient": patient, "month3": visits["month3"], "api": api}


def _fill_labs(page: Page) -> None:
    for key, (value, low, high) in LABS.items():
        page.locator(f'[id="lab.{key}.value"]').fill(value)
        if low:
            page.locator(f'[id="lab.{key}.low"]').fill(low)
        if high:
            page.locator(f'[id="lab.{key}.high"]').fill(high)


def _total(page: Page) -> Any:
    return page.locator("#visit-preview #sledai-total")


def test_physician_records_signs_and_corrects_the_month_3_visit(
    site: Site, course: dict[str, Any]
) -> None:
    visit = course["month3"]
    page = site.page_as("physician")
    page.goto(f"/visits/{visit['id']}")
    expect(page.get_by_role("heading", name="Visit month3")).to_be_visible()
    expect(page.locator("#visit-status")).to_have_text("overdue")
    page.get_by_label("Visit date").fill(on(90))
    page.get_by_label("9. Arthritis (4)").check()
    _fill_labs(page)
    page.get_by_label("Temperature (°C)").fill("36.9")
    page.get_by_label("Weight (kg)").fill("61")
    expect(page.locator('[id="derived-low_complement"]')).to_have_text("present from labs")
    expect(page.locator('[id="derived-increased_dna_binding"]')).to_have_text("present from labs")
    expect(page.locator('[id="derived-hematuria"]')).to_contain_text("awaits attribution")
    expect(page.locator('[id="derived-thrombocytopenia"]')).to_have_text("absent from labs")
    expect(page.locator('[id="derived-proteinuria"]')).to_have_text("not measured")
    expect(_total(page)).to_have_text(str(engine_total()))
    assert engine_total() == 4 + 2 + 2
    site.shot(page, "01-visit-labs-prefilled")

    page.get_by_label("PGA (0–3)").fill("1.2")
    for item, answer in FACIT.items():
        page.locator(f'[id="facit_f.{item}"]').select_option(str(answer))
    expect(page.locator("#facit-score")).to_contain_text("39")
    expect(page.locator("#pga-category")).to_contain_text("moderate")
    expect(page.locator("#prednisone")).to_contain_text("5 mg/day")
    page.get_by_label("Override Hematuria").select_option("true")
    page.get_by_role("button", name="Save visit").click()
    reason_error = page.locator('[id="sledai2k_overrides.hematuria.reason-error"]')
    expect(reason_error).to_contain_text("is required")
    site.shot(page, "02-override-without-reason-refused")

    page.get_by_label("Reason for overriding Hematuria").fill("urine culture negative, no stone")
    expect(_total(page)).to_have_text(str(engine_total(hematuria=True)))
    assert engine_total(hematuria=True) == 12
    expect(page.locator('#visit-preview [data-descriptor="hematuria"]')).to_contain_text("override")
    page.get_by_role("button", name="Save visit").click()
    expect(page.locator(".flash")).to_contain_text("SLEDAI-2K 12")
    expect(page.locator("#visit-status")).to_have_text("done")
    site.shot(page, "03-visit-saved")

    page.get_by_label("Re-enter your password to sign").fill("not my password")
    page.get_by_role("button", name="Sign visit").click()
    expect(page.locator("#password-error")).to_contain_text("wrong")
    site.shot(page, "04-signature-refused")
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign visit").click()
    expect(page.locator(".flash")).to_contain_text("Visit signed")
    expect(page.locator("#visit-signature")).to_contain_text("signed by Physician")
    site.shot(page, "05-visit-signed")

    page.get_by_label("PGA (0–3)").fill("1.0")
    page.get_by_role("button", name="Save visit").click()
    expect(page.locator("#reason-error")).to_contain_text("is required")
    site.shot(page, "06-change-after-signing-refused")
    page.get_by_label("PGA (0–3)").fill("1.0")
    page.get_by_label("Reason for the change").fill("PGA transcribed wrongly from paper")
    page.get_by_role("button", name="Save visit").click()
    expect(page.locator(".flash")).to_contain_text("Visit saved")
    expect(page.locator("#visit-signature")).to_contain_text("signed again")
    with course["api"].as_("monitor") as client:
        stored = ok(client.get(f"/api/v1/visits/{visit['id']}"))
    assert stored["scores"]["pga"]["pga"] == 1
    assert stored["scores"]["sledai2k"]["total"] == 12
    assert stored["signed_at"] is None
    with course["api"].as_("monitor") as client:
        trail = ok(client.get(f"/api/v1/patients/{course['patient']['id']}/audit"))
    changed = [
        event
        for event in trail
        if event["entity_id"] == visit["id"]
        and event["field"] == "findings"
        and event["reason"] == "PGA transcribed wrongly from paper"
    ]
    assert changed and "1.2" in (changed[0]["old_value"] or "")


def test_the_visit_form_works_at_tablet_width(site: Site, course: dict[str, Any]) -> None:
    page = site.page_as("physician", TABLET)
    page.goto(f"/visits/{course['month3']['id']}")
    expect(_total(page)).to_have_text("12")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768 + 1
    site.shot(page, "07-visit-tablet")


def test_a_glucocorticoid_shows_its_prednisone_equivalent_while_typed(
    site: Site, course: dict[str, Any]
) -> None:
    page = site.page_as("physician")
    patient = course["patient"]
    page.goto(f"/patients/{patient['id']}/medications")
    page.get_by_label("Drug").fill("methylprednisolone")
    page.get_by_label("Dose", exact=True).fill("16")
    page.get_by_label("Started on").fill(on(95))
    # §11 worked example: methylprednisolone 16 mg → 20 mg prednisone.
    expect(page.locator("#prednisone-preview")).to_contain_text("20 mg/day")
    site.shot(page, "08-medication-preview")
    page.get_by_role("button", name="Add medication").click()
    expect(page.locator(".flash")).to_contain_text("Prednisone equivalent 20 mg/day")
    row = page.locator("#medications tr", has_text="methylprednisolone")
    expect(row).to_contain_text("20")
    page.locator("#medications tr", has_text="methylprednisolone").get_by_label("Stopped on").fill(
        on(96)
    )
    row.get_by_role("button", name="Stop methylprednisolone").click()
    expect(page.locator(".flash")).to_contain_text("stopped")
    expect(page.locator("#medications tr", has_text="methylprednisolone")).to_contain_text(on(96))
    site.shot(page, "09-medication-stopped")
    tablet = site.page_as("physician", TABLET)
    tablet.goto(f"/patients/{patient['id']}/medications")
    site.shot(tablet, "10-medications-tablet")


def _no_controls(page: Page) -> None:
    main = page.locator("main")
    expect(main.locator("form[method=post]")).to_have_count(0)
    expect(main.locator("input, select, textarea, button")).to_have_count(0)


def test_the_monitor_reads_the_visit_and_medications_without_any_control(
    site: Site, course: dict[str, Any]
) -> None:
    page = site.page_as("monitor")
    page.goto(f"/visits/{course['month3']['id']}")
    expect(page.locator("#sledai-total")).to_have_text("12")
    expect(page.get_by_role("heading", name="Labs", exact=True)).to_be_visible()
    _no_controls(page)
    site.shot(page, "11-monitor-visit")
    page.goto(f"/patients/{course['patient']['id']}/medications")
    expect(page.locator("#medications")).to_contain_text("prednisone")
    _no_controls(page)
    site.shot(page, "12-monitor-medications")
