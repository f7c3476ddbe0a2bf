"""Sensitivity analyses: leave-one-out, cumulative meta-analysis and influence diagnostics.

Each function builds a ``(k, d)`` array in which NaN marks a study missing from a column and
fits every column at once with :func:`metasift.stats.meta_analysis_batch`: leave-one-out has
``k`` columns (column ``i`` lacks study ``i``), cumulative meta-analysis has ``k`` columns
(column ``j`` holds the first ``j + 1`` studies in the chosen order). There is no Python loop
over fits.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from metasift.errors import ConvergenceWarning, InputError
from metasift.stats._format import four_decimals, html, with_notes
from metasift.stats._kernels import FloatArray
from metasift.stats._validate import effect_arrays, model_options
from metasift.stats.batch import BatchResult, check_options, meta_analysis_batch
from metasift.stats.pooling import MetaResult, meta_analysis

__all__ = [
    "InfluenceResult",
    "SensitivityResult",
    "cumulative",
    "influence",
    "leave_one_out",
]

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Residuals smaller than this multiple of machine epsilon are set to 0, as metafor does, so
#: that a study equal to the pooled estimate gets rstudent = 0 rather than rounding noise.
_RESID_ZERO = 100 * np.finfo(float).eps


@dataclass(frozen=True)
class SensitivityResult:
    """A sequence of meta-analyses: leave-one-out or cumulative; one row per fit.

    Attributes
    ----------
    kind : {"leave-one-out", "cumulative"}
        Which analysis this is.
    slab : tuple of str
        Row ``i``: the study left out (leave-one-out) or the study added (cumulative).
    study : ndarray of int
        Position of that study in the input (0-based).
    estimate, se, zval, tval, df, pval, ci_lb, ci_ub, pi_lb, pi_ub : ndarray
        Pooled results of each fit, as in :class:`metasift.MetaResult`.
    tau2, i2, i2_q, h2, qe, qe_df, qe_pval : ndarray
        Heterogeneity of each fit; NaN for a fit of one study.
    k : ndarray of int
        Number of studies in each fit.
    converged : ndarray of bool
        Whether each fit's tau^2 estimator converged.
    order : ndarray or None
        Cumulative analysis: the ordering values, sorted; None for leave-one-out.
    overall : MetaResult
        The fit of all studies.
    method, test : str
        tau^2 estimator and test, as in :func:`metasift.meta_analysis`.
    level : float
        Confidence level.
    notes : tuple of str
        Facts a reader must know (rows with NaN heterogeneity, unconverged fits).
    """

    kind: str
    slab: tuple[str, ...]
    study: IntArray = field(repr=False)
    estimate: FloatArray = field(repr=False)
    se: FloatArray = field(repr=False)
    zval: FloatArray = field(repr=False)
    tval: FloatArray = field(repr=False)
    df: FloatArray = field(repr=False)
    pval: FloatArray = field(repr=False)
    ci_lb: FloatArray = field(repr=False)
    ci_ub: FloatArray = field(repr=False)
    pi_lb: FloatArray = field(repr=False)
    pi_ub: FloatArray = field(repr=False)
    tau2: FloatArray = field(repr=False)
    i2: FloatArray = field(repr=False)
    i2_q: FloatArray = field(repr=False)
    h2: FloatArray = field(repr=False)
    qe: FloatArray = field(repr=False)
    qe_df: FloatArray = field(repr=False)
    qe_pval: FloatArray = field(repr=False)
    k: IntArray = field(repr=False)
    converged: BoolArray = field(repr=False)
    order: NDArray[Any] | None = field(repr=False)
    overall: MetaResult = field(repr=False)
    method: str
    test: str
    level: float
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.slab)

    def to_frame(self) -> Any:
        """One row per fit (pandas DataFrame).

        Columns: slab, study, k, estimate, se, zval (test "z") or tval and df (test "knha" or
        "adhoc"), pval, ci_lb, ci_ub, pi_lb, pi_ub, tau2, i2, i2_q, h2, qe, qe_pval, converged;
        a cumulative analysis with ``order`` also has the column ``order``.
        """
        import pandas as pd

        cols: dict[str, Any] = {"slab": list(self.slab), "study": self.study, "k": self.k}
        if self.order is not None:
            cols["order"] = self.order
        cols["estimate"], cols["se"] = self.estimate, self.se
        if self.test == "z":
            cols["zval"] = self.zval
        else:
            cols["tval"], cols["df"] = self.tval, self.df
        for name in ("pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "tau2", "i2", "i2_q", "h2"):
            cols[name] = getattr(self, name)
        cols["qe"], cols["qe_pval"], cols["converged"] = self.qe, self.qe_pval, self.converged
        return pd.DataFrame(cols)

    def summary(self) -> str:
        """The table as text, in the manner of metafor's ``print.list.rma``."""
        head = "Study left out" if self.kind == "leave-one-out" else "Study added"
        show = ["slab", "k", "estimate", "ci_lb", "ci_ub", "pval", "tau2", "i2"]
        frame = self.to_frame()[show].rename(columns={"slab": head})
        frame["i2"] = 100 * frame["i2"]
        lines = [
            f"{self.kind.capitalize()} meta-analysis ({len(self)} fits; method {self.method}, "
            f"test {self.test}, {100 * self.level:g}% CI; i2 in %)",
            frame.to_string(index=False, float_format=four_decimals),
        ]
        return with_notes(lines, self.notes)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html(f"{self.kind.capitalize()} meta-analysis", self.to_frame())


