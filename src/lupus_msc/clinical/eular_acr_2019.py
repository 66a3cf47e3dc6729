"""2019 EULAR/ACR classification criteria for SLE (§7, contract §16.6).

The entry criterion (ANA ≥ 1:80 or an equivalent positive test, ever) gates everything: without it
nothing is scored. Otherwise each domain contributes the weight of its highest criterion present,
and the patient is classified when the total is at least 10 and at least one criterion is clinical
(the antiphospholipid, complement and SLE-specific antibody domains are immunological).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from lupus_msc.clinical.common import Instrument, InstrumentInput, InstrumentResult

Domain = Literal[
    "constitutional",
    "hematologic",
    "neuropsychiatric",
    "mucocutaneous",
    "serosal",
    "musculoskeletal",
    "renal",
    "antiphospholipid",
    "complement",
    "sle_specific_antibodies",
]
CriterionKey = Literal[
    "fever",
    "leukopenia",
    "thrombocytopenia",
    "autoimmune_hemolysis",
    "delirium",
    "psychosis",
    "seizure",
    "non_scarring_alopecia",
    "oral_ulcers",
    "subacute_cutaneous_or_discoid_lupus",
    "acute_cutaneous_lupus",
    "pleural_or_pericardial_effusion",
    "acute_pericarditis",
    "joint_involvement",
    "proteinuria",
    "renal_biopsy_class_ii_or_v",
    "renal_biopsy_class_iii_or_iv",
    "antiphospholipid_antibodies",
    "low_c3",
    "low_c4",
    "anti_dsdna_or_anti_smith",
]


@dataclass(frozen=True)
class Criterion:
    """One additive criterion of the §7 table: its domain, weight and whether it is clinical."""

    key: CriterionKey
    domain: Domain
    weight: int
    clinical: bool
    definition: str


@dataclass(frozen=True)
class Combination:
    """Criteria that score together more than each alone (§7: low C3 **and** low C4 → 4)."""

    requires: frozenset[CriterionKey]
    domain: Domain
    weight: int
    definition: str


CRITERIA: tuple[Criterion, ...] = (
    Criterion("fever", "constitutional", 2, True, "fever > 38.3 °C (D12)"),
    Criterion("leukopenia", "hematologic", 3, True, "leukopenia < 4.0 × 10⁹/L"),
    Criterion("thrombocytopenia", "hematologic", 4, True, "thrombocytopenia < 100 × 10⁹/L"),
    Criterion("autoimmune_hemolysis", "hematologic", 4, True, "autoimmune haemolysis"),
    Criterion("delirium", "neuropsychiatric", 2, True, "delirium"),
    Criterion("psychosis", "neuropsychiatric", 3, True, "psychosis"),
    Criterion("seizure", "neuropsychiatric", 5, True, "seizure"),
    Criterion("non_scarring_alopecia", "mucocutaneous", 2, True, "non-scarring alopecia"),
    Criterion("oral_ulcers", "mucocutaneous", 2, True, "oral ulcers"),
    Criterion(
        "subacute_cutaneous_or_discoid_lupus",
        "mucocutaneous",
        4,
        True,
        "subacute cutaneous or discoid lupus",
    ),
    Criterion("acute_cutaneous_lupus", "mucocutaneous", 6, True, "acute cutaneous lupus"),
    Criterion(
        "pleural_or_pericardial_effusion", "serosal", 5, True, "pleural or pericardial effusion"
    ),
    Criterion("acute_pericarditis", "serosal", 6, True, "acute pericarditis"),
    Criterion("joint_involvement", "musculoskeletal", 6, True, "joint involvement"),
    Criterion("proteinuria", "renal", 4, True, "proteinuria > 0.5 g/24 h"),
    Criterion("renal_biopsy_class_ii_or_v", "renal", 8, True, "renal biopsy class II or V LN"),
    Criterion("renal_biopsy_class_iii_or_iv", "renal", 10, True, "renal biopsy class III or IV LN"),
    Criterion(
        "antiphospholipid_antibodies",
        "antiphospholipid",
        2,
        False,
        "anticardiolipin or anti-β2GP1 or lupus anticoagulant",
    ),
    Criterion("low_c3", "complement", 3, False, "low C3 (alone: low C3 or low C4)"),
    Criterion("low_c4", "complement", 3, False, "low C4 (alone: low C3 or low C4)"),
    Criterion(
        "anti_dsdna_or_anti_smith", "sle_specific_antibodies", 6, False, "anti-dsDNA or anti-Smith"
    ),
)
COMBINATIONS: tuple[Combination, ...] = (
    Combination(frozenset({"low_c3", "low_c4"}), "complement", 4, "low C3 and low C4"),
)
BY_KEY: dict[str, Criterion] = {criterion.key: criterion for criterion in CRITERIA}
DOMAINS: tuple[Domain, ...] = tuple(dict.fromkeys(criterion.domain for criterion in CRITERIA))
ENTRY_ANA_TITER = 80
"""Entry criterion: ANA titre ≥ 1:80, i.e. a denominator of at least 80 (§7)."""
CLASSIFICATION_TOTAL = 10
"""Classify when the total is at least 10 and a clinical criterion is present (§7)."""


def domain_points(present: Iterable[str]) -> dict[str, int]:
    """Weight of the highest criterion present in each domain that scores (§7).

    A combination (low C3 and low C4) competes within its domain like any other criterion.
    """
    keys = set(present)
    candidates = [(BY_KEY[key].domain, BY_KEY[key].weight) for key in keys]
    candidates += [(combo.domain, combo.weight) for combo in COMBINATIONS if combo.requires <= keys]
    best: dict[str, int] = {}
    for domain, weight in candidates:
        best[domain] = max(best.get(domain, 0), weight)
    return {domain: best[domain] for domain in DOMAINS if domain in best}


def max_attainable() -> int:
    """The highest total the table allows: every domain at its best criterion (§7: 51)."""
    return sum(domain_points(criterion.key for criterion in CRITERIA).values())


def entry_criterion_met(*, ana_titer: int | None, ana_equivalent_positive: bool | None) -> bool:
    """ANA ≥ 1:80 on HEp-2 cells or an equivalent positive test, at least once (§7)."""
    titer_ok = ana_titer is not None and ana_titer >= ENTRY_ANA_TITER
    return titer_ok or ana_equivalent_positive is True


class EularAcr2019Input(InstrumentInput):
    """The ANA result(s) and the criteria present, ever, not better explained otherwise (§16.6)."""

    ana_titer: Annotated[int, Field(ge=0)] | None = None
    """Denominator of the ANA titre: 160 for 1:160 (0 = no reactivity at screening dilution)."""
    ana_equivalent_positive: bool | None = None
    criteria: list[CriterionKey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _an_ana_result_is_given(self) -> Self:
        if self.ana_titer is None and self.ana_equivalent_positive is None:
            raise ValueError(
                "give ana_titer and/or ana_equivalent_positive: the entry criterion needs one"
            )
        return self


class EularAcr2019Result(InstrumentResult):
    instrument: Literal["eular-acr-2019"] = "eular-acr-2019"
    section: Literal["§7"] = "§7"
    entry_criterion_met: bool
    total: int
    domain_points: dict[str, int]
    has_clinical_criterion: bool
    classified: bool


def score(inp: EularAcr2019Input) -> EularAcr2019Result:
    """Apply the 2019 EULAR/ACR classification criteria (§7; contract §16.6).

    Without the entry criterion the total is 0 and no domain scores. ``has_clinical_criterion``
    always describes the criteria listed, entry or not. Criteria not listed count as absent, so
    ``missing`` stays empty (§16.6 decides every output from the inputs given).
    """
    entry = entry_criterion_met(
        ana_titer=inp.ana_titer, ana_equivalent_positive=inp.ana_equivalent_positive
    )
    points = domain_points(inp.criteria) if entry else {}
    total = sum(points.values())
    clinical = any(BY_KEY[key].clinical for key in inp.criteria)
    return EularAcr2019Result(
        entry_criterion_met=entry,
        total=total,
        domain_points=points,
        has_clinical_criterion=clinical,
        classified=entry and clinical and total >= CLASSIFICATION_TOTAL,
    )


INSTRUMENT = Instrument(
    name="eular-acr-2019",
    section="§7",
    title="2019 EULAR/ACR classification criteria for SLE",
    input_model=EularAcr2019Input,
    result_model=EularAcr2019Result,
    score=score,
)
