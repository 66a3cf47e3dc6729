"""The published-results panel of the patient page over real HTTP (issue 7, "realistic
expectations"): what published studies report for patients like this one, chosen by kidney
involvement at screening, labelled as published results with the caveat, Deng 2017 always, and
shown to every role that may read the page (it holds no patient data)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from lupus_msc.analytics.evidence_comparison import CAVEAT
from lupus_msc.analytics.evidence_panel import panel
from tests import web_client
from tests.browser_fixtures import Site
from tests.pathway_helpers import register, screen
from tests.registry_fixtures import Api

DENG = ("deng2017_msc", "deng2017_placebo")


@pytest.fixture(scope="module")
def patients(site: Site) -> dict[str, dict[str, Any]]:
    """A patient screened with lupus nephritis, one without, and one not yet screened."""
    api = Api(site.base_url, site.registry)
    renal, other, unscreened = register(api), register(api), register(api)
    screen(api, renal, organ_involvement=["skin", "joints", "kidneys"])
    screen(api, other, organ_involvement=["skin", "joints"])
    return {"renal": renal, "other": other, "unscreened": unscreened}


def _panel(site: Site, persona: str, patient: dict[str, Any]) -> str:
    client = web_client.signed_in(site.base_url, f"{persona}@example.org")
    page = client.get(f"/patients/{patient['id']}")
    assert page.status_code == 200
    found = re.search(r'<section class="card evidence".*?</section>', page.text, flags=re.S)
    assert found is not None, "no published-results panel on the patient page"
    return found.group(0)


def _studies(section: str) -> list[str]:
    return re.findall(r'<tr data-study="([^"]+)">', section)


def _text(section: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split())


def test_the_panel_is_labelled_and_carries_the_caveat(
    site: Site, patients: dict[str, dict[str, Any]]
) -> None:
    section = _panel(site, "physician", patients["renal"])
    text = _text(section)
    assert "What published studies report for patients like this one" in text
    assert CAVEAT in text
    assert text.index("Published results, not a prediction for any patient") < text.index(
        "Deng D 2017"
    ), "the caveat comes before any number"
    assert "placebo arm" in text
    assert "5/6 (83%)" in text  # Deng 2017's placebo arm, as the table records it
    assert 'href="https://ard.bmj.com/content/76/8/1436"' in section
    assert "abstract-read" in text


def test_renal_and_non_renal_patients_see_different_studies_and_deng_2017_always(
    site: Site, patients: dict[str, dict[str, Any]]
) -> None:
    renal = _studies(_panel(site, "physician", patients["renal"]))
    other = _studies(_panel(site, "physician", patients["other"]))
    assert renal == list(panel(True).study_ids)
    assert other == list(panel(False).study_ids)
    assert set(renal) != set(other)
    assert "gu2014" in renal and "gu2014" not in other  # refractory lupus nephritis
    assert "kamen2022" in other and "kamen2022" not in renal
    for studies in (renal, other):
        assert studies[:2] == list(DENG)
    text = _text(_panel(site, "physician", patients["renal"]))
    assert "kidney involvement (lupus nephritis) was recorded at screening" in text


def test_without_a_screening_or_for_the_statistician_both_populations_show(
    site: Site, patients: dict[str, dict[str, Any]]
) -> None:
    both = list(panel(None).study_ids)
    assert set(both) == set(panel(True).study_ids) | set(panel(False).study_ids)
    unscreened = _panel(site, "physician", patients["unscreened"])
    assert _studies(unscreened) == both
    assert "No screening is recorded yet" in _text(unscreened)
    statistician = _panel(site, "statistician", patients["renal"])
    assert _studies(statistician) == both
    assert CAVEAT in _text(statistician)
    assert "Lovelace" not in statistician
    monitor = _panel(site, "monitor", patients["other"])
    assert _studies(monitor) == list(panel(False).study_ids)
