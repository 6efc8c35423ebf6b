"""Help menu: the generated Keyboard Shortcuts list, the User Guide's lookup, About's facts."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from PySide6.QtGui import QAction, QKeySequence  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

import orchestrator_gui  # noqa: E402
from orchestrator_gui.ui.errors import log_path  # noqa: E402
from orchestrator_gui.ui.help_dialogs import (  # noqa: E402
    MarkdownGuide,
    ShortcutsDialog,
    about_text,
    guide_candidates,
    open_user_guide,
    show_about,
)

ROOT = Path(__file__).resolve().parents[2]
NATIVE = QKeySequence.SequenceFormat.NativeText


def _actions_with_keys(win) -> dict[int, QAction]:
    return {id(a): a for a in win.findChildren(QAction) if any(not k.isEmpty() for k in a.shortcuts())}


def test_help_menu_holds_guide_shortcuts_tour_and_about(window):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    names = [a.iconText() for a in help_menu.actions() if not a.isSeparator()]
    assert names == ["User Guide", "Keyboard Shortcuts", "Take the Tour", "About"]
    assert window.acts["guide"].shortcut().toString(NATIVE) == "F1"


def test_every_shortcut_shown_exists_as_an_action_and_every_action_shortcut_is_shown(window, qtbot):
    dlg = ShortcutsDialog(window)
    qtbot.addWidget(dlg)
    shown = dlg.shown()
    actions = _actions_with_keys(window)
    for keys, name, menu in shown:
        matches = [a for a in actions.values()
                   if a.iconText() == name and " or ".join(k.toString(NATIVE) for k in a.shortcuts()) == keys]
        assert len(matches) == 1, (keys, name, menu)
    assert len(shown) == len(actions)  # nothing with a shortcut left out
    # One key, one action: Qt ignores an ambiguous shortcut silently.
    assert len({keys for keys, _, _ in shown}) == len(shown)
    rows = {name: (keys, menu) for keys, name, menu in shown}
    assert rows["Undo"] == (QKeySequence(QKeySequence.StandardKey.Undo).toString(NATIVE), "Edit")
    assert rows["Focus on Selection"] == ("F", "View")
    assert rows["Generate"] == ("G", "Graph")
    assert rows["User Guide"] == ("F1", "Help")


def test_a_new_action_shortcut_appears_in_the_list_without_editing_it(window, qtbot):
    act = QAction("Frobnicate", window)
    act.setShortcut(QKeySequence("Ctrl+Alt+J"))
    next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools").addAction(act)
    dlg = ShortcutsDialog(window)
    qtbot.addWidget(dlg)
    assert ("Ctrl+Alt+J", "Frobnicate", "Tools") in dlg.shown()


def test_about_names_the_version_from_pyproject_the_workspace_settings_and_logs(window, qtbot):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert orchestrator_gui.__version__ == version
    text = about_text(window)
    assert text.splitlines()[0] == f"Loop Orchestrator {version}"
    assert f"Workspace: {window.session.root}" in text
    assert f"Settings: {window.settings.file}" in text and window.settings.file.endswith("settings.ini")
    assert f"Logs: {log_path()}" in text
    box = show_about(window)
    qtbot.addWidget(box)
    assert box.isVisible()  # open(), not exec(): the app does not wait for it
    assert box.text() == text
    assert window.findChild(QMessageBox) is box


def test_user_guide_opens_the_built_html_when_there(window, tmp_path):
    page = tmp_path / "build" / "docs-html" / "guide.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html>guide</html>")
    opened = []
    assert open_user_guide(window, roots=[tmp_path], open_url=opened.append) == "html"
    assert [u.toLocalFile() for u in opened] == [str(page)]
    # a bundle keeps the built site in docs/ (packaging/bundle.py)
    bundle = tmp_path / "bundle"
    (bundle / "docs").mkdir(parents=True)
    (bundle / "docs" / "guide.html").write_text("<html>guide</html>")
    opened.clear()
    assert open_user_guide(window, roots=[bundle], open_url=opened.append) == "html"
    assert opened[0].toLocalFile() == str(bundle / "docs" / "guide.html")


def test_user_guide_falls_back_to_the_markdown_then_to_a_message(window, qtbot, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# The guide\n\nOpen a workspace with **File ▸ Open Folder**.\n")
    opened = []
    assert open_user_guide(window, roots=[tmp_path], open_url=opened.append) == "markdown"
    assert opened == []
    dlg = window.findChild(MarkdownGuide)
    assert dlg is not None and dlg.isVisible()
    assert "Open a workspace with File ▸ Open Folder." in dlg.browser.toPlainText()
    dlg.close()
    assert open_user_guide(window, roots=[tmp_path / "nothing"], open_url=opened.append) == "missing"
    assert opened == [] and "scripts/build-docs" in window.prompter.notices[-1]


def test_the_checkout_build_folder_is_one_place_searched_for_the_guide():
    assert ROOT / "build" / "docs-html" / "guide.html" in guide_candidates()
