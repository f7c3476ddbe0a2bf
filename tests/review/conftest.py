"""Fixtures of the review tests: the helper module ``review_support`` of this folder is put
on ``sys.path`` (pytest runs in importlib mode) and its fixtures are registered here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from review_support import database_url, postgres_server

__all__ = ["database_url", "postgres_server"]
