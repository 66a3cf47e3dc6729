"""The forms a synthetic patient's plan fills in (``lupus-msc synth load``): a visit-table row
(``clinical.batch.schema``) becomes the screening, a follow-up visit with its labs, the
glucocorticoid prescriptions and the adverse events, as the services' own input models — so the
loader is refused exactly where a user typing the same values would be.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lupus_msc.clinical import sledai2k
from lupus_msc.clinical.eular_acr_2019 import EularAcr2019Input
from lupus_msc.clinical.facit_f import ITEMS as FACIT_ITEMS
from lupus_msc.clinical.facit_f import FacitResponses
from lupus_msc.clinical.sdi import BY_KEY as SDI_ITEMS
from lupus_msc.clinical.sdi import SdiItems
from lupus_msc.clinical.sledai2k import DESCRIPTORS, Sledai2kInput, SledaiLabs
from lupus_msc.services.adverse_events import AdverseEventIn
from lupus_msc.services.fields import today
from lupus_msc.services.medications import MedicationIn
from lupus_msc.services.screening import ScreeningIn, TreatmentHistory
from lupus_msc.services.visit_findings import VisitIn, Vitals
from lupus_msc.services.visit_labs import LabIn
from lupus_msc.synth.registry_plan import EventPlan, PatientPlan, VisitPlan, exact

Row = dict[str, Any]

LABS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("c3", "c3_g_l", "g/L", "c3_lln_g_l", None),
    ("c4", "c4_g_l", "g/L", "c4_lln_g_l", None),
    ("anti_dsdna", "anti_dsdna_iu_ml", "IU/mL", None, "anti_dsdna_uln_iu_ml"),
    ("hemoglobin", "hemoglobin_g_dl", "g/dL", "hemoglobin_lln_g_dl", None),
    ("wbc", "wbc_10e9_l", "10*9/L", "wbc_lln_10e9_l", None),
    ("lymphocytes", "lymphocytes_10e9_l", "10*9/L", "lymphocytes_lln_10e9_l", None),
    ("neutrophils", "neutrophils_10e9_l", "10*9/L", "neutrophils_lln_10e9_l", None),
    ("platelets", "platelets_10e9_l", "10*9/L", "platelets_lln_10e9_l", None),
    ("creatinine", "creatinine_mg_dl", "mg/dL", None, "creatinine_uln_mg_dl"),
    ("cystatin_c", "cystatin_c_mg_l", "mg/L", None, None),
    ("upcr", "upcr_g_g", "g/g", None, None),
    ("urine_protein_24h", "proteinuria_g_24h", "g/24h", None, None),
    ("urine_rbc_hpf", "urine_rbc_hpf", "/[HPF]", None, None),
    ("urine_wbc_hpf", "urine_wbc_hpf", "/[HPF]", None, None),
)
"""Visit analyte, its visit-table column and unit, and the columns of its reference limits."""

FREQUENCIES = {(1, 1): "once-daily", (2, 1): "twice-daily", (3, 1): "three-times-daily"}
FREQUENCIES |= {(4, 1): "four-times-daily", (1, 2): "every-other-day", (1, 7): "weekly"}
"""(doses a day, every n days) of the visit table → the medication frequency (§11)."""
PULSE_DAYS = 3
"""An intravenous methylprednisolone pulse (slot 2) is given on three days."""


def _decimal(row: Row, column: str | None) -> Decimal | None:
    if column is None or row[column] is None:
        return None
    return exact(row[column], column)


def labs(row: Row) -> list[LabIn]:
    """Every lab result of the row, with its lab's reference limit where the row has one."""
    found = []
    for analyte, column, unit, low, high in LABS:
        value = _decimal(row, column)
        if value is not None:
            found.append(
                LabIn(
                    analyte=analyte,
                    value=value,
                    unit=unit,
                    reference_low=_decimal(row, low),
                    reference_high=_decimal(row, high),
                )
            )
    return found


def descriptors(row: Row) -> dict[str, bool]:
    """The SLEDAI-2K descriptors the row records (None: left to the labs, §16.1)."""
    return {d.key: bool(row[d.key]) for d in DESCRIPTORS if row[d.key] is not None}


def _sledai_labs(row: Row) -> SledaiLabs:
    given = {name: _decimal(row, name) for name in SledaiLabs.model_fields}
    return SledaiLabs(**{name: value for name, value in given.items() if value is not None})


def screening_sledai(row: Row) -> Sledai2kInput:
    """The screening's SLEDAI-2K from the baseline row: a complete evaluation, so lab-derived
    candidates are attributed to lupus and a descriptor the row leaves undecided (a lab not
    taken) is recorded as absent (§1, §16.1)."""
    given: dict[str, Any] = {**descriptors(row), "labs": _sledai_labs(row)}
    given["attribution_confirmed"] = True
    scored = sledai2k.score(Sledai2kInput.model_validate(given))
    return Sledai2kInput.model_validate({**given, **dict.fromkeys(scored.missing, False)})


