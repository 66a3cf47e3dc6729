"""The visit form's fields, and the way between them and ``VisitIn`` (services/visit_findings).

Field names follow the model (``sledai2k.arthritis``, ``vitals.weight_kg``, ``facit_f.HI7``,
``sledai2k_overrides.hematuria.reason``) so refusals land next to their field; labs are one row
per analyte (``lab.c3.value``, ``lab.c3.unit``, ``lab.c3.low``, ``lab.c3.high``) and become the
``labs`` list. The eight SLEDAI-2K descriptors the labs decide (§1, §16.1) have no checkbox:
the engine derives them from the labs on the form; the clinician may override one only with a
reason (``Override``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lupus_msc.clinical.facit_f import ITEMS as FACIT_ITEMS
from lupus_msc.clinical.facit_f import POSITIVE_ITEMS
from lupus_msc.clinical.sdi import ITEMS as SDI_ITEMS
from lupus_msc.clinical.sledai2k import DESCRIPTORS, Descriptor
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.visit_findings import VisitIn
from lupus_msc.services.visit_labs import ANALYTES, Analyte
from lupus_msc.services.visits import VisitOut
from lupus_msc.web.forms import FormErrors, number, typed_input, validated

LAB_DERIVED = (
    "low_complement",
    "increased_dna_binding",
    "thrombocytopenia",
    "leukopenia",
    "pyuria",
    "hematuria",
    "proteinuria",
    "fever",
)
"""The descriptors §16.1 derives from labs (and temperature): pre-filled, never ticked."""
LAB_RULES = {
    "low_complement": "C3 or C4 below the lab's lower limit (enter the limit)",
    "increased_dna_binding": "anti-dsDNA above the lab's upper limit (enter the limit)",
    "thrombocytopenia": "platelets < 100 × 10⁹/L",
    "leukopenia": "WBC < 3 × 10⁹/L",
    "pyuria": "urine WBC > 5 /HPF",
    "hematuria": "urine RBC > 5 /HPF",
    "proteinuria": "24-h protein > 0.5 g (or UPCR > 0.5 g/g without a 24-h value)",
    "fever": "temperature > 38 °C",
}
"""§1 lab thresholds, as the engine applies them (shown as help, never computed here)."""
ANALYTE_NAMES = {
    "c3": "C3",
    "c4": "C4",
    "anti_dsdna": "Anti-dsDNA",
    "hemoglobin": "Haemoglobin",
    "wbc": "White cells",
    "lymphocytes": "Lymphocytes",
    "neutrophils": "Neutrophils",
    "platelets": "Platelets",
    "creatinine": "Creatinine",
    "cystatin_c": "Cystatin C",
    "upcr": "UPCR",
    "urine_protein_24h": "Urine protein, 24 h",
    "urine_rbc_hpf": "Urine RBC (sediment)",
    "urine_wbc_hpf": "Urine WBC (sediment)",
    "crp": "CRP",
    "esr": "ESR",
    "cd4": "CD4 T cells",
    "cd8": "CD8 T cells",
    "cd19": "CD19 B cells",
    "treg_pct": "Regulatory T cells",
}
FACIT_ANSWERS = (
    (0, "0 · not at all"),
    (1, "1 · a little bit"),
    (2, "2 · somewhat"),
    (3, "3 · quite a bit"),
    (4, "4 · very much"),
)
"""§13 response scale; the item wording is licensed (FACIT.org) and only its codes are shown."""
LAB_FIELD = {"value": "value", "unit": "unit", "reference_low": "low", "reference_high": "high"}
_LAB_PATH = re.compile(r"^labs\[(\d+)\]\.?(\w*)")


def _title(key: str) -> str:
    return key.replace("_", " ").capitalize()


@dataclass(frozen=True)
class DescriptorRow:
    number: int
    key: str
    label: str
    weight: int


def _row(descriptor: Descriptor) -> DescriptorRow:
    return DescriptorRow(
        descriptor.number, descriptor.key, _title(descriptor.key), descriptor.weight
    )


CLINICAL_ROWS = tuple(_row(d) for d in DESCRIPTORS if d.key not in LAB_DERIVED)
DERIVED_ROWS = tuple(_row(d) for d in DESCRIPTORS if d.key in LAB_DERIVED)


@dataclass(frozen=True)
class LabRow:
    key: str
    name: str
    analyte: Analyte

    @property
    def units(self) -> list[str]:
        return list(self.analyte.accepted)

    @property
    def plausible(self) -> str:
        return f"{self.analyte.low}–{self.analyte.high} {self.analyte.unit}"


LAB_ROWS = tuple(LabRow(key, ANALYTE_NAMES.get(key, key), a) for key, a in ANALYTES.items())


def form_context() -> dict[str, Any]:
    """The fixed parts of the form: descriptor rows, lab rows, FACIT-F and SDI items."""
    return {
        "clinical_rows": CLINICAL_ROWS,
        "derived_rows": DERIVED_ROWS,
        "lab_rules": LAB_RULES,
        "lab_rows": LAB_ROWS,
        "facit_items": FACIT_ITEMS,
        "facit_positive": POSITIVE_ITEMS,
        "facit_answers": FACIT_ANSWERS,
        "sdi_items": SDI_ITEMS,
    }


def _labs(form: dict[str, Any], errors: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``labs`` list from the lab rows (a row without a value is not given)."""
    labs: list[dict[str, Any]] = []
    order: list[str] = []
    for row in LAB_ROWS:
        text = str(form.get(f"lab.{row.key}.value") or "").strip()
        if not text:
            continue
        lab: dict[str, Any] = {
            "analyte": row.key,
            "unit": form.get(f"lab.{row.key}.unit") or row.analyte.unit,
        }
        for field, short in (
            ("value", "value"),
            ("reference_low", "low"),
            ("reference_high", "high"),
        ):
            given = str(form.get(f"lab.{row.key}.{short}") or "").strip()
            if not given:
                continue
            value = number(given)
            if value is None:
                errors[f"lab.{row.key}.{short}"] = "must be a number"
            lab[field] = value if value is not None else given
        labs.append(lab)
        order.append(row.key)
    return labs, order


