"""FHIR search on ``/fhir``: query parameters, filters and the searchset Bundle with paging.

Parameters this server does not support are refused (400, naming the parameter) rather than
silently ignored, so that a client never reads an unfiltered result as a filtered one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from lupus_msc.interop import fhir_view
from lupus_msc.services.access import Actor
from lupus_msc.services.errors import invalid
from lupus_msc.store.database import Database

DEFAULT_COUNT = 50
MAX_COUNT = 500
PAGING = frozenset({"_count", "_offset", "_format"})
PREFIXES: dict[str, Callable[[str, str], bool]] = {
    "eq": lambda day, wanted: day == wanted,
    "ne": lambda day, wanted: day != wanted,
    "ge": lambda day, wanted: day >= wanted,
    "gt": lambda day, wanted: day > wanted,
    "le": lambda day, wanted: day <= wanted,
    "lt": lambda day, wanted: day < wanted,
}
"""FHIR date search prefixes, on dates (``YYYY-MM-DD``; a date-time is compared by its day)."""


def _number(request: Request, name: str, default: int, top: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) > top:
        raise invalid(name, f"must be a whole number from 0 to {top}")
    return int(text)


def _paging(request: Request) -> tuple[int, int]:
    count = _number(request, "_count", DEFAULT_COUNT, MAX_COUNT)
    return count, _number(request, "_offset", 0, 10_000_000)


def _only(request: Request, allowed: set[str]) -> None:
    for name in request.query_params:
        if name not in allowed | PAGING:
            raise invalid(name, f"not a search parameter here (supported: {sorted(allowed)})")


def page(request: Request, found: list[Any], *, total: int, offset: int, count: int) -> Any:
    """A searchset Bundle of ``found`` (one page), with ``self`` and, if more, ``next`` links."""
    base = f"{request.base_url}fhir"
    links = [{"relation": "self", "url": str(request.url)}]
    if offset + count < total:
        params = {**dict(request.query_params), "_offset": str(offset + count)}
        params["_count"] = str(count)
        links.append({"relation": "next", "url": f"{request.url.path}?{urlencode(params)}"})
        links[-1]["url"] = f"{str(request.base_url).rstrip('/')}{links[-1]['url']}"
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in found
        ],
    }


def search_patients(request: Request, actor: Actor, registry: Database) -> Any:
    _only(request, {"identifier", "_id"})
    count, offset = _paging(request)
    wanted_id = request.query_params.get("_id")
    if wanted_id is not None:
        found = [fhir_view.read(registry, actor, "Patient", wanted_id)]
        return page(request, found, total=1, offset=0, count=1)
    found, total = fhir_view.patients_page(
        registry,
        actor,
        identifier=request.query_params.get("identifier"),
        limit=count,
        offset=offset,
    )
    return page(request, found, total=total, offset=offset, count=count)


Codings = Callable[[dict[str, Any]], list[dict[str, Any]]]


def _token(wanted: str, codings_of: Codings) -> Callable[[dict[str, Any]], bool]:
    """A token search (``system|code`` or ``code``; commas mean "or") on some codings."""
    tokens = [token.rpartition("|") for token in wanted.split(",")]

    def matches(resource: dict[str, Any]) -> bool:
        return any(
            c.get("code") == code and (not system or c.get("system") == system)
            for system, _, code in tokens
            for c in codings_of(resource)
        )

    return matches


def _code_codings(resource: dict[str, Any]) -> list[dict[str, Any]]:
    codings: list[dict[str, Any]] = resource.get("code", {}).get("coding", [])
    return codings


def _category_codings(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for concept in resource.get("category", []) for c in concept.get("coding", [])]


def _date(wanted: str) -> Callable[[dict[str, Any]], bool]:
    prefix, value = (wanted[:2], wanted[2:]) if wanted[:2] in PREFIXES else ("eq", wanted)
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise invalid("date", f"{wanted!r}: a date YYYY-MM-DD with an optional prefix") from None
    compare = PREFIXES[prefix]

    def matches(resource: dict[str, Any]) -> bool:
        effective = resource.get("effectiveDateTime")
        return isinstance(effective, str) and compare(effective[:10], value)

    return matches


def search_compartment(request: Request, kind: str, actor: Actor, registry: Database) -> Any:
    """``kind`` resources of the patient named by ``patient`` (or ``subject``), filtered."""
    allowed = {"patient", "subject"}
    if kind == "Observation":
        allowed |= {"code", "date", "category"}
    _only(request, allowed)
    count, offset = _paging(request)
    patient = request.query_params.get("patient") or request.query_params.get("subject")
    if patient is None:
        raise invalid("patient", f"searching {kind} needs patient=<Patient id>")
    filters: list[Callable[[dict[str, Any]], bool]] = []
    if "code" in request.query_params:
        filters.append(_token(request.query_params["code"], _code_codings))
    if "category" in request.query_params:
        filters.append(_token(request.query_params["category"], _category_codings))
    filters.extend(_date(value) for value in request.query_params.getlist("date"))
    found = [
        resource
        for resource in fhir_view.compartment(registry, actor, patient).of_type(kind)
        if all(keep(resource) for keep in filters)
    ]
    return page(
        request, found[offset : offset + count], total=len(found), offset=offset, count=count
    )
