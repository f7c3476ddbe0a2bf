"""Synthesis: runs the protocol's analysis plan on a review's store.

:func:`run_analysis` pulls each outcome's analysable table from the review, calls
:mod:`metasift.stats` for every cell of the plan (all studies and each category of each
subgroup facet), the tests for subgroup differences, the sensitivity analyses and the
publication-bias checks, and returns :class:`SynthesisResults`, whose tidy tables
(``pooled_effects()``, ``subgroup_tests()``, ``sensitivity()``, ``publication_bias()``,
``studies()``, ``notes()``) the reports are made from.
"""

from __future__ import annotations

from metasift.synthesis._cells import ALL_STUDIES
from metasift.synthesis.analysis import run_analysis
from metasift.synthesis.results import TABLES, OutcomeSynthesis, SynthesisResults

__all__ = ["ALL_STUDIES", "TABLES", "OutcomeSynthesis", "SynthesisResults", "run_analysis"]
