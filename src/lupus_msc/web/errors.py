"""One JSON error shape for every error the API returns (STYLE.md habit 6).

{"error": {"status": 422, "message": "...", "fields": [{"field": "pga", "message": "..."}]}}
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from lupus_msc.scoring.jsonio import field_path
from lupus_msc.services.errors import ServiceError
from lupus_msc.web.session import SignInRequired


def error_response(
    status: int, message: str, fields: list[tuple[str, str]] | None = None
) -> JSONResponse:
    """The API's single error shape."""
    entries = [{"field": field, "message": text} for field, text in fields or []]
    return JSONResponse(
        status_code=status,
        content={"error": {"status": status, "message": message, "fields": entries}},
    )


FHIR_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    422: "processing",
}
"""HTTP status → OperationOutcome issue code (FHIR value set ``issue-type``)."""


def operation_outcome(
    status: int, message: str, fields: list[tuple[str, str]] | None = None
) -> JSONResponse:
    """The ``/fhir`` error shape: an OperationOutcome, one issue per field (or one in all)."""
    code = FHIR_ISSUE_CODES.get(status, "exception")
    issues = [
        {
            "severity": "error",
            "code": code,
            "diagnostics": f"{field}: {text}",
            "expression": [field],
        }
        for field, text in fields or []
    ] or [{"severity": "error", "code": code, "diagnostics": message}]
    return JSONResponse(
        status_code=status,
        content={"resourceType": "OperationOutcome", "issue": issues},
        media_type="application/fhir+json",
    )


def _machine_error(
    request: Request, status: int, message: str, fields: list[tuple[str, str]] | None = None
) -> JSONResponse:
    if request.url.path.startswith("/fhir"):
        return operation_outcome(status, message, fields)
    return error_response(status, message, fields)


MACHINE_PATHS = ("/api/", "/fhir", "/openapi.json", "/docs")
"""Paths answered in JSON; every other path is a page and gets its errors as a page."""


def _for_machines(request: Request) -> bool:
    return request.url.path.startswith(MACHINE_PATHS)


TITLES = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    409: "Refused",
    422: "Cannot accept this",
}


def _error_page(request: Request, status: int, message: str) -> Response:
    from lupus_msc.web.templating import render  # pages import this module: import late

    if status == 401:
        return RedirectResponse(f"/sign-in?next={request.url.path}", status_code=303)
    title = TITLES.get(status, "Something went wrong")
    return render(request, "error.html", {"title": title, "message": message}, status=status)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this type only
    if not _for_machines(request):
        return _error_page(request, error.status_code, str(error.detail))
    return _machine_error(request, error.status_code, str(error.detail))


def _within_body(location: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """A body field is named as it is written in the body (``reason``, not ``body.reason``)."""
    return location[1:] if location[:1] == ("body",) and len(location) > 1 else location


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this type only
    fields = [
        (field_path(_within_body(tuple(item["loc"]))), item["msg"]) for item in error.errors()
    ]
    if not _for_machines(request):
        named = "; ".join(f"{field}: {message}" for field, message in fields)
        status = 404 if any(item["loc"][:1] == ("path",) for item in error.errors()) else 422
        return _error_page(request, status, named or "invalid request")
    return _machine_error(request, 422, "invalid request", fields)


async def _sign_in_required(_: Request, error: Exception) -> Response:
    assert isinstance(error, SignInRequired)  # noqa: S101 - registered for this type only
    return RedirectResponse(error.location(), status_code=303)


async def _service_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ServiceError)  # noqa: S101 - registered for this type only
    if not _for_machines(request):
        return _error_page(request, error.status, error.message)
    response = _machine_error(request, error.status, error.message, error.fields)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Make FastAPI's own errors and the services' refusals use the same shape."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(SignInRequired, _sign_in_required)
