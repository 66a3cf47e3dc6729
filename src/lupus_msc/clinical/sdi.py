"""SLICC/ACR Damage Index: 41 items in 12 organ systems, total 0–47 (§8, contract §16.7).

Each item is given as a boolean (present or not) or as a count of events/sites. An item marked
"2 if > 1" scores 2 when its count is above 1; every other item present scores 1, except end-stage
renal disease, which scores 3 and replaces the two other renal items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from lupus_msc.clinical.common import Instrument, InstrumentInput, InstrumentResult

Organ = Literal[
    "ocular",
    "neuropsychiatric",
    "renal",
    "pulmonary",
    "cardiovascular",
    "peripheral_vascular",
    "gastrointestinal",
    "musculoskeletal",
    "skin",
    "gonadal",
    "endocrine",
    "malignancy",
]


@dataclass(frozen=True)
class SdiItem:
    """One SDI item of the §8 table."""

    key: str
    organ: Organ
    definition: str
    repeatable: bool = False
    """Marked "2 if > 1" in §8 (* in §16.7): a count above 1 scores 2."""
    points: int = 1


_O: Organ = "ocular"
_NP: Organ = "neuropsychiatric"
_R: Organ = "renal"
_P: Organ = "pulmonary"
_CV: Organ = "cardiovascular"
_PV: Organ = "peripheral_vascular"
_GI: Organ = "gastrointestinal"
_MSK: Organ = "musculoskeletal"
ITEMS: tuple[SdiItem, ...] = (
    SdiItem("cataract", _O, "any cataract ever"),
    SdiItem("retinal_change_or_optic_atrophy", _O, "retinal change or optic atrophy"),
    SdiItem("cognitive_impairment_or_psychosis", _NP, "cognitive impairment or major psychosis"),
    SdiItem("seizures_6_months", _NP, "seizures requiring therapy for 6 months"),
    SdiItem("cerebrovascular_accident", _NP, "cerebrovascular accident ever", repeatable=True),
    SdiItem("neuropathy", _NP, "cranial or peripheral neuropathy (excluding optic)"),
    SdiItem("transverse_myelitis", _NP, "transverse myelitis"),
    SdiItem("gfr_below_50_percent", _R, "estimated or measured GFR < 50 %"),
    SdiItem("proteinuria_3_5_g", _R, "proteinuria ≥ 3.5 g/24 h (D13)"),
    SdiItem("end_stage_renal_disease", _R, "end-stage renal disease", points=3),
    SdiItem("pulmonary_hypertension", _P, "pulmonary hypertension"),
    SdiItem("pulmonary_fibrosis", _P, "pulmonary fibrosis (physical and radiograph)"),
    SdiItem("shrinking_lung", _P, "shrinking lung (radiograph)"),
    SdiItem("pleural_fibrosis", _P, "pleural fibrosis (radiograph)"),
    SdiItem("pulmonary_infarction", _P, "pulmonary infarction (radiograph)"),
    SdiItem("angina_or_bypass", _CV, "angina or coronary artery bypass"),
    SdiItem("myocardial_infarction", _CV, "myocardial infarction ever", repeatable=True),
    SdiItem("cardiomyopathy", _CV, "cardiomyopathy (ventricular dysfunction)"),
    SdiItem("valvular_disease", _CV, "valvular disease"),
    SdiItem("pericarditis_6_months_or_pericardiectomy", _CV, "pericarditis 6 months or removal"),
    SdiItem("claudication_6_months", _PV, "claudication for 6 months"),
    SdiItem("minor_tissue_loss", _PV, "minor tissue loss (pulp space)"),
    SdiItem("significant_tissue_loss", _PV, "significant tissue loss ever", repeatable=True),
    SdiItem("venous_thrombosis", _PV, "venous thrombosis with swelling, ulceration or stasis"),
    SdiItem(
        "bowel_infarction_or_resection",
        _GI,
        "infarction or resection of bowel below duodenum, spleen, liver or gall bladder ever",
        repeatable=True,
    ),
    SdiItem("mesenteric_insufficiency", _GI, "mesenteric insufficiency"),
    SdiItem("chronic_peritonitis", _GI, "chronic peritonitis"),
    SdiItem("upper_gi_stricture_or_surgery", _GI, "stricture or upper GI tract surgery ever"),
    SdiItem("pancreatic_insufficiency", _GI, "pancreatic insufficiency"),
    SdiItem("muscle_atrophy_or_weakness", _MSK, "muscle atrophy or weakness"),
    SdiItem("deforming_or_erosive_arthritis", _MSK, "deforming or erosive arthritis"),
    SdiItem("osteoporosis_with_fracture", _MSK, "osteoporosis with fracture or vertebral collapse"),
    SdiItem("avascular_necrosis", _MSK, "avascular necrosis", repeatable=True),
    SdiItem("osteomyelitis", _MSK, "osteomyelitis"),
    SdiItem("ruptured_tendon", _MSK, "ruptured tendon"),
    SdiItem("scarring_chronic_alopecia", "skin", "scarring chronic alopecia"),
    SdiItem("extensive_scarring", "skin", "extensive scarring of panniculum"),
    SdiItem("skin_ulceration_6_months", "skin", "skin ulceration for > 6 months"),
    SdiItem("premature_gonadal_failure", "gonadal", "premature gonadal failure"),
    SdiItem("diabetes", "endocrine", "diabetes (regardless of treatment)"),
    SdiItem("malignancy", "malignancy", "malignancy, excluding dysplasia", repeatable=True),
)
BY_KEY: dict[str, SdiItem] = {item.key: item for item in ITEMS}
ORGANS: tuple[Organ, ...] = tuple(dict.fromkeys(item.organ for item in ITEMS))
ESRD = "end_stage_renal_disease"
REPLACED_BY_ESRD = frozenset({"gfr_below_50_percent", "proteinuria_3_5_g"})
"""End-stage renal disease scores 3 instead of these two items (§8)."""


def _item_value(value: object) -> bool | int:
    """Accept true/false or a count (an integer ≥ 0); refuse strings, decimals and negatives."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if value < 0:
            raise PydanticCustomError(
                "out_of_range", "a count must be at least 0 (got {value})", {"value": value}
            )
        return value
    raise PydanticCustomError("item_type", "must be true/false or a count (an integer ≥ 0)")


