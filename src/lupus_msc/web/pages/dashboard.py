"""The dashboard: what needs attention today."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lupus_msc.web.session import WebUserDep
from lupus_msc.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: WebUserDep) -> HTMLResponse:
    return render(request, "dashboard.html", user=user)
