"""The analysed rows of one outcome: the extraction table under the plan's settings, the
SMD convention, labels per comparison, the warnings collected on the way, and the rows a
sensitivity set leaves out."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from metasift.errors import InputError, MetasiftWarning
from metasift.review.analysis_plan import OUTCOME_SUBGROUPS, AnalysisOptions, value_key
from metasift.review.extraction_table import ExtractionTable, extraction_table

if TYPE_CHECKING:
    from metasift.review import Review

__all__ = ["NOTE_COLUMNS", "analysable", "collecting", "excluded_rows", "participants"]

#: Columns of the notes frame of an outcome.
NOTE_COLUMNS = ["outcome", "stratum", "context", "kind", "message"]
#: Columns every analysed frame has, whatever the extraction table held.
_NEEDED = ("comparison", *OUTCOME_SUBGROUPS, "quality", "source", "n1i", "n2i")


@contextmanager
def collecting(notes: list[dict[str, Any]], ids: dict[str, str], context: str) -> Iterator[None]:
    """Record metasift's warnings raised inside the block as notes instead of letting them
    escape; any other warning is passed on unchanged."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MetasiftWarning)
        yield
    for item in caught:
        if issubclass(item.category, MetasiftWarning):
            kind = item.category.__name__
            notes.append(ids | {"context": context, "kind": kind, "message": str(item.message)})
        else:
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


def _check_notes(table: ExtractionTable, ids: dict[str, str]) -> list[dict[str, Any]]:
    notes = []
    for row in table.checks.itertuples(index=False):
        cut = " (left out of the table)" if row.excluded else ""
        where = f"{row.study} {row.arm}".strip()
        message = f"{where}: {row.check}: {row.detail}{cut}"
        notes.append(ids | {"context": "extraction", "kind": "check", "message": message})
    return notes


def _slabs(data: pd.DataFrame) -> list[str]:
    """The study, or "study: comparison" for a study with several comparisons."""
    counts = data["study"].value_counts()
    return [
        f"{study}: {comparison}" if counts[study] > 1 else str(study)
        for study, comparison in zip(data["study"], data["comparison"], strict=True)
    ]


def analysable(
    review: Review,
    outcome: str,
    options: AnalysisOptions,
    notes: list[dict[str, Any]],
    ids: dict[str, str],
) -> tuple[ExtractionTable, pd.DataFrame]:
    """The extraction table of ``outcome`` and its analysable rows (finite yi, vi > 0),
    with a ``slab`` column; the checks and dropped rows become notes.

    Raises
    ------
    InputError
        When the outcome has no analysable row.
    """
    with collecting(notes, ids, "effect sizes"):
        table = extraction_table(
            review,
            outcome,
            measure=options.measure,
            multi_arm=options.multi_arm,
            effects=options.effects,
            smd_convention=options.smd_convention,
        )
        data = table.data.copy()
        for column in _NEEDED:
            if column not in data.columns:
                data[column] = np.nan
    notes += _check_notes(table, ids)
    ok = np.isfinite(data["yi"].astype(float)) & (data["vi"].astype(float) > 0)
    for row in data[~ok].itertuples(index=False):
        message = f"{row.study} ({row.comparison}): yi = {row.yi}, vi = {row.vi}; left out"
        notes.append(ids | {"context": "effect sizes", "kind": "check", "message": message})
    data = data[ok].reset_index(drop=True)
    if data.empty:
        raise InputError(
            f"outcome {outcome!r} has no analysable data (measure {options.measure}, effects "
            f"{options.effects!r}): settle arm values or reported effects for it, or remove "
            "it from [outcomes] of review.toml"
        )
    data["slab"] = _slabs(data)
    return table, data


def participants(frame: pd.DataFrame) -> tuple[float, int]:
    """Participants of the comparisons with known group sizes, and how many have none.

    Notes
    -----
    ``n1i + n2i`` summed over the comparisons that have both. Arms enter once: a shared
    control split among comparisons (``multi_arm = "split"``) carries its share in each
    (Cochrane Handbook 23.3.4), and combined arms make one comparison; comparisons
    reported with their own group sizes are summed as reported.
    """
    sizes = frame["n1i"].astype(float) + frame["n2i"].astype(float)
    known = sizes.notna()
    total = float(sizes[known].sum()) if known.any() else math.nan
    return total, int((~known).sum())


def excluded_rows(
    data: pd.DataFrame,
    exclude: dict[str, list[Any]],
    facets: list[str],
    characteristics: pd.DataFrame,
) -> pd.Series:
    """Rows whose quality, facet or characteristics field has one of the listed values
    (``""`` matches a missing value); a boolean Series aligned with ``data``."""
    mask = pd.Series(False, index=data.index)
    for key, values in exclude.items():
        if key == "quality" or key in facets:
            column = data[key]
        elif key in characteristics.columns:
            column = data["study"].map(characteristics[key])
        else:
            column = pd.Series(np.nan, index=data.index)
        wanted = {value_key(v) for v in values}
        keys = column.map(lambda v: "" if pd.isna(v) else value_key(v))
        mask |= keys.isin(wanted)
    return mask
