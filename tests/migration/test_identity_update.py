"""Edited, moved and indented workspace items keep their graph node (issue 12.4).

Each test does what another program does to a file (an agent, an editor),
syncs with update_graph, and checks what the user sees: the same node (id,
activation, access count, a link they drew, a child they generated, the
selection) showing the new text, and a sync that reports a change, not an
addition and a removal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ws_helpers import demo_copy

from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.migration import build_graph, update_graph
from orchestrator_gui.model import transforms as tf
from orchestrator_gui.model.activation import touch
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.identity import TODO_FILE, node_for_source, todo_item_key
from orchestrator_gui.model.nodes import Edge, EdgeType, Node, NodeKind
from orchestrator_gui.model.transactions import AddEdge, AddNode, Transaction

TODO = """\
# Project

## Backlog

- [ ] Alpha task
- [ ] Beta task
  - [ ] Beta child
- [ ] Gamma task

## Done

- [x] Delta task
"""


@pytest.fixture
def ws(tmp_path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "TODO.md").write_text(TODO, encoding="utf-8")
    return root


def titled(g: ThoughtGraph, title: str, kind: NodeKind | None = None) -> str:
    [nid] = [n.id for n in g.nodes() if n.title == title and kind in (None, n.kind)]
    return nid


class UserWork:
    """What a user gives a node: activation, an access, a drawn link, a generated child, the selection."""

    def __init__(self, g: ThoughtGraph, nid: str) -> None:
        self.nid = nid
        g.set_activation([0.75], [nid])
        g.apply(touch(g, nid, now=1_800_000_000.0))
        thought = Node(id="user:why", kind=NodeKind.THOUGHT, title="Why this one first?", theta=1.0, phi=0.3)
        g.apply(Transaction.create("add_thought", [
            AddNode(node=thought), AddEdge(edge=Edge(src=thought.id, dst=nid, type="mentions", weight=0.6))]))
        tx = g.apply(tf.generate(g, nid, n=1, now=1_800_000_100.0))
        [self.child] = tx.provenance.params["created"]
        g.select([nid])

    def check(self, g: ThoughtGraph) -> None:
        nid = self.nid
        assert nid in g
        assert g.activation[g.row_of(nid)] == pytest.approx(0.75)
        node = g.node(nid)
        assert (node.access_count, node.last_activated) == (1, 1_800_000_000.0)
        assert g.edge("user:why", nid, "mentions").weight == 0.6
        assert g.has_edge(nid, self.child, EdgeType.PARENT) and g.has_edge(self.child, nid, EdgeType.DERIVED_FROM)
        assert g.selected_ids() == (nid,)


def sync(g: ThoughtGraph, ws: Path, text: str) -> dict:
    """Write TODO.md as another program would, sync, apply; the sync's counts."""
    (ws / "TODO.md").write_text(text, encoding="utf-8")
    tx = update_graph(g, ws)
    g.apply(tx)
    assert update_graph(g, ws).edits == ()  # converged: the next sync has nothing to do
    return {k: tx.provenance.params[k] for k in ("nodes_added", "nodes_removed", "nodes_updated")}


def key_now(ws: Path, text: str) -> str:
    items = load_todo(ws / "TODO.md").items
    return todo_item_key(items, next(it.line for it in items if it.text == text))


def test_edited_item_keeps_its_node_and_everything_the_user_gave_it(ws):
    g = build_graph(ws)
    nid = titled(g, "Beta task")
    work = UserWork(g, nid)
    counts = sync(g, ws, TODO.replace("Beta task", "Beta task, now with a deadline"))
    assert counts == {"nodes_added": 0, "nodes_removed": 0, "nodes_updated": 1}
    work.check(g)
    node = g.node(nid)
    assert node.title == "Beta task, now with a deadline"
    assert node.history[-1].title == "Beta task"
    assert node.source.key == key_now(ws, "Beta task, now with a deadline")  # the key follows the text
    assert g.has_edge(nid, titled(g, "Beta child"), EdgeType.PARENT)


