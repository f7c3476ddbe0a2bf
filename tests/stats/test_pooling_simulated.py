"""ML and REML against metafor on 1,002 simulated data sets (validation/simulated_*).

The data sets were made by validation/simulated_data.py and fitted by metafor 3.8-1 run to
a tau^2 change of 1e-12 (validation/simulated_reference.R). Several have likelihoods with
more than one local maximum; both programs must report the same one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metasift.stats import meta_analysis_batch

VALIDATION = Path(__file__).parents[2] / "validation"
#: Both programs stop at a change of 1e-12 (metafor) or 1e-10 x max(1, tau^2) (here) near
#: a root of the score; 1e-8 absolute in tau^2 leaves room for flat likelihoods.
ATOL_TAU2 = 1e-8
RTOL_LOGLIK = 1e-9


@pytest.fixture(scope="module")
def data() -> tuple[list[str], np.ndarray, np.ndarray, dict[str, dict[str, dict[str, float]]]]:
    frame = pd.read_csv(VALIDATION / "simulated_data.csv")
    fits = json.loads((VALIDATION / "simulated_reference.json").read_text())["fits"]
    sets = list(dict.fromkeys(frame["set"]))
    k = frame.groupby("set").size().max()
    y = np.full((k, len(sets)), np.nan)
    v = np.full((k, len(sets)), np.nan)
    for j, (_, group) in enumerate(frame.groupby("set", sort=False)):
        y[: len(group), j], v[: len(group), j] = group["yi"], group["vi"]
    return sets, y, v, fits


@pytest.mark.parametrize("method", ["ML", "REML"])
def test_same_maximum_as_metafor(data: tuple, method: str) -> None:  # type: ignore[type-arg]
    sets, y, v, fits = data
    res = meta_analysis_batch(y, v, method=method)
    ours_ll = res.loglik_ml if method == "ML" else res.loglik_reml
    compared = 0
    for j, name in enumerate(sets):
        ref = fits[name][method]
        if ref["tau2"] is None:  # metafor did not converge
            continue
        compared += 1
        assert res.converged[j], name
        assert abs(res.tau2[j] - ref["tau2"]) <= ATOL_TAU2, (name, res.tau2[j], ref["tau2"])
        assert ours_ll[j] == pytest.approx(ref["loglik"], rel=RTOL_LOGLIK), name
    assert compared >= 950
