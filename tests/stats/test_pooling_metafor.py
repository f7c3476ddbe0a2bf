"""meta_analysis() against metafor 3.8-1 on every dataset, measure and method of the grid.

Reference: tests/data/metafor/metafor_reference.json (README.md beside it). For each
dataset and measure the JSON holds metafor's escalc yi/vi and, per method key, the fields
of rma(). Closed-form estimators are compared field by field. Iterative estimators are
compared with the ``*_tight`` keys (metafor run to a tau^2 change of 1e-12); the default
keys, whose tau^2 metafor stops at a change of about 1e-5, are compared by fixing tau^2 at
metafor's value and checking every other field, which isolates everything but the search.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from metasift import meta_analysis

REFERENCE = Path(__file__).parents[1] / "data" / "metafor" / "metafor_reference.json"
GRID: dict[str, Any] = json.loads(REFERENCE.read_text())

#: Closed forms: the same arithmetic in another order; 1e-9 leaves room for the few
#: thousand floating-point operations and the pchisq/pnorm/qt implementations.
RTOL_CLOSED_FORM = 1e-9
#: Iterative estimators: ours stop at a tau^2 change of 1e-10, metafor's tight keys at
#: 1e-12, so the fixed points agree to about 1e-10; 1e-8 is the issue's tolerance.
RTOL_ITERATIVE = 1e-8
#: Values that are 0 in exact arithmetic (a tau^2 on the boundary, an estimate of ~0) are
#: compared on an absolute scale.
ATOL_ZERO = 1e-12

CLOSED = ("FE", "EE", "HS", "HSk", "HE", "DL", "SJ", "DL_knha")
ITERATIVE_TIGHT = ("SJIT_tight", "PM_tight", "PMM_tight", "ML_tight", "REML_tight", "EB_tight")
ITERATIVE_DEFAULT = ("SJIT", "PM", "PMM", "ML", "REML", "EB", "REML_knha")
#: Keys not compared, with the reason. metafor 3.8-1's DLIT is not the iterated
#: DerSimonian-Laird estimator (fixed in 4.6), so the JSON leaves it out.
NOT_COMPARED: dict[str, str] = {}

SCALAR_FIELDS = {
    # metafor field -> (metasift field, scale factor applied to metafor's value)
    "estimate": ("estimate", 1.0),
    "se": ("se", 1.0),
    "zval": ("zval", 1.0),
    "tval": ("tval", 1.0),
    "df": ("df", 1.0),
    "pval": ("pval", 1.0),
    "ci.lb": ("ci_lb", 1.0),
    "ci.ub": ("ci_ub", 1.0),
    "tau2": ("tau2", 1.0),
    "se.tau2": ("tau2_se", 1.0),
    "tau": ("tau", 1.0),
    "I2": ("i2", 0.01),
    "H2": ("h2", 1.0),
    "vt": ("vt", 1.0),
    "QE": ("qe", 1.0),
    "QEdf": ("qe_df", 1.0),
    "QEp": ("qe_pval", 1.0),
    "pi.lb": ("pi_lb", 1.0),
    "pi.ub": ("pi_ub", 1.0),
    "pi.df": ("df", 1.0),
    "logLik_ML": ("loglik_ml", 1.0),
    "logLik_REML": ("loglik_reml", 1.0),
}
#: metafor fields that are not fields of MetaResult (derived fit statistics).
IGNORED_FIELDS = {
    "method", "test", "k", "p", "pred.se", "deviance_ML", "AIC_ML", "BIC_ML", "AICc_ML",
    "AIC_REML", "BIC_REML", "AICc_REML", "confint", "pubbias", "weights_pct", "error", "control",
    "warning", "warnings",
}  # fmt: skip


def _cases(keys: tuple[str, ...]) -> list[Any]:
    out = []
    for ds, measures in GRID["datasets"].items():
        for measure, entry in measures.items():
            for key in keys:
                if key in entry["methods"]:
                    out.append(pytest.param(ds, measure, key, id=f"{ds}-{measure}-{key}"))
    return out


def _data(ds: str, measure: str) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    entry = GRID["datasets"][ds][measure]
    esc = entry["escalc"]
    return np.asarray(esc["yi"], float), np.asarray(esc["vi"], float), entry["methods"]


def _method_test(key: str) -> tuple[str, str]:
    method = key.split("_")[0]
    return method, ("knha" if key.endswith("_knha") else "z")


def _close(ours: float, ref: float, rtol: float) -> bool:
    if ref is None:
        return math.isnan(ours)
    return math.isclose(ours, float(ref), rel_tol=rtol, abs_tol=ATOL_ZERO)


def _compare(res: Any, ref: dict[str, Any], rtol: float, skip: set[str] = frozenset()) -> None:
    wrong = []
    for name, value in ref.items():
        if name in IGNORED_FIELDS or name in skip:
            continue
        ours_name, scale = SCALAR_FIELDS[name]
        ours = float(getattr(res, ours_name))
        expected = None if value is None else float(value) * scale
        if expected is None and ours_name in ("tau2_se", "pi_lb", "pi_ub"):
            assert math.isnan(ours), f"{ours_name}: metafor has none, we give {ours}"
            continue
        if not _close(ours, expected, rtol):  # type: ignore[arg-type]
            wrong.append(f"{ours_name}: ours {ours!r}, metafor {expected!r}")
    if "weights_pct" in ref:
        np.testing.assert_allclose(res.weights * 100, ref["weights_pct"], rtol=rtol)
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize(("ds", "measure", "key"), _cases(CLOSED))
def test_closed_form_estimators_match_metafor(ds: str, measure: str, key: str) -> None:
    yi, vi, methods = _data(ds, measure)
    method, test = _method_test(key)
    res = meta_analysis(yi, vi, method=method, test=test)
    _compare(res, methods[key], RTOL_CLOSED_FORM)
    assert res.converged and res.n_iter == 0


@pytest.mark.parametrize(("ds", "measure", "key"), _cases(ITERATIVE_TIGHT))
def test_iterative_estimators_match_metafor_tight(ds: str, measure: str, key: str) -> None:
    yi, vi, methods = _data(ds, measure)
    method, test = _method_test(key)
    res = meta_analysis(yi, vi, method=method, test=test)
    assert res.converged
    _compare(res, methods[key], RTOL_ITERATIVE)


@pytest.mark.parametrize(("ds", "measure", "key"), _cases(ITERATIVE_DEFAULT))
def test_iterative_fits_match_metafor_given_its_tau2(ds: str, measure: str, key: str) -> None:
    yi, vi, methods = _data(ds, measure)
    ref = methods[key]
    method, test = _method_test(key)
    res = meta_analysis(yi, vi, method=method, test=test, tau2=ref["tau2"])
    _compare(res, ref, RTOL_CLOSED_FORM)
    # and our own estimate lies within metafor's default convergence (tau^2 change 1e-5)
    free = meta_analysis(yi, vi, method=method, test=test)
    assert abs(free.tau2 - ref["tau2"]) <= 1e-4 * max(1.0, ref["tau2"])


def test_every_key_of_the_grid_is_compared() -> None:
    compared = set(CLOSED) | set(ITERATIVE_TIGHT) | set(ITERATIVE_DEFAULT) | set(NOT_COMPARED)
    for ds, measures in GRID["datasets"].items():
        for measure, entry in measures.items():
            missing = set(entry["methods"]) - compared
            assert not missing, f"{ds}/{measure}: keys {sorted(missing)} are not compared"
            for key, fields in entry["methods"].items():
                unknown = set(fields) - set(SCALAR_FIELDS) - IGNORED_FIELDS
                assert not unknown, f"{ds}/{measure}/{key}: fields {unknown} not compared"
    n_entries = sum(len(measures) for measures in GRID["datasets"].values())
    assert n_entries == 15  # 7 datasets, 15 dataset-measure pairs in metafor_reference.json
    for keys in (CLOSED, ITERATIVE_TIGHT, ITERATIVE_DEFAULT):
        assert len(_cases(keys)) == n_entries * len(keys)
