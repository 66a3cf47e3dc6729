"""The protocol layer: the shipped default, cross-field rules, refusals naming field and line."""

from __future__ import annotations

import itertools
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest

from lupus_msc.protocol import (
    DEFAULT_PROTOCOL_FILE,
    EligibilityRule,
    ProtocolError,
    default_protocol,
    eligible,
    evaluate,
    load_protocol,
)

DEFAULT_TEXT = files("lupus_msc.protocol").joinpath(DEFAULT_PROTOCOL_FILE).read_text("utf-8")

ELIGIBLE = {
    "age_years": 34,
    "eular_acr_2019_classified": True,
    "sledai2k_total": 12,
    "immunosuppressants_failed": 2,
    "active_infection": False,
    "pregnant": False,
}


def lines_with(text: str, needle: str) -> list[int]:
    """1-based numbers of the lines containing ``needle``."""
    return [number for number, line in enumerate(text.splitlines(), 1) if needle in line]


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing ``needle``."""
    found = lines_with(text, needle)
    assert found, f"{needle!r} not in text"
    return found[0]


def changed(old: str, new: str) -> str:
    """The default protocol's text with one exact fragment replaced."""
    assert DEFAULT_TEXT.count(old) == 1, old
    return DEFAULT_TEXT.replace(old, new)


def refusal(text: str) -> str:
    with pytest.raises(ProtocolError) as caught:
        load_protocol(text)
    return str(caught.value)


# The default protocol -------------------------------------------------------------------------


def test_the_default_protocol_is_iv_uc_msc_at_one_million_cells_per_kg() -> None:
    protocol = default_protocol()
    assert protocol.id == "uc-msc-iv-default"
    assert protocol.version == "1.0.0"
    assert protocol.dosing.route == "intravenous"
    assert protocol.dosing.dose_per_kg == Decimal(1_000_000)
    assert protocol.dosing.dose_min_per_kg <= Decimal(1_000_000) <= protocol.dosing.dose_max_per_kg


def test_the_default_gives_two_infusions_on_days_0_and_7_as_wang_2014() -> None:
    dosing = default_protocol().dosing
    assert (dosing.infusions, dosing.interval_days) == (2, 7)
    assert dosing.infusion_days() == [0, 7]


def test_the_default_schedule_runs_from_screening_to_month_24() -> None:
    visits = default_protocol().visits
    assert [visit.code for visit in visits] == [
        "screening", "day0", "day7", "month1", "month3", "month6", "month9", "month12",
        "month18", "month24",
    ]  # fmt: skip
    assert [visit.day for visit in visits][1:] == [0, 7, 30, 90, 180, 270, 360, 540, 720]
    assert visits[0].day < 0


def test_the_default_visit_windows_do_not_overlap() -> None:
    visits = default_protocol().visits
    for earlier, later in itertools.pairwise(visits):
        assert earlier.day + earlier.window_after_days < later.day - later.window_before_days


def test_the_default_measures_activity_at_every_follow_up_from_month_1() -> None:
    for visit in default_protocol().visits[3:]:
        assert {"sledai2k", "pga", "labs", "ctcae"} <= set(visit.assessments), visit.code


def test_the_default_release_spec_is_the_platform_default_of_section_14() -> None:
    spec = default_protocol().release_spec
    assert spec.viability_min_pct == 70
    assert spec.positive_marker_min_pct == 95
    assert spec.negative_marker_max_pct == 2
    assert spec.endotoxin_max_eu_per_kg == 5


def test_the_default_rules_cover_the_issue_examples() -> None:
    rules = {rule.id: rule.condition for rule in default_protocol().eligibility}
    assert (rules["active_disease"].op, rules["active_disease"].value) == (">=", 8)
    assert (rules["refractory"].op, rules["refractory"].value) == (">=", 2)
    assert rules["no_active_infection"].value is False
    assert rules["not_pregnant"].value is False


def test_the_default_file_cites_its_sources_and_marks_own_choices() -> None:
    assert "§14" in DEFAULT_TEXT
    assert "Wang 2014" in DEFAULT_TEXT
    assert "Gu 2014" in DEFAULT_TEXT
    assert "[PROJECT]" in DEFAULT_TEXT


