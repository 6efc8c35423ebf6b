"""The app: a selected TODO item's node stays selected when another program edits the item's text (issue 12.4)."""

from __future__ import annotations

from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.ui.theme import display_title


def test_selected_item_stays_selected_and_the_inspector_shows_its_new_text(window, qtbot):
    s = window.session
    path = s.workspace.todo
    item = next(i for i in load_todo(path).items if i.state == "open" and i.depth == 0)
    nid = s.node_for("TODO.md", line=item.line)
    window.select_node(nid, fly=False)
    qtbot.waitUntil(lambda: window.inspector.node_id == nid)
    row = window.todo.tree.currentItem()
    assert row is not None and int(row.text(2)) == item.line
    new_text = f"{item.text} (reworded by an agent)"

    doc = load_todo(path)  # another program rewrites the item in place
    doc.edit(item.line, new_text)
    doc.save()
    # the watcher reloads the file and syncs the graph
    qtbot.waitUntil(lambda: any(n.title == new_text for n in s.graph.nodes()), timeout=10000)

    assert nid in s.graph and s.graph.node(nid).title == new_text  # the same node, with the new text
    assert window.selected_ids() == [nid]
    qtbot.waitUntil(lambda: window.inspector.title.text() == display_title(new_text), timeout=5000)
    assert window.inspector.node_id == nid
    # the TODO panel still mirrors it: its row (the new text) is current, and picking it selects the same node
    qtbot.waitUntil(lambda: window.todo.tree.currentItem() is not None
                    and int(window.todo.tree.currentItem().text(2)) == item.line, timeout=5000)
    other = next(i for i in load_todo(path).items if i.line != item.line)
    window.select_node(s.node_for("TODO.md", line=other.line), fly=False)
    qtbot.waitUntil(lambda: window.selected_ids() != [nid], timeout=5000)
    assert window.todo.select_line(item.line)
    qtbot.waitUntil(lambda: window.selected_ids() == [nid], timeout=5000)
