"""Domain errors: each carries what the user needs to fix it; the edges turn them into HTTP or exit
codes (STYLE habit 6)."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every refusal a service makes. ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, fields: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []


class Unauthenticated(ServiceError):
    status = 401


class Forbidden(ServiceError):
    """The actor's role may not do this (a read-only monitor writing, a lab user signing)."""

    status = 403


class NotFound(ServiceError):
    """No such record *for this actor*: another site's records are not found, never forbidden."""

    status = 404


class Refused(ServiceError):
    """A pathway rule forbids this now (no consent, lot not released, illegal state change)."""

    status = 409


class Invalid(ServiceError):
    """Input that cannot be accepted, with the field it concerns."""

    status = 422


def refused(field: str, message: str) -> Refused:
    """A rule refusal that names the field the user should look at."""
    return Refused(f"{field}: {message}", [(field, message)])


def invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", [(field, message)])
