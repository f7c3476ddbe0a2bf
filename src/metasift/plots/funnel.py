"""Funnel plot: effect sizes against their standard errors, optionally contour-enhanced.

The plot reads a result's ``yi``, ``vi`` and ``estimate``; trim-and-fill and Egger's test
enter as result objects (``filled_yi``/``filled_vi``; ``intercept``/``slope``). Nothing is
re-estimated here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon
from scipy import special

from metasift.errors import InputError
from metasift.plots._common import (
    FONT_SIZE,
    MEASURE_LABELS,
    RATIO_MEASURES,
    fmt_num,
    fmt_p,
    new_figure,
)

__all__ = ["funnel_plot"]

_CONTOURS = ((0.10, "#FFFFFF"), (0.05, "#D9D9D9"), (0.01, "#ADADAD"))
_CONTOUR_OUTSIDE = "#808080"
_BACK, _INSIDE = "#EBEBEB", "#FFFFFF"
_EGGER = "#C0392B"
_ADJUSTED = "#2F5597"


def _z(p_two_sided: float) -> float:
    return float(special.ndtri(1.0 - p_two_sided / 2.0))


def _xlabel(result: Any, xlabel: str | None) -> str:
    if xlabel is not None:
        return xlabel
    measure = str(getattr(result, "measure", None)).upper()
    label = MEASURE_LABELS.get(measure, "Effect size")
    return f"Log {label[0].lower()}{label[1:]}" if measure in RATIO_MEASURES else label


def _filled(trimfill: Any) -> tuple[np.ndarray, np.ndarray]:
    if trimfill is None:
        return np.empty(0), np.empty(0)
    if not (hasattr(trimfill, "filled_yi") and hasattr(trimfill, "filled_vi")):
        raise InputError(
            f"trimfill: expected a trim-and-fill result with filled_yi and filled_vi, "
            f"got {type(trimfill).__name__}"
        )
    yi = np.asarray(trimfill.filled_yi, dtype=float).ravel()
    vi = np.asarray(trimfill.filled_vi, dtype=float).ravel()
    if yi.shape != vi.shape or not (np.all(np.isfinite(yi)) and np.all(vi > 0)):
        raise InputError(
            "trimfill: filled_yi and filled_vi must be finite, of equal length, with filled_vi > 0"
        )
    return yi, np.sqrt(vi)


def _nice_ceiling(value: float) -> float:
    exp = math.floor(math.log10(value))
    for mult in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if mult * 10.0**exp >= value * (1 - 1e-12):
            return mult * 10.0**exp
    return 10.0 ** (exp + 1)


def funnel_plot(
    result: Any,
    *,
    trimfill: Any = None,
    egger: Any = None,
    contour: bool = False,
    pseudo_level: float = 0.95,
    xlabel: str | None = None,
    width: float = 5.0,
    height: float = 4.4,
) -> Figure:
    """Funnel plot with the standard error on an inverted y axis.

    Parameters
    ----------
    result : MetaResult
        Supplies ``yi``, ``vi`` (points), ``estimate`` (vertical line) and ``measure``.
    trimfill : TrimFillResult, optional
        A trim-and-fill result; its ``filled_yi``, ``filled_vi`` are drawn as open circles
        and its ``estimate`` (observed plus filled studies) as a dotted vertical line,
        labelled with the estimate and ``k0``.
    egger : EggerResult, optional
        Egger's regression test with ``intercept`` and ``slope`` of the model
        ``yi = intercept + slope * sei`` (or ``* vi`` when its ``predictor`` is "vi");
        drawn across the funnel, its legend entry giving ``statistic``, ``df`` and ``pval``
        when the object has them.
    contour : bool
        Shade the regions where a study's two-sided p-value (for effect = 0) is
        above 0.10, between 0.05 and 0.10, between 0.01 and 0.05, and below 0.01.
    pseudo_level : float
        Level of the pseudo confidence limits around the estimate (dashed lines).
    xlabel : str, optional
        Axis label (default from the measure; "Log odds ratio" etc. for ratio measures).
    width, height : float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Studies are a Line2D with gid ``funnel-studies`` (filled studies: ``funnel-filled``),
        the pseudo limits ``funnel-pseudo-lb``/``-ub``, the estimate ``funnel-estimate``,
        the trim-and-fill estimate ``funnel-adjusted``, Egger's line ``funnel-egger``. The
        legend below the plot reads row by row.

    Notes
    -----
    Pseudo limits are ``estimate ± z * se`` with ``z`` the ``(1 + pseudo_level) / 2``
    normal quantile (Sterne and Egger 2001, J Clin Epidemiol 54:1046-55). Contours are
    ``0 ± z_p * se`` for p = 0.10, 0.05, 0.01 (Peters et al. 2008, J Clin Epidemiol
    61:991-6). Egger's line is ``x = intercept + slope * se`` (Egger et al. 1997, BMJ
    315:629-34, in the standard-error-predictor form of metafor's ``regtest``).

    Examples
    --------
    >>> from metasift.stats import meta_analysis
    >>> res = meta_analysis([0.10, 0.35, -0.05, 0.4], [0.02, 0.04, 0.03, 0.09])
    >>> fig = funnel_plot(res, contour=True)
    >>> ax = fig.axes[0]
    >>> bool(ax.yaxis_inverted()), ax.get_ylabel()
    (True, 'Standard error')

    With trim and fill and Egger's test (results of :mod:`metasift.stats`):

    >>> from metasift.stats import egger_test, trim_and_fill
    >>> yi = [0.32, 0.51, 0.12, 0.74, 0.45, 0.90, 0.28, 0.62, 0.05, 0.81, 0.40]
    >>> vi = [0.010, 0.040, 0.012, 0.090, 0.030, 0.160, 0.020, 0.070, 0.008, 0.120, 0.025]
    >>> filled = trim_and_fill(yi, vi)
    >>> fig = funnel_plot(meta_analysis(yi, vi), trimfill=filled, egger=egger_test(yi, vi))
    >>> lines = {line.get_gid(): line for line in fig.axes[0].lines}
    >>> bool(lines["funnel-adjusted"].get_xdata()[0] == filled.estimate)
    True
    >>> len(lines["funnel-filled"].get_xdata()) == filled.k0
    True
    """
    for name in ("yi", "vi", "estimate"):
        if not hasattr(result, name):
            raise InputError(
                f"result: expected a MetaResult with {name}, got {type(result).__name__}"
            )
    if not 0 < pseudo_level < 1:
        raise InputError(f"pseudo_level={pseudo_level!r}: must be between 0 and 1")
    yi = np.asarray(result.yi, dtype=float)
    sei = np.sqrt(np.asarray(result.vi, dtype=float))
    fyi, fsei = _filled(trimfill)
    est = float(result.estimate)
    z = _z(1.0 - pseudo_level)
    ymax = _nice_ceiling(max(float(np.max(np.concatenate([sei, fsei]))) * 1.05, 1e-6))
    centre = 0.0 if contour else est
    reach = max(z, _z(0.01)) if contour else z
    xs = np.concatenate(
        [yi, fyi, [est - z * ymax, est + z * ymax, centre - reach * ymax, centre + reach * ymax]]
    )
    pad = 0.04 * (xs.max() - xs.min())
    fig = new_figure(width, height)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(xs.min() - pad, xs.max() + pad)
    ax.set_ylim(ymax, 0.0)
    regions, (pseudo, centre) = _background(ax, contour, est, z, ymax)
    marks = _marks(ax, yi, sei, fyi, fsei)
    adjusted = _adjusted(ax, trimfill, fyi.size, ymax) if trimfill is not None else []
    # Legend read row by row: regions, the points, the estimates, then the reference lines.
    handles = [*regions, *marks, centre, *adjusted, pseudo, *_egger_line(ax, egger, ymax)]
    ax.set_xlabel(_xlabel(result, xlabel), fontsize=FONT_SIZE + 1)
    ax.set_ylabel("Standard error", fontsize=FONT_SIZE + 1)
    ax.tick_params(labelsize=FONT_SIZE)
    legend_h = _legend(fig, handles)
    bottom = legend_h + 0.5
    ax.set_position(
        (0.7 / width, bottom / height, (width - 0.9) / width, (height - 0.2 - bottom) / height)
    )
    return fig


def _triangle(centre: float, z: float, ymax: float) -> np.ndarray:
    return np.array([[centre, 0.0], [centre - z * ymax, ymax], [centre + z * ymax, ymax]])


def _background(
    ax: Axes, contour: bool, est: float, z: float, ymax: float
) -> tuple[list[Any], tuple[Any, Any]]:
    """Shaded regions, pseudo limits and the estimate; their legend handles."""
    handles: list[Any] = []
    if contour:
        ax.set_facecolor(_CONTOUR_OUTSIDE)
        for p, colour in reversed(_CONTOURS):
            ax.add_patch(
                Polygon(
                    _triangle(0.0, _z(p), ymax),
                    closed=True,
                    facecolor=colour,
                    edgecolor="none",
                    gid=f"funnel-contour-{p:.2f}",
                )
            )
        labels = ("p > 0.10", "0.05 < p \u2264 0.10", "0.01 < p \u2264 0.05", "p \u2264 0.01")
        colours = [c for _, c in _CONTOURS] + [_CONTOUR_OUTSIDE]
        handles += [
            Patch(facecolor=c, edgecolor="black", lw=0.5, label=lab)
            for c, lab in zip(colours, labels, strict=True)
        ]
    else:
        ax.set_facecolor(_BACK)
        ax.add_patch(
            Polygon(
                _triangle(est, z, ymax),
                closed=True,
                facecolor=_INSIDE,
                edgecolor="none",
                gid="funnel-inside",
            )
        )
    for sign, side in ((-1.0, "lb"), (1.0, "ub")):
        ax.plot(
            [est, est + sign * z * ymax],
            [0.0, ymax],
            color="black",
            lw=0.7,
            ls="--",
            gid=f"funnel-pseudo-{side}",
        )
    pseudo = Line2D(
        [],
        [],
        color="black",
        lw=0.7,
        ls="--",
        label="Pseudo 95% limits" if abs(z - _z(0.05)) < 1e-12 else "Pseudo limits",
    )
    (centre,) = ax.plot(
        [est, est],
        [0.0, ymax],
        color="black",
        lw=0.8,
        gid="funnel-estimate",
        label=f"Pooled estimate ({fmt_num(est)})",
    )
    return handles, (pseudo, centre)


def _marks(
    ax: Axes,
    yi: np.ndarray,
    sei: np.ndarray,
    fyi: np.ndarray,
    fsei: np.ndarray,
) -> list[Any]:
    handles: list[Any] = []
    (studies,) = ax.plot(
        yi,
        sei,
        "o",
        color="black",
        markersize=4.5,
        gid="funnel-studies",
        label="Studies",
        clip_on=False,
    )
    handles.append(studies)
    if fyi.size:
        (filled,) = ax.plot(
            fyi,
            fsei,
            "o",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=4.5,
            markeredgewidth=0.8,
            linestyle="none",
            gid="funnel-filled",
            label="Filled studies (trim and fill)",
            clip_on=False,
        )
        handles.append(filled)
    return handles


def _adjusted(ax: Axes, trimfill: Any, n_filled: int, ymax: float) -> list[Any]:
    """The pooled estimate of the observed plus filled studies, as a vertical line."""
    adjusted = float(getattr(trimfill, "estimate", math.nan))
    if not math.isfinite(adjusted):
        return []
    k0 = int(getattr(trimfill, "k0", n_filled))
    filled = f"{k0} stud{'y' if k0 == 1 else 'ies'} filled"
    (line,) = ax.plot(
        [adjusted, adjusted],
        [0.0, ymax],
        color=_ADJUSTED,
        lw=1.0,
        ls=":",
        gid="funnel-adjusted",
        label=f"Trim-and-fill estimate ({fmt_num(adjusted)}; {filled})",
    )
    return [line]


def _egger_label(egger: Any) -> str:
    stat, pval = getattr(egger, "statistic", None), getattr(egger, "pval", None)
    if stat is None or pval is None:
        return "Egger's regression line"
    df = float(getattr(egger, "df", math.nan))
    test = f"t = {fmt_num(float(stat))}, df = {df:g}" if math.isfinite(df) else "z = "
    if not math.isfinite(df):
        test += fmt_num(float(stat))
    return f"Egger's regression line ({test}, {fmt_p(float(pval))})"


def _egger_line(ax: Axes, egger: Any, ymax: float) -> list[Any]:
    if egger is None:
        return []
    if not (hasattr(egger, "intercept") and hasattr(egger, "slope")):
        raise InputError(
            f"egger: expected a result with intercept and slope, got {type(egger).__name__}"
        )
    b0, b1 = float(egger.intercept), float(egger.slope)
    predictor = str(getattr(egger, "predictor", "sei"))
    if predictor not in ("sei", "vi"):
        raise InputError(
            f"egger: predictor {predictor!r} cannot be drawn against the standard error; "
            "use an Egger test with predictor 'sei' (or 'vi')"
        )
    se = np.linspace(0.0, ymax, 2 if predictor == "sei" else 101)
    # predictor "sei": yi = b0 + b1 * se, a line; "vi": yi = b0 + b1 * se^2 (PEESE).
    x = b0 + b1 * (se if predictor == "sei" else se**2)
    (line,) = ax.plot(
        x, se, color=_EGGER, lw=1.0, ls="-.", gid="funnel-egger", label=_egger_label(egger)
    )
    return [line]


def _row_major(handles: list[Any], ncol: int) -> list[Any]:
    """Reorder so that matplotlib's column-by-column filling reads row by row.

    matplotlib splits the handles into ``ncol`` columns with ``numpy.array_split`` (the
    first ``n % ncol`` columns one longer), the same shape as filling rows of ``ncol``.
    """
    rows = -(-len(handles) // ncol)
    return [
        handles[row * ncol + col]
        for col in range(ncol)
        for row in range(rows)
        if row * ncol + col < len(handles)
    ]


def _legend(fig: Figure, handles: list[Any]) -> float:
    """Add the legend below the plot in as few rows as fit the width; return its height."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    limit = fig.bbox.width - 0.2 * fig.dpi
    for ncol in range(len(handles), 0, -1):
        legend = fig.legend(
            handles=_row_major(handles, ncol),
            loc="lower center",
            ncol=ncol,
            fontsize=FONT_SIZE,
            frameon=False,
            bbox_to_anchor=(0.5, 0.0),
            handlelength=1.6,
            columnspacing=1.0,
            borderaxespad=0.3,
        )
        box = legend.get_window_extent(renderer)
        if box.width <= limit or ncol == 1:
            return float(box.height / fig.dpi)
        legend.remove()
    return 0.0
