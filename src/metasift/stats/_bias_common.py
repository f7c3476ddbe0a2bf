"""Shared pieces of the publication-bias methods: input, the few-studies warning, predictors.

The regression tests (Egger, PET-PEESE, the side rule of trim and fill) are meta-regressions
of the effect sizes on a measure of precision; they are fitted with
:func:`metasift.stats.metareg.meta_regression`.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike

from metasift.errors import FewStudiesWarning, InputError
from metasift.stats._kernels import FloatArray
from metasift.stats._validate import check_known
from metasift.stats.metareg import MetaRegressionResult, meta_regression

#: Fewer studies than this and the tests for funnel plot asymmetry have too little power to
#: tell chance from real asymmetry (Cochrane Handbook v6, 13.3.5.2; v5.1, 10.4.3.1).
MIN_STUDIES = 10

#: Predictors of the regression test, metafor's names, plus the modified standard error of
#: Pustejovsky and Rodgers (2019) for standardised mean differences.
PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv", "modified_sei")
#: Predictors whose value is 0 for an infinitely precise study: the intercept is then the
#: limit estimate (metafor reports none for "ni" and "sqrtni").
LIMIT_PREDICTORS = ("sei", "vi", "ninv", "sqrtninv", "modified_sei")
MODELS = ("rma", "lm")


def warn_few_studies(k: int, what: str, stacklevel: int = 3) -> str | None:
    """Warn (FewStudiesWarning) when ``k < MIN_STUDIES``; return the note for the result."""
    if k >= MIN_STUDIES:
        return None
    note = (
        f"{what} with k = {k} studies: tests for funnel plot asymmetry need at least "
        f"{MIN_STUDIES} studies to tell chance from real asymmetry (Cochrane Handbook "
        f"13.3.5.2)"
    )
    warnings.warn(note, FewStudiesWarning, stacklevel=stacklevel)
    return note


def check_alpha(alpha: float) -> None:
    """Raise InputError for a significance level outside (0, 1)."""
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha={alpha!r} must be a probability between 0 and 1, such as 0.05")


def need_studies(k: int, minimum: int, what: str) -> None:
    """Raise InputError when a method cannot be computed with ``k`` studies."""
    if k < minimum:
        raise InputError(f"{what} needs at least {minimum} studies; got k = {k}")


def _sizes(name: str, values: ArrayLike, labels: tuple[str, ...]) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size != len(labels):
        raise InputError(f"{name} has {arr.size} values for {len(labels)} studies")
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"{name}[{i}] = {float(arr[i])!r} for study {labels[i]!r}: sample sizes must be "
            f"finite and > 0"
        )
    return arr


def predictor_values(
    predictor: str,
    v: FloatArray,
    labels: tuple[str, ...],
    ni: ArrayLike | None,
    n1i: ArrayLike | None,
    n2i: ArrayLike | None,
) -> FloatArray:
    """Values of the regression test's predictor for each study (metafor's regtest)."""
    check_known("predictor", predictor, PREDICTORS)
    if predictor == "sei":
        return np.sqrt(v)
    if predictor == "vi":
        return v
    if predictor == "modified_sei":
        if n1i is None or n2i is None:
            raise InputError('predictor="modified_sei" needs the group sizes n1i and n2i')
        n1, n2 = _sizes("n1i", n1i, labels), _sizes("n2i", n2i, labels)
        return np.asarray(np.sqrt(1.0 / n1 + 1.0 / n2), dtype=np.float64)
    if ni is None:
        if n1i is None or n2i is None:
            raise InputError(f"predictor={predictor!r} needs sample sizes: ni, or n1i and n2i")
        n = _sizes("n1i", n1i, labels) + _sizes("n2i", n2i, labels)
    else:
        n = _sizes("ni", ni, labels)
    transform = {"ni": n, "ninv": 1.0 / n, "sqrtni": np.sqrt(n), "sqrtninv": 1.0 / np.sqrt(n)}
    return np.asarray(transform[predictor], dtype=np.float64)


def regression(
    y: FloatArray,
    v: FloatArray,
    labels: tuple[str, ...],
    x: FloatArray,
    name: str,
    *,
    model: str,
    method: str,
    test: str,
    level: float,
    tau2: float | None = None,
) -> MetaRegressionResult:
    """Regression of the effects on one predictor, as metafor's regtest fits it.

    ``model="rma"``: the mixed-effects meta-regression with ``method`` and ``test``.
    ``model="lm"``: weighted least squares with weights ``1/vi`` and a multiplicative
    dispersion term, which is the equal-effects meta-regression with the Knapp-Hartung
    scale factor ``Q_E / (k - 2)`` and t tests on ``k - 2`` df (the same estimates, standard
    errors and intervals as R's ``lm(yi ~ x, weights = 1/vi)``).
    """
    check_known("model", model, MODELS)
    if np.ptp(x) == 0:
        raise InputError(
            f"the predictor {name!r} has the same value for every study: the regression "
            f"test cannot separate its slope from the intercept"
        )
    if model == "lm":
        if tau2 is not None:
            raise InputError('tau2 cannot be fixed with model="lm", which has no tau^2')
        method, test = "FE", "knha"
    return meta_regression(
        y, v, {name: x}, method=method, test=test, level=level, slab=labels, tau2=tau2
    )
