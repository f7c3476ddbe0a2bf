"""Run a review's analysis plan: :func:`run_analysis`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from metasift.errors import InputError
from metasift.review.analysis_plan import (
    OUTCOME_SUBGROUPS,
    AnalysisOptions,
    check_analysis_plan,
)
from metasift.stats import MetaResult, meta_analysis
from metasift.synthesis._cells import (
    ALL_STUDIES,
    POOLED_COLUMNS,
    TEST_COLUMNS,
    category_levels,
    cell_row,
    facet_cells,
    fit,
)
from metasift.synthesis._checks import BIAS_COLUMNS, SENSITIVITY_COLUMNS, bias, sensitivity
from metasift.synthesis._data import NOTE_COLUMNS, analysable, collecting
from metasift.synthesis.results import OutcomeSynthesis, SynthesisResults

if TYPE_CHECKING:
    from metasift.review import Review
    from metasift.review.extraction_table import ExtractionTable

__all__ = ["run_analysis"]


class _Context:
    """What every stratum of a review shares: the review's facets and characteristics."""

    def __init__(self, review: Review) -> None:
        facets = review.protocol.classification.facets
        self.categories = {name: list(spec.categories) for name, spec in facets.items()}
        self.characteristics = review.characteristics_table()

    def declared(self, subgroup: str) -> list[str]:
        """The declared categories of a facet; none for an outcome field (instrument,
        construct), whose categories are the values found in the outcome's table."""
        return self.categories.get(subgroup, [])

    def outcome_fields(self) -> list[str]:
        """The outcome-level fields the extraction table carries (a facet of the same
        name takes their column)."""
        return [f for f in OUTCOME_SUBGROUPS if f not in self.categories]


def _facets(options: AnalysisOptions, categories: dict[str, list[str]]) -> dict[str, str]:
    """Subgroup (facet or outcome field) -> "pre-specified" / "post hoc" of the subgroup
    analyses to run; outcome fields only when the plan names them."""
    chosen: dict[str, str] = dict.fromkeys(categories, "pre-specified")
    if options.subgroups is not None:
        chosen = dict(options.subgroups)
    if options.comparators == "apart":
        chosen.pop(options.comparator_facet, None)  # one category per stratum
    return chosen


def _left_out_note(
    data: pd.DataFrame, subgroup: str, context: _Context, ids: dict[str, str]
) -> list[dict[str, Any]]:
    """A note counting the comparisons an outcome-field subgroup analysis leaves out
    because their study recorded no value for the field."""
    if subgroup in context.categories:
        return []
    missing = data.loc[data[subgroup].isna(), "slab"].tolist()
    if not missing:
        return []
    message = (
        f"{len(missing)} comparison(s) without a {subgroup} are left out of the subgroup "
        f"analysis: {'; '.join(missing)}"
    )
    return [ids | {"context": f"subgroups by {subgroup}", "kind": "check", "message": message}]


def _studies_frame(
    ids: dict[str, Any],
    data: pd.DataFrame,
    main: MetaResult | None,
    options: AnalysisOptions,
    facets: list[str],
) -> pd.DataFrame:
    """Per comparison: identifiers, codes, yi, vi, sei, weight (%), sizes, z-based CI."""
    columns = ["study", "comparison", *facets, "quality", "yi", "vi"]
    frame = data[columns].reset_index(drop=True).copy()
    if len(frame):
        # per-study intervals do not depend on the model: the equal-effects fit gives them
        each = meta_analysis(
            data["yi"].to_numpy(float), data["vi"].to_numpy(float), method="EE", level=options.level
        ).studies()
        frame["sei"], frame["ci_lb"], frame["ci_ub"] = each["sei"], each["ci_lb"], each["ci_ub"]
    else:
        frame = frame.assign(sei=np.nan, ci_lb=np.nan, ci_ub=np.nan)
    frame["weight"] = 100 * main.weights if main is not None else np.nan
    frame["n1i"], frame["n2i"] = data["n1i"].to_numpy(float), data["n2i"].to_numpy(float)
    tail = ["quality", "yi", "vi", "sei", "weight", "n1i", "n2i", "ci_lb", "ci_ub"]
    frame = frame[["study", "comparison", *facets, *tail]]
    for name, value in reversed(list(ids.items())):
        frame.insert(0, name, value)
    return frame


