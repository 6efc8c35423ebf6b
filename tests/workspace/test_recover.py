"""The ``graph recover`` use case on real stores: where it starts from and how it replays (issue 13)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.problems import FormatError
from orchestrator_gui.store import GraphStore, store_path
from orchestrator_gui.workspace import Session
from orchestrator_gui.workspace.recover import recover


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, ws)
    Session.open(ws).close()  # a store holding a fresh build, as the app makes it
    return ws


def test_an_imported_graph_is_the_starting_point_when_its_snapshot_is_intact(root: Path):
    imported = ThoughtGraph()
    imported.apply(ops.add_thought(imported, "imported idea", node_id="imp", now=1.0))
    store = GraphStore.open_workspace(root)
    store.replace_graph(imported, operation="import", description="Import idea.json")
    store.graph.apply(ops.add_thought(store.graph, "after", node_id="after", parent="imp", now=2.0))
    store.close()
    report = recover(root)
    assert report.transactions["replayed"] == 1 and report.snapshots["used"] is not None
    with GraphStore.open_workspace(root, readonly=True) as again:
        g = again.graph
        assert "imp" in g and "after" in g and g.has_edge("imp", "after", "parent")
        assert any(n.source is not None for n in g.nodes())  # and the files' nodes, synced in as on any open


def test_a_move_whose_earlier_move_was_lost_is_adapted_and_lands_where_the_user_put_it(root: Path):
    with Session.open(root) as session:
        todo = next(n.id for n in session.graph.nodes() if n.kind.value == "todo")
        first = session.apply(ops.move(session.graph, {todo: (1.0, 1.0)}))
        session.apply(ops.move(session.graph, {todo: (2.0, 1.2)}))
        r = session.graph.node(todo).r
    db = store_path(root)
    conn = sqlite3.connect(db)
    (seq, payload), = conn.execute("SELECT seq, payload FROM journal WHERE tx_id = ?", (first.id,)).fetchall()
    conn.execute("UPDATE journal SET payload = ? WHERE seq = ?", (payload[:-5] + b"xxxxx", seq))  # a damaged record
    conn.commit()
    conn.close()
    report = recover(root)
    assert report.journal["lost"] == 1 and report.transactions["adapted"] == 1 and report.transactions["failed"] == 0
    assert f"journal record {seq}: damaged" in report.details
    with GraphStore.open_workspace(root, readonly=True) as again:
        node = again.graph.node(todo)
        assert (node.theta, node.phi, node.r) == pytest.approx((2.0, 1.2, r))


def test_a_workspace_file_that_cannot_be_read_stops_recover_before_anything_changes(root: Path):
    db = store_path(root)
    before = db.read_bytes()
    (root / ".roo").mkdir(exist_ok=True)
    (root / ".roo" / "schedules.json").write_bytes(b"\xff\xfe not json")
    with pytest.raises(FormatError):
        recover(root)
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir() if "damaged" in p.name or "recovering" in p.name) == []
