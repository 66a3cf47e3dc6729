"""The error responses every registry route documents in OpenAPI: the single error shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorField(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    status: int
    message: str
    fields: list[ErrorField]


class ErrorOut(BaseModel):
    """The API's single error shape (``web.errors``)."""

    error: ErrorBody


_MEANINGS = {
    400: "The body is not valid JSON",
    401: "No token, or an invalid, expired or revoked one",
    403: "Your role may not do this",
    404: "No such record (records of other sites are not found either)",
    409: "A pathway rule forbids this now: error.fields names what to look at",
    422: "Bad input: error.fields names each field",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": meaning} for status, meaning in _MEANINGS.items()
}
"""Documented on every registry route (``app.include_router(..., responses=ERRORS)``)."""
