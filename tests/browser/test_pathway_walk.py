"""One patient walked through the whole pathway in the browser, each role signed in on its own
page, with a numbered screenshot after each step (issue 6, "Tests (real browser)").

1. The coordinator registers the patient, moves them to screening and fills the screening form;
   the live 2019 EULAR/ACR total (§7), SLEDAI-2K (§1) and the protocol's rules follow.
2. The physician signs eligibility with the e-signature.
3. The coordinator records consent and enrols the patient.
4. The lab records a donor, a harvest and a lot (and a spare lot from the same harvest), enters
   release tests within the specification (§14), releases the lot with the e-signature,
   allocates it to the patient and records it shipped and thawed.
5. The nurse (tablet width, nurse2 as second checker) first scans the spare lot: the red STOP
   refuses the flow; then the right codes, and records the infusion (weight, dose, vitals).
6. The physician records the day-0 and month-3 visits (descriptors, labs, PGA) and sees on the
   patient page SLEDAI-2K (§1) and LLDAS (§5) change, equal to what the clinical engine gives.
7. The monitor reads the patient page, the lot, the visit and the adverse-event list and finds
   no way to edit; a direct POST to a write route answers 403.

Every step goes through the pages; the JSON API is only read, to assert.

Dates: the visit schedule starts at the infusion date and a month-3 visit can be recorded only
from day 76 (window 90 − 14 days, ``protocol/default_uc_msc.yaml``) and never in the future
(``services.visits.check_date``). The UI cannot place the infusion in the past: the bedside
check has no time field (it is made "now"), and the infusion must start after the check and
within 120 minutes of thawing (``services.infusions``). So steps 1–5 run under
``time_machine.travel(..., tick=True)`` on a morning 100 days ago (the server runs in a thread
of this process, so its clock moves too; Chromium keeps the real clock, which only matters for
cookies, and the app's cookies are session cookies or carry Max-Age). The clock is moved on
between the lab's release, the thaw and the bedside check, as on a real ward. Steps 6–7 run at
the real time, so month 3 (day 90) lies 10 days ago; the physician signs in again there, since
a web session ends after 30 idle minutes.

The monitor's "no control in ``main``" ignores the adverse-event list's filter form (a GET
search, not an edit): every other input, select, textarea and button counts.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import httpx
import time_machine
from playwright.sync_api import Page, expect

from lupus_msc.clinical import eular_acr_2019, lldas, sledai2k
from lupus_msc.clinical.eular_acr_2019 import EularAcr2019Input
from lupus_msc.clinical.sledai2k import WEIGHTS, Sledai2kInput, SledaiLabs
from lupus_msc.web.pages.screening_view import descriptor_label
from tests.browser_fixtures import TABLET, Site, sign_in
from tests.pathway_helpers import RELEASE_RESULTS
from tests.registry_fixtures import PASSWORD, Api

TODAY = dt.datetime.now(dt.UTC).date()
DAY0 = TODAY - dt.timedelta(days=100)
"""The infusion day: month 3 (day 90) is then 10 days ago, inside its window."""
MORNING = dt.datetime.combine(DAY0, dt.time(7, 30), tzinfo=dt.UTC)
LOT_CODE = re.compile(r"A01-\d{4}-\d{6}-[0-9A-Z*]")

ANA = 320
EULAR_ITEMS = ["acute_cutaneous_lupus", "joint_involvement", "low_c3", "low_c4"]
SCREENING_PRESENT = ("arthritis", "rash", "low_complement", "increased_dna_binding")
"""SLEDAI-2K at screening: 4 + 2 + 2 + 2 = 10 (§1), above the default protocol's 8."""