def test_indented_and_reworded_item_keeps_its_node(ws):
    g = build_graph(ws)
    nid = titled(g, "Gamma task")
    work = UserWork(g, nid)
    counts = sync(g, ws, TODO.replace("- [ ] Gamma task", "  - [ ] Gamma task, part of Beta"))
    assert counts == {"nodes_added": 0, "nodes_removed": 0, "nodes_updated": 1}
    work.check(g)
    assert g.node(nid).metadata["depth"] == 1
    assert g.has_edge(titled(g, "Beta task"), nid, EdgeType.PARENT)  # its new parent


def test_item_moved_past_a_sibling_keeps_its_node_with_or_without_a_reword(ws):
    g = build_graph(ws)
    nid = titled(g, "Alpha task")
    work = UserWork(g, nid)
    moved = TODO.replace("- [ ] Alpha task\n", "").replace("- [ ] Gamma task\n", "- [ ] Gamma task\n- [ ] Alpha task\n")
    assert sync(g, ws, moved)["nodes_added"] == 0
    work.check(g)
    # moved back up and reworded a little at once
    counts = sync(g, ws, TODO.replace("Alpha task", "Alpha task!"))
    assert counts["nodes_added"] == counts["nodes_removed"] == 0
    work.check(g)
    assert g.node(nid).title == "Alpha task!"


def test_lines_inserted_above_a_reworded_item_do_not_change_its_node(ws):
    g = build_graph(ws)
    nid = titled(g, "Gamma task")
    work = UserWork(g, nid)
    text = TODO.replace("# Project\n", "# Project\n\nA paragraph an agent wrote.\nAnd another line.\n")
    text = text.replace("- [ ] Alpha task\n", "- [ ] Zeta task, new\n- [ ] Alpha task\n")
    text = text.replace("Gamma task", "Gamma task (after the review)")
    counts = sync(g, ws, text)
    assert (counts["nodes_added"], counts["nodes_removed"]) == (1, 0)  # the new item, nothing else
    work.check(g)
    assert g.node(nid).source.line == load_todo(ws / "TODO.md").items[4].line
    assert g.node(nid).title == "Gamma task (after the review)"


def test_two_items_edited_at_once_keep_their_nodes(ws):
    g = build_graph(ws)
    alpha, beta, gamma = titled(g, "Alpha task"), titled(g, "Beta task"), titled(g, "Gamma task")
    work = UserWork(g, beta)
    text = TODO.replace("Alpha task", "First, completely rewritten").replace("Beta task", "Second: rewritten too")
    text = text.replace("Gamma task", "Gamma task v2")
    counts = sync(g, ws, text)
    assert counts == {"nodes_added": 0, "nodes_removed": 0, "nodes_updated": 3}
    work.check(g)
    assert [g.node(i).title for i in (alpha, beta, gamma)] == [
        "First, completely rewritten", "Second: rewritten too", "Gamma task v2"]


def test_duplicate_titles_each_keep_their_node(ws):
    text = TODO.replace("- [ ] Alpha task\n", "- [ ] Same title\n").replace("- [ ] Gamma task\n", "- [ ] Same title\n")
    (ws / "TODO.md").write_text(text, encoding="utf-8")
    g = build_graph(ws)
    first, second = sorted((n for n in g.nodes() if n.title == "Same title"), key=lambda n: n.source.line)
    work = UserWork(g, second.id)
    # the first one is renamed: the second keeps its node although its key loses its "~1"
    counts = sync(g, ws, text.replace("- [ ] Same title\n", "- [ ] Renamed first\n", 1))
    assert counts == {"nodes_added": 0, "nodes_removed": 0, "nodes_updated": 2}
    work.check(g)
    assert g.node(first.id).title == "Renamed first" and g.node(second.id).title == "Same title"
    assert g.node(second.id).source.line == second.source.line and "~" not in g.node(second.id).source.key


