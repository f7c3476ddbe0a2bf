"""Speed of the batch engine against a loop of single fits, statsmodels, PyMARE and metafor.

One run on the same simulated data: 10,000 meta-analyses of k = 20 studies (seed 20261125),
sampling variances uniform on [0.005, 0.25], true tau^2 drawn from {0, 0.01, 0.05, 0.2}.
Prints a table; the figures go into docs/performance.md. Run with `make bench`. When R with
metafor is on the machine (Debian: r-base-core, r-cran-metafor), metafor is timed on the
same data by benchmarks/metafor_batch.R and its well-converged REML estimates of the first
1,000 data sets are compared with ours; without R those rows say "not measured".
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from metasift import meta_analysis
from metasift.stats import meta_analysis_batch

SEED = 20261125
K, D = 20, 10_000


def simulate() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    v = rng.uniform(0.005, 0.25, (K, D))
    tau2 = rng.choice([0.0, 0.01, 0.05, 0.2], D)
    y = rng.normal(0.3, np.sqrt(v + tau2))
    return y, v


def best_of(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """Shortest wall time of ``repeat`` runs, and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def single_call_ms(y: np.ndarray, v: np.ndarray, n: int = 2000) -> float:
    for j in range(50):  # warm-up
        meta_analysis(y[:, j], v[:, j])
    start = time.perf_counter()
    for j in range(n):
        meta_analysis(y[:, j], v[:, j])
    return (time.perf_counter() - start) / n * 1e3


def pymare_rows(y: np.ndarray, v: np.ndarray) -> list[tuple[str, float, str]]:
    try:
        from pymare.estimators import DerSimonianLaird, VarianceBasedLikelihoodEstimator
    except ImportError:  # pragma: no cover - the bench extra installs it
        return [("PyMARE (not installed)", float("nan"), "")]
    x = np.ones((K, 1))
    t_dl, _ = best_of(lambda: DerSimonianLaird().fit(y, v, x))
    reml = VarianceBasedLikelihoodEstimator(method="REML")
    t_reml, fitted = best_of(lambda: reml.fit(y, v, x), repeat=3)
    tau2 = np.ravel(fitted.params_["tau2"])
    return [
        ("PyMARE DerSimonianLaird, vectorised", t_dl, "tau2, estimate"),
        ("PyMARE REML, vectorised", t_reml, f"tau2, estimate; median tau2 {np.median(tau2):.4f}"),
    ]


def statsmodels_row(y: np.ndarray, v: np.ndarray) -> tuple[str, float, str]:
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:  # pragma: no cover
        return ("statsmodels (not installed)", float("nan"), "")

    def loop() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for j in range(D):
                combine_effects(y[:, j], v[:, j], method_re="iterated")

    t, _ = best_of(loop, repeat=1)
    return ("statsmodels combine_effects loop (PM, iterated)", t, "all its fields")


def metafor_rows(y: np.ndarray, v: np.ndarray) -> tuple[list[tuple[str, float, str]], str]:
    """Time metafor through Rscript on the same data, and compare its tight REML fits."""
    rscript = shutil.which("Rscript")
    script = __file__.replace("batch.py", "metafor_batch.R")
    if rscript is None:
        return [("metafor (R not installed)", float("nan"), "not measured")], ""
    with tempfile.TemporaryDirectory() as tmp:
        np.savetxt(f"{tmp}/y.csv", y, delimiter=",", fmt="%.17g")
        np.savetxt(f"{tmp}/v.csv", v, delimiter=",", fmt="%.17g")
        done = subprocess.run([rscript, script, tmp], capture_output=True, text=True)
        if done.returncode != 0:
            return [("metafor (Rscript failed)", float("nan"), done.stderr[-200:])], ""
        rows = []
        for line in done.stdout.splitlines():
            _, version, method, _, seconds, _, failed = line.split()
            rows.append(
                (
                    f"metafor {version} rma() loop, {method}",
                    float(seconds),
                    f"estimate and all fields; {failed} failed to converge",
                )
            )
        tight = np.genfromtxt(f"{tmp}/metafor_reml_tight.csv", delimiter=",", skip_header=1)
    ours = meta_analysis_batch(y[:, :1000], v[:, :1000], method="REML")
    ok = np.isfinite(tight[:, 0])
    gap_tau2 = np.max(np.abs(ours.tau2[ok] - tight[ok, 0]))
    gap_est = np.max(np.abs(ours.estimate[ok] - tight[ok, 1]))
    note = (
        f"accuracy vs metafor REML (threshold 1e-12) on {int(ok.sum())} of the first "
        f"1,000 data sets: max |tau2 difference| {gap_tau2:.2e}, "
        f"max |estimate difference| {gap_est:.2e}"
    )
    return rows, note


def main() -> None:
    y, v = simulate()
    rows: list[tuple[str, float, str]] = []
    for method in ("DL", "REML"):
        t, res = best_of(lambda m=method: meta_analysis_batch(y, v, method=m))
        bad = int((~res.converged).sum())
        rows.append(
            (
                f"metasift batch {method}",
                t,
                f"every field (CI, PI, Q, I2, SEs); {bad} not converged",
            )
        )
    t, res = best_of(lambda: meta_analysis_batch(y, v, method="REML", test="knha"))
    rows.append(("metasift batch REML + knha", t, "every field"))
    start = time.perf_counter()
    for j in range(D):
        meta_analysis(y[:, j], v[:, j])
    rows.append(("metasift loop of meta_analysis (REML)", time.perf_counter() - start, ""))
    rows.append(statsmodels_row(y, v))
    rows.extend(pymare_rows(y, v))
    r_rows, accuracy = metafor_rows(y, v)
    rows.extend(r_rows)

    print(f"{D:,} meta-analyses of k = {K} (seed {SEED})\n")
    print(f"| {'what':<48} | {'seconds':>9} | notes |")
    print(f"|{'-' * 50}|{'-' * 11}|-------|")
    for name, seconds, note in rows:
        print(f"| {name:<48} | {seconds:9.4f} | {note} |")
    ms = single_call_ms(y, v)
    print(f"\nsingle meta_analysis call (k = {K}, REML, every field): {ms:.3f} ms")
    if accuracy:
        print(accuracy)


if __name__ == "__main__":
    main()
