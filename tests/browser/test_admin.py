"""The admin's work in a real browser (issue 6): add a user with a qualification, who then signs
in by user name; deactivate them (with a reason) and their sign-in is refused; add a site; read a
protocol version; follow one user's changes in the audit trail (old → new value and the reason)
and verify the hash chain. Screenshots at desktop width and at 768 px."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from lupus_msc.protocol import default_protocol_text
from lupus_msc.store.models import User
from tests.browser_fixtures import TABLET, Site, sign_in

TODAY = dt.datetime.now(dt.UTC).date()
NEW_PASSWORD = "welcome-to-the-ward-2026"  # noqa: S105 - a test user's password
LAYOUT_JS = """
() => {
  const problems = [];
  const shown = (e) => e.type !== 'hidden' && e.getClientRects().length > 0;
  for (const c of document.querySelectorAll('input, select, textarea')) {
    if (shown(c) && !(c.labels && c.labels.length) && !c.getAttribute('aria-label')) {
      problems.push('no label: ' + c.outerHTML.slice(0, 120));
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) problems.push('too wide');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not one h1');
  return problems;
}
"""


def well_formed(page: Page) -> None:
    """Every field labelled, no sideways scrolling, one h1."""
    assert page.evaluate(LAYOUT_JS) == []


def user_id(site: Site, email: str) -> str:
    with site.registry.database.sessions() as session:
        found = session.scalar(select(User.id).where(User.email == email))
        assert found is not None
        return str(found)


def add_nurse(page: Page) -> None:
    page.goto("/admin/users")
    page.get_by_role("link", name="Add a user").click()
    expect(page.get_by_role("heading", name="Add a user")).to_be_visible()
    page.get_by_label("Email").fill("florence@example.org")
    page.get_by_label("User name (optional)").fill("florence")
    page.get_by_label("Full name").fill("Florence Nightingale")
    page.get_by_label("Role").select_option("nurse")
    page.get_by_label("A01 — Site A01").check()
    page.get_by_label("Initial password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_contain_text("User florence@example.org added")
    expect(page.get_by_role("heading", name="Florence Nightingale", level=1)).to_be_visible()


def add_qualification(page: Page, kind: str, granted: dt.date, expires: dt.date) -> None:
    page.get_by_label("Qualification", exact=True).select_option(kind)
    page.get_by_label("Granted on").fill(granted.isoformat())
    page.get_by_label("Expires on").fill(expires.isoformat())
    page.get_by_role("button", name="Add qualification").click()
    expect(page.get_by_role("status")).to_contain_text("Qualification added")


def test_the_admin_adds_a_qualified_user_who_signs_in_by_user_name(site: Site) -> None:
    page = site.page_as("admin")
    add_nurse(page)
    expires = TODAY + dt.timedelta(days=365)
    add_qualification(page, "infusion", TODAY - dt.timedelta(days=30), expires)
    lapsed = TODAY - dt.timedelta(days=1)
    add_qualification(page, "lot-release", TODAY - dt.timedelta(days=400), lapsed)
    page.goto("/admin/users")
    row = page.get_by_role("row").filter(has_text="Florence Nightingale")
    expect(row).to_contain_text("nurse")
    expect(row).to_contain_text("A01")
    expect(row).to_contain_text(f"infusion until {expires.isoformat()}")
    expect(row).to_contain_text(f"lot-release until {lapsed.isoformat()}")
    expect(row.locator(".badge.bad", has_text="expired")).to_have_count(1)
    expect(row).to_contain_text("active")
    site.shot(page, "users-list")
    with site.registry.database.sessions() as session:
        stored = session.scalar(select(User).where(User.email == "florence@example.org"))
        assert stored is not None and stored.password_hash.startswith("$argon2id$")
    newcomer = site.anonymous(TABLET)
    sign_in(newcomer, "florence", NEW_PASSWORD)
    expect(newcomer.locator(".role-badge")).to_have_text("nurse")
    expect(newcomer.get_by_role("navigation", name="Main")).not_to_contain_text("Users")
    newcomer.context.close()


def test_a_deactivated_user_is_refused_at_sign_in_and_reactivated(site: Site) -> None:
    page = site.page_as("admin")
    florence = site.anonymous()
    sign_in(florence, "florence@example.org", NEW_PASSWORD)
    page.goto(f"/admin/users/{user_id(site, 'florence@example.org')}")
    expect(page.locator("#open-tokens")).not_to_have_text("0")
    page.get_by_label("Reason (optional, kept in the audit trail)").last.fill("left the programme")
    page.get_by_role("button", name="Deactivate user").click()
    expect(page.get_by_role("status")).to_contain_text("User deactivated")
    expect(page.locator("#status")).to_contain_text("deactivated")
    expect(page.locator("#open-tokens")).to_have_text("0")
    site.shot(page, "user-deactivated")
    florence.goto("/")
    expect(florence).to_have_url(re.compile(r"/sign-in\?next=/&ended=1$"))
    florence.get_by_label("Email or user name").fill("florence")
    florence.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    florence.get_by_role("button", name="Sign in").click()
    expect(florence.get_by_role("alert")).to_contain_text("Wrong email, user name or password")
    page.get_by_role("button", name="Reactivate user").click()
    expect(page.get_by_role("status")).to_contain_text("User reactivated")
    sign_in(florence, "florence", NEW_PASSWORD)
    florence.context.close()


def test_the_admin_adds_a_site_at_tablet_width(site: Site) -> None:
    page = site.page_as("admin", TABLET)
    page.goto("/admin/sites")
    page.get_by_label("Code").fill("c01")
    page.get_by_label("Name").fill("Clinic Three")
    page.get_by_role("button", name="Add site").click()
    expect(page.get_by_role("status")).to_contain_text("Site C01 added")
    expect(page.get_by_role("row").filter(has_text="Clinic Three")).to_contain_text("C01")
    page.get_by_label("Code").fill("C01")
    page.get_by_label("Name").fill("Again")
    page.get_by_role("button", name="Add site").click()
    expect(page.locator("#code-error")).to_contain_text("exists already")
    well_formed(page)
    site.shot(page, "sites-tablet")


def test_a_protocol_version_is_shown_verbatim_with_a_summary(site: Site) -> None:
    page = site.page_as("admin")
    page.goto("/admin/protocols")
    text = default_protocol_text()
    digest = hashlib.sha256(text.encode()).hexdigest()
    row = page.get_by_role("row").filter(has_text="uc-msc-iv-default")
    expect(row).to_contain_text(digest)
    expect(row).to_contain_text("1.0.0")
    row.get_by_role("link").click()
    expect(page.locator("#sha256")).to_have_text(digest)
    assert page.locator("#source").inner_text().rstrip("\n") == text.rstrip("\n")
    rules = page.get_by_role("region", name="Eligibility rules")
    expect(rules).to_contain_text("sledai2k_total >= 8")
    expect(rules).to_contain_text("immunosuppressants_failed >= 2")
    visits = page.get_by_role("region", name="Visit schedule")
    month1 = visits.get_by_role("row", name=re.compile(r"^month1 "))
    expect(month1).to_contain_text("23 to 37 (−7 / +7 days)")
    expect(page.get_by_role("region", name="Dosing")).to_contain_text("800\u202f000")
    expect(page.get_by_role("region", name="Release specification")).to_contain_text("≥ 70 %")
    site.shot(page, "protocol")
    tablet = site.page_as("admin", TABLET)
    tablet.goto(page.url)
    well_formed(tablet)
    site.shot(tablet, "protocol-tablet")


def test_the_audit_trail_shows_one_users_changes_and_the_chain_is_intact(site: Site) -> None:
    page = site.page_as("admin")
    florence = user_id(site, "florence@example.org")
    page.goto("/admin/audit")
    page.get_by_label("Entity type").select_option("users")
    page.get_by_label("Entity id").fill(florence)
    page.get_by_label("Field").fill("active")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit-rows tbody tr")
    expect(rows).to_have_count(2)  # deactivated, then reactivated (newest first)
    newest, oldest = rows.nth(0), rows.nth(1)
    expect(newest.locator(".old")).to_have_text("false")
    expect(newest).to_contain_text("→ true")
    expect(oldest.locator(".old")).to_have_text("true")
    expect(oldest).to_contain_text("→ false")
    expect(oldest).to_contain_text("left the programme")
    expect(oldest).to_contain_text("Admin")
    page.get_by_label("Field").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(rows.filter(has_text="create")).to_have_count(1)  # the user's creation
    assert rows.count() >= 3
    for index in range(rows.count()):
        expect(rows.nth(index)).to_contain_text(florence)
    site.shot(page, "audit-filtered")
    page.get_by_role("button", name="Verify chain").click()
    expect(page.locator("#chain-result")).to_contain_text("Intact")
    site.shot(page, "audit-verified")
    tablet = site.page_as("admin", TABLET)
    tablet.goto(f"/admin/audit?entity=users&entity_id={florence}")
    well_formed(tablet)
    site.shot(tablet, "audit-tablet")


def test_other_roles_get_403_and_no_admin_menu(site: Site) -> None:
    for persona in ("coordinator", "lab", "statistician"):
        page = site.page_as(persona)
        page.goto("/")
        menu = page.get_by_role("navigation", name="Main")
        for label in ("Users", "Sites", "Protocols", "Audit trail"):
            expect(menu.get_by_role("link", name=label, exact=True)).to_have_count(0)
        answer = page.goto("/admin/users")
        assert answer is not None and answer.status == 403
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_the_user_pages_fit_a_tablet_and_label_every_field(site: Site) -> None:
    page = site.page_as("admin", TABLET)
    florence = user_id(site, "florence@example.org")
    for path, name in (
        ("/admin/users", "users-tablet"),
        ("/admin/users/new", "user-new-tablet"),
        (f"/admin/users/{florence}", "user-tablet"),
        ("/admin/protocols", "protocols-tablet"),
    ):
        page.goto(path)
        well_formed(page)
        site.shot(page, name)
