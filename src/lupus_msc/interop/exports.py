"""One export, asked for the same way on the command line and through the API (issue 8).

An ``ExportRequest`` names the format — the analysis dataset as ``csv`` or ``parquet``, CDISC
``sdtm`` or ``odm``, a ``redcap`` project, ``fhir`` NDJSON — and its options; ``check`` refuses
options the format does not take, naming the field, before anything is read or written.
``scope_sites`` turns the sites asked for into those the actor may export (a site-bound user
exports their own sites, never "every site"); ``run`` checks the actor may receive the form
asked for (identified data needs ``read-identity``: the statistician receives de-identified
exports only) and writes the files, reporting each step to a ``progress.Progress``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from lupus_msc.interop.progress import Progress, batch_steps, silent
from lupus_msc.services.access import Action, require
from lupus_msc.services.errors import Forbidden, invalid

if TYPE_CHECKING:
    from lupus_msc.services.access import Actor
    from lupus_msc.store.database import Database

Format = Literal["csv", "parquet", "sdtm", "odm", "redcap", "fhir"]
FORMATS: tuple[Format, ...] = get_args(Format)
DateForm = Literal["shift", "days"]
DAY_NUMBERS = ("csv", "parquet", "sdtm", "odm")
"""Formats that can give dates as days from the first infusion (REDCap and FHIR need dates)."""
CUT_OFF = ("csv", "parquet", "sdtm", "odm")
"""Formats that take a data cut-off (REDCap and FHIR export everything recorded)."""


@dataclass(frozen=True)
class ExportRequest:
    format: Format
    deidentified: bool = False
    dates: DateForm | None = None
    """With ``deidentified``: ``shift`` (each patient's secret offset, the default) or ``days``."""
    sites: tuple[str, ...] = ()
    """Site codes; none: every site the actor may export."""
    as_of: dt.date | None = None
    types: tuple[str, ...] | None = None
    """FHIR resource types (FHIR only; none: every type)."""
    batch_size: int | None = None
    """Patients per batch of the analysis dataset (CSV and Parquet only)."""

    @property
    def date_form(self) -> DateForm | None:
        """How dates are written when de-identified; None when identified."""
        return (self.dates or "shift") if self.deidentified else None


def check(request: ExportRequest) -> ExportRequest:
    """The request with its FHIR types checked; Invalid naming the first option the format
    does not take."""
    kind = request.format
    if request.dates is not None and not request.deidentified:
        raise invalid("dates", "only when de-identifying (an identified export keeps real dates)")
    if request.dates == "days" and kind not in DAY_NUMBERS:
        only = _list(DAY_NUMBERS)
        raise invalid("dates", f"the {kind} export shifts dates; day numbers only for {only}")
    if request.as_of is not None and kind not in CUT_OFF:
        raise invalid("as_of", f"the {kind} export has no cut-off; only {_list(CUT_OFF)} do")
    if request.batch_size is not None and kind not in ("csv", "parquet"):
        raise invalid("batch_size", "only for csv and parquet")
    if request.types is None:
        return request
    if kind != "fhir":
        raise invalid("types", "resource types are only for fhir")
    from dataclasses import replace

    from lupus_msc.interop.fhir_bulk import check_types
    from lupus_msc.services.errors import Invalid

    try:
        return replace(request, types=check_types(request.types))
    except Invalid as error:
        raise invalid("types", error.message.removeprefix("_type: ")) from error


def _list(kinds: Iterable[str]) -> str:
    return ", ".join(kinds)


def scope_sites(database: Database, actor: Actor | None, codes: Iterable[str]) -> tuple[str, ...]:
    """The site codes to export: those asked for, each one the registry holds (Invalid
    otherwise) and the actor is a member of (Forbidden otherwise); none asked for, every site
    for the system and admins (the empty tuple) and the actor's own sites for anyone else."""
    from sqlalchemy import select

    from lupus_msc.store.models import Site

    asked = tuple(dict.fromkeys(codes))
    with database.reads() as session:
        known = {code: site_id for code, site_id in session.execute(select(Site.code, Site.id))}
    visible = sorted(c for c, i in known.items() if actor is None or actor.sees_site(i))
    for code in asked:
        if code not in known:
            shown = ", ".join(visible) or "none"
            raise invalid("sites", f"no site {code!r} in the registry (sites: {shown})")
        if code not in visible:
            message = f"you are not a member of site {code}"
            raise Forbidden(f"sites: {message}", [("sites", message)])
    if asked or actor is None or actor.all_sites:
        return asked
    if not visible:
        message = "you are not a member of any site"
        raise Forbidden(f"sites: {message}", [("sites", message)])
    return tuple(visible)


def authorize(actor: Actor, request: ExportRequest) -> None:
    """Forbidden unless the actor may read patients and, for an identified export, their
    identity (the statistician receives de-identified exports only)."""
    require(actor, Action.READ_PATIENTS)
    if not request.deidentified and not actor.may(Action.READ_IDENTITY):
        message = f"the {actor.role.value} role receives de-identified exports only"
        raise Forbidden(f"deidentify: {message}", [("deidentify", message)])


def within_sites(database: Database, actor: Actor, request: ExportRequest) -> bool:
    """Whether the actor may (still) export the request's sites: every one of them a site
    they are a member of; every site (none named) for admins alone."""
    from lupus_msc.services.errors import ServiceError

    try:
        return scope_sites(database, actor, request.sites) == request.sites
    except ServiceError:
        return False


def still_allowed(database: Database, actor: Actor, request: ExportRequest) -> bool:
    """Whether the actor may (still) receive this export: their role and sites today."""
    from lupus_msc.services.errors import ServiceError

    try:
        authorize(actor, request)
    except ServiceError:
        return False
    return within_sites(database, actor, request)


def preflight(database: Database, request: ExportRequest) -> None:
    """Refuse now what the export would refuse later: a REDCap project needs a protocol."""
    if request.format == "redcap":
        from lupus_msc.services import protocols

        with database.reads() as session:
            protocols.newest(session)


@dataclass(frozen=True)
class Exported:
    """What an export wrote: the number of patients, the files and a one-line summary."""

    patients: int
    paths: list[Path]
    summary: str
    counts: dict[str, int] = field(default_factory=dict)
    """Records per file name, where the format counts them (FHIR: resources per NDJSON file)."""


def run(
    database: Database,
    request: ExportRequest,
    out: Path,
    *,
    actor: Actor | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    processes: int | None = None,
) -> Exported:
    """Write the export to ``out`` (created). ``request`` is checked (``check``) and its sites
    scoped (``scope_sites``) by the caller; ``run`` refuses sites an actor may not export all
    the same. ``actor`` None is the system (the command line). The export stops with
    ``progress.Cancelled`` between two steps once ``cancelled()`` is true (or the progress
    display raises it). ``processes`` caps the worker processes of a FHIR export (default:
    ``fhir_bulk.WORKERS``)."""
    if actor is not None:
        authorize(actor, request)
        if not within_sites(database, actor, request):
            raise Forbidden("sites: not all of them are yours", [("sites", "not all yours")])
    out.mkdir(parents=True, exist_ok=True)
    progress = progress or silent
    if request.format in ("csv", "parquet"):
        return _dataset(database, request, out, actor, progress)
    if request.format in ("sdtm", "odm"):
        return _cdisc(database, request, out, actor, progress)
    if request.format == "redcap":
        return _redcap(database, request, out, actor, progress)
    return _fhir(database, request, out, actor, progress, cancelled, processes)


def _dataset(
    database: Database, request: ExportRequest, out: Path, actor: Actor | None, progress: Progress
) -> Exported:
    from lupus_msc.interop.dataset_export import BATCH_SIZE, export_batches
    from lupus_msc.services.fields import today

    kind: Literal["csv", "parquet"] = "csv" if request.format == "csv" else "parquet"
    totals = export_batches(
        database, out, kind, cut_off=request.as_of or today(), dates=request.date_form,
        sites=list(request.sites), batch_size=request.batch_size or BATCH_SIZE,
        progress=progress, actor=actor,
    )  # fmt: skip
    summary = (
        f"{totals.patients} patients, {totals.visits} visits, "
        f"{totals.adverse_events} adverse events"
    )
    return Exported(totals.patients, totals.paths, summary)


def _cdisc(
    database: Database, request: ExportRequest, out: Path, actor: Actor | None, progress: Progress
) -> Exported:
    from lupus_msc.interop.cdisc_export import export_cdisc

    kind: Literal["sdtm", "odm"] = "sdtm" if request.format == "sdtm" else "odm"
    written = export_cdisc(
        database, kind, out, sites=request.sites, dates=request.date_form,
        cut_off=request.as_of, actor=actor, progress=progress,
    )  # fmt: skip
    return Exported(written.patients, written.paths, f"{written.patients} patients")


def _redcap(
    database: Database, request: ExportRequest, out: Path, actor: Actor | None, progress: Progress
) -> Exported:
    from lupus_msc.interop.redcap_project import export_project

    written = export_project(
        database, out, sites=request.sites, deidentified=request.deidentified, actor=actor,
        progress=progress,
    )  # fmt: skip
    counts = written.counts
    summary = (
        f"{counts.patients} patients, {counts.visits} visits, {counts.medications} "
        f"medications, {counts.adverse_events} adverse events"
    )
    return Exported(counts.patients, written.paths, summary)


def _fhir(
    database: Database,
    request: ExportRequest,
    out: Path,
    actor: Actor | None,
    progress: Progress,
    cancelled: Callable[[], bool] | None,
    processes: int | None,
) -> Exported:
    from lupus_msc.interop.fhir_bulk import BATCH, export_ndjson, patients_of

    sites = list(request.sites) or None
    steps = batch_steps(len(patients_of(database, actor, sites)), BATCH)
    advance, close = progress(steps)
    following = iter((*steps[1:], "done"))
    try:
        result = export_ndjson(
            database, actor, out, types=request.types, site_codes=sites,
            deidentify_all=request.deidentified, cancelled=cancelled, workers=processes,
            on_batch=lambda _done, _total: advance(next(following, "done")),
        )  # fmt: skip
    finally:
        close()
    listed = ", ".join(f"{result.counts[kind]:,} {kind}" for kind in result.files)
    summary = f"{result.patients:,} patients: {listed or 'no resource'}"
    counts = {path.name: result.counts[kind] for kind, path in result.files.items()}
    return Exported(result.patients, list(result.files.values()), summary, counts)
