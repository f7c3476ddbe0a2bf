"""The HTML report of a review: one self-contained file that reads like the methods and
results of a systematic review.

:func:`render_report` returns the page; :func:`write_report` writes it, by default to
``output/report.html`` in the review folder. The page holds everything it shows: the style
sheet is inline, every figure is inline SVG (text drawn as glyph outlines, so it looks
the same without the fonts), and it has no scripts and no external resources, so it can
be mailed, archived or printed as it is. Sections: methods written from the protocol,
the PRISMA 2020 flow diagram, the included studies (categories, characteristics, data
availability), risk of bias, one section per outcome (results paragraph, forest plot
with subgroups, funnel plot, pooled-effects table), sensitivity analyses, publication
bias, and the software with its versions.

The same review folder gives the same bytes: figures use a fixed SVG hash salt and no
date, and the page has no timestamp.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

from metasift.report._methods import methods_paragraphs, software_versions
from metasift.report._outcomes import main_effects_table, outcome_sections
from metasift.report._prisma import prisma_section
from metasift.report._rob import rob_section
from metasift.report._robustness import robustness_section
from metasift.report._studies import studies_section
from metasift.report._svg import SvgFigures
from metasift.review.project import Review
from metasift.synthesis import SynthesisResults

__all__ = ["render_report", "write_report"]

_CONTENTS = (
    ("methods", "Methods"),
    ("selection", "Study selection"),
    ("characteristics", "Study characteristics"),
    ("risk-of-bias", "Risk of bias"),
    ("outcomes", "Effects of the intervention"),
    ("sensitivity", "Sensitivity analyses"),
    ("publication-bias", "Publication bias"),
    ("software", "Software"),
)


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("metasift.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _context(review: Review, results: SynthesisResults) -> dict[str, Any]:
    figures = SvgFigures()
    protocol = review.protocol
    studies = results.studies()
    in_ma = int(studies["study"].nunique()) if "study" in studies else None
    tables = {}
    for synthesis in results.outcomes.values():
        tables.setdefault(synthesis.outcome, synthesis.table)
    sections = outcome_sections(results.outcomes, protocol, figures)
    contents = [
        (key, name, [(s.key, s.title) for s in sections] if key == "outcomes" else [])
        for key, name in _CONTENTS
    ]
    software = software_versions()
    return {
        "title": protocol.review.title,
        "question": protocol.review.question,
        "registration": protocol.review.registration,
        "version": software[0][1],
        "contents": contents,
        "methods": methods_paragraphs(protocol, review.appraisal_tool, results.plan),
        "prisma": prisma_section(review, figures, in_ma or None),
        "studies": studies_section(review, tables),
        "rob": rob_section(review, figures),
        "outcomes": sections,
        "main_effects": main_effects_table(results.outcomes, results.plan.level),
        "robustness": robustness_section(results.outcomes, results.plan.level),
        "software": software,
        # Last: the glyphs of every figure drawn above.
        "glyphs": figures.glyph_defs(),
    }


def render_report(review: Review, results: SynthesisResults) -> str:
    """The HTML report of a review and its synthesis, as one self-contained page.

    Parameters
    ----------
    review : Review
        The open review (protocol, store, folder).
    results : SynthesisResults
        :func:`metasift.synthesis.run_analysis` of the same review.

    Returns
    -------
    str
        The HTML document (UTF-8 text).

    Warns
    -----
    DataWarning
        PRISMA counts that do not add up, or unknown variables in ``prisma.csv``; the
        report shows them as notes too.

    Notes
    -----
    Every number is formatted by :mod:`metasift.report._format`: two decimals for effects,
    p-values as ``p<0.001`` / ``p=0.004`` / ``p=0.02``, I² as a whole percentage,
    participants with thousands separators. The results sentences follow the reference
    review: significance at 0.05, Cohen's (1988) labels for standardised mean
    differences, heterogeneity substantial when I² > 50% and the Q test's p < 0.1.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from metasift.review import Review
    >>> from metasift.synthesis import run_analysis
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> Review.create(folder, title="Peer support").close()
    >>> toml = folder / "review.toml"
    >>> text = toml.read_text().replace("[outcomes]", "[outcomes.recovery]")
    >>> text = text.replace("[characteristics]", '[characteristics]\\ncoders = ["ann"]')
    >>> _ = toml.write_text(text)
    >>> with Review.open(folder) as review:
    ...     for study, g in (("Ames 2001", 0.1), ("Baker 2005", 0.35), ("Chen 2010", -0.05)):
    ...         _ = review.add_study(study)
    ...         _ = review.extract_effect("ann", study, "recovery", g, 0.03)
    ...     page = render_report(review, run_analysis(review))
    >>> page.startswith("<!DOCTYPE html>"), "<script" in page, page.count('<svg id="')
    (True, False, 1)
    """
    return _environment().get_template("report.html.j2").render(**_context(review, results))


def write_report(review: Review, results: SynthesisResults, path: str | Path | None = None) -> Path:
    """Write :func:`render_report` to ``path`` (default ``output/report.html`` in the
    review folder) and return the path written.

    Examples
    --------
    See :func:`render_report`; ``write_report(review, results)`` writes the same page to
    ``review.folder / "output" / "report.html"``.
    """
    target = Path(path) if path is not None else Path(review.folder) / "output" / "report.html"
    page = render_report(review, results)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Bytes, not text: no platform newline translation, so reruns are byte-identical.
    target.write_bytes(page.encode("utf-8"))
    return target
