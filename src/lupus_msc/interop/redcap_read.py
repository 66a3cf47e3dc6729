"""Reading a REDCap project's data dictionary and records export for an import (issue 8, REDCap):
every cell is checked against the dictionary as REDCap itself checks an import, then translated
by the mapping file (``redcap_mapping``) into registry values, gathered per record (patient).

Checks (REDCap Help & FAQ, "Data Import Tool"; API "Import Records", ``type=flat``):

* a column is a dictionary field, a checkbox choice column ``field___code``, one of REDCap's own
  columns (``redcap_event_name``, ``redcap_repeat_instrument``, ``redcap_repeat_instance``,
  ``redcap_data_access_group``) or a form status ``<form>_complete`` (ignored);
* a field with text validation ``date_ymd`` (any ``date_*``: REDCap exports dates as
  YYYY-MM-DD) holds a date, ``number*`` a number, ``integer`` a whole number, each within the
  dictionary's minimum and maximum;
* a radio, dropdown or checkbox code is one of the field's choices; yes/no and true/false are 1
  or 0;
* the event is one the mapping knows, a repeating instrument one it maps, an instance a whole
  number from 1; each field's registry target belongs to that kind of row (a visit field on a
  visit event, a medication field on a medication instance …).

Every problem is kept with its record, event, field and line, so one pass names them all.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lupus_msc.interop import redcap_schema as schema
from lupus_msc.interop.redcap_mapping import IGNORE, PATIENT, Mapping

REDCAP_COLUMNS = frozenset(
    {
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "redcap_data_access_group",
    }
)
CHOICE_TYPES = frozenset({"radio", "dropdown", "checkbox"})
BOOLEAN_TYPES = frozenset({"yesno", "truefalse"})
TRUE, FALSE = frozenset({"1", "true", "yes"}), frozenset({"0", "false", "no"})
STUDY_CODE = "patient.study_code"
"""The record id is the study code when the mapping says so (our own export)."""
TARGET_SPECS = {spec.target: spec for spec in schema.FIELDS}


class ReadError(ValueError):
    """A file that cannot be read at all (not a dictionary, not a records export)."""


@dataclass(frozen=True)
class Problem:
    """One refused cell or row: where it is and why."""

    line: int
    record: str
    event: str
    field: str
    reason: str

    def __str__(self) -> str:
        return (
            f"line {self.line}: record {self.record or '?'}, event {self.event or '-'}, "
            f"field {self.field or '-'}: {self.reason}"
        )


@dataclass(frozen=True)
class DictionaryField:
    name: str
    form: str
    kind: str
    choices: dict[str, str]
    validation: str
    low: str
    high: str


@dataclass
class Item:
    """One row's registry values (target → value) and where they came from."""

    line: int
    event: str
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    """Registry target → the REDCap field that gave it (for messages)."""
    flawed: bool = False
    """A cell of the row was refused: the row is not handed to the services (its problem is
    reported once, not again as a missing value)."""


@dataclass
class Draft:
    """A record (one patient) as read: the patient, visits by protocol code, repeating items."""

    record: str
    patient: Item
    visits: dict[str, Item] = field(default_factory=dict)
    medications: list[Item] = field(default_factory=list)
    adverse_events: list[Item] = field(default_factory=list)


