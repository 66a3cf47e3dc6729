"""Chain-of-identity code of an MSC lot, protected by an ISO 7064 MOD 37-2 check character (§14).

A lot code reads ``SITE-YYYY-NNNNNN-C``, for example ``CHU1-2025-000042-Z``:

* ``SITE`` — the manufacturing site prefix, 2 to 6 characters from ``A-Z0-9`` starting with a
  letter;
* ``YYYY`` — the year the lot was manufactured (four digits);
* ``NNNNNN`` — the lot's serial number within the site and year, 000001 to 999999;
* ``C`` — the check character, computed over ``SITE`` + ``YYYY`` + ``NNNNNN`` without hyphens.

The check character is that of ISO/IEC 7064 MOD 37-2, the pure system with modulus 37 and radix 2
that ISBT 128 uses for the check character of its donation identification number: the 36 input
characters 0–9, A–Z take the values 0–35 and the check character set is 0–9, A–Z and ``*`` (36).
Because 37 is prime and no power of 2 is divisible by it, every single-character substitution and
every transposition of two adjacent, different characters changes the checksum; the fixed
positions of the hyphens make any other slip a format error.

Codes are case-insensitive on input (a code typed as ``chu1-2025-000042-z`` is the same lot) and
always written in upper case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INPUT_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""ISO 7064 MOD 37-2 input characters; a character's value is its position (0–35)."""
CHECK_ALPHABET = INPUT_ALPHABET + "*"
"""ISO 7064 MOD 37-2 check characters; ``*`` stands for the value 36."""
MODULUS = 37
RADIX = 2

_LOT_CODE = re.compile(r"([A-Z][0-9A-Z]{1,5})-([0-9]{4})-([0-9]{6})-([0-9A-Z*])")
_SITE = re.compile(r"[A-Z][0-9A-Z]{1,5}")


class LotCodeError(ValueError):
    """A lot code, or a part of one, that is not well formed; names the part and the bad value."""

    def __init__(self, part: str, value: object, problem: str) -> None:
        self.part = part
        self.value = value
        super().__init__(f"{part} {value!r}: {problem}")


def _values(payload: str) -> list[int]:
    """The MOD 37-2 value of every character of ``payload``, refusing any outside 0-9 A-Z."""
    values = []
    for position, character in enumerate(payload, start=1):
        value = INPUT_ALPHABET.find(character.upper()) if character.isascii() else -1
        if value < 0:
            raise LotCodeError(
                "payload",
                payload,
                f"character {character!r} at position {position} is not 0-9 or A-Z",
            )
        values.append(value)
    return values


def check_character(payload: str) -> str:
    """The ISO 7064 MOD 37-2 check character of ``payload`` (0-9, A-Z, case-insensitive).

    The pure-system recursion: start with P = 0; for each character of value a, P ← (P + a) × 2
    mod 37; the check value is the c in 0–36 with P + c ≡ 1 (mod 37), so that the whole string,
    check character included, has weighted sum ≡ 1 (mod 37).
    """
    if not payload:
        raise LotCodeError("payload", payload, "is empty")
    remainder = 0
    for value in _values(payload):
        remainder = (remainder + value) * RADIX % MODULUS
    return CHECK_ALPHABET[(MODULUS + 1 - remainder) % MODULUS]


def has_valid_check(text: str) -> bool:
    """Whether the last character of ``text`` is the MOD 37-2 check character of the rest."""
    if len(text) < 2 or not text.isascii():
        return False
    try:
        return check_character(text[:-1]) == text[-1].upper()
    except LotCodeError:
        return False


@dataclass(frozen=True)
class LotCode:
    """The parts of a lot code (see the module docstring for the layout)."""

    site: str
    year: int
    serial: int

    @property
    def payload(self) -> str:
        """The characters the check character protects: site, year and serial without hyphens."""
        return f"{self.site}{self.year:04d}{self.serial:06d}"

    def __str__(self) -> str:
        return f"{self.site}-{self.year:04d}-{self.serial:06d}-{check_character(self.payload)}"


def make_lot_code(*, site: str, year: int, serial: int) -> str:
    """The lot code for a site prefix, manufacturing year and serial, with its check character."""
    canonical_site = site.upper()
    if not site.isascii() or not _SITE.fullmatch(canonical_site):
        raise LotCodeError("site", site, "must be 2-6 characters A-Z 0-9, starting with a letter")
    if isinstance(year, bool) or not 1000 <= year <= 9999:
        raise LotCodeError("year", year, "must be a four-digit year")
    if isinstance(serial, bool) or not 1 <= serial <= 999_999:
        raise LotCodeError("serial", serial, "must be between 1 and 999999")
    return str(LotCode(site=canonical_site, year=year, serial=serial))


def parse_lot_code(code: str) -> LotCode:
    """The parts of a well-formed lot code with a correct check character; else ``LotCodeError``."""
    match = _LOT_CODE.fullmatch(code.upper()) if code.isascii() else None
    if match is None:
        raise LotCodeError(
            "lot code", code, "must read SITE-YYYY-NNNNNN-C (e.g. CHU1-2025-000042-Z)"
        )
    site, year, serial, given = match.groups()
    if int(serial) == 0:
        raise LotCodeError("lot code", code, "serial 000000 is not issued")
    lot = LotCode(site=site, year=int(year), serial=int(serial))
    expected = check_character(lot.payload)
    if given != expected:
        raise LotCodeError(
            "lot code", code, f"check character is {given!r} but should be {expected!r}"
        )
    return lot


def validate_lot_code(code: str) -> None:
    """Raise ``LotCodeError`` naming what is wrong unless ``code`` is a valid lot code."""
    parse_lot_code(code)