def test_it_loads_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "programme.yaml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    assert load_protocol(path) == default_protocol()
    assert load_protocol(str(path)) == default_protocol()


# Cross-field rules ----------------------------------------------------------------------------


def test_it_refuses_a_maximum_dose_below_the_target() -> None:
    text = changed("dose_max_per_kg: 1200000", "dose_max_per_kg: 999999")
    line = line_of(text, "dose_max_per_kg")
    assert f"dosing.dose_max_per_kg (line {line}): must be at least dose_per_kg" in refusal(text)


def test_it_accepts_a_maximum_dose_equal_to_the_target() -> None:
    text = changed("dose_max_per_kg: 1200000", "dose_max_per_kg: 1000000")
    assert load_protocol(text).dosing.dose_max_per_kg == Decimal(1_000_000)


def test_it_refuses_a_minimum_dose_above_the_target() -> None:
    text = changed("dose_min_per_kg: 800000", "dose_min_per_kg: 1000001")
    line = line_of(text, "dose_min_per_kg")
    assert f"dosing.dose_min_per_kg (line {line}): must be at most dose_per_kg" in refusal(text)


def test_it_refuses_a_version_longer_than_its_column() -> None:
    """Versions are stored in 20 characters; a longer one is refused before it reaches the table."""
    longest = "1." + "0" * 18
    assert load_protocol(changed('version: "1.0.0"', f'version: "{longest}"')).version == longest
    text = changed('version: "1.0.0"', f'version: "{longest}0"')
    assert f"version (line {line_of(text, 'version:')}): " in refusal(text)


def test_it_refuses_repeated_infusions_without_an_interval() -> None:
    text = changed("  interval_days: 7\n", "")
    assert "dosing.interval_days (line " in refusal(text)


def test_it_refuses_an_infusion_day_without_a_visit() -> None:
    text = changed("interval_days: 7", "interval_days: 14")
    line = line_of(text, "interval_days")
    assert f"dosing.interval_days (line {line}): infusion day 14 has no visit" in refusal(text)


def test_it_refuses_visit_days_out_of_order() -> None:
    text = changed("day: 30\n", "day: 5\n")
    line = line_of(text, "day: 5")
    assert f"visits[3].day (line {line}): must be after the previous visit's day" in refusal(text)


def test_it_refuses_a_schedule_without_day_0() -> None:
    text = changed("code: day0\n    day: 0\n", "code: day0\n    day: 1\n")
    text = text.replace("interval_days: 7", "interval_days: 6")
    assert f"visits (line {line_of(text, 'visits:')}): must include the day-0" in refusal(text)


def test_it_refuses_a_repeated_visit_code() -> None:
    text = changed("code: month9", "code: month6")
    line = lines_with(text, "code: month6")[1]
    assert f"visits[6].code (line {line}): must be unique" in refusal(text)


def test_it_refuses_a_repeated_rule_id() -> None:
    text = changed("id: not_pregnant", "id: adult")
    line = lines_with(text, "id: adult")[1]
    assert f"eligibility[5].id (line {line}): must be unique" in refusal(text)


def test_it_refuses_an_ordering_comparison_with_true_or_false() -> None:
    text = changed('field: active_infection, op: "=="', 'field: active_infection, op: ">="')
    line = line_of(text, "field: active_infection")
    assert f"eligibility[4].condition.value (line {line}): must be a number" in refusal(text)


# Malformed files ------------------------------------------------------------------------------


def test_it_refuses_bad_indentation_naming_the_line() -> None:
    text = changed("  infusions: 2\n", "    infusions: 2\n")
    line = line_of(text, "    infusions: 2")
    message = refusal(text)
    assert "YAML syntax" in message
    assert f"line {line}," in message


def test_it_refuses_an_unknown_key_naming_it_and_its_line() -> None:
    text = changed("  infusions: 2\n", "  infusions: 2\n  dose_unit: cells\n")
    line = line_of(text, "dose_unit")
    assert f"dosing.dose_unit (line {line}): is not a known field" in refusal(text)


