"""Small texts users read: dialog width, interval wording, provenance, the activation message."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QInputDialog  # noqa: E402

from orchestrator_gui.ui.graph_actions import _short  # noqa: E402
from orchestrator_gui.ui.panels.schedules import every  # noqa: E402
from orchestrator_gui.ui.prompts import TEXT_DIALOG_WIDTH, Prompter  # noqa: E402


def test_text_dialogs_are_wide_enough_for_a_todo_line(qtbot):
    seen = {}

    def answer():
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, QInputDialog):
            QTimer.singleShot(20, answer)
            return
        seen["width"] = dlg.width()
        dlg.setTextValue("TW-031 Export the tide table as CSV")
        dlg.accept()

    QTimer.singleShot(20, answer)
    got = Prompter(None).ask_text("Add TODO item — Loop Orchestrator", "Title")
    assert got == "TW-031 Export the tide table as CSV"
    assert seen["width"] >= TEXT_DIALOG_WIDTH  # Qt's default was ~200 px


@pytest.mark.parametrize("n, unit, text", [("10", "minute", "10 minutes"), ("1", "hour", "1 hour"),
                                           ("7", "day", "7 days"), (None, None, "? ?")])
def test_intervals_read_as_people_say_them(n, unit, text):
    assert every(n, unit) == text


def test_the_activation_message_cuts_at_a_word_without_markdown():
    title = "TW-001 Project scaffold: `pyproject.toml`, `tidewatch` console script and the first test run"
    short = _short(title)
    assert "`" not in short and short.endswith("…") and len(short) <= 61
    assert title.replace("`", "").startswith(short[:-1])  # whole words only
    assert _short("Short title") == "Short title"
