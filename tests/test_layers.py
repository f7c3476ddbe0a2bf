"""The layer order of DESIGN.md: a module imports only from layers before it.

Checked two ways: import-linter's contract in pyproject.toml, and a direct scan of every
module's imports (which also shows that the check can fail).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "metasift"
#: DESIGN.md, "Layers": earlier layers never import later ones.
LAYERS = ["errors", "stats", "records", "review", "synthesis", "plots", "report", "cli", "web"]


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "metasift":
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def violations(src: Path) -> list[str]:
    found = []
    for path in src.rglob("*.py"):
        rel = path.relative_to(src.parent).with_suffix("")
        module = ".".join(rel.parts)
        own = _layer(module)
        if own is None:
            continue
        for name in _imports(path):
            other = _layer(name)
            if other is not None and other > own:
                found.append(f"{module} imports {name}")
    return found


def test_no_module_imports_a_later_layer() -> None:
    assert violations(SRC) == []


def test_the_scan_catches_a_violation(tmp_path: Path) -> None:
    pkg = tmp_path / "metasift" / "stats"
    pkg.mkdir(parents=True)
    (pkg / "bad.py").write_text("from metasift.plots import forest_plot\n")
    assert violations(tmp_path / "metasift") == ["metasift.stats.bad imports metasift.plots"]


def test_import_linter_contract() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:  # pragma: no cover - the dev extra installs it
        pytest.fail("lint-imports is missing: install the dev extra")
    done = subprocess.run([exe], capture_output=True, text=True, cwd=SRC.parents[1])
    assert done.returncode == 0, done.stdout + done.stderr
