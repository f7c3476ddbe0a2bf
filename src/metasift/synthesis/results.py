"""Results of a review's synthesis: :class:`OutcomeSynthesis` per outcome and
:class:`SynthesisResults` for the review, with their tidy tables."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from metasift.review.analysis_plan import AnalysisOptions, AnalysisPlan
from metasift.review.extraction_table import ExtractionTable
from metasift.stats import (
    BeggResult,
    EggerResult,
    MetaResult,
    SensitivityResult,
    SubgroupResult,
    TrimFillResult,
)

__all__ = ["TABLES", "OutcomeSynthesis", "SynthesisResults"]

#: The tables of a synthesis, in the order they are written.
TABLES = (
    "pooled_effects",
    "subgroup_tests",
    "sensitivity",
    "publication_bias",
    "studies",
    "notes",
)


@dataclass(frozen=True)
class OutcomeSynthesis:
    """The analyses of one outcome (with ``comparators = "apart"``: of one comparator).

    Attributes
    ----------
    outcome, group : str
        The outcome of ``[outcomes]`` and its construct group.
    stratum : str
        ``"all"``, or the comparator category analysed apart (``comparators = "apart"``).
    settings : AnalysisOptions
        The plan's settings for this outcome, overrides applied.
    table : ExtractionTable
        The outcome's extraction table (checks and multi-arm audit included).
    data : DataFrame
        The comparisons analysed: the table's analysable rows (of this comparator), with a
        ``slab`` label each.
    main : MetaResult or None
        The meta-analysis of all comparisons; None with fewer than ``min_studies``.
    subgroups : dict
        Facet -> :class:`metasift.stats.SubgroupResult`.
    sensitivity : dict
        Sensitivity set name -> :class:`metasift.MetaResult` (sets that could be pooled).
    leave_one_out : SensitivityResult or None
        Leave-one-out analyses, when the plan asks for them and k allows.
    egger, begg, trim_and_fill : result or None
        Publication-bias checks, when k reaches ``publication_bias.min_studies``.
    frames : dict
        The tidy tables of this outcome by name (see :data:`TABLES`), as
        :class:`SynthesisResults` stacks them.
    """

    outcome: str
    group: str
    stratum: str
    settings: AnalysisOptions = field(repr=False)
    table: ExtractionTable = field(repr=False)
    data: pd.DataFrame = field(repr=False)
    main: MetaResult | None = field(repr=False)
    subgroups: dict[str, SubgroupResult] = field(repr=False)
    sensitivity: dict[str, MetaResult] = field(repr=False)
    leave_one_out: SensitivityResult | None = field(repr=False)
    egger: EggerResult | None = field(repr=False)
    begg: BeggResult | None = field(repr=False)
    trim_and_fill: TrimFillResult | None = field(repr=False)
    frames: dict[str, pd.DataFrame] = field(repr=False)

    @property
    def notes(self) -> pd.DataFrame:
        """Warnings of the fits and checks of the extraction: outcome, stratum, context,
        kind (warning class or "check"), message."""
        return self.frames["notes"].copy()

    def frame(self, name: str) -> pd.DataFrame:
        """One of the tables of :data:`TABLES` for this outcome (a copy)."""
        return self.frames[name].copy()

    @property
    def label(self) -> str:
        """The outcome, with its comparator when analysed apart."""
        return self.outcome if self.stratum == "all" else f"{self.outcome}: {self.stratum}"

    def summary(self) -> str:
        """The main result in one line."""
        row = self.frames["pooled_effects"].iloc[0]
        measure = self.settings.measure
        return f"{self.label} ({measure}): {_cell_text(row, self.settings.level)}"


def _number(value: float, digits: int = 2) -> str:
    return "NA" if not math.isfinite(value) else f"{value:.{digits}f}"


def _cell_text(row: pd.Series, level: float) -> str:
    if row["status"] != "pooled":
        return f"k = {row['k']}, not applicable ({row['note']})"
    p = "p < 0.001" if row["pval"] < 0.001 else f"p = {row['pval']:.3f}"
    return (
        f"k = {row['k']}, estimate = {_number(row['estimate'])} "
        f"[{100 * level:g}% CI {_number(row['ci_lb'])} to {_number(row['ci_ub'])}], {p}, "
        f"I^2 = {_number(100 * row['i2'], 0)}%"
    )


@dataclass(frozen=True)
class SynthesisResults:
    """Every analysis of a review's plan, at full precision, with tidy tables.

    Attributes
    ----------
    plan : AnalysisPlan
        The protocol's ``[analysis]``.
    outcomes : dict
        Outcome -> :class:`OutcomeSynthesis`, in the order of ``[outcomes]``; with
        ``comparators = "apart"`` the key is ``"outcome: comparator"``.

    Notes
    -----
    Each table stacks the outcomes' rows in a fixed order (outcomes as in review.toml,
    subgroups as in the plan, categories as in ``[classification.facets]``, or sorted for
    the outcome fields ``instrument`` and ``construct``), so that the same store and
    protocol give the same tables.
    """

    plan: AnalysisPlan = field(repr=False)
    outcomes: dict[str, OutcomeSynthesis]

    def _stack(self, name: str) -> pd.DataFrame:
        frames = [out.frames[name] for out in self.outcomes.values()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def pooled_effects(self) -> pd.DataFrame:
        """One row per outcome and cell (all studies, each category of each facet).

        Columns: outcome, group, stratum (the comparator analysed apart, else "all"),
        facet ("all" for all studies), category ("All studies"), analysis ("main",
        "pre-specified", "post hoc"), k (comparisons), k_studies, n (participants of the
        comparisons with group sizes), n_unknown (comparisons without them), estimate,
        se, ci_lb, ci_ub, pval, tau2, i2 (a fraction; the I^2 the plan names), qe, qe_df,
        qe_pval, pi_lb, pi_ub, interpretation (Cohen's label of an SMD), heterogeneity
        (substantial or not, by p < 0.1 and I^2 > 50%), status ("pooled" or "not
        applicable"), note (why, and the fit's notes).
        """
        return self._stack("pooled_effects")

    def subgroup_tests(self) -> pd.DataFrame:
        """Tests for subgroup differences: outcome, stratum, facet, analysis, qm,
        qm_df, qm_pval, tau2_model, k_groups, note."""
        return self._stack("subgroup_tests")

    def sensitivity(self) -> pd.DataFrame:
        """Sensitivity analyses: outcome, stratum, analysis (set name or
        "leave-one-out: STUDY"), k, estimate, ci_lb, ci_ub, pval, tau2, i2, excluded,
        status, note."""
        return self._stack("sensitivity")

    def publication_bias(self) -> pd.DataFrame:
        """Publication-bias checks: outcome, stratum, k, test, statistic, pval,
        estimate, ci_lb, ci_ub, note ("not assessed: k < 10" below the plan's minimum)."""
        return self._stack("publication_bias")

    def studies(self) -> pd.DataFrame:
        """The comparisons analysed: outcome, stratum, study, comparison, one column per
        facet, instrument and construct (the study's outcome-level fields; a facet of
        that name takes the column), quality, yi, vi, sei, weight (% in the main
        analysis), n1i, n2i, ci_lb, ci_ub (z-based, at the plan's level)."""
        return self._stack("studies")

    def notes(self) -> pd.DataFrame:
        """Warnings and extraction checks: outcome, stratum, context, kind, message."""
        return self._stack("notes")

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, in the order of :data:`TABLES`."""
        return {name: self._stack(name) for name in TABLES}

    def to_frame(self) -> pd.DataFrame:
        """The pooled-effects table."""
        return self.pooled_effects()

    def summary(self) -> str:
        """The main result of each outcome, one line each."""
        lines = [f"Synthesis of {len(self.outcomes)} outcome(s):"]
        lines += [f"  {out.summary()}" for out in self.outcomes.values()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        caption = html.escape(f"Pooled effects of {len(self.outcomes)} outcome(s)")
        table = self.pooled_effects().to_html(index=False, float_format=_four, na_rep="")
        return table.replace(">", f"><caption>{caption}</caption>", 1)


def _four(value: Any) -> str:
    return f"{value:.4f}"
