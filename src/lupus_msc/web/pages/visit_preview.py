"""What the visit form shows while it is filled in: the scores the services would derive.

Nothing is computed here: the scores are ``services.visit_scores.derive`` (SLEDAI-2K §1 with
its labs, PGA category §3, FACIT-F §13, SDI §8, eGFR §9, prednisone equivalent §11), exactly
as saving would derive them, and the lab-derived SLEDAI-2K findings are the engine's own
``clinical.sledai2k.lab_findings`` on the labs the service passed to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lupus_msc.clinical.sledai2k import SledaiLabs, lab_findings
from lupus_msc.services import patients, visit_labs, visit_scores, visits
from lupus_msc.services.access import Actor
from lupus_msc.services.visit_findings import Override, VisitIn
from lupus_msc.store.models import Visit
from lupus_msc.web.pages.visit_form import DERIVED_ROWS


@dataclass(frozen=True)
class DerivedFinding:
    """One lab-derived descriptor: what the labs say, any override, and whether it counted."""

    key: str
    label: str
    weight: int
    from_labs: bool | None
    """The labs' finding: True, False, or None when not measured (§16.1)."""
    override: bool | None
    override_reason: str | None
    counted: bool
    awaiting_attribution: bool

    @property
    def state(self) -> str:
        if self.override is not None:
            return "present (clinician)" if self.override else "absent (clinician)"
        if self.from_labs is None:
            return "not measured"
        if self.awaiting_attribution:
            return "present from labs — awaits attribution"
        return "present from labs" if self.from_labs else "absent from labs"


def derive(session: Session, actor: Actor, visit: Visit, data: VisitIn) -> dict[str, Any]:
    """The scores of ``data`` as ``visits.record`` would store them (refusals as it would)."""
    patient = patients.get(session, actor, visit.patient_id)
    visits.check_date(visit, data.visit_date)
    visit_labs.check(data.labs)
    measured = [visit_scores.measured_in(lab) for lab in data.labs]
    return visit_scores.derive(session, patient, data, measured)


def findings(data: VisitIn | None, scores: dict[str, Any]) -> list[DerivedFinding]:
    """The lab-derived descriptors of the form, each with its source."""
    sledai = scores.get("sledai2k") or {}
    used = sledai.get("labs_used") or {}
    from_labs = lab_findings(SledaiLabs.model_validate(used)) if used else {}
    overrides: dict[str, Override] = {}
    if data is not None:
        overrides = {str(key): value for key, value in data.sledai2k_overrides.items()}
    candidates = set(sledai.get("candidates") or [])
    counted = set((sledai.get("contributions") or {}).keys())
    confirmed = bool(data and data.sledai2k and data.sledai2k.attribution_confirmed)
    rows = []
    for row in DERIVED_ROWS:
        override = overrides.get(row.key)
        rows.append(
            DerivedFinding(
                key=row.key,
                label=row.label,
                weight=row.weight,
                from_labs=from_labs.get(row.key),
                override=None if override is None else override.present,
                override_reason=None if override is None else override.reason,
                counted=row.key in counted,
                awaiting_attribution=row.key in candidates and not confirmed,
            )
        )
    return rows


def summary(data: VisitIn | None, scores: dict[str, Any]) -> dict[str, Any]:
    """The preview fragment's context."""
    rows = findings(data, scores)
    derived = {row.key: row for row in rows}
    sledai = scores.get("sledai2k")
    counted = []
    if sledai:
        for key, weight in sledai["contributions"].items():
            row = derived.get(key)
            source = "clinician"
            if row is not None:
                source = "override" if row.override is not None else "from labs"
            counted.append(
                {"key": key, "label": key.replace("_", " "), "weight": weight, "source": source}
            )
    return {"scores": scores, "counted": counted, "derived": rows, "sledai": sledai}
