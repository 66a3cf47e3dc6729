"""``POST /api/v1/score/{instrument}``: the score interface over HTTP (instruments.md §16).

One route per instrument, generated from the registry, so that the request and response schemas
in /openapi.json come from the same pydantic models as the command line. The body is read as
exact JSON (numbers as Decimal) rather than through FastAPI's float-based parser.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from lupus_msc.clinical.common import Instrument
from lupus_msc.scoring.jsonio import ScoreInputError
from lupus_msc.scoring.registry import INSTRUMENTS
from lupus_msc.scoring.run import score_text
from lupus_msc.web.errors import error_response

SCHEMA_REF = "#/components/schemas/{model}"


class InstrumentSummary(BaseModel):
    name: str
    section: str
    title: str
    path: str


def _request_body(instrument: Instrument[Any, Any]) -> dict[str, Any]:
    reference = {"$ref": SCHEMA_REF.format(model=instrument.input_model.__name__)}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [reference, {"type": "array", "items": reference}]}
                }
            },
        }
    }


def _endpoint(instrument: Instrument[Any, Any]) -> Any:
    async def score_endpoint(request: Request) -> Response:
        try:
            text = score_text(instrument.name, await request.body())
        except ScoreInputError as error:
            return error_response(422, f"invalid input for {instrument.name}", error.problems)
        except UnicodeDecodeError as error:  # JSON bytes that are no Unicode text at all
            problem = f"not valid JSON: {error.reason} at byte {error.start}"
            return error_response(
                422, f"invalid input for {instrument.name}", [("(body)", problem)]
            )
        return Response(content=text, media_type="application/json")

    score_endpoint.__doc__ = (
        f"{instrument.title} (instruments.md {instrument.section}). "
        "Send one JSON object for one result, or an array for an array of results."
    )
    return score_endpoint


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1/score", tags=["score"])

    @router.get("", response_model=list[InstrumentSummary])
    def list_instruments() -> list[InstrumentSummary]:
        """The instruments the score interface offers."""
        return [
            InstrumentSummary(
                name=item.name,
                section=item.section,
                title=item.title,
                path=f"/api/v1/score/{item.name}",
            )
            for item in INSTRUMENTS.values()
        ]

    for instrument in INSTRUMENTS.values():
        router.add_api_route(
            f"/{instrument.name}",
            _endpoint(instrument),
            methods=["POST"],
            name=f"score_{instrument.name}",
            summary=f"Score {instrument.name} ({instrument.section})",
            response_model=instrument.result_model | list[instrument.result_model],  # type: ignore[name-defined]
            responses={422: {"description": "Bad input: fields named in error.fields"}},
            openapi_extra=_request_body(instrument),
        )
    return router


def input_schemas() -> dict[str, Any]:
    """JSON schemas of every instrument's input model, for the OpenAPI components."""
    from pydantic.json_schema import models_json_schema

    _, definitions = models_json_schema(
        [(item.input_model, "validation") for item in INSTRUMENTS.values()],
        ref_template=SCHEMA_REF,
    )
    schemas: dict[str, Any] = definitions.get("$defs", {})
    return schemas
