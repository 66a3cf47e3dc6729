"""Free text in exports: the words of it that identify an exported patient are redacted.

Safe Harbor (45 CFR 164.514(b)(2)(ii)) also asks that no one have actual knowledge that what is
left could identify someone: free text (an adverse-event term, a medication's name) is where a
careless entry could carry a name. Every word of it that is a word of an exported patient's
name, study code or record number becomes ``[redacted]``; a clinical term is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from lupus_msc.store.database import Database

REDACTED = "[redacted]"
WORD = re.compile(r"[\w-]+")


def identifying_words(database: Database, codes: Iterable[str]) -> set[str]:
    """Every word (lower case) of the names, study codes and record numbers of ``codes``."""
    from sqlalchemy import select

    from lupus_msc.services.deidentification import CHUNK
    from lupus_msc.store.models import Patient

    wanted = sorted(set(codes))
    words: set[str] = set()
    with database.reads() as session:
        for start in range(0, len(wanted), CHUNK):
            query = select(
                Patient.study_code,
                Patient.given_name,
                Patient.family_name,
                Patient.medical_record_number,
            ).where(Patient.study_code.in_(wanted[start : start + CHUNK]))
            for row in session.execute(query):
                for value in row:
                    words.update(word.lower() for word in WORD.findall(value))
    return words


def scrub(text: str, identifiers: AbstractSet[str]) -> str:
    return WORD.sub(lambda m: REDACTED if m[0].lower() in identifiers else m[0], text)


def scrub_terms(events: pl.DataFrame, identifiers: set[str]) -> pl.DataFrame:
    """``events`` with every identifying word of the free-text ``term`` redacted."""
    import polars as pl

    terms = events["term"].drop_nulls().unique().to_list()
    scrubbed = {term: scrub(term, identifiers) for term in terms}
    changed = {term: new for term, new in scrubbed.items() if new != term}
    if not changed:
        return events
    return events.with_columns(pl.col("term").replace(changed))
