"""History preview: the state at every record equals the store's graph_at / graph restore; stepping is consistent."""

from __future__ import annotations

import random
import shutil

import pytest

from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.store import GraphStore, same_content
from orchestrator_gui.workspace import Session
from orchestrator_gui.workspace.history_preview import CHECKPOINT_BYTES, HistoryPreview, actor_group, restore


def _content(g: ThoughtGraph) -> tuple:
    """Nodes in row order (every field) and edges in row order: rows included, dynamic values excluded."""
    return ([n.model_dump(mode="json") for n in g.nodes()], [e.model_dump(mode="json") for e in g.edges()])


def _varied_history(store: GraphStore) -> None:
    """Additions, edits, links, moves, removals, an import (a reset) and an undo, by several actors."""
    g = store.graph
    g.apply(ops.add_thought(g, "root goal", kind="goal", node_id="g0", now=1.0), record=False)
    for i in range(1, 8):
        g.apply(ops.add_thought(g, f"plan {i}", kind="plan", node_id=f"p{i}", parent="g0", now=float(i)),
                record=False)
    g.apply(ops.edit(g, "p2", title="plan two, reworded", actor="architect", now=10.0), record=False)
    g.apply(ops.link(g, "p3", "p4", "depends_on", actor="engine", now=11.0), record=False)
    g.apply(ops.move(g, {"p5": (1.0, 0.7), "p6": (2.0, 1.1)}, now=12.0), record=False)
    g.apply(ops.delete(g, ["p4"], now=13.0), record=False)  # takes its edges with it (rows move)
    imported = ThoughtGraph.from_dict(store.graph.to_dict())
    imported.apply(ops.add_thought(imported, "came with the import", node_id="imp", now=14.0), record=False)
    store.replace_graph(imported, operation="import", description="Import other.json", actor="user")
    g = store.graph
    g.apply(ops.add_thought(g, "after the import", node_id="a1", parent="p1", now=15.0, actor="mcp"), record=False)
    added = g.apply(ops.add_thought(g, "undone later", node_id="a2", now=16.0), record=False)
    g.apply(added.inverse(), record=False)
    g.apply(ops.delete(g, ["p7", "p1"], now=17.0), record=False)
    g.apply(ops.edit(g, "p3", content="more detail", now=18.0), record=False)


def _store_bytes(folder) -> dict:
    """The database, its WAL and the seq sidecar (not -shm: SQLite's shared read marks change with any read)."""
    return {p.name: p.read_bytes() for p in sorted(folder.glob("graph.db*")) if not p.name.endswith("-shm")}


@pytest.fixture
def store(tmp_path):
    # Snapshots every 4 records (and only 2 kept), so graph_at replays from several different snapshots.
    with GraphStore.open(tmp_path / "graph.db", durable=False, snapshot_every=4, keep_snapshots=2) as s:
        _varied_history(s)
        yield s


def test_the_preview_at_every_record_equals_graph_at(store):
    preview = HistoryPreview(store)
    seqs = [r.seq for r in preview.rows]
    assert seqs == list(range(1, store.last_seq + 1)) and len(seqs) >= 18
    for seq in seqs:  # forward, one record at a time
        assert _content(preview.show(seq)) == _content(store.graph_at(seq).graph), seq
    for seq in reversed(seqs):  # and back
        assert _content(preview.show(seq)) == _content(store.graph_at(seq).graph), seq


def test_stepping_walks_from_the_cached_state_and_rebuilds_only_across_a_reset(store):
    preview = HistoryPreview(store)
    reset = next(r.seq for r in preview.rows if r.kind == "reset")
    first = preview.show(2)
    assert preview.last_step.how == "snapshot"
    assert preview.show(5) is first and (preview.last_step.how, preview.last_step.records) == ("forward", 3)
    assert preview.show(3) is first and (preview.last_step.how, preview.last_step.records) == ("backward", 2)
    again = preview.show(reset + 2)  # crossing the import: its state is only in its base snapshot
    assert again is not first and preview.last_step.how == "snapshot"
    preview.show(reset + 4)
    assert preview.last_step.how == "forward"
    assert same_content(preview.graph, store.graph_at(reset + 4).graph)


def test_a_long_jump_starts_from_the_nearest_checkpoint(store):
    preview = HistoryPreview(store, max_replay=3)
    preview.show(2)  # rebuilt from the store: kept as a checkpoint
    preview.show(9)  # 7 records away: rebuilt again
    assert preview.last_step.how == "snapshot"
    third = preview.show(3)  # 6 back from the state shown, 1 on from the checkpoint at 2
    assert (preview.last_step.how, preview.last_step.records, preview.last_step.new_graph) == ("checkpoint", 1, True)
    assert _content(third) == _content(store.graph_at(3).graph)
    # Walking on from the checkpoint did not change the checkpoint: it still holds the state after 2.
    assert _content(preview.show(2)) == _content(store.graph_at(2).graph)


