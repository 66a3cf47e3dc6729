"""A seeded registry with a synthetic cohort at two sites, for the Cohort page's tests.

``tests/registry_fixtures.seed`` makes sites A01 and B01 with the personas; the synthetic cohort
(``services.cohort_loader.load``, through the services) is loaded into its own sites S01 and S02.
The personas then join those sites, so that:

* ``statistician`` and ``monitor`` see S01 (and their empty A01);
* ``physician`` sees S01 and S02;
* ``physician_b`` sees S02 (and B01) only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lupus_msc.analytics.dataset import AnalysisDataset, build
from lupus_msc.analytics.registry_extract import read_registry
from lupus_msc.services import accounts
from lupus_msc.services.access import Actor
from lupus_msc.services.accounts import UserChange
from lupus_msc.services.cohort_loader import load
from lupus_msc.services.fields import today
from lupus_msc.services.unit import unit_of_work
from lupus_msc.store.database import Database
from lupus_msc.store.models import Patient, Site, User
from tests.registry_fixtures import PERSONAS, Registry

PATIENTS = 24
"""Enough for the synthetic cohort to span two sites (a small one has a single site)."""
SEED = 3
JOINS = {
    "statistician": ("S01",),
    "monitor": ("S01",),
    "physician": ("S01", "S02"),
    "physician_b": ("S02",),
}


def load_two_sites(registry: Registry) -> None:
    """The synthetic cohort at S01 and S02, and the personas of ``JOINS`` members there."""
    database = registry.database
    load(database, PATIENTS, seed=SEED, sites=2)
    with unit_of_work(database, None) as session:
        codes = {code: site_id for code, site_id in session.execute(select(Site.code, Site.id))}
        admin_user = session.get(User, registry.users["admin"])
        assert admin_user is not None
        admin = Actor.of(admin_user)
        for persona, joined in JOINS.items():
            role, home, _ = PERSONAS[persona]
            wanted = [codes[home], *(codes[code] for code in joined)]
            accounts.change_user(
                session, admin, registry.users[persona], UserChange(role=role, site_ids=wanted)
            )


def dataset_of(database: Database, *codes: str, as_of: dt.date | None = None) -> AnalysisDataset:
    """The analysis dataset of the sites ``codes``, built as the page builds it."""
    with database.reads() as session:
        return build(read_registry(session, site_codes=list(codes)), as_of or today())


def identities(database: Database) -> list[dict[str, str]]:
    """Every patient's name, date of birth, record number and study code."""
    with database.reads() as session:
        return [
            {
                "name": f"{patient.given_name} {patient.family_name}",
                "listed": f"{patient.family_name}, {patient.given_name}",
                "born": patient.date_of_birth.isoformat(),
                "record": patient.medical_record_number,
                "code": patient.study_code,
            }
            for patient in session.scalars(select(Patient))
        ]
