"""Funnel plot: studies at (yi, sei), pseudo limits, contours, trim-and-fill, Egger's line."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from scipy import stats

from metasift.errors import InputError
from metasift.plots import funnel_plot
from metasift.stats import egger_test, meta_analysis, trim_and_fill

Z95 = stats.norm.ppf(0.975)  # 1.959963984540054


@dataclasses.dataclass(frozen=True)
class TrimFillStandIn:
    """The least a trim-and-fill object needs: filled studies, no adjusted estimate."""

    filled_yi: np.ndarray
    filled_vi: np.ndarray


@dataclasses.dataclass(frozen=True)
class EggerStandIn:
    """The least an Egger object needs, yi = b0 + b1 * sei: no test statistic."""

    intercept: float
    slope: float
    predictor: str = "sei"


def _by_gid(fig: Any, gid: str) -> list[Any]:
    ax = fig.axes[0]
    return [a for a in [*ax.lines, *ax.patches] if a.get_gid() == gid]


def _legend_rows(fig: Any) -> list[list[str]]:
    """Legend labels as a reader sees them: row by row, left to right."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_window_extent(renderer), t.get_text()) for t in fig.legends[0].get_texts()]
    rows: dict[float, list[tuple[float, str]]] = {}
    for box, text in boxes:
        rows.setdefault(round(box.y0), []).append((box.x0, text))
    return [[text for _, text in sorted(rows[y])] for y in sorted(rows, reverse=True)]


def test_studies_pseudo_limits_and_estimate(
    functional: tuple[pd.DataFrame, Any],
    clean_layout: Callable[..., int],
    write_all: Callable[..., Any],
) -> None:
    data, res = functional
    fig = funnel_plot(res)
    ax = fig.axes[0]
    (points,) = _by_gid(fig, "funnel-studies")
    np.testing.assert_allclose(points.get_xdata(), data["g"])
    np.testing.assert_allclose(points.get_ydata(), data["g_se"], rtol=1e-12)
    assert ax.yaxis_inverted()
    ymax = ax.get_ylim()[0]
    assert ymax >= data["g_se"].max()
    for gid, sign in (("funnel-pseudo-lb", -1), ("funnel-pseudo-ub", 1)):
        (line,) = _by_gid(fig, gid)
        np.testing.assert_allclose(
            line.get_xdata(), [res.estimate, res.estimate + sign * Z95 * ymax]
        )
        np.testing.assert_allclose(line.get_ydata(), [0.0, ymax])
    (centre,) = _by_gid(fig, "funnel-estimate")
    assert centre.get_xdata()[0] == res.estimate
    assert ax.get_xlabel() == "Std. mean difference"
    clean_layout(fig)
    write_all(fig, "funnel")


def test_contours_are_centred_on_zero_at_p_10_05_01(
    functional: tuple[pd.DataFrame, Any], clean_layout: Callable[..., int]
) -> None:
    _, res = functional
    fig = funnel_plot(res, contour=True)
    ymax = fig.axes[0].get_ylim()[0]
    for p in (0.10, 0.05, 0.01):
        (region,) = _by_gid(fig, f"funnel-contour-{p:.2f}")
        z = stats.norm.ppf(1 - p / 2)
        np.testing.assert_allclose(region.get_xy()[:3, 0], [0.0, -z * ymax, z * ymax])
    assert _legend_rows(fig) == [
        ["p > 0.10", "0.05 < p ≤ 0.10", "0.01 < p ≤ 0.05", "p ≤ 0.01"],
        ["Studies", f"Pooled estimate ({res.estimate:.2f})", "Pseudo 95% limits"],
    ]
    clean_layout(fig)


def test_filled_studies_are_open_and_egger_line_follows_its_model(
    functional: tuple[pd.DataFrame, Any],
    clean_layout: Callable[..., int],
    write_all: Callable[..., Any],
) -> None:
    _, res = functional
    filled = TrimFillStandIn(np.array([-0.30, -0.25]), np.array([0.04, 0.06]))
    egger = EggerStandIn(intercept=-0.05, slope=0.9)
    fig = funnel_plot(res, trimfill=filled, egger=egger, contour=True)
    (open_points,) = _by_gid(fig, "funnel-filled")
    np.testing.assert_allclose(open_points.get_xdata(), filled.filled_yi)
    np.testing.assert_allclose(open_points.get_ydata(), np.sqrt(filled.filled_vi))
    assert to_hex(open_points.get_markerfacecolor()) == "#ffffff"
    (line,) = _by_gid(fig, "funnel-egger")
    ymax = fig.axes[0].get_ylim()[0]
    np.testing.assert_allclose(line.get_xdata(), [-0.05, -0.05 + 0.9 * ymax])
    np.testing.assert_allclose(line.get_ydata(), [0.0, ymax])
    clean_layout(fig)
    write_all(fig, "funnel_full")


