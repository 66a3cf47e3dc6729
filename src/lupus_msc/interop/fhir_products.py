"""BiologicallyDerivedProduct (an MSC lot) and Procedure (the infusion that used it), issue 8."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fhir.resources.R4B.biologicallyderivedproduct import (
    BiologicallyDerivedProduct,
    BiologicallyDerivedProductCollection,
)
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.procedure import Procedure

from lupus_msc.cells.lot_state import LotState
from lupus_msc.interop.fhir_common import (
    BASE,
    CHAIN_OF_IDENTITY_SYSTEM,
    TISSUE_SOURCE_EXTENSION,
    instant,
    local,
    reference,
)
from lupus_msc.store import models

TISSUE_SYSTEM = f"{BASE}/CodeSystem/tissue-sources"
PRODUCT_SYSTEM = f"{BASE}/CodeSystem/products"
PROCEDURE_SYSTEM = f"{BASE}/CodeSystem/procedures"
AVAILABLE = frozenset({LotState.RELEASED, LotState.ALLOCATED, LotState.SHIPPED, LotState.THAWED})
"""Lot states in which the product can still be given; R4B status is available|unavailable."""


def _tissue(harvest: models.Harvest) -> Extension:
    """``TISSUE_SOURCE_EXTENSION``: R4B's product has no tissue element; valueCodeableConcept."""
    source = harvest.tissue_source.value
    return Extension(
        url=TISSUE_SOURCE_EXTENSION,
        valueCodeableConcept=local(TISSUE_SYSTEM, source, source.replace("-", " ")),
    )


def product(lot: models.Lot, harvest: models.Harvest) -> BiologicallyDerivedProduct:
    """The lot, identified by its chain-of-identity code, with the harvest it came from."""
    return BiologicallyDerivedProduct(
        id=str(lot.id),
        extension=[_tissue(harvest)],
        identifier=[Identifier(system=CHAIN_OF_IDENTITY_SYSTEM, value=lot.code)],
        productCategory="cells",
        productCode=local(PRODUCT_SYSTEM, "msc", "Mesenchymal stromal cells"),
        status="available" if lot.state in AVAILABLE else "unavailable",
        collection=BiologicallyDerivedProductCollection(collectedDateTime=harvest.collected_on),
    )


def infusion_procedure(infusion: models.Infusion, lot_ids: Sequence[uuid.UUID]) -> Procedure:
    """The infusion (number n of the course), using the products of ``lot_ids``."""
    end = None if infusion.ended_at is None else instant(infusion.ended_at)
    return Procedure(
        id=str(infusion.id),
        status="completed" if end is not None else "in-progress",
        code=local(PROCEDURE_SYSTEM, "msc-infusion", "Mesenchymal stromal cell infusion"),
        subject=reference("Patient", infusion.patient_id),
        performedPeriod=Period(start=instant(infusion.started_at), end=end),
        usedReference=[reference("BiologicallyDerivedProduct", lot) for lot in lot_ids] or None,
        bodySite=[CodeableConcept(text=infusion.injection_site)]
        if infusion.injection_site
        else None,
    )
