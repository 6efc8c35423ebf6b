"""Shared fixtures of the main-window and panel tests (imported by the test modules).

Each test gets its own settings file (in ``tmp_path``), its own demo copy
(the root conftest points ``XDG_DATA_HOME`` into a temporary folder) and a
prompter whose answers the test sets, so no modal dialog ever blocks.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from orchestrator_gui.ui.main_window import MainWindow  # noqa: E402
from orchestrator_gui.ui.settings import AppSettings  # noqa: E402


class ScriptedPrompter:
    """Answers the questions panels ask, and records them."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.confirm_answer = True
        self.choice: str | None = None
        self.texts: list[str | None] = []
        self.number: int | None = None
        self.notices: list[str] = []

    def confirm(self, title: str, text: str, *, ok: str = "OK") -> bool:
        self.asked.append(("confirm", text))
        return self.confirm_answer

    def choose(self, title: str, text: str, choices: list[str], *, detail: str = "") -> str | None:
        self.asked.append(("choose", text))
        self.offered = list(choices)
        return self.choice

    def ask_text(self, title: str, label: str, text: str = "", *, multiline: bool = False) -> str | None:
        self.asked.append(("text", label))
        return self.texts.pop(0) if self.texts else None

    def ask_int(self, title: str, label: str, value: int, minimum: int, maximum: int) -> int | None:
        self.asked.append(("int", label))
        return self.number

    def notify(self, title: str, text: str) -> None:
        self.notices.append(text)


def make_window(qtbot, tmp_path: Path, *, settings: AppSettings | None = None, **kwargs) -> MainWindow:
    """A shown main window with scripted prompts and private settings (nothing opened yet)."""
    settings = settings or AppSettings.at(tmp_path / "settings.ini")
    win = MainWindow(settings, **kwargs)
    qtbot.addWidget(win)
    prompter = ScriptedPrompter()
    win.prompter = prompter
    win.actions_.prompter = prompter
    for p in win.panels:
        p.ctx.prompter = prompter
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    return win


def changed_lines(before: bytes, after: bytes) -> list[str]:
    """The lines removed or added between two versions of a file (diff order)."""
    a = before.decode("utf-8").splitlines(keepends=True)
    b = after.decode("utf-8").splitlines(keepends=True)
    return [ln.rstrip("\r\n") for ln in difflib.unified_diff(a, b, n=0, lineterm="")
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def byte_diff_positions(before: bytes, after: bytes) -> list[int]:
    """Offsets where two equally long byte strings differ."""
    assert len(before) == len(after), "lengths differ"
    return [i for i, (x, y) in enumerate(zip(before, after)) if x != y]


def graph_content(graph) -> tuple[list, list]:
    """Nodes and edges as plain data (positions included, dynamic values excluded)."""
    nodes = sorted((n.model_dump(mode="json") for n in graph.nodes()), key=lambda d: d["id"])
    edges = sorted((e.model_dump(mode="json") for e in graph.edges()), key=lambda d: (d["src"], d["dst"], d["type"]))
    return nodes, edges
