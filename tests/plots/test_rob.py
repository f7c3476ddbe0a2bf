"""Traffic-light and summary plots of risk-of-bias tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.patches import Circle, Rectangle

from metasift.errors import InputError
from metasift.plots import (
    read_rob_table,
    rob_proportions,
    rob_summary,
    rob_table,
    rob_traffic_light,
)

ROBVIS = Path(__file__).resolve().parents[1] / "data" / "plots" / "robvis"
RTOL_SHARE = 1e-12  # bar widths are the computed shares, drawn unchanged


def _lights(fig: Any) -> list[Circle]:
    """Traffic lights of the grid (the legend's circles are smaller)."""
    return [p for p in fig.axes[0].patches if isinstance(p, Circle) and p.radius > 0.07]


@pytest.mark.parametrize(
    ("name", "tool"),
    [("data_rob2.csv", "ROB2"), ("data_robins_i.csv", "ROBINS-I"), ("data_rob1.csv", "ROB1")],
)
def test_traffic_light_draws_one_coloured_light_per_cell(
    name: str, tool: str, clean_layout: Callable[..., int], write_all: Callable[..., Any]
) -> None:
    table = read_rob_table(ROBVIS / name, tool)
    fig = rob_traffic_light(table)
    lights = _lights(fig)
    matrix = table.matrix()
    assert len(lights) == matrix.size
    # Column-major order as drawn: column by column, study by study.
    expected = [
        to_hex(table.tool.judgement(v).colour) for code in matrix for v in matrix[code].tolist()
    ]
    assert [to_hex(c.get_facecolor()) for c in lights] == expected
    # Rows go down in table order, columns left to right.
    first_col = lights[: len(table.studies)]
    assert [c.center[1] for c in first_col] == sorted(
        (c.center[1] for c in first_col), reverse=True
    )
    symbols = {t.get_text() for t in fig.axes[0].texts}
    assert {"+", "x"} <= symbols
    assert clean_layout(fig) > matrix.size
    write_all(fig, f"traffic_{tool}")


def test_symbols_stay_inside_their_lights() -> None:
    fig = rob_traffic_light(read_rob_table(ROBVIS / "data_robins_i.csv", "ROBINS-I"))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    lights = _lights(fig)
    centres = {(round(c.center[0], 6), round(c.center[1], 6)): c for c in lights}
    checked = 0
    for text in fig.axes[0].texts:
        key = (round(text.get_position()[0], 6), round(text.get_position()[1], 6))
        if key in centres:
            inner = text.get_window_extent(renderer)
            outer = centres[key].get_window_extent(renderer)
            assert outer.x0 <= inner.x0 and inner.x1 <= outer.x1
            assert outer.y0 <= inner.y0 and inner.y1 <= outer.y1
            checked += 1
    assert checked == len(lights)


def test_overall_column_is_shaded_and_optional() -> None:
    table = read_rob_table(ROBVIS / "data_rob2.csv", "ROB2")
    with_overall = rob_traffic_light(table)
    without = rob_traffic_light(table, overall=False)
    assert len(_lights(with_overall)) == 9 * 6
    assert len(_lights(without)) == 9 * 5
    shaded = [
        p
        for p in with_overall.axes[0].patches
        if isinstance(p, Rectangle) and to_hex(p.get_facecolor()) == "#e3e3e3"
    ]
    assert len(shaded) == 1


def _synthetic(n: int, label: Callable[[int], str]) -> pd.DataFrame:
    rng = np.random.default_rng(n)
    levels = ["Low", "Some concerns", "High", "No information"]
    frame = pd.DataFrame({"Study": [label(i) for i in range(n)]})
    for d in ("D1", "D2", "D3", "D4", "D5", "Overall"):
        frame[d] = rng.choice(levels, n)
    return frame


@pytest.mark.parametrize("n", [5, 20, 60])
def test_traffic_light_layout_is_clean_at_any_size(
    n: int, clean_layout: Callable[..., int], write_all: Callable[..., Any]
) -> None:
    frame = _synthetic(n, lambda i: f"Study {i + 1}")
    fig = rob_traffic_light(frame, "ROB2")
    assert len(_lights(fig)) == n * 6
    clean_layout(fig)
    write_all(fig, f"traffic_{n}")


def test_long_study_labels_widen_the_figure(clean_layout: Callable[..., int]) -> None:
    short = rob_traffic_light(_synthetic(5, lambda i: f"S{i}"), "ROB2")
    long = rob_traffic_light(
        _synthetic(5, lambda i: f"Van Gestel-Timmermans and colleagues, trial {i} (2012)"), "ROB2"
    )
    assert long.get_size_inches()[0] > short.get_size_inches()[0]
    clean_layout(long)


def test_proportions_by_hand_for_the_robvis_rob2_example() -> None:
    table = read_rob_table(ROBVIS / "data_rob2.csv", "ROB2")
    shares = rob_proportions(table, overall=True)
    d1 = shares.loc["Bias arising from the randomization process"]
    # D1 column of data_rob2.csv: Low x6, Some concerns x1, No information x1, High x1.
    assert d1.to_dict() == pytest.approx(
        {"Low": 6 / 9, "Some concerns": 1 / 9, "High": 1 / 9, "No information": 1 / 9}
    )
    overall = shares.loc["Overall risk of bias"]
    assert overall.to_dict() == pytest.approx(
        {"Low": 1 / 9, "Some concerns": 3 / 9, "High": 5 / 9, "No information": 0.0}
    )
    assert shares.index[0] == "Overall risk of bias"
    assert shares.attrs["weighted"] is False


def test_weighted_proportions_by_hand() -> None:
    frame = read_rob_table(ROBVIS / "data_rob2.csv", "ROB2").to_frame()
    frame["Weight"] = np.arange(1.0, 10.0)
    shares = rob_proportions(frame, "ROB2")
    # D3 column: High in studies 4 and 9 (weights 4 and 9), Some concerns in 3, 6, 7.
    d3 = shares.loc["Bias due to missing outcome data"]
    assert d3["High"] == pytest.approx(13 / 45)
    assert d3["Some concerns"] == pytest.approx(16 / 45)
    assert shares.attrs["weighted"] is True
    assert rob_proportions(frame, "ROB2", weighted=False).loc[d3.name, "High"] == pytest.approx(
        2 / 9
    )


def test_not_applicable_is_left_out_of_the_denominator() -> None:
    table = read_rob_table(ROBVIS / "data_rob2_cluster.csv", "Generic")
    d1b = rob_proportions(table).iloc[1]
    # D1b: Not applicable x6, High x2 (studies 5, 6), Some concerns x1 (study 7).
    assert d1b.sum() == pytest.approx(1.0)
    assert d1b["High"] == pytest.approx(2 / 3)
    assert d1b["Unclear"] == pytest.approx(1 / 3)


def test_weights_from_a_meta_analysis_result(personal: tuple[pd.DataFrame, Any]) -> None:
    _, res = personal
    labels = list(dict.fromkeys(res.slab))
    frame = _synthetic(len(labels), lambda i: labels[i])
    shares = rob_proportions(frame, "ROB2", weights=res)
    by_study: dict[str, float] = {}
    for label, w in zip(res.slab, res.weights, strict=True):
        by_study[label] = w  # duplicated labels: the last row's weight, as a mapping would
    w = np.array([by_study[s] for s in frame["Study"]])
    low = (frame["D1"] == "Low").to_numpy()
    assessed = np.ones(len(frame), dtype=bool)
    expected = w[low].sum() / w[assessed].sum()
    assert shares.iloc[0]["Low"] == pytest.approx(expected, rel=RTOL_SHARE)


def test_summary_bars_have_the_computed_widths(
    clean_layout: Callable[..., int], write_all: Callable[..., Any]
) -> None:
    table = read_rob_table(ROBVIS / "data_robins_i.csv", "ROBINS-I")
    fig = rob_summary(table, overall=True)
    shares = rob_proportions(table, overall=True)
    bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    for bar in bars:
        level = bar.get_gid().removeprefix("rob-")
        row = len(shares) - 1 - round(bar.get_y() + bar.get_height() / 2)
        assert bar.get_width() == pytest.approx(shares.iloc[row][level], rel=RTOL_SHARE, abs=0)
    top = max(fig.axes[0].get_yticklabels(), key=lambda t: t.get_position()[1])
    assert top.get_text() == "Overall risk of bias"
    assert top.get_fontweight() == "bold"
    assert fig.axes[0].get_xlabel() == "Studies (%), unweighted"
    clean_layout(fig)
    write_all(fig, "summary_robins_i")


def test_summary_says_when_it_is_weighted() -> None:
    frame = read_rob_table(ROBVIS / "data_quadas.csv", "QUADAS-2").to_frame()
    frame["Weight"] = 1.0 + np.arange(len(frame))
    fig = rob_summary(frame, "QUADAS-2")
    assert fig.axes[0].get_xlabel() == "Weight of studies (%)"


def test_weighting_errors_are_explicit() -> None:
    table = read_rob_table(ROBVIS / "data_rob2.csv", "ROB2")
    with pytest.raises(InputError, match="weighted=True needs weights"):
        rob_summary(table, weighted=True)
    with pytest.raises(InputError, match="no weight for study 'Study 9'"):
        rob_proportions(table, weights={f"Study {i}": 1.0 for i in range(1, 9)})
    with pytest.raises(InputError, match="weights were given with weighted=False"):
        rob_proportions(table, weighted=False, weights={"Study 1": 1.0})
    with pytest.raises(InputError, match="a RobTable has one"):
        rob_traffic_light(table, "ROB2")


def test_plain_frames_are_checked_before_drawing() -> None:
    frame = _synthetic(3, lambda i: f"S{i}")
    frame.loc[1, "D2"] = "Moderate"
    with pytest.raises(InputError, match="'Moderate' is not a RoB 2 judgement"):
        rob_traffic_light(frame, "ROB2")
    assert len(_lights(rob_traffic_light(frame, "Generic"))) == 3 * 6
    assert rob_table(frame, "Generic").judgements[1][1] == "Unclear"
