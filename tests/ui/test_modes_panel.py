"""Modes panel driven through its real widgets and real dialogs: edit, add, remove, reload, conflict prompt."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox  # noqa: E402

from orchestrator_gui.formats.roomodes import load_modes  # noqa: E402
from orchestrator_gui.ui.errors import ErrorReporter  # noqa: E402
from orchestrator_gui.ui.panels.base import PanelContext  # noqa: E402
from orchestrator_gui.ui.panels.modes import ModesPanel  # noqa: E402
from orchestrator_gui.ui.prompts import Prompter  # noqa: E402
from orchestrator_gui.ui.session import WorkspaceSession  # noqa: E402
from orchestrator_gui.ui.settings import AppSettings  # noqa: E402

BASE = """\
customModes:
  - slug: writer
    name: Writer
    roleDefinition: You write.
    groups:
      - read
      - edit
    source: project
  - slug: reviewer
    name: Reviewer
    roleDefinition: |-
      You review.
      Kindly.
    groups:
      - read
    source: project
"""


class Dialogs:
    """Answers the real modal dialogs as they open (a timer polls for them), and records what they said."""

    def __init__(self) -> None:
        self.answers: list = []
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        box = QApplication.activeModalWidget()
        if box is None or not self.answers or not box.isVisible():
            return
        answer = self.answers.pop(0)
        if isinstance(box, QMessageBox):
            self.seen.append(f"{box.text()}\n{box.informativeText()}")
            button = next(b for b in box.buttons() if b.text().replace("&", "") == answer)
            button.click()
        elif isinstance(box, QInputDialog):
            self.seen.append(box.labelText())
            box.setTextValue(answer)
            box.accept()


@pytest.fixture
def setup(qtbot, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".roomodes").write_text(BASE, encoding="utf-8")
    reporter = ErrorReporter()
    session = WorkspaceSession(ws, reporter, in_memory=True)
    panel = ModesPanel(PanelContext(reporter, Prompter(), AppSettings.at(tmp_path / "settings.ini")))
    panel.ctx.prompter.parent = panel
    qtbot.addWidget(panel)
    panel.resize(700, 800)
    panel.show()
    qtbot.waitExposed(panel)
    panel.install_selection_sync()
    panel.set_session(session)
    # The main window's part: the graph's selection follows the panel's pick, and a file change
    # reloads the panel, which then mirrors the graph's selection again.
    selected: list[str] = []

    def pick(node_id):
        selected[:] = [node_id]
        panel.mirror_selection([session.graph.node(node_id)])

    def files_changed(names):
        panel.on_files_changed(names)
        panel.mirror_selection([session.graph.node(i) for i in selected if i in session.graph])

    panel.node_requested.connect(pick)
    session.files_changed.connect(files_changed)
    dialogs = Dialogs()
    yield panel, session, ws / ".roomodes", dialogs
    dialogs.timer.stop()
    session.close()


def click_row(qtbot, panel, slug):
    item = panel._item(slug)
    rect = panel.list.visualItemRect(item)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.current_slug() == slug


def type_into(qtbot, widget, text):
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def test_clicking_a_row_selects_its_node_and_editing_the_role_changes_only_those_bytes(qtbot, setup):
    panel, session, path, _ = setup
    assert [panel.list.topLevelItem(i).text(2) for i in range(2)] == ["read,edit", "read"]
    with qtbot.waitSignal(panel.node_requested, timeout=5000) as picked:
        click_row(qtbot, panel, "reviewer")
    node = session.graph.node(picked.args[0])
    assert node.source.file == ".roomodes" and node.source.key == "mode/reviewer"
    assert panel.form.widgets["roleDefinition"].toPlainText() == "You review.\nKindly."
    assert not panel.btn_save.isEnabled()
    type_into(qtbot, panel.form.widgets["roleDefinition"], "You review code.")
    assert panel.btn_save.isEnabled()
    qtbot.mouseClick(panel.btn_save, Qt.MouseButton.LeftButton)
    assert path.read_text() == BASE.replace("      You review.\n      Kindly.\n", "      You review code.\n")
    assert session.reporter.last is None
    assert not panel.form.dirty and panel.current_slug() == "reviewer"
    session.undo.undo()  # Edit ▸ Undo writes the old bytes back
    assert path.read_text() == BASE


def test_groups_and_file_regex_from_the_boxes(qtbot, setup):
    panel, session, path, _ = setup
    click_row(qtbot, panel, "reviewer")
    qtbot.mouseClick(panel.form.group_boxes["command"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.form.group_boxes["edit"], Qt.MouseButton.LeftButton)
    type_into(qtbot, panel.form.file_regex, r"\.md$")
    qtbot.mouseClick(panel.btn_save, Qt.MouseButton.LeftButton)
    assert path.read_text() == BASE.replace(
        "      - read\n    source: project\n",
        "      - read\n      - - edit\n        - fileRegex: \\.md$\n      - command\n    source: project\n")
    assert load_modes(path).mode("reviewer").groups[1].options == {"fileRegex": r"\.md$"}


def test_a_bad_value_disables_save_and_says_why(qtbot, setup):
    panel, _, path, _ = setup
    click_row(qtbot, panel, "writer")
    type_into(qtbot, panel.form.widgets["name"], " ")
    assert not panel.btn_save.isEnabled()
    assert "name must not be empty" in panel.form.problems.text() and panel.form.problems.isVisible()
    assert path.read_text() == BASE


def test_a_reload_from_disk_keeps_the_selection_and_unsaved_text_and_merges_other_fields(qtbot, setup):
    panel, _, path, _ = setup
    click_row(qtbot, panel, "reviewer")
    type_into(qtbot, panel.form.widgets["name"], "Critic")
    doc = load_modes(path)  # an agent edits another field of the same mode
    doc.set_field("reviewer", "roleDefinition", "You review everything.")
    path.write_bytes(doc.data)
    qtbot.waitUntil(lambda: panel.doc.record("reviewer")["roleDefinition"] == "You review everything.", timeout=10000)
    assert panel.current_slug() == "reviewer" and panel.form.widgets["name"].text() == "Critic"
    assert panel.form.widgets["roleDefinition"].toPlainText() == "You review everything."
    qtbot.mouseClick(panel.btn_save, Qt.MouseButton.LeftButton)  # different fields: nothing to ask
    assert path.read_bytes() == doc.data.replace(b"name: Reviewer", b"name: Critic")


@pytest.mark.parametrize("answer", ["Keep mine", "Keep theirs", "Cancel"])
def test_the_same_field_changed_on_disk_asks_with_both_values(qtbot, setup, answer):
    panel, _, path, dialogs = setup
    click_row(qtbot, panel, "writer")
    type_into(qtbot, panel.form.widgets["roleDefinition"], "Mine.")
    type_into(qtbot, panel.form.widgets["name"], "Scribe")
    doc = load_modes(path)
    doc.set_field("writer", "roleDefinition", "Theirs.")
    path.write_bytes(doc.data)
    qtbot.waitUntil(lambda: panel.doc.record("writer")["roleDefinition"] == "Theirs.", timeout=10000)
    assert panel.form.widgets["roleDefinition"].toPlainText() == "Mine."  # the form keeps mine
    dialogs.answers = [answer]
    qtbot.mouseClick(panel.btn_save, Qt.MouseButton.LeftButton)
    assert len(dialogs.seen) == 1
    assert "changed mode “Writer”" in dialogs.seen[0]
    assert "theirs “Theirs.”, mine “Mine.” (was “You write.”)" in dialogs.seen[0]
    mode = load_modes(path).mode("writer")
    if answer == "Cancel":
        assert path.read_bytes() == doc.data and panel.form.dirty
        assert panel.form.widgets["roleDefinition"].toPlainText() == "Mine."
    else:
        assert mode.name == "Scribe"
        assert mode.role_definition == ("Mine." if answer == "Keep mine" else "Theirs.")


def test_add_and_remove_through_the_buttons(qtbot, setup):
    panel, _, path, dialogs = setup
    dialogs.answers = ["tester", "🧪 Tester", "You test.\nThoroughly."]
    qtbot.mouseClick(panel.btn_add, Qt.MouseButton.LeftButton)
    assert dialogs.seen[0].startswith("Slug")
    assert path.read_text() == BASE + ("  - slug: tester\n    name: 🧪 Tester\n    roleDefinition: |-\n"
                                       "      You test.\n      Thoroughly.\n    groups:\n      - read\n"
                                       "    source: project\n")
    assert panel.current_slug() == "tester"
    click_row(qtbot, panel, "writer")
    dialogs.answers = ["Cancel"]
    qtbot.mouseClick(panel.btn_remove, Qt.MouseButton.LeftButton)
    assert "Remove the mode “Writer”" in dialogs.seen[-1] and "slug: writer" in path.read_text()
    dialogs.answers = ["Remove"]
    qtbot.mouseClick(panel.btn_remove, Qt.MouseButton.LeftButton)
    assert path.read_text() == BASE.split("  - slug: writer")[0] + BASE.split("    source: project\n", 1)[1] + (
        "  - slug: tester\n    name: 🧪 Tester\n    roleDefinition: |-\n      You test.\n      Thoroughly.\n"
        "    groups:\n      - read\n    source: project\n")
    assert [panel.list.topLevelItem(i).text(0) for i in range(panel.list.topLevelItemCount())] == ["reviewer",
                                                                                                    "tester"]


def test_the_modes_dock_is_a_tab_beside_todo_and_schedules(qtbot):
    from PySide6.QtWidgets import QMainWindow, QWidget

    from orchestrator_gui.ui.docks import DEFAULT, DockLayout

    def window(titles):
        win = QMainWindow()
        qtbot.addWidget(win)
        win.setCentralWidget(QWidget())
        layout = DockLayout(win, {t: QWidget() for t in titles})
        win.show()
        qtbot.waitExposed(win)
        return win, layout

    titles = [row[0] for row in DEFAULT]
    win, layout = window(titles)
    tabs = win.tabifiedDockWidgets(layout.docks["TODO"])
    assert layout.docks["Modes"] in tabs and layout.docks["Schedules"] in tabs
    assert win.dockWidgetArea(layout.docks["Modes"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    # a window built without a Modes panel still gets its default layout
    win, layout = window([t for t in titles if t != "Modes"])
    assert "Modes" not in layout.docks and layout.docks["Schedules"] in win.tabifiedDockWidgets(layout.docks["TODO"])
