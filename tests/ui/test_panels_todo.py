"""TODO panel on the demo: every action is the same minimal edit the TodoDocument API makes, undoable."""

from __future__ import annotations

from PySide6.QtCore import Qt
from window_helpers import byte_diff_positions

from orchestrator_gui.formats.todo import TodoDocument, load_todo
from orchestrator_gui.ui.panels.todo import item_keys


def _doc(window) -> TodoDocument:
    return load_todo(window.session.workspace.todo)


def _expected(before: bytes, path, edit) -> bytes:
    doc = TodoDocument(path, before)
    edit(doc)
    return doc.data


def test_checkbox_toggle_changes_exactly_one_byte_and_undo_restores(window, qtbot):
    path = window.session.workspace.todo
    before = path.read_bytes()
    item = next(i for i in _doc(window).items if i.state == "open")
    row = window.todo.row_of_line(item.line)
    row.setCheckState(0, Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: path.read_bytes() != before)
    after = path.read_bytes()
    assert len(byte_diff_positions(before, after)) == 1
    assert after[byte_diff_positions(before, after)[0]:][:1] in (b"x", b"X")
    # the graph follows the file, the panel shows it
    nid = window.session.node_for("TODO.md", line=item.line)
    assert window.session.graph.node(nid).status.value == "done"
    assert window.todo.row_of_line(item.line).checkState(0) == Qt.CheckState.Checked
    window.acts["undo"].trigger()
    assert path.read_bytes() == before
    assert window.session.graph.node(nid).status.value == "open"
    assert window.todo.row_of_line(item.line).checkState(0) == Qt.CheckState.Unchecked
    window.acts["redo"].trigger()
    assert path.read_bytes() == after


def test_filters_and_search(window):
    doc = _doc(window)
    panel = window.todo
    panel.filter.setCurrentText("Open")
    assert sorted(panel.visible_items()) == sorted(i.text for i in doc.items if i.state == "open")
    panel.filter.setCurrentText("Done")
    done = {i.text for i in doc.items if i.state == "done"}
    # an open parent stays visible (greyed context) when one of its sub-items is done
    parents = {i.text for i in doc.items if any(c.parent_line == i.line and c.state == "done" for c in doc.items)}
    shown = set(panel.visible_items())
    assert done <= shown and shown - done <= parents
    panel.filter.setCurrentText("All")
    panel.search.setText("tidewatch command")
    hits = panel.visible_items()
    assert hits and all("tidewatch" in h.lower() or "command" in h.lower() for h in hits)
    assert len(hits) < len(doc.items)
    panel.search.setText("")
    assert len(panel.visible_items()) == len(doc.items)


def test_add_edit_indent_outdent_delete_match_the_document_api(window, qtbot):
    path = window.session.workspace.todo
    panel = window.todo
    prompter = panel.ctx.prompter
    doc = _doc(window)
    heading = next(h for h in doc.headings if h.text == "Command line")

    # add in the selected heading's section
    before = path.read_bytes()
    panel.select_line(heading.line)
    prompter.texts = ["TW-050 Added from the panel"]
    panel.add_item()
    assert path.read_bytes() == _expected(before, path, lambda d: d.add("TW-050 Added from the panel",
                                                                       section="Command line"))
    new_line = next(i.line for i in _doc(window).items if i.text == "TW-050 Added from the panel")
    assert panel.current_key()[1] == "TW-050 Added from the panel"

    # edit the title in place
    before = path.read_bytes()
    row = panel.row_of_line(new_line)
    row.setText(0, "TW-050 Renamed in place")
    qtbot.waitUntil(lambda: path.read_bytes() != before)
    assert path.read_bytes() == _expected(before, path, lambda d: d.edit(new_line, "TW-050 Renamed in place"))

    # indent under the item above, then outdent back
    before = path.read_bytes()
    panel.select_line(new_line)
    panel.indent_current()
    assert path.read_bytes() == _expected(before, path, lambda d: d.indent(new_line))
    indented = path.read_bytes()
    panel.outdent_current()
    assert path.read_bytes() == _expected(indented, path, lambda d: d.outdent(new_line))

    # delete (confirmed)
    before = path.read_bytes()
    panel.select_line(new_line)
    panel.delete_current()
    assert path.read_bytes() == _expected(before, path, lambda d: d.remove(new_line))
    assert "TW-050 Renamed in place" not in panel.visible_items()

    # every step is on the one undo stack: undo them all and the file is back
    history = window.session.undo
    while history.can_undo:
        assert history.undo() is not None
    assert b"TW-050" not in path.read_bytes()


def test_drag_reorder_moves_the_item_with_its_details(window):
    path = window.session.workspace.todo
    panel = window.todo
    doc = _doc(window)
    keys = item_keys(doc)
    first, second = [i for i in doc.items if i.section == "Foundations"][:2]
    before = path.read_bytes()
    assert panel.move_item(keys[second.line], keys[first.line])
    assert path.read_bytes() == _expected(before, path, lambda d: d.move(second.line, first.line))
    moved = _doc(window)
    titles = [i.text for i in moved.items if i.section == "Foundations"]
    assert titles[:2] == [second.text, first.text]
    assert sorted(path.read_bytes().split(b"\n")) == sorted(before.split(b"\n"))  # same lines, new order
    # dropping below an item: first goes back below second, i.e. the original order
    keys = item_keys(moved)
    line_first = next(i.line for i in moved.items if i.text == first.text)
    line_second = next(i.line for i in moved.items if i.text == second.text)
    assert panel.move_item(keys[line_first], keys[line_second], below=False)
    assert path.read_bytes() == before


