"""What the cell-processing lab pages share: words for the product's enumerations, the sites a
user may choose, and turning a refusal into messages next to the fields (DESIGN.md step 3)."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from lupus_msc.cells.lot_state import LotState
from lupus_msc.services import accounts
from lupus_msc.services.errors import NotFound, ServiceError
from lupus_msc.store.models import CustodyKind, DonorKind, TissueSource
from lupus_msc.web.forms import FormErrors
from lupus_msc.web.session import WebUser

TISSUE_NAMES = {
    TissueSource.BONE_MARROW: "Bone marrow",
    TissueSource.UMBILICAL_CORD: "Umbilical cord",
    TissueSource.ADIPOSE: "Adipose tissue",
}
KIND_NAMES = {DonorKind.AUTOLOGOUS: "Autologous", DonorKind.ALLOGENEIC: "Allogeneic"}
STATE_BADGE = {
    LotState.QUARANTINE: "warn",
    LotState.RELEASED: "ok",
    LotState.ALLOCATED: "ok",
    LotState.SHIPPED: "ok",
    LotState.THAWED: "ok",
    LotState.INFUSED: "",
    LotState.REJECTED: "bad",
    LotState.DISCARDED: "bad",
}
CUSTODY_NAMES = {kind: kind.value.replace("-", " ").capitalize() for kind in CustodyKind}


def options(names: dict[Any, str]) -> list[tuple[str, str]]:
    """(value, text) pairs for the ``select`` macro."""
    return [(str(key), text) for key, text in names.items()]


def sites_of(session: Session, user: WebUser) -> list[tuple[str, str]]:
    """The sites the user works at, as select options (admins: every site)."""
    return [
        (str(site.id), f"{site.code} · {site.name}") for site in accounts.sites(session, user.actor)
    ]


def site_codes(session: Session, user: WebUser) -> dict[uuid.UUID, str]:
    return {site.id: site.code for site in accounts.sites(session, user.actor)}


def parse_id(text: str | None, what: str) -> uuid.UUID:
    """An id from a query string or a form; a malformed one is simply not found (404)."""
    try:
        return uuid.UUID(str(text))
    except ValueError as error:
        raise NotFound(f"no {what} {text}") from error


def refusal(
    error: ServiceError | FormErrors, *, rename: dict[str, str] | None = None
) -> tuple[str, dict[str, str], int]:
    """(message, field → message, status) for re-rendering a form after a refusal.

    ``rename`` maps a service's field name to the form field that shows it.
    """
    names = rename or {}
    if isinstance(error, FormErrors):
        fields = error.fields
        status = 422
    else:
        fields = dict(error.fields)
        status = error.status
    shown = {names.get(field, field): text for field, text in fields.items()}
    return error.message, shown, status


def kept(form: dict[str, Any], *secret: str) -> dict[str, Any]:
    """The posted values to show again in the form (never a password)."""
    return {key: value for key, value in form.items() if key not in {"password", *secret}}


SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def cells(value: Decimal | int | None) -> str:
    """A cell count in scientific notation as the lab writes it: ``1.25 × 10⁸``."""
    if value is None:
        return "—"
    number = Decimal(value)
    if number == 0:
        return "0"
    exponent = number.adjusted()
    mantissa = number.scaleb(-exponent).normalize()
    text = f"{mantissa:f}"
    return f"{text} × 10{str(exponent).translate(SUPERSCRIPT)}"


def unprefixed(form: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The fields of one form on a page of several, without the form's name prefix."""
    return {key[len(prefix) :]: value for key, value in form.items() if key.startswith(prefix)}


def prefixed(fields: dict[str, str], prefix: str) -> dict[str, str]:
    return {prefix + name: text for name, text in fields.items()}


def as_number(text: Any) -> Any:
    """A posted number as an exact decimal (``1.2e8``, ``92``, ``0,4``); other text as it is,
    for the service model to name the field and say what it wants (JSON numbers only)."""
    if not isinstance(text, str) or not text.strip():
        return text
    try:
        number = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return text
    return number if number.is_finite() else text


def with_numbers(form: dict[str, Any], *names: str) -> dict[str, Any]:
    """The form with the fields ``names`` turned into numbers where they are numbers."""
    return {key: as_number(value) if key in names else value for key, value in form.items()}
