"""Risk-of-bias appraisal: per-appraiser domain judgements with support text, consensus,
overall ratings by the tool's rule, the robvis CSV layout and quality counts per category.

Judgements are study events of kind ``appraisal`` (see
:mod:`metasift.review.classification`); the item is ``TOOL:DOMAIN`` (so that a change of
tool never mixes judgements) or ``TOOL:limitation`` for the known important limitation of
the AHRQ conversion.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from metasift.errors import InputError
from metasift.review.appraisal_tools import (
    AppraisalTool,
    appraisal_tool,
    custom_tool,
    worst_overall,
)
from metasift.review.protocol import Protocol

__all__ = [
    "appraisal_items",
    "judgement_table",
    "protocol_tool",
    "quality_counts",
    "robvis_frame",
    "write_robvis",
]

LIMITATION = "limitation"


def protocol_tool(protocol: Protocol) -> AppraisalTool:
    """The tool named by ``[risk_of_bias] tool``, built-in or defined in the protocol."""
    own = {
        name: custom_tool(name, spec.domains, spec.judgements, spec.overall, name, spec.reference)
        for name, spec in protocol.risk_of_bias.tools.items()
    }
    return appraisal_tool(protocol.risk_of_bias.tool, own)


def appraisal_items(
    tool: AppraisalTool,
    judgements: Mapping[str, str],
    support: Mapping[str, str] | None = None,
    important_limitation: bool | None = None,
) -> dict[str, tuple[Any, str]]:
    """Validated events (item -> (judgement, support text)) of one appraisal."""
    support = dict(support or {})
    extra = sorted(set(support) - set(judgements) - {LIMITATION})
    if extra:
        raise InputError(f"support given for {extra}, which are not judged here")
    items: dict[str, tuple[Any, str]] = {}
    for domain, value in judgements.items():
        items[f"{tool.key}:{domain}"] = (
            tool.check_judgement(domain, value),
            str(support.get(domain, "")),
        )
    if important_limitation is not None:
        items[f"{tool.key}:{LIMITATION}"] = (
            bool(important_limitation),
            str(support.get(LIMITATION, "")),
        )
    return items


def judgement_table(status: pd.DataFrame, tool: AppraisalTool, studies: list[str]) -> pd.DataFrame:
    """Final judgements, one row per study: a column per domain, ``limitation``,
    ``overall`` (the tool's rule, or empty while a domain is unsettled) and ``complete``."""
    prefix = f"{tool.key}:"
    mine = status[status["item"].str.startswith(prefix)]
    wide = (
        mine.assign(item=mine["item"].str.removeprefix(prefix))
        .pivot(index="study", columns="item", values="final")
        .reindex(index=studies)
    )
    domains = [d.key for d in tool.domains]
    table = wide.reindex(columns=[*domains, LIMITATION])
    table[LIMITATION] = table[LIMITATION].map(lambda v: bool(v) if isinstance(v, bool) else False)
    complete = table[domains].notna().all(axis=1)
    overall = []
    for study, row in table.iterrows():
        if not complete[study] or tool.overall is None:
            overall.append(None)
        else:
            overall.append(tool.rate(row[domains].to_dict(), bool(row[LIMITATION])))
    table = table.assign(overall=overall, complete=complete)
    table.index.name = "study"
    return table.reset_index()


def robvis_frame(table: pd.DataFrame, tool: AppraisalTool) -> pd.DataFrame:
    """The robvis layout: ``Study``, one column per domain (full names), ``Overall`` (the
    worst domain judgement for tools whose rule is not a risk level) and ``Weight``."""
    domains = [d.key for d in tool.domains]
    if table.empty:
        raise InputError("robvis table: no study is appraised")
    pending = table.loc[~table["complete"].astype(bool), "study"].tolist()
    if pending:
        raise InputError(f"robvis table: studies {pending} have domains without a judgement")
    out = pd.DataFrame({"Study": table["study"]})
    for domain in tool.domains:
        out[domain.name] = table[domain.key].map(_robvis_label)
    if tool.ratings and tool.ratings[0] == "low":
        overall = table["overall"]
    else:
        overall = table[domains].apply(lambda r: worst_overall(r.to_dict()), axis=1)
    out["Overall"] = overall.map(_robvis_label)
    out["Weight"] = 1
    return out


def _robvis_label(value: str) -> str:
    text = str(value)
    return "Some concerns" if text == "some concerns" else text[:1].upper() + text[1:]


def write_robvis(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a robvis-layout table as CSV."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)
    return target


def quality_counts(ratings: pd.Series, codes: pd.Series, levels: tuple[str, ...]) -> pd.DataFrame:
    """Counts of each overall rating per category: rows are categories plus ``All``.

    Parameters
    ----------
    ratings : Series
        Overall rating by study (NaN for studies not yet rated, left out).
    codes : Series
        Category by study.
    levels : tuple of str
        Ratings in order (columns).

    Examples
    --------
    >>> r = pd.Series({"a": "good", "b": "poor", "c": "fair"})
    >>> c = pd.Series({"a": "online", "b": "online", "c": "added"})
    >>> quality_counts(r, c, ("good", "fair", "poor")).loc["online"].tolist()
    [1, 0, 1, 2]
    """
    frame = pd.DataFrame({"rating": ratings, "category": codes.reindex(ratings.index)})
    frame = frame.dropna()
    table = pd.crosstab(frame["category"], frame["rating"]).reindex(columns=list(levels))
    table = table.fillna(0).astype(int)
    table.loc["All"] = table.sum()
    table["n"] = table.sum(axis=1)
    table.index.name = "category"
    return table
