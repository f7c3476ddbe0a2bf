"""Write every figure of the worked example into docs/gallery/ (PNG and SVG) and time it.

Worked example: Smit et al. 2022 (peer support for people with mental illness), the three
outcome files in tests/data/peer-support/, pooled as published: Hedges' g (``g``, ``g_se``),
REML tau^2, Hartung-Knapp intervals (``test="knha"``). Rogers 2016's two comparisons (high
and low support) are labelled as such. The subgroup forest plots split each outcome by the
control condition (column ``comparator``: care as usual, waiting list, other); the article
does not pre-specify that split, so the figures label it post hoc. The funnel plots with
trim and fill and with Egger's regression line use the same model (REML, Hartung-Knapp).
The review's own risk-of-bias judgements are not available as data, so the risk-of-bias
figures use robvis' example tables (tests/data/plots/robvis/, synthetic); the PRISMA diagram
shows the counts the article's abstract reports (3,455 records screened, 30 trials
included, 28 meta-analysed) and marks the others as not reported.

The gallery is kept under version control, so its PNG files are written at 200 dpi with a
256-colour palette (a forest plot takes under 200 KB instead of 500-800 KB);
``metasift.plots.save`` writes full-colour 300 dpi PNGs. The table's last column is the
largest difference of any pixel's colour channel (0-255) between the palette PNG and the
full-colour rendering. SVG files are written by ``save``.

Usage: ``python benchmarks/gallery.py [output folder]`` (default: docs/gallery).
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image

from metasift.plots import (
    forest_plot,
    funnel_plot,
    prisma_flow,
    read_rob_table,
    rob_summary,
    rob_traffic_light,
    save,
)
from metasift.stats import egger_test, meta_analysis, subgroup_analysis, trim_and_fill

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / "tests" / "data" / "peer-support"
ROBVIS = ROOT / "tests" / "data" / "plots" / "robvis"
OUTCOMES = ("clinical", "personal", "functional")
FAVOURS = ("Favours control", "Favours peer support")
# The dataset's codes of the control condition, spelled out, in the order the figures show.
COMPARATORS = {"CAU": "Care as usual (CAU)", "WL": "Waiting list (WL)", "Other": "Other control"}
MODEL = {"method": "REML", "test": "knha"}
PNG_DPI = 200
PNG_COLOURS = 256


def _labels(data: pd.DataFrame) -> pd.Series:
    """Study labels; Rogers 2016's two comparisons are told apart by their support arm."""
    arm = data["instrument"].str.extract(r"\b(high|low)\b", expand=False)
    twin = data["study"].duplicated(keep=False) & arm.notna()
    return data["study"].where(~twin, data["study"] + " (" + arm + " support)")


def _outcome(name: str) -> tuple[pd.DataFrame, Any]:
    data = pd.read_csv(PEER / f"smit2022_{name}_recovery.csv")
    data["label"] = _labels(data)
    res = meta_analysis(data["g"], sei=data["g_se"], slab=data["label"], measure="SMD", **MODEL)
    return data, res


def _arms(data: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "m1i": data["mean_ps"],
            "sd1i": data["sd_ps"],
            "n1i": data["n_ps"],
            "m2i": data["mean_ctrl"],
            "sd2i": data["sd_ctrl"],
            "n2i": data["n_ctrl"],
        }
    )


def _forest(name: str) -> Any:
    data, res = _outcome(name)
    return forest_plot(
        res,
        arms=_arms(data),
        arm_labels=("Peer support", "Control"),
        columns={"Control": data["comparator"]},
        favours=FAVOURS,
        effect_label="Hedges' g",
        title=f"{name.capitalize()} recovery",
    )


def _forest_by_comparator(name: str) -> Any:
    data, _ = _outcome(name)
    comparator = pd.Categorical(
        data["comparator"].map(COMPARATORS), categories=list(COMPARATORS.values())
    )
    sub = subgroup_analysis(
        data["g"],
        sei=data["g_se"],
        slab=data["label"],
        groups=pd.Series(comparator, name="comparator"),
        prespecified=False,
        **MODEL,
    )
    return forest_plot(
        sub,
        arms=_arms(data),
        arm_labels=("Peer support", "Control"),
        favours=FAVOURS,
        effect_label="Hedges' g",
        title=f"{name.capitalize()} recovery by control condition (post hoc subgroups)",
    )


def _funnel_trimfill(name: str) -> Any:
    data, res = _outcome(name)
    filled = trim_and_fill(data["g"], sei=data["g_se"], slab=data["label"], **MODEL)
    return funnel_plot(res, trimfill=filled, xlabel="Hedges' g")


def _funnel_egger(name: str) -> Any:
    data, res = _outcome(name)
    egger = egger_test(data["g"], sei=data["g_se"], slab=data["label"], **MODEL)
    return funnel_plot(res, egger=egger, xlabel="Hedges' g")


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
        figures[f"forest_{name}_comparator"] = lambda name=name: _forest_by_comparator(name)
        figures[f"funnel_{name}_trimfill"] = lambda name=name: _funnel_trimfill(name)
        figures[f"funnel_{name}_egger"] = lambda name=name: _funnel_egger(name)
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


def _write_png(figure: Figure, path: Path) -> int:
    """Write a PNG at PNG_DPI with a palette; return the largest colour error (0-255).

    Maximum-coverage quantisation keeps rare colours (a short red prediction bar, a few
    traffic-light dots) that median cut would merge into the grey ramps of the text.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    buffer.seek(0)
    with Image.open(buffer) as image:
        rgb = image.convert("RGB")
    quantised = rgb.quantize(
        colors=PNG_COLOURS, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE
    )
    quantised.save(path, format="png", optimize=True)
    error = np.abs(np.asarray(quantised.convert("RGB"), dtype=int) - np.asarray(rgb, dtype=int))
    return int(error.max())


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"{'figure':<30} {'inches':>13} {'draw s':>7} {'write s':>8} {'PNG KB':>7} "
        f"{'SVG KB':>7} {'PNG err':>8}"
    )
    for stem, make in _figures().items():
        start = time.perf_counter()
        fig = make()
        drawn = time.perf_counter()
        figure = getattr(fig, "figure", fig)
        error = _write_png(figure, out / f"{stem}.png")
        save(figure, out / f"{stem}.svg")
        written = time.perf_counter()
        w, h = figure.get_size_inches()
        size = f"{w:.1f} x {h:.1f}"
        kb = [(out / f"{stem}.{ext}").stat().st_size / 1024 for ext in ("png", "svg")]
        print(
            f"{stem:<30} {size:>13} {drawn - start:7.2f} {written - drawn:8.2f} "
            f"{kb[0]:7.0f} {kb[1]:7.0f} {error:8d}"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "gallery")
