"""The write side of the store: settings, journal rows, snapshots, vetoes, conflicts, read-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_store_crash import make_tx

from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.problems import ConflictError, FormatError, ReadOnlyError
from orchestrator_gui.store import GraphStore, store_path
from orchestrator_gui.store.records import checksum


def _commit(store: GraphStore, count: int) -> None:
    g = store.graph
    for _ in range(count):
        g.apply(make_tx(store.last_seq, g))


def _rows(db: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_default_location_wal_and_full_sync(tmp_path: Path):
    store = GraphStore.open_workspace(tmp_path)
    try:
        assert store.path == tmp_path / ".orchestrator" / "graph.db" == store_path(tmp_path)
        assert store.path.is_file()
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        store.close()
    fast = GraphStore.open_workspace(tmp_path, durable=False)
    assert fast._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, only when asked for
    fast.close()


def test_each_commit_is_one_checksummed_row_visible_to_another_connection_before_apply_returns(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db)
    seen: list[list[tuple]] = []
    # A listener runs after apply's journal write: a second connection must already see the row.
    store.graph.events.transaction_committed.connect(
        lambda tx: seen.append(_rows(db, "SELECT seq, tx_id FROM journal ORDER BY seq"))
    )
    g = store.graph
    t1 = g.apply(ops.add_thought(g, "first", node_id="a"))
    t2 = g.apply(ops.edit(g, "a", title="renamed"))
    assert seen == [[(1, t1.id)], [(1, t1.id), (2, t2.id)]]
    rows = _rows(db, "SELECT seq, kind, operation, codec, payload, checksum FROM journal ORDER BY seq")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(1, "tx", "add_thought", "json"), (2, "tx", "edit", "json")]
    for seq, *_, payload, digest in rows:
        assert digest == checksum(seq, payload)
    store.close()


def test_snapshot_every_n_and_on_close_with_pruning(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db, snapshot_every=4, keep_snapshots=2)
    _commit(store, 4)
    assert _rows(db, "SELECT last_seq, kind FROM snapshot") == [(4, "periodic")]
    _commit(store, 9)
    assert _rows(db, "SELECT last_seq, kind FROM snapshot ORDER BY id") == [(8, "periodic"), (12, "periodic")]
    store.close()
    assert _rows(db, "SELECT last_seq, kind FROM snapshot ORDER BY id") == [(12, "periodic"), (13, "close")]
    # Nothing changed: reopening and closing writes no further snapshot.
    GraphStore.open(db).close()
    assert _rows(db, "SELECT count(*) FROM snapshot") == [(2,)]


def test_reopen_loads_snapshot_and_replays_the_rest(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db, snapshot_every=10)
    _commit(store, 23)
    expected = store.graph.to_dict()
    store._conn.close()  # simulate a crash: no close snapshot
    store._conn = None
    again = GraphStore.open(db)
    assert again.problems == []
    assert again.graph.to_dict() == expected
    assert again.last_seq == 23
    again.close()


def test_dynamic_values_are_saved_by_the_close_snapshot(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db)
    g = store.graph
    g.apply(ops.add_thought(g, "a", node_id="a"))
    store.snapshot()
    g.set_activation([0.75], ["a"])
    store.close()
    again = GraphStore.open(db)
    assert again.graph.state("a").activation == 0.75
    again.close()


def test_failing_journal_write_rolls_the_graph_back(tmp_path: Path):
    store = GraphStore.open(tmp_path / "graph.db")
    g = store.graph
    g.apply(ops.add_thought(g, "kept", node_id="a"))
    before = g.to_dict()
    store._conn.execute("DROP TABLE journal")  # every further journal write fails
    with pytest.raises(FormatError, match="cannot write the journal"):
        g.apply(ops.add_thought(g, "lost", node_id="b"))
    assert g.to_dict() == before
    store._conn.close()
    store._conn = None


def test_transaction_vetoed_by_a_later_hook_is_removed_from_the_journal(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db)
    g = store.graph
    g.apply(ops.add_thought(g, "a", node_id="a"))

    def veto(tx):
        if tx.provenance.operation == "edit":
            raise RuntimeError("vetoed")

    g.add_commit_hook(veto)
    with pytest.raises(RuntimeError, match="vetoed"):
        g.apply(ops.edit(g, "a", title="never"))
    assert g.node("a").title == "a"
    # The journal row written before the veto is dropped at the next write.
    g.apply(ops.add_thought(g, "b", node_id="b"))
    assert [e.operation for e in store.history()] == ["add_thought", "add_thought"]
    assert [e.seq for e in store.history()] == [1, 2]
    expected = g.to_dict()
    store.close()
    again = GraphStore.open(db)
    assert again.graph.to_dict() == expected
    again.close()


def test_second_writer_is_refused_and_its_graph_rolls_back(tmp_path: Path):
    db = tmp_path / "graph.db"
    one = GraphStore.open(db)
    two = GraphStore.open(db)
    one.graph.apply(ops.add_thought(one.graph, "from one", node_id="a"))
    with pytest.raises(ConflictError, match="another process wrote to the store"):
        two.graph.apply(ops.add_thought(two.graph, "from two", node_id="b"))
    assert two.graph.number_of_nodes() == 0
    with pytest.raises(ConflictError):
        two.snapshot()
    two.close(snapshot=False)
    one.close()
    assert GraphStore.open(db, readonly=True).graph.node_ids() == ["a"]


def test_readonly_store_refuses_changes_and_writes_nothing(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db)
    store.graph.apply(ops.add_thought(store.graph, "a", node_id="a"))
    store.close()
    size = db.stat().st_size
    ro = GraphStore.open(db, readonly=True)
    with pytest.raises(ReadOnlyError):
        ro.graph.apply(ops.add_thought(ro.graph, "b", node_id="b"))
    assert ro.graph.node_ids() == ["a"]
    ro.close()
    assert db.stat().st_size == size
    assert _rows(db, "SELECT count(*) FROM journal") == [(1,)]


def test_readonly_open_of_a_missing_store_says_so(tmp_path: Path):
    with pytest.raises(FormatError, match="no graph store here"):
        GraphStore.open(tmp_path / "nope.db", readonly=True)
    assert not (tmp_path / "nope.db").exists()


def test_foreign_files_are_refused_with_a_clear_error(tmp_path: Path):
    text = tmp_path / "notes.db"
    text.write_text("hello, not a database\n" * 100)
    with pytest.raises(FormatError, match="not a readable graph store"):
        GraphStore.open(text)
    assert text.read_text() == "hello, not a database\n" * 100
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('format', 'someone-else')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(FormatError, match="another program"):
        GraphStore.open(other)
    assert other.read_bytes() == before  # refused before writing anything
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db", "other.db"]
    conn = sqlite3.connect(other)
    conn.execute("UPDATE meta SET value = 'orchestrator-gui.graph-store'")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    conn.commit()
    conn.close()
    with pytest.raises(FormatError, match="schema_version '99' is not supported"):
        GraphStore.open(other)


def test_replace_graph_writes_a_base_snapshot_that_survives_pruning(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db, snapshot_every=2, keep_snapshots=1)
    _commit(store, 3)
    new = ThoughtGraph()
    new.apply(ops.add_thought(new, "imported", node_id="imp"))
    store.replace_graph(new, operation="import", description="import x.json", params={"file": "x.json"})
    assert store.graph is new
    new.apply(ops.add_thought(new, "after", node_id="after"))
    _commit(store, 4)
    expected = store.graph.to_dict()
    store.close()
    kinds = _rows(db, "SELECT last_seq, kind FROM snapshot ORDER BY id")
    assert (4, "base") in kinds and len(kinds) == 2
    again = GraphStore.open(db)
    assert again.problems == []
    assert again.graph.to_dict() == expected
    entry = again.history()[3]
    assert (entry.kind, entry.operation, entry.description, entry.params) == (
        "reset", "import", "import x.json", {"file": "x.json"})
    again.close()
