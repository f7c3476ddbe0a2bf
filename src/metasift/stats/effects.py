"""Study-level effect sizes with metafor's ``escalc`` semantics: :func:`effect_sizes`.

The kernels live in :mod:`._effects_means` (SMD, MD, ROM) and :mod:`._effects_counts`
(2x2 tables, proportions, correlations); this module checks the input once, picks the
settings and returns an :class:`EffectSizes` result.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np

from metasift.errors import DataWarning, InputError
from metasift.stats import _effects_counts as counts
from metasift.stats import _effects_families as fam
from metasift.stats import _effects_input as inp
from metasift.stats import _effects_means as means

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

FloatArray = inp.FloatArray
BoolArray = inp.BoolArray

__all__ = ["EffectSizes", "effect_sizes"]


class _Default(str):
    """A default string argument that can be told apart from the same value given by a caller."""

    __slots__ = ()


class _DefaultFloat(float):
    """A default number argument that can be told apart from the same value given by a caller."""

    __slots__ = ()


_VTYPE_DEFAULT: Final = _Default("LS")
_CORRECTION_DEFAULT: Final = _Default("exact")
_ADD_DEFAULT: Final = _DefaultFloat(0.5)

#: convention -> (correction, vtype) of the standardized mean difference.
CONVENTIONS: Final = {
    "metafor": ("exact", "LS"),
    "revman5": ("approx", "RM5"),
    "cma": ("approx", "LS2"),
}


@dataclass(frozen=True, eq=False)
class EffectSizes:
    """Effect sizes and sampling variances of ``k`` studies, with the settings that made them.

    Attributes
    ----------
    yi, vi : ndarray of float64, shape (k,)
        Effect sizes and sampling variances; NaN for a study whose inputs are missing or
        whose effect size is undefined (a :class:`~metasift.errors.DataWarning` says which).
    measure : str
        Measure code, e.g. ``"SMD"``, ``"OR"``.
    slab : tuple of str
        Study labels.
    vtype : str
        Variance type used ("LS" unless another was asked for).
    correction : {"exact", "approx", None}
        SMD only: Hedges' exact or approximate correction, or None for Cohen's d. None for
        every other measure.
    convention : str or None
        The SMD convention asked for ("metafor", "revman5", "cma"), or None.
    add, to : float and str, or None
        Continuity correction of 2x2 tables and proportions; None for other measures.
    drop00 : bool
        Whether 2x2 tables with no events or only events in both groups were set to NaN.
    adjusted : ndarray of bool, shape (k,)
        Studies whose counts received ``add``.
    """

    yi: FloatArray
    vi: FloatArray
    measure: str
    slab: tuple[str, ...]
    vtype: str = "LS"
    correction: str | None = None
    convention: str | None = None
    add: float | None = None
    to: str | None = None
    drop00: bool = False
    adjusted: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        for name in ("yi", "vi", "adjusted"):
            arr = np.array(getattr(self, name), dtype=bool if name == "adjusted" else np.float64)
            if name == "adjusted" and arr.size == 0:
                arr = np.zeros(len(self.slab), dtype=bool)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if not (self.yi.shape == self.vi.shape == self.adjusted.shape == (len(self.slab),)):
            raise InputError(
                f"yi, vi and adjusted need one value per study label ({len(self.slab)}); got "
                f"shapes {self.yi.shape}, {self.vi.shape}, {self.adjusted.shape}"
            )

    @property
    def sei(self) -> FloatArray:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)

    def __len__(self) -> int:
        return len(self.slab)

    def to_frame(self) -> pd.DataFrame:
        """One row per study with columns ``slab, yi, vi, sei``."""
        import pandas as pd

        return pd.DataFrame(
            {"slab": list(self.slab), "yi": self.yi, "vi": self.vi, "sei": self.sei}
        )

    def _title(self) -> str:
        name = self.measure
        if self.measure == "SMD":
            kind = "Cohen's d" if self.correction is None else f"Hedges' g, {self.correction} J"
            name = f"SMD ({kind})"
        return f"{name}, k = {len(self)}"

    def _settings_text(self) -> str:
        parts = [f"vtype={self.vtype!r}"]
        if self.measure == "SMD":
            parts += [f"correction={self.correction!r}", f"convention={self.convention!r}"]
        if self.add is not None:
            parts += [f"add={self.add!r}", f"to={self.to!r}", f"drop00={self.drop00!r}"]
        return ", ".join(parts)

    def summary(self) -> str:
        """A plain-text table of the studies (values rounded to 4 decimals for display)."""
        width = min(max([len(s) for s in self.slab] + [5]), 40)
        lines = [f"Effect sizes: {self._title()}", self._settings_text(), ""]
        lines.append(f"{'study':<{width}}  {'yi':>10}  {'vi':>10}  {'sei':>10}")
        for label, y, v, s in zip(self.slab, self.yi, self.vi, self.sei, strict=True):
            lines.append(f"{label[:width]:<{width}}  {y:>10.4f}  {v:>10.4f}  {s:>10.4f}")
        if self.adjusted.any():
            names = ", ".join(s for s, a in zip(self.slab, self.adjusted, strict=True) if a)
            lines.append(f"\nadd = {self.add} added to the counts of: {names}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(label)}</td><td>{y:.4f}</td><td>{v:.4f}</td>"
            f"<td>{s:.4f}</td></tr>"
            for label, y, v, s in zip(self.slab, self.yi, self.vi, self.sei, strict=True)
        )
        return (
            f"<table><caption>{html.escape(self._title())}<br>"
            f"<small>{html.escape(self._settings_text())}</small></caption>"
            "<thead><tr><th>study</th><th>yi</th><th>vi</th><th>sei</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


def _smd_settings(
    vtype: str, correction: str | None, convention: str | None
) -> tuple[str, str | None]:
    """(vtype, correction) of the SMD, from the arguments and the convention."""
    if convention is None:
        inp.check_choice("vtype", vtype, means.SMD_VTYPES, " for measure 'SMD'")
        inp.check_choice("correction", correction, means.SMD_CORRECTIONS)
        return str(vtype), None if correction is None else str(correction)
    inp.check_choice("convention", convention, tuple(CONVENTIONS))
    conv_correction, conv_vtype = CONVENTIONS[convention]
    if vtype is not _VTYPE_DEFAULT and vtype != conv_vtype:
        raise InputError(
            f"vtype={vtype!r} conflicts with convention={convention!r}, which uses "
            f"vtype={conv_vtype!r}; give one or the other"
        )
    if correction is not _CORRECTION_DEFAULT and correction != conv_correction:
        raise InputError(
            f"correction={correction!r} conflicts with convention={convention!r}, which uses "
            f"correction={conv_correction!r}; give one or the other"
        )
    return conv_vtype, conv_correction


def _settings(
    measure: str,
    vtype: str,
    correction: str | None,
    convention: str | None,
    add: float,
    to: str,
    drop00: bool,
) -> fam.Settings:
    """Check the options against the measure and fill in the defaults."""
    spec = fam.MEASURES[measure]
    if measure == "SMD":
        vt, corr = _smd_settings(vtype, correction, convention)
    else:
        if convention not in (None, "metafor"):
            raise InputError(f"convention={convention!r} applies to measure 'SMD' only")
        inp.check_choice("vtype", vtype, spec.vtypes, f" for measure {measure!r}")
        if correction is not _CORRECTION_DEFAULT and correction != "exact":
            raise InputError(f"correction={correction!r} applies to measure 'SMD' only")
        vt, corr = str(vtype), None
    if not isinstance(drop00, bool | np.bool_):
        raise InputError(f"drop00 must be True or False, not {drop00!r}")
    if not spec.continuity:
        if add is not _ADD_DEFAULT or to != "only0" or drop00:
            raise InputError(
                f"add and to apply to 2x2 tables and proportions and drop00 to 2x2 tables, "
                f"not to {measure!r}"
            )
        return fam.Settings(vt, corr, convention, None, None, False)
    inp.check_choice("to", to, counts.TO_OPTIONS)
    try:
        add_value = float(add)
    except (TypeError, ValueError):
        raise InputError(f"add must be a number >= 0, not {add!r}") from None
    if not (np.isfinite(add_value) and add_value >= 0):
        raise InputError(f"add = {add!r} is not allowed: the continuity correction must be >= 0")
    if measure == "PFT" and add is _ADD_DEFAULT:
        add_value = 0.0  # metafor's escalc adds nothing for PFT unless add is given
    if drop00 and spec.family != "table":
        raise InputError("drop00 applies to 2x2 tables (OR, RR, RD) only")
    return fam.Settings(vt, corr, convention, add_value, str(to), bool(drop00))


def _names(slab: tuple[str, ...], mask: BoolArray, limit: int = 10) -> str:
    shown = [repr(slab[i]) for i in np.flatnonzero(mask)[:limit]]
    extra = int(mask.sum()) - len(shown)
    return ", ".join(shown) + (f" and {extra} more" if extra > 0 else "")


def _undefined_to_nan(
    measure: str, yi: FloatArray, vi: FloatArray, ok: BoolArray, slab: tuple[str, ...]
) -> tuple[FloatArray, FloatArray]:
    """metafor's clean-up of the results, with a DataWarning for complete input.

    A study with missing input gets NaN for both ``yi`` and ``vi``. An infinite ``yi`` or
    ``vi`` makes both NaN (metafor recodes both to NA); a NaN in one of them (e.g. the
    variance of a correlation with ``ni <= 3``) leaves the other as it is, as in metafor.
    """
    infinite = np.isinf(yi) | np.isinf(vi)
    y = np.where(infinite | ~ok, np.nan, yi)
    v = np.where(infinite | ~ok, np.nan, vi)
    bad = ok & (np.isnan(y) | np.isnan(v))
    if bad.any():
        hint = fam.MEASURES[measure].undefined_hint
        warnings.warn(
            f"{measure} could not be computed for {int(bad.sum())} studies ({_names(slab, bad)}); "
            "yi or vi is NaN there" + (f": {hint}" if hint else ""),
            DataWarning,
            stacklevel=3,
        )
    return y, v


def _warn_large_smd(yi: FloatArray, slab: tuple[str, ...]) -> None:
    big = np.abs(np.nan_to_num(yi)) > 2
    if big.any():
        detail = ", ".join(f"{slab[i]!r} ({yi[i]:.2f})" for i in np.flatnonzero(big)[:10])
        warnings.warn(
            f"|SMD| > 2 for {int(big.sum())} studies: {detail}. Such large values are rare; "
            "check whether standard errors were entered as standard deviations (SE entered "
            "as SD?)",
            DataWarning,
            stacklevel=3,
        )


def effect_sizes(
    measure: str,
    *,
    m1i: ArrayLike | str | None = None,
    sd1i: ArrayLike | str | None = None,
    n1i: ArrayLike | str | None = None,
    m2i: ArrayLike | str | None = None,
    sd2i: ArrayLike | str | None = None,
    n2i: ArrayLike | str | None = None,
    ai: ArrayLike | str | None = None,
    bi: ArrayLike | str | None = None,
    ci: ArrayLike | str | None = None,
    di: ArrayLike | str | None = None,
    xi: ArrayLike | str | None = None,
    ni: ArrayLike | str | None = None,
    ri: ArrayLike | str | None = None,
    yi: ArrayLike | str | None = None,
    vi: ArrayLike | str | None = None,
    sei: ArrayLike | str | None = None,
    data: pd.DataFrame | None = None,
    slab: ArrayLike | str | None = None,
    vtype: str = _VTYPE_DEFAULT,
    correction: str | None = _CORRECTION_DEFAULT,
    convention: str | None = None,
    add: float = _ADD_DEFAULT,
    to: str = "only0",
    drop00: bool = False,
) -> EffectSizes:
    """Effect sizes and sampling variances of each study, as metafor 3.8-1's ``escalc``.

    Parameters
    ----------
    measure : {"SMD", "MD", "ROM", "OR", "RR", "RD", "ZCOR", "COR", "PLO", "PR", "PFT", "GEN"}
        The effect size. Group 1 is compared with group 2 (``m1i - m2i``, ``ai/n1i`` vs
        ``ci/n2i``).
    m1i, sd1i, n1i, m2i, sd2i, n2i : array-like or str, shape (k,)
        Means, standard deviations and sizes of the two groups (SMD, MD, ROM). For 2x2
        tables, ``n1i``/``n2i`` may replace ``bi``/``di``.
    ai, bi, ci, di : array-like or str
        2x2 tables: events and non-events of group 1 (``ai``, ``bi``) and group 2 (``ci``,
        ``di``) (OR, RR, RD).
    xi, ni : array-like or str
        Events and sample size of one group (PR, PLO, PFT); ``ni`` is also the sample size of
        a correlation.
    ri : array-like or str
        Correlation coefficients (COR, ZCOR).
    yi, vi, sei : array-like or str
        Effect sizes already computed, with variances or standard errors (GEN).
    data : pandas.DataFrame, optional
        When given, a string argument names a column of ``data``.
    slab : array-like or str, optional
        Study labels (values or a column name); default "Study 1", "Study 2", ...
    vtype : str, default "LS"
        Sampling variance: for SMD "LS", "LS2", "UB", "AV" or "RM5"; for MD "LS" or "HO";
        "LS" for every other measure.
    correction : {"exact", "approx", None}, default "exact"
        SMD only: Hedges' exact small-sample correction, its approximation, or None for
        Cohen's d.
    convention : {"metafor", "revman5", "cma"}, optional
        SMD shortcut for (correction, vtype): "metafor" = ("exact", "LS"), "revman5" =
        ("approx", "RM5"), "cma" = ("approx", "LS2"). Giving a different vtype or correction
        as well is an error.
    add : float, default 0.5
        Continuity correction for counts (0 for PFT unless given, as in metafor).
    to : {"only0", "all", "if0all", "none"}, default "only0"
        Which studies receive ``add``: those with a zero count (in a 2x2 table: all four cells
        of a table with a zero cell; for a proportion: ``xi = 0`` or ``xi = ni``), every study,
        every study if any has a zero, or none.
    drop00 : bool, default False
        2x2 tables: NaN for studies with no events, or only events, in both groups.

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` (shape ``(k,)``), labels and the settings used.

    Raises
    ------
    InputError
        Unknown measure, vtype, correction, convention or ``to``; a required argument
        missing or one the measure does not use; a column name not in ``data``; lengths that
        differ; a value that cannot be (``n <= 0``, ``sd < 0``, counts ``< 0`` or above the
        group size, ``|ri| > 1``, ROM means ``<= 0``, ``vi < 0``). The message names the
        argument, the study, the value and what is allowed.

    Warns
    -----
    DataWarning
        When an effect size is undefined for complete input (e.g. SMD with a pooled SD of 0,
        a zero cell with ``to="none"``, ZCOR with ``ni <= 3``): those studies get NaN. When any
        ``|SMD| > 2``: a standard error entered as a standard deviation is the usual cause.

    Notes
    -----
    Missing inputs (NaN) give NaN ``yi`` and ``vi`` for that study and no warning. (metafor
    keeps a variance that does not need the missing value, e.g. the AV variance or
    ``1/(ni - 3)`` of a study whose ``ri`` is missing; a study without an effect size has
    nothing to weight, so metasift gives NaN for both.) Otherwise the results follow
    metafor: an infinite ``yi`` or ``vi`` makes both NaN, and an undefined variance (ZCOR
    and COR with ``ni <= 3``) leaves ``yi`` as it is.

    SMD: ``d = (m1i - m2i)/s_p`` with ``s_p² = ((n1-1)sd1² + (n2-1)sd2²)/m``, ``m = n1+n2-2``;
    ``yi = J d`` with ``J = Γ(m/2)/(sqrt(m/2) Γ((m-1)/2))`` (exact, Hedges 1981),
    ``J = 1 - 3/(4m - 1)`` (approx) or ``J = 1`` (Cohen's d). With ``a = 1/n1 + 1/n2``,
    ``N = n1 + n2`` and ``J_e`` the exact factor:

    - LS: ``a + yi²/(2N)`` (metafor's default);
    - LS2: ``J² (a + d²/(2N))`` (Borenstein et al. 2009, eq. 4.20 and 4.24; CMA);
    - UB: ``J² (a/J_e² + (1 - (m-2)/(m J_e²)) d²)``, the unbiased estimate of the variance of
      ``J d`` (Hedges 1983); for the exact J it is metafor's ``a + (1 - (m-2)/(m J²)) yi²``;
    - AV: ``a + ȳ²/(2N)`` with ``ȳ`` the mean of ``yi`` weighted by ``N`` (Hedges 1982);
    - RM5: ``N/(n1 n2) + yi²/(2(N - 3.94))`` (RevMan 5; Deeks & Higgins 2010, "Statistical
      algorithms in Review Manager 5"). RevMan's ``g = d (1 - 3/(4N - 9))`` is the
      approximate J, since ``4N - 9 = 4m - 1``.

    MD: ``yi = m1i - m2i``, ``vi = sd1²/n1 + sd2²/n2`` (HO: ``s_p² a``). ROM:
    ``yi = log(m1i/m2i)``, ``vi = sd1²/(n1 m1²) + sd2²/(n2 m2²)`` with no bias correction
    (as metafor 3.8-1; metafor 5 corrects by default).

    OR: ``log(a d/(b c))``, ``vi = 1/a + 1/b + 1/c + 1/d``; RR: ``log((a/n1)/(c/n2))``,
    ``vi = 1/a - 1/n1 + 1/c - 1/n2``; RD: ``a/n1 - c/n2``,
    ``vi = p1(1-p1)/n1 + p2(1-p2)/n2``, after adding ``add`` to all four cells of the tables
    chosen by ``to``.

    ZCOR: ``atanh(ri)``, ``vi = 1/(ni - 3)``; COR: ``ri``, ``vi = (1 - ri²)²/(ni - 1)``; the
    variance is NaN for ``ni <= 3`` (as metafor).

    PR: ``p = xi/ni``, ``vi = p(1-p)/ni``; PLO: ``log(p/(1-p))``, ``vi = 1/xi + 1/(ni-xi)``;
    PFT (Freeman-Tukey, on metafor's scale):
    ``(asin(sqrt(xi/(ni+1))) + asin(sqrt((xi+1)/(ni+1))))/2``, ``vi = 1/(4 ni + 2)``.

    References: Viechtbauer W (2010), metafor, J Stat Softw 36(3), and ``escalc`` of
    metafor 3.8-1; Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009), Introduction
    to Meta-Analysis, Wiley, ch. 4-6; Hedges LV (1981) J Educ Stat 6:107-128.

    Examples
    --------
    >>> es = effect_sizes("SMD", m1i=[103.0], sd1i=[5.5], n1i=[50],
    ...                   m2i=[100.0], sd2i=[4.5], n2i=[50], correction="approx", vtype="LS2")
    >>> print(f"g = {es.yi[0]:.4f}, vi = {es.vi[0]:.4f}")
    g = 0.5924, vi = 0.0411
    >>> es = effect_sizes("OR", ai=[5, 0], bi=[95, 20], ci=[10, 3], di=[90, 17],
    ...                   slab=["Trial A", "Trial B"])
    >>> es.to_frame().round(4)
          slab      yi      vi     sei
    0  Trial A -0.7472  0.3216  0.5671
    1  Trial B -2.1041  2.3916  1.5465
    """
    if measure not in fam.MEASURES:
        inp.check_choice("measure", measure, tuple(fam.MEASURES))
    given = {
        name: value
        for name, value in (
            ("m1i", m1i),
            ("sd1i", sd1i),
            ("n1i", n1i),
            ("m2i", m2i),
            ("sd2i", sd2i),
            ("n2i", n2i),
            ("ai", ai),
            ("bi", bi),
            ("ci", ci),
            ("di", di),
            ("xi", xi),
            ("ni", ni),
            ("ri", ri),
            ("yi", yi),
            ("vi", vi),
            ("sei", sei),
        )
        if value is not None
    }
    spec = fam.MEASURES[measure]
    unused = [name for name in given if name not in spec.columns]
    if unused:
        raise InputError(
            f"measure {measure!r} does not use {', '.join(unused)}; it takes "
            f"{', '.join(spec.columns)}"
        )
    if not given:
        raise InputError(f"measure {measure!r} needs {', '.join(spec.columns)}; none was given")
    settings = _settings(measure, vtype, correction, convention, add, to, drop00)
    frame = inp.check_data(data)
    cols = {name: inp.column(name, value, frame) for name, value in given.items()}
    k = inp.check_lengths(cols)
    labels = inp.labels(slab, frame, k)
    y, v, ok, adjusted = fam.compute(measure, cols, labels, settings)
    y, v = _undefined_to_nan(measure, y, v, ok, labels)
    if measure == "SMD":
        _warn_large_smd(y, labels)
    return EffectSizes(
        yi=y,
        vi=v,
        measure=measure,
        slab=labels,
        vtype=settings.vtype,
        correction=settings.correction,
        convention=settings.convention,
        add=settings.add,
        to=settings.to,
        drop00=settings.drop00,
        adjusted=adjusted,
    )
