"""The review project: protocol (``review.toml``), store, screening, agreement, PRISMA.

Public names: :class:`Review` (a review folder and everything a team does in it),
:class:`Protocol` with :func:`load_protocol`, :func:`parse_protocol`,
:func:`write_template` and :class:`ProtocolError`; the agreement statistics
:func:`agreement`, :func:`cohen_kappa`, :func:`fleiss_kappa`, :func:`krippendorff_alpha`,
:func:`percent_agreement` with :class:`AgreementResult` and :class:`Coefficient`; and
:class:`PrismaFlow`.
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

__all__ = [
    "DECISIONS",
    "STAGES",
    "AgreementResult",
    "Coefficient",
    "PairAgreement",
    "PrismaFlow",
    "Protocol",
    "ProtocolError",
    "Review",
    "agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "load_protocol",
    "parse_protocol",
    "percent_agreement",
    "write_template",
]
