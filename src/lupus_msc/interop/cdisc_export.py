"""The registry written as CDISC SDTM-style datasets or as one ODM 1.3.2 file (issue 8).

Both read the registry ``sdtm_export.BATCH_SIZE`` patients at a time and append each batch to
the files (``sdtm_write.Writer``: Dataset-JSON 1.1, CSV and define.json; ``odm_write``:
odm.xml). De-identified (``dates`` given), the domains are ``sdtm_deidentify``'s Safe Harbor
form, the keys created on first need as ``actor``, and the words of the exported patients'
names, study codes and record numbers redacted from the free-text AE term and medication name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lupus_msc.interop import sdtm_export
from lupus_msc.interop.free_text import identifying_words
from lupus_msc.interop.free_text import scrub as scrub_text
from lupus_msc.interop.progress import Progress, batch_steps, silent
from lupus_msc.interop.sdtm_deidentify import Dates

if TYPE_CHECKING:
    from lupus_msc.interop.sdtm import Domain
    from lupus_msc.interop.sdtm_export import Plan
    from lupus_msc.services.access import Actor
    from lupus_msc.store.database import Database

Kind = Literal["sdtm", "odm"]


@dataclass(frozen=True)
class Written:
    patients: int
    paths: list[Path]


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


def export_cdisc(
    database: Database,
    kind: Kind,
    out: Path,
    *,
    sites: Sequence[str] = (),
    dates: Dates | None = None,
    cut_off: dt.date | None = None,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> Written:
    """Write the patients of ``sites`` (every site when empty; already scoped to ``actor``) to
    ``out``: identified, or de-identified with ``dates`` shifted or as study days; records that
    started after ``cut_off`` are left out."""
    size = sdtm_export.BATCH_SIZE
    plan = sdtm_export.prepare(database, sites=sites, deidentified=dates is not None, actor=actor)
    scrub: Callable[[str], str] = str
    if dates is not None:
        scrub = partial(scrub_text, identifiers=identifying_words(database, plan.study_codes))
    steps = batch_steps(len(plan.patients), size)
    advance, close = (progress or silent)(("reading", *steps))
    try:
        sink = _Sink(kind, out, plan)
        batches = sdtm_export.domains(
            database,
            plan,
            as_of=cut_off,
            dates=dates or "shift",
            scrub=scrub,
            batch_size=size,
        )
        for step, domains in zip(steps, batches, strict=True):
            sink.add(domains)
            advance(step)
        return Written(len(plan.patients), sink.close())
    finally:
        close()