def _overrides(form: dict[str, Any], errors: dict[str, str], *, lenient: bool) -> dict[str, Any]:
    """The clinician's overrides; ``lenient`` (the live preview) leaves out one without its
    reason instead of refusing the form, so the other scores still show."""
    found: dict[str, Any] = {}
    for key in LAB_DERIVED:
        chosen = form.get(f"sledai2k_overrides.{key}.present")
        if chosen not in ("true", "false"):
            continue
        reason = str(form.get(f"sledai2k_overrides.{key}.reason") or "").strip()
        if not reason and lenient:
            continue
        if not reason:
            errors[f"sledai2k_overrides.{key}.reason"] = (
                "is required: say why the clinician's finding differs from the labs"
            )
        found[key] = {"present": chosen == "true", "reason": reason}
    return found


def _sdi(form: dict[str, Any]) -> dict[str, Any] | None:
    if str(form.get("sdi_assessed", "")).lower() not in ("on", "true"):
        return None
    return {item.key: form.get(f"sdi.{item.key}") == "on" for item in SDI_ITEMS}


def lab_name(path: str, order: list[str]) -> str:
    """``labs[2].value`` → ``lab.platelets.value`` (the form's name for the field)."""
    found = _LAB_PATH.match(path)
    if found is None:
        return path
    index, field = int(found.group(1)), found.group(2)
    if index >= len(order):
        return path
    return f"lab.{order[index]}.{LAB_FIELD.get(field, 'value')}"


def named(error: ServiceError | FormErrors, order: list[str]) -> FormErrors:
    """The refusal with its fields named as the form names them."""
    fields = error.fields.items() if isinstance(error, FormErrors) else error.fields
    return FormErrors(error.message, {lab_name(field, order): text for field, text in fields})


def visit_input(form: dict[str, Any], *, lenient: bool = False) -> tuple[VisitIn, list[str]]:
    """The ``VisitIn`` of a posted visit form, and the analyte of each ``labs`` index; or
    FormErrors naming the form's fields (``lenient``: see ``_overrides``)."""
    values = {key: value for key, value in form.items() if not key.startswith("sdi.")}
    data, errors = typed_input(VisitIn, values)
    labs, order = _labs(form, errors)
    data["labs"] = labs
    overrides = _overrides(form, errors, lenient=lenient)
    if overrides:
        data["sledai2k_overrides"] = overrides
    sdi = _sdi(form)
    if sdi is not None:
        data["sdi"] = sdi
    try:
        return validated(VisitIn, data, errors), order
    except FormErrors as error:
        raise named(error, order) from error


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


def _flat(prefix: str, found: dict[str, Any] | None, values: dict[str, Any]) -> None:
    for key, value in (found or {}).items():
        if isinstance(value, dict):
            _flat(f"{prefix}{key}.", value, values)
        elif value is not None:
            values[f"{prefix}{key}"] = value if isinstance(value, bool) else _text(value)


def stored_values(visit: VisitOut) -> dict[str, Any]:
    """The form's values for a recorded visit (its findings and current labs)."""
    values: dict[str, Any] = {}
    if visit.visit_date is not None:
        values["visit_date"] = visit.visit_date.isoformat()
    findings = dict(visit.findings)
    sledai = dict(findings.get("sledai2k") or {})
    sledai.pop("labs", None)
    _flat("sledai2k.", sledai, values)
    for key, override in (findings.get("sledai2k_overrides") or {}).items():
        values[f"sledai2k_overrides.{key}.present"] = _text(bool(override["present"]))
        values[f"sledai2k_overrides.{key}.reason"] = override["reason"]
    if findings.get("pga") is not None:
        values["pga"] = _text(findings["pga"])
    _flat("vitals.", findings.get("vitals"), values)
    cardiac = dict(findings.get("cardiac") or {})
    if "pericarditis" in cardiac:
        values["cardiac.pericarditis"] = _text(bool(cardiac.pop("pericarditis")))
    _flat("cardiac.", cardiac, values)
    _flat("facit_f.", findings.get("facit_f"), values)
    if findings.get("sdi"):
        values["sdi_assessed"] = True
        for key, value in findings["sdi"].items():
            values[f"sdi.{key}"] = bool(value)
    for lab in visit.labs:
        if lab.superseded:
            continue
        values[f"lab.{lab.analyte}.value"] = _text(lab.value)
        values[f"lab.{lab.analyte}.unit"] = lab.unit
        if lab.reference_low is not None:
            values[f"lab.{lab.analyte}.low"] = _text(lab.reference_low)
        if lab.reference_high is not None:
            values[f"lab.{lab.analyte}.high"] = _text(lab.reference_high)
    return values
