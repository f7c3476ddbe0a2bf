"""Forest plot: drawn from the result's fields, laid out cleanly at any size."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from scipy import stats

from metasift.errors import InputError
from metasift.plots import forest_plot, rob_table
from metasift.stats import meta_analysis, subgroup_analysis

# Drawn coordinates are the result's floats passed through unchanged (or through exp for
# ratio measures, which is the only arithmetic between the result and the drawing).
RTOL_DRAWN = 1e-12


def _artists(fig: Any, gid: str) -> list[Any]:
    ax = fig.axes[1]
    return [a for a in [*ax.lines, *ax.patches] if a.get_gid() == gid]


def _texts(fig: Any, gid: str) -> list[str]:
    return [t.get_text().replace("\u00a0", " ") for t in fig.axes[0].texts if t.get_gid() == gid]


@dataclasses.dataclass(frozen=True)
class OneStudy:
    """Stand-in for a subgroup level with one study (a later issue's value with .note)."""

    note: str


@dataclasses.dataclass(frozen=True)
class SubgroupStandIn:
    """Stand-in for the subgroup result of a later issue, built from real MetaResults."""

    subgroups: dict[str, Any]
    overall: Any
    q_between: float
    q_between_df: float
    q_between_pval: float
    prespecified: bool


def _subgroups(data: pd.DataFrame, res: Any, column: str = "comparator") -> SubgroupStandIn:
    fits: dict[str, Any] = {}
    for level in pd.unique(data[column]):
        rows = data[data[column] == level]
        if len(rows) == 1:
            fits[str(level)] = OneStudy("one study: no pooled estimate")
            continue
        fits[str(level)] = meta_analysis(
            rows["g"], sei=rows["g_se"], slab=rows["study"], method="REML", test="knha"
        )
    fitted = [f for f in fits.values() if hasattr(f, "estimate")]
    est = np.array([f.estimate for f in fitted])
    w = 1 / np.array([f.se for f in fitted]) ** 2
    q = float(np.sum(w * (est - np.sum(w * est) / w.sum()) ** 2))
    df = len(fitted) - 1
    return SubgroupStandIn(fits, res, q, df, float(stats.chi2.sf(q, df)), False)


def test_rows_lines_and_diamond_are_the_results_values(
    personal: tuple[pd.DataFrame, Any],
    clean_layout: Callable[..., int],
    write_all: Callable[..., Any],
) -> None:
    _, res = personal
    fig, layout = forest_plot(res, favours=("Favours control", "Favours peer support"))
    studies = res.studies()
    assert layout["kind"].tolist() == ["study"] * res.k + ["total", "prediction"]
    assert layout["label"].tolist()[: res.k] == list(res.slab)
    lines = _artists(fig, "forest-ci")
    assert len(lines) == res.k
    for line, (_, row) in zip(lines, studies.iterrows(), strict=True):
        np.testing.assert_allclose(line.get_xdata(), [row.ci_lb, row.ci_ub], rtol=RTOL_DRAWN)
    squares = _artists(fig, "forest-square")
    np.testing.assert_allclose([s.get_xdata()[0] for s in squares], res.yi, rtol=RTOL_DRAWN)
    np.testing.assert_allclose([s.get_ydata()[0] for s in squares], layout["y"][: res.k])
    (diamond,) = _artists(fig, "forest-diamond-total")
    xs = diamond.get_xy()[:4, 0]
    np.testing.assert_allclose(xs, [res.ci_lb, res.estimate, res.ci_ub, res.estimate])
    (pi,) = _artists(fig, "forest-prediction")
    np.testing.assert_allclose(pi.get_xdata(), [res.pi_lb, res.pi_ub], rtol=RTOL_DRAWN)
    np.testing.assert_allclose(layout["weight"][: res.k], res.weights, rtol=RTOL_DRAWN)
    clean_layout(fig)
    write_all(fig, "forest_personal")


def test_text_shows_the_published_pooled_result(personal: tuple[pd.DataFrame, Any]) -> None:
    _, res = personal
    fig, _ = forest_plot(res)
    effects = _texts(fig, "forest-effect")
    # Smit et al. 2022 abstract: personal recovery g = 0.15, 95% CI 0.04 to 0.27.
    assert "0.15 [0.04, 0.27]" in effects
    assert "Total (95% CI)" in _texts(fig, "forest-label")
    notes = " ".join(_texts(fig, "forest-note"))
    assert "I² = 43%" in notes  # Q-based, as published (43%)
    # Q = 31.3248 (metafor 3.8-1 prints 31.325, tests/data/peer-support/SOURCE.md).
    assert "Chi² = 31.32, df = 18 (P = 0.03)" in notes
    assert "t = 2.87, df = 18" in notes
    assert "REML" in notes and "Hartung-Knapp" in notes
    weights = _texts(fig, "forest-weight")
    assert weights[-1] == "100.0%"
    shown = [float(w.rstrip("%")) for w in weights[:-1]]
    np.testing.assert_allclose(shown, 100 * res.weights, atol=0.05 + 1e-9)  # one decimal


def test_it_reads_the_result_and_never_recomputes(personal: tuple[pd.DataFrame, Any]) -> None:
    _, res = personal
    # A result whose pooled fields do not follow from its studies: the plot must show them.
    odd = dataclasses.replace(res, estimate=0.5, ci_lb=0.41, ci_ub=0.62, pi_lb=0.3, pi_ub=0.7)
    fig, layout = forest_plot(odd)
    (diamond,) = _artists(fig, "forest-diamond-total")
    np.testing.assert_allclose(diamond.get_xy()[:4, 0], [0.41, 0.5, 0.62, 0.5])
    assert "0.50 [0.41, 0.62]" in _texts(fig, "forest-effect")
    assert layout.loc[layout["kind"] == "prediction", "ci_ub"].item() == 0.7


def test_square_areas_are_proportional_to_weights(personal: tuple[pd.DataFrame, Any]) -> None:
    _, res = personal
    fig, _ = forest_plot(res)
    sides = np.array([s.get_markersize() for s in _artists(fig, "forest-square")])
    area = sides**2
    big = res.weights / res.weights.max() > 0.1  # tiny weights meet the minimum size
    np.testing.assert_allclose(area[big] / area.max(), (res.weights / res.weights.max())[big])


def _synthetic(k: int, seed: int, long_every: int = 0, measure: str | None = None) -> Any:
    rng = np.random.default_rng(seed)
    yi = rng.normal(0.2, 0.5, k)
    vi = rng.uniform(0.01, 0.3, k)
    slab = [
        f"Study {i} of a multi-site trial with a very long and descriptive label ({2000 + i})"
        if long_every and i % long_every == 0
        else f"Study {i}"
        for i in range(k)
    ]
    return meta_analysis(yi, vi, slab=slab, measure=measure)


@pytest.mark.parametrize("k", [5, 20, 60])
def test_layout_is_clean_at_5_20_and_60_studies(
    k: int, clean_layout: Callable[..., int], write_all: Callable[..., Any]
) -> None:
    res = _synthetic(k, seed=k, long_every=7)
    fig, layout = forest_plot(res, favours=("Favours control", "Favours treatment"))
    assert (layout["kind"] == "study").sum() == k
    assert len(_artists(fig, "forest-ci")) == k
    ys = layout["y"].to_numpy()
    assert np.all(np.diff(ys) < 0)  # rows go down, one per drawn row
    clean_layout(fig)
    write_all(fig, f"forest_{k}")


def test_long_labels_wrap_instead_of_running_into_columns(clean_layout: Callable[..., int]) -> None:
    res = _synthetic(6, seed=3, long_every=2)
    fig, _ = forest_plot(res, max_label_width=1.5)
    labels = _texts(fig, "forest-label")
    assert any("\n" in label for label in labels)
    clean_layout(fig)


def test_intervals_beyond_the_axis_end_in_arrows_never_dropped(
    clean_layout: Callable[..., int],
) -> None:
    res = _synthetic(20, seed=11)
    fig, layout = forest_plot(res, xlim=(-0.5, 0.5))
    studies = layout[layout["kind"] == "study"]
    st = res.studies()
    np.testing.assert_array_equal(studies["clipped_lb"], st["ci_lb"] < -0.5)
    np.testing.assert_array_equal(studies["clipped_ub"], st["ci_ub"] > 0.5)
    arrows = _artists(fig, "forest-arrow")
    n_clipped = layout[["clipped_lb", "clipped_ub"]].to_numpy().sum()
    assert len(arrows) == n_clipped > 0
    # Every study still has its line, cut at the axis limits.
    for line, (_, row) in zip(_artists(fig, "forest-ci"), st.iterrows(), strict=True):
        np.testing.assert_allclose(
            line.get_xdata(), np.clip([row.ci_lb, row.ci_ub], -0.5, 0.5), rtol=RTOL_DRAWN
        )
    clean_layout(fig)


def test_ratio_measures_are_drawn_exponentiated_on_a_log_axis() -> None:
    res = _synthetic(8, seed=5, measure="OR")
    fig, layout = forest_plot(res)
    assert fig.axes[1].get_xscale() == "log"
    st = res.studies()
    for line, (_, row) in zip(_artists(fig, "forest-ci"), st.iterrows(), strict=True):
        np.testing.assert_allclose(line.get_xdata(), np.exp([row.ci_lb, row.ci_ub]))
    (null,) = _artists(fig, "forest-null")
    assert null.get_xdata()[0] == 1.0
    total = layout[layout["kind"] == "total"].iloc[0]
    assert total["estimate"] == pytest.approx(np.exp(res.estimate), rel=RTOL_DRAWN)


def test_negative_and_positive_effects_share_a_symmetric_axis(
    clinical: tuple[pd.DataFrame, Any],
) -> None:
    data, res = clinical
    fig, _ = forest_plot(res)
    lo, hi = fig.axes[1].get_xlim()
    assert lo == -hi
    assert lo <= res.studies()["ci_lb"].min() and hi >= res.studies()["ci_ub"].max()
    assert (data["g"] < 0).any() and (data["g"] > 0).any()


def test_sort_options(personal: tuple[pd.DataFrame, Any]) -> None:
    _, res = personal
    order = {
        "effect": np.argsort(res.yi, kind="stable"),
        "-weight": np.argsort(res.weights, kind="stable")[::-1],
        "se": np.argsort(res.vi, kind="stable"),
    }
    for key, idx in order.items():
        _, layout = forest_plot(res, sort=key)
        drawn = layout.loc[layout["kind"] == "study", "estimate"].to_numpy()
        np.testing.assert_array_equal(drawn, res.yi[idx])
    labels = sorted(set(res.slab), reverse=True)
    _, layout = forest_plot(res, sort=labels)
    assert layout["label"].iloc[0] == labels[0]
    with pytest.raises(InputError, match="sort='year': use one of effect, weight, se, label"):
        forest_plot(res, sort="year")


def test_optional_columns_arms_category_and_rob(
    personal: tuple[pd.DataFrame, Any],
    clean_layout: Callable[..., int],
    write_all: Callable[..., Any],
) -> None:
    data, res = personal
    arms = pd.DataFrame(
        {
            "m1i": data["mean_ps"],
            "sd1i": data["sd_ps"],
            "n1i": data["n_ps"],
            "m2i": data["mean_ctrl"],
            "sd2i": data["sd_ctrl"],
            "n2i": data["n_ctrl"],
        }
    )
    labels = list(dict.fromkeys(res.slab))
    rng = np.random.default_rng(7)
    levels = ["Low", "Some concerns", "High"]
    rob = rob_table(
        pd.DataFrame(
            {"Study": labels, **{f"D{i}": rng.choice(levels, len(labels)) for i in range(1, 6)}}
        ),
        "ROB2",
    )
    fig, _ = forest_plot(
        res,
        arms=arms,
        arm_labels=("Peer support", "Control"),
        columns={"Control type": data["comparator"]},
        rob=rob,
    )
    assert _texts(fig, "forest-n1i")[0] == "65"  # Boevink 2016, peer-support arm
    assert _texts(fig, "forest-m1i")[0] == "2.73"
    # Missing arm data (Rogers 2016) is left blank, and then no total is summed.
    assert len(_texts(fig, "forest-n1i")) == data["n_ps"].notna().sum()
    assert not any("nan" in t.get_text().lower() for t in fig.axes[0].texts)
    assert _texts(fig, "forest-col:Control type")[:2] == ["WL", "WL"]
    dots = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("rob-")]
    assert len(dots) == res.k * 5
    clean_layout(fig)
    write_all(fig, "forest_columns")