def _warn_unconverged(batch: BatchResult, labels: Sequence[str], what: str) -> tuple[str, ...]:
    bad = np.flatnonzero(~batch.converged)
    if bad.size == 0:
        return ()
    names = ", ".join(repr(labels[i]) for i in bad[:5])
    msg = f"the {batch.method} estimator did not converge in {bad.size} fit(s) ({what} {names})"
    warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    return (msg,)


def _collection(
    kind: str,
    batch: BatchResult,
    study: IntArray,
    labels: tuple[str, ...],
    overall: MetaResult,
    order: NDArray[Any] | None,
    notes: tuple[str, ...],
) -> SensitivityResult:
    arrays = {
        name: np.asarray(getattr(batch, name), dtype=np.float64)
        for name in (
            "estimate", "se", "zval", "tval", "df", "pval", "ci_lb", "ci_ub", "pi_lb",
            "pi_ub", "tau2", "i2", "i2_q", "h2", "qe", "qe_df", "qe_pval",
        )
    }  # fmt: skip
    return SensitivityResult(
        kind=kind,
        slab=tuple(labels[i] for i in study),
        study=study,
        k=np.asarray(batch.k, dtype=np.int64),
        converged=np.asarray(batch.converged, dtype=bool),
        order=order,
        overall=overall,
        method=batch.method,
        test=batch.test,
        level=batch.level,
        notes=notes,
        **arrays,
    )


def leave_one_out(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    method: str | None = None,
    test: str | None = None,
    level: float | None = None,
    tau2: float | None = None,
) -> SensitivityResult:
    """Meta-analysis repeated with each study left out in turn (metafor's ``leave1out``).

    Parameters
    ----------
    yi : array_like of shape (k,), or an EffectSizes
        Effect sizes (an object with ``yi``, ``vi`` and ``slab`` supplies all three).
    vi, sei : array_like of shape (k,)
        Sampling variances, or standard errors; exactly one of them.
    slab : sequence of str, optional
        Study labels.
    method, test, level, tau2
        As in :func:`metasift.meta_analysis`; method, test and level default to those of
        ``yi`` when it is a fitted :class:`MetaResult` (as metafor's functions on an
        ``rma`` fit), else "REML", "z" and 0.95.

    Returns
    -------
    SensitivityResult
        Row ``i`` is the fit without study ``i``.

    Raises
    ------
    metasift.errors.InputError
        For invalid studies or options, or fewer than two studies.

    Notes
    -----
    The ``k`` fits are the columns of one ``(k, k)`` batch in which study ``i`` is missing
    from column ``i`` (:func:`metasift.stats.meta_analysis_batch`), so each row equals
    ``meta_analysis`` on the other ``k - 1`` studies. A fit of a single study (``k = 2``)
    has NaN heterogeneity where metafor reports Q = 0 and I^2 = 0 (docs/validation.md).

    Examples
    --------
    >>> res = leave_one_out([0.1, 0.3, 0.35, 0.65], [0.03, 0.03, 0.05, 0.01], method="DL")
    >>> res.estimate.round(4).tolist()
    [0.4789, 0.3887, 0.3724, 0.2346]
    >>> res.slab[3]
    'Study 4'
    """
    y, v, labels = effect_arrays(yi, vi, sei, slab)
    method, test, level = model_options(yi, vi, sei, method, test, level)
    check_options(method, test, level)
    k = y.size
    if k < 2:
        raise InputError(f"leave-one-out needs at least 2 studies; got k = {k}")
    ys = np.repeat(y[:, None], k, axis=1)
    vs = np.repeat(v[:, None], k, axis=1)
    np.fill_diagonal(ys, np.nan)
    np.fill_diagonal(vs, np.nan)
    batch = meta_analysis_batch(ys, vs, method=method, test=test, level=level, tau2=tau2)
    notes = _warn_unconverged(batch, labels, "leaving out")
    if k == 2:
        notes += ("each fit has one study: heterogeneity is NaN",)
    overall = meta_analysis(y, v, slab=labels, method=method, test=test, level=level, tau2=tau2)
    study = np.arange(k, dtype=np.int64)
    return _collection("leave-one-out", batch, study, labels, overall, None, notes)


