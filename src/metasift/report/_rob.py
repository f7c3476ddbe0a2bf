"""The risk-of-bias section: the traffic-light and summary figures of the final judgements,
the overall ratings in words, and the overall ratings counted per category of every
classification facet (:meth:`Review.quality_counts`).

A tool assessed per study (the modified Cochrane tool) gives one part; a tool assessed
per study and outcome (RoB 2) gives one part per outcome, each with its own figures and
counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metasift.errors import InputError
from metasift.plots import rob_summary, rob_table, rob_traffic_light
from metasift.plots.robtools import RobTable
from metasift.report._blocks import Figure, Table, TableRow, humanise
from metasift.report._format import share
from metasift.report._methods import join_words
from metasift.report._studies import outcome_label
from metasift.report._svg import SvgFigures
from metasift.review.appraisal import quality_counts, robvis_frame
from metasift.review.appraisal_tools import AppraisalTool
from metasift.review.project import Review

__all__ = ["RobPart", "RobSection", "rob_section"]

_WORDS = {
    "low": "{verb} at low risk of bias",
    "some concerns": "raised some concerns",
    "high": "{verb} at high risk of bias",
    "unclear": "{verb} at unclear risk of bias",
    "good": "{verb} of good quality",
    "fair": "{verb} of fair quality",
    "poor": "{verb} of poor quality",
}


@dataclass(frozen=True)
class RobPart:
    """The appraisal of one outcome (``title`` empty for a tool assessed per study)."""

    key: str
    title: str
    text: str
    figures: tuple[Figure, ...]
    quality: Table | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class RobSection:
    """What the report shows of the risk-of-bias appraisal."""

    text: str
    parts: tuple[RobPart, ...]


def _plot_table(judged: pd.DataFrame, tool: AppraisalTool) -> RobTable:
    frame = robvis_frame(judged.drop(columns="outcome", errors="ignore"), tool)
    # robvis knows RoB 2 by its domains; any other tool is drawn as robvis' generic
    # template, whose domains are the table's columns.
    return rob_table(frame, "ROB2" if tool.key == "rob2" else "Generic")


def _ratings_text(overall: pd.Series, tool: AppraisalTool, what: str) -> str:
    """``Of the 21 studies appraised for clinical recovery, 3 were at low risk of bias, 4
    raised some concerns and 14 were at high risk of bias.``"""
    counts = overall.value_counts()
    levels = tool.ratings or tool.judgements
    parts = []
    for level in levels:
        n = int(counts.get(level, 0))
        if n:
            words = _WORDS.get(level, "{verb} rated " + level)
            parts.append(f"{n} " + words.format(verb="was" if n == 1 else "were"))
    k = len(overall)
    head = f"Of the {k} stud{'ies' if k != 1 else 'y'} appraised{what}"
    return f"{head}, {join_words(parts)}." if parts else f"{head}, none has an overall rating."


def _quality_cell(n: int, total: int) -> str:
    return f"{n} ({share(n, total)})" if total else str(n)


def _quality_table(
    review: Review,
    tool: AppraisalTool,
    overall: pd.Series,
    key: str,
    outcome: str | None,
    codes: pd.DataFrame,
) -> Table | None:
    ratings = list(tool.ratings or tool.judgements)
    if not ratings:
        return None
    total = len(overall)
    first = [_quality_cell(int((overall == r).sum()), total) for r in ratings]
    rows: list[TableRow] = [TableRow(("All studies", *first, str(total)), "total")]
    for facet, spec in review.protocol.classification.facets.items():
        # Review.quality_counts(facet, outcome) counts the same; its table is fetched once
        # here for every facet and outcome.
        counts = quality_counts(overall, codes[facet], tuple(ratings))
        counts = counts.drop(index="All", errors="ignore")
        order = [c for c in spec.categories if c in counts.index]
        rows.append(TableRow((humanise(facet),), "group"))
        for category, row in counts.reindex(order).iterrows():
            n = int(row["n"])
            cells = [_quality_cell(int(row[r]), n) for r in ratings]
            rows.append(TableRow((str(category), *cells, str(n))))
    what = f" for {outcome_label(outcome)}" if outcome else ""
    return Table.build(
        f"{key}-quality",
        f"Overall risk-of-bias judgements{what} ({tool.name}) by category",
        ["Category", *[r.capitalize() for r in ratings], "Studies"],
        rows,
        [False, *[True] * (len(ratings) + 1)],
        "Counts of studies with a complete appraisal; percentages of the row's studies.",
    )


def _figures(
    judged: pd.DataFrame, tool: AppraisalTool, key: str, what: str, figures: SvgFigures
) -> tuple[list[Figure], list[str]]:
    try:
        plot_table = _plot_table(judged, tool)
    except InputError as error:
        return [], [f"The risk-of-bias figures could not be drawn: {error}"]
    worst = (
        ""
        if tool.ratings and tool.ratings[0] == "low"
        else " The overall column is the worst domain judgement; the tool's own overall "
        "ratings are counted in the table."
    )
    light = rob_traffic_light(plot_table)
    summary = rob_summary(plot_table, overall=True, weighted=False)
    return [
        Figure(
            f"{key}-traffic-light",
            f"Risk of bias of each study by domain{what} ({tool.name}).{worst}",
            figures.inline(light, f"{key}-traffic-light", f"Traffic-light plot{what}"),
        ),
        Figure(
            f"{key}-summary",
            f"Share of studies per risk-of-bias judgement and domain{what} ({tool.name}).",
            figures.inline(summary, f"{key}-summary", f"Risk-of-bias summary plot{what}"),
        ),
    ], []


def _part(
    review: Review,
    table: pd.DataFrame,
    outcome: str | None,
    figures: SvgFigures,
    codes: pd.DataFrame,
) -> RobPart:
    tool = review.appraisal_tool
    key = "rob" if outcome is None else f"rob-{outcome.replace('_', '-')}"
    what = f" for {outcome_label(outcome)}" if outcome else ""
    judged = table[table["complete"].astype(bool)]
    notes: list[str] = []
    if len(judged) < len(table):
        notes.append(
            f"{len(table) - len(judged)} of {len(table)} appraisals{what} have domains "
            "without a final judgement and are left out."
        )
    title = humanise(outcome_label(outcome)) if outcome else ""
    if judged.empty:
        text = f"No study has a complete risk-of-bias appraisal{what}."
        return RobPart(key, title, text, (), None, tuple(notes))
    overall = judged.set_index("study")["overall"].dropna()
    figs, more = _figures(judged, tool, key, what, figures)
    quality = _quality_table(review, tool, overall, key, outcome, codes)
    text = _ratings_text(overall, tool, what)
    return RobPart(key, title, text, tuple(figs), quality, tuple(notes + more))


def rob_section(review: Review, figures: SvgFigures) -> RobSection:
    """The risk-of-bias section from the review's final judgements."""
    tool = review.appraisal_tool
    table = review.appraisal_table()
    if table.empty:
        return RobSection("No study has been appraised for risk of bias.", ())
    codes = review.classification_table()
    if not tool.per_outcome:
        return RobSection("", (_part(review, table, None, figures, codes),))
    parts = [
        _part(review, table[table["outcome"] == outcome], outcome, figures, codes)
        for outcome in review.protocol.outcomes
        if (table["outcome"] == outcome).any()
    ]
    text = (
        f"Risk of bias was judged with {tool.name} for each study and outcome, so each "
        "outcome has its own figures and counts."
    )
    return RobSection(text, tuple(parts))
