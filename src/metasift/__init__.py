"""metasift: systematic reviews with meta-analysis, checked against metafor."""

from __future__ import annotations

from metasift.errors import (
    ConvergenceWarning,
    DataWarning,
    FewStudiesWarning,
    InputError,
    MetasiftError,
)
from metasift.records import (
    RECORD_COLUMNS,
    DedupResult,
    ImportResult,
    Problem,
    deduplicate,
    read_records,
    read_records_bytes,
    write_records,
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
    "RECORD_COLUMNS",
    "ConvergenceWarning",
    "DataWarning",
    "DedupResult",
    "EffectSizes",
    "FewStudiesWarning",
    "ImportResult",
    "InputError",
    "MetaResult",
    "MetasiftError",
    "Problem",
    "__version__",
    "deduplicate",
    "effect_sizes",
    "mean_sd_from_median",
    "meta_analysis",
    "read_records",
    "read_records_bytes",
    "sd_from_ci",
    "sd_from_se",
    "smd_from_p",
    "smd_from_t",
    "write_records",
]