VISITS: dict[str, dict[str, Any]] = {
    "day0": {
        "day": 0,
        "clinical": ("arthritis", "rash"),
        "labs": {
            "c3": ("0.7", "0.9", ""),
            "anti_dsdna": ("80", "", "30"),
            "platelets": ("210", "", ""),
            "wbc": ("5.1", "", ""),
            "urine_rbc_hpf": ("2", "", ""),
            "urine_wbc_hpf": ("3", "", ""),
            "upcr": ("0.3", "", ""),
            "creatinine": ("0.9", "", ""),
        },
        "temperature": "36.8",
        "pga": "2.0",
    },
    "month3": {
        "day": 90,
        "clinical": (),
        "labs": {
            "c3": ("0.85", "0.9", ""),
            "anti_dsdna": ("20", "", "30"),
            "platelets": ("230", "", ""),
            "wbc": ("5.6", "", ""),
            "urine_rbc_hpf": ("1", "", ""),
            "urine_wbc_hpf": ("2", "", ""),
            "upcr": ("0.2", "", ""),
            "creatinine": ("0.85", "", ""),
        },
        "temperature": "36.6",
        "pga": "0.5",
    },
}
"""What the physician types at each visit: clinical descriptors ticked, labs (value, reference
low, reference high, canonical units), temperature and PGA. Every lab-derived descriptor is
decided by a lab, so each SLEDAI-2K assessment is complete (§16.1) and LLDAS can be judged."""

CONTROLS = "main :is(input, select, textarea, button):not(form[method=get] *)"
"""Edit controls in ``main``; a GET filter form (a search) is not one."""

LLDAS_LABELS = {True: "met", False: "not met", None: "not assessable"}
"""How the patient page names an LLDAS result (``services.course_outcomes.lldas_cell``)."""


def on(day: int) -> str:
    return (DAY0 + dt.timedelta(days=day)).isoformat()


def at(day: int, clock: str) -> str:
    """A datetime-local field's text (the forms take UTC)."""
    return f"{on(day)}T{clock}"


def moment(clock: str) -> dt.datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return dt.datetime.combine(DAY0, dt.time(hours, minutes), tzinfo=dt.UTC)


LAB_DERIVED = {
    "low_complement",
    "increased_dna_binding",
    "thrombocytopenia",
    "leukopenia",
    "pyuria",
    "hematuria",
    "proteinuria",
    "fever",
}
"""The descriptors the visit form pre-fills from labs (the rest are the clinician's ticks)."""


def engine_sledai(visit: dict[str, Any]) -> sledai2k.Sledai2kResult:
    """The SLEDAI-2K the engine gives for what the physician enters at ``visit`` (§1)."""
    labs = visit["labs"]
    given = {key: False for key in WEIGHTS if key not in LAB_DERIVED}
    given |= {key: True for key in visit["clinical"]}
    engine_labs = SledaiLabs(
        c3_g_l=Decimal(labs["c3"][0]),
        c3_lln_g_l=Decimal(labs["c3"][1]),
        anti_dsdna_iu_ml=Decimal(labs["anti_dsdna"][0]),
        anti_dsdna_uln_iu_ml=Decimal(labs["anti_dsdna"][2]),
        platelets_10e9_l=Decimal(labs["platelets"][0]),
        wbc_10e9_l=Decimal(labs["wbc"][0]),
        urine_rbc_hpf=Decimal(labs["urine_rbc_hpf"][0]),
        urine_wbc_hpf=Decimal(labs["urine_wbc_hpf"][0]),
        upcr_g_g=Decimal(labs["upcr"][0]),
        temperature_c=Decimal(visit["temperature"]),
    )
    return sledai2k.score(Sledai2kInput.model_validate({**given, "labs": engine_labs}))


def read(client: httpx.Client, path: str) -> Any:
    """A JSON answer of the API, read only to assert what the pages did."""
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    return answer.json()


def shot(site: Site, page: Page, number: int, name: str) -> None:
    site.shot(page, f"{number:02d}-{name}")


# 1. Coordinator: register, move to screening, screen ------------------------------------------


