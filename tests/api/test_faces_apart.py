"""The desktop face and the API face are siblings: the import contract breaks if either imports the other."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_layers import ROOT, test_import_contracts_fail_on_a_forbidden_import


@pytest.mark.parametrize("module, imported", [
    ("ui/_probe.py", "orchestrator_gui.api.app"),    # the window reaching into the API (app.py injects it instead)
    ("api/_probe.py", "orchestrator_gui.ui.theme"),  # the API reaching into Qt widgets
])
def test_ui_and_api_must_not_import_each_other(tmp_path: Path, module: str, imported: str) -> None:
    # The same check as the layer tests' forbidden imports (a copy of the package with one added import).
    test_import_contracts_fail_on_a_forbidden_import(tmp_path, module, imported)


def test_the_ui_package_does_not_import_the_api():
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "orchestrator_gui" / "ui").rglob("*.py"))
    assert "orchestrator_gui.api" not in text
