"""The README's worked examples are run, and their printed output must match (STYLE.md habit 10)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
# A checked example is a ```console block with one "$ command" line, followed by a ```json block.
EXAMPLE = re.compile(
    r"```console\n\$ (?P<command>.+?)\n```\s*\n```json\n(?P<output>.+?)\n```", re.S
)


def examples() -> list[tuple[str, str]]:
    return [(m["command"], m["output"]) for m in EXAMPLE.finditer(README.read_text("utf-8"))]


def test_the_readme_has_checked_examples_of_score() -> None:
    commands = [command for command, _ in examples()]
    assert any("lupus-msc score sledai2k" in command for command in commands)


def test_each_readme_example_prints_what_the_readme_shows() -> None:
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for command, expected in examples():
        shell_command = command.replace(".venv/bin/", "")
        done = subprocess.run(  # noqa: S602 - the README's own command, run as a reader would
            shell_command,
            shell=True,
            capture_output=True,
            text=True,
            cwd=README.parent,
            env=environment,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        assert json.loads(done.stdout) == json.loads(expected), command


def test_readme_shows_the_two_setup_commands() -> None:
    text = README.read_text("utf-8")
    assert "make demo" in text and "make test" in text


def test_the_readme_documents_every_visit_table_column() -> None:
    from lupus_msc.clinical.batch.schema import markdown_table

    text = README.read_text("utf-8")
    start = text.index("<!-- visit-table:start -->\n") + len("<!-- visit-table:start -->\n")
    end = text.index("\n<!-- visit-table:end -->")
    assert text[start:end] == markdown_table()