def _choices(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in text.split("|"):
        code, _, label = part.partition(",")
        if code.strip():
            found[code.strip()] = label.strip()
    return found


def read_dictionary(path: Path) -> dict[str, DictionaryField]:
    """The fields of a REDCap data dictionary (CSV, REDCap's 18 columns or the API's names)."""
    rows = _rows(path)
    first = schema.DICTIONARY_HEADER[0]
    header = [cell.strip() for cell in rows[0][:1]] if rows else []
    if header not in ([first], ["field_name"]):
        raise ReadError(f"{path.name}: not a REDCap data dictionary (first column {first!r})")
    fields = {}
    for values in rows[1:]:
        cells = dict(enumerate(values))
        name = cells.get(0, "").strip()
        if not name:
            continue
        fields[name] = DictionaryField(
            name=name,
            form=cells.get(1, ""),
            kind=cells.get(3, "").strip(),
            choices=_choices(cells.get(5, "")) if cells.get(3, "") in CHOICE_TYPES else {},
            validation=cells.get(7, "").strip(),
            low=cells.get(8, "").strip(),
            high=cells.get(9, "").strip(),
        )
    return fields


def _rows(path: Path) -> list[list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            return list(csv.reader(stream))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ReadError(f"cannot read {path}: {error}") from error


def _number(text: str, validation: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(f"{text!r} is not a number") from error
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a number")
    if validation == "integer" and value != value.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number")
    return value


def _check_validation(spec: DictionaryField, text: str) -> None:
    """REDCap's text validation and range of the dictionary field."""
    validation = spec.validation
    if validation.startswith("date"):
        try:
            dt.date.fromisoformat(text)
        except ValueError as error:
            raise ValueError(f"{text!r} is not a date written YYYY-MM-DD") from error
        return
    if validation == "integer" or validation.startswith("number"):
        value = _number(text, validation)
        low = _number(spec.low, "number") if spec.low else None
        high = _number(spec.high, "number") if spec.high else None
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{text} is out of range ({spec.low or '…'} to {spec.high or '…'})")


def convert(target: str, text: str) -> Any:
    """A registry value for ``target`` from the (choice-mapped) text, typed as the registry
    field is (``redcap_schema``): date, number, whole number, yes/no, or text."""
    spec = TARGET_SPECS[target]
    if spec.kind in BOOLEAN_TYPES:
        lowered = text.lower()
        if lowered in TRUE | FALSE:
            return lowered in TRUE
        raise ValueError(f"{text!r} is not yes (1) or no (0)")
    if spec.validation == "date_ymd":
        try:
            return dt.date.fromisoformat(text)
        except ValueError as error:
            raise ValueError(f"{text!r} is not a date written YYYY-MM-DD") from error
    if spec.validation in {"number", "integer"}:
        value = _number(text, spec.validation)
        return int(value) if spec.validation == "integer" else value
    if spec.as_is:
        return int(_number(text, "integer"))
    return text


class _Reader:
    """The state of one pass over the records file."""

    def __init__(self, dictionary: dict[str, DictionaryField], mapping: Mapping) -> None:
        self.dictionary = dictionary
        self.mapping = mapping
        self.forms = {spec.form for spec in dictionary.values()}
        self.drafts: dict[str, Draft] = {}
        self.problems: list[Problem] = []

    def problem(self, line: int, record: str, event: str, name: str, reason: str) -> None:
        self.problems.append(Problem(line, record, event, name, reason))

    def _field_of(self, column: str) -> tuple[DictionaryField | None, str | None]:
        """The dictionary field of a column, and the checkbox code if it is a choice column."""
        if column in self.dictionary:
            return self.dictionary[column], None
        name, _, code = column.rpartition("___")
        spec = self.dictionary.get(name)
        if name and spec is not None and spec.kind == "checkbox":
            return spec, code
        return None, None

    def _ignored(self, column: str) -> bool:
        form = column.removesuffix("_complete")
        return (
            column in REDCAP_COLUMNS
            or column == self.mapping.record_id
            or (column.endswith("_complete") and form in self.forms)
        )

    def _kind(self, line: int, record: str, event: str, row: dict[str, str]) -> str | None:
        """patient, visit:<code>, medication or adverse_event; None (a problem) if unknown."""
        instrument = (row.get("redcap_repeat_instrument") or "").strip()
        if instrument:
            kind = self.mapping.repeating.get(instrument)
            instance = (row.get("redcap_repeat_instance") or "").strip()
            if kind is None:
                reason = f"repeating instrument {instrument!r} is not in the mapping"
                self.problem(line, record, event, "redcap_repeat_instrument", reason)
            elif not instance.isdigit() or int(instance) < 1:
                reason = f"{instance!r} is not a repeat instance number (1, 2, …)"
                self.problem(line, record, event, "redcap_repeat_instance", reason)
                return None
            return kind
        target = self.mapping.events.get(event)
        if target is None:
            self.problem(line, record, event, "redcap_event_name", "event not in the mapping")
        return target

    def _value(self, spec: DictionaryField, code: str | None, text: str) -> str:
        """The cell's text after REDCap's checks and the mapping's choice codes."""
        if code is not None:
            if code not in spec.choices:
                raise ValueError(f"{code!r} is not a choice of {spec.name}")
            if text not in {"0", "1"}:
                raise ValueError(f"checkbox cell {text!r} is not 1 or 0")
            return self._mapped(spec, code)
        if spec.kind in BOOLEAN_TYPES:
            if text not in {"0", "1"}:
                raise ValueError(f"{text!r} is not 1 or 0")
            return self.mapping.choices.get(spec.name, {}).get(text, text)
        if spec.kind in CHOICE_TYPES:
            if text not in spec.choices:
                codes = ", ".join(spec.choices)
                raise ValueError(f"code {text!r} is not a choice of the field (codes: {codes})")
            return self._mapped(spec, text)
        _check_validation(spec, text)
        return text

    def _mapped(self, spec: DictionaryField, code: str) -> str:
        found = self.mapping.choices.get(spec.name, {}).get(code)
        if found is None:
            raise ValueError(f"choice code {code!r} has no registry value in the mapping")
        return found

    def _cell(self, item: Item, kind: str, record: str, column: str, text: str) -> None:
        count = len(self.problems)
        self._checked_cell(item, kind, record, column, text)
        item.flawed = item.flawed or len(self.problems) > count

    def _checked_cell(self, item: Item, kind: str, record: str, column: str, text: str) -> None:
        spec, code = self._field_of(column)
        where = (item.line, record, item.event)
        if spec is None:
            self.problem(*where, column, "not a field of the data dictionary")
            return
        target = self.mapping.fields.get(spec.name)
        if target is None:
            self.problem(*where, spec.name, "has no target in the mapping (map it or ignore it)")
            return
        if target == IGNORE or target.startswith("derived."):
            return
        if target.split(".")[0] != kind.split(":")[0]:
            self.problem(*where, spec.name, f"a {target} value on a {kind} row")
            return
        try:
            value = self._value(spec, code, text)
            if code is not None:
                if text == "1":
                    item.values.setdefault(target, []).append(value)
            else:
                item.values[target] = convert(target, value)
        except ValueError as error:
            self.problem(*where, spec.name, str(error))
            return
        item.sources[target] = spec.name

    def row(self, line: int, row: dict[str, str]) -> None:
        record = (row.get(self.mapping.record_id) or "").strip()
        event = (row.get("redcap_event_name") or "").strip()
        if not record:
            self.problem(line, record, event, self.mapping.record_id, "no record id")
            return
        kind = self._kind(line, record, event, row)
        if kind is None:
            return
        item = Item(line, event)
        for column, text in row.items():
            if column is None or self._ignored(column) or not (text or "").strip():
                continue
            self._cell(item, kind, record, column, text.strip())
        if kind == PATIENT and self.mapping.fields.get(self.mapping.record_id) == STUDY_CODE:
            item.values[STUDY_CODE] = record
            item.sources[STUDY_CODE] = self.mapping.record_id
        self._place(record, kind, item)

    def _place(self, record: str, kind: str, item: Item) -> None:
        draft = self.drafts.get(record)
        if draft is None:
            draft = self.drafts[record] = Draft(record, Item(item.line, ""))
        if kind == PATIENT:
            draft.patient.values |= item.values
            draft.patient.sources |= item.sources
            draft.patient.event, draft.patient.line = item.event, item.line
            draft.patient.flawed = draft.patient.flawed or item.flawed
        elif kind == "medication":
            draft.medications.append(item)
        elif kind == "adverse_event":
            draft.adverse_events.append(item)
        else:
            code = kind.removeprefix("visit:")
            if code in draft.visits:
                reason = f"visit {code} is given twice for this record"
                self.problem(item.line, record, item.event, "redcap_event_name", reason)
            draft.visits[code] = item


def _records(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            for row in reader:
                yield reader.line_num, row
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ReadError(f"cannot read {path}: {error}") from error


def read_records(
    path: Path, dictionary: dict[str, DictionaryField], mapping: Mapping
) -> tuple[list[Draft], list[Problem]]:
    """The records of a REDCap flat CSV export, per record, and every problem found."""
    reader = _Reader(dictionary, mapping)
    rows: Iterable[tuple[int, dict[str, str]]] = _records(path)
    first = True
    for line, row in rows:
        if first and mapping.record_id not in row:
            raise ReadError(f"{path.name}: no column {mapping.record_id!r} (the record id)")
        first = False
        reader.row(line, row)
    return list(reader.drafts.values()), reader.problems
