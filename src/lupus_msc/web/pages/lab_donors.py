"""Pages: donors of the cells, their eligibility tests and their harvests (DESIGN.md step 3,
collection). Eligibility is derived by ``services.donors`` (any positive test: not eligible;
a required test without result: not established); a harvest is refused from a donor who is not
eligible, and the page shows the service's reason next to the field."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from lupus_msc.services import donors, patients
from lupus_msc.services.access import Action
from lupus_msc.services.donors import DonorIn, DonorTestsIn, HarvestIn
from lupus_msc.services.errors import ServiceError
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.models import Donor
from lupus_msc.web.deps import DatabaseDep
from lupus_msc.web.forms import FormErrors, parse
from lupus_msc.web.pages.lab_common import (
    KIND_NAMES,
    TISSUE_NAMES,
    kept,
    options,
    refusal,
    site_codes,
    sites_of,
    with_numbers,
)
from lupus_msc.web.session import FormDep, WebUser, WebUserDep, require_action
from lupus_msc.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

DONOR_TESTS = {
    "hiv_1_2": "HIV-1/2",
    "hbv": "Hepatitis B (HBsAg)",
    "hcv": "Hepatitis C",
    "syphilis": "Syphilis",
    "htlv": "HTLV-I/II",
    "cmv": "Cytomegalovirus (CMV)",
}
"""The screening tests the forms offer (the required ones are in ``donors.REQUIRED_TESTS``)."""
OUTCOMES = [("negative", "Negative"), ("positive", "Positive")]
UNITS = [("mL", "mL (aspirate, lipoaspirate)"), ("g", "g (tissue)")]


def _tests_from(form: dict[str, Any]) -> dict[str, str]:
    """The test results given in the form (``test_<name>`` = negative/positive; blank: not done)."""
    found = {name: form.get(f"test_{name}") for name in DONOR_TESTS}
    return {name: str(value) for name, value in found.items() if value not in (None, "")}


@router.get("/lab/donors", response_class=HTMLResponse)
def donors_page(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    require_action(user, Action.READ_PRODUCTS)
    with registry.reads() as session:
        found = donors.list_donors(session, user.actor, site_id=None, limit=500, offset=0)
        rows = [donors.donor_view(donor) for donor in found]
        codes = site_codes(session, user)
    context = {"rows": rows, "codes": codes, "tissues": TISSUE_NAMES, "kinds": KIND_NAMES}
    return render(request, "lab/donors.html", context, user=user)


def _patients(session: Session, user: WebUser) -> list[tuple[str, str]]:
    found = patients.listing(session, user.actor, site_id=None, limit=500, offset=0)
    return [(str(patient.id), f"{patient.study_code} ({patient.state.value})") for patient in found]


def _new_form(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    with registry.reads() as session:
        context = {
            "values": values,
            "errors": errors or {},
            "message": message,
            "sites": sites_of(session, user),
            "patients": _patients(session, user),
            "kinds": options(KIND_NAMES),
            "tissues": options(TISSUE_NAMES),
            "tests": DONOR_TESTS,
            "outcomes": OUTCOMES,
        }
    return render(request, "lab/donor_new.html", context, user=user, status=status)


@router.get("/lab/donors/new", response_class=HTMLResponse)
def new_donor_form(request: Request, registry: DatabaseDep, user: WebUserDep) -> HTMLResponse:
    require_action(user, Action.WRITE_PRODUCTS)
    with registry.reads() as session:
        sites = sites_of(session, user)
    values = {"site_id": sites[0][0]} if len(sites) == 1 else {}
    return _new_form(request, registry, user, values)


@router.post("/lab/donors/new")
def create_donor(
    request: Request, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    require_action(user, Action.WRITE_PRODUCTS)
    try:
        data = parse(DonorIn, form, eligibility_tests=_tests_from(form))
        with unit_of_work(registry, user.actor) as session:
            donor = donors.create_donor(session, user.actor, data)
            donor_id, code = donor.id, donor.code
    except (ServiceError, FormErrors) as error:
        message, errors, status = refusal(error)
        return _new_form(
            request, registry, user, kept(form), errors=errors, message=message, status=status
        )
    return redirect(f"/lab/donors/{donor_id}", flash=f"Donor {code} recorded.")


def _donor_page(
    request: Request,
    registry: DatabaseDep,
    user: WebUser,
    donor_id: uuid.UUID,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The donor with tests and harvests; ``form`` names the form a refusal belongs to."""
    with registry.reads() as session:
        donor: Donor = donors.get_donor(session, user.actor, donor_id)
        context = {
            "donor": donors.donor_view(donor),
            "site": site_codes(session, user).get(donor.site_id, "?"),
            "patient": patients.get(session, user.actor, donor.patient_id).study_code
            if donor.patient_id and user.can(Action.READ_PATIENTS)
            else None,
            "harvests": donors.list_harvests(session, user.actor, donor_id),
            "tissues": TISSUE_NAMES,
            "kinds": KIND_NAMES,
            "tests": DONOR_TESTS,
            "outcomes": OUTCOMES,
            "units": UNITS,
            "form": form,
            "values": values or {},
            "errors": errors or {},
            "message": message,
            "can_write": user.can(Action.WRITE_PRODUCTS),
        }
    return render(request, "lab/donor.html", context, user=user, status=status)


@router.get("/lab/donors/{donor_id}", response_class=HTMLResponse)
def donor_page(
    request: Request, donor_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep
) -> HTMLResponse:
    require_action(user, Action.READ_PRODUCTS)
    return _donor_page(request, registry, user, donor_id)


@router.post("/lab/donors/{donor_id}/harvests")
def record_harvest(
    request: Request, donor_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    require_action(user, Action.WRITE_PRODUCTS)
    try:
        data = parse(HarvestIn, with_numbers(form, "amount"))
        with unit_of_work(registry, user.actor) as session:
            donors.record_harvest(session, user.actor, donor_id, data)
    except (ServiceError, FormErrors) as error:
        if isinstance(error, ServiceError) and error.status == 404:
            raise
        message, errors, status = refusal(error)
        errors.pop("donor_id", None)  # about the donor, not a field: the message says it
        return _donor_page(
            request, registry, user, donor_id, form="harvest", values=kept(form),
            errors=errors, message=message, status=status,
        )  # fmt: skip
    return redirect(f"/lab/donors/{donor_id}#harvests", flash="Harvest recorded.")


@router.post("/lab/donors/{donor_id}/tests")
def record_tests(
    request: Request, donor_id: uuid.UUID, registry: DatabaseDep, user: WebUserDep, form: FormDep
) -> Response:
    require_action(user, Action.WRITE_PRODUCTS)
    try:
        data = parse(DonorTestsIn, form, eligibility_tests=_tests_from(form))
        with unit_of_work(registry, user.actor) as session:
            donors.record_tests(session, user.actor, donor_id, data)
    except (ServiceError, FormErrors) as error:
        if isinstance(error, ServiceError) and error.status == 404:
            raise
        message, errors, status = refusal(error, rename={"eligibility_tests": "test_hiv_1_2"})
        return _donor_page(
            request, registry, user, donor_id, form="tests", values=kept(form),
            errors=errors, message=message, status=status,
        )  # fmt: skip
    return redirect(f"/lab/donors/{donor_id}", flash="Eligibility tests recorded.")
