"""Pages of the cell-processing lab (DESIGN.md pathway step 3): donors and harvests, lots and
their release tests, the signed release decision, the custody log, allocation and the label."""

from __future__ import annotations

from fastapi import APIRouter

from lupus_msc.web.pages import (
    lab_donors,
    lab_label,
    lab_lot_actions,
    lab_lots,
    lab_release,
)

router = APIRouter(include_in_schema=False)
router.include_router(lab_donors.router)
router.include_router(lab_lots.router)
router.include_router(lab_lot_actions.router)
router.include_router(lab_release.router)
router.include_router(lab_label.router)