def test_it_refuses_a_wrong_type_naming_field_and_line() -> None:
    text = changed("infusions: 2", 'infusions: "2"')
    line = line_of(text, "infusions:")
    message = refusal(text)
    assert f"dosing.infusions (line {line}): " in message
    assert "integer" in message


def test_it_refuses_an_unknown_assessment_naming_its_place() -> None:
    text = changed("[infusion, vitals, labs, ctcae, medications]", "[infusion, vitals, lab]")
    line = line_of(text, "[infusion, vitals, lab]")
    assert f"visits[2].assessments[2] (line {line}): " in refusal(text)


def test_it_refuses_a_missing_field_at_its_parent_line() -> None:
    text = changed("  route: intravenous\n", "")
    assert f"dosing.route (line {line_of(text, 'dosing:')}): is required" in refusal(text)


def test_it_refuses_a_list_as_a_condition_value_with_one_message() -> None:
    text = changed("value: 18}", "value: [18]}")
    line = line_of(text, "value: [18]")
    message = refusal(text)
    assert f"eligibility[0].condition.value (line {line}): " in message
    assert message.count("eligibility[0]") == 1


def test_it_refuses_a_release_limit_out_of_range() -> None:
    text = changed("viability_min_pct: 70", "viability_min_pct: 120")
    line = line_of(text, "viability_min_pct")
    assert f"release_spec.viability_min_pct (line {line}): must be at most 100" in refusal(text)


def test_it_refuses_a_key_given_twice() -> None:
    text = changed("  infusions: 2\n", "  infusions: 2\n  infusions: 3\n")
    line = line_of(text, "infusions: 3")
    assert f"dosing.infusions (line {line}): is given twice" in refusal(text)


def test_it_refuses_an_empty_file_and_a_list() -> None:
    assert "empty" in refusal("")
    assert "(protocol) (line 1)" in refusal("- a\n- b\n")


# Eligibility, three-valued --------------------------------------------------------------------


def rule(rule_id: str) -> EligibilityRule:
    return next(r for r in default_protocol().eligibility if r.id == rule_id)


@pytest.mark.parametrize(("sledai", "expected"), [(7, False), (8, True), (9, True)])
def test_sledai_at_least_8_at_its_boundary(sledai: int, expected: bool) -> None:
    assert evaluate(rule("active_disease"), {"sledai2k_total": sledai}) is expected


def test_a_decimal_screening_value_compares_exactly() -> None:
    assert evaluate(rule("active_disease"), {"sledai2k_total": Decimal("7.99")}) is False


def test_a_missing_or_null_field_leaves_the_rule_undecided() -> None:
    assert evaluate(rule("active_disease"), {}) is None
    assert evaluate(rule("active_disease"), {"sledai2k_total": None}) is None


def test_an_equality_rule_on_true_false() -> None:
    assert evaluate(rule("no_active_infection"), {"active_infection": False}) is True
    assert evaluate(rule("no_active_infection"), {"active_infection": True}) is False


def test_a_screening_value_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="active_infection"):
        evaluate(rule("no_active_infection"), {"active_infection": 0})
    with pytest.raises(TypeError, match="sledai2k_total"):
        evaluate(rule("active_disease"), {"sledai2k_total": True})


def test_eligibility_is_a_three_valued_and() -> None:
    protocol = default_protocol()
    assert eligible(protocol, ELIGIBLE) is True
    assert eligible(protocol, {**ELIGIBLE, "pregnant": None}) is None
    assert eligible(protocol, {**ELIGIBLE, "pregnant": None, "sledai2k_total": 7}) is False


@pytest.mark.parametrize(
    ("op", "expected"),
    [("==", [False, True, False]), ("!=", [True, False, True]), (">", [False, False, True]),
     ("<", [True, False, False]), ("<=", [True, True, False]), (">=", [False, True, True])],
)  # fmt: skip
def test_every_operator_at_its_boundary(op: str, expected: list[bool]) -> None:
    made = EligibilityRule.model_validate(
        {"id": "r", "description": "d", "condition": {"field": "x", "op": op, "value": 8}}
    )
    assert [evaluate(made, {"x": x}) for x in (7, 8, 9)] == expected
