"""The outcomes and safety reports (issue 7): what they show is what the analyses computed.

The small fixed cohort (``small_cohort``, hand-worked values in its tests) goes through the
report builders; the HTML must carry those numbers, be self-contained, and the PDF must render.
"""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lupus_msc.analytics import proportions, safety
from lupus_msc.analytics.cohort_filter import CohortFilter
from lupus_msc.analytics.dataset import AnalysisDataset
from lupus_msc.analytics.report_outcomes import STEPS, OutcomesReport, outcomes_report
from lupus_msc.analytics.report_render import outcomes_html, safety_html, to_pdf
from lupus_msc.analytics.report_safety import safety_report
from lupus_msc.analytics.visit_table import Notes
from tests.analytics import small_cohort


def _dataset(notes: Notes | None = None) -> AnalysisDataset:
    return AnalysisDataset(
        small_cohort.patients(),
        small_cohort.visits(),
        small_cohort.adverse_events(),
        small_cohort.AS_OF,
        notes or Notes(0, 0),
    )


@pytest.fixture(scope="module")
def report() -> OutcomesReport:
    return outcomes_report(_dataset())


@pytest.fixture(scope="module")
def html(report: OutcomesReport) -> str:
    return outcomes_html(report)


class _Links(HTMLParser):
    """Every resource an HTML file would fetch (src, href of link tags, CSS url())."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "img", "iframe") and found.get("src"):
            self.fetched.append(str(found["src"]))
        if tag == "link" and found.get("href"):
            self.fetched.append(str(found["href"]))


def test_every_step_is_reported_in_order() -> None:
    heard: list[str] = []
    outcomes_report(_dataset(), on_step=heard.append)
    assert tuple(heard) == STEPS


def test_the_report_holds_the_analyses_of_the_same_data(report: OutcomesReport) -> None:
    data = _dataset()
    expected = proportions.outcome_table(data.patients, data.visits, as_of=data.as_of)
    assert report.outcomes == expected
    assert report.safety == safety.safety_summary(data.patients, data.adverse_events)
    assert report.patients == 8
    assert {item.outcome for item in report.time_to} == {"lldas", "doris", "flare"}


def test_the_html_shows_the_hand_worked_month_12_sri4_cell(html: str) -> None:
    # small_cohort: SRI-4 at month 12 is 3/6 under NRI and 3/4 in observed cases.
    row = re.search(r"<tr><td>SRI-4 response</td><td>Month 12</td>(.*?)</tr>", html, re.S)
    assert row is not None
    assert "3/6 (50%;" in row.group(1)
    assert "3/4 (75%;" in row.group(1)


def test_the_html_is_self_contained(html: str) -> None:
    links = _Links()
    links.feed(html)
    assert links.fetched == []
    assert re.findall(r"url\((?!#)", html) == [], "a url() that is not an in-page reference"
    assert "http://" not in html.split("<body>")[0] and "https://" not in html.split("<body>")[0]
    assert html.count("<svg") >= 5


def test_the_methods_text_says_what_was_computed(report: OutcomesReport, html: str) -> None:
    text = " ".join(report.methods)
    assert "non-responder imputation" in text
    assert "Wilson" in text
    assert "Kaplan–Meier" in text
    assert f"{report.safety.patient_years:.1f} patient-years" in text
    assert small_cohort.AS_OF.isoformat() in text
    for paragraph in report.methods:
        assert paragraph.split(";")[0].replace("'", "&#39;")[:40] in html


def test_published_results_carry_their_caveat_and_the_randomised_trial(html: str) -> None:
    assert "not a prediction" in html
    assert "placebo arm" in html
    assert "Deng D 2017" in html


def test_conversion_notes_are_shown_when_there_are_any() -> None:
    noted = outcomes_html(outcomes_report(_dataset(Notes(3, 2))))
    assert "3 visits recorded more than two systemic glucocorticoids" in noted
    assert "2 lab values" in noted


def test_a_filter_that_keeps_nobody_is_refused() -> None:
    from lupus_msc.analytics.cohort_filter import select

    empty = select(_dataset(), CohortFilter(sites=("nowhere",)))
    with pytest.raises(ValueError, match="cohort"):
        outcomes_report(empty)
    with pytest.raises(ValueError, match="cohort"):
        safety_report(empty)


def test_the_safety_report_lists_every_serious_event_and_infusion_reaction() -> None:
    data = _dataset()
    report = safety_report(data)
    events = data.adverse_events.filter(data.adverse_events["day"] >= 0)
    serious = events.filter(events["serious"] | events["fatal"])
    assert len(report.serious) == serious.height
    reactions = events.filter(events["infusion_reaction"])
    assert sum(row.events for row in report.infusion_reactions) == reactions.height
    assert {(row.term, row.grade) for row in report.infusion_reactions} == {
        (r["ctcae_term"] or r["term"], r["grade"]) for r in reactions.iter_rows(named=True)
    }
    assert sum(term.events for term in report.terms) == events.height
    page = safety_html(report)
    for row in report.serious:
        assert f"<td>{row['patient_id']}</td><td>{row['term']}</td>" in page


def test_the_pdf_renders_the_same_report(html: str, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(to_pdf(html))
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Program outcomes report" in text
    assert "Baseline characteristics" in text
    assert "Published results for comparison" in text
    subprocess.run(
        ["pdftoppm", "-r", "30", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    page = next(tmp_path.glob("page*.png"))
    from PIL import Image

    with Image.open(page) as image:
        extrema = image.convert("L").getextrema()
    assert extrema[0] < 100, "the first page is blank"
