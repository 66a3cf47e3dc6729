"""The README's registry section is generated from the code, and must match it (STYLE habit 10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import typer

from lupus_msc.cli import app
from lupus_msc.services.access import roles_markdown
from lupus_msc.settings import Settings
from lupus_msc.store.diagram import mermaid_er
from lupus_msc.web.api_index import routes_markdown
from lupus_msc.web.app import create_app

README = Path(__file__).resolve().parents[1] / "README.md"


def block(name: str) -> str:
    text = README.read_text("utf-8")
    start = text.index(f"<!-- {name}:start -->\n") + len(f"<!-- {name}:start -->\n")
    return text[start : text.index(f"\n<!-- {name}:end -->")]


def test_the_roles_table_is_the_permission_table() -> None:
    assert block("roles") == roles_markdown()


def test_every_registry_route_is_in_the_readme(tmp_path: Path) -> None:
    assert block("api-routes") == routes_markdown(create_app(f"sqlite:///{tmp_path}/x.sqlite3"))


def test_the_data_model_diagram_is_generated_from_the_models() -> None:
    assert block("data-model") == f"```mermaid\n{mermaid_er()}```"


def test_every_setting_is_documented() -> None:
    text = README.read_text("utf-8")
    for name in Settings.model_fields:
        assert f"`LUPUS_MSC_{name.upper()}`" in text, name


def test_every_command_is_documented() -> None:
    """Each command and sub-command of ``lupus-msc`` appears in the README."""
    text = README.read_text("utf-8")
    commands = list(_commands(typer.main.get_command(app), ""))
    assert {"init", "user add", "audit verify", "backup", "restore"} <= set(commands)
    for command in commands:
        assert f"lupus-msc {command}" in text, command


def _commands(group: click.Command, prefix: str) -> Iterator[str]:
    for name, command in getattr(group, "commands", {}).items():
        yield f"{prefix}{name}"
        yield from _commands(command, f"{prefix}{name} ")
