"""Fixtures of the synthesis tests: the helper modules ``synthesis_support`` (this folder)
and ``review_support`` (tests/review) are put on ``sys.path`` (pytest runs in importlib
mode) and the store fixtures are registered here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))

from review_support import database_url, postgres_server

__all__ = ["database_url", "postgres_server"]
