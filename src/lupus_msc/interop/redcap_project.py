"""The registry written as a REDCap project (issue 8): the data dictionary, events,
instrument–event mapping and repeating instruments of the newest protocol's visit schedule
(``redcap_export.write_metadata``), then the records file streamed ``redcap_export.BATCH``
patients at a time. De-identified, the records are in Safe Harbor form: pseudonyms, dates
shifted by each patient's secret offset (keys created on first need as ``actor``), identifying
words redacted from free text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lupus_msc.interop.free_text import identifying_words
from lupus_msc.interop.free_text import scrub as scrub_text
from lupus_msc.interop.progress import Progress, batch_steps, silent
from lupus_msc.interop.redcap_export import BATCH, FILES, Counts, Deidentify

if TYPE_CHECKING:
    from lupus_msc.services.access import Actor
    from lupus_msc.store.database import Database


@dataclass(frozen=True)
class Written:
    counts: Counts
    paths: list[Path]


def _deidentify(database: Database, actor: Actor | None) -> Deidentify:
    from lupus_msc.services.deidentification import keys_for

    def scrub(codes: Sequence[str]) -> Callable[[str], str]:
        words = identifying_words(database, codes)
        return lambda text: scrub_text(text, words)

    return Deidentify(keys=lambda codes: keys_for(database, actor, codes), scrub=scrub)


def _patients(database: Database, sites: Sequence[str]) -> int:
    from sqlalchemy import func, select

    from lupus_msc.store.models import Patient, Site

    query = select(func.count()).select_from(Patient).join(Site, Site.id == Patient.site_id)
    if sites:
        query = query.where(Site.code.in_(list(sites)))
    with database.reads() as session:
        return session.scalar(query) or 0


def export_project(
    database: Database,
    out: Path,
    *,
    sites: Sequence[str] = (),
    deidentified: bool = False,
    actor: Actor | None = None,
    progress: Progress | None = None,
) -> Written:
    """Write the project of the patients of ``sites`` (every site when empty; already scoped
    to ``actor``) to ``out``. Refused when the registry holds no protocol."""
    from lupus_msc.interop.redcap_export import write_metadata, write_records
    from lupus_msc.services import protocols

    with database.reads() as session:
        protocol = protocols.definition(protocols.newest(session))
    steps = batch_steps(_patients(database, sites), BATCH)
    advance, close = (progress or silent)(("dictionary", *steps))
    following = iter((*steps, "done"))
    try:
        paths = write_metadata(out, protocol)
        advance(next(following))
        records = out / FILES["records"]
        with records.open("w", newline="", encoding="utf-8") as stream:
            counts = write_records(
                stream,
                database.reads,
                protocol,
                site_codes=list(sites) or None,
                deidentify=_deidentify(database, actor) if deidentified else None,
                on_batch=lambda _: advance(next(following, "done")),
            )
    finally:
        close()
    return Written(counts, [*paths, records])