def test_subgroup_result(
    personal: tuple[pd.DataFrame, Any],
    clean_layout: Callable[..., int],
    write_all: Callable[..., Any],
) -> None:
    data, res = personal
    sub = _subgroups(data, res)
    fig, layout = forest_plot(sub, favours=("Favours control", "Favours peer support"))
    headers = layout.loc[layout["kind"] == "subgroup", "label"].tolist()
    assert headers == list(sub.subgroups)
    subtotals = layout[layout["kind"] == "subtotal"]
    for (_, row), fit in zip(subtotals.iterrows(), sub.subgroups.values(), strict=True):
        assert (row.estimate, row.ci_lb, row.ci_ub) == (fit.estimate, fit.ci_lb, fit.ci_ub)
        members = layout[(layout["kind"] == "study") & (layout["group"] == row.group)]
        assert sorted(members["label"]) == sorted(fit.slab)
        assert row.weight == pytest.approx(members["weight"].sum())
    diamonds = _artists(fig, "forest-diamond-subtotal")
    assert len(diamonds) == len(sub.subgroups)
    notes = " ".join(_texts(fig, "forest-note"))
    assert f"Chi² = {sub.q_between:.2f}, df = 2" in notes
    assert "Test for subgroup differences (post hoc)" in notes
    clean_layout(fig)
    write_all(fig, "forest_subgroups")


