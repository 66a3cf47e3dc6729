"""The registry API as a Markdown table of routes (the README shows it; a test keeps them equal)."""

from __future__ import annotations

from fastapi import FastAPI


def routes_markdown(app: FastAPI) -> str:
    """One row per registry route, from the OpenAPI document: method, path, what it does."""
    lines = ["| method | path | what it does |", "|---|---|---|"]
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/api/v1/score"):
            continue
        for method, operation in operations.items():
            text = operation.get("description") or operation["summary"]
            first_paragraph = " ".join(text.strip().split("\n\n")[0].split())
            lines.append(f"| {method.upper()} | `{path}` | {first_paragraph} |")
    return "\n".join(lines)