def _as_values(order: ArrayLike) -> NDArray[Any]:
    """``order`` as an array; a list keeps its Python objects (see :func:`_sort_order`)."""
    if hasattr(order, "dtype"):
        return np.asarray(order)
    values = np.asarray(order, dtype=object)
    if all(isinstance(x, int | float) and not isinstance(x, bool) for x in values.ravel()):
        return values.astype(np.float64)
    return values


def _sort_order(order: ArrayLike, labels: tuple[str, ...], descending: bool) -> IntArray:
    """Stable permutation sorting ``order``; ties keep the input order."""
    # A list keeps its Python objects so that mixed types are refused rather than coerced
    # to text by NumPy (["a", 1] would otherwise sort as strings).
    values = _as_values(order)
    if values.ndim != 1 or values.size != len(labels):
        raise InputError(
            f"order must have one value per study ({len(labels)}); got shape {values.shape}"
        )
    missing = np.zeros(values.size, dtype=bool)
    if values.dtype.kind == "f":
        missing = np.isnan(values)
    elif values.dtype.kind in "mM":
        missing = np.isnat(values)
    elif values.dtype.kind == "O":
        missing = np.array([x is None or (isinstance(x, float) and x != x) for x in values])
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError(f"order[{i}] is missing for study {labels[i]!r}: every study needs one")
    try:
        # Integer codes of the distinct values make descending order stable for any type.
        _, codes = np.unique(values, return_inverse=True)
    except TypeError as exc:
        raise InputError(f"order values cannot be compared with each other: {exc}") from None
    codes = codes.ravel()
    return np.argsort(-codes if descending else codes, kind="stable").astype(np.int64)


def cumulative(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    order: ArrayLike | None = None,
    descending: bool = False,
    method: str | None = None,
    test: str | None = None,
    level: float | None = None,
    tau2: float | None = None,
) -> SensitivityResult:
    """Cumulative meta-analysis: studies added one at a time (metafor's ``cumul``).

    Parameters
    ----------
    yi, vi, sei, slab
        As in :func:`leave_one_out`.
    order : array_like of shape (k,), optional
        Values to sort the studies by (publication year, sample size, dates, labels, ...);
        the input order when omitted. Ties keep the input order (a stable sort).
    descending : bool
        Sort from the largest value down (metafor's ``decreasing=TRUE``).
    method, test, level, tau2
        As in :func:`metasift.meta_analysis`; method, test and level default to those of
        ``yi`` when it is a fitted :class:`MetaResult` (as metafor's functions on an
        ``rma`` fit), else "REML", "z" and 0.95.

    Returns
    -------
    SensitivityResult
        Row ``j`` is the fit of the first ``j + 1`` studies; ``slab[j]`` is the study added.

    Raises
    ------
    metasift.errors.InputError
        For invalid studies or options, or an ``order`` with missing or incomparable values.

    Notes
    -----
    After sorting, column ``j`` of one ``(k, k)`` batch holds studies ``0..j``
    (:func:`metasift.stats.meta_analysis_batch`). The first row is a single study: its
    heterogeneity is NaN (metafor reports Q = 0, I^2 = 0 and H^2 = 1 there).

    Examples
    --------
    >>> res = cumulative([0.1, 0.3, 0.35, 0.65], [0.03, 0.03, 0.05, 0.01],
    ...                  order=[2001, 1998, 2001, 1995], method="DL")
    >>> res.slab
    ('Study 4', 'Study 2', 'Study 1', 'Study 3')
    >>> res.estimate.round(4).tolist()
    [0.65, 0.5036, 0.3724, 0.374]
    """
    y, v, labels = effect_arrays(yi, vi, sei, slab)
    method, test, level = model_options(yi, vi, sei, method, test, level)
    check_options(method, test, level)
    k = y.size
    if order is None:
        perm = np.arange(k, dtype=np.int64)
        if descending:
            perm = perm[::-1].copy()
        sorted_order = None
    else:
        perm = _sort_order(order, labels, descending)
        sorted_order = _as_values(order)[perm]
    present = np.triu(np.ones((k, k), dtype=bool))  # row i (study) enters at column i
    ys = np.where(present, y[perm][:, None], np.nan)
    vs = np.where(present, v[perm][:, None], np.nan)
    batch = meta_analysis_batch(ys, vs, method=method, test=test, level=level, tau2=tau2)
    notes = _warn_unconverged(batch, [labels[i] for i in perm], "after adding")
    notes += ("the first fit has one study: its heterogeneity is NaN",)
    overall = meta_analysis(y, v, slab=labels, method=method, test=test, level=level, tau2=tau2)
    return _collection("cumulative", batch, perm, labels, overall, sorted_order, notes)


