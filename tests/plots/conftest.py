"""Shared fixtures of the figure tests: Agg backend, worked-example results, layout checks.

Layout checks use the renderer's bounding boxes of every drawn text: each must lie inside
the canvas and no two may overlap.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

# The tests draw off-screen; the package itself never selects a backend.
matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from metasift.plots import save
from metasift.stats import meta_analysis

DATA = Path(__file__).resolve().parents[1] / "data"
PEER = DATA / "peer-support"

# Renderer boxes are in pixels at the figure's dpi (100): half a pixel of slack absorbs
# antialiasing and rounding of glyph extents, nothing a reader could see.
PIXEL_SLACK = 0.5


def smit(outcome: str) -> tuple[pd.DataFrame, Any]:
    """The worked example: Smit et al. 2022, REML with Hartung-Knapp, as published."""
    data = pd.read_csv(PEER / f"smit2022_{outcome}_recovery.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = meta_analysis(
            data["g"],
            sei=data["g_se"],
            slab=data["study"],
            method="REML",
            test="knha",
            measure="SMD",
        )
    return data, res


@pytest.fixture(scope="session")
def personal() -> tuple[pd.DataFrame, Any]:
    return smit("personal")


@pytest.fixture(scope="session")
def clinical() -> tuple[pd.DataFrame, Any]:
    return smit("clinical")


@pytest.fixture(scope="session")
def functional() -> tuple[pd.DataFrame, Any]:
    return smit("functional")


def _hidden_tick_labels(fig: Figure) -> set[int]:
    hidden: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            slack = 1e-9 * max(1.0, abs(hi - lo))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not lo - slack <= loc <= hi + slack:
                    hidden.update({id(tick.label1), id(tick.label2)})
    return hidden


def drawn_texts(fig: Figure) -> list[tuple[Text, Bbox]]:
    """Every text the figure draws, with its bounding box in display pixels."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    hidden = _hidden_tick_labels(fig)
    out = []
    for text in fig.findobj(Text):
        if id(text) in hidden or not text.get_visible() or not text.get_text().strip():
            continue
        if text.axes is not None and not text.axes.get_visible():
            continue
        out.append((text, text.get_window_extent(renderer)))
    return out


def assert_clean_layout(fig: Figure) -> int:
    """Assert all texts lie inside the canvas and none overlaps another; return their count."""
    texts = drawn_texts(fig)
    width, height = fig.bbox.width, fig.bbox.height
    outside = [
        (t.get_text(), tuple(round(v, 1) for v in b.extents))
        for t, b in texts
        if b.x0 < -PIXEL_SLACK
        or b.y0 < -PIXEL_SLACK
        or b.x1 > width + PIXEL_SLACK
        or b.y1 > height + PIXEL_SLACK
    ]
    assert not outside, f"text outside the {width:.0f}x{height:.0f} canvas: {outside[:5]}"
    boxes = np.array([b.extents for _, b in texts])
    x0, y0, x1, y1 = (boxes[:, i][:, None] for i in range(4))
    hit = (
        (x0 < x1.T - PIXEL_SLACK)
        & (x1 - PIXEL_SLACK > x0.T)
        & (y0 < y1.T - PIXEL_SLACK)
        & (y1 - PIXEL_SLACK > y0.T)
    )
    np.fill_diagonal(hit, False)
    pairs = [
        (texts[i][0].get_text(), texts[j][0].get_text())
        for i, j in zip(*np.nonzero(hit), strict=True)
    ]
    assert not pairs, f"{len(pairs) // 2} overlapping text pairs, e.g. {pairs[:4]}"
    return len(texts)


@pytest.fixture
def clean_layout() -> Callable[[Figure], int]:
    return assert_clean_layout


@pytest.fixture
def write_all(tmp_path: Path) -> Callable[[Any, str], list[Path]]:
    """Write a figure as SVG, PDF and PNG into the test's tmp folder and check the files."""

    def _write(fig: Any, stem: str) -> list[Path]:
        figure = fig if isinstance(fig, Figure) else fig.figure
        paths = [save(fig, tmp_path / f"{stem}.{ext}") for ext in ("svg", "pdf", "png")]
        assert paths[0].read_text(encoding="utf-8").lstrip().startswith("<?xml")
        assert paths[1].read_bytes()[:5] == b"%PDF-"
        pixels = imread(paths[2])
        w_in, h_in = figure.get_size_inches()
        assert pixels.shape[1] == pytest.approx(w_in * 300, abs=1)
        assert pixels.shape[0] == pytest.approx(h_in * 300, abs=1)
        return paths

    return _write
