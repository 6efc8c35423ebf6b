"""update_graph: incremental rebuilds change only what changed, and keep the user's work."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from ws_helpers import demo_copy, origin_workspace, tree_hashes

from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.timing import NewTimingRow, append_row
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.migration import build_graph, update_graph
from orchestrator_gui.model.nodes import Edge, Layer, Node, NodeKind, NodeStatus
from orchestrator_gui.model.transactions import AddEdge, AddNode, MoveNode, Transaction
from orchestrator_gui.problems import FormatError

WORKSPACES = {"demo": demo_copy, "origin": origin_workspace}
UTC = UTC


@pytest.fixture(params=sorted(WORKSPACES))
def workspace(request, tmp_path) -> Path:
    return WORKSPACES[request.param](tmp_path)


def snapshot(g):
    nodes = sorted((n.model_dump(mode="json") for n in g.nodes()), key=lambda d: d["id"])
    edges = sorted((e.model_dump(mode="json") for e in g.edges()), key=lambda d: (d["src"], d["dst"], d["type"]))
    return nodes, edges


def todo_node_at(g, line: int) -> str:
    [nid] = [n.id for n in g.nodes() if n.kind is NodeKind.TODO and n.source.line == line]
    return nid


def summarise(tx: Transaction):
    """(removed ids, added ids, {id: fields} of non-source updates, {id: new line} of source updates)."""
    removed = [e.node_id for e in tx.edits if e.op == "remove_node"]
    added = [e.node.id for e in tx.edits if e.op == "add_node"]
    changed: dict[str, set[str]] = {}
    lines: dict[str, int] = {}
    for e in tx.edits:
        if e.op == "update_node" and e.field == "source":
            assert e.old["key"] == e.new["key"] and e.old["file"] == e.new["file"]
            lines[e.node_id] = e.new["line"]
        elif e.op == "update_node":
            changed.setdefault(e.node_id, set()).add(e.field)
    assert not [e for e in tx.edits if e.op == "move_node"]
    return removed, added, changed, lines


def test_no_changes_give_an_empty_transaction(workspace):
    g = build_graph(workspace)
    tx = update_graph(g, workspace, tx_id="sync-1")
    assert tx.edits == () and tx.id == "sync-1"
    assert tx.provenance.operation == "sync_workspace" and tx.provenance.actor == "migration"
    assert tx.description == "Update from workspace files (no changes)"


def test_check_add_remove_changes_only_those_items_and_keeps_user_work(workspace):
    g = build_graph(workspace)
    todo_path = workspace / "TODO.md"
    doc = load_todo(todo_path)
    parents = {it.parent_line for it in doc.items}
    to_check = next(it for it in doc.items if it.state == "open" and it.depth == 0)
    victim = next(it for it in reversed(doc.items) if it.depth == 0 and it.line not in parents and it is not to_check)
    checked_id, victim_id = todo_node_at(g, to_check.line), todo_node_at(g, victim.line)
    kept_id = next(n.id for n in g.nodes() if n.kind is NodeKind.TODO and n.id not in (checked_id, victim_id))

    # The user's own work: a thought linked to two items, a link of their own, and a moved node.
    thought = Node(id="user:thought-1", kind=NodeKind.THOUGHT, title="Why is this blocked?", theta=1.0, phi=0.2)
    g.apply(Transaction.create("add_thought", [
        AddNode(node=thought),
        AddEdge(edge=Edge(src=thought.id, dst=kept_id, type="mentions")),
        AddEdge(edge=Edge(src=thought.id, dst=victim_id, type="mentions")),
        AddEdge(edge=Edge(src=kept_id, dst=checked_id, type="depends_on")),
        MoveNode(node_ids=(checked_id,), new=((0.5, -0.25, 3.0),)),
    ]))
    positions = {i: g.node(i).spherical for i in g.node_ids()}
    before = snapshot(g)

    doc.check(to_check.line)
    doc.remove(victim.line)
    new_line = doc.add("Write the migration guide", section=to_check.section)
    doc.save()

    tx = update_graph(g, workspace)
    removed, added, changed, lines = summarise(tx)
    assert removed == [victim_id]
    assert len(added) == 1 and added[0].startswith("TODO.md::item/")
    assert changed == {checked_id: {"status", "metadata", "updated"}}
    # Nodes below the edits only learn their new line, and it is the right one.
    fresh = {it.line: it for it in load_todo(todo_path).items}
    for nid, line in lines.items():
        assert g.node(nid).source.line != line
        if g.node(nid).kind is NodeKind.TODO:
            assert g.node(nid).title in fresh[line].text

    g.apply(tx)
    new = g.node(added[0])
    assert (new.title, new.status, new.source.line) == ("Write the migration guide", NodeStatus.OPEN, new_line)
    assert new.layer is Layer.EXECUTION
    assert any(e.type.value == "parent" for e in g.edges_of(new.id, "in"))
    assert g.node(checked_id).status is NodeStatus.DONE
    assert victim_id not in g
    # user work survives: the thought, its remaining link, the user's own link, the moved position
    assert g.node(thought.id) == thought
    assert g.has_edge(thought.id, kept_id, "mentions") and g.has_edge(kept_id, checked_id, "depends_on")
    assert g.node(checked_id).spherical == (0.5, -0.25, 3.0)
    for nid, pos in positions.items():
        if nid in g:
            assert g.node(nid).spherical == pos  # nothing existing moved
    assert update_graph(g, workspace).edits == ()  # converged
    g.undo()
    assert snapshot(g) == before  # the whole rebuild is one undoable transaction


def test_ids_survive_unrelated_edits(workspace):
    g = build_graph(workspace)
    ids = g.node_ids()
    todo_path = workspace / "TODO.md"
    text = todo_path.read_bytes()
    first_newline = text.index(b"\n") + 1
    todo_path.write_bytes(text[:first_newline] + b"\nA new introduction paragraph.\n" + text[first_newline:])
    tx = update_graph(g, workspace)
    removed, added, changed, lines = summarise(tx)
    assert (removed, added, changed) == ([], [], {})
    todo_nodes = [n for n in g.nodes() if n.source.file == "TODO.md" and n.source.line > 1]
    assert set(lines) == {n.id for n in todo_nodes}
    assert all(lines[n.id] == n.source.line + 2 for n in todo_nodes)
    g.apply(tx)
    assert g.node_ids() == ids


def test_details_edit_updates_content_and_keeps_the_old_version(tmp_path):
    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    path = ws / "TODO.md"
    text = path.read_text(encoding="utf-8")
    req = "  - **Requirements**: per-station offset column in `stations.csv`"
    path.write_text(text.replace(req, req + "\n  - **Owner**: planner"), encoding="utf-8")
    tx = update_graph(g, ws, now=1_900_000_000.0)
    removed, added, changed, lines = summarise(tx)
    [nid] = changed
    old = g.node(nid)
    assert old.title.startswith("TW-013 ") and (removed, added) == ([], [])
    assert changed[nid] == {"content", "history", "updated"}
    g.apply(tx)
    node = g.node(nid)
    assert node.content.endswith("- **Owner**: planner") and node.updated == 1_900_000_000.0
    assert [(v.content, v.actor, v.time) for v in node.history] == [(old.content, "migration", 1_900_000_000.0)]
    # An Owner line gives the mode its work (migration/goals.py, rule "owner").
    assert g.edge(nid, ".roomodes::mode/planner", "serves").metadata == {"by": "migration", "via": "owner"}


def test_new_memory_entry_and_timing_row(tmp_path):
    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    mem = load_memory(ws / "persistent-memory.md")
    mem.append_entry("reviewer", "TW-012_parser", "third attempt approved; ticking TW-012",
                     now=datetime(2026, 11, 6, 15, 0, tzinfo=UTC))
    mem.save()
    append_row(ws / "task_timing.tsv", NewTimingRow(
        timestamp=datetime(2026, 11, 6, 14, 59, tzinfo=UTC), mode="implementer", task_id="97c0e5d2",
        start_time=datetime(2026, 11, 6, 14, 21, 48, tzinfo=UTC), end_time=datetime(2026, 11, 6, 14, 59, tzinfo=UTC),
        task="TW-012 Parser rejects constituent files with Windows line endings", result="completed", priority="todo"))
    tx = update_graph(g, ws)
    removed, added, changed, lines = summarise(tx)
    assert removed == [] and lines == {}
    assert added == ["persistent-memory.md::entry/2026-11-06T15:00:00.000Z|reviewer|TW-012_parser"]
    run = "task_timing.tsv::run/97c0e5d2"
    assert changed == {run: {"status", "content", "metadata", "history", "updated"}}
    new_edges = {(e.edge.src, e.edge.dst, e.edge.type.value) for e in tx.edits if e.op == "add_edge"}
    tw012 = next(n.id for n in g.nodes() if n.title.startswith("TW-012 ") and n.kind is NodeKind.TODO)
    assert new_edges == {(added[0], ".roomodes::mode/reviewer", "mentions"), (added[0], tw012, "mentions")}
    g.apply(tx)
    assert g.node(run).status is NodeStatus.DONE and g.node(run).metadata["duration_s"] == 2232
    assert g.node(added[0]).layer is Layer.NAVIGATION


def test_deleted_file_removes_its_nodes_and_their_edges(tmp_path):
    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    (ws / ".roomodes").unlink()
    tx = update_graph(g, ws)
    removed, added, changed, lines = summarise(tx)
    assert sorted(removed) == sorted(n.id for n in g.nodes() if n.kind is NodeKind.MODE)
    assert (added, changed, lines) == ([], {}, {})
    g.apply(tx)
    assert not any(e.type.value == "ran_as" for e in g.edges())


def test_unreadable_file_raises_and_plans_nothing(tmp_path):
    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    before = snapshot(g)
    (ws / ".roo" / "schedules.json").write_text('{"schedules": [', encoding="utf-8")
    hashes = tree_hashes(ws)
    with pytest.raises(FormatError) as err:
        update_graph(g, ws)
    assert "schedules.json" in str(err.value)
    assert snapshot(g) == before and tree_hashes(ws) == hashes


def test_stale_derived_edge_is_removed_but_user_edge_kept(tmp_path):
    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    path = ws / "TODO.md"
    # TW-017's note names TW-012; drop that mention from the file
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Windows job will catch TW-012 regressions", "Windows job catches CRLF regressions"),
                    encoding="utf-8")
    tw017 = next(n.id for n in g.nodes() if n.title.startswith("TW-017 "))
    tw012 = next(n.id for n in g.nodes() if n.title.startswith("TW-012 ") and n.kind is NodeKind.TODO)
    tw016 = next(n.id for n in g.nodes() if n.title.startswith("TW-016 "))
    g.apply(Transaction.create("link", [AddEdge(edge=Edge(src=tw017, dst=tw016, type="mentions"))]))
    tx = update_graph(g, ws)
    assert [(e.src, e.dst, e.type.value) for e in tx.edits if e.op == "remove_edge"] == [(tw017, tw012, "mentions")]
    g.apply(tx)
    assert g.has_edge(tw017, tw016, "mentions") and not g.has_edge(tw017, tw012, "mentions")


def test_new_nodes_do_not_overlap_existing_ones(tmp_path):
    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    doc = load_todo(ws / "TODO.md")
    for n in range(30):
        doc.add(f"TW-{100 + n} Bulk item number {n}", section="Backlog")
    doc.save()
    g.apply(update_graph(g, ws))
    rows = np.flatnonzero(g.layer_index == 2)
    dirs = g.positions[rows] / 3.0
    dots = np.clip(dirs @ dirs.T, -1, 1)
    np.fill_diagonal(dots, -1)
    from orchestrator_gui.model.layout import min_separation

    assert np.arccos(dots.max()) >= min_separation(len(rows)) - 1e-9


def test_memory_entry_keeps_its_id_when_converted_between_forms(tmp_path):
    # docs/formats.md §3.2: optimisation passes convert entries between the one-line and heading forms;
    # identity is (ts, mode, id), never the form or the text.
    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    path = ws / "persistent-memory.md"
    line = ("[2026-10-12T08:20:14.611Z] [memory-keeper] - [creation]: Created persistent-memory.md "
            "with the three required sections for the tidewatch loop")
    text = path.read_text(encoding="utf-8")
    assert text.count(line + "\n") == 1
    path.write_text(text.replace(line + "\n", "## [2026-10-12T08:20:14.611Z] [memory-keeper] - [creation]\n"
                                 "- **Finding**: Created persistent-memory.md with the three required sections\n\n"),
                    encoding="utf-8")
    nid = "persistent-memory.md::entry/2026-10-12T08:20:14.611Z|memory-keeper|creation"
    tx = update_graph(g, ws)
    removed, added, changed, lines = summarise(tx)
    assert (removed, added) == ([], [])
    assert changed == {nid: {"content", "metadata", "history"}}  # its time is its own, so `updated` stays
    later = [n for n in g.nodes() if n.kind is NodeKind.MEMORY and n.source.line > 35]
    assert lines == {n.id: n.source.line + 2 for n in later}
    g.apply(tx)
    assert g.node(nid).metadata["form"] == "heading" and g.node(nid).content.startswith("- **Finding**: Created")


def test_retitled_item_keeps_position_history_and_user_edges(workspace):
    g = build_graph(workspace)
    todo_path = workspace / "TODO.md"
    doc = load_todo(todo_path)
    item = next(it for it in doc.items if it.depth == 0)
    old_id = todo_node_at(g, item.line)
    old = g.node(old_id)
    thought = Node(id="user:thought-2", kind=NodeKind.THOUGHT, title="Follow-up", theta=2.0, phi=-0.3)
    g.apply(Transaction.create("add_thought", [
        AddNode(node=thought),
        AddEdge(edge=Edge(src=thought.id, dst=old_id, type="mentions", weight=0.7)),
        MoveNode(node_ids=(old_id,), new=((0.25, 0.5, old.r),)),
    ]))
    doc.edit(item.line, "Renamed by the user")
    doc.save()

    g.apply(update_graph(g, workspace))
    assert todo_node_at(g, item.line) == old_id  # the node keeps its id (issue 12.4)
    new_id = todo_node_at(g, item.line)
    new = g.node(new_id)
    assert new.title == "Renamed by the user"
    assert new.spherical == (0.25, 0.5, old.r)  # the user's arrangement survives the key change
    assert new.history[-1].title == old.title
    assert g.edge(thought.id, new_id, "mentions").weight == 0.7
    assert update_graph(g, workspace).edits == ()


def test_rebuild_keeps_what_the_engine_recorded_on_run_nodes(tmp_path):
    from orchestrator_gui.model.transactions import UpdateNode

    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    run = next(n for n in g.nodes() if n.kind is NodeKind.RUN)
    meta = {**run.metadata, "log": ".orchestrator/runs/x.log", "exit_code": 2}
    g.apply(Transaction.create("run_finished", [UpdateNode(node_id=run.id, field="metadata",
                                                           old=run.metadata, new=meta)]))
    tx = update_graph(g, ws)
    assert not [e for e in tx.edits if getattr(e, "node_id", None) == run.id]
    g.apply(tx)
    assert g.node(run.id).metadata["log"] == ".orchestrator/runs/x.log"
    assert g.node(run.id).metadata["exit_code"] == 2


def test_rebuild_keeps_prune_marks(tmp_path):
    from orchestrator_gui.model.pruning import PRUNED_KEY, prune

    ws = demo_copy(tmp_path)
    g = build_graph(ws)
    heading = next(n for n in g.nodes() if n.kind is NodeKind.PLAN and n.source.file == "TODO.md")
    g.apply(prune(g, [heading.id]))
    marked = {n.id for n in g.nodes() if PRUNED_KEY in n.metadata}
    assert heading.id in marked and len(marked) > 1
    g.apply(update_graph(g, ws))
    assert {n.id for n in g.nodes() if PRUNED_KEY in n.metadata} == marked