def test_random_jumps_agree_with_graph_at_whatever_the_replay_limit(store):
    rng = random.Random(7)
    for limit, keep in ((1, CHECKPOINT_BYTES), (3, CHECKPOINT_BYTES), (400, CHECKPOINT_BYTES), (3, 0)):
        preview = HistoryPreview(store, max_replay=limit, checkpoint_bytes=keep)
        hows = set()
        for _ in range(40):
            seq = rng.randint(1, store.last_seq)
            assert _content(preview.show(seq)) == _content(store.graph_at(seq).graph), (limit, seq)
            hows.add(preview.last_step.how)
        assert "snapshot" in hows and ({"forward", "backward"} & hows)
        if keep == 0:
            assert "checkpoint" not in hows
        elif limit == 3:
            assert "checkpoint" in hows


def test_previewing_reads_the_store_and_leaves_it_and_the_live_graph_alone(store, tmp_path):
    live_before = _content(store.graph)
    store.snapshot(kind="manual")  # settle the database file; previewing must not change a byte from here on
    before = _store_bytes(tmp_path)
    history = [e.to_dict() for e in store.history()]
    preview = HistoryPreview(store)
    for seq in (1, 9, 3, store.last_seq, 12):
        preview.show(seq)
    assert _store_bytes(tmp_path) == before
    assert [e.to_dict() for e in store.history()] == history
    assert _content(store.graph) == live_before


def test_the_timeline_names_who_did_what_and_when_and_refresh_adds_only_new_records(store):
    preview = HistoryPreview(store)
    rows = {r.seq: r for r in preview.rows}
    whos = {r.who for r in rows.values()}
    assert whos == {"user", "agent", "engine"}
    assert (rows[9].who, rows[9].actor, rows[9].what, rows[9].when) == ("agent", "architect", "Edit 'plan 2' (title)",
                                                                       10.0)
    assert (rows[10].who, rows[10].what) == ("engine", "Link p3 -[depends_on]-> p4")
    assert any(r.kind == "reset" and "whole graph replaced" in r.what for r in rows.values())
    assert all(r.when > 0 for r in rows.values())
    n = len(preview.rows)
    store.graph.apply(ops.add_thought(store.graph, "later", node_id="late", now=30.0), record=False)
    new = preview.refresh()
    assert [r.seq for r in new] == [n + 1] and len(preview.rows) == n + 1
    assert preview.refresh() == []


def test_a_vetoed_record_listed_before_is_replaced_on_refresh(store):
    preview = HistoryPreview(store)
    g = store.graph

    def veto(tx):
        raise RuntimeError("vetoed by a later hook")

    g.add_commit_hook(veto)  # after the store's hook: the store journals the row, then the graph rolls back
    with pytest.raises(RuntimeError):
        g.apply(ops.add_thought(g, "never happened", node_id="ghost", now=40.0), record=False)
    g.remove_commit_hook(veto)
    preview.refresh()
    ghost_seq = preview.last_seq
    assert preview.rows[-1].what == "Add thought 'never happened'"  # still in the journal until the next write
    g.apply(ops.add_thought(g, "happened", node_id="real", now=41.0), record=False)  # the store drops the ghost row
    preview.refresh()
    assert [r.seq for r in preview.rows] == [e.seq for e in store.history()]
    assert [r.what for r in preview.rows][-1] == "Add thought 'happened'" and preview.last_seq == ghost_seq
    assert "real" in preview.show(ghost_seq) and "ghost" not in preview.graph


def test_actor_groups():
    assert [actor_group(a) for a in ("user", "", "migration", "engine", "recover", "mcp", "api", "architect",
                                     "speculative:a,b")] == [
        "user", "user", "migration", "engine", "engine", "agent", "agent", "agent", "agent"]


def test_unknown_record_and_bad_limit_are_refused(store):
    preview = HistoryPreview(store)
    with pytest.raises(KeyError):
        preview.show(store.last_seq + 1)
    with pytest.raises(ValueError):
        HistoryPreview(store, max_replay=0)


@pytest.fixture
def session(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    s = Session.open(root)
    g = s.graph
    for i in range(4):
        s.apply(ops.add_thought(g, f"thought {i}", node_id=f"t{i}", now=100.0 + i))
    s.apply(ops.edit(g, "t1", title="thought one, reworded", now=110.0))
    s.apply(ops.delete(g, ["t0"], now=111.0))
    yield s
    s.close()


def test_restore_equals_the_preview_and_is_one_undoable_step(session):
    preview = HistoryPreview(session.store)
    for seq in (1, 3, 5, session.store.last_seq - 1):
        shown = _content(preview.show(seq))
        n_before = session.store.last_seq
        committed = restore(session, seq)
        assert committed is not None and committed.provenance.operation == "restore"
        assert session.store.last_seq == n_before + 1  # one journaled transaction
        assert same_content(session.graph, preview.graph)
        assert sorted(n["id"] for n in shown[0]) == sorted(session.graph.node_ids())
        assert session.history.undo_text.startswith(f"Restore to after #{seq}")
        session.undo()
        assert same_content(session.graph, session.store.graph_at(n_before).graph)


def test_restore_needs_a_store(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    with Session.open(root, in_memory=True) as s, pytest.raises(ValueError, match="in memory"):
        restore(s, 1)
