"""Per-family checks and kernel calls behind :func:`metasift.stats.effects.effect_sizes`.

A family is a group of measures with the same inputs: two groups' means (SMD, MD, ROM), 2x2
tables (OR, RR, RD), one proportion (PR, PLO, PFT), correlations (ZCOR, COR) and given
effect sizes (GEN). Each family checks its columns, calls its kernel and returns
``(yi, vi, complete, adjusted)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from metasift.errors import InputError
from metasift.stats import _effects_counts as counts
from metasift.stats import _effects_input as inp
from metasift.stats import _effects_means as means

FloatArray = inp.FloatArray
BoolArray = inp.BoolArray

_MEANS: Final = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
_TABLE: Final = ("ai", "bi", "ci", "di", "n1i", "n2i")


@dataclass(frozen=True)
class Spec:
    """What a measure takes: its family, its argument names, vtypes and continuity correction."""

    family: str
    columns: tuple[str, ...]
    vtypes: tuple[str, ...] = ("LS",)
    continuity: bool = False
    undefined_hint: str = ""


_ZERO_HINT = "a zero count with no continuity correction (to='none' or add=0)"
MEASURES: Final = {
    "SMD": Spec(
        "means", _MEANS, means.SMD_VTYPES, False, "the SMD needs n1i + n2i >= 4 and a pooled SD > 0"
    ),
    "MD": Spec("means", _MEANS, ("LS", "HO")),
    "ROM": Spec("means", _MEANS),
    "OR": Spec("table", _TABLE, continuity=True, undefined_hint=_ZERO_HINT),
    "RR": Spec("table", _TABLE, continuity=True, undefined_hint=_ZERO_HINT),
    "RD": Spec("table", _TABLE, continuity=True, undefined_hint=_ZERO_HINT),
    "PR": Spec("prop", ("xi", "ni"), continuity=True, undefined_hint=_ZERO_HINT),
    "PLO": Spec("prop", ("xi", "ni"), continuity=True, undefined_hint=_ZERO_HINT),
    "PFT": Spec("prop", ("xi", "ni"), continuity=True, undefined_hint=_ZERO_HINT),
    "ZCOR": Spec("corr", ("ri", "ni"), undefined_hint="needs ni > 3 and |ri| < 1"),
    "COR": Spec("corr", ("ri", "ni"), undefined_hint="the variance needs ni > 3"),
    "GEN": Spec("gen", ("yi", "vi", "sei")),
}


@dataclass(frozen=True)
class Settings:
    """The options in force for one call, after defaults and conventions are applied."""

    vtype: str
    correction: str | None
    convention: str | None
    add: float | None
    to: str | None
    drop00: bool


def _require(measure: str, name: str, cols: dict[str, FloatArray]) -> FloatArray:
    if name not in cols:
        raise InputError(f"measure {measure!r} needs {name}; it was not given")
    return cols[name]


def _check_group_size(name: str, arr: FloatArray, slab: tuple[str, ...], strict: bool) -> None:
    bad = arr <= 0 if strict else arr < 0
    inp.fail_where(name, arr, bad, slab, f"sizes must be {'>' if strict else '>='} 0")


def _means_family(
    measure: str, cols: dict[str, FloatArray], slab: tuple[str, ...], s: Settings
) -> tuple[FloatArray, FloatArray, BoolArray]:
    m1, sd1, n1, m2, sd2, n2 = (_require(measure, name, cols) for name in _MEANS)
    for name, arr in (("n1i", n1), ("n2i", n2)):
        _check_group_size(name, arr, slab, strict=True)
    for name, arr in (("sd1i", sd1), ("sd2i", sd2)):
        inp.fail_where(name, arr, arr < 0, slab, "standard deviations must be >= 0")
    if measure == "ROM":
        for name, arr in (("m1i", m1), ("m2i", m2)):
            inp.fail_where(
                name,
                arr,
                arr <= 0,
                slab,
                "ROM (log ratio of means) needs means > 0; use MD or "
                "SMD for outcomes that can be zero or negative",
            )
        yi, vi = means.rom(m1, sd1, n1, m2, sd2, n2)
    elif measure == "MD":
        yi, vi = means.md(m1, sd1, n1, m2, sd2, n2, s.vtype)
    else:
        yi, vi = means.smd(m1, sd1, n1, m2, sd2, n2, s.correction, s.vtype)
    return yi, vi, inp.present(m1, sd1, n1, m2, sd2, n2)


def _other_cell(
    events: str, other: str, size: str, cols: dict[str, FloatArray], slab: tuple[str, ...]
) -> FloatArray:
    """Non-events of one group, from ``bi``/``di`` or from the group size minus the events."""
    ev = cols[events]
    inp.fail_where(events, ev, ev < 0, slab, "counts must be >= 0")
    if other not in cols and size not in cols:
        raise InputError(f"give {other} (non-events) or {size} (group size) with {events}")
    non = cols.get(other, np.full_like(ev, np.nan))
    if size in cols:
        n = cols[size]
        _check_group_size(size, n, slab, strict=False)
        inp.fail_where(events, ev, ev > n, slab, f"events cannot exceed the group size {size}")
        from_size = n - ev
        if other in cols:
            clash = inp.present(non, from_size) & (non != from_size)
            inp.fail_where(size, n, clash, slab, f"{size} must equal {events} + {other}")
        non = np.where(np.isnan(non), from_size, non)
    inp.fail_where(other, non, non < 0, slab, "counts must be >= 0")
    return non


def _table_family(
    measure: str, cols: dict[str, FloatArray], slab: tuple[str, ...], s: Settings
) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray]:
    ai, ci = _require(measure, "ai", cols), _require(measure, "ci", cols)
    bi = _other_cell("ai", "bi", "n1i", cols, slab)
    di = _other_cell("ci", "di", "n2i", cols, slab)
    assert s.add is not None and s.to is not None  # set for every table measure
    yi, vi, adjusted = counts.two_by_two(ai, bi, ci, di, measure, s.add, s.to, s.drop00)
    ok = inp.present(ai, bi, ci, di)
    if s.drop00:
        ok &= ~(((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0)))
    return yi, vi, ok, adjusted


def _prop_family(
    measure: str, cols: dict[str, FloatArray], slab: tuple[str, ...], s: Settings
) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray]:
    xi, ni = _require(measure, "xi", cols), _require(measure, "ni", cols)
    _check_group_size("ni", ni, slab, strict=True)
    inp.fail_where("xi", xi, (xi < 0) | (xi > ni), slab, "events must be between 0 and ni")
    assert s.add is not None and s.to is not None  # set for every proportion measure
    yi, vi, adjusted = counts.proportion(xi, ni, measure, s.add, s.to)
    return yi, vi, inp.present(xi, ni), adjusted


def _corr_family(
    measure: str, cols: dict[str, FloatArray], slab: tuple[str, ...]
) -> tuple[FloatArray, FloatArray, BoolArray]:
    ri, ni = _require(measure, "ri", cols), _require(measure, "ni", cols)
    inp.fail_where("ri", ri, np.abs(ri) > 1, slab, "correlations must be between -1 and 1")
    _check_group_size("ni", ni, slab, strict=True)
    yi, vi = counts.correlation(ri, ni, measure)
    return yi, vi, inp.present(ri, ni)


def _gen_family(
    cols: dict[str, FloatArray], slab: tuple[str, ...]
) -> tuple[FloatArray, FloatArray, BoolArray]:
    yi = _require("GEN", "yi", cols)
    if ("vi" in cols) == ("sei" in cols):
        raise InputError("measure 'GEN' needs exactly one of vi (variances) or sei (std. errors)")
    name = "vi" if "vi" in cols else "sei"
    given = cols[name]
    inp.fail_where(name, given, given < 0, slab, "variances and standard errors must be >= 0")
    vi = given if name == "vi" else given**2
    return yi.copy(), vi.copy(), inp.present(yi, given)


def compute(
    measure: str, cols: dict[str, FloatArray], slab: tuple[str, ...], s: Settings
) -> tuple[FloatArray, FloatArray, BoolArray, BoolArray]:
    """(yi, vi, inputs complete, continuity-corrected) for the measure's family."""
    family = MEASURES[measure].family
    no_add = np.zeros(len(slab), dtype=bool)
    if family == "means":
        return (*_means_family(measure, cols, slab, s), no_add)
    if family == "table":
        return _table_family(measure, cols, slab, s)
    if family == "prop":
        return _prop_family(measure, cols, slab, s)
    if family == "corr":
        return (*_corr_family(measure, cols, slab), no_add)
    return (*_gen_family(cols, slab), no_add)
