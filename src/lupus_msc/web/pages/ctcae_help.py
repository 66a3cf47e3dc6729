"""CTCAE v5.0 grade definitions shown as help on the adverse-event form (§12 of
instruments.md, quoted from its table). Help text only: grades are derived by the ``ctcae``
instrument through ``services.adverse_events.grade_of``, never here."""

from __future__ import annotations

import re

Definitions = tuple[str, str, str, str, str]

_DECREASED = "Investigations; grade 1 needs the lab's LLN"
HELP: dict[str, tuple[str, str, Definitions]] = {
    "neutrophil_count_decreased": (
        "Neutrophil count decreased",
        _DECREASED,
        ("< LLN – 1.5 × 10⁹/L", "< 1.5 – 1.0", "< 1.0 – 0.5", "< 0.5", "–"),
    ),
    "white_blood_cell_decreased": (
        "White blood cell decreased",
        _DECREASED,
        ("< LLN – 3.0 × 10⁹/L", "< 3.0 – 2.0", "< 2.0 – 1.0", "< 1.0", "–"),
    ),
    "platelet_count_decreased": (
        "Platelet count decreased",
        _DECREASED,
        ("< LLN – 75.0 × 10⁹/L", "< 75.0 – 50.0", "< 50.0 – 25.0", "< 25.0", "–"),
    ),
    "lymphocyte_count_decreased": (
        "Lymphocyte count decreased",
        _DECREASED,
        ("< LLN – 0.8 × 10⁹/L", "< 0.8 – 0.5", "< 0.5 – 0.2", "< 0.2", "–"),
    ),
    "anemia": (
        "Anemia",
        "Blood and lymphatic; grades 4–5 are clinical judgements",
        (
            "Hb < LLN – 10.0 g/dL",
            "< 10.0 – 8.0 g/dL",
            "< 8.0 g/dL; transfusion indicated",
            "life-threatening consequences; urgent intervention indicated",
            "death",
        ),
    ),
    "alt_increased": (
        "Alanine aminotransferase increased",
        "Investigations; needs the ULN (and the baseline if abnormal)",
        (
            "> ULN – 3.0 × ULN (normal baseline); 1.5 – 3.0 × baseline (abnormal)",
            "> 3.0 – 5.0 × ULN or baseline",
            "> 5.0 – 20.0 × ULN or baseline",
            "> 20.0 × ULN or baseline",
            "–",
        ),
    ),
    "ast_increased": (
        "Aspartate aminotransferase increased",
        "Investigations; needs the ULN (and the baseline if abnormal)",
        (
            "> ULN – 3.0 × ULN (normal baseline); 1.5 – 3.0 × baseline (abnormal)",
            "> 3.0 – 5.0 × ULN or baseline",
            "> 5.0 – 20.0 × ULN or baseline",
            "> 20.0 × ULN or baseline",
            "–",
        ),
    ),
    "creatinine_increased": (
        "Creatinine increased",
        "Investigations; needs the ULN (a baseline may raise the grade)",
        (
            "> ULN – 1.5 × ULN",
            "> 1.5 – 3.0 × baseline; > 1.5 – 3.0 × ULN",
            "> 3.0 × baseline; > 3.0 – 6.0 × ULN",
            "> 6.0 × ULN",
            "–",
        ),
    ),
    "fever": (
        "Fever",
        "General; above 40.0 °C the grade needs the hours above 40",
        (
            "38.0 – 39.0 °C",
            "> 39.0 – 40.0 °C",
            "> 40.0 °C for ≤ 24 h",
            "> 40.0 °C for > 24 h",
            "death",
        ),
    ),
    "infusion_related_reaction": (
        "Infusion related reaction",
        "Injury, poisoning and procedural complications; clinical grade",
        (
            "mild transient reaction; infusion interruption not indicated; "
            "intervention not indicated",
            "therapy or infusion interruption indicated but responds promptly to "
            "symptomatic treatment; prophylactic medication indicated for ≤ 24 h",
            "prolonged; recurrence after initial improvement; hospitalisation indicated "
            "for clinical sequelae",
            "life-threatening consequences; urgent intervention indicated",
            "death",
        ),
    ),
    "allergic_reaction": (
        "Allergic reaction",
        "Immune system; clinical grade",
        (
            "systemic intervention not indicated",
            "oral intervention indicated",
            "bronchospasm; hospitalisation indicated for clinical sequelae; "
            "intravenous intervention indicated",
            "life-threatening consequences; urgent intervention indicated",
            "death",
        ),
    ),
}
"""§12 table, term key → (CTCAE term, note, definitions of grades 1–5)."""
TERM_NAMES = tuple(name for name, _, _ in HELP.values())


def help_for(term: str, key: str | None) -> tuple[str, str, Definitions] | None:
    """The §12 definitions of a typed term (``key``: the services' lab-term key, if any)."""
    if key is not None and key in HELP:
        return HELP[key]
    normalised = re.sub(r"[\s-]+", "_", term.strip().lower())
    return HELP.get(normalised)