def test_item_deleted_and_another_added_at_the_same_place_take_over_its_node(ws):
    # Documented rule (migration/matching.py, rule 4): indistinguishable from a rewrite in place,
    # so the new item continues the node and the deleted item's text is its previous version.
    g = build_graph(ws)
    nid = titled(g, "Alpha task")
    counts = sync(g, ws, TODO.replace("Alpha task", "Omega: unrelated new work"))
    assert counts == {"nodes_added": 0, "nodes_removed": 0, "nodes_updated": 1}
    assert g.node(nid).title == "Omega: unrelated new work" and g.node(nid).history[-1].title == "Alpha task"
    # deleted in one place and something else added elsewhere: one removal, one addition
    counts = sync(g, ws, TODO.replace("- [ ] Alpha task\n", "").replace("- [x] Delta task\n",
                                                                         "- [x] Delta task\n- [ ] Unrelated\n"))
    assert (counts["nodes_added"], counts["nodes_removed"]) == (1, 1)
    assert nid not in g


def test_a_new_item_whose_natural_id_is_taken_gets_a_fresh_one(ws):
    g = build_graph(ws)
    alpha = titled(g, "Alpha task")
    sync(g, ws, TODO.replace("Alpha task", "Alpha task, renamed"))
    # "Alpha task" again, at the end: its natural id belongs to the renamed node
    counts = sync(g, ws, TODO.replace("Alpha task", "Alpha task, renamed") + "- [ ] Alpha task\n")
    assert (counts["nodes_added"], counts["nodes_removed"]) == (1, 0)
    fresh = titled(g, "Alpha task")
    assert fresh != alpha and fresh.startswith(alpha) and g.node(alpha).title == "Alpha task, renamed"
    # both are found through the graph by their keys
    assert node_for_source(g, TODO_FILE, key_now(ws, "Alpha task")) == fresh
    assert node_for_source(g, TODO_FILE, key_now(ws, "Alpha task, renamed")) == alpha


def test_renamed_heading_keeps_its_node_and_children(ws):
    g = build_graph(ws)
    nid = titled(g, "Backlog")
    counts = sync(g, ws, TODO.replace("## Backlog", "## Backlog (sprint 3)"))
    assert counts == {"nodes_added": 0, "nodes_removed": 0, "nodes_updated": 1}
    assert g.node(nid).title == "Backlog (sprint 3)"
    assert g.has_edge(nid, titled(g, "Alpha task"), EdgeType.PARENT)


def test_renamed_schedule_section_keeps_its_node(tmp_path):
    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    nid = titled(g, "2. Delegate")
    others = {n.id for n in g.nodes() if n.kind is NodeKind.PLAN and n.source.file == ".roo/schedules.json"}
    work = UserWork(g, nid)
    path = ws / ".roo" / "schedules.json"
    path.write_text(path.read_text(encoding="utf-8").replace("## 2. Delegate", "## 2. Hand the work off"),
                    encoding="utf-8")
    tx = update_graph(g, ws)
    g.apply(tx)
    assert (tx.provenance.params["nodes_added"], tx.provenance.params["nodes_removed"]) == (0, 0)
    work.check(g)
    assert g.node(nid).title == "2. Hand the work off"
    assert {n.id for n in g.nodes() if n.kind is NodeKind.PLAN and n.source.file == ".roo/schedules.json"} == others
    assert update_graph(g, ws).edits == ()


def test_renamed_schedule_and_edited_memory_entry_keep_their_nodes(tmp_path):
    # Regression: a schedule's identity is its id, a memory entry's its (time, mode, id); neither hashes text.
    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    sched = titled(g, "Loop heartbeat", NodeKind.SCHEDULE)
    entry = next(n for n in g.nodes() if n.kind is NodeKind.MEMORY and n.content)
    work = UserWork(g, sched)
    path = ws / ".roo" / "schedules.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"Loop heartbeat"', '"Loop pulse"'), encoding="utf-8")
    mem = ws / "persistent-memory.md"
    first_line = entry.content.splitlines()[0]
    text = mem.read_text(encoding="utf-8")
    assert text.count(first_line) == 1
    mem.write_text(text.replace(first_line, first_line + " (checked again)"), encoding="utf-8")
    tx = update_graph(g, ws)
    g.apply(tx)
    assert (tx.provenance.params["nodes_added"], tx.provenance.params["nodes_removed"]) == (0, 0)
    work.check(g)
    assert g.node(sched).title == "Loop pulse" and sched == ".roo/schedules.json::schedule/1791792843512"
    assert "(checked again)" in g.node(entry.id).content
