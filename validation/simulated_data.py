"""Write validation/simulated_data.csv: small simulated meta-analyses for the ML/REML check.

1,000 data sets of k = 7 (seed 99; variances uniform on [0.001, 0.08], true tau^2 drawn
from {0, 0.005, 0.02}), plus two k = 20 data sets of benchmarks/batch.py (columns 1116 and
3574 of its seed) on which a Newton step once left metafor's mode. Columns: set, study, yi,
vi. validation/simulated_reference.R fits them with metafor; tests compare with its JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def main() -> None:
    rng = np.random.default_rng(99)
    v = rng.uniform(0.001, 0.08, (7, 1000))
    y = rng.normal(0.0, np.sqrt(v + rng.choice([0.0, 0.005, 0.02], 1000)))
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    from batch import simulate

    y20, v20 = simulate()
    frames = [
        pd.DataFrame({"set": f"k7_{j}", "study": np.arange(1, 8), "yi": y[:, j], "vi": v[:, j]})
        for j in range(1000)
    ]
    for j in (1116, 3574):
        frames.append(
            pd.DataFrame(
                {"set": f"k20_{j}", "study": np.arange(1, 21), "yi": y20[:, j], "vi": v20[:, j]}
            )
        )
    pd.concat(frames).to_csv(HERE / "simulated_data.csv", index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
