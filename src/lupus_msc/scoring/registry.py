"""Every instrument the score interface offers, by its §16 name."""

from __future__ import annotations

from typing import Any

from lupus_msc.cells import dose, release
from lupus_msc.clinical import (
    ctcae,
    doris,
    egfr,
    eular_acr_2019,
    facit_f,
    lldas,
    prednisone_equivalent,
    renal_response,
    sdi,
    sfi,
    sledai2k,
    sri,
    upcr,
)
from lupus_msc.clinical.common import Instrument

_ALL: tuple[Instrument[Any, Any], ...] = (
    sledai2k.INSTRUMENT,
    sfi.INSTRUMENT,
    sri.INSTRUMENT,
    lldas.INSTRUMENT,
    doris.INSTRUMENT,
    eular_acr_2019.INSTRUMENT,
    sdi.INSTRUMENT,
    egfr.INSTRUMENT,
    upcr.INSTRUMENT,
    renal_response.INSTRUMENT,
    prednisone_equivalent.INSTRUMENT,
    ctcae.INSTRUMENT,
    facit_f.INSTRUMENT,
    release.INSTRUMENT,
    dose.INSTRUMENT,
)

INSTRUMENTS: dict[str, Instrument[Any, Any]] = {item.name: item for item in _ALL}


class UnknownInstrument(LookupError):
    """An instrument name that the registry does not offer."""

    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(INSTRUMENTS)
        super().__init__(f"unknown instrument {name!r}; known instruments: {known}")


def get_instrument(name: str) -> Instrument[Any, Any]:
    """The instrument registered under ``name``, or ``UnknownInstrument``."""
    try:
        return INSTRUMENTS[name]
    except KeyError:
        raise UnknownInstrument(name) from None