@dataclass(frozen=True)
class InfluenceResult:
    """Case diagnostics of a random- or equal-effects model (metafor's ``influence``).

    Attributes
    ----------
    slab : tuple of str
        Study labels.
    rstudent : ndarray
        Externally standardised residuals: ``(y_i - mu_(-i)) / sqrt(s2w_(-i) (v_i +
        tau2_(-i)) + se_(-i)^2)``.
    dffits : ndarray
        Change in the fitted value when study i is left out, scaled.
    cook_d : ndarray
        Cook's distance ``(mu - mu_(-i))^2 / se^2``.
    cov_r : ndarray
        Covariance ratio ``se_(-i)^2 / se^2``.
    tau2_del, qe_del : ndarray
        tau^2 and Cochran's Q of the fit without study i.
    hat : ndarray
        Leverage: the study's weight as a fraction, ``w_i / sum(w)``.
    weight : ndarray
        The study's weight in percent (metafor's ``weight`` column).
    dfbetas : ndarray
        Change in the pooled estimate, scaled (metafor's ``dfbs``).
    inf : ndarray of bool
        metafor's flag: ``|dffits| > 3 sqrt(1/(k-1))`` or ``pchisq(cook_d, 1) > 0.5`` or
        ``hat > 3/k`` or ``|dfbetas| > 1``.
    k : int
        Number of studies.
    overall : MetaResult
        The fit of all studies.
    method, test : str
        Settings of the fits.
    """

    slab: tuple[str, ...]
    rstudent: FloatArray = field(repr=False)
    dffits: FloatArray = field(repr=False)
    cook_d: FloatArray = field(repr=False)
    cov_r: FloatArray = field(repr=False)
    tau2_del: FloatArray = field(repr=False)
    qe_del: FloatArray = field(repr=False)
    hat: FloatArray = field(repr=False)
    weight: FloatArray = field(repr=False)
    dfbetas: FloatArray = field(repr=False)
    inf: BoolArray = field(repr=False)
    k: int
    overall: MetaResult = field(repr=False)
    method: str
    test: str

    _COLUMNS = (
        "rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight",
        "dfbetas", "inf",
    )  # fmt: skip

    @property
    def influential(self) -> tuple[str, ...]:
        """Labels of the studies flagged as influential."""
        return tuple(s for s, flag in zip(self.slab, self.inf, strict=True) if flag)

    def to_frame(self) -> Any:
        """One row per study: slab and the diagnostics (pandas DataFrame)."""
        import pandas as pd

        cols: dict[str, Any] = {"slab": list(self.slab)}
        cols.update({name: getattr(self, name) for name in self._COLUMNS})
        return pd.DataFrame(cols)

    def summary(self) -> str:
        """The diagnostics as text, flagged studies marked with ``*``."""
        frame = self.to_frame()
        frame["inf"] = np.where(self.inf, "*", "")
        lines = [
            f"Influence diagnostics (k = {self.k}; method {self.method}, test {self.test})",
            frame.to_string(index=False, float_format=four_decimals),
        ]
        if self.influential:
            lines.append("Influential: " + ", ".join(self.influential))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html(f"Influence diagnostics (k = {self.k})", self.to_frame())


