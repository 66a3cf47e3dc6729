"""``lupus-msc export sdtm|odm``: the registry as CDISC SDTM-style datasets (Dataset-JSON 1.1,
CSV, define.json) or as one ODM 1.3.2 file (issue 8).

Both read the registry ``BATCH_SIZE`` patients at a time (``interop.sdtm_export``) and append
each batch to the files, with a progress bar on stderr. ``--deidentify`` gives the Safe Harbor
form of ``interop.sdtm_deidentify`` (pseudonyms from the keys ``services.deidentification``
creates on first need, dates shifted by each patient's offset or, with ``--dates days``, only
study days; no birth date; ages over 89 as 90; no lot codes; the words of exported patients'
names, study codes and record numbers redacted from the free-text AE term and medication name,
as ``lupus-msc export csv`` does). ``--as-of`` is the data cut-off (what started later is left
out). Every option is checked before anything is written: a bad one exits 2 naming it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from lupus_msc.cli.export import (
    AsOfOption,
    DateForm,
    DatesOption,
    DeidentifyOption,
    OutOption,
    SiteOption,
    _check_out,
    _check_sites,
    _progress,
)
from lupus_msc.cli.registry import fail
from lupus_msc.cli.report import parse_date
from lupus_msc.interop.free_text import identifying_words
from lupus_msc.interop.free_text import scrub as scrub_text

if TYPE_CHECKING:
    from lupus_msc.interop.sdtm import Domain
    from lupus_msc.interop.sdtm_export import Plan
    from lupus_msc.store.database import Database

Kind = Literal["sdtm", "odm"]


class _Sink:
    """Where the batches go: the SDTM files or the ODM file."""

    def __init__(self, kind: Kind, out: Path, plan: Plan) -> None:
        from lupus_msc.interop.odm_write import OdmWriter
        from lupus_msc.interop.sdtm_write import Writer

        self.writer: Writer | OdmWriter
        if kind == "sdtm":
            self.writer = Writer(out, plan.study_oid)
        else:
            self.writer = OdmWriter(out, plan.study_oid, plan.visit_numbers)

    def add(self, domains: dict[str, Domain]) -> None:
        self.writer.add(domains)

    def close(self) -> list[Path]:
        closed = self.writer.close()
        return closed if isinstance(closed, list) else [closed]


def _run(
    database: Database,
    kind: Kind,
    out: Path,
    sites: list[str],
    private: DateForm | None,
    cut_off: dt.date | None,
) -> tuple[int, list[Path]]:
    from lupus_msc.interop import sdtm_export

    size = sdtm_export.BATCH_SIZE
    plan = sdtm_export.prepare(database, sites=sites, deidentified=private is not None)
    scrub: Callable[[str], str] = str
    if private is not None:
        scrub = partial(scrub_text, identifiers=identifying_words(database, plan.study_codes))
    count = max(1, -(-len(plan.patients) // size))
    steps = tuple(f"patients {min(i * size, len(plan.patients)):,}" for i in range(1, count + 1))
    advance, close = _progress(("reading", *steps))
    try:
        sink = _Sink(kind, out, plan)
        batches = sdtm_export.domains(
            database,
            plan,
            as_of=cut_off,
            dates="shift" if private is None else private.value,
            scrub=scrub,
            batch_size=size,
        )
        for step, domains in zip(steps, batches, strict=True):
            sink.add(domains)
            advance(step)
        return len(plan.patients), sink.close()
    finally:
        close()


def export_cdisc(
    kind: Kind,
    out: Path,
    deidentify: bool,
    dates: DateForm | None,
    site: list[str] | None,
    as_of: str | None,
) -> None:
    """Check the options (exit 2 naming the first bad one), then export."""
    from lupus_msc.cli.registry import open_database

    if dates is not None and not deidentify:
        raise fail("--dates: only with --deidentify (an identified export keeps real dates)")
    cut_off = parse_date(as_of, "--as-of")
    _check_out(out)
    sites = list(dict.fromkeys(site or ()))
    database = open_database()
    try:
        if sites:
            _check_sites(database, sites)
        private = (dates or DateForm.shift) if deidentify else None
        patients, paths = _run(database, kind, out, sites, private, cut_off)
    finally:
        database.dispose()
    form = f"de-identified (dates: {private.value}) " if private is not None else ""
    names = ", ".join(path.name for path in paths)
    typer.echo(f"{form}{patients} patients → {names} in {out}")


def export_sdtm(
    out: OutOption,
    deidentify: DeidentifyOption = False,
    dates: DatesOption = None,
    site: SiteOption = None,
    as_of: AsOfOption = None,
) -> None:
    """SDTM-style DM, AE, CM, EX, LB, VS, QS, RS as Dataset-JSON 1.1 and CSV, and define.json."""
    export_cdisc("sdtm", out, deidentify, dates, site, as_of)


def export_odm(
    out: OutOption,
    deidentify: DeidentifyOption = False,
    dates: DatesOption = None,
    site: SiteOption = None,
    as_of: AsOfOption = None,
) -> None:
    """CDISC ODM 1.3.2 (odm.xml): study events, forms, items and the clinical data."""
    export_cdisc("odm", out, deidentify, dates, site, as_of)


def register_cdisc(app: typer.Typer) -> None:
    """Add ``sdtm`` and ``odm`` to the ``export`` command group."""
    app.command("sdtm")(export_sdtm)
    app.command("odm")(export_odm)
