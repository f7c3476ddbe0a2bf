"""The included studies: how many, how many participants, their categories on every
classification facet, their characteristics from the extraction form, and whether their
data could be used.

Participants per study (``N``) are the randomised participants, the sum of the arms'
``n_randomised``, when every arm of the study has it; otherwise the largest comparison
analysed for any outcome (``n1i + n2i``), which never counts a shared control group twice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metasift.report._blocks import Table, TableRow, humanise
from metasift.report._format import MISSING, count, number, share
from metasift.review.extraction_table import ExtractionTable
from metasift.review.project import Review
from metasift.review.protocol import FormField

__all__ = ["StudiesSection", "outcome_label", "studies_section", "study_participants"]

_UNITS = {"day": 1 / 7, "week": 1.0, "month": 52 / 12, "year": 52.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(day|week|month|year)s?\b", re.IGNORECASE)
#: Share of a text field's values that must read as a duration for a summary in weeks.
DURATION_SHARE = 0.8
#: Distinct values of a text field listed one by one; the rest are counted together.
MAX_VALUES = 12
_STATUS = ("usable", "requested", "not_obtainable")


@dataclass(frozen=True)
class StudiesSection:
    """What the report says about the included studies."""

    summary: str
    facets: Table | None
    characteristics: Table | None
    availability: str
    availability_table: Table | None
    requests: Table | None


def outcome_label(outcome: str) -> str:
    """An outcome as the text names it: its name in words.

    Examples
    --------
    >>> outcome_label("personal_recovery")
    'personal recovery'
    """
    return outcome.replace("_", " ")


def study_participants(review: Review, tables: Mapping[str, ExtractionTable]) -> pd.Series:
    """Participants per study (see the module docstring); NaN where unknown.

    Returns
    -------
    pandas.Series
        Indexed by study label, in the order of :meth:`Review.studies`.
    """
    studies = list(review.studies()["study"])
    values = review.extraction_values()
    arms = values[(values["table"] == "arm") & (values["field"] == "n_randomised")]
    every = values[values["table"] == "arm"].groupby("study")["arm"].nunique()
    randomised = arms.groupby("study").agg(total=("value", "sum"), arms=("arm", "nunique"))
    complete = randomised[randomised["arms"] == every.reindex(randomised.index)]["total"]
    analysed = pd.Series(dtype=float)
    for table in tables.values():
        data = table.data
        if data.empty or not {"n1i", "n2i"} <= set(data.columns):
            continue
        sizes = (data["n1i"].astype(float) + data["n2i"].astype(float)).groupby(data["study"])
        analysed = pd.concat([analysed, sizes.max()]).groupby(level=0).max()
    found = complete.astype(float).combine_first(analysed)
    return found.reindex(studies).astype(float)


def _total(n: pd.Series, members: list[str]) -> float:
    known = n.reindex(members).dropna()
    return float(known.sum()) if len(known) else math.nan


def _count_row(label: str, members: list[str], k_all: int, n: pd.Series) -> TableRow:
    total = float(n.dropna().sum())
    part = _total(n, members)
    n_share = share(int(part), int(total)) if not math.isnan(part) and total else MISSING
    return TableRow((label, str(len(members)), share(len(members), k_all), count(part), n_share))


def _facet_table(review: Review, n: pd.Series) -> Table | None:
    facets = review.protocol.classification.facets
    if not facets:
        return None
    codes = review.classification_table()
    studies = list(codes.index)
    rows: list[TableRow] = [_count_row("All studies", studies, len(studies), n)]
    for facet, spec in facets.items():
        title = humanise(facet) + (f" ({spec.description})" if spec.description else "")
        rows.append(TableRow((title,), "group"))
        column = codes[facet]
        for category in spec.categories:
            members = list(column.index[column == category])
            rows.append(_count_row(category, members, len(studies), n))
        missing = list(column.index[column.isna()])
        if missing:
            rows.append(_count_row("not classified", missing, len(studies), n))
    return Table.build(
        "table-facets",
        "Studies and participants by category of each classification facet",
        ["Category", "Studies (k)", "% of studies", "Participants (N)", "% of N"],
        rows,
        [False, True, True, True, True],
        "N: participants randomised where every arm's number was extracted, otherwise the "
        "largest comparison analysed for any outcome; a dash where no study of the row "
        "has a known N.",
    )


def _duration_weeks(values: pd.Series) -> pd.Series | None:
    parsed = values.astype(str).str.extract(_DURATION)
    weeks = parsed[0].astype(float) * parsed[1].str.lower().map(_UNITS)
    if weeks.notna().mean() < DURATION_SHARE:
        return None
    return weeks


def _summary(values: pd.Series) -> str:
    q1, q3 = np.percentile(values, [25, 75])
    return (
        f"median {number(values.median(), 1)} (IQR {number(q1, 1)}–{number(q3, 1)}; range "
        f"{number(values.min(), 1)}–{number(values.max(), 1)})"
    )


def _field_rows(name: str, spec: FormField, values: pd.Series, n: pd.Series) -> list[TableRow]:
    k_all = len(values)
    given = values.dropna()
    given = given[given.astype(str).str.strip() != ""]
    title = humanise(name) + (f" ({spec.description})" if spec.description else "")
    rows = [TableRow((title,), "group")]
    if spec.type in ("number", "integer"):
        numbers = given.astype(float)
        if len(numbers):
            rows.append(
                TableRow((_summary(numbers), str(len(numbers)), share(len(numbers), k_all), "", ""))
            )
    else:
        weeks = _duration_weeks(given) if spec.type == "text" and len(given) else None
        if weeks is not None:
            known = weeks.dropna()
            label = f"length in weeks: {_summary(known)}"
            rows.append(TableRow((label, str(len(known)), share(len(known), k_all), "", "")))
            rows += _category_rows(spec, given[weeks.isna()], k_all, n)
        else:
            rows += _category_rows(spec, given, k_all, n)
    missing = [s for s in values.index if s not in given.index]
    if missing:
        rows.append(_count_row("not reported", missing, k_all, n))
    return rows


def _category_rows(spec: FormField, given: pd.Series, k_all: int, n: pd.Series) -> list[TableRow]:
    text = given.map(_value_text)
    if spec.type == "choice":
        order = [c for c in spec.choices if (text == c).any()]
    elif spec.type == "boolean":
        order = [v for v in ("yes", "no") if (text == v).any()]
    else:
        counts = text.value_counts()
        order = sorted(counts.index, key=lambda v: (-int(counts[v]), v))
    rows = [
        _count_row(value, list(text.index[text == value]), k_all, n) for value in order[:MAX_VALUES]
    ]
    rest = order[MAX_VALUES:]
    if rest:
        members = list(text.index[text.isin(rest)])
        rows.append(_count_row(f"{len(rest)} other values", members, k_all, n))
    return rows


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _characteristics_table(review: Review, n: pd.Series) -> Table | None:
    fields = review.protocol.characteristics.fields
    if not fields:
        return None
    studies = list(review.studies()["study"])
    chars = review.characteristics_table().reindex(index=studies)
    rows: list[TableRow] = []
    for name, spec in fields.items():
        rows += _field_rows(name, spec, chars[name], n)
    return Table.build(
        "table-characteristics",
        "Characteristics of the included studies (extraction form)",
        ["Characteristic", "Studies (k)", "% of studies", "Participants (N)", "% of N"],
        rows,
        [False, True, True, True, True],
        "Numbers are summarised as median (interquartile range; range) over the studies "
        "reporting them; a text field whose values are lengths in days, weeks, months or "
        "years is summarised in weeks.",
    )


def _study_status(avail: pd.DataFrame, studies: list[str]) -> pd.Series:
    """Per study: usable (for any outcome), else requested, else not obtainable, else
    not recorded."""
    out = {}
    for study in studies:
        found = set(avail.loc[avail["study"] == study, "status"].dropna())
        status = next((s for s in _STATUS if s in found), "not recorded")
        out[study] = status
    return pd.Series(out, dtype=object)


def _availability_text(status: pd.Series) -> str:
    k = len(status)
    usable = int((status == "usable").sum())
    parts = [f"{usable} of {k} included stud{'ies' if k != 1 else 'y'} had usable data"]
    requested = int((status == "requested").sum())
    if requested:
        parts.append(f"the data of {requested} were requested from the authors in vain")
    lost = int((status == "not_obtainable").sum())
    if lost:
        parts.append(f"for {lost}, data could not be obtained")
    silent = int((status == "not recorded").sum())
    if silent:
        parts.append(f"for {silent}, data availability was not recorded")
    return "; ".join(parts) + "."


def _availability_table(
    review: Review, avail: pd.DataFrame, tables: Mapping[str, ExtractionTable]
) -> Table | None:
    outcomes = list(review.protocol.outcomes)
    if not outcomes:
        return None
    rows = []
    for outcome in outcomes:
        mine = avail[avail["outcome"] == outcome]
        counts = [int((mine["status"] == s).sum()) for s in _STATUS]
        table = tables.get(outcome)
        data = table.data if table is not None else pd.DataFrame(columns=["study"])
        analysed = [str(data["study"].nunique()), str(len(data))]
        rows.append([outcome_label(outcome), *map(str, counts), *analysed])
    return Table.build(
        "table-availability",
        "Data availability by outcome",
        [
            "Outcome",
            "Usable",
            "Requested in vain",
            "Not obtainable",
            "Studies analysed",
            "Comparisons analysed",
        ],
        rows,
        [False, True, True, True, True, True],
        "Usable, requested and not obtainable count the studies with that status for the "
        "outcome; analysed counts those in the analysable table.",
    )


def _requests_table(avail: pd.DataFrame) -> Table | None:
    asked = avail[avail["status"] == "requested"].sort_values(["study", "outcome"])
    if asked.empty:
        return None
    rows = [
        [
            str(row.study),
            outcome_label(str(row.outcome)),
            str(row.requested_on or MISSING),
            str(row.reply or "no reply recorded"),
        ]
        for row in asked.itertuples(index=False)
    ]
    return Table.build(
        "table-requests",
        "Data requested from study authors without success",
        ["Study", "Outcome", "Requested on", "Reply"],
        rows,
    )


def studies_section(review: Review, tables: Mapping[str, ExtractionTable]) -> StudiesSection:
    """The section on the included studies (see the module docstring)."""
    studies = list(review.studies()["study"])
    n = study_participants(review, tables)
    known = n.dropna()
    summary = f"The review includes {len(studies)} stud{'ies' if len(studies) != 1 else 'y'}"
    if len(known):
        summary += f" with {count(known.sum())} participants"
        if len(known) < len(studies):
            summary += f" (N known for {len(known)})"
    summary += "."
    avail = review.availability_table()
    status = _study_status(avail, studies)
    return StudiesSection(
        summary,
        _facet_table(review, n),
        _characteristics_table(review, n),
        _availability_text(status) if studies else "",
        _availability_table(review, avail, tables),
        _requests_table(avail),
    )
