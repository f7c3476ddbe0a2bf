"""The CLI tests share the review tests' helpers and fixtures (tests/review/review_support.py
and the hand-computed values of tests/review/test_end_to_end.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))

from review_support import database_url, postgres_server

__all__ = ["database_url", "postgres_server"]
