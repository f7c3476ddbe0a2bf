"""Write every figure of the worked example into docs/gallery/ (PNG and SVG) and time it.

Worked example: Smit et al. 2022 (peer support for people with mental illness), the three
outcome files in tests/data/peer-support/, pooled as published: Hedges' g (``g``, ``g_se``),
REML tau^2, Hartung-Knapp intervals (``test="knha"``). The review's own risk-of-bias
judgements are not available as data, so the risk-of-bias figures use robvis' example
tables (tests/data/plots/robvis/, synthetic); the PRISMA diagram shows the counts the
article's abstract reports (3,455 records screened, 30 trials included, 28 meta-analysed)
and marks the others as not reported.

Usage: ``python benchmarks/gallery.py [output folder]`` (default: docs/gallery).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from metasift.plots import (
    forest_plot,
    funnel_plot,
    prisma_flow,
    read_rob_table,
    rob_summary,
    rob_traffic_light,
    save,
)
from metasift.stats import meta_analysis

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "tests" / "data" / "peer-support"
ROBVIS = ROOT / "tests" / "data" / "plots" / "robvis"
OUTCOMES = ("clinical", "personal", "functional")
FAVOURS = ("Favours control", "Favours peer support")


def _outcome(name: str) -> tuple[pd.DataFrame, Any]:
    data = pd.read_csv(PEER / f"smit2022_{name}_recovery.csv")
    res = meta_analysis(
        data["g"], sei=data["g_se"], slab=data["study"], method="REML", test="knha", measure="SMD"
    )
    return data, res


def _forest(name: str) -> Any:
    data, res = _outcome(name)
    arms = pd.DataFrame(
        {
            "m1i": data["mean_ps"],
            "sd1i": data["sd_ps"],
            "n1i": data["n_ps"],
            "m2i": data["mean_ctrl"],
            "sd2i": data["sd_ctrl"],
            "n2i": data["n_ctrl"],
        }
    )
    return forest_plot(
        res,
        arms=arms,
        arm_labels=("Peer support", "Control"),
        columns={"Control": data["comparator"]},
        favours=FAVOURS,
        effect_label="Hedges' g",
        title=f"{name.capitalize()} recovery",
    )


def _figures() -> dict[str, Callable[[], Any]]:
    figures: dict[str, Callable[[], Any]] = {}
    for name in OUTCOMES:
        figures[f"forest_{name}"] = lambda name=name: _forest(name)
        figures[f"funnel_{name}"] = lambda name=name: funnel_plot(
            _outcome(name)[1], xlabel="Hedges' g"
        )
        figures[f"funnel_{name}_contour"] = lambda name=name: funnel_plot(
            _outcome(name)[1], contour=True, xlabel="Hedges' g"
        )
    rob2 = read_rob_table(ROBVIS / "data_rob2.csv", "ROB2")
    rob1 = read_rob_table(ROBVIS / "data_rob1.csv", "ROB1")
    figures["rob2_traffic_light"] = lambda: rob_traffic_light(rob2)
    figures["rob2_summary"] = lambda: rob_summary(rob2, overall=True)
    figures["rob1_traffic_light"] = lambda: rob_traffic_light(rob1)
    figures["rob1_summary"] = lambda: rob_summary(rob1, overall=True)
    figures["prisma_flow"] = lambda: prisma_flow(
        {"records_screened": 3455, "new_studies": 30, "total_studies_ma": 28}
    )
    return figures


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    print(f"{'figure':<26} {'inches':>12} {'draw s':>7} {'write s':>8}")
    for stem, make in _figures().items():
        start = time.perf_counter()
        fig = make()
        drawn = time.perf_counter()
        for ext in ("png", "svg"):
            save(fig, out / f"{stem}.{ext}")
        written = time.perf_counter()
        figure = getattr(fig, "figure", fig)
        w, h = figure.get_size_inches()
        size = f"{w:.1f} x {h:.1f}"
        print(f"{stem:<26} {size:>12} {drawn - start:7.2f} {written - drawn:8.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "gallery")