def influence(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    method: str | None = None,
    test: str | None = None,
    level: float | None = None,
) -> InfluenceResult:
    """Outlier and influence diagnostics of each study (metafor's ``influence.rma.uni``).

    Parameters
    ----------
    yi, vi, sei, slab
        As in :func:`leave_one_out`.
    method, test, level
        As in :func:`metasift.meta_analysis`; by default those of ``yi`` when it is a
        fitted :class:`MetaResult`, else "REML", "z" and 0.95.

    Returns
    -------
    InfluenceResult

    Raises
    ------
    metasift.errors.InputError
        For invalid studies or options, or fewer than three studies (each leave-one-out fit
        must estimate heterogeneity).

    Notes
    -----
    With the full fit (``mu``, ``se``, weights ``w_i = 1/(v_i + tau2)``, ``h_i = w_i /
    sum(w)``) and the leave-one-out fits (``mu_(-i)``, ``se_(-i)``, ``tau2_(-i)``; one batch
    of :func:`leave_one_out`), following Viechtbauer and Cheung (2010, Res Synth Methods
    1:112-125) and metafor's ``influence.rma.uni``:

    - rstudent: ``(y_i - mu_(-i)) / sqrt(s2w_(-i) (v_i + tau2_(-i)) + se_(-i)^2)``;
    - dffits: ``(mu - mu_(-i)) / sqrt(s2w_(-i) h_i (tau2_(-i) + v_i))``;
    - Cook's distance: ``(mu - mu_(-i))^2 / se^2``; covariance ratio ``se_(-i)^2 / se^2``;
    - dfbetas: ``(mu - mu_(-i)) / sqrt(s2w_(-i) / sum_j 1/(v_j + tau2_(-i)))`` (sum over all
      k studies);

    where ``s2w_(-i)`` is the HKSJ factor of the fit without study i (1 under test "z").
    A study is flagged when ``|dffits| > 3 sqrt(1/(k-1))``, ``pchisq(cook_d, 1) > 0.5``,
    ``h_i > 3/k`` or ``|dfbetas| > 1`` (metafor's rule).

    Examples
    --------
    >>> res = influence([0.1, 0.3, 0.35, 0.65, 0.45], [0.03, 0.03, 0.05, 0.01, 0.05],
    ...                 method="DL")
    >>> res.cook_d.round(3).tolist()
    [0.789, 0.022, 0.0, 1.051, 0.025]
    >>> res.influential
    ('Study 1', 'Study 4')
    """
    y, v, labels = effect_arrays(yi, vi, sei, slab)
    method, test, level = model_options(yi, vi, sei, method, test, level)
    check_options(method, test, level)
    k = y.size
    if k < 3:
        raise InputError(f"influence diagnostics need at least 3 studies; got k = {k}")
    loo = leave_one_out(y, v, slab=labels, method=method, test=test, level=level)
    full = loo.overall
    return _diagnostics(y, v, labels, full, loo)


def _diagnostics(
    y: FloatArray,
    v: FloatArray,
    labels: tuple[str, ...],
    full: MetaResult,
    loo: SensitivityResult,
) -> InfluenceResult:
    """The formulas of :func:`influence` on the full and leave-one-out fits."""
    k = y.size
    tau2_del = loo.tau2
    # weights of every study under each leave-one-out tau^2: w[j, i] = 1/(v_j + tau2_(-i))
    w_all = 1.0 / (v[:, None] + tau2_del[None, :])
    s1_all = w_all.sum(axis=0)
    s1_del = s1_all - np.diag(w_all)
    # HKSJ factor of each leave-one-out fit: its variance is s2w / sum(w); 1 under test "z"
    s2w = np.ones(k) if full.test == "z" else loo.se**2 * s1_del
    vb_full = full.se**2
    hat = full.weights
    diff = full.estimate - loo.estimate
    resid = y - loo.estimate
    resid = np.where(np.abs(resid) < _RESID_ZERO, 0.0, resid)
    rstudent = resid / np.sqrt(v * s2w + loo.se**2 + tau2_del * s2w)
    dffits = diff / np.sqrt(s2w * hat * (tau2_del + v))
    dfbetas = diff / np.sqrt(s2w / s1_all)
    cook_d = diff**2 / vb_full
    cov_r = loo.se**2 / vb_full
    inf = (
        (np.abs(dffits) > 3.0 * np.sqrt(1.0 / (k - 1)))
        | (special.chdtr(1.0, cook_d) > 0.5)
        | (hat > 3.0 / k)
        | (np.abs(dfbetas) > 1.0)
    )
    return InfluenceResult(
        slab=labels,
        rstudent=rstudent,
        dffits=dffits,
        cook_d=cook_d,
        cov_r=cov_r,
        tau2_del=tau2_del,
        qe_del=loo.qe,
        hat=hat,
        weight=100.0 * hat,
        dfbetas=dfbetas,
        inf=np.asarray(inf, dtype=bool),
        k=k,
        overall=full,
        method=full.method,
        test=full.test,
    )
