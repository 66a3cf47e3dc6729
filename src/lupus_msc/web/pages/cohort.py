"""Pages: the Cohort page — the program's outcomes for the patients of the user's sites, with the
outcomes report's tables and interactive charts, filtered by site, tissue source, dose band and
period of first infusion (issue 7, "Reports"); and the offline report (HTML or PDF) of the same
filter.

For physicians, monitors and statisticians (``Action.READ_OUTCOMES``). Only aggregates are shown:
no name, date of birth, record number or study code, so the statistician's de-identified view
and everyone else's are the same page. A user's cohort is the infused patients of their own sites
(``Actor.site_ids``); the analysis dataset of those sites is kept in memory while the registry is
unchanged (``web.cohort_outcomes.DatasetCache``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lupus_msc.analytics import cohort_filter
from lupus_msc.analytics.dataset import AnalysisDataset
from lupus_msc.analytics.registry_extract import HORIZON_DAYS as WINDOW_DAYS
from lupus_msc.analytics.report_outcomes import outcomes_report
from lupus_msc.analytics.report_render import outcomes_html, to_pdf
from lupus_msc.services.access import Action, Actor
from lupus_msc.services.dashboard import Snapshot
from lupus_msc.services.errors import Invalid, NotFound
from lupus_msc.services.fields import today
from lupus_msc.store.models import Site
from lupus_msc.web.cohort_outcomes import (
    DatasetCache,
    cached_dataset,
    cohort_report,
    trajectories,
)
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.pages import cohort_query
from lupus_msc.web.pages.cohort_charts import chart_data
from lupus_msc.web.pages.cohort_tables import render_tables
from lupus_msc.web.session import WebUser, WebUserDep, require_action
from lupus_msc.web.templating import render

router = APIRouter(include_in_schema=False)


def dataset_cache(request: Request) -> DatasetCache:
    """The application's cache of analysis datasets (one per app, so one per database)."""
    cache: DatasetCache | None = getattr(request.app.state, "cohort_datasets", None)
    if cache is None:
        cache = request.app.state.cohort_datasets = DatasetCache(request.app.state.database)
    return cache


def _site_options(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """The sites whose patients ``actor`` sees (every site for an admin): code, and label."""
    query = select(Site.code, Site.name).order_by(Site.code)
    if not actor.all_sites:
        query = query.where(Site.id.in_(actor.site_ids))
    return [(code, f"{code} · {name}") for code, name in session.execute(query)]


@dataclass(frozen=True)
class Selection:
    """What a request asks for and what it gets: the filters, the user's sites, the cached
    dataset of those sites and the sub-cohort the filters keep (None when there is nothing to
    analyse, or the filters are wrong)."""

    query: cohort_query.CohortQuery
    sites: list[tuple[str, str]]
    snapshot: Snapshot | None
    chosen: AnalysisDataset | None

    @property
    def cohort(self) -> cohort_filter.CohortFilter:
        """The filter, naming the user's sites when no site was chosen (the cohort is never
        "all patients" of the registry, only of the user's sites)."""
        chosen = self.query.cohort or cohort_filter.CohortFilter()
        if not chosen.sites:
            chosen = dataclasses.replace(chosen, sites=tuple(code for code, _ in self.sites))
        return chosen


def _select(request: Request, registry: DatabaseDep, user: WebUser) -> Selection:
    require_action(user, Action.READ_OUTCOMES)
    with registry.reads() as session:
        sites = _site_options(session, user.actor)
        codes = tuple(code for code, _ in sites)
        query = cohort_query.read(request.query_params, codes)
        if query.cohort is None or not codes:
            return Selection(query, sites, None, None)
        snapshot = cached_dataset(dataset_cache(request), session, codes, today())
    dataset: AnalysisDataset | None = snapshot.figures["dataset"]
    selection = Selection(query, sites, snapshot, None)
    if dataset is None:
        return selection
    chosen = cohort_filter.select(dataset, selection.cohort)
    return dataclasses.replace(selection, chosen=chosen if chosen.patients.height else None)


@router.get("/cohort", response_class=HTMLResponse)
def cohort_page(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    """The cohort's outcomes: tables, charts and the published evidence beside them."""
    selection = _select(request, registry, user)
    query = selection.query
    context: dict[str, Any] = {
        "values": query.values,
        "errors": query.errors,
        "message": "Please correct the filters marked below." if query.errors else None,
        "sites": selection.sites,
        "sources": cohort_query.SOURCES,
        "doses": cohort_query.DOSE_BANDS,
        "snapshot": selection.snapshot,
        "cohort_text": selection.cohort.describe(),
        "report": None,
        "window_days": WINDOW_DAYS,
    }
    if selection.chosen is not None:
        report = cohort_report(selection.chosen, cohort=selection.cohort)
        points = trajectories(selection.chosen)
        context |= {
            "report": report,
            "tables": render_tables(report, points),
            "charts": chart_data(report, points),
        }
    status = 422 if query.errors else 200
    return render(request, "cohort/page.html", context, user=user, status=status)


Kind = Literal["html", "pdf"]
MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def _report(request: Request, registry: DatabaseDep, user: WebUser, kind: Kind) -> Response:
    selection = _select(request, registry, user)
    if selection.query.errors:
        name, problem = next(iter(selection.query.errors.items()))
        raise Invalid(f"{name}: {problem}", list(selection.query.errors.items()))
    if selection.chosen is None:
        raise NotFound("no infused patient with a recorded visit matches this filter")
    report = outcomes_report(selection.chosen, cohort=selection.cohort)
    html = outcomes_html(report)
    content = to_pdf(html) if kind == "pdf" else html.encode("utf-8")
    filename = f"outcomes-report-{report.as_of.isoformat()}.{kind}"
    return Response(
        content,
        media_type=MEDIA[kind],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/cohort/report.html")
def cohort_report_html(request: Request, registry: DatabaseDep, user: WebUserDep) -> Response:
    """The outcomes report of the page's filter as one self-contained HTML file."""
    return _report(request, registry, user, "html")


@router.get("/cohort/report.pdf")
def cohort_report_pdf(request: Request, registry: DatabaseDep, user: WebUserDep) -> Response:
    """The same report as PDF."""
    return _report(request, registry, user, "pdf")
