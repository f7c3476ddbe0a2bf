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
