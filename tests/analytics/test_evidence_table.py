"""The published-studies table ships with the package, every source column kept, blanks left
blank; users' rows join only in the same columns, with their source filled in."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from lupus_msc.analytics.evidence_table import (
    ORIGIN,
    EvidenceTableError,
    columns,
    published_studies,
    studies,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "evidence" / "msc-sle-studies.csv"


def test_the_packaged_table_keeps_every_row_and_source_column() -> None:
    rows = published_studies()
    assert len(rows) == 25  # 23 arms from 21 publications and 2 reviews (evidence README)
    for name in ("sources", "verification_level", "citation_check", "overlap_group"):
        assert name in columns()
    assert all(row[ORIGIN] == "published table" for row in rows)
    assert {row["verification_level"] for row in rows} <= {"abstract-read", "secondary-source"}
    deng = [row for row in rows if row["study_id"].startswith("deng2017")]
    assert deng, "the negative randomised trial must be in the table"


def test_blank_cells_stay_blank() -> None:
    rows = published_studies()
    assert any(row["n_any_response"] == "" for row in rows)


@pytest.mark.skipif(not SHARED.exists(), reason="shared/evidence is not beside this checkout")
def test_the_packaged_copy_equals_the_shared_table() -> None:
    with SHARED.open(encoding="utf-8", newline="") as handle:
        shared = list(csv.DictReader(handle))
    assert [{k: v for k, v in row.items() if k != ORIGIN} for row in published_studies()] == shared


def _user_file(tmp_path: Path, **values: str) -> Path:
    row = dict.fromkeys(columns(), "")
    row.update(
        study_id="clinic2026",
        therapy="MSC",
        arm="MSC",
        verification_level="abstract-read",
        sources="https://example.org/our-abstract",
    )
    row.update(values)
    path = tmp_path / "ours.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns())
        writer.writeheader()
        writer.writerow(row)
    return path


def test_a_users_row_is_added_and_says_where_it_came_from(tmp_path: Path) -> None:
    rows = studies(_user_file(tmp_path, n_any_response="7", response_denominator="10"))
    assert len(rows) == 26 and rows[-1][ORIGIN] == "ours.csv"
    assert rows[-1]["n_any_response"] == "7"


def test_a_users_row_without_its_source_is_refused_by_line(tmp_path: Path) -> None:
    with pytest.raises(EvidenceTableError, match="line 2: sources is empty"):
        studies(_user_file(tmp_path, sources=""))


def test_a_users_file_with_other_columns_is_refused_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("study_id,responders\nx,3\n", encoding="utf-8")
    with pytest.raises(EvidenceTableError, match=r"missing .*therapy.*unknown responders"):
        studies(path)


def test_a_users_row_may_not_replace_a_published_one(tmp_path: Path) -> None:
    published = published_studies()[0]
    with pytest.raises(EvidenceTableError, match="already in the published table"):
        studies(_user_file(tmp_path, study_id=published["study_id"], arm=published["arm"]))
