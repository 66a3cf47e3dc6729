"""Pages: what the lab records on a lot's page: release test results (judged against the lot's
specification by ``services.release``, §14, §16.14), custody events (append-only,
``services.custody``) and the allocation of a released lot to a patient (``services.lots``)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from lupus_msc.scoring.jsonio import field_path
from lupus_msc.services import custody, lots, products, release
from lupus_msc.services.access import Action
from lupus_msc.services.custody import CustodyIn
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.lots import AllocationIn
from lupus_msc.services.release import ReleaseTestIn
from lupus_msc.services.unit import unit_of_work
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.pages.lab_common import as_number, kept, prefixed, refusal, unprefixed
from lupus_msc.web.pages.lab_lot_view import BOOLEAN, NUMBER, RELEASE_TESTS
from lupus_msc.web.pages.lab_lots import lot_page
from lupus_msc.web.session import FormDep, WebUserDep, require_action
from lupus_msc.web.templating import redirect

router = APIRouter(include_in_schema=False)


def _value(kind: str, text: str) -> Any:
    """A result as the ``isct-release`` input takes it: true/false, a number, or a word."""
    if kind == BOOLEAN:
        return {"true": True, "false": False}.get(text, text)
    if kind == NUMBER:
        return as_number(text)
    return text


def _release_tests(form: dict[str, Any]) -> list[ReleaseTestIn]:
    """Each result given in the release-test form (``result_<name>``), validated."""
    given = [(name, str(form.get(f"result_{name}") or "").strip()) for name in RELEASE_TESTS]
    given = [(name, text) for name, text in given if text]
    if not given:
        raise FormErrors("enter at least one result", {})
    tests = []
    for name, text in given:
        body = {
            "name": name,
            "value": _value(RELEASE_TESTS[name][1], text),
            "tested_on": form.get("tested_on") or None,
            "reason": form.get("test_reason") or None,
        }
        try:
            tests.append(ReleaseTestIn.model_validate(body))
        except ValidationError as error:
            fields: dict[str, str] = {}
            for item in error.errors():
                field = field_path(tuple(item["loc"]))
                shown = {"value": f"result_{name}", "reason": "test_reason"}.get(field, field)
                fields.setdefault(shown, item["msg"])
            raise FormErrors(f"{name}: cannot be accepted", fields) from error
    return tests


@router.post("/lab/lots/{lot_id}/release-tests")
def record_release_tests(
    request: Request, lot_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    """Record every result given, all or none (one transaction)."""
    require_action(user, Action.WRITE_PRODUCTS)
    current = ""
    try:
        tests = _release_tests(form)
        with unit_of_work(registry, user.actor) as session:
            products.writable_lot(session, user.actor, lot_id)
            for test in tests:
                current = test.name
                release.record_test(session, user.actor, lot_id, test)
    except (ServiceError, FormErrors) as error:
        if isinstance(error, ServiceError) and error.status == 404:
            raise
        rename = {
            "value": f"result_{current}",
            "name": f"result_{current}",
            "reason": "test_reason",
        }
        message, errors, status = refusal(error, rename=rename)
        return lot_page(
            request, registry, user, lot_id, form="tests", values=kept(form), errors=errors,
            message=message, status=status,
        )  # fmt: skip
    return redirect(f"/lab/lots/{lot_id}#release-tests", flash=f"{len(tests)} result(s) recorded.")


def _custody_input(form: dict[str, Any]) -> CustodyIn:
    values = unprefixed(form, "custody_")
    at = str(values.get("at") or "")
    if at and len(at) <= 19 and "+" not in at and not at.endswith("Z"):
        values["at"] = at + "+00:00"  # the field takes UTC, as the pages show it
    try:
        return parse(CustodyIn, values)
    except FormErrors as error:
        raise FormErrors(error.message, prefixed(error.fields, "custody_")) from error


@router.post("/lab/lots/{lot_id}/custody")
def record_custody(
    request: Request, lot_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    require_action(user, Action.WRITE_PRODUCTS)
    try:
        data = _custody_input(form)
        with unit_of_work(registry, user.actor) as session:
            custody.record(session, user.actor, lot_id, data)
    except (ServiceError, FormErrors) as error:
        if isinstance(error, ServiceError) and error.status == 404:
            raise
        message, errors, status = refusal(error)
        if isinstance(error, ServiceError):
            errors = prefixed(errors, "custody_")
        return lot_page(
            request, registry, user, lot_id, form="custody", values=kept(form), errors=errors,
            message=message, status=status,
        )  # fmt: skip
    return redirect(f"/lab/lots/{lot_id}#custody", flash=f"Custody event recorded: {data.kind}.")


@router.post("/lab/lots/{lot_id}/allocate")
def allocate(
    request: Request, lot_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    require_action(user, Action.WRITE_PRODUCTS)
    try:
        data = parse(AllocationIn, form)
        with unit_of_work(registry, user.actor) as session:
            lots.allocate(session, user.actor, lot_id, data)
    except (ServiceError, FormErrors) as error:
        if isinstance(error, ServiceError) and error.status == 404:
            if not error.message.startswith("no patient"):
                raise
            error.fields = [("patient_id", "no such patient at your sites")]
        message, errors, status = refusal(error, rename={"state": "patient_id"})
        return lot_page(
            request, registry, user, lot_id, form="allocate", values=kept(form), errors=errors,
            message=message, status=status,
        )  # fmt: skip
    return redirect(f"/lab/lots/{lot_id}", flash="The lot is allocated to the patient.")
