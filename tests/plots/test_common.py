"""Saving, text measurement and number formats shared by all figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.image import imread

from metasift.errors import InputError
from metasift.plots import save
from metasift.plots._common import (
    FONT_SIZE,
    fmt_num,
    fmt_p,
    inch_canvas,
    new_figure,
    text_extent,
    wrap_text,
)


def test_save_writes_each_format_by_extension(tmp_path: Path) -> None:
    fig = new_figure(2.0, 1.5)
    fig.text(0.5, 0.5, "metasift")
    svg = save(fig, tmp_path / "f.svg")
    pdf = save(fig, tmp_path / "f.PDF")
    png = save(fig, tmp_path / "f.png")
    assert "<svg" in svg.read_text()
    assert pdf.read_bytes().startswith(b"%PDF")
    assert imread(png).shape[:2] == (450, 600)  # 1.5 x 2 inches at 300 dpi


def test_save_is_reproducible(tmp_path: Path) -> None:
    fig = new_figure(2.0, 1.5)
    fig.text(0.5, 0.5, "same bytes")
    first = save(fig, tmp_path / "a.svg").read_bytes()
    second = save(fig, tmp_path / "b.svg").read_bytes()
    assert first == second


def test_save_rejects_other_extensions(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"'\.jpg' is not supported; use one of \.pdf, \.png"):
        save(new_figure(1, 1), tmp_path / "f.jpg")
    with pytest.raises(InputError, match="expected a matplotlib Figure"):
        save("not a figure", tmp_path / "f.png")


def test_import_selects_no_backend() -> None:
    code = (
        "import matplotlib, sys; import metasift.plots; "
        "sys.exit(0 if 'matplotlib.pyplot' not in sys.modules else 1)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_text_extent_grows_with_text_and_lines() -> None:
    short, h1 = text_extent("Cook")
    long, _ = text_extent("Cook 2012, a longer label")
    _, h2 = text_extent("two\nlines")
    assert 0 < short < long
    assert h2 == pytest.approx(2 * h1)
    assert text_extent("Bold", weight="bold")[0] > text_extent("Bold")[0]


def test_text_extent_matches_the_renderer() -> None:
    fig, ax = inch_canvas(4.0, 1.0)
    label = "van Gestel-Timmermans, 2012"
    text = ax.text(0.1, 0.5, label, fontsize=FONT_SIZE)
    fig.canvas.draw()
    drawn = text.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi
    measured = text_extent(label)[0]
    # The layout's measure may be a little wider than the drawing (slack), never narrower.
    assert drawn <= measured <= drawn * 1.08


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(
        st.text(alphabet="abcdefghij XYZ(),=0123", min_size=1, max_size=14), max_size=12
    ),
    width=st.floats(min_value=0.4, max_value=3.0),
)
def test_wrapped_lines_fit_the_width(words: list[str], width: float) -> None:
    text = " ".join(w.strip() for w in words if w.strip())
    wrapped = wrap_text(text, width)
    for line in wrapped.split("\n"):
        assert text_extent(line)[0] <= width or len(line) == 1
    assert wrapped.replace("\n", "").replace(" ", "") == text.replace(" ", "")


def test_wrap_keeps_short_parentheticals_together() -> None:
    assert wrap_text("Cochrane Library (n = 1,161)", 1.2) == "Cochrane Library\n(n = 1,161)"


def test_number_formats() -> None:
    assert fmt_num(-0.0049) == "0.00"  # no sign on a value that rounds to zero
    assert fmt_num(-1.234, 1) == "\u22121.2"
    assert fmt_num(float("inf")) == "NA"
    assert [fmt_p(p) for p in (0.5, 0.0264, 0.0099, 0.00099)] == [
        "P = 0.50",
        "P = 0.03",
        "P = 0.010",
        "P < 0.001",
    ]
