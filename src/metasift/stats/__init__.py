"""The numerical core: effect sizes, heterogeneity estimators, pooling, batch fits.

Pure NumPy kernels with no I/O and no knowledge of reviews; usable on its own.
"""

from __future__ import annotations

from metasift.stats._confint import (
    HigginsThompsonInterval,
    Tau2Interval,
    higgins_thompson_ci,
    profile_likelihood_ci,
    q_profile_ci,
)
from metasift.stats.batch import BatchResult, meta_analysis_batch
from metasift.stats.pooling import MetaResult, meta_analysis

__all__ = [
    "BatchResult",
    "HigginsThompsonInterval",
    "MetaResult",
    "Tau2Interval",
    "higgins_thompson_ci",
    "meta_analysis",
    "meta_analysis_batch",
    "profile_likelihood_ci",
    "q_profile_ci",
]
