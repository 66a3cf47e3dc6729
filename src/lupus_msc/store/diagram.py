"""A Mermaid entity-relationship diagram of the registry, generated from the models (README)."""

from __future__ import annotations

from sqlalchemy import Table

from lupus_msc.store import models  # noqa: F401 - registers every table
from lupus_msc.store.base import Base


def _column_type(column: object) -> str:
    kind = type(getattr(column, "type")).__name__  # noqa: B009 - any column-like object
    return {"ExactDecimal": "decimal", "UtcDateTime": "datetime", "Uuid": "uuid"}.get(
        kind, kind.lower()
    )


def _entity(table: Table) -> list[str]:
    lines = [f"    {table.name} {{"]
    for column in table.columns:
        keys = ["PK"] if column.primary_key else []
        keys += ["FK"] if column.foreign_keys else []
        suffix = f" {','.join(keys)}" if keys else ""
        lines.append(f"        {_column_type(column)} {column.name}{suffix}")
    lines.append("    }")
    return lines


def mermaid_er() -> str:
    """Every table with its columns, and one line per foreign key (``many }o--|| one``)."""
    lines = ["erDiagram"]
    tables = sorted(Base.metadata.tables.values(), key=lambda table: table.name)
    for table in tables:
        for column in table.columns:
            for key in sorted(column.foreign_keys, key=lambda fk: fk.target_fullname):
                optional = "o" if column.nullable else "|"
                target = key.column.table.name
                lines.append(f"    {table.name} }}o--{optional}| {target} : {column.name}")
    for table in tables:
        lines.extend(_entity(table))
    return "\n".join(lines) + "\n"