def register_and_screen(site: Site) -> tuple[str, str]:
    """The patient's id and study code."""
    page = site.page_as("coordinator")
    page.goto("/patients")
    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("Given name").fill("Mary")
    page.get_by_label("Family name").fill("Jackson")
    page.get_by_label("Date of birth").fill("1986-04-09")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Medical record number").fill("WALK-0001")
    page.get_by_label("SLE diagnosis date").fill("2014-10-01")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_contain_text("is registered (referred)")
    expect(page.locator("#patient-state")).to_have_text("referred")
    code = page.get_by_role("heading", level=1).inner_text().split()[0]
    patient_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    shot(site, page, 1, "coordinator-registered")

    page.get_by_label("Move to").select_option("screening")
    page.get_by_label("Reason", exact=True).fill("referral accepted")
    page.get_by_role("button", name="Move patient").click()
    expect(page.get_by_role("status")).to_contain_text("moved to screening")
    expect(page.locator("#patient-state")).to_have_text("screening")
    shot(site, page, 2, "coordinator-moved-to-screening")

    page.goto(f"/patients/{patient_id}/screening")
    expect(page.get_by_role("heading", name=f"Screening: {code}")).to_be_visible()
    page.get_by_label("Date of screening").fill(on(0))
    page.get_by_label(re.compile("^ANA titre")).fill(str(ANA))
    ticked: list[str] = []
    for key in EULAR_ITEMS:
        page.locator(f"#eular-{key}").check()
        ticked.append(key)
        expected = eular_acr_2019.score(EularAcr2019Input(ana_titer=ANA, criteria=ticked))  # type: ignore[arg-type]
        expect(page.locator("#live-eular-total")).to_have_text(str(expected.total))
    expect(page.locator("#live-rule-sle_classified")).to_have_attribute("data-result", "met")

    labels = {d.key: descriptor_label(d) for d in sledai2k.DESCRIPTORS}
    for key in SCREENING_PRESENT:
        page.get_by_role("radio", name=f"{labels[key]}: present", exact=True).check()
    expect(page.locator("#live-rule-active_disease")).to_have_attribute("data-result", "unknown")
    page.get_by_role("button", name="Mark every descriptor not assessed as absent").click()
    screening_sledai = sledai2k.score(
        Sledai2kInput.model_validate({k: k in SCREENING_PRESENT for k in WEIGHTS})
    )
    expect(page.locator("#live-sledai-total")).to_have_text(str(screening_sledai.total))
    expect(page.locator("#live-rule-active_disease")).to_have_attribute("data-result", "met")

    expect(page.locator("#live-rule-refractory")).to_have_attribute("data-result", "not-met")
    for row, drug in enumerate(("mycophenolate", "azathioprine")):
        page.locator(f"[id='treatments.{row}.drug']").fill(drug)
        page.locator(f"[id='treatments.{row}.drug_class']").select_option("immunosuppressant")
        page.locator(f"[id='treatments.{row}.failed']").check()
    expect(page.locator("#live-rule-refractory")).to_have_attribute("data-result", "met")
    page.locator("#active_infection").get_by_label("No", exact=True).check()
    page.locator("#pregnant").get_by_label("No / not applicable").check()
    for rule in ("adult", "no_active_infection", "not_pregnant"):
        expect(page.locator(f"#live-rule-{rule}")).to_have_attribute("data-result", "met")
    expect(page.locator(".live-summary")).to_contain_text("eligible")
    shot(site, page, 3, "coordinator-screening-live-score-and-rules")

    page.get_by_role("button", name="Save the screening").click()
    expect(page.get_by_role("status")).to_contain_text("The screening is recorded")
    expect(page.locator("#saved-sledai-total")).to_have_text(str(screening_sledai.total))
    expect(page.locator("#saved-rules")).to_have_text("eligible")
    shot(site, page, 4, "coordinator-screening-saved")
    return patient_id, code


# 2. Physician: signed eligibility --------------------------------------------------------------


def sign_eligibility(site: Site, patient_id: str) -> None:
    page = site.page_as("physician")
    page.goto(f"/patients/{patient_id}/screening")
    page.locator("#decision").get_by_label("Eligible", exact=True).check()
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.get_by_role("status")).to_contain_text("The decision is signed")
    expect(page.locator("#signed-decision")).to_contain_text("eligibility decision: eligible")
    expect(page.locator("#patient-state")).to_have_text("eligible")
    shot(site, page, 5, "physician-eligibility-signed")


# 3. Coordinator: consent and enrolment ---------------------------------------------------------


