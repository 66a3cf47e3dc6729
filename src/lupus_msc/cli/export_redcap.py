"""``lupus-msc export redcap``: the registry as a REDCap project — data dictionary, events,
instrument–event mapping, repeating instruments and records (``interop.redcap_export``), under
the newest protocol's visit schedule; ``--deidentify`` in Safe Harbor form, ``--site`` for some
sites only. Records are streamed 1,000 patients at a time, with a progress bar on stderr."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import typer

from lupus_msc.cli.export import (
    DeidentifyOption,
    OutOption,
    SiteOption,
    _check_out,
    _check_sites,
    _progress,
)
from lupus_msc.cli.registry import fail, open_database
from lupus_msc.interop.free_text import identifying_words
from lupus_msc.interop.free_text import scrub as scrub_text
from lupus_msc.interop.redcap_export import BATCH, FILES, Counts, Deidentify
from lupus_msc.store.database import Database


def _deidentify(database: Database) -> Deidentify:
    from lupus_msc.services.deidentification import keys_for

    def scrub(codes: Sequence[str]) -> Callable[[str], str]:
        words = identifying_words(database, codes)
        return lambda text: scrub_text(text, words)

    return Deidentify(keys=lambda codes: keys_for(database, None, codes), scrub=scrub)


def _patients(database: Database, sites: list[str]) -> int:
    from sqlalchemy import func, select

    from lupus_msc.store.models import Patient, Site

    query = select(func.count()).select_from(Patient).join(Site, Site.id == Patient.site_id)
    if sites:
        query = query.where(Site.code.in_(sites))
    with database.reads() as session:
        return session.scalar(query) or 0


def export_redcap(
    out: OutOption, deidentify: DeidentifyOption = False, site: SiteOption = None
) -> None:
    """The registry as a REDCap project: data dictionary, events, instrument-event mapping,
    repeating instruments and records (flat CSV), ready for REDCap's import."""
    from lupus_msc.interop.redcap_export import write_metadata, write_records
    from lupus_msc.services import protocols
    from lupus_msc.services.errors import Refused

    _check_out(out)
    sites = list(dict.fromkeys(site or ()))
    database = open_database()
    try:
        if sites:
            _check_sites(database, sites)
        with database.reads() as session:
            try:
                protocol = protocols.definition(protocols.newest(session))
            except Refused as error:
                raise fail("no protocol in the registry: run `lupus-msc init`") from error
        batches = max(1, -(-_patients(database, sites) // BATCH))
        steps = ("dictionary", *(f"patients, batch {n + 1}/{batches}" for n in range(batches)))
        advance, close = _progress((*steps, "done"))
        try:
            paths = write_metadata(out, protocol)
            advance(steps[1])
            with (out / FILES["records"]).open("w", newline="", encoding="utf-8") as stream:
                counts: Counts = write_records(
                    stream,
                    database.reads,
                    protocol,
                    site_codes=sites or None,
                    deidentify=_deidentify(database) if deidentify else None,
                    on_batch=lambda _: advance("patients"),
                )
        finally:
            close()
    finally:
        database.dispose()
    form = "de-identified " if deidentify else ""
    names = ", ".join(path.name for path in [*paths, out / FILES["records"]])
    typer.echo(
        f"{form}{counts.patients} patients, {counts.visits} visits, {counts.medications} "
        f"medications, {counts.adverse_events} adverse events → {names} in {out}"
    )


def register_redcap_export(app: typer.Typer) -> None:
    app.command("redcap")(export_redcap)
