"""``lupus-msc evidence pool`` (shared/evidence/README.md, "Pooling semantics"), as a subprocess.

The numbers themselves are checked against metafor in tests/analytics/test_meta_analysis.py;
here the command must print exactly the library's result, and refuse bad input with exit code 2,
a message naming the column and line, and nothing on standard output.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lupus_msc.analytics.meta_analysis import pool_proportions

FIELDS = ("k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q")
STUDIES = "study,responders,patients\na,24,40\nb,9,12\nc,0,6\nd,7,9\n"


def pool(
    command: list[str], csv_text: str, tmp_path: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "studies.csv"
    source.write_text(csv_text, encoding="utf-8")
    return subprocess.run(
        [*command, "evidence", "pool", "--input", str(source), *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("options", "method", "measure", "knapp_hartung"),
    [
        ((), "REML", "logit", False),
        (("--method", "DL", "--measure", "ft", "--knapp-hartung"), "DL", "ft", True),
    ],
)
def test_it_prints_the_pooled_proportion_as_json(
    lupus_msc_command: list[str],
    tmp_path: Path,
    options: tuple[str, ...],
    method: str,
    measure: str,
    knapp_hartung: bool,
) -> None:
    done = pool(
        lupus_msc_command,
        STUDIES,
        tmp_path,
        "--events",
        "responders",
        "--total",
        "patients",
        *options,
    )
    assert done.returncode == 0, done.stderr
    expected = pool_proportions(
        [24, 9, 0, 7],
        [40, 12, 6, 9],
        method="DL" if method == "DL" else "REML",
        measure="ft" if measure == "ft" else "logit",
        knapp_hartung=knapp_hartung,
    )
    assert json.loads(done.stdout) == {name: getattr(expected, name) for name in FIELDS}


@pytest.mark.parametrize(
    ("csv_text", "events", "message"),
    [
        (STUDIES, "responder", "--events: no column 'responder'"),
        (STUDIES.replace("9,12", "9.5,12"), "responders", "line 3, column 'responders'"),
        (STUDIES.replace("9,12", ",12"), "responders", "line 3, column 'responders'"),
        (STUDIES.replace("9,12", "x,12"), "responders", "line 3, column 'responders'"),
        (STUDIES.replace("9,12", "13,12"), "responders", "line 3, column 'responders'"),
        (STUDIES.replace("9,12", "-1,12"), "responders", "line 3, column 'responders'"),
        (STUDIES.replace("9,12", "0,0"), "responders", "line 3, column 'patients'"),
        ("study,responders,patients\na,24,40\n", "responders", "at least 2"),
    ],
    ids=["missing", "fraction", "blank", "text", "too-many", "negative", "no-patients", "one"],
)
def test_it_refuses_bad_input_naming_the_column_and_line(
    lupus_msc_command: list[str], tmp_path: Path, csv_text: str, events: str, message: str
) -> None:
    done = pool(lupus_msc_command, csv_text, tmp_path, "--events", events, "--total", "patients")
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr
