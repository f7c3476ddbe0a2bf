"""metasift: systematic reviews with meta-analysis, checked against metafor."""

from __future__ import annotations

from metasift.errors import (
    ConvergenceWarning,
    DataWarning,
    FewStudiesWarning,
    InputError,
    MetasiftError,
)
from metasift.stats import MetaResult, meta_analysis

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "DataWarning",
    "FewStudiesWarning",
    "InputError",
    "MetaResult",
    "MetasiftError",
    "__version__",
    "meta_analysis",
]
