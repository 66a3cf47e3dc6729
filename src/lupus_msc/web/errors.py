"""One JSON error shape for every error the API returns (STYLE.md habit 6).

{"error": {"status": 422, "message": "...", "fields": [{"field": "pga", "message": "..."}]}}
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from lupus_msc.scoring.jsonio import field_path
from lupus_msc.services.errors import ServiceError


def error_response(
    status: int, message: str, fields: list[tuple[str, str]] | None = None
) -> JSONResponse:
    """The API's single error shape."""
    entries = [{"field": field, "message": text} for field, text in fields or []]
    return JSONResponse(
        status_code=status,
        content={"error": {"status": status, "message": message, "fields": entries}},
    )


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this type only
    return error_response(error.status_code, str(error.detail))


def _within_body(location: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """A body field is named as it is written in the body (``reason``, not ``body.reason``)."""
    return location[1:] if location[:1] == ("body",) and len(location) > 1 else location


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this type only
    fields = [
        (field_path(_within_body(tuple(item["loc"]))), item["msg"]) for item in error.errors()
    ]
    return error_response(422, "invalid request", fields)


async def _service_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)  # noqa: S101 - registered for this type only
    response = error_response(error.status, error.message, error.fields)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Make FastAPI's own errors and the services' refusals use the same shape."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ServiceError, _service_error)
