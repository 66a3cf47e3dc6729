"""Pages: administration (admins only): users, sites, protocol versions and the audit trail.

Each part has its own module; their routers are included here, so the app registers one router.
"""

from __future__ import annotations

from fastapi import APIRouter

from lupus_msc.web.pages import admin_audit, admin_protocols, admin_sites, admin_users

router = APIRouter(include_in_schema=False)
router.include_router(admin_users.router)
router.include_router(admin_sites.router)
router.include_router(admin_protocols.router)
router.include_router(admin_audit.router)
