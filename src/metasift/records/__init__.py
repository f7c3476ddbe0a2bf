"""Bibliographic records: reading every database export, writing, and deduplication.

Public names: :func:`read_records`, :func:`read_records_bytes`, :func:`write_records`,
:func:`deduplicate`, :func:`simulate_records`, the result classes :class:`ImportResult`,
:class:`DedupResult`, :class:`Problem`, and :data:`RECORD_COLUMNS`.
"""

from __future__ import annotations

from metasift.records._dedup import deduplicate
from metasift.records._dedup_result import DedupResult
from metasift.records._model import RECORD_COLUMNS, ImportResult, Problem
from metasift.records._read import read_records, read_records_bytes
from metasift.records._simulate import simulate_records
from metasift.records._write import write_records

__all__ = [
    "RECORD_COLUMNS",
    "DedupResult",
    "ImportResult",
    "Problem",
    "deduplicate",
    "read_records",
    "read_records_bytes",
    "simulate_records",
    "write_records",
]
