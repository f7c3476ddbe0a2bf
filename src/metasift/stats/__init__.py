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
from metasift.stats.conversions import (
    MeanSD,
    SmdEstimate,
    mean_sd_from_median,
    sd_from_ci,
    sd_from_se,
    smd_from_p,
    smd_from_t,
)
from metasift.stats.effects import EffectSizes, effect_sizes
from metasift.stats.pooling import MetaResult, meta_analysis

__all__ = [
    "BatchResult",
    "EffectSizes",
    "HigginsThompsonInterval",
    "MeanSD",
    "MetaResult",
    "SmdEstimate",
    "Tau2Interval",
    "effect_sizes",
    "higgins_thompson_ci",
    "mean_sd_from_median",
    "meta_analysis",
    "meta_analysis_batch",
    "profile_likelihood_ci",
    "q_profile_ci",
    "sd_from_ci",
    "sd_from_se",
    "smd_from_p",
    "smd_from_t",
]
