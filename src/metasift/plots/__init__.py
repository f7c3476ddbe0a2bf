"""Figures a journal accepts: forest, funnel, risk-of-bias and PRISMA 2020 flow diagrams.

Every figure function returns a :class:`matplotlib.figure.Figure` built without pyplot
(importing this package selects no backend); :func:`save` writes a figure as SVG, PDF or
PNG (300 dpi), chosen by the file extension. The figures read result objects and tables;
they never recompute a statistic.
"""

from __future__ import annotations

from metasift.plots._common import save
from metasift.plots.forest import ForestPlot, forest_plot
from metasift.plots.funnel import funnel_plot
from metasift.plots.prisma import prisma_flow
from metasift.plots.prisma_data import PrismaCounts, read_prisma_csv
from metasift.plots.rob import rob_proportions, rob_summary, rob_traffic_light
from metasift.plots.robtools import (
    ROB_TOOLS,
    Domain,
    Judgement,
    RobTable,
    RobTool,
    read_rob_table,
    rob_table,
    rob_tool,
    write_rob_table,
)

__all__ = [
    "ROB_TOOLS",
    "Domain",
    "ForestPlot",
    "Judgement",
    "PrismaCounts",
    "RobTable",
    "RobTool",
    "forest_plot",
    "funnel_plot",
    "prisma_flow",
    "read_prisma_csv",
    "read_rob_table",
    "rob_proportions",
    "rob_summary",
    "rob_table",
    "rob_tool",
    "rob_traffic_light",
    "save",
    "write_rob_table",
]
