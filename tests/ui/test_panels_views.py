"""Inspector, memory log, runs and search panels on the demo, and cross-selection in both directions."""

from __future__ import annotations

from PySide6.QtCore import Qt
from window_helpers import graph_content

from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.timing import load_timing
from orchestrator_gui.model import operations
from orchestrator_gui.ui.panels.runs import fold_runs, format_duration


def test_inspector_shows_every_section_and_edges_jump(window, qtbot):
    g = window.session.graph
    nid = next(n.id for n in g.nodes() if n.kind.value == "schedule")
    window.select_node(nid, fly=False)
    ins = window.inspector
    node = g.node(nid)
    assert ins.title.text() == node.title
    assert "schedule" in ins.badges.text() and "goal shell" in ins.badges.text()
    assert ins._labels["Source"].text().startswith(".roo/schedules.json:")
    assert ins.source_btn.isEnabled()
    neighbours = {e.dst for e in g.edges_of(nid, "out")} | {e.src for e in g.edges_of(nid, "in")}
    assert set(ins.edge_targets()) == neighbours and neighbours
    assert ins.meta.topLevelItemCount() == len(node.metadata)
    # click an edge: the node at its other end becomes the selection
    item = ins.edges.topLevelItem(0)
    target = item.data(0, Qt.ItemDataRole.UserRole)
    ins.edges.itemClicked.emit(item, 0)
    qtbot.waitUntil(lambda: window.selected_ids() == [target])
    assert ins.node_id == target


def test_inspector_edit_refines_in_place_for_thoughts_and_undo_restores(window):
    g = window.session.graph
    parent = next(n.id for n in g.nodes() if n.kind.value == "plan")
    tx = window.session.undo.push_transaction(operations.add_thought(g, "Draft idea", "first words", parent=parent))
    tid = tx.edits[0].node.id
    window.select_node(tid, fly=False)
    before = graph_content(g)
    ins = window.inspector
    ins.text.setPlainText("Better idea\nwith a clearer plan")
    assert ins.apply_btn.isEnabled()
    ins.apply_btn.click()
    node = g.node(tid)
    assert (node.title, node.content) == ("Better idea", "with a clearer plan")
    assert node.history[-1].title == "Draft idea"
    assert ins.title.text() == "Better idea"
    window.acts["undo"].trigger()
    assert graph_content(g) == before


def test_inspector_edit_of_a_file_backed_node_creates_a_derived_node(window):
    g = window.session.graph
    nid = next(n.id for n in g.nodes() if n.kind.value == "todo")
    original = g.node(nid)
    count = g.number_of_nodes()
    window.select_node(nid, fly=False)
    window.inspector.text.setPlainText("A sharper version of this item")
    window.inspector.apply_btn.click()
    assert g.number_of_nodes() == count + 1
    assert g.node(nid) == original  # the file's node is untouched
    derived = [e.src for e in g.edges_of(nid, "in") if e.type.value == "derived_from"]
    assert [g.node(d).title for d in derived] == ["A sharper version of this item"]


def test_the_inspector_says_a_file_item_stays_and_selects_the_new_thought(window, qtbot):
    """GUI review #12: the new node was not selected and the Inspector kept the typed text, Apply still enabled."""
    g = window.session.graph
    nid = next(n.id for n in g.nodes() if n.kind.value == "todo")
    window.select_node(nid, fly=False)
    ins = window.inspector
    assert ins.apply_btn.text() == "Add as New Thought" and "TODO.md stays as it is" in ins.apply_btn.toolTip()
    ins.text.setPlainText("A sharper version of this item")
    ins.apply_btn.click()
    derived = next(e.src for e in g.edges_of(nid, "in") if e.type.value == "derived_from")
    qtbot.waitUntil(lambda: window.selected_ids() == [derived])
    assert ins.node_id == derived and ins.title.text() == "A sharper version of this item"
    assert not ins.apply_btn.isEnabled() and not ins.revert_btn.isEnabled()
    assert "TODO.md is unchanged" in window.statusBar().currentMessage()
    assert ins.apply_btn.text() == "Apply"  # a thought is refined in place


def test_memory_table_filters_sorts_and_selects_nodes(window, qtbot):
    panel = window.memory
    doc = load_memory(window.session.workspace.memory)
    table = panel.table
    assert table.visible_count() == len(doc.entries)
    mode = doc.entries[0].mode
    table.choice.setCurrentText(mode)
    assert table.visible_count() == sum(e.mode == mode for e in doc.entries)
    table.choice.setCurrentIndex(0)
    table.search.setText("TW-012")
    assert 0 < table.visible_count() < len(doc.entries)
    table.search.setText("")
    table.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    first = table.proxy.index(0, 0).data()
    assert first == max(doc.entries, key=lambda e: e.timestamp).timestamp_raw
    entry = doc.entries[3]
    table.select_key(entry.line)
    nid = window.session.node_for("persistent-memory.md", line=entry.line)
    qtbot.waitUntil(lambda: window.selected_ids() == [nid])