def _present(row: Row, column: str) -> bool:
    return bool(row[column])


def _below(row: Row, column: str, limit: Decimal) -> bool:
    value = _decimal(row, column)
    return value is not None and value < limit


def _below_own(row: Row, column: str, limit_column: str) -> bool:
    value, limit = _decimal(row, column), _decimal(row, limit_column)
    return value is not None and limit is not None and value < limit


def _proteinuria(row: Row) -> bool:
    day = _decimal(row, "proteinuria_g_24h")
    ratio = _decimal(row, "upcr_g_g")
    measured = day if day is not None else ratio
    return measured is not None and measured > Decimal("0.5")


def eular_criteria(plan: PatientPlan) -> list[str]:
    """The 2019 EULAR/ACR criteria (§7) of the patient's history and of the baseline findings."""
    row = plan.baseline
    dsdna, uln = _decimal(row, "anti_dsdna_iu_ml"), _decimal(row, "anti_dsdna_uln_iu_ml")
    temperature = _decimal(row, "temperature_c")
    found = {
        "fever": temperature is not None and temperature > Decimal("38.3"),
        "leukopenia": _below(row, "wbc_10e9_l", Decimal(4)),
        "thrombocytopenia": _below(row, "platelets_10e9_l", Decimal(100)),
        "autoimmune_hemolysis": _present(row, "hemolytic_anemia"),
        "delirium": _present(row, "organic_brain_syndrome"),
        "psychosis": _present(row, "psychosis"),
        "seizure": _present(row, "seizure"),
        "non_scarring_alopecia": _present(row, "alopecia"),
        "oral_ulcers": _present(row, "mucosal_ulcers"),
        "acute_cutaneous_lupus": _present(row, "rash"),
        "pleural_or_pericardial_effusion": _present(row, "pleurisy"),
        "acute_pericarditis": _present(row, "pericarditis"),
        "joint_involvement": _present(row, "arthritis"),
        "proteinuria": _proteinuria(row),
        "low_c3": _below_own(row, "c3_g_l", "c3_lln_g_l"),
        "low_c4": _below_own(row, "c4_g_l", "c4_lln_g_l"),
        "anti_dsdna_or_anti_smith": dsdna is not None and uln is not None and dsdna > uln,
    }
    present = [key for key, value in found.items() if value]
    extra = [*plan.history, *([plan.renal_biopsy] if plan.renal_biopsy else [])]
    return list(dict.fromkeys([*present, *extra]))


ORGANS = {
    "skin": ("rash", "alopecia", "mucosal_ulcers", "vasculitis"),
    "joints": ("arthritis", "myositis"),
    "kidneys": ("urinary_casts", "hematuria", "proteinuria", "pyuria"),
    "heart": ("pericarditis",),
    "brain": ("seizure", "psychosis", "organic_brain_syndrome", "cva", "lupus_headache"),
    "blood": ("thrombocytopenia", "leukopenia", "hemolytic_anemia"),
    "serosa": ("pleurisy", "pericarditis"),
}


def organs(plan: PatientPlan, sledai: Sledai2kInput) -> list[str]:
    present = {key for key, value in sledai.model_dump().items() if value is True}
    present |= {"hemolytic_anemia"} if plan.baseline["hemolytic_anemia"] else set()
    if plan.renal_biopsy:
        present.add("proteinuria")
    return [organ for organ, keys in ORGANS.items() if present.intersection(keys)]


def treatments(plan: PatientPlan) -> list[TreatmentHistory]:
    """Two or three failed immunosuppressants (refractory SLE), the current one, an
    antimalarial for most, and the glucocorticoid taken at the baseline."""
    items = [
        TreatmentHistory(drug=drug, drug_class="immunosuppressant", current=False, failed=True)
        for drug in plan.failed_immunosuppressants
    ]
    items.append(
        TreatmentHistory(
            drug=plan.current_immunosuppressant,
            drug_class="immunosuppressant",
            current=True,
            failed=False,
        )
    )
    if plan.hydroxychloroquine:
        items.append(
            TreatmentHistory(
                drug="hydroxychloroquine", drug_class="antimalarial", current=True, failed=False
            )
        )
    steroid = plan.baseline["glucocorticoid_1_drug"]
    if steroid is not None:
        items.append(
            TreatmentHistory(drug=steroid, drug_class="glucocorticoid", current=True, failed=False)
        )
    return items


