"""The application layer picks the shared store from the fleet settings and keeps undo per machine."""

from __future__ import annotations

import shutil

import pytest
from polling import until

from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.model import operations
from orchestrator_gui.workspace import Session


@pytest.fixture
def fleet_ws(fleet_db, tmp_path, monkeypatch):
    """``open(machine)``: a Session on that machine's own copy of the demo workspace, sharing ``fleet_db``."""
    monkeypatch.setenv("ORCHESTRATOR_FLEET_DSN", fleet_db)
    opened = []

    def open_as(machine: str) -> Session:
        root = tmp_path / machine
        if not root.exists():
            shutil.copytree(BUNDLED_DEMO, root)
        monkeypatch.setenv("ORCHESTRATOR_MACHINE", machine)
        opened.append(Session.open(root))
        return opened[-1]

    yield open_as
    for s in opened:
        s.close()


def _caught_up(session: Session, seq: int) -> bool:
    session.pull_remote()
    return session.store.last_seq >= seq


def test_without_fleet_settings_the_embedded_store_is_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_FLEET_DSN", raising=False)
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    with Session.open(root) as s:
        assert type(s.store).__name__ == "GraphStore" and not s.offline and s.pull_remote() == 0
    assert (root / ".orchestrator" / "graph.db").is_file()


def test_two_machines_share_one_graph_and_each_undoes_only_its_own_steps(fleet_ws):
    s1 = fleet_ws("m1")
    assert type(s1.store).__name__ == "PostgresGraphStore" and s1.built_fresh
    s2 = fleet_ws("m2")
    assert not s2.built_fresh  # the fleet's graph was there already: m2 did not build its own
    assert sorted(s2.graph.node_ids()) == sorted(s1.graph.node_ids())
    pending = []
    s2.events.remote_pending.connect(lambda: pending.append(1))
    mine = s1.apply(operations.add_thought(s1.graph, "From m1", node_id="thought-m1"))
    until(lambda: _caught_up(s2, s1.store.last_seq), what="m2 to see m1's thought")
    assert pending and "thought-m1" in s2.graph
    theirs = s2.apply(operations.add_thought(s2.graph, "From m2", node_id="thought-m2"))
    until(lambda: _caught_up(s1, s2.store.last_seq), what="m1 to see m2's thought")
    # m1's undo takes back m1's thought, though m2's commit is newer.
    assert s1.history.undo_text == mine.description
    s1.undo()
    until(lambda: _caught_up(s2, s1.store.last_seq), what="m2 to see m1's undo")
    for s in (s1, s2):
        assert "thought-m1" not in s.graph and "thought-m2" in s.graph
    assert s2.history.undo_text == theirs.description
    # A new process on m1 continues m1's history, never m2's.
    s1.close()
    again = fleet_ws("m1")
    assert again.history.redo_text == mine.description
    assert not again.history.can_undo or again.history.undo_text != theirs.description


def test_a_machines_sync_keeps_the_runs_of_the_others_in_the_shared_graph(fleet_ws):
    """Each machine has its own task_timing.tsv; syncing one copy must not delete the others' run nodes."""
    s1 = fleet_ws("m1")
    s2 = fleet_ws("m2")
    timing = s1.root / "task_timing.tsv"
    before = timing.read_bytes()
    row = "2026-11-06T23:00:00.000Z\tcode\tm1-only-task\tA run only m1 made\tstarted\t\t\t\n"
    timing.write_bytes(before + row.encode())
    s1.sync(["task_timing.tsv"])
    run_id = next(n.id for n in s1.graph.nodes() if n.source and n.source.key.endswith("m1-only-task"))
    until(lambda: _caught_up(s2, s1.store.last_seq), what="m2 to see m1's run")
    assert run_id in s2.graph
    # m2's own log has no such row: its sync keeps m1's run (and its edges) instead of deleting it.
    edges = {(e.src, e.dst, e.type.value) for e in s2.graph.edges_of(run_id, "out")}
    touched = s2.sync(None)
    assert run_id in s2.graph and {(e.src, e.dst, e.type.value) for e in s2.graph.edges_of(run_id, "out")} == edges
    assert touched is None or not any(getattr(e, "node_id", None) == run_id for e in touched.edits)
    until(lambda: _caught_up(s1, s2.store.last_seq), what="m1 to see m2's syncs")
    assert run_id in s1.graph
