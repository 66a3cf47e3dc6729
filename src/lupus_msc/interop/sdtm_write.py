"""SDTM domains written as CDISC Dataset-JSON 1.1 and CSV, with a define-style metadata file.

Dataset-JSON 1.1 structure used (one dataset per file):

* top level: ``datasetJSONCreationDateTime``, ``datasetJSONVersion`` ("1.1.0"), ``fileOID``,
  ``originator``, ``sourceSystem`` (``name``, ``version``), ``studyOID``,
  ``metaDataVersionOID``, ``metaDataRef`` (the define-style file), ``itemGroupOID``
  (``IG.<domain>``), ``isReferenceData`` (false: subject data), ``records`` (the row count),
  ``name``, ``label``, ``columns``, ``rows``;
* a column: ``itemOID`` (``IT.<domain>.<variable>``), ``name``, ``label``, ``dataType``
  (string, integer, decimal, date, datetime), ``length`` for text columns (the longest value,
  in characters) and ``keySequence`` for key variables;
* ``rows``: one array per record, values in column order, ``null`` for a missing value.
  ``decimal`` values are JSON strings (exact decimal text, as 1.1 asks for decimals), integers
  JSON numbers, dates and date-times ISO 8601 strings (no ``targetDataType``: the receiver
  keeps them as text, as SDTM ``--DTC`` variables are).

Checked against the structure of the published 1.1.0 examples (e.g. the CDISC ADaM MSG ADSL
file in Atorus' datasetjson tests); not validated against the official JSON schema here, and
no ``ITEMGROUPDATASEQ`` column is written (1.0 required it; 1.1 examples still carry it).

The metadata file ``define.json`` is not Define-XML: a JSON list of datasets, each with every
variable's name, label, dataType, key sequence and codelist, plus the codelists' descriptions.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from lupus_msc.interop.sdtm import Domain
from lupus_msc.interop.sdtm_metadata import CODELISTS, DOMAINS, DomainSpec

VERSION = "1.1.0"
ORIGINATOR = "lupus-msc"
DEFINE_FILE = "define.json"


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _length(domain: Domain, name: str) -> int:
    """A text column's length: its longest value in characters (at least 1)."""
    lengths = [len(str(row[name])) for row in domain.rows if row[name] is not None]
    return max([1, *lengths])


def _columns(spec: DomainSpec, domain: Domain | None = None) -> list[dict[str, Any]]:
    """Column definitions; with the domain's rows, text columns get their ``length`` too."""
    columns = []
    for variable in spec.variables:
        column: dict[str, Any] = {
            "itemOID": f"IT.{spec.name}.{variable.name}",
            "name": variable.name,
            "label": variable.label,
            "dataType": variable.data_type,
        }
        if domain is not None and variable.data_type == "string":
            column["length"] = _length(domain, variable.name)
        if variable.name in spec.keys:
            column["keySequence"] = spec.keys.index(variable.name) + 1
        columns.append(column)
    return columns


def dataset_json(
    domain: Domain, study_oid: str, created: dt.datetime | None = None
) -> dict[str, Any]:
    """The Dataset-JSON 1.1 document of one domain."""
    spec = domain.spec
    moment = (created or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    return {
        "datasetJSONCreationDateTime": moment.replace(tzinfo=None).isoformat(),
        "datasetJSONVersion": VERSION,
        "fileOID": f"{study_oid}.{spec.name}",
        "originator": ORIGINATOR,
        "sourceSystem": {"name": ORIGINATOR, "version": _version()},
        "studyOID": study_oid,
        "metaDataVersionOID": f"MDV.{study_oid}",
        "metaDataRef": DEFINE_FILE,
        "itemGroupOID": f"IG.{spec.name}",
        "isReferenceData": False,
        "records": len(domain.rows),
        "name": spec.name,
        "label": spec.label,
        "columns": _columns(spec, domain),
        "rows": [[_json_value(row[name]) for name in spec.names] for row in domain.rows],
    }


def _version() -> str:
    try:
        return version("lupus-msc")
    except PackageNotFoundError:  # pragma: no cover - the package is always installed here
        return "0"


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def write_csv(domain: Domain, path: Path) -> None:
    """The domain as CSV: a header of variable names, empty cells for missing values."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(domain.spec.names)
        for row in domain.rows:
            writer.writerow([_csv_value(row[name]) for name in domain.spec.names])


def define(specs: Mapping[str, DomainSpec] = DOMAINS) -> dict[str, Any]:
    """The define-style metadata: every variable of every domain, and the codelists."""
    return {
        "standard": "SDTM-style (SDTMIG variable names; not a conformant Define-XML)",
        "datasets": [
            {
                "name": spec.name,
                "label": spec.label,
                "itemGroupOID": f"IG.{spec.name}",
                "variables": [
                    {
                        "itemOID": column["itemOID"],
                        "name": variable.name,
                        "label": variable.label,
                        "dataType": variable.data_type,
                        "keySequence": column.get("keySequence"),
                        "codelist": variable.codelist,
                    }
                    for variable, column in zip(spec.variables, _columns(spec), strict=True)
                ],
            }
            for spec in specs.values()
        ],
        "codelists": [{"name": name, "description": text} for name, text in CODELISTS.items()],
    }


def write(
    domains: Mapping[str, Domain], out: Path, study_oid: str, created: dt.datetime | None = None
) -> list[Path]:
    """``<dm>.json`` and ``<dm>.csv`` per domain (lower-case names) and ``define.json``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, domain in domains.items():
        json_path = out / f"{name.lower()}.json"
        document = dataset_json(domain, study_oid, created)
        json_path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        csv_path = out / f"{name.lower()}.csv"
        write_csv(domain, csv_path)
        written += [json_path, csv_path]
    define_path = out / DEFINE_FILE
    specs = {name: domain.spec for name, domain in domains.items()}
    define_path.write_text(json.dumps(define(specs), indent=1), encoding="utf-8")
    return [*written, define_path]
