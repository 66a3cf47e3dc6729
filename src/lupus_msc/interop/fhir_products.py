"""BiologicallyDerivedProduct (an MSC lot) and Procedure (the infusion that used it), issue 8."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fhir.resources.R4B.biologicallyderivedproduct import BiologicallyDerivedProduct
from fhir.resources.R4B.procedure import Procedure

from lupus_msc.cells.lot_state import LotState
from lupus_msc.interop.fhir_common import (
    BASE,
    CHAIN_OF_IDENTITY_SYSTEM,
    TISSUE_SOURCE_EXTENSION,
    Draft,
    Json,
    built,
    date,
    element,
    instant,
    local,
    period,
    reference,
    text,
)
from lupus_msc.store import models

TISSUE_SYSTEM = f"{BASE}/CodeSystem/tissue-sources"
PRODUCT_SYSTEM = f"{BASE}/CodeSystem/products"
PROCEDURE_SYSTEM = f"{BASE}/CodeSystem/procedures"
AVAILABLE = frozenset({LotState.RELEASED, LotState.ALLOCATED, LotState.SHIPPED, LotState.THAWED})
"""Lot states in which the product can still be given; R4B status is available|unavailable."""


def _tissue(harvest: models.Harvest) -> Json:
    """``TISSUE_SOURCE_EXTENSION``: R4B's product has no tissue element; valueCodeableConcept."""
    source = harvest.tissue_source.value
    return element(
        url=TISSUE_SOURCE_EXTENSION,
        valueCodeableConcept=local(TISSUE_SYSTEM, source, source.replace("-", " ")),
    )


def product_draft(lot: models.Lot, harvest: models.Harvest) -> Draft:
    """The lot, identified by its chain-of-identity code, with the harvest it came from."""
    return Draft(
        BiologicallyDerivedProduct,
        id=str(lot.id),
        extension=[_tissue(harvest)],
        identifier=[element(system=CHAIN_OF_IDENTITY_SYSTEM, value=lot.code)],
        productCategory="cells",
        productCode=local(PRODUCT_SYSTEM, "msc", "Mesenchymal stromal cells"),
        status="available" if lot.state in AVAILABLE else "unavailable",
        collection=element(collectedDateTime=date(harvest.collected_on)),
    )


def product(lot: models.Lot, harvest: models.Harvest) -> BiologicallyDerivedProduct:
    return built(BiologicallyDerivedProduct, product_draft(lot, harvest))


def infusion_procedure_draft(infusion: models.Infusion, lot_ids: Sequence[uuid.UUID]) -> Draft:
    """The infusion (number n of the course), using the products of ``lot_ids``."""
    end = instant(infusion.ended_at)
    return Draft(
        Procedure,
        id=str(infusion.id),
        status="completed" if end is not None else "in-progress",
        code=local(PROCEDURE_SYSTEM, "msc-infusion", "Mesenchymal stromal cell infusion"),
        subject=reference("Patient", infusion.patient_id),
        performedPeriod=period(instant(infusion.started_at), end),
        usedReference=[reference("BiologicallyDerivedProduct", lot) for lot in lot_ids],
        bodySite=[text(infusion.injection_site)] if infusion.injection_site else None,
    )


def infusion_procedure(infusion: models.Infusion, lot_ids: Sequence[uuid.UUID]) -> Procedure:
    return built(Procedure, infusion_procedure_draft(infusion, lot_ids))
