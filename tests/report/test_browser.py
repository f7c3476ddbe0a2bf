"""The HTML report in a real browser: Debian's Chromium, driven by Playwright (the Python
package only; its own browser download is not used, `make chromium` installs Chromium).

The page is opened from a file:// URL and must render every section and figure (SVG with
a size, glyphs drawn), log no console message, make no request but for the file itself,
and fit the window's width. Full-page and per-figure screenshots are written to the test's
temporary folder (printed with ``pytest -s``) for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECTIONS = (
    "methods",
    "selection",
    "characteristics",
    "availability",
    "risk-of-bias",
    "outcomes",
    "sensitivity",
    "publication-bias",
    "software",
)
#: PRISMA, two risk-of-bias figures and a forest and funnel plot per outcome.
FIGURES = 13

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason=f"Chromium is missing ({CHROMIUM}): run `make chromium` (apt-get install chromium)",
)


def _open(playwright: Any, path: Path, width: int) -> tuple[Any, Any, list[str], list[str]]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    page = browser.new_page(viewport={"width": width, "height": 900})
    messages: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"page error: {error}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri(), wait_until="load")
    return browser, page, messages, requests


def _figure_boxes(page: Any) -> list[dict[str, Any]]:
    return page.eval_on_selector_all(
        "svg.figure",
        """figures => {
            const shared = new Set(
                [...document.querySelectorAll('svg.glyphs path')].map(path => path.id));
            return figures.map(svg => {
                const box = svg.getBoundingClientRect();
                const glyph = [...svg.querySelectorAll('use')]
                    .find(use => shared.has(use.getAttribute('href').slice(1)));
                return {id: svg.id, width: box.width, height: box.height,
                        glyph: glyph ? glyph.getBBox().width : 0};
            });
        }""",
    )


def test_the_report_renders_in_chromium(peer_html: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    path = tmp_path / "report.html"
    path.write_bytes(peer_html.encode("utf-8"))
    with sync_playwright() as playwright:
        browser, page, messages, requests = _open(playwright, path, 1280)
        try:
            for key in SECTIONS:
                box = page.locator(f"#{key}").bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0, key
            figures = _figure_boxes(page)
            assert len(figures) == FIGURES
            for figure in figures:
                assert figure["width"] > 100 and figure["height"] > 100, figure
                assert figure["glyph"] > 0, f"{figure['id']}: its text is not drawn"
            for summary in page.locator("details > summary").all():
                summary.click()  # open the notes and tables behind a summary
            assert page.locator("#table-leave-one-out").bounding_box()["height"] > 0
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
            page.screenshot(path=str(tmp_path / "report-full.png"), full_page=True)
            for figure in figures:
                target = tmp_path / f"figure-{figure['id']}.png"
                page.locator(f"#figure-{figure['id']}").screenshot(path=str(target))
        finally:
            browser.close()
    print(f"screenshots in {tmp_path}")
    assert messages == []
    assert requests == [path.as_uri()]
    shot = imread(tmp_path / "report-full.png")
    assert shot.shape[1] == 1280 and shot.shape[0] > 10_000
    assert float(np.std(shot[..., :3])) > 0.05  # not a blank page


def test_the_report_fits_a_narrow_window(peer_html: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    path = tmp_path / "report.html"
    path.write_bytes(peer_html.encode("utf-8"))
    with sync_playwright() as playwright:
        browser, page, messages, _ = _open(playwright, path, 600)
        try:
            assert page.evaluate("document.documentElement.scrollWidth") <= 600
            widths = [f["width"] for f in _figure_boxes(page)]
            page.screenshot(path=str(tmp_path / "report-narrow.png"), full_page=True)
        finally:
            browser.close()
    assert messages == []
    assert max(widths) <= 600  # figures scale down with the page
