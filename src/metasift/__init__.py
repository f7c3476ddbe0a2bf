"""metasift: systematic reviews with meta-analysis, checked against metafor."""

from __future__ import annotations

from metasift.errors import (
    ConvergenceWarning,
    DataWarning,
    FewStudiesWarning,
    InputError,
    MetasiftError,
)
from metasift.stats import (
    EffectSizes,
    MetaResult,
    effect_sizes,
    mean_sd_from_median,
    meta_analysis,
    sd_from_ci,
    sd_from_se,
    smd_from_p,
    smd_from_t,
)

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "DataWarning",
    "EffectSizes",
    "FewStudiesWarning",
    "InputError",
    "MetaResult",
    "MetasiftError",
    "__version__",
    "effect_sizes",
    "mean_sd_from_median",
    "meta_analysis",
    "sd_from_ci",
    "sd_from_se",
    "smd_from_p",
    "smd_from_t",
]
