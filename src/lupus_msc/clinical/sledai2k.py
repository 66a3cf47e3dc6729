"""SLEDAI-2K disease activity, its SELENA flavour and both clinical SLEDAIs (§1, §16.1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from lupus_msc.clinical.common import (
    Instrument,
    InstrumentInput,
    InstrumentResult,
    NonNegative,
    PlateletsPerNl,
    TemperatureC,
    WbcPerNl,
    WholeNumberOnly,
)


@dataclass(frozen=True)
class Descriptor:
    """One of the 24 SLEDAI-2K descriptors (§1 table)."""

    number: int
    key: str
    weight: int
    needs_attribution: bool = False
    """Lab-derived only as a candidate: a clinician must exclude other causes (§1, §0.5)."""


DESCRIPTORS: tuple[Descriptor, ...] = (
    Descriptor(1, "seizure", 8),
    Descriptor(2, "psychosis", 8),
    Descriptor(3, "organic_brain_syndrome", 8),
    Descriptor(4, "visual_disturbance", 8),
    Descriptor(5, "cranial_nerve_disorder", 8),
    Descriptor(6, "lupus_headache", 8),
    Descriptor(7, "cva", 8),
    Descriptor(8, "vasculitis", 8),
    Descriptor(9, "arthritis", 4),
    Descriptor(10, "myositis", 4),
    Descriptor(11, "urinary_casts", 4),
    Descriptor(12, "hematuria", 4, needs_attribution=True),
    Descriptor(13, "proteinuria", 4),
    Descriptor(14, "pyuria", 4, needs_attribution=True),
    Descriptor(15, "rash", 2),
    Descriptor(16, "alopecia", 2),
    Descriptor(17, "mucosal_ulcers", 2),
    Descriptor(18, "pleurisy", 2),
    Descriptor(19, "pericarditis", 2),
    Descriptor(20, "low_complement", 2),
    Descriptor(21, "increased_dna_binding", 2),
    Descriptor(22, "fever", 1, needs_attribution=True),
    Descriptor(23, "thrombocytopenia", 1, needs_attribution=True),
    Descriptor(24, "leukopenia", 1, needs_attribution=True),
)
WEIGHTS: dict[str, int] = {descriptor.key: descriptor.weight for descriptor in DESCRIPTORS}
DescriptorKey = Literal[
    "seizure",
    "psychosis",
    "organic_brain_syndrome",
    "visual_disturbance",
    "cranial_nerve_disorder",
    "lupus_headache",
    "cva",
    "vasculitis",
    "arthritis",
    "myositis",
    "urinary_casts",
    "hematuria",
    "proteinuria",
    "pyuria",
    "rash",
    "alopecia",
    "mucosal_ulcers",
    "pleurisy",
    "pericarditis",
    "low_complement",
    "increased_dna_binding",
    "fever",
    "thrombocytopenia",
    "leukopenia",
]
SEROLOGY = frozenset({"low_complement", "increased_dna_binding"})
"""Removed for the clinical SLEDAI in its DORIS meaning (§1, §6; D5)."""
LABORATORY = frozenset(
    descriptor.key
    for descriptor in DESCRIPTORS
    if descriptor.number in {11, 12, 13, 14, 20, 21, 23, 24}
)
"""Removed for the clinical SLEDAI without laboratory items (§1: items 11–14, 20–21, 23–24)."""


def sledai_total(present: Iterable[str]) -> int:
    """Sum of SLEDAI-2K weights of the descriptors present (§1)."""
    return sum(WEIGHTS[key] for key in set(present))


class SledaiLabs(InstrumentInput):
    """Laboratory values from which candidate descriptors are derived (§1 required inputs)."""

    urine_rbc_hpf: NonNegative | None = None
    urine_wbc_hpf: NonNegative | None = None
    proteinuria_g_24h: NonNegative | None = None
    upcr_g_g: NonNegative | None = None
    platelets_10e9_l: PlateletsPerNl | None = None
    wbc_10e9_l: WbcPerNl | None = None
    temperature_c: TemperatureC | None = None
    c3_g_l: NonNegative | None = None
    c3_lln_g_l: NonNegative | None = None
    c4_g_l: NonNegative | None = None
    c4_lln_g_l: NonNegative | None = None
    anti_dsdna_iu_ml: NonNegative | None = None
    anti_dsdna_uln_iu_ml: NonNegative | None = None


class Sledai2kInput(InstrumentInput):
    """One assessment: descriptors as booleans, or labs to derive them from (§16.1)."""

    seizure: bool | None = None
    psychosis: bool | None = None
    organic_brain_syndrome: bool | None = None
    visual_disturbance: bool | None = None
    cranial_nerve_disorder: bool | None = None
    lupus_headache: bool | None = None
    cva: bool | None = None
    vasculitis: bool | None = None
    arthritis: bool | None = None
    myositis: bool | None = None
    urinary_casts: bool | None = None
    hematuria: bool | None = None
    proteinuria: bool | None = None
    pyuria: bool | None = None
    rash: bool | None = None
    alopecia: bool | None = None
    mucosal_ulcers: bool | None = None
    pleurisy: bool | None = None
    pericarditis: bool | None = None
    low_complement: bool | None = None
    increased_dna_binding: bool | None = None
    fever: bool | None = None
    thrombocytopenia: bool | None = None
    leukopenia: bool | None = None
    labs: SledaiLabs | None = None
    attribution_confirmed: bool = False
    window_days: Annotated[Literal[10, 30], WholeNumberOnly] = 10
    flavor: Literal["2K", "SELENA"] = "2K"


class Sledai2kResult(InstrumentResult):
    instrument: Literal["sledai2k"] = "sledai2k"
    section: Literal["§1"] = "§1"
    total: int
    score_max_possible: int
    complete: bool
    contributions: dict[str, int]
    candidates: list[str]
    clinical_sledai: int
    clinical_sledai_no_labs: int
    window_days: Literal[10, 30]
    flavor: Literal["2K", "SELENA"]


def _above(value: Decimal | None, limit: Decimal | None) -> bool | None:
    return None if value is None or limit is None else value > limit


def _below(value: Decimal | None, limit: Decimal | None) -> bool | None:
    return None if value is None or limit is None else value < limit


def _low_complement(labs: SledaiLabs) -> bool | None:
    """True if any complement given with its LLN is below it; None if none is given with one."""
    findings = [_below(labs.c3_g_l, labs.c3_lln_g_l), _below(labs.c4_g_l, labs.c4_lln_g_l)]
    decided = [finding for finding in findings if finding is not None]
    return any(decided) if decided else None


def _proteinuria(labs: SledaiLabs) -> bool | None:
    """A 24-hour protein, when given, decides over a spot UPCR (§16.1)."""
    if labs.proteinuria_g_24h is not None:
        return labs.proteinuria_g_24h > Decimal("0.5")
    return _above(labs.upcr_g_g, Decimal("0.5"))


def lab_findings(labs: SledaiLabs) -> dict[str, bool]:
    """Descriptors the labs decide (strict inequalities of §1); undecided ones are left out."""
    findings: dict[str, bool | None] = {
        "hematuria": _above(labs.urine_rbc_hpf, Decimal(5)),
        "pyuria": _above(labs.urine_wbc_hpf, Decimal(5)),
        "proteinuria": _proteinuria(labs),
        "thrombocytopenia": _below(labs.platelets_10e9_l, Decimal(100)),
        "leukopenia": _below(labs.wbc_10e9_l, Decimal(3)),
        "fever": _above(labs.temperature_c, Decimal(38)),
        "low_complement": _low_complement(labs),
        "increased_dna_binding": _above(labs.anti_dsdna_iu_ml, labs.anti_dsdna_uln_iu_ml),
    }
    return {key: finding for key, finding in findings.items() if finding is not None}


def score(assessment: Sledai2kInput) -> Sledai2kResult:
    """Score one SLEDAI-2K assessment (§1; contract §16.1).

    An explicit descriptor always wins over a lab-derived one. A lab-derived descriptor that
    carries an exclusion (hematuria, pyuria, fever, thrombocytopenia, leukopenia) and fired is a
    candidate: it counts only when ``attribution_confirmed``, and until then it is not assessed.
    An unassessed descriptor counts as absent in ``total``, as present in ``score_max_possible``.
    """
    from_labs = lab_findings(assessment.labs) if assessment.labs else {}
    present: set[str] = set()
    unassessed: set[str] = set()
    candidates: list[str] = []
    for descriptor in DESCRIPTORS:
        explicit = _explicit(assessment, descriptor.key)
        finding = explicit if explicit is not None else from_labs.get(descriptor.key)
        is_candidate = explicit is None and finding is True and descriptor.needs_attribution
        if is_candidate:
            candidates.append(descriptor.key)
        if finding is None or (is_candidate and not assessment.attribution_confirmed):
            unassessed.add(descriptor.key)
        elif finding:
            present.add(descriptor.key)
    total = sledai_total(present)
    return Sledai2kResult(
        total=total,
        score_max_possible=total + sledai_total(unassessed),
        complete=not unassessed,
        contributions={key: WEIGHTS[key] for key in sorted(present, key=_descriptor_number)},
        candidates=candidates,
        clinical_sledai=sledai_total(present - SEROLOGY),
        clinical_sledai_no_labs=sledai_total(present - LABORATORY),
        window_days=assessment.window_days,
        flavor=assessment.flavor,
        missing=sorted(unassessed, key=_descriptor_number),
    )


def _explicit(assessment: Sledai2kInput, key: str) -> bool | None:
    value = getattr(assessment, key)
    assert value is None or isinstance(value, bool)  # noqa: S101 - the model types every descriptor
    return value


_NUMBERS = {descriptor.key: descriptor.number for descriptor in DESCRIPTORS}


def _descriptor_number(key: str) -> int:
    return _NUMBERS[key]


INSTRUMENT = Instrument(
    name="sledai2k",
    section="§1",
    title="SLEDAI-2K disease activity (SELENA flavour, clinical SLEDAI)",
    input_model=Sledai2kInput,
    result_model=Sledai2kResult,
    score=score,
)