def consent_and_enrol(site: Site, patient_id: str) -> None:
    page = site.page_as("coordinator")
    page.goto(f"/patients/{patient_id}/consent")
    page.get_by_label("Consent form version").fill("2.1")
    page.get_by_label("Signed on").fill(on(0))
    page.get_by_label("Signed by (the patient or their legal representative)").fill("Mary Jackson")
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("status")).to_contain_text("The consent is recorded")
    expect(page.locator("#consent-history")).to_contain_text("in force")
    expect(page.locator("#patient-state")).to_have_text("consented")
    shot(site, page, 6, "coordinator-consent-recorded")

    page.get_by_role("link", name="Patient page").click()
    page.get_by_label("Move to").select_option("enrolled")
    page.get_by_label("Reason", exact=True).fill("consented and eligible")
    page.get_by_role("button", name="Move patient").click()
    expect(page.get_by_role("status")).to_contain_text("moved to enrolled")
    expect(page.locator("#patient-state")).to_have_text("enrolled")
    shot(site, page, 7, "coordinator-enrolled")


# 4. Lab: donor, harvest, lots, release, allocation, custody ------------------------------------


def make_lot(page: Page, harvested: str) -> tuple[str, str]:
    """From the donor page: a lot from the harvest; its id and chain-of-identity code."""
    page.get_by_role("link", name=f"Make a lot from the harvest of {harvested}").click()
    page.get_by_label("Passage").fill("3")
    page.get_by_label("Total cells in the lot").fill("1.2e8")
    page.get_by_label("Viable cells per mL").fill("5e6")
    page.get_by_label("Viability (%)").fill("92")
    page.get_by_label("Volume (mL)").fill("24")
    page.get_by_label("Storage location").fill("LN2 tank 2, rack 4")
    page.get_by_label("Cryopreserved on").fill(on(-60))
    page.get_by_label("Expires on").fill(on(730))
    page.get_by_role("button", name="Make the lot").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("quarantine")
    found = LOT_CODE.search(heading.inner_text())
    assert found is not None, heading.inner_text()
    return page.url.rstrip("/").rsplit("/", 1)[-1], found.group(0)


