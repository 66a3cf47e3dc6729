"""Page: the printable label of a lot: its chain-of-identity code (§14) as large text and as a QR
code made by the ``segno`` library (inline SVG, so the page needs no image request), with what
the bedside needs to read: product, tissue source, cells, volume, expiry and storage.

The QR code holds exactly the code, check character included (ISO 7064 MOD 37-2,
``cells.identity``), so a scanner at the bedside reads what the identity check compares.
"""

from __future__ import annotations

import uuid

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from lupus_msc.services import products
from lupus_msc.services.access import Action
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.pages.lab_common import KIND_NAMES, TISSUE_NAMES, cells
from lupus_msc.web.pages.lab_lot_view import check_character
from lupus_msc.web.session import WebUserDep, require_action
from lupus_msc.web.templating import render

router = APIRouter(include_in_schema=False)


def qr_svg(code: str) -> Markup:
    """The QR code of ``code`` as inline SVG (a full QR code, never a Micro QR; quiet zone of 4
    modules as ISO/IEC 18004 asks)."""
    symbol = segno.make(code, micro=False)
    svg: str = symbol.svg_inline(omitsize=True, svgclass="qr-code", lineclass=None, border=4)
    return Markup(svg)  # noqa: S704 - segno's own markup of an already validated lot code


def product_name(kind: str, tissue: str) -> str:
    return f"{kind} {tissue.lower()}-derived mesenchymal stromal cells (MSC)"


@router.get("/lab/lots/{lot_id}/label", response_class=HTMLResponse)
def label(
    request: Request, lot_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep
) -> HTMLResponse:
    require_action(user, Action.READ_PRODUCTS)
    with registry.reads() as session:
        lot = products.get_lot(session, user.actor, lot_id)
        donor = products.donor_of(session, lot)
    tissue = TISSUE_NAMES[donor.tissue_source]
    context = {
        "lot": lot,
        "check": check_character(lot.code),
        "qr": qr_svg(lot.code),
        "product": product_name(KIND_NAMES[donor.kind], tissue),
        "tissue": tissue,
        "cells": cells,
    }
    return render(request, "lab/label.html", context, user=user)
