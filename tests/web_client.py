"""A signed-in page client over real HTTP: sign in through the form as a browser would."""

from __future__ import annotations

import re

import httpx

from tests.registry_fixtures import PASSWORD, TLS

NONCE = re.compile(r'name="sign_in_nonce" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def signed_in(base_url: str, login: str, password: str = PASSWORD) -> httpx.Client:
    """An httpx client holding a web session of ``login`` (email or user name)."""
    client = httpx.Client(base_url=base_url, timeout=30, verify=TLS)
    form = client.get("/sign-in")
    nonce = NONCE.search(form.text)
    assert nonce is not None, form.text
    answer = client.post(
        "/sign-in", data={"login": login, "password": password, "sign_in_nonce": nonce.group(1)}
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(client: httpx.Client, path: str) -> str:
    """The CSRF token of the client's session, read from a page's forms."""
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)
