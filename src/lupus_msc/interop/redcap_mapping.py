"""The mapping file of a REDCap import: which REDCap field, event, repeating instrument and choice
code stands for which registry field (issue 8, REDCap; a clinic migrating its own project
writes one, our own export imports with ``redcap_identity_mapping.yaml``).

YAML or JSON::

    record_id: record_id          # the REDCap field that names a record (one patient)
    events:                       # unique event name -> patient | visit:<protocol visit code>
      registration_arm_1: patient
      month3_arm_1: visit:month3
    repeating:                    # repeating instrument -> medication | adverse_event
      medications: medication
    fields:                       # REDCap field -> registry target (redcap_schema) | ignore
      dob: patient.date_of_birth
      sl_rash: visit.sledai2k.rash
    choices:                      # REDCap field -> {REDCap code: registry value}
      sex: {"1": female, "2": male}

or CSV with the columns ``section,source,target``: one row per entry, ``section`` one of
``record_id``, ``event``, ``repeating``, ``field``, ``choice``; a choice's source is
``field=code``. A classic (not longitudinal) project has no event column: map the event ``""``.

Every field that holds a value must be mapped (to ``ignore`` if it is not to be imported), so
nothing is dropped silently. ``yesno`` and ``truefalse`` fields need no choices (REDCap codes
them 1 yes/true, 0 no/false).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lupus_msc.interop.redcap_schema import FIELDS, REPEATING, events
from lupus_msc.protocol import Protocol

IGNORE = "ignore"
PATIENT = "patient"
VISIT_PREFIX = "visit:"
KINDS = frozenset(REPEATING.values())
TARGETS = frozenset({spec.target for spec in FIELDS})
IDENTITY_FILE = Path(__file__).with_name("redcap_identity_mapping.yaml")
"""The mapping that imports what ``lupus-msc export redcap`` writes."""


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the entry."""


@dataclass(frozen=True)
class Mapping:
    record_id: str
    events: dict[str, str]
    repeating: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    choices: dict[str, dict[str, str]] = field(default_factory=dict)

    def visit_code(self, event: str) -> str | None:
        target = self.events.get(event, "")
        return target.removeprefix(VISIT_PREFIX) if target.startswith(VISIT_PREFIX) else None


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise MappingError(f"{where}: must be a mapping of names to names")
    return {str(key): str(item) for key, item in value.items()}


def _check(mapping: Mapping) -> Mapping:
    for event, target in mapping.events.items():
        if target != PATIENT and not (target.startswith(VISIT_PREFIX) and len(target) > 6):
            raise MappingError(f"events.{event}: {target!r} is not 'patient' or 'visit:<code>'")
    for form, kind in mapping.repeating.items():
        if kind not in KINDS:
            raise MappingError(f"repeating.{form}: {kind!r} is not one of {sorted(KINDS)}")
    for name, target in mapping.fields.items():
        if target != IGNORE and target not in TARGETS:
            raise MappingError(f"fields.{name}: no registry field {target!r} (see redcap_schema)")
    unknown = set(mapping.choices) - set(mapping.fields)
    if unknown:
        raise MappingError(f"choices.{sorted(unknown)[0]}: the field is not in fields")
    return mapping


def from_data(data: Any) -> Mapping:
    """A mapping from its parsed YAML or JSON form (module docstring)."""
    if not isinstance(data, dict) or not isinstance(data.get("record_id"), str):
        raise MappingError("record_id: the REDCap field naming a record is required")
    choices = data.get("choices") or {}
    if not isinstance(choices, dict):
        raise MappingError("choices: must map fields to {code: value}")
    return _check(
        Mapping(
            record_id=data["record_id"],
            events=_strings(data.get("events") or {}, "events"),
            repeating=_strings(data.get("repeating") or {}, "repeating"),
            fields=_strings(data.get("fields") or {}, "fields"),
            choices={name: _strings(codes, f"choices.{name}") for name, codes in choices.items()},
        )
    )


def _from_csv(text: str) -> Mapping:
    data: dict[str, Any] = {"events": {}, "repeating": {}, "fields": {}, "choices": {}}
    sections = {"event": "events", "repeating": "repeating", "field": "fields"}
    for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        section, source, target = (row.get(key) or "" for key in ("section", "source", "target"))
        if section == "record_id":
            data["record_id"] = target
        elif section in sections:
            data[sections[section]][source] = target
        elif section == "choice" and "=" in source:
            name, code = source.split("=", 1)
            data["choices"].setdefault(name, {})[code] = target
        else:
            raise MappingError(f"line {number}: section {section!r} / source {source!r} unknown")
    return from_data(data)


def load(path: Path) -> Mapping:
    """The mapping in ``path`` (.yaml, .yml, .json or .csv)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MappingError(f"cannot read {path}: {error.strerror}") from error
    suffix = path.suffix.lower()
    try:
        if suffix in {".yaml", ".yml"}:
            return from_data(yaml.safe_load(text))
        if suffix == ".json":
            return from_data(json.loads(text))
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise MappingError(f"{path.name}: not valid {suffix[1:].upper()}: {error}") from error
    if suffix == ".csv":
        return _from_csv(text)
    raise MappingError(f"{path.name}: give a .yaml, .json or .csv mapping file")


def identity(protocol: Protocol) -> Mapping:
    """The mapping for the files ``lupus-msc export redcap`` writes under ``protocol``."""
    return Mapping(
        record_id="record_id",
        events={
            event.unique: PATIENT if event.visit_code is None else VISIT_PREFIX + event.visit_code
            for event in events(protocol)
        },
        repeating=dict(REPEATING),
        fields={spec.name: spec.target for spec in FIELDS},
        choices={spec.name: spec.codes for spec in FIELDS if spec.choices},
    )


def identity_yaml(protocol: Protocol) -> str:
    """The identity mapping as the YAML file shipped beside this module."""
    mapping = identity(protocol)
    data = {
        "record_id": mapping.record_id,
        "events": mapping.events,
        "repeating": mapping.repeating,
        "fields": mapping.fields,
        "choices": mapping.choices,
    }
    header = (
        "# Identity mapping: imports the files written by `lupus-msc export redcap` under the\n"
        "# default protocol (see lupus_msc/interop/redcap_mapping.py for the format).\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