def test_egger_with_the_variance_as_predictor_is_a_curve(
    functional: tuple[pd.DataFrame, Any],
) -> None:
    _, res = functional
    fig = funnel_plot(res, egger=EggerStandIn(0.02, 1.5, predictor="vi"))
    (curve,) = _by_gid(fig, "funnel-egger")
    se = curve.get_ydata()
    np.testing.assert_allclose(curve.get_xdata(), 0.02 + 1.5 * se**2)
    assert se[0] == 0.0 and se[-1] == fig.axes[0].get_ylim()[0]
    with pytest.raises(InputError, match="predictor 'ni' cannot be drawn"):
        funnel_plot(res, egger=EggerStandIn(0.0, 1.0, predictor="ni"))


def test_trim_and_fill_result_gives_open_studies_and_the_adjusted_estimate(
    personal: tuple[pd.DataFrame, Any],
    clean_layout: Callable[..., int],
    write_all: Callable[..., Any],
) -> None:
    data, res = personal
    filled = trim_and_fill(data["g"], sei=data["g_se"], method="REML", test="knha")
    assert filled.k0 == 5  # filled on the right: Egger's slope is negative
    fig = funnel_plot(res, trimfill=filled)
    (open_points,) = _by_gid(fig, "funnel-filled")
    np.testing.assert_allclose(open_points.get_xdata(), filled.filled_yi)
    np.testing.assert_allclose(open_points.get_ydata(), np.sqrt(filled.filled_vi))
    (adjusted,) = _by_gid(fig, "funnel-adjusted")
    assert adjusted.get_xdata().tolist() == [filled.estimate] * 2
    (centre,) = _by_gid(fig, "funnel-estimate")
    assert centre.get_xdata()[0] == res.estimate != filled.estimate
    assert _legend_rows(fig) == [
        ["Studies", "Filled studies (trim and fill)"],
        ["Pooled estimate (0.15)", "Trim-and-fill estimate (0.23; 5 studies filled)"],
        ["Pseudo 95% limits"],
    ]
    clean_layout(fig)
    write_all(fig, "funnel_trimfill")


def test_egger_result_line_and_test_in_the_legend(
    personal: tuple[pd.DataFrame, Any], clean_layout: Callable[..., int]
) -> None:
    data, res = personal
    egger = egger_test(data["g"], sei=data["g_se"], method="REML", test="knha")
    fig = funnel_plot(res, egger=egger)
    (line,) = _by_gid(fig, "funnel-egger")
    ymax = fig.axes[0].get_ylim()[0]
    np.testing.assert_allclose(
        line.get_xdata(), [egger.intercept, egger.intercept + egger.slope * ymax]
    )
    # egger.summary(): t = -0.2711, df = 17, p = 0.7896
    assert _legend_rows(fig)[-1][-1] == "Egger's regression line (t = −0.27, df = 17, P = 0.79)"
    clean_layout(fig)


@pytest.mark.parametrize("k", [5, 20, 60])
def test_layout_is_clean_at_any_size(k: int, clean_layout: Callable[..., int]) -> None:
    rng = np.random.default_rng(k)
    res = meta_analysis(rng.normal(0, 0.3, k), rng.uniform(0.005, 0.2, k), measure="OR")
    fig = funnel_plot(res, contour=True)
    assert fig.axes[0].get_xlabel() == "Log odds ratio"
    assert len(_by_gid(fig, "funnel-studies")[0].get_xdata()) == k
    clean_layout(fig)


def test_bad_input() -> None:
    res = meta_analysis([0.1, 0.2, 0.3], [0.01, 0.02, 0.03])
    with pytest.raises(InputError, match="trimfill: expected a trim-and-fill result"):
        funnel_plot(res, trimfill=[0.1])
    with pytest.raises(InputError, match="filled_vi > 0"):
        funnel_plot(res, trimfill=TrimFillStandIn(np.array([0.1]), np.array([-1.0])))
    with pytest.raises(InputError, match="egger: expected a result with intercept and slope"):
        funnel_plot(res, egger=0.2)
    with pytest.raises(InputError, match="expected a MetaResult with yi"):
        funnel_plot({"yi": [1.0]})
    with pytest.raises(InputError, match="pseudo_level=95"):
        funnel_plot(res, pseudo_level=95)
