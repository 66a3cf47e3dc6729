"""The patient pages in a real browser: the coordinator registers, finds and corrects a patient;
an illegal pathway move is refused; the patient page shows the whole course (timeline, charts,
outcome states computed by the clinical engine); read-only and other-site users see what they
may and nothing more. Screenshots of each page, at desktop and tablet width."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import event

from lupus_msc.analytics.evidence_comparison import CAVEAT
from lupus_msc.clinical import lldas, sri
from lupus_msc.services import course as course_service
from lupus_msc.services import patients
from lupus_msc.services.access import Actor
from lupus_msc.store.models import User
from tests.browser_fixtures import TABLET, Site, sign_in
from tests.course_builder import infused_with_reaction, on, sledai
from tests.pathway_helpers import ok, register
from tests.registry_fixtures import PASSWORD, Api

COURSE: dict[str, tuple[tuple[str, ...], float, float]] = {
    "day0": (("arthritis", "rash", "proteinuria", "low_complement"), 2.0, 2.4),
    "month1": (("arthritis", "rash", "low_complement"), 1.5, 1.5),
    "month3": (("arthritis", "low_complement"), 1.0, 1.0),
    "month6": (("low_complement",), 0.5, 0.4),
}
"""Visit → SLEDAI-2K descriptors present, PGA, UPCR g/g (12, 8, 6 and 2 points by §1 weights)."""


def _visit(day: int, present: tuple[str, ...], pga: float, upcr: float) -> dict[str, Any]:
    return {
        "visit_date": on(day),
        "sledai2k": sledai(*present),
        "pga": pga,
        "vitals": {"weight_kg": 61, "systolic_mmhg": 122, "diastolic_mmhg": 78},
        "labs": [
            {"analyte": "creatinine", "value": 0.9, "unit": "mg/dL"},
            {"analyte": "upcr", "value": upcr, "unit": "g/g"},
            {"analyte": "c3", "value": 0.7, "unit": "g/L", "reference_low": 0.9},
            {"analyte": "c4", "value": 0.12, "unit": "g/L", "reference_low": 0.1},
            {"analyte": "anti_dsdna", "value": 80, "unit": "IU/mL", "reference_high": 30},
            {"analyte": "platelets", "value": 210, "unit": "10*9/L"},
        ],
    }


@pytest.fixture(scope="module")
def course(site: Site) -> dict[str, Any]:
    """A renal patient infused on day 0 and 7, with an infusion reaction and four visits."""
    api = Api(site.base_url, site.registry)
    patient, schedule = infused_with_reaction(api)
    with api.as_("coordinator") as client:
        recorded = {}
        for code, (present, pga, upcr) in COURSE.items():
            body = _visit(schedule[code]["study_day"], present, pga, upcr)
            recorded[code] = ok(client.put(f"/api/v1/visits/{schedule[code]['id']}", json=body))
    return {"patient": patient, "visits": recorded}


def _cell(page: Page, code: str, outcome: str) -> Any:
    return page.locator(f"#outcome-{code} td[data-outcome='{outcome}']")


def test_the_coordinator_registers_finds_and_corrects_a_patient(site: Site) -> None:
    page = site.page_as("coordinator")
    page.goto("/patients")
    page.get_by_role("link", name="Register a patient").click()
    expect(page.get_by_role("heading", name="Register a patient")).to_be_visible()
    expect(page.get_by_label("Site")).to_have_value(str(site.registry.sites["A01"]))
    page.get_by_label("Given name").fill("Katherine")
    page.get_by_label("Family name").fill("Johnson")
    page.get_by_label("Date of birth").fill("1978-08-26")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Medical record number").fill("BR-4411")
    page.get_by_label("SLE diagnosis date").fill("2012-02-01")
    site.shot(page, "register-form")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status")).to_contain_text("is registered (referred)")
    expect(page.locator("#patient-state")).to_have_text("referred")
    code = page.get_by_role("heading", level=1).inner_text().split()[0]
    site.shot(page, "registered-patient-page")

    page.goto("/patients")
    page.get_by_label("Search").fill("johns")
    page.get_by_label("Pathway state").select_option("referred")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("link", name=code)).to_be_visible()
    expect(page.locator("table.patients")).to_contain_text("Johnson, Katherine")
    site.shot(page, "patient-list-searched")
    page.get_by_label("Pathway state").select_option("screening")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("link", name=code)).to_have_count(0)
    page.get_by_label("Search").fill(code)
    page.get_by_label("Pathway state").select_option("")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=code).click()

    page.get_by_role("link", name="Correct patient details").click()
    expect(page.get_by_label("Family name")).to_have_value("Johnson")
    page.get_by_label("Family name").fill("Johnston")
    page.evaluate("document.getElementById('reason').removeAttribute('required')")
    page.get_by_role("button", name="Save correction").click()
    expect(page.locator("#reason-error")).to_be_visible()  # the server refuses it too
    page.get_by_label("Reason for the correction").fill("misspelt at registration; ID card")
    site.shot(page, "correction-form")
    page.get_by_role("button", name="Save correction").click()
    expect(page.get_by_role("status")).to_contain_text("Corrected: family name")
    expect(page.locator("#patient-name")).to_have_text("Johnston, Katherine")

    pid = page.url.rsplit("/", 1)[-1]
    api = Api(site.base_url, site.registry)
    with api.as_("monitor") as client:
        trail = ok(client.get(f"/api/v1/patients/{pid}/audit"))
    change = [row for row in trail if row["field"] == "family_name" and row["action"] == "update"]
    assert change and change[-1]["old_value"] == '"Johnson"'
    assert change[-1]["reason"] == "misspelt at registration; ID card"


def test_the_move_form_offers_only_legal_moves_and_an_illegal_one_is_refused(
    site: Site,
) -> None:
    patient = register(Api(site.base_url, site.registry))
    page = site.page_as("coordinator")
    page.goto(f"/patients/{patient['id']}")
    options = page.get_by_label("Move to").locator("option").all_inner_texts()
    assert options[1:] == ["screening", "withdrawn", "deceased"]
    page.evaluate("document.getElementById('to').add(new Option('completed', 'completed'))")
    page.get_by_label("Move to").select_option("completed")
    page.get_by_label("Reason", exact=True).fill("trying to skip ahead")
    page.get_by_role("button", name="Move patient").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "a patient cannot go from referred to completed"
    )
    expect(page.locator("#patient-state")).to_have_text("referred")
    site.shot(page, "illegal-move-refused")
    page.get_by_label("Move to").select_option("screening")
    page.get_by_label("Reason", exact=True).fill("referral accepted")
    page.get_by_role("button", name="Move patient").click()
    expect(page.get_by_role("status")).to_contain_text("moved to screening")
    expect(page.locator("#patient-state")).to_have_text("screening")
    options = page.get_by_label("Move to").locator("option").all_inner_texts()
    assert options[1:] == ["withdrawn", "deceased"]  # eligible is set by the signed decision


def test_the_patient_page_shows_the_whole_course(site: Site, course: dict[str, Any]) -> None:
    pid = course["patient"]["id"]
    page = site.page_as("physician")
    page.goto(f"/patients/{pid}")
    timeline = page.locator("#timeline")
    for text in (
        "Screening",
        "Eligibility decision: eligible",
        "Consent signed",
        "Infusion 1",
        "Infusion 2",
        "Adverse event: Infusion related reaction",
        "Visit month6 (day 180)",
    ):
        expect(timeline).to_contain_text(text)
    days = timeline.locator("time").evaluate_all("items => items.map(i => i.dateTime)")
    assert days == sorted(days)
    expect(timeline.locator("li[data-kind=visit]", has_text="month12")).to_contain_text("overdue")
    expect(timeline.locator("li[data-kind=visit]", has_text="month6")).to_contain_text("done")

    for chart in ("sledai", "prednisone", "kidney", "serology", "facit"):
        if chart == "facit":
            continue  # no FACIT-F recorded: no trace, the figure stays hidden
        expect(page.locator(f"#chart-{chart}")).to_have_attribute("data-drawn", "true")
    lines = page.locator("#chart-sledai .shapelayer path")
    expect(lines).to_have_count(2)  # the two infusion dates
    data = page.locator("#patient-charts-data").text_content() or ""
    assert on(0) in data and on(7) in data
    measurements = page.locator("#measurements")
    expect(measurements.locator("tr", has_text="month6")).to_contain_text("0.4")
    expect(measurements.locator("tr", has_text="month1")).to_contain_text("20")

    visits = course["visits"]
    expect(_cell(page, "day0", "sri4")).to_contain_text("baseline")
    expect(_cell(page, "day0", "lldas")).to_contain_text("not met")
    expect(_cell(page, "day0", "flare")).to_contain_text("not assessable")
    expect(_cell(page, "day0", "flare")).to_contain_text("no previous visit")
    expected_sri = sri.score(
        sri.SriInput(
            sledai_baseline=visits["day0"]["scores"]["sledai2k"]["total"],
            sledai_current=visits["month6"]["scores"]["sledai2k"]["total"],
            pga_baseline=Decimal("2.0"),
            pga_current=Decimal("0.5"),
        )
    )
    assert expected_sri.responder is None and expected_sri.msri is True
    expect(_cell(page, "month6", "sri4")).to_contain_text("not assessable")
    expect(_cell(page, "month6", "sri4")).to_contain_text("modified SRI-4 without BILAG: met")
    expected_lldas = lldas.score(
        lldas.LldasInput(
            sledai_descriptors=["low_complement"],
            previous_sledai_descriptors=["arthritis", "low_complement"],
            pga=Decimal("0.5"),
            prednisone_mg_day=Decimal(5),
        )
    )
    assert expected_lldas.lldas is True
    expect(_cell(page, "month6", "lldas").locator(".badge")).to_have_text("met")
    expect(_cell(page, "month3", "lldas")).to_contain_text("failed criteria 1")
    expect(_cell(page, "month6", "doris")).to_contain_text("no remission")
    expect(_cell(page, "month6", "doris")).to_contain_text("failed: pga")
    expect(_cell(page, "month1", "renal").locator(".badge")).to_have_text("none")
    expect(_cell(page, "month3", "renal").locator(".badge")).to_have_text("partial")
    expect(_cell(page, "month6", "renal").locator(".badge")).to_have_text("complete")
    expect(_cell(page, "month1", "flare").locator(".badge")).to_have_text("no flare")
    site.shot(page, "patient-page")

    actions = page.get_by_role("navigation", name="Actions for this patient")
    for label in ("New infusion", "New adverse event", "Medications", "Correct patient details"):
        expect(actions.get_by_role("link", name=label)).to_be_visible()
    expect(page.get_by_role("link", name="Update month6")).to_have_attribute(
        "href", f"/visits/{visits['month6']['id']}"
    )

    tablet = site.page_as("physician", TABLET)
    tablet.goto(f"/patients/{pid}")
    expect(tablet.locator("#chart-sledai")).to_have_attribute("data-drawn", "true")
    width = tablet.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"]
    site.shot(tablet, "patient-page-tablet")


def test_the_patient_page_shows_published_results_not_a_prediction(
    site: Site, course: dict[str, Any]
) -> None:
    page = site.page_as("physician")
    page.goto(f"/patients/{course['patient']['id']}")
    panel = page.get_by_role("region", name="What published studies report for patients like")
    expect(panel.locator("#evidence-caveat")).to_have_text(CAVEAT)
    expect(panel.locator("tr[data-study=deng2017_placebo]")).to_contain_text("placebo arm")
    expect(panel.locator("tr[data-study=gu2014]")).to_contain_text("lupus nephritis")
    expect(panel.locator("tr[data-study=kamen2022]")).to_have_count(0)  # not a renal study
    panel.scroll_into_view_if_needed()
    site.shot(page, "patient-page-published-results")


def test_without_javascript_a_table_shows_the_charted_numbers(
    site: Site, course: dict[str, Any]
) -> None:
    context = site.browser.new_context(base_url=site.base_url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, "coordinator@example.org", PASSWORD)
    page.goto(f"/patients/{course['patient']['id']}")
    expect(page.locator("#chart-sledai")).to_be_hidden()
    row = page.locator("#measurements tr", has_text="day0")
    expect(row).to_contain_text("12")
    expect(row).to_contain_text("2.4")
    expect(row).to_contain_text("80")
    site.shot(page, "patient-page-no-javascript")
    context.close()


def test_the_monitor_reads_the_course_but_finds_no_edit_control(
    site: Site, course: dict[str, Any]
) -> None:
    page = site.page_as("monitor")
    page.goto(f"/patients/{course['patient']['id']}")
    expect(page.locator("#outcomes")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    expect(page.locator("main button")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Actions for this patient")).to_have_count(0)
    expect(page.get_by_role("link", name="Correct patient details")).to_have_count(0)
    expect(page.get_by_role("link", name="View month6")).to_be_visible()
    site.shot(page, "patient-page-monitor")
    page.goto("/patients")
    expect(page.get_by_role("link", name="Register a patient")).to_have_count(0)
    site.shot(page, "patient-list-monitor")


def test_another_sites_coordinator_gets_not_found(site: Site, course: dict[str, Any]) -> None:
    page = site.page_as("coordinator_b")
    response = page.goto(f"/patients/{course['patient']['id']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.goto("/patients")
    expect(page.get_by_role("link", name=course["patient"]["study_code"])).to_have_count(0)


def test_the_statistician_sees_no_names(site: Site, course: dict[str, Any]) -> None:
    page = site.page_as("statistician", TABLET)
    page.goto("/patients")
    table = page.locator("table.patients")
    expect(table).to_contain_text(course["patient"]["study_code"])
    expect(table.locator("th", has_text="Name")).to_have_count(0)
    assert "Lovelace" not in page.content()
    site.shot(page, "patient-list-statistician-tablet")
    page.get_by_role("link", name=course["patient"]["study_code"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(course["patient"]["study_code"])
    assert "Lovelace" not in page.content() and "Ada" not in page.content()
    expect(page.locator("main")).to_contain_text("1990")
    site.shot(page, "patient-page-statistician-tablet")


def test_the_list_and_forms_fit_a_tablet(site: Site) -> None:
    patient = register(Api(site.base_url, site.registry))
    page = site.page_as("coordinator", TABLET)
    for path, name in (
        ("/patients", "patient-list-tablet"),
        ("/patients/new", "register-tablet"),
        (f"/patients/{patient['id']}/edit", "correction-tablet"),
        (f"/patients/{patient['id']}", "new-patient-page-tablet"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"], path
        site.shot(page, name)


def test_the_course_and_the_list_are_read_in_a_handful_of_queries(
    site: Site, course: dict[str, Any]
) -> None:
    database = site.registry.database
    with database.sessions() as session:
        user = session.get(User, site.registry.users["physician"])
        assert user is not None
        actor = Actor.of(user)
    statements: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", counted)
    try:
        with database.sessions() as session:
            loaded = course_service.load(session, actor, uuid.UUID(course["patient"]["id"]))
        reads = len(statements)
        with database.sessions() as session:
            rows = patients.listing(session, actor, site_id=None, limit=51, offset=0)
            views = [patients.view(actor, row) for row in rows]
    finally:
        event.remove(database.engine, "before_cursor_execute", counted)
    assert len(loaded.outcomes) == 4 and len(loaded.schedule) == 9

    def selects(texts: list[str]) -> list[str]:
        return [text for text in texts if text.lstrip().upper().startswith("SELECT")]

    course_reads = selects(statements[:reads])
    # a fixed handful: the patient, site, protocol, the registration's audit reason (an import
    # says so) and one read per kind of record, never one per visit
    assert len(course_reads) <= 10, course_reads
    assert all("WHERE" in text for text in course_reads), course_reads
    assert views and len(selects(statements[reads:])) == 2  # the site's code, then the page
