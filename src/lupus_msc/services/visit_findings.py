"""What a follow-up visit records (DESIGN.md pathway step 6): SLEDAI-2K descriptors with any
clinician override, PGA, vitals and weight, cardiac findings, FACIT-F answers, SDI items, labs.

The instrument inputs are the instruments' own models (§16.1 SLEDAI-2K, §16.13 FACIT-F, §16.7
SDI), so a visit is validated exactly as the score interface validates them. Physiological
ranges of the visit's own fields are documented on each field ([PROJECT] choices).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from lupus_msc.clinical.common import Num
from lupus_msc.clinical.facit_f import FacitResponses
from lupus_msc.clinical.sdi import SdiItems
from lupus_msc.clinical.sledai2k import DescriptorKey, Sledai2kInput
from lupus_msc.services.fields import Digits, In, Reason
from lupus_msc.services.visit_labs import LabIn, places

PgaValue = Annotated[Decimal, Num(ge=0, le=3), Digits, places(2)]
"""Physician global assessment, 0–3 with at most two decimals (§3)."""


class Vitals(In):
    """Vital signs and weight. Ranges [PROJECT], for adults: weight 20–300 kg, systolic
    50–260 mmHg, diastolic 20–160 mmHg (below the systolic), heart rate 20–250 /min,
    temperature 30–43 °C, respiratory rate 4–60 /min, SpO₂ 50–100 %."""

    weight_kg: Annotated[Decimal, Num(ge=20, le=300), Digits] | None = None
    systolic_mmhg: Annotated[int, Field(ge=50, le=260)] | None = None
    diastolic_mmhg: Annotated[int, Field(ge=20, le=160)] | None = None
    heart_rate_bpm: Annotated[int, Field(ge=20, le=250)] | None = None
    temperature_c: Annotated[Decimal, Num(ge=30, le=43), Digits] | None = None
    respiratory_rate_min: Annotated[int, Field(ge=4, le=60)] | None = None
    spo2_pct: Annotated[Decimal, Num(ge=50, le=100), Digits] | None = None

    @model_validator(mode="after")
    def _pressure_order(self) -> Vitals:
        systolic, diastolic = self.systolic_mmhg, self.diastolic_mmhg
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            raise PydanticCustomError(
                "blood_pressure", "diastolic_mmhg must be below systolic_mmhg"
            )
        return self


class Cardiac(In):
    """Heart (DESIGN.md step 6). Ranges [PROJECT]: LVEF 5–90 %, NT-proBNP 0–100 000 pg/mL."""

    lvef_pct: Annotated[Decimal, Num(ge=5, le=90), Digits] | None = None
    nt_probnp_pg_ml: Annotated[Decimal, Num(ge=0, le=100_000), Digits, places(2)] | None = None
    pericarditis: bool | None = None


class Override(In):
    """A clinician's decision on one SLEDAI-2K descriptor, against what the labs suggest
    (e.g. haematuria from menstruation), always with the reason (§0.5, §1)."""

    present: bool
    reason: Reason


class VisitIn(In):
    """The visit as recorded; a PUT replaces the whole record (labs included).

    ``visit_date`` lies between the first infusion and today. ``reason`` is required when the
    change touches a visit that has been signed (the old values stay in the audit trail).
    """

    visit_date: dt.date
    sledai2k: Sledai2kInput | None = None
    """The §16.1 input; its ``labs`` may be left out: they are taken from ``labs`` below."""
    sledai2k_overrides: Annotated[dict[DescriptorKey, Override], Field(max_length=24)] = Field(
        default_factory=dict
    )
    pga: PgaValue | None = None
    vitals: Vitals | None = None
    cardiac: Cardiac | None = None
    facit_f: FacitResponses | None = None
    sdi: SdiItems | None = None
    labs: Annotated[list[LabIn], Field(max_length=40)] = Field(default_factory=list)
    reason: Reason | None = None


RECORDED = ("sledai2k", "sledai2k_overrides", "pga", "vitals", "cardiac", "facit_f", "sdi")
"""The parts of a visit kept in ``Visit.findings`` (labs have their own table)."""


def findings_of(data: VisitIn) -> dict[str, Any]:
    """The recorded findings as stored: exact numbers (JSON numbers, read back as Decimal)."""
    return data.model_dump(include=set(RECORDED), exclude_none=True, exclude_defaults=True)
