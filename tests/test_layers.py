"""The layering: the pure layers never load Qt or vispy, and the import-linter contracts hold (and can fail)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PURE = ["orchestrator_gui.model", "orchestrator_gui.formats", "orchestrator_gui.engine", "orchestrator_gui.store",
        "orchestrator_gui.migration", "orchestrator_gui.workspace", "orchestrator_gui.fleet"]

PROBE = """
import importlib, json, pkgutil, sys
names = []
for pkg_name in %r:
    pkg = importlib.import_module(pkg_name)
    names.append(pkg_name)
    for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
        importlib.import_module(info.name)
        names.append(info.name)
import orchestrator_gui.cli.main  # the headless CLI must stay Qt-free too
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "vispy", "PyQt5", "PyQt6"))
print(json.dumps({"imported": names, "gui_modules": bad}))
"""


def test_pure_layers_import_no_qt_and_no_vispy():
    out = subprocess.run([sys.executable, "-c", PROBE % (PURE,)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["gui_modules"] == []
    # the probe really walked the packages (guards against an empty walk passing vacuously)
    assert "orchestrator_gui.formats.schedules" in result["imported"]
    assert "orchestrator_gui.formats.todo" in result["imported"]


def _lint(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the package under ``root``, with the project's contracts, in a fresh process."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_import_contracts_hold():
    pytest.importorskip("importlinter")
    res = _lint(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 kept, 0 broken" in res.stdout


@pytest.mark.parametrize("module, imported", [
    ("ui/_probe.py", "orchestrator_gui.cli.output"),            # a face importing another face
    ("engine/_probe.py", "orchestrator_gui.store"),             # execution importing persistence
    ("model/_probe.py", "orchestrator_gui.workspace.session"),  # a lower layer importing a higher one
    ("render/_probe.py", "orchestrator_gui.engine.tasks"),      # drawing code reaching past the model
])
def test_import_contracts_fail_on_a_forbidden_import(tmp_path, module, imported):
    pytest.importorskip("importlinter")
    shutil.copytree(ROOT / "orchestrator_gui", tmp_path / "orchestrator_gui",
                    ignore=shutil.ignore_patterns("__pycache__", "resources"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "orchestrator_gui" / module).write_text(f"import {imported}\n", encoding="utf-8")
    res = _lint(tmp_path)
    assert res.returncode == 1, res.stdout
    assert "BROKEN" in res.stdout.upper() and imported in res.stdout
