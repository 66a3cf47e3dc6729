"""Report figures (analytics/figures.py): valid, accessible, deterministic SVG that draws what
it is given where it should be.

Positions are checked against the axes' own tick marks: a value v on an axis from a to b must
sit at tick_a + (tick_b − tick_a) × (v − a)/(b − a). The expected values are computed by hand
from the inputs (e.g. 12/23, a bar of 34 against one of 17), never from the figure code.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from lupus_msc.analytics.figures import (
    BarSeries,
    FigureInputError,
    ForestRow,
    KmCurve,
    ProportionPoint,
    TrajectoryPoint,
    TrajectorySeries,
    bar_chart,
    forest_plot,
    km_plot,
    proportion_plot,
    trajectory_plot,
)

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


# --- inputs -----------------------------------------------------------------------------------


def _studies() -> list[ForestRow]:
    return [
        ForestRow(
            "Wang 2014 (Arthritis Res Ther)", 0.6, 0.43, 0.75, weight=30, events=24, total=40
        ),
        ForestRow("Deng 2017 (RCT, MSC arm)", 0.75, 0.43, 0.95, weight=10, events=9, total=12),
        ForestRow("Sun 2010", 13 / 16, 0.54, 0.96, weight=12, events=13, total=16, verified=False),
    ]


def _pooled() -> ForestRow:
    return ForestRow(
        "Pooled (REML)", 0.68, 0.58, 0.77, kind="pooled", pi_low=0.52, pi_high=0.81, note="k = 3"
    )


def _cohort() -> ForestRow:
    return ForestRow(
        "Cohort, month 12 (NRI)", 12 / 23, 0.31, 0.73, kind="cohort", events=12, total=23
    )


def _forest(**kwargs: object) -> str:
    return forest_plot(_studies(), _pooled(), _cohort(), title="Response at 12 months", **kwargs)  # type: ignore[arg-type]


def _curve(label: str = "All patients", at_risk: dict[int, int] | None = None) -> KmCurve:
    return KmCurve(
        label=label,
        timeline=[0, 30, 91, 200, 400],
        values=[0.0, 0.1, 0.25, 0.4, 0.4],
        ci_low=[0.0, 0.02, 0.12, 0.25, 0.25],
        ci_high=[0.0, 0.3, 0.45, 0.6, 0.6],
        at_risk=at_risk if at_risk is not None else {0: 20, 91: 15, 182: 11, 365: 6},
        censored=[150, 380],
    )


def _km(**kwargs: object) -> str:
    return km_plot(
        [_curve(), _curve("Renal", {0: 9, 91: 7, 182: 5, 365: 2})],
        title="Time to first LLDAS",
        y_label="Reached LLDAS (%)",
        at_risk_days=[0, 91, 182, 365],
        **kwargs,  # type: ignore[arg-type]
    )


def _points() -> list[ProportionPoint]:
    return [
        ProportionPoint("LLDAS", "Month 3", "NRI", 5, 20, 0.11, 0.47),
        ProportionPoint("LLDAS", "Month 3", "observed", 5, 16, 0.14, 0.56),
        ProportionPoint("LLDAS", "Month 12", "NRI", 12, 20, 0.39, 0.78),
        ProportionPoint("LLDAS", "Month 12", "observed", 12, 14, 0.60, 0.96),
    ]


def _proportions(**kwargs: object) -> str:
    return proportion_plot(_points(), title="LLDAS by time point", **kwargs)  # type: ignore[arg-type]


def _series() -> list[TrajectorySeries]:
    return [
        TrajectorySeries(
            "All patients",
            [TrajectoryPoint(0, 0.62, 0.5, 0.75, 23), TrajectoryPoint(12, 0.9, 0.8, 1.0, 17)],
        )
    ]


def _trajectory(**kwargs: object) -> str:
    return trajectory_plot(_series(), title="C3 over time", marker="C3", unit="g/L", **kwargs)  # type: ignore[arg-type]


def _bars(**kwargs: object) -> str:
    return bar_chart(
        ["Grade 1", "Grade 2", "Grade 3"],
        [BarSeries("All events", [34, 17, 0]), BarSeries("Related", [8, 2, 1])],
        title="Adverse events by CTCAE grade",
        y_label="Events (n)",
        **kwargs,  # type: ignore[arg-type]
    )


FIGURES: dict[str, Callable[..., str]] = {
    "forest": _forest,
    "km": _km,
    "proportions": _proportions,
    "trajectory": _trajectory,
    "bars": _bars,
}
TITLES = {
    "forest": "Response at 12 months",
    "km": "Time to first LLDAS",
    "proportions": "LLDAS by time point",
    "trajectory": "C3 over time",
    "bars": "Adverse events by CTCAE grade",
}


# --- SVG helpers -------------------------------------------------------------------------------


def _root(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)


def _by_id(root: ET.Element, element_id: str) -> ET.Element:
    found = [element for element in root.iter() if element.get("id") == element_id]
    assert len(found) == 1, f"{element_id}: {len(found)} elements"
    return found[0]


def _ids(root: ET.Element) -> list[str]:
    return [element.get("id", "") for element in root.iter() if element.get("id")]


def _text(root: ET.Element, element_id: str) -> str:
    return "".join(_by_id(root, element_id).itertext()).strip()


def _texts(root: ET.Element) -> list[str]:
    return ["".join(text.itertext()) for text in root.iter(f"{SVG}text")]


def _use_xy(root: ET.Element, element_id: str) -> tuple[float, float]:
    """Position of the (first) marker drawn in a group: matplotlib draws markers as <use>."""
    use = next(_by_id(root, element_id).iter(f"{SVG}use"))
    return float(use.get("x", "nan")), float(use.get("y", "nan"))


def _ticks(root: ET.Element, fig_id: str, axis: str) -> list[float]:
    """Tick mark positions (x for the x axis, y for the y axis) in SVG units, in order."""
    positions = []
    index = 1
    while any(e.get("id") == f"{fig_id}-{axis}tick_{index}" for e in root.iter()):
        x, y = _use_xy(root, f"{fig_id}-{axis}tick_{index}")
        positions.append(x if axis == "x" else y)
        index += 1
    return positions


def _path_points(root: ET.Element, element_id: str) -> list[tuple[float, float]]:
    path = next(_by_id(root, element_id).iter(f"{SVG}path"))
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def _at(value: float, low_tick: float, high_tick: float, low: float, high: float) -> float:
    return low_tick + (high_tick - low_tick) * (value - low) / (high - low)


# --- every figure ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIGURES)
def test_it_returns_one_accessible_svg_element_without_prologue(name: str) -> None:
    svg = FIGURES[name]()
    assert svg.startswith("<svg ")
    assert "<?xml" not in svg
    assert "<!DOCTYPE" not in svg
    root = _root(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("id") == name
    assert root.get("role") == "img"
    assert root.get("aria-label") == TITLES[name]
    assert re.fullmatch(r"[\d.]+pt", root.get("width", ""))
    assert re.fullmatch(r"[\d.]+pt", root.get("height", ""))
    assert root.get("viewBox", "").startswith("0 0 468 ")  # 6.5 in: A4 text width
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == TITLES[name]
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text


@pytest.mark.parametrize("name", FIGURES)
def test_it_is_deterministic(name: str) -> None:
    assert FIGURES[name]() == FIGURES[name]()


def test_it_is_identical_in_a_fresh_process_with_another_hash_seed() -> None:
    here = str(Path(__file__).parent)
    code = f"import sys; sys.path.insert(0, {here!r}); import test_figures as t; print(t._forest())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout == _forest() + "\n"


@pytest.mark.parametrize("name", FIGURES)
def test_text_stays_text_in_dejavu_sans(name: str) -> None:
    svg = FIGURES[name]()
    assert _texts(_root(svg))
    assert "font-family: 'DejaVu Sans', sans-serif" in svg
    assert '<path id="DejaVuSans' not in svg and "-DejaVuSans-" not in svg  # no glyph paths


@pytest.mark.parametrize("name", FIGURES)
def test_every_id_belongs_to_its_figure(name: str) -> None:
    svg = FIGURES[name](fig_id="fig2")
    ids = _ids(_root(svg))
    assert len(ids) == len(set(ids))
    assert all(element_id == "fig2" or element_id.startswith("fig2-") for element_id in ids)
    references = re.findall(r'(?:href="#|url\(#)([^")]+)', svg)
    assert references
    assert set(references) <= set(ids)
    assert "#fig2 *{" in svg  # matplotlib's style rule does not leak into the page


def test_two_figures_on_one_page_share_no_id() -> None:
    first, second = _root(_forest(fig_id="a")), _root(_forest(fig_id="b"))
    assert not set(_ids(first)) & set(_ids(second))


@pytest.mark.parametrize("fig_id", ["", "1forest", "forest plot", 'x"y'])
def test_it_refuses_an_id_unsafe_in_html(fig_id: str) -> None:
    with pytest.raises(FigureInputError, match="fig_id") as error:
        _forest(fig_id=fig_id)
    assert error.value.field == "fig_id"


def test_caller_text_is_not_read_as_mathtext() -> None:
    row = ForestRow("Cost $5 and $7 study", 0.5, 0.4, 0.6)
    root = _root(forest_plot([row], None, None, title="Costs $1 and $2"))
    assert "Cost $5 and $7 study" in _texts(root)


# --- forest plot -------------------------------------------------------------------------------


def test_forest_draws_one_marker_per_study_a_diamond_a_prediction_bar_and_the_cohort() -> None:
    root = _root(_forest())
    ids = set(_ids(root))
    assert {f"forest-study-{i}" for i in range(3)} <= ids
    assert "forest-study-3" not in ids
    assert {"forest-pooled", "forest-prediction", "forest-cohort"} <= ids
    texts = _texts(root)
    for row in _studies():
        assert row.label in texts
    assert "This program" in texts
    assert "Cohort, month 12 (NRI)" in texts


def test_forest_prints_each_rows_numbers() -> None:
    texts = _texts(_root(_forest()))
    assert "0.52 [0.31, 0.73]" in texts  # 12/23 = 0.5217
    assert "12/23" in texts
    assert "0.60 [0.43, 0.75]" in texts
    assert "24/40" in texts
    assert "[0.52, 0.81]" in texts  # prediction interval
    assert "k = 3" in texts  # the pooled row's note


def test_forest_places_estimates_and_intervals_on_the_0_to_1_axis() -> None:
    root = _root(_forest())
    ticks = _ticks(root, "forest", "x")
    assert len(ticks) == 5  # 0, 0.25, 0.5, 0.75, 1
    zero, one = ticks[0], ticks[-1]
    x, _ = _use_xy(root, "forest-cohort")
    assert x == pytest.approx(_at(12 / 23, zero, one, 0, 1), abs=0.01)
    x, _ = _use_xy(root, "forest-study-0")
    assert x == pytest.approx(_at(0.6, zero, one, 0, 1), abs=0.01)
    diamond = [x for x, _ in _path_points(root, "forest-pooled")]
    assert min(diamond) == pytest.approx(_at(0.58, zero, one, 0, 1), abs=0.01)
    assert max(diamond) == pytest.approx(_at(0.77, zero, one, 0, 1), abs=0.01)
    bar = [x for x, _ in _path_points(root, "forest-prediction")]
    assert min(bar) == pytest.approx(_at(0.52, zero, one, 0, 1), abs=0.01)
    assert max(bar) == pytest.approx(_at(0.81, zero, one, 0, 1), abs=0.01)


def test_forest_puts_the_prediction_bar_under_the_diamond_and_the_cohort_below_both() -> None:
    root = _root(_forest())
    diamond_y = [y for _, y in _path_points(root, "forest-pooled")]
    bar_y = _path_points(root, "forest-prediction")[0][1]
    _, study_y = _use_xy(root, "forest-study-2")
    _, cohort_y = _use_xy(root, "forest-cohort")
    assert study_y < min(diamond_y) < max(diamond_y) < bar_y < cohort_y  # SVG y grows downwards


def test_forest_sizes_squares_by_weight() -> None:
    root = _root(_forest())
    sizes = []
    for i in (0, 1):
        href = next(_by_id(root, f"forest-study-{i}").iter(f"{SVG}use")).get(XLINK_HREF, "")
        xs = [x for x, _ in _path_points(root, href.removeprefix("#"))]
        sizes.append(max(xs) - min(xs))
    assert sizes[0] > sizes[1]  # weight 30 against 10


def test_forest_marks_an_unverified_number() -> None:
    root = _root(_forest())
    label = next(_by_id(root, "forest-study-2-label").iter(f"{SVG}text"))
    assert "font-style: italic" in label.get("style", "")
    assert "fill: #7f7f7f" in label.get("style", "")
    assert "unverified" in _texts(root)
    square = next(_by_id(root, "forest-study-2").iter(f"{SVG}use"))
    assert "fill: #ffffff" in square.get("style", "")  # open square
    assert "stroke: #7f7f7f" in square.get("style", "")
    assert "Not verified in the paper itself" in _texts(root)


def test_forest_without_pooled_or_cohort_draws_only_the_studies() -> None:
    root = _root(forest_plot(_studies(), None, None, title="Studies"))
    ids = set(_ids(root))
    assert "forest-study-2" in ids
    assert not {"forest-pooled", "forest-prediction", "forest-cohort"} & ids
    assert "This program" not in _texts(root)


def test_forest_shortens_a_label_too_long_for_its_column_but_keeps_it_in_the_desc() -> None:
    long = "Gu 2014 (Clin Rheumatol) lupus nephritis cohort, second report " * 2
    root = _root(forest_plot([ForestRow(long, 0.5, 0.4, 0.6)], None, None, title="T"))
    label = _text(root, "forest-study-0-label")
    assert label.endswith("…")
    assert len(label) < len(long)
    assert long.strip() in (root.findtext(f"{SVG}desc") or "")


# --- Kaplan–Meier ------------------------------------------------------------------------------


def test_km_prints_the_numbers_at_risk_under_their_ticks() -> None:
    root = _root(_km())
    ticks = _ticks(root, "km", "x")
    assert [t for t in _texts(root) if t in {"0", "3", "6", "12"}][:4] == ["0", "3", "6", "12"]
    for curve, counts in ((0, [20, 15, 11, 6]), (1, [9, 7, 5, 2])):
        for day, count, tick in zip((0, 91, 182, 365), counts, ticks, strict=True):
            cell = next(_by_id(root, f"km-at-risk-{curve}-{day}").iter(f"{SVG}text"))
            assert cell.text == str(count)
            assert float(cell.get("x", "nan")) == pytest.approx(tick, abs=0.01)
    assert "Number at risk" in _texts(root)
    assert "Months since first infusion" in _texts(root)


def test_km_steps_at_the_curves_days_in_months() -> None:
    root = _root(_km())
    ticks = _ticks(root, "km", "x")
    month_3 = 91 / 30.4375
    xs = sorted({round(x, 3) for x, _ in _path_points(root, "km-curve-0")})
    expected = [_at(day / 30.4375, ticks[0], ticks[1], 0, month_3) for day in (0, 30, 91, 200, 400)]
    assert xs == pytest.approx(expected, abs=0.01)


def test_km_step_value_is_right_continuous() -> None:
    curve = _curve()
    assert curve.value_at(0) == 0.0
    assert curve.value_at(29.9) == 0.0
    assert curve.value_at(30) == 0.1
    assert curve.value_at(399) == 0.4


def test_km_abbreviates_crowded_counts() -> None:
    curve = KmCurve(
        "Big cohort", [0, 400], [0.0, 0.5], [0.0, 0.4], [0.0, 0.6], {0: 100_000, 15: 99_500}
    )
    root = _root(km_plot([curve], title="T", y_label="Y (%)", at_risk_days=[0, 15]))
    assert _text(root, "km-at-risk-0-0") == "100k"
    assert _text(root, "km-at-risk-0-15") == "100k"


def test_km_refuses_a_day_without_a_number_at_risk() -> None:
    with pytest.raises(FigureInputError, match=r"at_risk.*\[730\]") as error:
        km_plot([_curve()], title="T", y_label="Y", at_risk_days=[0, 730])
    assert error.value.field == "at_risk"


# --- proportions, trajectories, bars -----------------------------------------------------------


def test_proportions_draw_nri_and_observed_side_by_side_at_their_heights() -> None:
    root = _root(_proportions())
    ys = _ticks(root, "proportions", "y")
    zero, hundred = ys[0], ys[-1]  # 0 % … 100 %
    nri = _use_xy(root, "proportions-0-NRI-0")
    observed = _use_xy(root, "proportions-0-observed-0")
    assert nri[1] == pytest.approx(_at(5 / 20, zero, hundred, 0, 1), abs=0.01)
    assert observed[1] == pytest.approx(_at(5 / 16, zero, hundred, 0, 1), abs=0.01)
    assert nri[0] < observed[0]  # dodged, NRI on the left
    assert "Non-responder imputation (primary)" in _texts(_root(_proportions()))
    assert "Observed cases (sensitivity)" in _texts(_root(_proportions()))


def test_proportions_order_time_points_as_asked() -> None:
    root = _root(_proportions(timepoints=["Month 1", "Month 3", "Month 12"]))
    ids = set(_ids(root))
    assert {"proportions-0-NRI-1", "proportions-0-NRI-2"} <= ids
    assert "proportions-0-NRI-0" not in ids  # no value at month 1


def test_trajectory_labels_the_marker_with_its_unit_and_counts() -> None:
    root = _root(_trajectory())
    assert "C3 (g/L)" in _texts(root)
    assert _text(root, "trajectory-n-0-0") == "23"
    assert _text(root, "trajectory-n-0-12") == "17"
    assert "trajectory-iqr-0" in _ids(root)


def test_bars_are_as_tall_as_their_values() -> None:
    root = _root(_bars())

    def height(element_id: str) -> float:
        ys = [y for _, y in _path_points(root, element_id)]
        return max(ys) - min(ys)

    assert height("bars-bar-0-0") == pytest.approx(2 * height("bars-bar-0-1"), rel=1e-3)
    assert height("bars-bar-1-0") == pytest.approx(8 * height("bars-bar-1-2"), rel=1e-3)
    texts = _texts(root)
    assert {"34", "17", "8", "Grade 3", "Events (n)", "All events", "Related"} <= set(texts)


# --- bad input ---------------------------------------------------------------------------------


BAD_INPUT: list[tuple[str, Callable[[], object]]] = [
    ("ci_low", lambda: ForestRow("A", 0.5, 0.6, 0.7)),
    ("ci_high", lambda: ForestRow("A", 0.5, 0.4, 0.45)),
    ("ci_high", lambda: ForestRow("A", 0.9, 0.8, 1.2)),
    ("estimate", lambda: ForestRow("A", float("nan"), 0.4, 0.6)),
    ("kind", lambda: ForestRow("A", 0.5, 0.4, 0.6, kind="trial")),  # type: ignore[arg-type]
    ("weight", lambda: ForestRow("A", 0.5, 0.4, 0.6, weight=0)),
    ("events", lambda: ForestRow("A", 0.5, 0.4, 0.6, events=13, total=12)),
    ("pi_high", lambda: ForestRow("P", 0.5, 0.4, 0.6, kind="pooled", pi_low=0.3)),
    ("pi_low", lambda: ForestRow("A", 0.5, 0.4, 0.6, pi_low=0.3, pi_high=0.7)),
    ("kind", lambda: forest_plot([], ForestRow("A", 0.5, 0.4, 0.6), None, title="T")),
    ("kind", lambda: forest_plot([_cohort()], None, None, title="T")),
    ("studies", lambda: forest_plot([], None, None, title="T")),
    ("values", lambda: KmCurve("A", [0, 1], [0.0], [0.0, 0.0], [0.0, 0.0], {})),
    ("ci_low", lambda: KmCurve("A", [0, 1], [0.0, 0.1], [0.0], [0.0, 0.2], {})),
    ("ci_low", lambda: KmCurve("A", [0, 1], [0.0, 0.1], [0.0, 0.2], [0.0, 0.3], {})),
    ("timeline", lambda: KmCurve("A", [0, 5, 3], [0.0] * 3, [0.0] * 3, [0.0] * 3, {})),
    ("timeline", lambda: KmCurve("A", [-1, 3], [0.0] * 2, [0.0] * 2, [0.0] * 2, {})),
    ("at_risk", lambda: KmCurve("A", [0], [0.0], [0.0], [0.0], {0: -1})),
    ("curves", lambda: km_plot([], title="T", y_label="Y", at_risk_days=[0])),
    ("events", lambda: ProportionPoint("LLDAS", "Month 3", "NRI", 21, 20, 0.5, 1.0)),
    ("total", lambda: ProportionPoint("LLDAS", "Month 3", "NRI", 0, 0, 0.0, 0.0)),
    ("ci_low", lambda: ProportionPoint("LLDAS", "Month 3", "NRI", 5, 20, 0.3, 0.5)),
    ("analysis", lambda: ProportionPoint("LLDAS", "Month 3", "LOCF", 5, 20, 0.1, 0.5)),  # type: ignore[arg-type]
    ("timepoint", lambda: _proportions(timepoints=["Month 3"])),
    ("points", lambda: proportion_plot(_points() + _points()[:1], title="T")),
    ("q1", lambda: TrajectoryPoint(3, 0.5, 0.6, 0.7, 10)),
    ("n", lambda: TrajectoryPoint(3, 0.5, 0.4, 0.7, 0)),
    ("points", lambda: TrajectorySeries("A", [TrajectoryPoint(3, 1, 1, 1, 1)] * 2)),
    ("unit", lambda: trajectory_plot(_series(), title="T", marker="C3", unit=" ")),
    ("values", lambda: bar_chart(["G1", "G2"], [BarSeries("A", [1.0])], title="T", y_label="n")),
    ("values", lambda: BarSeries("A", [1.0, -2.0])),
    (
        "categories",
        lambda: bar_chart(["G1", "G1"], [BarSeries("A", [1, 2])], title="T", y_label="n"),
    ),
]


@pytest.mark.parametrize(("field", "make"), BAD_INPUT)
def test_bad_input_raises_a_value_error_naming_the_field(
    field: str, make: Callable[[], object]
) -> None:
    with pytest.raises(ValueError, match=re.escape(field)) as error:
        make()
    assert isinstance(error.value, FigureInputError)
    assert error.value.field == field
