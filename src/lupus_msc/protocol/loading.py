"""Read a protocol from YAML, refusing a malformed file with the field path and line (DESIGN.md).

The YAML is composed into nodes first, so every key keeps its line number; the data built from the
nodes is then checked by :class:`~lupus_msc.protocol.model.Protocol`. Any YAML syntax error,
duplicate key or validation error becomes a :class:`ProtocolError` whose message names the field
path and the line, e.g. ``dosing.dose_max_per_kg (line 23): must be at least dose_per_kg``.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from lupus_msc.protocol.model import FieldIssue, FieldPath, Protocol


class ProtocolError(ValueError):
    """A protocol file that cannot be used; ``problems`` lists one line per fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid protocol: " + "; ".join(problems))
        self.problems = problems


def format_path(path: FieldPath) -> str:
    """``("visits", 3, "day")`` → ``visits[3].day``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or "(protocol)"


class _Reader:
    """Builds plain data from YAML nodes, recording the line of every field path (1-based)."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[FieldPath, int] = {}

    def build(self, node: yaml.Node, path: FieldPath) -> object:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[object, object]:
        data: dict[object, object] = {}
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise ProtocolError([f"{format_path(path)} (line {line}): keys must be text"])
            if key in data:
                where = format_path((*path, key))
                raise ProtocolError([f"{where} (line {line}): is given twice"])
            self.lines[(*path, key)] = line
            data[key] = self.build(value_node, (*path, key))
        return data


def _parse(text: str) -> tuple[object, dict[FieldPath, int]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ProtocolError(["(protocol) (line 1): the file is empty"])
        reader = _Reader(loader)
        return reader.build(node, ()), reader.lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "line unknown"
        raise ProtocolError([f"YAML syntax ({line}): {exc.problem or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise ProtocolError([f"YAML syntax: {exc}"]) from exc
    finally:
        loader.dispose()


def _data_path(data: object, loc: FieldPath) -> FieldPath:
    """The part of pydantic's ``loc`` that names fields of the data (union/type tags dropped)."""
    path: list[str | int] = []
    for part in loc:
        if isinstance(data, dict) and isinstance(part, str):
            path.append(part)
            if part not in data:
                break
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            path.append(part)
            data = data[part]
        else:
            break
    return tuple(path)


def _line(lines: dict[FieldPath, int], path: FieldPath) -> int:
    """Line of ``path``, or of its nearest ancestor present in the file (e.g. a missing field)."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


def _problem(error: ErrorDetails, data: object, lines: dict[FieldPath, int]) -> str:
    path = _data_path(data, tuple(error["loc"]))
    message = error["msg"]
    issue = error.get("ctx", {}).get("error")
    if isinstance(issue, FieldIssue):
        path, message = (*path, *issue.field), issue.message
    elif error["type"] == "extra_forbidden":
        message = "is not a known field"
    elif error["type"] == "missing":
        message = "is required"
    return f"{format_path(path)} (line {_line(lines, path)}): {message}"


def _read(source: str | Path) -> str:
    """A ``Path``, or a one-line string ending in .yaml/.yml, is a file; other text is YAML."""
    is_file = isinstance(source, Path) or (
        "\n" not in source and source.endswith((".yaml", ".yml"))
    )
    return Path(source).read_text(encoding="utf-8") if is_file else str(source)


def load_protocol(source: str | Path) -> Protocol:
    """Parse and check a protocol (a file path or the YAML text itself); raise ProtocolError."""
    data, lines = _parse(_read(source))
    try:
        return Protocol.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(error, data, lines) for error in exc.errors()]
        raise ProtocolError(list(dict.fromkeys(problems))) from exc
