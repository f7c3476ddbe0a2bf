"""Bibliographic records: reading every database export, writing, and deduplication.

Public names: :func:`read_records`, :func:`read_records_bytes`, :func:`write_records`,
:func:`deduplicate`, the result classes :class:`ImportResult`, :class:`DedupResult`,
:class:`Problem`, and :data:`RECORD_COLUMNS`.
"""

from __future__ import annotations

from metasift.records._dedup import DedupResult, deduplicate
from metasift.records._model import RECORD_COLUMNS, ImportResult, Problem
from metasift.records._read import read_records, read_records_bytes
from metasift.records._write import write_records

__all__ = [
    "RECORD_COLUMNS",
    "DedupResult",
    "ImportResult",
    "Problem",
    "deduplicate",
    "read_records",
    "read_records_bytes",
    "write_records",
]