def _stratum(
    ids: dict[str, Any],
    table: ExtractionTable,
    data: pd.DataFrame,
    options: AnalysisOptions,
    context: _Context,
    notes: list[dict[str, Any]],
) -> OutcomeSynthesis:
    """Every analysis of one outcome (or of one comparator of it)."""
    note_ids = {"outcome": ids["outcome"], "stratum": ids["stratum"]}
    main = None
    with collecting(notes, note_ids, "main analysis"):
        if len(data) >= options.min_studies:
            main = fit(data, options)
    cell = ids | {"facet": "all", "category": ALL_STUDIES, "analysis": "main"}
    pooled, tests, subgroups = [cell_row(cell, data, main, options)], [], {}
    for facet, kind in _facets(options, context.categories).items():
        notes += _left_out_note(data, facet, context, note_ids)
        with collecting(notes, note_ids, f"subgroups by {facet}"):
            rows, test, res = facet_cells(ids, data, facet, context.declared(facet), kind, options)
        pooled += rows
        tests.append(test)
        if res is not None:
            subgroups[facet] = res
    with collecting(notes, note_ids, "sensitivity"):
        sens = sensitivity(
            note_ids, data, options, list(context.categories), context.characteristics
        )
    with collecting(notes, note_ids, "publication bias"):
        checks = bias(note_ids, data, options)
    frames = {
        "pooled_effects": pd.DataFrame(pooled, columns=POOLED_COLUMNS),
        "subgroup_tests": pd.DataFrame(tests, columns=TEST_COLUMNS),
        "sensitivity": pd.DataFrame(sens.rows, columns=SENSITIVITY_COLUMNS),
        "publication_bias": pd.DataFrame(checks.rows, columns=BIAS_COLUMNS),
        "studies": _studies_frame(
            note_ids, data, main, options, [*context.categories, *context.outcome_fields()]
        ),
        "notes": pd.DataFrame(notes, columns=NOTE_COLUMNS),
    }
    return OutcomeSynthesis(
        ids["outcome"],
        ids["group"],
        ids["stratum"],
        options,
        table,
        data,
        main,
        subgroups,
        sens.fits,
        sens.leave_one_out,
        checks.egger,
        checks.begg,
        checks.trim_and_fill,
        frames,
    )


def _outcome(
    review: Review, outcome: str, group: str, options: AnalysisOptions, context: _Context
) -> dict[str, OutcomeSynthesis]:
    """The analyses of one outcome: one stratum, or one per comparator category."""
    ids = {"outcome": outcome, "group": group, "stratum": "all"}
    notes: list[dict[str, Any]] = []
    table, data = analysable(
        review, outcome, options, notes, {"outcome": outcome, "stratum": "all"}
    )
    if options.comparators == "together":
        return {outcome: _stratum(ids, table, data, options, context, notes)}
    facet = options.comparator_facet
    found: dict[str, OutcomeSynthesis] = {}
    uncoded = int(data[facet].isna().sum())
    if uncoded:
        message = f"{uncoded} comparison(s) without a {facet} category are left out"
        notes.append(
            {
                "outcome": outcome,
                "stratum": "all",
                "context": "comparators",
                "kind": "check",
                "message": message,
            }
        )
    for level in category_levels(data[facet], context.categories[facet]):
        part = data[data[facet].astype(str) == level].reset_index(drop=True)
        mine = [n | {"stratum": level} for n in notes]
        stratum = _stratum(ids | {"stratum": level}, table, part, options, context, mine)
        found[f"{outcome}: {level}"] = stratum
    return found


def run_analysis(review: Review) -> SynthesisResults:
    """Run the analysis plan of a review (``[analysis]`` of review.toml) on its store.

    For every outcome of ``[outcomes]``: the meta-analysis of all comparisons and of each
    category of each subgroup facet (with the test for subgroup differences), the
    sensitivity sets and leave-one-out, and the publication-bias checks when there are
    enough comparisons. Cells with fewer than ``min_studies`` comparisons are "not
    applicable"; warnings of the fits become the notes of their outcome.

    Parameters
    ----------
    review : Review
        An open review.

    Returns
    -------
    SynthesisResults

    Raises
    ------
    metasift.review.ProtocolError
        The plan names a facet, category, field, outcome or group that does not exist.
    metasift.errors.InputError
        The protocol has no outcomes, or an outcome has no analysable data.

    Notes
    -----
    Effects come from :func:`metasift.extraction_table` under the plan's ``measure``,
    ``effects`` and ``multi_arm``; SMDs from arm values follow ``smd_convention``
    (:func:`metasift.effect_sizes`). Pooling is :func:`metasift.meta_analysis` with the
    plan's ``method``, ``test`` and ``level``; subgroups :func:`metasift.subgroup_analysis`
    (separate or common tau^2; Borenstein et al. 2009, ch. 19); sensitivity
    :func:`metasift.leave_one_out`; publication bias :func:`metasift.egger_test`,
    :func:`metasift.begg_test` and :func:`metasift.trim_and_fill` (Cochrane Handbook
    13.3.5: not below 10 studies).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from metasift.review import Review
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> Review.create(folder).close()
    >>> text = (folder / "review.toml").read_text()
    >>> text = text.replace("[characteristics]", '[characteristics]\\ncoders = ["ann"]')
    >>> text = text.replace("[outcomes]\\n", '[outcomes.mood]\\ndirection = "higher"\\n')
    >>> _ = (folder / "review.toml").write_text(text)
    >>> with Review.open(folder) as review:
    ...     for study, yi, vi in [("A", 0.1, 0.02), ("B", 0.3, 0.03), ("C", 0.6, 0.04)]:
    ...         _ = review.add_study(study)
    ...         _ = review.extract_effect("ann", study, "mood", yi, vi)
    ...     results = run_analysis(review)
    >>> results.pooled_effects()[["outcome", "category", "k", "estimate", "status"]].round(4)
      outcome     category  k  estimate  status
    0    mood  All studies  3    0.3064  pooled
    """
    protocol = review.protocol
    check_analysis_plan(protocol, Path(review.folder) / "review.toml")
    if not protocol.outcomes:
        raise InputError("review.toml has no [outcomes.NAME] table: there is nothing to analyse")
    context = _Context(review)
    outcomes: dict[str, OutcomeSynthesis] = {}
    for name, spec in protocol.outcomes.items():
        options = protocol.analysis.settings(name, spec.group)
        outcomes |= _outcome(review, name, spec.group, options, context)
    return SynthesisResults(protocol.analysis, outcomes)
