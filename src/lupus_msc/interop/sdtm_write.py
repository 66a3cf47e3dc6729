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

The metadata file ``define.json`` is not Define-XML: a JSON list of datasets, each with its
comment and every variable's name, label, dataType, key sequence and codelist, plus the
codelists' descriptions and, for closed lists, their terms.

Streaming (a registry of any size): ``Writer`` takes the domains batch by batch. CSV rows are
appended as they come; Dataset-JSON rows go to a temporary file, one JSON array a line, while the
row count and each text column's longest value are kept, and ``close`` writes the header, copies
the rows and closes the document — memory holds one batch, never the dataset.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections.abc import Iterable, Mapping
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from lupus_msc.interop.sdtm import Domain
from lupus_msc.interop.sdtm_metadata import CODELISTS, DOMAINS, TERMS, DomainSpec

VERSION = "1.1.0"
ORIGINATOR = "lupus-msc"
DEFINE_FILE = "define.json"


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _lengths(
    spec: DomainSpec, rows: Iterable[Mapping[str, Any]], known: Mapping[str, int]
) -> dict[str, int]:
    """Each text column's length: its longest value in characters (at least 1), over ``rows``
    and the lengths ``known`` from earlier rows."""
    found = {v.name: known.get(v.name, 1) for v in spec.variables if v.data_type == "string"}
    for row in rows:
        for name, longest in found.items():
            value = row[name]
            if value is not None and len(str(value)) > longest:
                found[name] = len(str(value))
    return found


def _columns(spec: DomainSpec, lengths: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Column definitions; with ``lengths``, text columns get their ``length`` too."""
    columns = []
    for variable in spec.variables:
        column: dict[str, Any] = {
            "itemOID": f"IT.{spec.name}.{variable.name}",
            "name": variable.name,
            "label": variable.label,
            "dataType": variable.data_type,
        }
        if lengths is not None and variable.name in lengths:
            column["length"] = lengths[variable.name]
        if variable.name in spec.keys:
            column["keySequence"] = spec.keys.index(variable.name) + 1
        columns.append(column)
    return columns


def header(
    spec: DomainSpec,
    study_oid: str,
    created: dt.datetime | None,
    records: int,
    lengths: Mapping[str, int],
) -> dict[str, Any]:
    """Everything of a Dataset-JSON 1.1 document but its ``rows``."""
    moment = (created or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    return {
        "datasetJSONCreationDateTime": moment.replace(tzinfo=None).isoformat(),
        "datasetJSONVersion": VERSION,
        "fileOID": f"{study_oid}.{spec.name}",
        "originator": ORIGINATOR,
        "sourceSystem": {"name": ORIGINATOR, "version": version_text()},
        "studyOID": study_oid,
        "metaDataVersionOID": f"MDV.{study_oid}",
        "metaDataRef": DEFINE_FILE,
        "itemGroupOID": f"IG.{spec.name}",
        "isReferenceData": False,
        "records": records,
        "name": spec.name,
        "label": spec.label,
        "columns": _columns(spec, lengths),
    }


def dataset_json(
    domain: Domain, study_oid: str, created: dt.datetime | None = None
) -> dict[str, Any]:
    """The Dataset-JSON 1.1 document of one domain."""
    spec = domain.spec
    lengths = _lengths(spec, domain.rows, {})
    return {
        **header(spec, study_oid, created, len(domain.rows), lengths),
        "rows": [_json_row(spec, row) for row in domain.rows],
    }


def _json_row(spec: DomainSpec, row: Mapping[str, Any]) -> list[Any]:
    return [_json_value(row[name]) for name in spec.names]


def version_text() -> str:
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


def _csv_row(spec: DomainSpec, row: Mapping[str, Any]) -> list[str]:
    return [_csv_value(row[name]) for name in spec.names]


class DomainWriter:
    """One domain's ``<dm>.json`` (Dataset-JSON) and ``<dm>.csv``, written batch by batch."""

    def __init__(self, spec: DomainSpec, out: Path, study_oid: str, created: dt.datetime) -> None:
        self.spec, self.study_oid, self.created = spec, study_oid, created
        self.json_path = out / f"{spec.name.lower()}.json"
        self.csv_path = out / f"{spec.name.lower()}.csv"
        self._rows_path = out / f".{spec.name.lower()}.rows.tmp"
        self._csv = self.csv_path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._csv)
        self._writer.writerow(spec.names)
        self._rows = self._rows_path.open("w", encoding="utf-8")
        self.records = 0
        self.lengths = _lengths(spec, (), {})

    def add(self, domain: Domain) -> None:
        if domain.spec != self.spec:
            raise ValueError(f"{domain.spec.name} rows given to the {self.spec.name} writer")
        for row in domain.rows:
            self._writer.writerow(_csv_row(self.spec, row))
            text = json.dumps(_json_row(self.spec, row), ensure_ascii=False)
            self._rows.write(("" if self.records == 0 else ",\n") + text)
            self.records += 1
        self.lengths = _lengths(self.spec, domain.rows, self.lengths)

    def close(self) -> list[Path]:
        """Finish both files (the JSON header now that the rows are known); remove the temp."""
        self._csv.close()
        self._rows.close()
        document = header(self.spec, self.study_oid, self.created, self.records, self.lengths)
        opening = json.dumps(document, ensure_ascii=False, indent=1)
        with self.json_path.open("w", encoding="utf-8") as handle:
            handle.write(opening[: opening.rindex("}")].rstrip() + ',\n "rows": [\n')
            with self._rows_path.open(encoding="utf-8") as rows:
                shutil.copyfileobj(rows, handle)
            handle.write("\n ]\n}\n")
        self._rows_path.unlink()
        return [self.json_path, self.csv_path]


class Writer:
    """Every domain of ``specs`` batch by batch into ``out``, and ``define.json`` at close."""

    def __init__(
        self,
        out: Path,
        study_oid: str,
        specs: Mapping[str, DomainSpec] = DOMAINS,
        created: dt.datetime | None = None,
    ) -> None:
        out.mkdir(parents=True, exist_ok=True)
        moment = created or dt.datetime.now(dt.UTC)
        self.out, self.specs = out, specs
        self.domains = {
            name: DomainWriter(spec, out, study_oid, moment) for name, spec in specs.items()
        }

    def add(self, domains: Mapping[str, Domain]) -> None:
        for name, domain in domains.items():
            self.domains[name].add(domain)

    def close(self) -> list[Path]:
        written = [path for writer in self.domains.values() for path in writer.close()]
        define_path = self.out / DEFINE_FILE
        define_path.write_text(json.dumps(define(self.specs), indent=1), encoding="utf-8")
        return [*written, define_path]


def define(specs: Mapping[str, DomainSpec] = DOMAINS) -> dict[str, Any]:
    """The define-style metadata: every variable of every domain, and the codelists."""
    return {
        "standard": "SDTM-style (SDTMIG variable names; not a conformant Define-XML)",
        "datasets": [
            {
                "name": spec.name,
                "label": spec.label,
                "itemGroupOID": f"IG.{spec.name}",
                "comment": spec.comment,
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
        "codelists": [
            {"name": name, "description": text, "terms": list(TERMS.get(name, ()))}
            for name, text in CODELISTS.items()
        ],
    }


def write(
    domains: Mapping[str, Domain], out: Path, study_oid: str, created: dt.datetime | None = None
) -> list[Path]:
    """``<dm>.json`` and ``<dm>.csv`` per domain (lower-case names) and ``define.json``."""
    writer = Writer(out, study_oid, {name: d.spec for name, d in domains.items()}, created)
    writer.add(domains)
    return writer.close()
