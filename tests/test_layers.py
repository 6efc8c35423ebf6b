"""The pure layers (model, formats, engine, store) must never load Qt or vispy."""

from __future__ import annotations

import json
import subprocess
import sys

PURE = ["orchestrator_gui.model", "orchestrator_gui.formats", "orchestrator_gui.engine", "orchestrator_gui.store", "orchestrator_gui.migration"]

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