def test_conflict_offers_merge_and_reload(window):
    path = window.session.workspace.todo
    panel = window.todo
    prompter = panel.ctx.prompter
    items = [i for i in _doc(window).items if i.state == "open"]
    mine, theirs = items[0], items[1]
    original = path.read_bytes()
    # another program ticks "theirs" and the watcher has not reported it yet
    outside = _expected(original, path, lambda d: d.check(theirs.line))
    path.write_bytes(outside)

    prompter.choice = "Merge"
    assert panel.set_done(mine.line, True)
    merged = path.read_bytes()
    assert merged == _expected(outside, path, lambda d: d.check(mine.line))
    assert ("choose", "TODO.md was changed by another program since this panel loaded it.") in prompter.asked

    # Reload: the outside version wins, ours is not written
    prompter.choice = "Reload"
    outside2 = _expected(merged, path, lambda d: d.uncheck(theirs.line))
    path.write_bytes(outside2)
    assert not panel.set_done(items[2].line, True)
    assert path.read_bytes() == outside2
    row = panel.row_of_line(items[2].line)
    assert row.checkState(0) == Qt.CheckState.Unchecked


def test_titles_are_shown_clean_but_edited_as_written(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit

    doc = _doc(window)
    item = next(i for i in doc.items if i.text.startswith("**") and i.state in ("open", "done"))
    panel = window.todo
    assert panel.select_line(item.line)
    row = panel.row_of_line(item.line)
    assert not row.text(0).startswith("**") and row.text(0) in item.text  # no Markdown markers on screen
    path = window.session.workspace.todo
    before = path.read_bytes()
    panel.edit_current()
    qtbot.waitUntil(lambda: panel.tree.viewport().findChild(QLineEdit) is not None)
    editor = panel.tree.viewport().findChild(QLineEdit)
    assert editor.text() == item.text  # the editor starts from the file's text, markers included
    panel.tree.closePersistentEditor(row, 0)
    assert path.read_bytes() == before  # looking is not editing
    # Ticking its box changes one byte: the cleaned title shown is not taken for a title edit.
    row.setCheckState(0, Qt.CheckState.Unchecked if item.state == "done" else Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: path.read_bytes() != before)
    after = path.read_bytes()
    assert len(after) == len(before) and sum(a != b for a, b in zip(after, before)) == 1


def _open_editor(panel, qtbot, line: int, typed: str):
    from PySide6.QtWidgets import QLineEdit

    row = panel.row_of_line(line)
    panel.tree.setCurrentItem(row)
    panel.tree.editItem(row, 0)
    editor = next(w for w in panel.tree.viewport().findChildren(QLineEdit) if w.isVisible())
    editor.setText(typed)
    return editor


def _editor_text(panel):
    from PySide6.QtWidgets import QAbstractItemView, QLineEdit

    if panel.tree.state() != QAbstractItemView.State.EditingState:
        return None
    shown = [w for w in panel.tree.viewport().findChildren(QLineEdit) if w.isVisible()]
    return shown[0].text() if shown else None


def test_an_open_editor_survives_another_programs_write(window, qtbot):
    from PySide6.QtCore import Qt

    path = window.session.workspace.todo
    panel = window.todo
    item = _doc(window).items[3]
    _open_editor(panel, qtbot, item.line, item.text + " (typed before the agent wrote)")
    # An agent inserts a line at the top: every line number below moves.
    path.write_bytes(b"- [ ] Inserted by an agent\n" + path.read_bytes())
    qtbot.waitUntil(lambda: b"Inserted by an agent" in panel.doc.original, timeout=10000)
    # Still editing the same item (found by identity, one line lower), with the typed text.
    assert _editor_text(panel) == item.text + " (typed before the agent wrote)"
    assert panel.current_key()[1] == item.text
    editor_row = panel.tree.currentItem()
    assert editor_row.text(2) == str(item.line + 1)
    qtbot.keyClick(panel.tree.viewport().focusWidget() or panel.tree, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: b"(typed before the agent wrote)" in path.read_bytes(), timeout=5000)
    data = path.read_bytes()
    assert data.startswith(b"- [ ] Inserted by an agent\n")  # their line kept, ours written
    assert data.decode().splitlines()[item.line].endswith(item.text + " (typed before the agent wrote)")


def test_a_write_to_the_item_being_edited_asks_theirs_or_mine(window, qtbot):
    path = window.session.workspace.todo
    panel = window.todo
    prompter = panel.ctx.prompter
    item = _doc(window).items[3]
    _open_editor(panel, qtbot, item.line, "My new title")
    prompter.choice = "Keep mine"
    data = path.read_bytes().decode()
    path.write_bytes(data.replace(item.text, "Their new title", 1).encode())
    qtbot.waitUntil(lambda: b"Their new title" in panel.doc.original, timeout=10000)
    question = prompter.asked[-1][1]
    assert "changed the TODO.md item you are editing" in question
    assert _editor_text(panel) == "My new title"       # mine kept, still editing that item
    assert panel.current_key()[1] == "Their new title"
    # Keep theirs the next time: the editor closes and their text stays.
    prompter.choice = "Keep theirs"
    path.write_bytes(path.read_bytes().replace(b"Their new title", b"Their second title", 1))
    qtbot.waitUntil(lambda: b"Their second title" in panel.doc.original, timeout=10000)
    assert _editor_text(panel) is None
    assert b"My new title" not in path.read_bytes()


def test_the_inspectors_unsaved_text_survives_a_reload(window, qtbot):
    path = window.session.workspace.todo
    item = next(i for i in _doc(window).items if i.state == "open")
    nid = window.session.node_for("TODO.md", line=item.line)
    window.select_node(nid)
    insp = window.inspector
    qtbot.waitUntil(lambda: insp.node_id == nid)
    insp.text.setPlainText("My unsaved rewording")
    assert insp.apply_btn.isEnabled()
    # An agent ticks the item (its node stays, its status changes): the files reload, the graph syncs.
    path.write_bytes(_expected(path.read_bytes(), path, lambda d: d.check(item.line)))
    qtbot.waitUntil(lambda: window.todo.doc is not None and window.todo.doc.item_at(item.line).state == "done",
                    timeout=10000)
    qtbot.waitUntil(lambda: window.session.graph.node(nid).status.value != "open", timeout=10000)
    insp.reload()  # what a files-changed burst does to every panel
    assert insp.text.toPlainText() == "My unsaved rewording"
    assert insp.apply_btn.isEnabled() and insp.revert_btn.isEnabled()
    insp.revert_btn.click()  # Revert shows the node as it is now
    assert insp.text.toPlainText() != "My unsaved rewording"


def test_the_inspectors_unsaved_text_survives_an_agent_rewording_the_same_item(window, qtbot):
    """The item keeps its node when an agent edits its text (identity), so what the user typed stays."""
    path = window.session.workspace.todo
    item = next(i for i in _doc(window).items if i.state == "open")
    nid = window.session.node_for("TODO.md", line=item.line)
    window.select_node(nid)
    insp = window.inspector
    qtbot.waitUntil(lambda: insp.node_id == nid)
    insp.text.setPlainText("My unsaved rewording")
    lines = path.read_bytes().split(b"\n")
    lines[item.line - 1] += b" AGENT"
    path.write_bytes(b"\n".join(lines))
    qtbot.waitUntil(lambda: window.session.graph.node(nid).title.endswith("AGENT"), timeout=10000)
    insp.reload()
    assert window.session.graph.selected_ids() == (nid,) and insp.node_id == nid
    assert insp.text.toPlainText() == "My unsaved rewording" and insp.apply_btn.isEnabled()


def test_add_says_where_the_item_will_go_before_asking(window):
    """GUI review #18: with an item selected the new one lands at its section's end; the dialog says so."""
    panel = window.todo
    prompter = panel.ctx.prompter
    doc = _doc(window)
    item = next(i for i in doc.items if i.parent_line is None and i.section)
    panel.select_line(item.line)
    prompter.texts = [None]  # cancelled: nothing written
    before = window.session.workspace.todo.read_bytes()
    panel.add_item()
    assert prompter.asked[-1] == ("text", f"Title (added at the end of section “{item.section}”)")
    child = next(i for i in doc.items if i.parent_line is not None)
    parent = next(i for i in doc.items if i.line == child.parent_line)
    panel.select_line(child.line)
    panel.add_item()
    assert prompter.asked[-1][1].startswith("Title (added as the last sub-item of “")
    assert parent.text.split()[0] in prompter.asked[-1][1]
    panel.tree.setCurrentItem(None)
    panel.add_item()
    assert prompter.asked[-1][1] == "Title (added at the end of TODO.md)"
    assert window.session.workspace.todo.read_bytes() == before


def test_other_boxes_show_in_words_with_the_file_text_in_a_tooltip(window, qtbot):
    """GUI review #27: a raw ``[-]`` in the State column; FORMATS.md says ``[-]`` means declined."""
    path = window.session.workspace.todo
    data = path.read_bytes()
    path.write_bytes(data.rstrip(b"\n") + b"\n- [-] TW-099 Dropped idea\n- [x][x][-] TW-098 Staged work\n")
    window.todo.reload()
    lines = path.read_bytes().decode().splitlines()
    declined = window.todo.row_of_line(lines.index("- [-] TW-099 Dropped idea") + 1)
    staged = window.todo.row_of_line(lines.index("- [x][x][-] TW-098 Staged work") + 1)
    assert declined.text(1) == "declined" and declined.toolTip(1) == "written as [-]"
    assert staged.text(1) == "done (stages: done, done, declined)"
    assert staged.toolTip(1) == "written as [x][x][-]"
