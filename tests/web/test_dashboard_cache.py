"""The dashboard's figures are served from memory while the registry is unchanged, and are
never stale: every write moves the audit head, and the next request computes them anew."""

from __future__ import annotations

import re
from contextlib import closing

from lupus_msc.services.dashboard import FigureCache
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


def test_figures_are_computed_once_per_state_of_the_registry(api: Api) -> None:
    cache = FigureCache()
    calls: list[int] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    with api.registry.database.sessions() as session:
        first = cache.figures(session, ("scope",), compute)
        again = cache.figures(session, ("scope",), compute)
        other = cache.figures(session, ("another scope",), compute)
    assert first is again and len(calls) == 2 and other == {"n": 2}
    register(api)
    with api.registry.database.sessions() as session:
        assert cache.figures(session, ("scope",), compute) == {"n": 3}
