"""The admin pages over real HTTP (issue 6): every admin route refuses every other role (403,
nothing changes), every form refuses a missing or forged CSRF token, unknown records are 404,
and the account rules hold (no self-deactivation, memberships are moved, never deleted).
On SQLite and PostgreSQL (the ``api`` fixture's registry)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from lupus_msc.store.models import AuditHead, Membership, ProtocolVersion, User
from tests.registry_fixtures import PASSWORD, TLS, Api

NON_ADMINS = (
    "physician",
    "coordinator",
    "lab",
    "nurse",
    "monitor",
    "statistician",
    "coordinator_b",
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A signed-in page client: the session cookie and the form token of its session."""

    def __init__(self, base_url: str, login: str, password: str = PASSWORD) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30, verify=TLS)
        form = self.client.get("/sign-in")
        nonce = re.search(r'name="sign_in_nonce" value="([^"]+)"', form.text)
        assert nonce is not None
        fields = {"login": login, "password": password, "sign_in_nonce": nonce.group(1)}
        signed = self.client.post("/sign-in", data=fields)
        assert signed.status_code == 303 and signed.headers["location"] == "/", signed.text
        found = CSRF.search(self.client.get("/").text)
        assert found is not None
        self.csrf = found.group(1)

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def post(self, path: str, data: dict[str, object], csrf: str | None = "") -> httpx.Response:
        token = self.csrf if csrf == "" else csrf
        fields = dict(data) if token is None else {**data, "csrf_token": token}
        return self.client.post(path, data=fields)


@pytest.fixture(scope="module")
def browsers(api: Api) -> Iterator[dict[str, Browser]]:
    opened = {name: Browser(api.base_url, f"{name}@example.org") for name in ("admin", *NON_ADMINS)}
    yield opened
    for browser in opened.values():
        browser.client.close()


def head(api: Api) -> tuple[int, str]:
    with api.registry.database.sessions() as session:
        found = session.get(AuditHead, 1)
        assert found is not None
        return found.seq, found.row_hash


def protocol_id(api: Api) -> uuid.UUID:
    with api.registry.database.sessions() as session:
        found: uuid.UUID | None = session.scalar(select(ProtocolVersion.id))
        assert found is not None
        return found


def gets(api: Api) -> list[str]:
    nurse = api.registry.users["nurse"]
    return [
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{nurse}",
        "/admin/sites",
        "/admin/protocols",
        f"/admin/protocols/{protocol_id(api)}",
        "/admin/audit",
        "/admin/audit?entity=users",
    ]


def posts(api: Api) -> list[tuple[str, dict[str, object]]]:
    """Every admin form with a body that an admin's post would accept."""
    nurse = api.registry.users["nurse2"]
    site_a = str(api.registry.sites["A01"])
    return [
        (
            "/admin/users/new",
            {
                "email": f"refused-{uuid.uuid4().hex[:8]}@example.org",
                "full_name": "Not Added",
                "role": "nurse",
                "site_ids": site_a,
                "password": "a-long-enough-password",
            },
        ),
        (f"/admin/users/{nurse}", {"role": "physician", "site_ids": site_a}),
        (
            f"/admin/users/{nurse}/qualifications",
            {"kind": "infusion", "granted_on": "2026-01-01", "expires_on": "2027-01-01"},
        ),
        (f"/admin/users/{nurse}/deactivate", {}),
        (f"/admin/users/{nurse}/reactivate", {}),
        (f"/admin/users/{nurse}/revoke-tokens", {}),
        ("/admin/sites", {"code": "Z09", "name": "Refused site"}),
        ("/admin/audit/verify", {}),
    ]


@pytest.mark.parametrize("persona", NON_ADMINS)
def test_every_admin_page_is_forbidden_to_every_other_role(
    api: Api, browsers: dict[str, Browser], persona: str
) -> None:
    browser = browsers[persona]
    for path in gets(api):
        answer = browser.get(path)
        assert answer.status_code == 403, (persona, path)
        assert "Not allowed" in answer.text
    before = head(api)
    for path, data in posts(api):
        assert browser.post(path, data).status_code == 403, (persona, path)
    assert head(api) == before


def test_the_menu_hides_users_sites_and_protocols_from_other_roles(
    browsers: dict[str, Browser],
) -> None:
    for persona in NON_ADMINS:
        page = browsers[persona].get("/").text
        for href in ("/admin/users", "/admin/sites", "/admin/protocols"):
            assert f'href="{href}"' not in page, (persona, href)
    admin = browsers["admin"].get("/").text
    for href in ("/admin/users", "/admin/sites", "/admin/protocols", "/admin/audit"):
        assert f'href="{href}"' in admin


def test_an_admin_opens_every_admin_page(api: Api, browsers: dict[str, Browser]) -> None:
    for path in gets(api):
        answer = browsers["admin"].get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert answer.text.count("<h1") == 1


def test_every_admin_form_refuses_a_missing_or_forged_csrf_token(
    api: Api, browsers: dict[str, Browser]
) -> None:
    admin = browsers["admin"]
    before = head(api)
    for path, data in posts(api):
        assert admin.post(path, data, csrf=None).status_code == 403, path
        forged = admin.post(path, data, csrf="0" * 64)
        assert forged.status_code == 403, path
        assert "security token" in forged.text
    assert head(api) == before


