"""The main job of ``make demo``: the worked example, from its data to its report.

The worked example (examples/peer-support) is the peer-support review of Smit et al.
(2022): 28 randomised trials, three outcomes. The demo enters the study-level data into the
review's store with the example's ``build_store.py``, runs the analysis plan with
:func:`metasift.report.run.run_review`, prints the three pooled results next to the
published ones and says where the report is.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd

from metasift.errors import InputError
from metasift.report.run import RunResult, run_review

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "peer-support"
PUBLISHED = "data/smit2022_expected_pooled.csv"


def _build_script(folder: Path) -> ModuleType:
    path = folder / "build_store.py"
    if not path.exists():
        raise InputError(f"{path} is missing: the demo runs from a checkout of the repository")
    spec = importlib.util.spec_from_file_location("peer_support_build_store", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(folder: Path = EXAMPLE) -> RunResult:
    """Build the example's store from ``folder/data`` and run the review."""
    _build_script(folder).build(folder)
    return run_review(folder)


def comparison_table(result: RunResult, folder: Path = EXAMPLE) -> pd.DataFrame:
    """The pooled result of each outcome (all studies) beside the published one."""
    pooled = result.results.pooled_effects()
    main = pooled[pooled["facet"].eq("all")].set_index("group")
    published = pd.read_csv(folder / PUBLISHED).set_index("outcome")
    rows = []
    for group, row in main.iterrows():
        paper = published.loc[group]
        rows.append(
            {
                "outcome": group,
                "k": int(row["k"]),
                "g": f"{row['estimate']:.2f}",
                "95% CI": f"{row['ci_lb']:.2f} to {row['ci_ub']:.2f}",
                "I2 %": f"{100 * row['i2']:.0f}",
                "published g": f"{paper['published_g']:.2f}",
                "published CI": f"{paper['published_ci_lb']:.2f} to {paper['published_ci_ub']:.2f}",
                "published I2 %": f"{paper['published_I2_pct']:.0f}",
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    """Run the worked example and print where its outputs are."""
    result = run_example()
    print("Peer support for individuals with mental illness (Smit et al. 2022)")
    print("Random effects: REML tau^2, Hartung-Knapp-Sidik-Jonkman 95% CI, I2 from Q\n")
    print(comparison_table(result).to_string(index=False))
    print(f"\nTables: {result.output / 'tables'}")
    print(f"Report: {result.report}" if result.report else "Report: not written")


if __name__ == "__main__":
    main()
