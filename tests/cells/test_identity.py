"""Lot codes and their ISO 7064 MOD 37-2 check character (cells/identity.py, §14).

Published check characters (ISBT 128 donation identification numbers, whose check character is
ISO 7064 MOD 37-2):

* ``G123498654321`` → ``H``: UK Blood Transfusion Services "Red Book", Annex 2, "ISBT 128 check
  character calculation" (transfusionguidelines.org); worked out again by hand below.
* ``A999914123456`` → ``N``, ``A999922654321`` → ``S``, ``A999922123458`` → ``J``,
  ``A999922012346`` → ``*``: ICCBBA (isbt128.org) example DINs, as quoted by the public test data
  of the CheckDigits.Net library.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lupus_msc.cells.identity import (
    CHECK_ALPHABET,
    INPUT_ALPHABET,
    LotCode,
    LotCodeError,
    check_character,
    has_valid_check,
    make_lot_code,
    parse_lot_code,
    validate_lot_code,
)


def test_red_book_annex_2_example_g123498654321_gives_h() -> None:
    """Hand computation, pure system MOD 37-2 (P ← (P + a) × 2 mod 37, then c = (38 − P) mod 37).

    Values: G = 16, digits = themselves.

    ====  =====  ======================  =====
    char  value  (P + a) × 2             mod 37
    ====  =====  ======================  =====
    G     16     (0 + 16) × 2 = 32       32
    1     1      (32 + 1) × 2 = 66       29
    2     2      (29 + 2) × 2 = 62       25
    3     3      (25 + 3) × 2 = 56       19
    4     4      (19 + 4) × 2 = 46       9
    9     9      (9 + 9) × 2 = 36        36
    8     8      (36 + 8) × 2 = 88       14
    6     6      (14 + 6) × 2 = 40       3
    5     5      (3 + 5) × 2 = 16        16
    4     4      (16 + 4) × 2 = 40       3
    3     3      (3 + 3) × 2 = 12        12
    2     2      (12 + 2) × 2 = 28       28
    1     1      (28 + 1) × 2 = 58       21
    ====  =====  ======================  =====

    c = (38 − 21) mod 37 = 17 → H (A = 10, …, H = 17), as the Red Book prints.
    """
    assert check_character("G123498654321") == "H"


@pytest.mark.parametrize(
    ("din", "check"),
    [
        ("A999914123456", "N"),
        ("A999922654321", "S"),
        ("A999922123458", "J"),
        ("A999922012346", "*"),
    ],
)
def test_iccbba_example_dins(din: str, check: str) -> None:
    assert check_character(din) == check


def test_single_characters_by_hand() -> None:
    """ "0": P = 0 → c = 38 mod 37 = 1. "1": P = 2 → c = 36 → "*". "Z" (35): P = 70 mod 37 = 33
    → c = 5."""
    assert check_character("0") == "1"
    assert check_character("1") == "*"
    assert check_character("Z") == "5"


def test_lot_code_by_hand() -> None:
    """Payload CHU12025000042 (C = 12, H = 17, U = 30):
    P: 24, (24+17)·2 = 82 → 8, (8+30)·2 = 76 → 2, (2+1)·2 = 6, (6+2)·2 = 16, 16·2 = 32,
    (32+2)·2 = 68 → 31, (31+5)·2 = 72 → 35, 35·2 = 70 → 33, 33·2 = 66 → 29, 29·2 = 58 → 21,
    21·2 = 42 → 5, (5+4)·2 = 18, (18+2)·2 = 40 → 3; c = (38 − 3) mod 37 = 35 → Z."""
    assert make_lot_code(site="CHU1", year=2025, serial=42) == "CHU1-2025-000042-Z"


# --- lower case -------------------------------------------------------------------------------


def test_check_character_reads_lower_case_as_upper_case() -> None:
    assert check_character("g123498654321") == "H"


def test_lower_case_site_is_written_upper_case() -> None:
    assert make_lot_code(site="chu1", year=2025, serial=42) == "CHU1-2025-000042-Z"


def test_a_lower_case_code_is_the_same_lot() -> None:
    validate_lot_code("chu1-2025-000042-z")
    assert parse_lot_code("Chu1-2025-000042-z") == LotCode(site="CHU1", year=2025, serial=42)


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ["AB-12", "A B", "Ä1", "12*", "ı1", ""])
def test_check_character_refuses_characters_outside_0_9_a_z(payload: str) -> None:
    with pytest.raises(LotCodeError, match="payload"):
        check_character(payload)


def test_the_refusal_names_the_bad_character_and_its_position() -> None:
    with pytest.raises(LotCodeError, match=r"'!' at position 3"):
        check_character("AB!C")


def test_validate_names_a_wrong_check_character() -> None:
    with pytest.raises(LotCodeError, match="check character is 'Y' but should be 'Z'"):
        validate_lot_code("CHU1-2025-000042-Y")


@pytest.mark.parametrize(
    "code",
    [
        "CHU12025000042Z",  # no hyphens
        "CHU1-25-000042-Z",  # two-digit year
        "CHU1-2025-42-Z",  # short serial
        "1CHU-2025-000042-Z",  # site starting with a digit
        "C-2025-000042-Z",  # site too short
        "CHUABCD-2025-000042-Z",  # site too long
        "CHU1-2025-000042",  # no check character
        "CHU1-2025-000042-ZZ",  # two check characters
        " CHU1-2025-000042-Z",  # surrounding space
        "CHU1-2025-000042-Z\n",
        "CHU1–2025–000042–Z",  # en dashes
        "ÇHU1-2025-000042-Z",
        "ıCHU1-2025-000042-Z",  # dotless i upper-cases to I: still refused
    ],
)
def test_validate_refuses_malformed_codes(code: str) -> None:
    with pytest.raises(LotCodeError, match="must read SITE-YYYY-NNNNNN-C"):
        validate_lot_code(code)


def test_validate_refuses_serial_zero() -> None:
    code = f"CHU1-2025-000000-{check_character('CHU12025000000')}"
    with pytest.raises(LotCodeError, match="serial 000000"):
        validate_lot_code(code)


@pytest.mark.parametrize(
    ("arguments", "part"),
    [
        ({"site": "C", "year": 2025, "serial": 1}, "site"),
        ({"site": "CH-1", "year": 2025, "serial": 1}, "site"),
        ({"site": "1CH", "year": 2025, "serial": 1}, "site"),
        ({"site": "ÇHU", "year": 2025, "serial": 1}, "site"),
        ({"site": "CHU", "year": 25, "serial": 1}, "year"),
        ({"site": "CHU", "year": 10000, "serial": 1}, "year"),
        ({"site": "CHU", "year": True, "serial": 1}, "year"),
        ({"site": "CHU", "year": 2025, "serial": 0}, "serial"),
        ({"site": "CHU", "year": 2025, "serial": 1_000_000}, "serial"),
    ],
)
def test_make_lot_code_refuses_bad_parts_naming_them(
    arguments: dict[str, object], part: str
) -> None:
    with pytest.raises(LotCodeError) as caught:
        make_lot_code(**arguments)  # type: ignore[arg-type]
    assert caught.value.part == part
    assert str(caught.value).startswith(part)


@pytest.mark.parametrize("text", ["", "H", "G123498654321I", "G12349865432!H"])
def test_has_valid_check_is_false_for_wrong_or_short_text(text: str) -> None:
    assert has_valid_check(text) is False


def test_has_valid_check_accepts_the_published_example() -> None:
    assert has_valid_check("G123498654321H")
    assert has_valid_check("A999922012346*")


# --- error detection (properties) -------------------------------------------------------------

payloads = st.text(alphabet=INPUT_ALPHABET, min_size=1, max_size=30)
sites = st.from_regex(r"[A-Z][0-9A-Z]{1,5}", fullmatch=True)
lot_codes = st.builds(
    lambda site, year, serial: make_lot_code(site=site, year=year, serial=serial),
    sites,
    st.integers(1000, 9999),
    st.integers(1, 999_999),
)
LOT_CODE_CHARACTERS = CHECK_ALPHABET + "-"


@given(payloads)
def test_a_payload_with_its_check_character_is_valid(payload: str) -> None:
    assert has_valid_check(payload + check_character(payload))


@given(payloads, st.data())
def test_every_single_substitution_is_detected(payload: str, data: st.DataObject) -> None:
    protected = payload + check_character(payload)
    position = data.draw(st.integers(0, len(protected) - 1))
    replacement = data.draw(
        st.sampled_from(CHECK_ALPHABET).filter(lambda c: c != protected[position])
    )
    corrupted = protected[:position] + replacement + protected[position + 1 :]
    assert not has_valid_check(corrupted)


@given(payloads, st.data())
def test_every_adjacent_transposition_is_detected(payload: str, data: st.DataObject) -> None:
    protected = payload + check_character(payload)
    pairs = [i for i in range(len(protected) - 1) if protected[i] != protected[i + 1]]
    if not pairs:
        return
    i = data.draw(st.sampled_from(pairs))
    swapped = protected[:i] + protected[i + 1] + protected[i] + protected[i + 2 :]
    assert not has_valid_check(swapped)


def test_exhaustive_substitution_and_transposition_over_a_published_din() -> None:
    """Every substitution by another check-set character, and every adjacent swap of different
    characters, in G123498654321H is caught."""
    protected = "G123498654321H"
    for position, original in enumerate(protected):
        for replacement in CHECK_ALPHABET.replace(original, ""):
            corrupted = protected[:position] + replacement + protected[position + 1 :]
            assert not has_valid_check(corrupted), corrupted
    for i in range(len(protected) - 1):
        swapped = protected[:i] + protected[i + 1] + protected[i] + protected[i + 2 :]
        assert protected[i] == protected[i + 1] or not has_valid_check(swapped), swapped


@given(lot_codes)
def test_every_made_lot_code_validates(code: str) -> None:
    validate_lot_code(code)


@given(lot_codes, st.data())
def test_every_single_substitution_in_a_lot_code_is_refused(code: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(code) - 1))
    replacement = data.draw(
        st.sampled_from(LOT_CODE_CHARACTERS).filter(lambda c: c != code[position])
    )
    with pytest.raises(LotCodeError):
        validate_lot_code(code[:position] + replacement + code[position + 1 :])


@given(lot_codes, st.data())
def test_every_adjacent_transposition_in_a_lot_code_is_refused(
    code: str, data: st.DataObject
) -> None:
    pairs = [i for i in range(len(code) - 1) if code[i] != code[i + 1]]
    i = data.draw(st.sampled_from(pairs))
    with pytest.raises(LotCodeError):
        validate_lot_code(code[:i] + code[i + 1] + code[i] + code[i + 2 :])