def _by_comparator(data: pd.DataFrame, groups: Any = None) -> Any:
    return subgroup_analysis(
        data["g"],
        sei=data["g_se"],
        slab=data["study"],
        groups=data["comparator"] if groups is None else groups,
        method="REML",
        test="knha",
        prespecified=False,
    )


def test_subgroup_analysis_result_with_a_diamond_beyond_the_axis(
    personal: tuple[pd.DataFrame, Any],
    clean_layout: Callable[..., int],
) -> None:
    data, _ = personal
    sub = _by_comparator(data)
    fig, layout = forest_plot(sub, favours=("Favours control", "Favours peer support"))
    lo, hi = fig.axes[1].get_xlim()
    subtotals = layout[layout["kind"] == "subtotal"].reset_index(drop=True)
    diamonds = _artists(fig, "forest-diamond-subtotal")
    for (_, row), fit, diamond in zip(
        subtotals.iterrows(), sub.subgroups.values(), diamonds, strict=True
    ):
        # True corners, even where the axes cut the diamond (the two studies compared
        # with "Other" give a t interval on 1 df, -2.12 to 2.00, beyond the axis).
        np.testing.assert_allclose(
            diamond.get_xy()[:4, 0], [fit.ci_lb, fit.estimate, fit.ci_ub, fit.estimate]
        )
        assert diamond.get_clip_on()
        assert (row.clipped_lb, row.clipped_ub) == (fit.ci_lb < lo, fit.ci_ub > hi)
    other = subtotals[subtotals["group"] == "Other"].iloc[0]
    assert other.clipped_lb and other.clipped_ub
    notes = " ".join(_texts(fig, "forest-note"))
    assert "Test for subgroup differences (post hoc): Chi² = 2.24, df = 2 (P = 0.33)" in notes
    clean_layout(fig)