def screening(plan: PatientPlan) -> ScreeningIn:
    """The screening visit 14 days before the infusion, from the baseline row (§1, §7)."""
    sledai = screening_sledai(plan.baseline)
    eular = EularAcr2019Input.model_validate(
        {"ana_titer": plan.ana_titer, "criteria": eular_criteria(plan)}
    )
    return ScreeningIn(
        screened_on=plan.screened_on,
        eular_acr_2019=eular,
        sledai2k=sledai,
        organ_involvement=organs(plan, sledai),
        treatments=treatments(plan),
        active_infection=False,
        pregnant=False,
    )


def _facit(row: Row) -> FacitResponses | None:
    answers = {code: row[f"facit_{code}"] for code in FACIT_ITEMS}
    given = {code: answer for code, answer in answers.items() if answer is not None}
    return FacitResponses(**given) if given else None


def _sdi(row: Row) -> SdiItems | None:
    items = {key: row[f"sdi_{key}"] for key in SDI_ITEMS}
    given = {key: int(value) for key, value in items.items() if value is not None}
    return SdiItems(**given) if given else None


def visit(planned: VisitPlan, on: dt.date) -> VisitIn:
    """A follow-up visit as recorded: descriptors, PGA, weight and temperature, FACIT-F, SDI,
    labs (the SLEDAI-2K lab descriptors left to the labs are derived by the visit service)."""
    row = planned.row
    attributed = bool(row["attribution_confirmed"])
    sledai = Sledai2kInput.model_validate({**descriptors(row), "attribution_confirmed": attributed})
    weight, temperature = _decimal(row, "weight_kg"), _decimal(row, "temperature_c")
    measured = weight is not None or temperature is not None
    return VisitIn(
        visit_date=on,
        sledai2k=sledai,
        pga=_decimal(row, "pga"),
        vitals=Vitals(weight_kg=weight, temperature_c=temperature) if measured else None,
        facit_f=_facit(row),
        sdi=_sdi(row),
        labs=labs(row),
    )


@dataclass
class _Run:
    key: tuple[str, Decimal, int, int]
    started: dt.date


def _medication(run: _Run, stopped: dt.date | None, route: str = "oral") -> MedicationIn:
    drug, dose, per_day, every = run.key
    frequency = FREQUENCIES.get((per_day, every))
    if frequency is None:
        raise ValueError(f"no medication frequency for {per_day} doses every {every} days")
    return MedicationIn(
        drug=drug,
        dose=dose,
        unit="mg",
        frequency=frequency,
        route=route,
        started_on=run.started,
        stopped_on=stopped,
    )


def _slot(row: Row, slot: int) -> tuple[str, Decimal, int, int] | None:
    prefix = f"glucocorticoid_{slot}"
    if row[f"{prefix}_drug"] is None:
        return None
    dose = _decimal(row, f"{prefix}_dose_mg")
    if dose is None:
        raise LookupError("dose not recorded")
    return (
        row[f"{prefix}_drug"],
        dose,
        row[f"{prefix}_doses_per_day"],
        row[f"{prefix}_every_days"],
    )


def _slot_runs(visits: Sequence[VisitPlan], slot: int, first_day: dt.date) -> list[MedicationIn]:
    """One prescription per run of the same drug and dose, stopped the day before it changes;
    a visit with the dose not recorded continues the run; pulses are 3-day IV courses."""
    found: list[MedicationIn] = []
    current: _Run | None = None
    for planned in visits:
        try:
            key = _slot(planned.row, slot)
        except LookupError:
            continue
        if slot == 2 and key is not None and key[0] == "methylprednisolone":
            stop = planned.on + dt.timedelta(days=PULSE_DAYS - 1)
            pulse = _Run(key, planned.on)
            found.append(_medication(pulse, min(stop, today()), "intravenous"))
            continue
        if current is not None and current.key == key:
            continue
        if current is not None:
            found.append(_medication(current, planned.on - dt.timedelta(days=1)))
        start = first_day if planned is visits[0] else planned.on
        current = _Run(key, start) if key is not None else None
    if current is not None:
        found.append(_medication(current, None))
    return found


def medications(plan: PatientPlan) -> list[MedicationIn]:
    """The glucocorticoids of both visit-table slots (§11), the first run from the screening."""
    return [item for slot in (1, 2) for item in _slot_runs(plan.visits, slot, plan.screened_on)]


def adverse_event(event: EventPlan, infusion_ids: Iterable[uuid.UUID]) -> AdverseEventIn:
    linked = list(infusion_ids)[event.infusion - 1] if event.infusion else None
    return AdverseEventIn(
        term=event.term,
        onset_on=event.onset_on,
        resolved_on=event.resolved_on,
        grade=event.grade,
        relatedness=event.relatedness,
        expected=event.expected,
        action=event.action,
        outcome="recovered",
        infusion_id=linked,
    )