def lab_prepares_the_lot(
    site: Site, traveller: time_machine.Traveller, code: str
) -> tuple[tuple[str, str], tuple[str, str]]:
    """The released, allocated, thawed lot and a spare lot of the same harvest (id, code)."""
    page = site.page_as("lab")
    page.goto("/lab/donors")
    page.get_by_role("link", name="Record a donor").click()
    page.get_by_label("Donor", exact=True).select_option("allogeneic")
    page.get_by_label("Tissue source").select_option("umbilical-cord")
    for name in ("hiv_1_2", "hbv", "hcv", "syphilis", "htlv"):
        page.locator(f"#test_{name}").select_option("negative")
    page.get_by_role("button", name="Record the donor").click()
    expect(page.locator(".facts")).to_contain_text("Eligible")
    page.get_by_label("Collected on").fill(on(-90))
    page.get_by_label("Amount collected").fill("30")
    page.get_by_label("Unit").select_option("g")
    page.get_by_role("button", name="Record the harvest").click()
    expect(page.get_by_role("status")).to_contain_text("Harvest recorded")
    donor_page = page.url
    shot(site, page, 8, "lab-donor-and-harvest")

    lot = make_lot(page, on(-90))
    page.goto(donor_page)
    spare = make_lot(page, on(-90))
    page.goto(f"/lab/lots/{lot[0]}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(lot[1])
    shot(site, page, 9, "lab-lot-in-quarantine")

    for name, value in RELEASE_RESULTS.items():
        field = page.locator(f"#result_{name}")
        if isinstance(value, bool):
            field.select_option("true" if value else "false")
        elif value in ("negative", "positive"):
            field.select_option(value)
        else:
            field.fill(str(value))
    page.get_by_label("Tested on").fill(on(-30))
    page.get_by_role("button", name="Record the results").click()
    expect(page.get_by_role("status")).to_contain_text(f"{len(RELEASE_RESULTS)} result(s)")
    expect(page.locator(".release-tests .badge.bad")).to_have_count(0)
    expect(page.locator(".release-tests .badge.ok")).to_have_count(len(RELEASE_RESULTS))
    shot(site, page, 10, "lab-release-tests-within-spec")

    page.get_by_role("link", name="Release or reject (e-signature)").click()
    page.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign the decision").click()
    expect(page.get_by_role("status")).to_contain_text("Lot released: signed by Lab at")
    expect(page.locator("#lot-state")).to_have_text("released")
    shot(site, page, 11, "lab-lot-released-e-signature")

    page.get_by_role("link", name=re.compile("^← Lot")).click()
    page.get_by_label("Patient", exact=True).select_option(label=f"{code} (enrolled)")
    page.get_by_role("button", name="Allocate the lot").click()
    expect(page.get_by_role("status")).to_contain_text("allocated")
    expect(page.locator("#lot-patient")).to_have_text(code)

    traveller.move_to(moment("07:55"))  # the ward asks for the bag; the lab ships and thaws it
    for kind, clock in (("shipped", "07:40"), ("thawed", "07:55")):
        page.get_by_label("Event").select_option(kind)
        page.get_by_label("When (UTC)").fill(at(0, clock))
        page.get_by_label("Where", exact=True).fill("infusion ward")
        page.get_by_role("button", name="Add the event").click()
        expect(page.locator("#lot-state")).to_have_text(kind)
    log = page.locator(".custody-log tbody tr")
    expect(log.last).to_contain_text("Thawed")
    expect(log.last).to_contain_text(f"{on(0)} 07:55 UTC")
    shot(site, page, 12, "lab-allocated-shipped-thawed")
    return lot, spare


# 5. Nurse (tablet) with nurse2: mismatch refused, then the infusion ----------------------------


def scan(page: Page, patient_code: str, lot_code: str) -> None:
    page.get_by_label("Patient code (wristband)").fill(patient_code)
    page.get_by_label("Lot chain-of-identity code (bag label)").fill(lot_code)
    page.get_by_label("Second checker's email").fill("nurse2@example.org")
    page.get_by_label("Second checker's password").fill(PASSWORD)
    page.get_by_role("button", name="Check identity").click()


def nurse_infuses(site: Site, patient_id: str, code: str, lot: str, spare: str) -> None:
    page = site.page_as("nurse", TABLET)
    page.goto(f"/patients/{patient_id}")
    page.get_by_role("link", name="New infusion").click()
    expect(page.locator(".lots")).to_contain_text(lot)
    expect(page.locator(".gate .badge.bad")).to_have_count(0)
    shot(site, page, 13, "nurse-gates-tablet")

    scan(page, code, spare)
    stop = page.locator(".stop[role=alert]")
    expect(stop).to_be_visible()
    expect(stop).to_contain_text("STOP — do not infuse")
    expect(stop).to_contain_text(f"lot {spare} is not allocated to {code}")
    expect(page.locator("#infusion-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Record the infusion")).to_have_count(0)
    color = stop.evaluate("node => getComputedStyle(node).backgroundColor")
    red, green, blue = (int(part) for part in re.findall(r"\d+", color)[:3])
    assert red > green and red > blue, f"the STOP message is not red: {color}"
    shot(site, page, 14, "nurse-mismatched-lot-stopped")

    page.get_by_role("link", name="Start a new identity check").click()
    scan(page, code, lot)
    expect(page.locator(".go")).to_contain_text("Identity confirmed")
    expect(page.locator(".go")).to_contain_text("Nurse2")
    shot(site, page, 15, "nurse-identity-confirmed")

    page.get_by_label("Weight today (kg)").fill("60")
    preview = page.locator("#dose-preview")
    # 60 kg × 1 × 10⁶ cells/kg (default protocol, §14) = 60 × 10⁶ cells; at 5 × 10⁶/mL, 12 mL.
    expect(preview.locator("[data-dose=target-cells]")).to_have_text("60 × 10⁶ cells")
    expect(preview.locator("[data-dose=volume]")).to_have_text("12.0 mL")
    page.get_by_label("Cells actually given").fill("60000000")
    page.get_by_label("Volume actually given (mL)").fill("12")
    expect(preview).to_contain_text("within the range")
    page.get_by_label("Premedication (one per line)").fill("paracetamol 1 g")
    page.get_by_label("Access site (route intravenous)").fill("left forearm")
    for legend, values in (
        ("Vitals before", ("118", "76", "72", "36.8")),
        ("Vitals after (optional)", ("121", "78", "75", "37.0")),
    ):
        group = page.get_by_role("group", name=legend)
        labels = ("Systolic (mmHg)", "Diastolic (mmHg)", "Heart rate (/min)", "Temperature (°C)")
        for label, value in zip(labels, values, strict=True):
            group.get_by_label(label).fill(value)
    shot(site, page, 16, "nurse-dose-and-vitals")
    page.get_by_role("button", name="Record the infusion").click()
    expect(page.get_by_role("status")).to_contain_text("Infusion 1 is recorded")
    expect(page.locator("[data-dose=actual]")).to_contain_text("60 × 10⁶ cells in 12 mL")
    shot(site, page, 17, "nurse-infusion-recorded")


# 6. Physician: day-0 and month-3 visits, then the change on the patient page ------------------


def record_visit(site: Site, page: Page, patient_id: str, code: str, number: int) -> None:
    visit = VISITS[code]
    page.goto(f"/patients/{patient_id}")
    page.get_by_role("link", name=f"Record {code}").click()
    expect(page.get_by_role("heading", name=re.compile(f"^Visit {code}"))).to_be_visible()
    page.get_by_label("Visit date").fill(on(visit["day"]))
    for key, (value, low, high) in visit["labs"].items():
        page.locator(f'[id="lab.{key}.value"]').fill(value)
        if low:
            page.locator(f'[id="lab.{key}.low"]').fill(low)
        if high:
            page.locator(f'[id="lab.{key}.high"]').fill(high)
    page.get_by_label("Temperature (°C)").fill(visit["temperature"])
    page.get_by_label("Weight (kg)").fill("60")
    for key in visit["clinical"]:
        page.locator(f'[id="sledai2k.{key}"]').check()
    page.get_by_label("PGA (0–3)").fill(visit["pga"])
    expected = engine_sledai(visit)
    assert expected.complete, expected
    expect(page.locator("#visit-preview #sledai-total")).to_have_text(str(expected.total))
    shot(site, page, number, f"physician-{code}-visit-form")
    page.get_by_role("button", name="Save visit").click()
    expect(page.locator(".flash")).to_contain_text(f"SLEDAI-2K {expected.total}")
    expect(page.locator("#visit-status")).to_have_text("done")


def physician_sees_the_change(site: Site, patient_id: str) -> None:
    page = site.page_as("physician")
    sign_in(page, "physician@example.org", PASSWORD)  # the session of step 2 has ended
    record_visit(site, page, patient_id, "day0", 18)
    record_visit(site, page, patient_id, "month3", 19)

    baseline, month3 = engine_sledai(VISITS["day0"]), engine_sledai(VISITS["month3"])
    assert baseline.total != month3.total
    lldas_at = {
        "day0": lldas.score(
            lldas.LldasInput(
                sledai_descriptors=sorted(baseline.contributions),  # type: ignore[arg-type]
                pga=Decimal(VISITS["day0"]["pga"]),
                prednisone_mg_day=Decimal(0),  # no glucocorticoid is recorded
            )
        ),
        "month3": lldas.score(
            lldas.LldasInput(
                sledai_descriptors=sorted(month3.contributions),  # type: ignore[arg-type]
                previous_sledai_descriptors=sorted(baseline.contributions),  # type: ignore[arg-type]
                pga=Decimal(VISITS["month3"]["pga"]),
                prednisone_mg_day=Decimal(0),
            )
        ),
    }
    assert lldas_at["day0"].lldas != lldas_at["month3"].lldas

    page.goto(f"/patients/{patient_id}")
    for code, result in (("day0", baseline), ("month3", month3)):
        measured = page.locator("#measurements tbody tr", has_text=code)
        expect(measured.locator("td.num").nth(0)).to_have_text(str(result.total))
        expect(measured.locator("td.num").nth(1)).to_have_text("0")
        outcome = page.locator(f"#outcome-{code}")
        expect(outcome.locator("td.num")).to_have_text(str(result.total))
        expect(outcome.locator("td[data-outcome='lldas'] .badge")).to_have_text(
            LLDAS_LABELS[lldas_at[code].lldas]
        )
    timeline = page.locator("#timeline")
    for text in ("Eligibility decision: eligible", "Consent signed", "Infusion 1"):
        expect(timeline).to_contain_text(text)
    expect(page.locator(CONTROLS)).not_to_have_count(0)  # the physician may edit: controls count
    shot(site, page, 20, "physician-patient-page-sledai-and-lldas-change")


# 7. Monitor: reads everything, edits nothing --------------------------------------------------


def monitor_reads_only(site: Site, patient_id: str, lot_id: str, visit_id: str) -> None:
    page = site.page_as("monitor")
    paths = (
        ("patient", f"/patients/{patient_id}"),
        ("lot", f"/lab/lots/{lot_id}"),
        ("visit", f"/visits/{visit_id}"),
        ("adverse-events", f"/adverse-events?patient_id={patient_id}"),
    )
    for number, (name, path) in enumerate(paths, start=21):
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, path
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.locator("main form[method=post]")).to_have_count(0)
        expect(page.locator(CONTROLS)).to_have_count(0)
        shot(site, page, number, f"monitor-{name}-read-only")

    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    token = page.locator("header input[name=csrf_token]").get_attribute("value") or ""
    assert token, "no CSRF token in the header's sign-out form"
    writes = (
        (f"/patients/{patient_id}/move", {"to": "completed", "reason": "monitor tries"}),
        (f"/visits/{visit_id}", {"visit_date": on(90), "pga": "0"}),
    )
    with httpx.Client(base_url=site.base_url, cookies=cookies) as client:
        for path, data in writes:
            posted = client.post(path, data={"csrf_token": token, **data})
            assert posted.status_code == 403, (path, posted.status_code, posted.text[:200])