def test_notes_of_the_subgroup_analysis_and_its_fits_are_shown(
    functional: tuple[pd.DataFrame, Any], clean_layout: Callable[..., int]
) -> None:
    data, _ = functional
    arm = np.where(data["study"] == "Salzer, 2016", "Alone", data["comparator"])
    sub = _by_comparator(data, arm)
    assert sub.notes and sub.subgroups["WL"].notes  # WL: tau^2 on the boundary 0
    fig, _ = forest_plot(sub)
    notes = _texts(fig, "forest-note")
    assert "Note: subgroup 'Alone' has one study: its own yi and SE enter the test" in (
        " ".join(notes)
    )
    labels = _texts(fig, "forest-label")
    assert "Note: Tau² estimate is on the boundary 0" in labels
    assert "Not applicable: not pooled: one study" in labels
    clean_layout(fig)


def test_subgroup_with_a_single_study(
    functional: tuple[pd.DataFrame, Any], clean_layout: Callable[..., int]
) -> None:
    data, res = functional
    data = data.assign(arm=np.where(data["study"] == "Salzer, 2016", "Alone", data["comparator"]))
    sub = _subgroups(data, res, "arm")
    assert isinstance(sub.subgroups["Alone"], OneStudy)
    fig, layout = forest_plot(sub)
    alone = layout[layout["group"] == "Alone"]
    assert alone["kind"].tolist() == ["subgroup", "study", "subtotal"]
    assert alone.iloc[1]["label"] == "Salzer, 2016"
    assert np.isnan(alone.iloc[2]["estimate"])  # no pooled estimate for one study
    labels = _texts(fig, "forest-label")
    assert "Not applicable: one study: no pooled estimate" in " ".join(labels)
    clean_layout(fig)


