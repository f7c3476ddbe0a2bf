"""Make the helper module ``strategies`` of this folder importable (pytest runs in importlib
mode, which does not put test folders on ``sys.path``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