def test_runs_table_chart_and_cross_selection(window, qtbot):
    panel = window.runs
    runs = fold_runs(load_timing(window.session.workspace.timing).rows)
    assert panel.table.model.rowCount() == len(runs) == 22
    assert len(panel.chart.runs) == sum(r.duration_s is not None and r.start is not None for r in runs)
    panel.table.choice.setCurrentText("failed")
    assert panel.table.visible_count() == sum(r.status == "failed" for r in runs) > 0
    panel.table.choice.setCurrentIndex(0)
    # sorting by duration uses the number, not the text
    panel.table.view.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    longest = max(runs, key=lambda r: r.duration_s or -1)
    assert panel.table.proxy.index(0, 4).data() == format_duration(longest.duration_s)
    # a click on the chart selects that run; the view follows
    panel.chart.picked.emit(longest.task_id)
    nid = window.session.node_for("task_timing.tsv", key=f"run/{longest.task_id}")
    qtbot.waitUntil(lambda: window.selected_ids() == [nid])
    assert panel.chart.selected == longest.task_id
    # and the other way: selecting a run node in the view selects its row
    other = runs[0]
    window.select_node(window.session.node_for("task_timing.tsv", key=f"run/{other.task_id}"), fly=False)
    assert panel.table.current_key() == other.task_id


def test_search_finds_and_flies(window, qtbot):
    panel = window.search
    window.acts["find"].trigger()
    assert panel.query.hasFocus() or window.docks["Search"].isVisible()
    panel.query.setText("parser windows")
    ids = panel.run_search()
    assert ids and panel.results.count() == len(ids)
    assert all("parser" in (window.session.graph.node(i).title + window.session.graph.node(i).content).lower()
               for i in ids)
    panel.kind.setCurrentText("memory")
    assert all(window.session.graph.node(i).kind.value == "memory" for i in panel.run_search())
    panel.kind.setCurrentIndex(0)
    panel.run_search()
    panel.results.itemClicked.emit(panel.results.item(0))
    qtbot.waitUntil(lambda: window.selected_ids() == [ids[0]])


def test_outside_schedule_change_reloads_the_list(window, qtbot):
    path = window.session.workspace.schedules
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"name": "Loop heartbeat"', b'"name": "Loop heartbeat (edited by hand)"', 1))
    qtbot.waitUntil(lambda: any(window.schedules.list.topLevelItem(i).text(0) == "Loop heartbeat (edited by hand)"
                                for i in range(window.schedules.list.topLevelItemCount())), timeout=2000)


def test_small_helpers_say_things_plainly(qapp):
    from orchestrator_gui.app import parse_size
    from orchestrator_gui.problems import ConflictError, FormatError
    from orchestrator_gui.ui.errors import describe
    from orchestrator_gui.ui.theme import displayable, plain

    assert displayable("🔁 Loop Orchestrator") == "Loop Orchestrator"
    assert displayable("合併 feature → master") == "合併 feature → master"  # letters are never dropped
    assert plain("- **Finding**: strip `\\r`") == "Finding: strip `\\r`"
    assert format_duration(128) == "2m 08s" and format_duration(3700) == "1h 01m" and format_duration(None) == "—"
    assert parse_size("1600x1000") == (1600, 1000)
    conflict = describe(ConflictError("TODO.md", "file changed on disk since it was read (another program wrote "
                                                 "to it); nothing was written. Reload it and repeat the change"))
    assert conflict == "TODO.md: changed on disk by another program; nothing was written. Reload it and repeat the change"
    assert describe(FormatError("TODO.md", "invalid UTF-8", 3)) == "TODO.md:3: error: invalid UTF-8"
    assert describe(PermissionError(13, "Permission denied", "/x/TODO.md")) == "permission denied: /x/TODO.md"
    assert "Traceback" not in describe(RuntimeError("boom"))


def test_a_half_written_file_keeps_the_last_good_version_shown(window, qtbot):
    path = window.session.workspace.schedules
    good = path.read_bytes()
    count = window.schedules.list.topLevelItemCount()
    nodes = window.session.graph.number_of_nodes()
    path.write_bytes(good[: len(good) // 2])  # an agent's write caught half-way
    window.session.watcher.check_now()
    assert window.schedules.list.topLevelItemCount() == count
    assert window.session.graph.number_of_nodes() == nodes  # a half-read workspace never deletes nodes
    assert "schedules.json" in window.reporter.last
    path.write_bytes(good.replace(b'"Loop heartbeat"', b'"Loop heartbeat 2"', 1))
    window.session.watcher.check_now()
    assert window.schedules.list.topLevelItem(0).text(0) == "Loop heartbeat 2"