def test_unknown_users_and_protocol_versions_are_not_found(browsers: dict[str, Browser]) -> None:
    admin = browsers["admin"]
    assert admin.get(f"/admin/users/{uuid.uuid4()}").status_code == 404
    assert admin.get(f"/admin/protocols/{uuid.uuid4()}").status_code == 404
    assert admin.get("/admin/users/not-a-uuid").status_code == 404


def test_an_admin_cannot_deactivate_or_demote_themselves(
    api: Api, browsers: dict[str, Browser]
) -> None:
    admin = browsers["admin"]
    me = api.registry.users["admin"]
    before = head(api)
    refused = admin.post(f"/admin/users/{me}/deactivate", {})
    assert refused.status_code == 409 and "cannot deactivate yourself" in refused.text
    demoted = admin.post(f"/admin/users/{me}", {"role": "monitor"})
    assert demoted.status_code == 409 and "admin role" in demoted.text
    assert head(api) == before


def test_a_bad_user_form_names_the_fields_and_adds_nobody(
    api: Api, browsers: dict[str, Browser]
) -> None:
    before = head(api)
    answer = browsers["admin"].post(
        "/admin/users/new",
        {"email": "not-an-email", "full_name": "X", "role": "nurse", "password": "short"},
    )
    assert answer.status_code == 422
    assert 'id="email-error"' in answer.text and 'id="password-error"' in answer.text
    assert "short" not in answer.text.split('id="password"')[1][:200]  # never echoed
    assert head(api) == before
    taken = browsers["admin"].post(
        "/admin/users/new",
        {
            "email": "nurse@example.org",
            "full_name": "Second Nurse",
            "role": "nurse",
            "password": "a-long-enough-password",
        },
    )
    assert taken.status_code == 409 and "exists already" in taken.text
    assert head(api) == before


def memberships(api: Api, persona: str) -> list[tuple[uuid.UUID, uuid.UUID]]:
    with api.registry.database.sessions() as session:
        rows = session.execute(
            select(Membership.id, Membership.site_id).where(
                Membership.user_id == api.registry.users[persona]
            )
        )
        return sorted((row.id, row.site_id) for row in rows)


def test_a_site_is_replaced_by_moving_the_membership_and_never_removed(
    api: Api, browsers: dict[str, Browser]
) -> None:
    admin = browsers["admin"]
    lab_b = api.registry.users["lab_b"]
    site_a, site_b = str(api.registry.sites["A01"]), str(api.registry.sites["B01"])
    ((kept_id, _),) = memberships(api, "lab_b")
    moved = admin.post(f"/admin/users/{lab_b}", {"role": "lab", "site_ids": site_a})
    assert moved.status_code == 303
    assert memberships(api, "lab_b") == [(kept_id, uuid.UUID(site_a))]
    before = head(api)
    emptied = admin.post(f"/admin/users/{lab_b}", {"role": "lab"})
    assert emptied.status_code == 409 and "cannot be ended" in emptied.text
    assert head(api) == before
    back = admin.post(f"/admin/users/{lab_b}", {"role": "lab", "site_ids": site_b})
    assert back.status_code == 303
    assert memberships(api, "lab_b") == [(kept_id, uuid.UUID(site_b))]


def test_the_audit_filter_refuses_a_bad_date_with_the_field_named(
    browsers: dict[str, Browser],
) -> None:
    answer = browsers["admin"].get("/admin/audit?since=yesterday")
    assert answer.status_code == 422
    assert 'id="since-error"' in answer.text


def test_the_audit_pages_run_newest_first_by_keyset(api: Api, browsers: dict[str, Browser]) -> None:
    admin = browsers["admin"]
    newest, _ = head(api)
    first = admin.get("/admin/audit").text
    seqs = [int(seq) for seq in re.findall(r'<td class="num">(\d+)</td>', first)]
    assert seqs[0] == newest and seqs == sorted(seqs, reverse=True) and len(seqs) == 50
    older = re.search(r'href="/admin/audit\?before=(\d+)"', first)
    assert older is not None and int(older.group(1)) == seqs[-1]
    second = admin.get(f"/admin/audit?before={seqs[-1]}").text
    after = [int(seq) for seq in re.findall(r'<td class="num">(\d+)</td>', second)]
    assert after[0] == seqs[-1] - 1


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(
    api: Api, browsers: dict[str, Browser]
) -> None:
    victim = Browser(api.base_url, "physician2@example.org")
    assert victim.get("/").status_code == 200
    user_id = api.registry.users["physician2"]
    assert browsers["admin"].post(f"/admin/users/{user_id}/deactivate", {}).status_code == 303
    ended = victim.client.get("/", follow_redirects=False)
    assert ended.status_code == 303 and "ended=1" in ended.headers["location"]
    with pytest.raises(AssertionError):
        Browser(api.base_url, "physician2@example.org")
    with api.registry.database.sessions() as session:
        user = session.get(User, user_id)
        assert user is not None and user.active is False
    assert browsers["admin"].post(f"/admin/users/{user_id}/reactivate", {}).status_code == 303
    Browser(api.base_url, "physician2@example.org").client.close()
    victim.client.close()
