"""The dashboard's figures are served from memory while the registry is unchanged, and are
never stale: every write moves the audit head, and the next request computes them anew."""

from __future__ import annotations

import re
import threading
from contextlib import closing

from sqlalchemy.orm import Session

from lupus_msc.services.dashboard import FigureCache, FigureMaker
from tests.pathway_helpers import register
from tests.registry_fixtures import Api
from tests.web_client import signed_in

REFERRED = re.compile(r'id="state-referred"[^>]*>\s*<span class="stat" data-count="(\d+)"')


def referred(page: str) -> int:
    found = REFERRED.search(page)
    assert found is not None
    return int(found.group(1))


def test_a_write_shows_on_the_next_dashboard(api: Api) -> None:
    with closing(signed_in(api.base_url, "coordinator@example.org")) as client:
        before = referred(client.get("/").text)
        assert referred(client.get("/").text) == before
        register(api)
        assert referred(client.get("/").text) == before + 1
        register(api)
        register(api)
        assert referred(client.get("/").text) == before + 3


def counting() -> tuple[list[int], FigureMaker]:
    calls: list[int] = []

    def make(_: Session) -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    return calls, make


def test_figures_are_computed_once_per_state_of_the_registry(api: Api) -> None:
    cache = FigureCache(api.registry.database)
    calls, make = counting()
    with api.registry.database.sessions() as session:
        first = cache.figures(session, ("scope",), make)
        again = cache.figures(session, ("scope",), make)
        other = cache.figures(session, ("another scope",), make)
    assert first is again and len(calls) == 2 and other.figures == {"n": 2}
    register(api)
    with api.registry.database.sessions() as session:
        fresh = cache.figures(session, ("scope",), make)
    assert fresh.figures == {"n": 3} and not fresh.stale and fresh.head > first.head


def test_slow_figures_are_served_stale_while_newer_ones_are_computed(api: Api) -> None:
    """Past ``SLOW`` seconds of computing, a changed registry gets the previous figures, marked
    stale, and one background computation; the next request after it gets the new figures."""
    cache = FigureCache(api.registry.database)
    cache.SLOW = 0  # every computation counts as slow
    calls, count = counting()
    background = threading.Event()

    def make(session: Session) -> dict[str, int]:
        if calls:  # the background computation waits until the test has asked twice
            assert background.wait(10)
        return count(session)

    with api.registry.database.sessions() as session:
        first = cache.figures(session, ("scope",), make)
    register(api)
    with api.registry.database.sessions() as session:
        stale = cache.figures(session, ("scope",), make)
        stale_again = cache.figures(session, ("scope",), make)
    assert stale.stale and stale.figures == first.figures and stale_again.stale
    background.set()
    cache.wait()
    assert len(calls) == 2  # one background computation for both stale answers
    with api.registry.database.sessions() as session:
        current = cache.figures(session, ("scope",), make)
    assert not current.stale and current.figures == {"n": 2} and current.head > first.head


def test_the_dashboard_says_how_old_its_figures_are(api: Api) -> None:
    with closing(signed_in(api.base_url, "coordinator@example.org")) as client:
        page = client.get("/").text
    assert re.search(r'id="figures-as-of">Counts for your sites, as of \d{4}-\d\d-\d\d', page)
