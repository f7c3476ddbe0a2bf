"""The review project: protocol (``review.toml``), store, screening, agreement, PRISMA,
classification, risk of bias and data extraction.

Public names: :class:`Review` (a review folder and everything a team does in it),
:class:`Protocol` with :func:`load_protocol`, :func:`parse_protocol`,
:func:`write_template` and :class:`ProtocolError`; the agreement statistics
:func:`agreement`, :func:`cohen_kappa`, :func:`fleiss_kappa`, :func:`krippendorff_alpha`,
:func:`percent_agreement` with :class:`AgreementResult` and :class:`Coefficient`; and
:class:`PrismaFlow`; risk-of-bias tools (:class:`AppraisalTool`, :func:`appraisal_tool`,
:func:`ahrq_quality`, :func:`rob2_overall`, :func:`custom_tool`), the RoB 2 signalling
questions and domain algorithms (:class:`SignallingQuestion`, :func:`propose_judgement`) and
the analysable table of an outcome (:func:`extraction_table`, :class:`ExtractionTable`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metasift.review._template import write_template
    from metasift.review.agreement import (
        AgreementResult,
        Coefficient,
        PairAgreement,
        agreement,
        cohen_kappa,
        fleiss_kappa,
        krippendorff_alpha,
        percent_agreement,
    )
    from metasift.review.appraisal_tools import (
        BUILTIN_TOOLS,
        AppraisalTool,
        ToolDomain,
        ahrq_quality,
        appraisal_tool,
        custom_tool,
        rob2_overall,
    )
    from metasift.review.extraction_table import ExtractionTable, extraction_table
    from metasift.review.prisma import PrismaFlow
    from metasift.review.project import Review
    from metasift.review.protocol import (
        DECISIONS,
        STAGES,
        Protocol,
        ProtocolError,
        load_protocol,
        parse_protocol,
    )
    from metasift.review.rob2 import SignallingQuestion, propose_judgement

#: public name -> module, imported on first access, so that the command line and the
#: modules of this package that need little start quickly
_LAZY: dict[str, str] = {
    "write_template": "metasift.review._template",
    "AgreementResult": "metasift.review.agreement",
    "Coefficient": "metasift.review.agreement",
    "PairAgreement": "metasift.review.agreement",
    "agreement": "metasift.review.agreement",
    "cohen_kappa": "metasift.review.agreement",
    "fleiss_kappa": "metasift.review.agreement",
    "krippendorff_alpha": "metasift.review.agreement",
    "percent_agreement": "metasift.review.agreement",
    "BUILTIN_TOOLS": "metasift.review.appraisal_tools",
    "AppraisalTool": "metasift.review.appraisal_tools",
    "ToolDomain": "metasift.review.appraisal_tools",
    "ahrq_quality": "metasift.review.appraisal_tools",
    "appraisal_tool": "metasift.review.appraisal_tools",
    "custom_tool": "metasift.review.appraisal_tools",
    "rob2_overall": "metasift.review.appraisal_tools",
    "ExtractionTable": "metasift.review.extraction_table",
    "extraction_table": "metasift.review.extraction_table",
    "PrismaFlow": "metasift.review.prisma",
    "Review": "metasift.review.project",
    "DECISIONS": "metasift.review.protocol",
    "STAGES": "metasift.review.protocol",
    "Protocol": "metasift.review.protocol",
    "ProtocolError": "metasift.review.protocol",
    "load_protocol": "metasift.review.protocol",
    "parse_protocol": "metasift.review.protocol",
    "SignallingQuestion": "metasift.review.rob2",
    "propose_judgement": "metasift.review.rob2",
}

__all__ = [
    "BUILTIN_TOOLS",
    "DECISIONS",
    "STAGES",
    "AgreementResult",
    "AppraisalTool",
    "Coefficient",
    "ExtractionTable",
    "PairAgreement",
    "PrismaFlow",
    "Protocol",
    "ProtocolError",
    "Review",
    "SignallingQuestion",
    "ToolDomain",
    "agreement",
    "ahrq_quality",
    "appraisal_tool",
    "cohen_kappa",
    "custom_tool",
    "extraction_table",
    "fleiss_kappa",
    "krippendorff_alpha",
    "load_protocol",
    "parse_protocol",
    "percent_agreement",
    "propose_judgement",
    "rob2_overall",
    "write_template",
]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'metasift.review' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
