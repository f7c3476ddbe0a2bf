"""One meta-analysis: :func:`meta_analysis` and its result, :class:`MetaResult`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from metasift.errors import ConvergenceWarning
from metasift.stats._format import METHOD_NAMES, fmt, html, one_row, pfmt, with_notes
from metasift.stats._kernels import FloatArray
from metasift.stats._validate import effect_source, study_arrays
from metasift.stats.batch import BatchResult, meta_analysis_batch

__all__ = ["MetaResult", "meta_analysis"]


@dataclass(frozen=True)
class MetaResult:
    """Result of a meta-analysis, at full precision.

    Attributes
    ----------
    estimate, se : float
        Pooled effect and its standard error (under knha/adhoc, the HKSJ standard error).
    zval : float
        Wald statistic (NaN under knha/adhoc).
    tval, df : float
        t statistic and its degrees of freedom, k - 1 (NaN under test="z").
    pval : float
        Two-sided p-value of the test of estimate = 0.
    ci_lb, ci_ub : float
        Confidence interval at ``level``.
    pi_lb, pi_ub : float
        Prediction interval (metafor's ``predict()``); NaN for equal-effects models and k=1.
    tau2, tau2_se, tau : float
        Between-study variance, its standard error (NaN where the estimator has none or
        tau2 was fixed), and its square root.
    i2 : float
        I^2 from tau^2, ``tau2 / (vt + tau2)``, a fraction (metafor's I2 / 100); for
        equal-effects models the Q-based value, as metafor.
    i2_q : float
        I^2 from Q, ``max(0, (Q - df) / Q)`` (Higgins and Thompson 2002), as RevMan 5, CMA
        and R meta report it.
    h2 : float
        H^2, ``(vt + tau2) / vt`` (for equal-effects models ``Q / df``).
    qe, qe_df, qe_pval : float
        Cochran's Q test for heterogeneity (inverse-variance weights 1/vi).
    k : int
        Number of studies.
    vt : float
        Typical within-study variance (Higgins and Thompson 2002).
    loglik_ml, loglik_reml : float
        Log-likelihood and restricted log-likelihood at the fitted tau^2 (metafor's fit
        statistics).
    weights : ndarray
        Inverse-variance weights ``1/(vi + tau2)`` as fractions summing to 1.
    yi, vi : ndarray
        The studies' effect sizes and sampling variances.
    slab : tuple of str
        Study labels.
    measure : str or None
        Effect-size measure, when known ("SMD", "OR", ...).
    method, test, level : str, str, float
        Settings of the fit.
    converged : bool
        False when an iterative estimator did not reach ``tol`` (a ConvergenceWarning was
        issued).
    n_iter : int
        Iterations used by the tau^2 estimator (0 for closed forms).
    notes : tuple of str
        Why a field is NaN, and other facts a reader must know.
    """

    estimate: float
    se: float
    zval: float
    tval: float
    df: float
    pval: float
    ci_lb: float
    ci_ub: float
    pi_lb: float
    pi_ub: float
    tau2: float
    tau2_se: float
    tau: float
    i2: float
    i2_q: float
    h2: float
    qe: float
    qe_df: float
    qe_pval: float
    k: int
    vt: float
    loglik_ml: float
    loglik_reml: float
    weights: FloatArray = field(repr=False)
    yi: FloatArray = field(repr=False)
    vi: FloatArray = field(repr=False)
    slab: tuple[str, ...] = field(repr=False)
    measure: str | None
    method: str
    test: str
    level: float
    converged: bool
    n_iter: int
    notes: tuple[str, ...] = ()

    _SCALARS = (
        "estimate", "se", "zval", "tval", "df", "pval", "ci_lb", "ci_ub", "pi_lb", "pi_ub",
        "tau2", "tau2_se", "tau", "i2", "i2_q", "h2", "qe", "qe_df", "qe_pval", "k", "vt",
        "loglik_ml", "loglik_reml", "method", "test", "level", "converged", "n_iter",
    )  # fmt: skip

    @property
    def random_effects(self) -> bool:
        """True unless the model is the equal-effects (common-effect) model."""
        return self.method not in ("EE", "FE")

    def to_frame(self) -> Any:
        """The scalar fields as a one-row pandas DataFrame."""
        return one_row(self, (*self._SCALARS, "measure"))

    def studies(self) -> Any:
        """Per-study rows: slab, yi, vi, sei, ci_lb, ci_ub (at ``level``, z-based), weight."""
        import pandas as pd

        sei = np.sqrt(self.vi)
        crit = special.ndtri(0.5 + self.level / 2.0)
        return pd.DataFrame(
            {
                "slab": list(self.slab),
                "yi": self.yi,
                "vi": self.vi,
                "sei": sei,
                "ci_lb": self.yi - crit * sei,
                "ci_ub": self.yi + crit * sei,
                "weight": self.weights,
            }
        )

    def confint(self, type: str = "QP") -> Any:
        """Confidence intervals for tau^2, tau, I^2 and H^2.

        ``type="QP"``: Q-profile (Viechtbauer 2007), for every estimator; ``type="PL"``:
        profile likelihood, for ML and REML fits; ``type="HT"``: the Higgins-Thompson
        test-based interval for H and the Q-based I^2.
        """
        from metasift.stats._confint import heterogeneity_confint

        return heterogeneity_confint(self, type)

    def summary(self) -> str:
        """A printed summary in the manner of metafor's ``print.rma``."""
        return _summary_text(self)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return html(_header(self), self.to_frame())


def _header(res: MetaResult) -> str:
    model = "Random-effects" if res.random_effects else "Equal-effects"
    return f"{model} model (k = {res.k}; tau^2 estimator: {METHOD_NAMES[res.method]})"


def _summary_text(res: MetaResult) -> str:
    pct = f"{100 * (1 - res.level):g}"
    lines = [_header(res), ""]
    if res.random_effects:
        lines.append(f"tau^2 = {fmt(res.tau2)} (SE = {fmt(res.tau2_se)})   tau = {fmt(res.tau)}")
    lines += [
        f"I^2 (from tau^2) = {fmt(100 * res.i2, 2)}%   H^2 = {fmt(res.h2)}",
        f"I^2 (from Q)     = {fmt(100 * res.i2_q, 2)}%",
        f"Test for heterogeneity: Q(df = {fmt(res.qe_df, 0)}) = {fmt(res.qe)}, "
        f"p = {pfmt(res.qe_pval)}",
        "",
    ]
    stat = f"z = {fmt(res.zval)}" if res.test == "z" else f"t({fmt(res.df, 0)}) = {fmt(res.tval)}"
    lines.append(f"Model results (test: {res.test}, {100 * res.level:g}% intervals):")
    lines.append(
        f"estimate = {fmt(res.estimate)}, SE = {fmt(res.se)}, {stat}, p = {pfmt(res.pval)}"
    )
    lines.append(f"CI: {fmt(res.ci_lb)} to {fmt(res.ci_ub)}")
    if res.random_effects:
        lines.append(f"prediction interval: {fmt(res.pi_lb)} to {fmt(res.pi_ub)}")
    lines.append(f"(two-sided alpha = {pct}%)")
    return with_notes(lines, res.notes)


def _notes(batch: BatchResult, k: int, method: str, test: str) -> tuple[str, ...]:
    notes: list[str] = []
    if k == 1:
        notes.append("one study: heterogeneity (tau^2, I^2, H^2, Q) cannot be estimated")
        if test != "z":
            notes.append(f"test={test!r} needs at least two studies (t with k-1 = 0 df)")
    elif method in ("EE", "FE"):
        notes.append("equal-effects model: no prediction interval; I^2 and H^2 from Q")
    if k >= 2 and method not in ("EE", "FE") and batch.tau2[0] == 0.0:
        notes.append("tau^2 estimate is on the boundary 0")
    if not bool(batch.converged[0]):
        notes.append(f"the {method} estimator did not converge: tau^2 is not reliable")
    return tuple(notes)


def meta_analysis(
    yi: ArrayLike | Any,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    slab: Sequence[Any] | ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    tau2: float | None = None,
    measure: str | None = None,
    tol: float = 1e-10,
    maxiter: int = 1000,
) -> MetaResult:
    """Random- or equal-effects meta-analysis with inverse-variance weights.

    Parameters
    ----------
    yi : array_like of shape (k,), or an EffectSizes
        Effect sizes. An object with ``yi``, ``vi`` (and ``slab``, ``measure``) attributes,
        such as the result of :func:`metasift.effect_sizes`, supplies all of them.
    vi, sei : array_like of shape (k,)
        Sampling variances, or standard errors; exactly one of them.
    slab : sequence of str, optional
        Study labels, used in messages, tables and plots.
    method : str
        tau^2 estimator by metafor's code: "REML" (default), "ML", "EB", "PM", "PMM",
        "DL", "DLIT", "HE", "HS", "HSk", "SJ", "SJIT", or "EE"/"FE" for equal effects.
    test : {"z", "knha", "adhoc"}
        "knha": Hartung-Knapp-Sidik-Jonkman (t with k-1 df); "adhoc": HKSJ whose variance
        factor is never below 1, so its interval is never narrower than the Wald one.
    level : float
        Confidence level, 0.95 by default.
    tau2 : float, optional
        Fix tau^2 instead of estimating it.
    measure : str, optional
        Name of the effect-size measure, carried into tables and plots.
    tol, maxiter : float, int
        Convergence of iterative estimators: change in tau^2 at most ``tol * max(1, tau2)``.

    Returns
    -------
    MetaResult

    Raises
    ------
    metasift.errors.InputError
        For a missing or non-finite value, a non-positive variance, a length mismatch, or
        an unknown method or test; the message names the study.

    Warns
    -----
    metasift.errors.ConvergenceWarning
        When an iterative estimator does not converge (``converged=False``).

    Notes
    -----
    With weights :math:`w_i = 1/(v_i + \\hat\\tau^2)`, the estimate is
    :math:`\\hat\\mu = \\sum w_i y_i / \\sum w_i` with :math:`SE = (\\sum w_i)^{-1/2}`
    (Borenstein et al. 2009, ch. 12). Under HKSJ the variance is multiplied by
    :math:`\\sum w_i (y_i - \\hat\\mu)^2 / (k-1)` and a t distribution with k-1 df is used
    (Hartung and Knapp 2001; Sidik and Jonkman 2002). The estimators of tau^2 and all other
    fields follow metafor's ``rma.uni`` (Viechtbauer 2010); docs/validation.md lists the
    checks and every known difference.

    Examples
    --------
    The first five peer-support trials of Smit et al. (2022), clinical recovery:

    >>> g = [-0.05, 0.1933, 0.2563, 0.2800, 0.9383]
    >>> se = [0.17, 0.0935, 0.2425, 0.1575, 0.4098]
    >>> res = meta_analysis(g, sei=se, method="DL")
    >>> round(res.estimate, 4), round(res.ci_lb, 4), round(res.ci_ub, 4)
    (0.2059, 0.0246, 0.3871)
    >>> res.k, res.method, res.converged
    (5, 'DL', True)
    """
    yi, vi, slab, source = effect_source(yi, vi, sei, slab)
    if source is not None and measure is None:
        measure = getattr(source, "measure", None)
    y, v, labels = study_arrays(yi, vi, sei, slab)
    batch = meta_analysis_batch(
        y, v, method=method, test=test, level=level, tau2=tau2, tol=tol, maxiter=maxiter
    )
    return _from_batch(batch, y, v, labels, measure)


_BATCH_SCALARS = tuple(
    f.name for f in fields(BatchResult) if f.name not in ("weights", "method", "test", "level")
)


def _from_batch(
    batch: BatchResult, y: FloatArray, v: FloatArray, labels: tuple[str, ...], measure: str | None
) -> MetaResult:
    k = y.size
    notes = _notes(batch, k, batch.method, batch.test)
    if not bool(batch.converged[0]):
        warnings.warn(
            f"{batch.method} estimator did not converge after {int(batch.n_iter[0])} "
            f"iterations; tau^2 = {batch.tau2[0]!r} is not reliable",
            ConvergenceWarning,
            stacklevel=3,
        )
    values: dict[str, Any] = {name: getattr(batch, name)[0].item() for name in _BATCH_SCALARS}
    values["k"] = int(values["k"])
    values["converged"] = bool(values["converged"])
    values["n_iter"] = int(values["n_iter"])
    return MetaResult(
        **values,
        weights=batch.weights[:, 0].copy(),
        yi=y,
        vi=v,
        slab=labels,
        measure=measure,
        method=batch.method,
        test=batch.test,
        level=batch.level,
        notes=notes,
    )
