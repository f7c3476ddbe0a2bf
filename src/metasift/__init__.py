"""metasift: systematic reviews with meta-analysis, checked against metafor."""

from __future__ import annotations

from metasift.errors import (
    ConvergenceWarning,
    DataWarning,
    FewStudiesWarning,
    InputError,
    MetasiftError,
)
from metasift.plots import (
    ROB_TOOLS,
    ForestPlot,
    PrismaCounts,
    RobTable,
    RobTool,
    forest_plot,
    funnel_plot,
    prisma_flow,
    read_prisma_csv,
    read_rob_table,
    rob_summary,
    rob_tool,
    rob_traffic_light,
    write_rob_table,
)
from metasift.plots import save as save_figure
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
    "ROB_TOOLS",
    "ConvergenceWarning",
    "DataWarning",
    "DedupResult",
    "EffectSizes",
    "FewStudiesWarning",
    "ForestPlot",
    "ImportResult",
    "InputError",
    "MetaResult",
    "MetasiftError",
    "PrismaCounts",
    "Problem",
    "RobTable",
    "RobTool",
    "__version__",
    "deduplicate",
    "effect_sizes",
    "forest_plot",
    "funnel_plot",
    "mean_sd_from_median",
    "meta_analysis",
    "prisma_flow",
    "read_prisma_csv",
    "read_records",
    "read_records_bytes",
    "read_rob_table",
    "rob_summary",
    "rob_tool",
    "rob_traffic_light",
    "save_figure",
    "sd_from_ci",
    "sd_from_se",
    "smd_from_p",
    "smd_from_t",
    "write_records",
    "write_rob_table",
]
