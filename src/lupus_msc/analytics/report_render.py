"""Reports as one self-contained HTML file (opens offline) or as PDF of the same HTML.

Figures are inline SVG and the style sheet is inline, so the HTML file needs nothing else; the
PDF is that HTML laid out for A4 by WeasyPrint. Templates are under ``report_templates/``.
"""

from __future__ import annotations

from typing import Any, Literal

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from lupus_msc.analytics.registry_extract import HORIZON_DAYS as WINDOW_DAYS

Format = Literal["html", "pdf"]


def _pct(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def _percent(value: float | None, digits: int = 0) -> str:
    """A value already in percent (0–100)."""
    return "—" if value is None else f"{value:.{digits}f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _ci(low: float | None, high: float | None, digits: int = 0) -> str:
    if low is None or high is None:
        return "—"
    return f"{100 * low:.{digits}f}–{100 * high:.{digits}f}%"


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("lupus_msc.analytics", "report_templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(pct=_pct, percent=_percent, num=_num)
    environment.globals.update(ci=_ci, window_days=WINDOW_DAYS)
    return environment


ENVIRONMENT = _environment()


def render_html(template: str, **context: Any) -> str:
    """The report as HTML; ``figures`` values are trusted SVG made by ``analytics.figures``."""
    figures = {name: Markup(svg) for name, svg in context.pop("figures", {}).items()}  # noqa: S704
    return ENVIRONMENT.get_template(template).render(figures=figures, **context)


def to_pdf(html: str) -> bytes:
    """The same content as a PDF (A4)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


TIMEPOINT_LABELS = {
    "baseline": "Baseline",
    "month1": "Month 1",
    "month3": "Month 3",
    "month6": "Month 6",
    "month12": "Month 12",
    "month24": "Month 24",
}
STRATUM_LABELS = {
    "tissue_source": "tissue source",
    "dose_band": "dose band (× 10⁶ cells/kg, first infusion)",
    "infusions": "number of infusions",
    "sledai_band": "baseline SLEDAI-2K band",
    "renal": "renal involvement",
}
VARIABLE_LABELS = {
    "pred_mg_day": "Prednisone-equivalent, mg/day (§11)",
    "upcr": "UPCR, g/g (§10)",
    "egfr": "eGFR, mL/min/1.73 m² (§9)",
    "lvef": "LVEF, %",
    "nt_probnp": "NT-proBNP, pg/mL",
    "c3": "C3, g/L",
    "c4": "C4, g/L",
    "anti_dsdna": "Anti-dsDNA, IU/mL",
    "facit": "FACIT-F score (§13)",
    "sledai": "SLEDAI-2K (§1)",
}


def _heading(report: Any) -> dict[str, Any]:
    """What every report template's heading and body read from a report."""
    return {
        "title": report.title,
        "as_of": report.as_of,
        "cohort_text": report.cohort,
        "generated": report.generated,
        "report": report,
        "figures": report.figures,
    }


def table_context(report: Any, *, web: bool = False) -> dict[str, Any]:
    """What the outcomes report's table partials (``report_templates/tables/``,
    ``safety_table.html``, ``evidence_table.html``) read from a report
    (``report_outcomes.OutcomesReport``), for the printed report and the web Cohort page alike:
    the report, its safety summary and published-evidence arms, and every label and order of
    outcomes, time points, strata and variables. ``web``: the page's markup (row headers, the
    outcome table's caption and data attributes, subgroups as collapsible details) instead of
    the printed report's."""
    from lupus_msc.analytics.proportions import OUTCOMES
    from lupus_msc.analytics.report_outcomes import STRATA_SHOWN

    return {
        "report": report,
        "web": web,
        "safety": report.safety,
        "arms": report.evidence.arms,
        "outcome_labels": {outcome.column: outcome.label for outcome in OUTCOMES},
        "outcome_order": [outcome.column for outcome in OUTCOMES],
        "timepoint_labels": TIMEPOINT_LABELS,
        "stratum_labels": STRATUM_LABELS,
        "strata_timepoints": STRATA_SHOWN,
        "variable_labels": VARIABLE_LABELS,
    }


def outcomes_html(report: Any) -> str:
    """The outcomes report (``report_outcomes.OutcomesReport``) as self-contained HTML."""
    return render_html("outcomes.html", **(_heading(report) | table_context(report)))


def safety_html(report: Any) -> str:
    """The safety report (``report_safety.SafetyReport``) as self-contained HTML."""
    return render_html("safety.html", **_heading(report), safety=report.summary)


def patient_html(report: Any) -> str:
    """The patient summary (``report_patient.PatientReport``) as self-contained HTML."""
    from lupus_msc.analytics.report_patient import NOT_STARTED

    return render_html(
        "patient.html",
        **_heading(report),
        patient=report.patient,
        evidence=report.evidence,
        not_started=NOT_STARTED,
    )
