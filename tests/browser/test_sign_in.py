"""Signing in and out in a real browser: the menu follows the role, a wrong password and an
ended session say so, and forms refuse a missing CSRF token."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.browser_fixtures import TABLET, Site, sign_in
from tests.registry_fixtures import PASSWORD


def test_wrong_password_is_refused_without_saying_which_part(site: Site) -> None:
    page = site.anonymous()
    page.goto("/")
    expect(page).to_have_url(f"{site.base_url}/sign-in?next=/")
    page.get_by_label("Email or user name").fill("nurse@example.org")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong email, user name or password")
    site.shot(page, "sign-in-refused")
    page.context.close()


def test_sign_in_returns_to_the_page_asked_for_and_sign_out_ends_the_session(site: Site) -> None:
    page = site.anonymous()
    page.goto("/account/password")
    page.get_by_label("Email or user name").fill("monitor@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out")
    stale = httpx.get(f"{site.base_url}/", cookies=cookies, follow_redirects=False)
    assert stale.status_code == 303
    assert stale.headers["location"] == "/sign-in?next=/&ended=1"
    page.context.close()


def test_the_menu_shows_each_role_its_own_work(site: Site) -> None:
    menus = {}
    for persona in ("admin", "lab", "monitor", "nurse"):
        page = site.page_as(persona)
        page.goto("/")
        menus[persona] = page.get_by_role("navigation", name="Main").inner_text()
    assert "Users" in menus["admin"] and "Audit trail" in menus["admin"]
    assert "Lots" in menus["lab"] and "Users" not in menus["lab"]
    assert "Patients" in menus["monitor"] and "Users" not in menus["monitor"]
    assert "Audit trail" not in menus["monitor"]  # the audit browser spans every site
    assert "Lots" not in menus["admin"] or "Users" in menus["admin"]


def test_a_form_without_its_csrf_token_is_refused(site: Site) -> None:
    page = site.page_as("coordinator")
    page.goto("/account/password")
    page.evaluate("document.querySelector('main input[name=csrf_token]').value = 'forged'")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a-new-password-1234")
    page.get_by_label("New password again").fill("a-new-password-1234")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("security token")


def test_password_change_then_sign_in_with_the_new_one_at_tablet_width(site: Site) -> None:
    page = site.anonymous(TABLET)
    sign_in(page, "physician2@example.org", PASSWORD)
    page.goto("/account/password")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#new_password-error")).to_contain_text("at least 12")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("physician2-new-password")
    page.get_by_label("New password again").fill("physician2-new-password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("password is changed")
    site.shot(page, "password-changed-tablet")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "physician2@example.org", "physician2-new-password")
    page.context.close()
