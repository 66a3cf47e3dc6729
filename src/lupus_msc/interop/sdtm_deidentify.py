"""De-identified SDTM rows by the HIPAA Safe Harbor method (45 CFR 164.514(b)(2)), pure.

The same rules as ``interop.deidentify`` (which documents each Safe Harbor item for the analysis
dataset), applied to the SDTM-style domains, variable by variable from their metadata:

* (R) ``USUBJID`` becomes ``<STUDYID>-<pseudonym>`` and ``SUBJID`` the pseudonym — the
  patient's stable random code from ``services.deidentification``; the study code is gone.
* (C) Dates: every ``date``/``datetime`` variable — the infusion start ``VSRFTDTC`` of the
  vitals timed around an infusion too — moves by the patient's secret offset, its time of day
  kept (``"shift"``: intervals stay exact) or is left empty (``"days"``: only the study days
  ``--DY`` and ``VISITDY``, counted from the first infusion, remain). The time point variables
  (``VSTPT``, ``VSTPTNUM``, ``VSTPTREF`` "INFUSION <n>") are no dates and name no one: they
  stay. ``BRTHDTC`` is always empty. ``AGE`` above 89 is written as 90, meaning "90 or older"
  (Safe Harbor aggregates ages over 89 into one category; the integer variable cannot hold a
  text category).
* (R) ``EXLOT``, the lot's chain-of-identity code, is a unique code tied to the patient: empty.
* (A) Names and record numbers are never in the domains. Free text — the reported adverse-event
  term ``AETERM`` and the medication name ``CMTRT`` — goes through ``scrub``, which redacts the
  words of exported patients' names, study codes and record numbers (the export layer's
  ``cli.export`` scrubber).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Literal

from lupus_msc.interop.sdtm import Domain, Row, checked_domain
from lupus_msc.interop.sdtm_metadata import DomainSpec
from lupus_msc.services.deidentification import PatientKey

Dates = Literal["shift", "days"]
OLDEST_AGE = 89
"""Ages above this are written as ``AGED_OVER`` (164.514(b)(2)(i)(C))."""
AGED_OVER = 90
REMOVED = frozenset({"BRTHDTC", "EXLOT"})
FREE_TEXT = frozenset({"AETERM", "CMTRT"})


def shifted(value: str, days: int) -> str:
    """An ISO date or date-time (``YYYY-MM-DD[Thh:mm:ss]``) moved by ``days``."""
    day, separator, time = value.partition("T")
    moved = dt.date.fromisoformat(day) + dt.timedelta(days=days)
    return moved.isoformat() + separator + time


def _row(
    spec: DomainSpec, row: Row, key: PatientKey, dates: Dates, scrub: Callable[[str], str]
) -> Row:
    private = dict(row)
    private["USUBJID"] = f"{row['STUDYID']}-{key.pseudonym}"
    if "SUBJID" in private:
        private["SUBJID"] = key.pseudonym
    for variable in spec.variables:
        value = private[variable.name]
        if value is None:
            continue
        if variable.name in REMOVED:
            private[variable.name] = None
        elif variable.data_type in ("date", "datetime"):
            private[variable.name] = shifted(value, key.offset_days) if dates == "shift" else None
        elif variable.name in FREE_TEXT:
            private[variable.name] = scrub(value)
        elif variable.name == "AGE" and value > OLDEST_AGE:
            private[variable.name] = AGED_OVER
    return private


def deidentify(
    domain: Domain,
    keys: Mapping[str, PatientKey],
    *,
    dates: Dates,
    scrub: Callable[[str], str],
) -> Domain:
    """``domain`` de-identified; ``keys`` by the rows' original ``USUBJID``."""
    rows = [_row(domain.spec, row, keys[row["USUBJID"]], dates, scrub) for row in domain.rows]
    return checked_domain(domain.spec, rows)