# The walk ---------------------------------------------------------------------------------------


def test_one_patient_walks_the_whole_pathway_in_the_browser(site: Site) -> None:
    with time_machine.travel(MORNING, tick=True) as traveller:
        patient_id, code = register_and_screen(site)
        sign_eligibility(site, patient_id)
        consent_and_enrol(site, patient_id)
        (lot_id, lot_code), (_, spare_code) = lab_prepares_the_lot(site, traveller, code)
        traveller.move_to(moment("08:10"))  # 15 minutes after thawing, within the 120-min limit
        nurse_infuses(site, patient_id, code, lot_code, spare_code)

    physician_sees_the_change(site, patient_id)

    api = Api(site.base_url, site.registry)
    with api.as_("monitor") as client:
        infusions = read(client, f"/api/v1/patients/{patient_id}/infusions")
        schedule = {v["code"]: v for v in read(client, f"/api/v1/patients/{patient_id}/visits")}
        trail = read(client, f"/api/v1/patients/{patient_id}/audit")
        lot_state = read(client, f"/api/v1/lots/{lot_id}")["state"]
    assert len(infusions) == 1
    assert infusions[0]["started_at"].startswith(on(0))
    assert infusions[0]["administered_by_id"] == str(site.registry.users["nurse"])
    assert infusions[0]["verified_by_id"] == str(site.registry.users["nurse2"])
    assert lot_state == "infused"
    checks = [row for row in trail if row["entity"] == "bedside_checks"]
    assert len(checks) == 2 and '"matched":false' in checks[0]["new_value"]
    for visit_code in ("day0", "month3"):
        stored = schedule[visit_code]
        assert stored["visit_date"] == on(VISITS[visit_code]["day"]), stored
        assert stored["status"] == "done", stored

    monitor_reads_only(site, patient_id, lot_id, schedule["month3"]["id"])