def test_group_argument_resolves_several_single_study_levels(
    functional: tuple[pd.DataFrame, Any],
) -> None:
    data, res = functional
    group = ["A" if i == 0 else "B" if i == 1 else "C" for i in range(res.k)]
    fits = {
        "A": OneStudy("one study"),
        "B": OneStudy("one study"),
        "C": meta_analysis(data["g"][2:], sei=data["g_se"][2:], slab=data["study"][2:]),
    }
    sub = SubgroupStandIn(fits, res, 1.0, 2.0, 0.6, True)
    with pytest.raises(InputError, match="pass group= with one subgroup label per study"):
        forest_plot(sub)
    _, layout = forest_plot(sub, group=group)
    assert layout.loc[layout["group"] == "A", "label"].tolist()[1] == res.slab[0]


def test_bad_input_is_reported(personal: tuple[pd.DataFrame, Any]) -> None:
    _, res = personal
    with pytest.raises(InputError, match="expected a MetaResult"):
        forest_plot({"estimate": 1.0})
    with pytest.raises(InputError, match="arms: columns"):
        forest_plot(res, arms=pd.DataFrame({"x": range(res.k)}))
    with pytest.raises(InputError, match=r"columns\['Type'\]: 3 values for 19 studies"):
        forest_plot(res, columns={"Type": ["a", "b", "c"]})
    rob = rob_table(pd.DataFrame({"Study": ["Elsewhere 2020"], "D1": ["Low"]}), "Generic")
    with pytest.raises(InputError, match="rob: no risk-of-bias judgements for 'Boevink, 2016'"):
        forest_plot(res, rob=rob)
    with pytest.raises(InputError, match="i2='both'"):
        forest_plot(res, i2="both")


def test_equal_effects_model_has_no_prediction_row() -> None:
    res = meta_analysis([0.1, 0.3, 0.2], [0.01, 0.02, 0.03], slab=["A", "B", "C"], method="EE")
    fig, layout = forest_plot(res)
    assert "prediction" not in layout["kind"].tolist()
    assert any("Common-effect model" in t for t in _texts(fig, "forest-note"))
    assert all(isinstance(a, (Line2D, Polygon)) for a in _artists(fig, "forest-diamond-total"))


def test_one_study_says_heterogeneity_is_not_applicable(
    clean_layout: Callable[..., int],
) -> None:
    res = meta_analysis([0.3], [0.04], slab=["Only 2020"])
    fig, layout = forest_plot(res)
    assert layout["kind"].tolist() == ["study", "total"]  # no prediction interval for k = 1
    notes = _texts(fig, "forest-note")
    assert notes[0] == "Heterogeneity: Not applicable"
    assert any(n.startswith("Note: one study") for n in notes)  # the result's own note
    clean_layout(fig)


@dataclasses.dataclass(frozen=True)
class OneStudyWithData:
    """A one-study level that also carries its study (yi, vi, slab), matched by those."""

    yi: float
    vi: float
    slab: str
    note: str = "not pooled: one study"


def test_single_study_levels_are_matched_by_their_own_data(
    functional: tuple[pd.DataFrame, Any],
) -> None:
    data, res = functional
    first, second = 0, 1
    rest = data.iloc[2:]
    fits = {
        "A": OneStudyWithData(res.yi[first], res.vi[first], res.slab[first]),
        "B": OneStudyWithData(res.yi[second], res.vi[second], res.slab[second]),
        "C": meta_analysis(rest["g"], sei=rest["g_se"], slab=rest["study"]),
    }
    _, layout = forest_plot(SubgroupStandIn(fits, res, 1.0, 2.0, 0.6, True))
    assert layout.loc[layout["group"] == "B", "label"].tolist() == [
        "B",
        res.slab[second],
        "Subtotal (95% CI)",
    ]