ItemValue = Annotated[
    bool | int,
    PlainValidator(_item_value),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "integer", "minimum": 0}]}),
]


class SdiItems(InstrumentInput):
    """The 41 items of §16.7; absent or null = not assessed."""

    cataract: ItemValue | None = None
    retinal_change_or_optic_atrophy: ItemValue | None = None
    cognitive_impairment_or_psychosis: ItemValue | None = None
    seizures_6_months: ItemValue | None = None
    cerebrovascular_accident: ItemValue | None = None
    neuropathy: ItemValue | None = None
    transverse_myelitis: ItemValue | None = None
    gfr_below_50_percent: ItemValue | None = None
    proteinuria_3_5_g: ItemValue | None = None
    end_stage_renal_disease: ItemValue | None = None
    pulmonary_hypertension: ItemValue | None = None
    pulmonary_fibrosis: ItemValue | None = None
    shrinking_lung: ItemValue | None = None
    pleural_fibrosis: ItemValue | None = None
    pulmonary_infarction: ItemValue | None = None
    angina_or_bypass: ItemValue | None = None
    myocardial_infarction: ItemValue | None = None
    cardiomyopathy: ItemValue | None = None
    valvular_disease: ItemValue | None = None
    pericarditis_6_months_or_pericardiectomy: ItemValue | None = None
    claudication_6_months: ItemValue | None = None
    minor_tissue_loss: ItemValue | None = None
    significant_tissue_loss: ItemValue | None = None
    venous_thrombosis: ItemValue | None = None
    bowel_infarction_or_resection: ItemValue | None = None
    mesenteric_insufficiency: ItemValue | None = None
    chronic_peritonitis: ItemValue | None = None
    upper_gi_stricture_or_surgery: ItemValue | None = None
    pancreatic_insufficiency: ItemValue | None = None
    muscle_atrophy_or_weakness: ItemValue | None = None
    deforming_or_erosive_arthritis: ItemValue | None = None
    osteoporosis_with_fracture: ItemValue | None = None
    avascular_necrosis: ItemValue | None = None
    osteomyelitis: ItemValue | None = None
    ruptured_tendon: ItemValue | None = None
    scarring_chronic_alopecia: ItemValue | None = None
    extensive_scarring: ItemValue | None = None
    skin_ulceration_6_months: ItemValue | None = None
    premature_gonadal_failure: ItemValue | None = None
    diabetes: ItemValue | None = None
    malignancy: ItemValue | None = None


class SdiInput(InstrumentInput):
    """One damage assessment (§16.7). Items not given count as absent and unassessed."""

    items: SdiItems = Field(default_factory=SdiItems)


class SdiResult(InstrumentResult):
    instrument: Literal["sdi"] = "sdi"
    section: Literal["§8"] = "§8"
    total: int
    organ_points: dict[str, int]
    items_scored: dict[str, int]
    assessed_all: bool


def item_points(item: SdiItem, value: bool | int | None) -> int:
    """Points of one item (§8): absent, false or 0 → 0; a count > 1 → 2 if the item allows it.

    ``True`` means present once, like a count of 1.
    """
    if value is None or value is False or value == 0:
        return 0
    if item.repeatable and value > 1:
        return 2
    return item.points


def score(inp: SdiInput) -> SdiResult:
    """Score the SLICC/ACR Damage Index (§8; contract §16.7).

    End-stage renal disease, when it scores, takes the place of the GFR and proteinuria items.
    ``missing`` stays empty: every output is decided, and ``assessed_all`` says whether all 41
    items were given.
    """
    values: dict[str, bool | int | None] = {
        item.key: getattr(inp.items, item.key) for item in ITEMS
    }
    scored = {item.key: item_points(item, values[item.key]) for item in ITEMS}
    if scored[ESRD]:
        scored = {key: points for key, points in scored.items() if key not in REPLACED_BY_ESRD}
    scored = {key: points for key, points in scored.items() if points}
    organ_points: dict[str, int] = {}
    for key, points in scored.items():
        organ = BY_KEY[key].organ
        organ_points[organ] = organ_points.get(organ, 0) + points
    return SdiResult(
        total=sum(scored.values()),
        organ_points=organ_points,
        items_scored=scored,
        assessed_all=all(value is not None for value in values.values()),
    )


INSTRUMENT = Instrument(
    name="sdi",
    section="§8",
    title="SLICC/ACR Damage Index (SDI)",
    input_model=SdiInput,
    result_model=SdiResult,
    score=score,
)
