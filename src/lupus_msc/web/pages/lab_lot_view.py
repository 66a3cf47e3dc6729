"""What the lot page shows: the lot, its release tests against its specification (§14, §16.14),
the signed decisions, the custody log and the allocation. Every judgement comes from the
services (``release.list_tests``/``evaluate``: the ``isct-release`` instrument); this module only
arranges it for the template."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from lupus_msc.cells.identity import parse_lot_code
from lupus_msc.cells.lot_state import LotState
from lupus_msc.services import custody, lots, patients, products, release
from lupus_msc.services.access import Action
from lupus_msc.store.models import Lot, ReleaseTest
from lupus_msc.web.pages.lab_common import (
    CUSTODY_NAMES,
    KIND_NAMES,
    STATE_BADGE,
    TISSUE_NAMES,
    cells,
    site_codes,
)
from lupus_msc.web.session import WebUser

BOOLEAN = "boolean"
WORD = "word"
NUMBER = "number"
RELEASE_TESTS: dict[str, tuple[str, str]] = {
    "plastic_adherent": ("Plastic adherence", BOOLEAN),
    "trilineage_differentiation": ("Trilineage differentiation", BOOLEAN),
    "cd105_pct": ("CD105 (% of cells)", NUMBER),
    "cd73_pct": ("CD73 (% of cells)", NUMBER),
    "cd90_pct": ("CD90 (% of cells)", NUMBER),
    "cd45_pct": ("CD45 (% of cells)", NUMBER),
    "cd34_pct": ("CD34 (% of cells)", NUMBER),
    "cd14_or_cd11b_pct": ("CD14 or CD11b (% of cells)", NUMBER),
    "cd79a_or_cd19_pct": ("CD79α or CD19 (% of cells)", NUMBER),
    "hla_dr_pct": ("HLA-DR (% of cells)", NUMBER),
    "viability_pct": ("Viability (%)", NUMBER),
    "sterility": ("Sterility", WORD),
    "mycoplasma": ("Mycoplasma", WORD),
    "endotoxin_eu_per_kg": ("Endotoxin dose (EU/kg)", NUMBER),
    "endotoxin_eu_ml": ("or: endotoxin (EU/mL)", NUMBER),
    "dose_volume_ml": ("and dose volume (mL)", NUMBER),
    "recipient_weight_kg": ("and recipient weight (kg)", NUMBER),
}
"""The ``isct-release`` inputs (§16.14) in the order of the ISCT criteria and the release table
of §14, with how each is entered. Endotoxin is given as a dose per kg or as its three parts."""
CHOICES = {
    BOOLEAN: [("true", "Yes"), ("false", "No")],
    WORD: [("negative", "Negative"), ("positive", "Positive")],
}


def _shown(value: Any) -> str:
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return str(value)


def _test_rows(lot: Lot, tests: list[ReleaseTest]) -> list[dict[str, Any]]:
    spec = products.spec_of(lot)
    current = {test.name: test for test in tests if not test.superseded}
    rows = []
    for name, (title, kind) in RELEASE_TESTS.items():
        test = current.get(name)
        rows.append(
            {
                "name": name,
                "title": title,
                "kind": kind,
                "choices": CHOICES.get(kind, []),
                "specification": test.specification if test else release.specification(name, spec),
                "result": _shown(release.test_view(test).value) if test else None,
                "test": test,
            }
        )
    return rows


def _superseded(tests: list[ReleaseTest]) -> list[dict[str, Any]]:
    return [
        {"title": RELEASE_TESTS[test.name][0], "result": _shown(release.test_view(test).value),
         "test": test}
        for test in tests
        if test.superseded
    ]  # fmt: skip


def allocatable_patients(session: Session, user: WebUser, lot: Lot) -> list[tuple[str, str]]:
    """Patients of the lot's site who may receive a lot (``lots.ALLOCATABLE``), as options."""
    found = []
    for state in sorted(lots.ALLOCATABLE):
        found += patients.listing(
            session, user.actor, site_id=lot.site_id, state=state, limit=500, offset=0
        )
    found.sort(key=lambda patient: patient.study_code)
    return [(str(patient.id), f"{patient.study_code} ({patient.state.value})") for patient in found]


def check_character(code: str) -> str:
    """The check character of a chain-of-identity code (its last character, §14)."""
    parse_lot_code(code)
    return code[-1]


def lot_context(session: Session, user: WebUser, lot_id: uuid.UUID) -> dict[str, Any]:
    """Everything the lot page shows, read for ``user`` (404 for another site's lot)."""
    lot = products.get_lot(session, user.actor, lot_id)
    tests = release.list_tests(session, user.actor, lot.id)
    events = custody.chain(session, user.actor, lot.id)
    decisions = release.decisions(session, user.actor, lot.id)
    donor = products.donor_of(session, lot)
    who = custody.names(
        session, {event.by_id for event in events} | {t.recorded_by_id for t in tests}
    )
    can_write = user.can(Action.WRITE_PRODUCTS)
    patient = (
        patients.get(session, user.actor, lot.allocated_patient_id).study_code
        if lot.allocated_patient_id and user.can(Action.READ_PATIENTS)
        else None
    )
    return {
        "lot": lot,
        "check": check_character(lot.code),
        "site": site_codes(session, user).get(lot.site_id, "?"),
        "donor": donor,
        "harvest": products.harvest_of(session, lot),
        "rows": _test_rows(lot, tests),
        "superseded": _superseded(tests),
        "evaluation": release.evaluate(session, user.actor, lot.id),
        "decisions": decisions,
        "events": events,
        "who": who,
        "patient": patient,
        "state_badge": STATE_BADGE,
        "tissues": TISSUE_NAMES,
        "kinds": KIND_NAMES,
        "custody_names": CUSTODY_NAMES,
        "custody_kinds": [(kind.value, CUSTODY_NAMES[kind]) for kind in custody.RECORDED_HERE],
        "cells": cells,
        "can_write": can_write,
        "can_test": can_write and lot.state is LotState.QUARANTINE,
        "can_custody": can_write and lot.state not in custody.GONE,
        "recipients": allocatable_patients(session, user, lot)
        if can_write and lot.state is LotState.RELEASED
        else [],
        "can_release": user.can(Action.RELEASE_LOT) and lot.state is LotState.QUARANTINE,
    }
