"""Pages: the infusion at the bedside (DESIGN.md pathway step 4).

- ``GET /patients/{id}/infusions/new``: the patient, their lots, every gate, and the steps;
- ``POST /patients/{id}/infusions/check``: step 1, the two-person identity check (``bedside``);
- ``POST /patients/{id}/infusions/preview``: the dose for the weight typed (``infusion_record``);
- ``POST /patients/{id}/infusions``: steps 2 and 3, the infusion record (``infusion_record``);
- ``GET /infusions/{id}``: the recorded infusion (``infusion_view``).
"""

from __future__ import annotations

from fastapi import APIRouter

from lupus_msc.web.pages import bedside, infusion_record, infusion_view

router = APIRouter(include_in_schema=False)
router.include_router(bedside.router)
router.include_router(infusion_record.router)
router.include_router(infusion_view.router)
