"""Forest plot in the style of RevMan and R meta, drawn from a result object.

The function reads the fields of a ``MetaResult`` (or of a subgroup result: ``subgroups``,
``overall``, ``q_between``...) and never recomputes a pooled statistic: squares, lines and
diamonds are placed at the values the result holds, and the text shows those values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from metasift.errors import InputError
from metasift.plots._common import MEASURE_LABELS, RATIO_MEASURES, fmt_num, fmt_p
from metasift.plots._forest_draw import Column, Row, draw_forest
from metasift.plots.robtools import RobTable

__all__ = ["ForestPlot", "forest_plot"]

_META_FIELDS = ("estimate", "ci_lb", "ci_ub", "yi", "vi", "slab", "weights", "level", "k")
_SORT_KEYS = ("effect", "weight", "se", "label")


class ForestPlot(NamedTuple):
    """The figure and its layout: one row per drawn row.

    ``layout`` columns: ``kind`` (study, subgroup, subtotal, total, prediction),
    ``label``, ``group``, ``estimate``, ``ci_lb``, ``ci_ub`` (on the drawn scale),
    ``weight`` (fraction of the overall weight), ``y`` (row centre in inches from the
    bottom of the figure; also the y data coordinate of the plot axes), ``clipped_lb`` and
    ``clipped_ub`` (True where an arrow replaces the part of the interval beyond the axis).
    """

    figure: Figure
    layout: pd.DataFrame


@dataclass
class _Group:
    name: str | None
    members: list[int]
    result: Any = None
    note: str | None = None


@dataclass
class _Options:
    transf: Callable[[Any], Any]
    digits: int
    i2: str
    columns: list[Column] = field(default_factory=list)
    cells: dict[str, list[str]] = field(default_factory=dict)


def _is_meta(obj: Any) -> bool:
    return all(hasattr(obj, name) for name in _META_FIELDS)


def _check_result(result: Any) -> tuple[Any, Any]:
    if _is_meta(result):
        return result, None
    if hasattr(result, "subgroups") and hasattr(result, "overall") and _is_meta(result.overall):
        return result.overall, result
    raise InputError(
        f"result: expected a MetaResult (fields {', '.join(_META_FIELDS)}) or a subgroup "
        f"result (subgroups, overall, q_between, ...), got {type(result).__name__}"
    )


def _match(sub: Any, overall: Any, taken: list[bool], level: str) -> list[int]:
    members = []
    # A one-study level (e.g. NotPooled) holds scalars; a fit holds arrays and a tuple of labels.
    slab = [sub.slab] if isinstance(sub.slab, str) else list(sub.slab)
    yis, vis = np.atleast_1d(np.asarray(sub.yi)), np.atleast_1d(np.asarray(sub.vi))
    for label, yi, vi in zip(slab, yis, vis, strict=True):
        same = [i for i, s in enumerate(overall.slab) if s == label and not taken[i]]
        exact = [i for i in same if overall.yi[i] == yi and overall.vi[i] == vi]
        pick = (exact or same)[:1]
        if not pick:
            raise InputError(
                f"subgroup {level!r}: study {label!r} is not among the overall result's studies"
            )
        taken[pick[0]] = True
        members.append(pick[0])
    return members


def _groups(overall: Any, sub: Any, group: Sequence[Any] | None) -> list[_Group]:
    if sub is None:
        return [_Group(None, list(range(overall.k)), overall)]
    levels = list(sub.subgroups.items())
    if group is not None:
        labels = [str(g) for g in group]
        if len(labels) != overall.k:
            raise InputError(f"group has {len(labels)} values; the result has {overall.k} studies")
        return [
            _Group(
                str(lv),
                [i for i, g in enumerate(labels) if g == str(lv)],
                r if _is_meta(r) else None,
                getattr(r, "note", None),
            )
            for lv, r in levels
        ]
    taken = [False] * overall.k
    out, pending = [], []
    for level, res in levels:
        if _is_meta(res):
            out.append(_Group(str(level), _match(res, overall, taken, str(level)), res))
        elif all(hasattr(res, name) for name in ("slab", "yi", "vi")):
            members = _match(res, overall, taken, str(level))
            out.append(_Group(str(level), members, None, str(getattr(res, "note", ""))))
        else:
            out.append(_Group(str(level), [], None, str(getattr(res, "note", ""))))
            pending.append(out[-1])
    rest = [i for i, t in enumerate(taken) if not t]
    if len(pending) == 1:
        pending[0].members = rest
    elif rest:
        names = [g.name for g in pending] or ["(none)"]
        raise InputError(
            f"{len(rest)} studies of the overall result belong to no subgroup result "
            f"(levels without a fit: {', '.join(str(n) for n in names)}); pass group= with "
            "one subgroup label per study"
        )
    return out


def _sort(members: list[int], sort: Any, st: pd.DataFrame) -> list[int]:
    if sort is None:
        return members
    if isinstance(sort, str):
        key = sort.lstrip("-")
        if key not in _SORT_KEYS:
            raise InputError(
                f"sort={sort!r}: use one of {', '.join(_SORT_KEYS)} (prefix '-' to reverse), "
                "a sequence of study labels, or None"
            )
        column = {"effect": "yi", "weight": "weight", "se": "sei", "label": "slab"}[key]
        values = st[column].to_numpy()[members]
        order = np.argsort(values, kind="stable")
        if sort.startswith("-"):
            order = order[::-1]
        return [members[int(j)] for j in order]
    rank = {str(label): r for r, label in enumerate(sort)}
    missing = [st["slab"].iloc[i] for i in members if st["slab"].iloc[i] not in rank]
    if missing:
        raise InputError(f"sort: studies {missing} are not in the given order of labels")
    return sorted(members, key=lambda i: rank[st["slab"].iloc[i]])


def _effect_text(est: float, lb: float, ub: float, digits: int) -> str:
    return f"{fmt_num(est, digits)} [{fmt_num(lb, digits)}, {fmt_num(ub, digits)}]"


def _keep(text: str) -> str:
    # Non-breaking spaces keep "I² = 49%" or "df = 9 (P = 0.04)" on one line when wrapped.
    return text.replace(" ", "\u00a0")


def _heterogeneity_text(res: Any, i2: str) -> str:
    if not math.isfinite(float(res.qe)):
        return "Heterogeneity: Not applicable"
    value = res.i2_q if i2 == "q" else res.i2
    parts = []
    if getattr(res, "method", "REML") not in ("EE", "FE"):
        parts.append(_keep(f"Tau\u00b2 = {fmt_num(res.tau2, 2)}"))
    parts.append(
        _keep(f"Chi\u00b2 = {fmt_num(res.qe, 2)},")
        + " "
        + _keep(f"df = {_int(res.qe_df)} ({fmt_p(res.qe_pval)})")
    )
    parts.append(_keep(f"I\u00b2 = {_pct(value)}"))
    return "Heterogeneity: " + "; ".join(parts)


def _int(value: float) -> str:
    return "NA" if not math.isfinite(value) else f"{value:.0f}"


def _pct(value: float) -> str:
    return "NA" if not math.isfinite(value) else f"{100 * value:.0f}%"


def _test_text(res: Any) -> str:
    if getattr(res, "test", "z") == "z":
        stat = _keep(f"Z = {fmt_num(res.zval, 2)}")
    else:
        stat = _keep(f"t = {fmt_num(res.tval, 2)},") + " " + _keep(f"df = {_int(res.df)}")
    return f"Test for overall effect: {stat} {_keep(f'({fmt_p(res.pval)})')}"


def _model_text(res: Any, i2: str) -> str:
    method = getattr(res, "method", "")
    pct = f"{100 * res.level:g}%"
    if method in ("EE", "FE"):
        text = f"Common-effect model, inverse-variance weights; {pct} CI (Wald)"
    else:
        test = getattr(res, "test", "z")
        ci = {"z": "Wald", "knha": "Hartung-Knapp", "adhoc": "Hartung-Knapp (ad hoc)"}
        text = (
            f"Random-effects model, {method} estimator of Tau\u00b2; {pct} CI "
            f"({ci.get(test, test)})"
        )
    source = "Q" if i2 == "q" else "Tau\u00b2"
    return text + f"; I\u00b2 from {source}"


def _note(text: str) -> str:
    # Results spell symbols in ASCII ("tau^2"); the figure prints them as its other text does.
    return "Note: " + str(text).replace("tau^2", "Tau\u00b2").replace("I^2", "I\u00b2")


def _subgroup_test_text(sub: Any) -> str:
    q, df = float(sub.q_between), float(sub.q_between_df)
    # I^2 for subgroup differences as RevMan 5 prints it: (Q - df) / Q, floored at 0.
    i2 = max(0.0, (q - df) / q) if q > 0 and math.isfinite(q) else float("nan")
    timing = "prespecified" if getattr(sub, "prespecified", False) else "post hoc"
    return (
        f"Test for subgroup differences ({timing}): {_keep(f'Chi² = {fmt_num(q, 2)},')} "
        f"{_keep(f'df = {_int(df)} ({fmt_p(float(sub.q_between_pval))})')}; "
        f"{_keep(f'I² = {_pct(i2)}')}"
    )


def _study_row(i: int, st: pd.DataFrame, opts: _Options, group: str | None) -> Row:
    est, lb, ub = (
        float(v) for v in opts.transf(st.loc[i, ["yi", "ci_lb", "ci_ub"]].to_numpy(dtype=float))
    )
    w = float(st["weight"].iloc[i])
    cells = {key: values[i] for key, values in opts.cells.items()}
    cells["weight"] = f"{100 * w:.1f}%"
    cells["effect"] = _effect_text(est, lb, ub, opts.digits)
    return Row("study", str(st["slab"].iloc[i]), est, lb, ub, w, cells, group, index=i)


def _pooled_row(
    kind: str,
    label: str,
    res: Any,
    weight: float,
    opts: _Options,
    group: str | None,
    members: list[int],
) -> Row:
    est, lb, ub = (float(v) for v in opts.transf(np.array([res.estimate, res.ci_lb, res.ci_ub])))
    cells = {"weight": f"{100 * weight:.1f}%", "effect": _effect_text(est, lb, ub, opts.digits)}
    for key, values in opts.cells.items():
        if key in ("n1i", "n2i", "ai", "ci"):
            numbers = [values[i] for i in members]
            if numbers and all(v.isdigit() for v in numbers):
                cells[key] = str(sum(int(v) for v in numbers))
    return Row(kind, label, est, lb, ub, weight, cells, group, bold=True)


def _rows(
    overall: Any, sub: Any, groups: list[_Group], sort: Any, opts: _Options
) -> tuple[list[Row], list[str]]:
    st = overall.studies().reset_index(drop=True)
    st["weight"] = np.asarray(overall.weights, dtype=float)
    pct = f"{100 * overall.level:g}% CI"
    rows: list[Row] = []
    for g in groups:
        members = _sort(g.members, sort, st)
        if g.name is not None:
            rows.append(Row("subgroup", g.name, group=g.name, bold=True))
        rows += [_study_row(i, st, opts, g.name) for i in members]
        if g.name is None:
            continue
        weight = float(st["weight"].to_numpy()[members].sum())
        if g.result is not None:
            rows.append(
                _pooled_row(
                    "subtotal", f"Subtotal ({pct})", g.result, weight, opts, g.name, members
                )
            )
            rows.append(Row("text", _heterogeneity_text(g.result, opts.i2), group=g.name))
            rows.append(Row("text", _test_text(g.result), group=g.name))
            rows += [Row("text", _note(n), group=g.name) for n in getattr(g.result, "notes", ())]
        else:
            rows.append(
                Row(
                    "subtotal",
                    f"Subtotal ({pct})",
                    weight=weight,
                    group=g.name,
                    bold=True,
                    cells={"weight": f"{100 * weight:.1f}%"},
                )
            )
            rows.append(
                Row(
                    "text",
                    f"Not applicable: {g.note}" if g.note else "Not applicable",
                    group=g.name,
                )
            )
        rows.append(Row("blank", ""))
    rows.append(
        _pooled_row("total", f"Total ({pct})", overall, 1.0, opts, None, list(range(overall.k)))
    )
    notes = [_heterogeneity_text(overall, opts.i2), _test_text(overall)]
    if sub is not None:
        notes.append(_subgroup_test_text(sub))
    notes.append(_model_text(overall, opts.i2))
    notes += [_note(n) for n in getattr(overall, "notes", ())]
    # The subgroup analysis's own notes (single-study levels entering the test, ...).
    notes += [_note(n) for n in getattr(sub, "notes", ())]
    return rows, notes


def _prediction_row(overall: Any, opts: _Options) -> Row | None:
    lb, ub = float(getattr(overall, "pi_lb", np.nan)), float(getattr(overall, "pi_ub", np.nan))
    if not (math.isfinite(lb) and math.isfinite(ub)):
        return None
    est, lb, ub = (float(v) for v in opts.transf(np.array([overall.estimate, lb, ub])))
    text = f"[{fmt_num(lb, opts.digits)}, {fmt_num(ub, opts.digits)}]"
    return Row("prediction", "Prediction interval", est, lb, ub, cells={"effect": text})


def _decimals(number: float) -> int:
    for places in (0, 1):
        if abs(number - round(number, places)) < 1e-9 * max(1.0, abs(number)):
            return places
    return 2


def _fmt_column(values: list[Any]) -> list[str]:
    """Numbers with one number of decimals per column (at most 2), text as it is."""
    numbers: list[float | None] = []
    for value in values:
        if value is None or isinstance(value, str):
            numbers.append(None)
            continue
        number = float(value)
        numbers.append(number if math.isfinite(number) else math.nan)
    places = max((_decimals(n) for n in numbers if n is not None and math.isfinite(n)), default=0)
    out = []
    for value, parsed in zip(values, numbers, strict=True):
        if parsed is None:
            out.append("" if value is None else str(value))
        else:
            out.append("" if not math.isfinite(parsed) else f"{parsed:.{places}f}")
    return out


def _per_study(name: str, values: Any, slab: tuple[str, ...]) -> list[str]:
    if isinstance(values, Mapping):
        missing = [s for s in slab if s not in values]
        if missing:
            raise InputError(
                f"{name}: no value for stud{'y' if len(missing) == 1 else 'ies'} "
                f"{', '.join(repr(m) for m in dict.fromkeys(missing))}"
            )
        return _fmt_column([values[s] for s in slab])
    seq = list(values)
    if len(seq) != len(slab):
        raise InputError(
            f"{name}: {len(seq)} values for {len(slab)} studies; give one per "
            "study in the result's order, or a mapping study label -> value"
        )
    return _fmt_column(seq)


_ARMS = {
    "continuous": (
        ("m1i", "Mean", 1),
        ("sd1i", "SD", 1),
        ("n1i", "Total", 1),
        ("m2i", "Mean", 2),
        ("sd2i", "SD", 2),
        ("n2i", "Total", 2),
    ),
    "binary": (("ai", "Events", 1), ("n1i", "Total", 1), ("ci", "Events", 2), ("n2i", "Total", 2)),
    "totals": (("n1i", "Total", 1), ("n2i", "Total", 2)),
}


def _arm_columns(arms: Any, labels: Sequence[str], opts: _Options, slab: tuple[str, ...]) -> None:
    frame = pd.DataFrame(arms).reset_index(drop=True)
    names = set(frame.columns)
    kind = next((k for k, spec in _ARMS.items() if {c for c, _, _ in spec} <= names), None)
    if kind is None:
        raise InputError(
            f"arms: columns {sorted(map(str, names))} do not describe two arms; give m1i, sd1i, "
            "n1i, m2i, sd2i, n2i (means), ai, n1i, ci, n2i (events) or n1i, n2i (totals)"
        )
    if len(labels) != 2:
        raise InputError(f"arm_labels: expected two labels, got {list(labels)!r}")
    for key, header, arm in _ARMS[kind]:
        opts.columns.append(Column(key, header, "right", labels[arm - 1]))
        opts.cells[key] = _per_study(f"arms[{key!r}]", frame[key].tolist(), slab)


def _rob_cells(rob: RobTable, opts: _Options, slab: tuple[str, ...]) -> RobTable:
    if not isinstance(rob, RobTable):
        raise InputError(f"rob: expected a RobTable (see rob_table()), got {type(rob).__name__}")
    matrix = rob.matrix(overall=True)
    missing = [s for s in dict.fromkeys(slab) if s not in matrix.index]
    if missing:
        raise InputError(
            f"rob: no risk-of-bias judgements for {', '.join(map(repr, missing))}; "
            f"the table has {', '.join(map(repr, rob.studies[:8]))}"
        )
    for code in matrix.columns:
        opts.cells[f"rob:{code}"] = [str(matrix.loc[s, code]) for s in slab]
    return rob


def _scale(
    measure: Any, transf: Any, null: float | None, log_scale: bool | None
) -> tuple[Callable[[Any], Any], float, bool]:
    ratio = str(measure).upper() in RATIO_MEASURES
    if transf is None:
        transf = np.exp if ratio else (lambda x: np.asarray(x, dtype=float))
        log_default = ratio
    else:
        log_default = False
    if null is None:
        null = float(np.asarray(transf(np.array([0.0])), dtype=float)[0])
    return transf, float(null), log_default if log_scale is None else bool(log_scale)


def forest_plot(
    result: Any,
    *,
    sort: str | Sequence[str] | None = None,
    group: Sequence[Any] | None = None,
    arms: Any = None,
    arm_labels: Sequence[str] = ("Experimental", "Control"),
    columns: Mapping[str, Any] | None = None,
    rob: RobTable | None = None,
    xlim: tuple[float, float] | None = None,
    transf: Callable[[Any], Any] | None = None,
    null: float | None = None,
    log_scale: bool | None = None,
    favours: tuple[str, str] | None = None,
    effect_label: str | None = None,
    prediction: bool = True,
    i2: str = "q",
    digits: int = 2,
    plot_width: float = 2.6,
    max_label_width: float = 2.6,
    title: str | None = None,
) -> ForestPlot:
    """Forest plot of a meta-analysis or subgroup analysis, RevMan / R meta style.

    Parameters
    ----------
    result : MetaResult or subgroup result
        A result with ``estimate, ci_lb, ci_ub, pi_lb, pi_ub, tau2, qe, ..., yi, vi, slab,
        weights, level`` and ``studies()``; or a subgroup result with ``subgroups``
        (level -> MetaResult, or an object with ``.note`` for a level with one study),
        ``overall``, ``q_between``, ``q_between_df``, ``q_between_pval``, ``prespecified``.
    sort : {"effect", "weight", "se", "label"}, sequence of labels, or None
        Order of studies (within subgroups); prefix ``-`` to reverse. None keeps the
        result's order.
    group : sequence, optional
        Subgroup label of each study (result order); needed only when studies cannot be
        matched to subgroups from the subgroup results themselves.
    arms : DataFrame or mapping, optional
        Per-arm data, one row per study in the result's order, with metafor's names:
        ``m1i, sd1i, n1i, m2i, sd2i, n2i`` (means), ``ai, n1i, ci, n2i`` (events) or
        ``n1i, n2i`` (totals).
    arm_labels : pair of str
        Headers of the two arms.
    columns : mapping, optional
        Extra text columns after the study label: header -> values (one per study, or a
        mapping study label -> value), e.g. a category.
    rob : RobTable, optional
        Risk-of-bias judgements drawn as coloured dots, one column per domain.
    xlim : (float, float), optional
        Axis limits on the drawn scale. Intervals reaching beyond them end in an arrow.
        Default: symmetric around the null and wide enough for every interval.
    transf : callable, optional
        Applied to effects and limits before drawing (default ``numpy.exp`` for ratio
        measures such as OR and RR, which are then drawn on a log axis).
    null : float, optional
        Position of the line of no effect (default ``transf(0)``).
    log_scale : bool, optional
        Logarithmic x axis (default: True for ratio measures).
    favours : (str, str), optional
        Labels under the axis, left and right of the null, e.g.
        ``("Favours control", "Favours peer support")``.
    effect_label : str, optional
        Name of the effect (default from the measure, e.g. "Std. mean difference").
    prediction : bool
        Draw the prediction interval row when the result has one.
    i2 : {"q", "tau2"}
        Which I^2 the heterogeneity text shows: Q-based (RevMan, R meta) or tau^2-based
        (metafor).
    digits : int
        Decimals of effects and limits in the text.
    plot_width : float
        Width of the plot area in inches.
    max_label_width : float
        Study labels wider than this (inches) are wrapped onto more lines.
    title : str, optional
        Heading above the plot.

    Returns
    -------
    ForestPlot
        ``(figure, layout)``; see :class:`ForestPlot` for the layout's columns.

    Notes
    -----
    Squares have areas proportional to the study weights (``result.weights``), as in
    RevMan; study intervals are ``result.studies()``'s ``ci_lb, ci_ub``; diamonds span the
    pooled ``ci_lb`` to ``ci_ub`` with their centre at ``estimate``; the prediction
    interval is ``pi_lb`` to ``pi_ub``. The heterogeneity text follows RevMan 5
    ("Tau² = ...; Chi² = ..., df = ... (P = ...); I² = ...%"). The I² of the test for
    subgroup differences is ``max(0, (Q - df) / Q)`` of the between-subgroup Q (Higgins
    and Thompson 2002, Stat Med 21:1539-58), as RevMan prints it.

    Examples
    --------
    >>> from metasift.stats import meta_analysis
    >>> res = meta_analysis([0.10, 0.35, -0.05], [0.02, 0.04, 0.03],
    ...                     slab=["Ames 2001", "Baker 2005", "Chen 2010"], method="DL")
    >>> fig, layout = forest_plot(res, favours=("Favours control", "Favours treatment"))
    >>> layout[["kind", "label"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['study', 'Ames 2001'], ['study', 'Baker 2005'], ['study', 'Chen 2010'],
     ['total', 'Total (95% CI)'], ['prediction', 'Prediction interval']]
    >>> bool(layout.loc[3, "estimate"] == res.estimate)
    True
    """
    overall, sub = _check_result(result)
    if i2 not in ("q", "tau2"):
        raise InputError(f"i2={i2!r}: use 'q' (from Q) or 'tau2' (from tau^2)")
    tf, null_x, log = _scale(overall.measure, transf, null, log_scale)
    opts = _Options(tf, digits, i2)
    slab = tuple(str(s) for s in overall.slab)
    for header, values in (columns or {}).items():
        opts.columns.append(Column(f"col:{header}", str(header), "left"))
        opts.cells[f"col:{header}"] = _per_study(f"columns[{header!r}]", values, slab)
    if arms is not None:
        _arm_columns(arms, arm_labels, opts, slab)
    rob_table = _rob_cells(rob, opts, slab) if rob is not None else None
    rows, notes = _rows(overall, sub, _groups(overall, sub, group), sort, opts)
    pi_row = _prediction_row(overall, opts) if prediction else None
    if pi_row is not None:
        rows.append(pi_row)
    label = effect_label or MEASURE_LABELS.get(str(overall.measure).upper(), "Effect")
    model = "Fixed" if getattr(overall, "method", "") in ("EE", "FE") else "Random"
    fig, layout = draw_forest(
        rows,
        opts.columns,
        notes,
        rob_table,
        header_label="Study or Subgroup" if sub is not None else "Study",
        effect_header=f"{label}\nIV, {model}, {100 * overall.level:g}% CI",
        xlim=xlim,
        null=null_x,
        log_scale=log,
        favours=favours,
        plot_width=plot_width,
        max_label_width=max_label_width,
        title=title,
    )
    return ForestPlot(fig, layout)
