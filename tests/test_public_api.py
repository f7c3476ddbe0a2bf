"""The public surface: ``__all__`` of metasift and metasift.stats equals docs/api.md."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

API_DOC = Path(__file__).parents[1] / "docs" / "api.md"


def documented() -> dict[str, set[str]]:
    """Names in the first column of each table, per ``## module`` section of docs/api.md."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in API_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = line[3:].strip().strip("`")
            sections[current] = set()
        elif current and (match := re.match(r"\|\s*`([A-Za-z_][A-Za-z0-9_]*)`\s*\|", line)):
            sections[current].add(match.group(1))
    return sections


@pytest.mark.parametrize("module", ["metasift", "metasift.stats"])
def test_all_matches_the_docs(module: str) -> None:
    exported = set(importlib.import_module(module).__all__)
    docs = documented()[module]
    assert exported - docs == set(), f"exported by {module} but not in docs/api.md"
    assert docs - exported == set(), f"in docs/api.md but not exported by {module}"


@pytest.mark.parametrize("module", ["metasift", "metasift.stats"])
def test_every_exported_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    for name in mod.__all__:
        assert hasattr(mod, name), name
