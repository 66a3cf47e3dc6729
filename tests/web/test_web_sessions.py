"""Web sessions: they end after 30 idle minutes and after 12 hours however busy, sliding in
5-minute steps; sign-out revokes; only the token's SHA-256 is stored; cookies are HttpOnly and
SameSite=Strict; a sign-in form posted without its nonce cookie is refused (login CSRF)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator

import httpx
import pytest
import time_machine
from sqlalchemy import select

from lupus_msc.services import accounts
from lupus_msc.services.accounts import TokenRequest
from lupus_msc.services.errors import Unauthenticated
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.database import Database
from lupus_msc.store.models import ApiToken
from lupus_msc.web.app import create_app
from tests.registry_fixtures import PASSWORD, Registry, seed, serving

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'r.sqlite3'}")
    database.upgrade()
    yield seed(database)
    database.dispose()


def open_at(registry: Registry, moment: dt.datetime) -> str:
    with time_machine.travel(moment, tick=False), unit_of_work(registry.database, None) as session:
        user = accounts.login(session, TokenRequest(email="nurse@example.org", password=PASSWORD))
        return accounts.open_session(session, user)


def alive_at(registry: Registry, token: str, moment: dt.datetime) -> bool:
    with (
        time_machine.travel(moment, tick=False),
        registry.database.sessions() as session,
        session.begin(),
    ):
        try:
            accounts.actor_for_session(session, token)
        except Unauthenticated:
            return False
    return True


def test_an_idle_session_ends_after_exactly_30_minutes(registry: Registry) -> None:
    token = open_at(registry, START)
    assert alive_at(registry, token, START + dt.timedelta(minutes=29, seconds=59))
    other = open_at(registry, START)
    assert not alive_at(registry, other, START + dt.timedelta(minutes=30))


def test_use_keeps_a_session_alive_in_five_minute_steps(registry: Registry) -> None:
    token = open_at(registry, START)
    assert alive_at(registry, token, START + dt.timedelta(minutes=4))  # too soon to slide
    assert not alive_at(registry, token, START + dt.timedelta(minutes=31))
    token = open_at(registry, START)
    assert alive_at(registry, token, START + dt.timedelta(minutes=20))  # slides to 08:50
    assert alive_at(registry, token, START + dt.timedelta(minutes=49))
    assert not alive_at(registry, token, START + dt.timedelta(minutes=80))


def test_a_busy_session_still_ends_after_12_hours(registry: Registry) -> None:
    token = open_at(registry, START)
    for minutes in range(20, 12 * 60, 20):
        assert alive_at(registry, token, START + dt.timedelta(minutes=minutes)), minutes
    assert not alive_at(registry, token, START + dt.timedelta(hours=12))


def test_only_the_hash_of_a_session_token_is_stored(registry: Registry) -> None:
    token = open_at(registry, START)
    with registry.database.sessions() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored


def test_sign_in_cookies_and_sign_out_over_http(registry: Registry) -> None:
    with serving(create_app(registry.database.url)) as base_url:
        with httpx.Client(base_url=base_url) as client:
            form = client.get("/sign-in")
            nonce = re.search(r'name="sign_in_nonce" value="([^"]+)"', form.text)
            assert nonce is not None
            answer = client.post(
                "/sign-in",
                data={
                    "login": "nurse@example.org",
                    "password": PASSWORD,
                    "sign_in_nonce": nonce.group(1),
                    "next": "//evil.example/",
                },
            )
            assert answer.status_code == 303 and answer.headers["location"] == "/"
            cookie = answer.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie
            assert client.get("/", follow_redirects=False).status_code == 200
            page = client.get("/account/password")
            csrf = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
            assert csrf is not None
            session_cookie = client.cookies["lupus_msc_session"]
            out = client.post("/sign-out", data={"csrf_token": csrf.group(1)})
            assert out.status_code == 303
            assert "lupus_msc_session" not in client.cookies
        with httpx.Client(base_url=base_url, cookies={"lupus_msc_session": session_cookie}) as old:
            replayed = old.get("/", follow_redirects=False)
            assert replayed.headers["location"] == "/sign-in?next=/&ended=1"
        with httpx.Client(base_url=base_url) as stranger:
            forged = stranger.post(
                "/sign-in",
                data={
                    "login": "nurse@example.org",
                    "password": PASSWORD,
                    "sign_in_nonce": "made-up",
                    "next": "/",
                },
            )
            assert forged.status_code == 403
            assert "lupus_msc_session" not in forged.headers.get("set-cookie", "")


def test_sign_in_by_user_name(registry: Registry) -> None:
    with unit_of_work(registry.database, None) as session:
        user = accounts.add_user(
            session,
            None,
            accounts.UserIn(
                email="ward.nurse@example.org",
                username="wardnurse",
                full_name="Ward Nurse",
                role="nurse",
                password=PASSWORD,
                site_ids=[registry.sites["A01"]],
            ),
            hasher=accounts.GENERATED_PASSWORD_HASHER,
        )
    with registry.database.sessions() as session:
        by_name = accounts.login(session, TokenRequest(email="WardNurse", password=PASSWORD))
        by_email = accounts.login(
            session, TokenRequest(email="ward.nurse@example.org", password=PASSWORD)
        )
        assert by_name.id == by_email.id == user.id
        with pytest.raises(Unauthenticated):
            accounts.login(session, TokenRequest(email="wardnurse", password="wrong password"))  # noqa: S106
