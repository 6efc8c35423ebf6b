"""Damaged journal records and snapshots are detected, reported and skipped; the rest is recovered."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.store import GraphStore
from orchestrator_gui.store.records import checksum
from orchestrator_gui.store.snapshot import snapshot_checksum


def _sql(db: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(sql, args).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]


def _store_with_nodes(db: Path, count: int, *, snapshot_after: int | None = None) -> dict:
    """Commit ``count`` independent add_thought transactions (node ``a<i>`` in tx ``i``); crash without a final snapshot."""
    store = GraphStore.open(db, snapshot_every=10_000)
    g = store.graph
    for i in range(1, count + 1):
        g.apply(ops.add_thought(g, f"node {i}", node_id=f"a{i}", now=float(i)))
        if i == snapshot_after:
            store.snapshot()
    states = g.to_dict()
    store.close(snapshot=False)
    return states


def _ids_without(count: int, *missing: int) -> list[str]:
    return [f"a{i}" for i in range(1, count + 1) if i not in missing]


def test_flipped_journal_payload_is_reported_and_only_that_transaction_is_missing(tmp_path: Path):
    db = tmp_path / "graph.db"
    _store_with_nodes(db, 10, snapshot_after=5)
    [(payload,)] = _sql(db, "SELECT payload FROM journal WHERE seq = 7")
    _sql(db, "UPDATE journal SET payload = ? WHERE seq = 7", _flip(payload, len(payload) // 2))
    store = GraphStore.open(db)
    assert [(p.severity, p.file) for p in store.problems] == [("error", str(db))]
    msg = store.problems[0].message
    assert "journal record 7" in msg and "checksum mismatch" in msg and "lost" in msg
    assert sorted(store.graph.node_ids()) == sorted(_ids_without(10, 7))
    entry = store.history()[6]
    assert (entry.seq, entry.valid, entry.description) == (7, False, "")
    assert "checksum mismatch" in entry.error
    assert all(e.valid for e in store.history() if e.seq != 7)
    store.close()


def test_torn_and_undecodable_records_are_skipped_with_the_reason(tmp_path: Path):
    db = tmp_path / "graph.db"
    _store_with_nodes(db, 6)
    [(payload,)] = _sql(db, "SELECT payload FROM journal WHERE seq = 2")
    _sql(db, "UPDATE journal SET payload = ? WHERE seq = 2", payload[: len(payload) // 3])  # torn write
    garbage = b'{"id": "x", "edits": "nonsense"'
    _sql(db, "UPDATE journal SET payload = ?, checksum = ? WHERE seq = 4", garbage, checksum(4, garbage))
    valid_json = b'{"id": "nope"}'
    _sql(db, "UPDATE journal SET payload = ?, checksum = ? WHERE seq = 5", valid_json, checksum(5, valid_json))
    store = GraphStore.open(db)
    messages = [p.message for p in store.problems]
    assert len(messages) == 3
    assert "journal record 2" in messages[0] and "checksum mismatch" in messages[0]
    assert "journal record 4" in messages[1] and "undecodable payload" in messages[1]
    assert "journal record 5" in messages[2] and "not a valid transaction" in messages[2]
    assert sorted(store.graph.node_ids()) == sorted(_ids_without(6, 2, 4, 5))
    store.close()


def test_a_transaction_depending_on_a_lost_one_is_reported_and_not_half_applied(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db)
    g = store.graph
    g.apply(ops.add_thought(g, "a", node_id="a"))
    g.apply(ops.add_thought(g, "b", node_id="b"))
    g.apply(ops.link(g, "a", "b", "depends_on"))
    g.apply(ops.edit(g, "b", title="b2"))
    store.close(snapshot=False)
    [(payload,)] = _sql(db, "SELECT payload FROM journal WHERE seq = 2")
    _sql(db, "UPDATE journal SET payload = ? WHERE seq = 2", _flip(payload, 10))
    again = GraphStore.open(db)
    messages = [p.message for p in again.problems]
    assert len(messages) == 3
    assert "journal record 2" in messages[0]
    assert "journal record 3" in messages[1] and "no longer applies" in messages[1]
    assert "journal record 4" in messages[2] and "no longer applies" in messages[2]
    assert again.graph.node_ids() == ["a"] and again.graph.number_of_edges() == 0
    again.close()


def test_flipped_snapshot_falls_back_to_the_previous_snapshot_and_loses_nothing(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db, snapshot_every=4, keep_snapshots=3)
    g = store.graph
    for i in range(1, 11):
        g.apply(ops.add_thought(g, f"node {i}", node_id=f"a{i}", now=float(i)))
    expected = g.to_dict()
    store.close(snapshot=False)
    assert _sql(db, "SELECT id, last_seq FROM snapshot ORDER BY id") == [(1, 4), (2, 8)]
    [(blob,)] = _sql(db, "SELECT data FROM snapshot WHERE id = 2")
    _sql(db, "UPDATE snapshot SET data = ? WHERE id = 2", _flip(blob, len(blob) // 2))
    again = GraphStore.open(db)
    assert [(p.severity, p.message) for p in again.problems] == [
        ("warning", "snapshot 2 (after journal record 8): checksum mismatch; falling back to an older state")
    ]
    assert again.graph.to_dict() == expected
    # The recovery is made permanent by the close snapshot: the next open is clean.
    again.close()
    third = GraphStore.open(db)
    assert third.problems == []
    assert third.graph.to_dict() == expected
    third.close()


def test_all_snapshots_damaged_replays_the_whole_journal(tmp_path: Path):
    db = tmp_path / "graph.db"
    expected = _store_with_nodes(db, 9, snapshot_after=3)
    store = GraphStore.open(db, snapshot_every=4)
    store.close(snapshot=True)  # a second snapshot, at 9
    for snap_id, blob in _sql(db, "SELECT id, data FROM snapshot"):
        _sql(db, "UPDATE snapshot SET data = ? WHERE id = ?", _flip(blob, 3), snap_id)
    again = GraphStore.open(db)
    assert len(again.problems) == 2 and all(p.severity == "warning" for p in again.problems)
    assert again.graph.to_dict() == expected
    again.close(snapshot=False)


def test_snapshot_with_valid_checksum_but_bad_content_is_reported(tmp_path: Path):
    db = tmp_path / "graph.db"
    expected = _store_with_nodes(db, 4, snapshot_after=4)
    bad = zlib.compress(b"OGSNAP1\n\x05\x00\x00\x00{oops")
    _sql(db, "UPDATE snapshot SET data = ?, checksum = ?", bad, snapshot_checksum(4, bad))
    again = GraphStore.open(db)
    assert len(again.problems) == 1
    assert "bad snapshot header" in again.problems[0].message
    assert again.graph.to_dict() == expected
    again.close(snapshot=False)
    not_zlib = b"definitely not zlib"
    _sql(db, "UPDATE snapshot SET data = ?, checksum = ?", not_zlib, snapshot_checksum(4, not_zlib))
    again = GraphStore.open(db)
    assert "cannot decompress snapshot" in again.problems[0].message
    again.close(snapshot=False)


def test_damaged_base_snapshot_is_reported_as_an_error(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db)
    g = store.graph
    g.apply(ops.add_thought(g, "before", node_id="before"))
    new = ThoughtGraph()
    new.apply(ops.add_thought(new, "imported", node_id="imp"))
    store.replace_graph(new, operation="import")
    store.close(snapshot=False)
    [(blob,)] = _sql(db, "SELECT data FROM snapshot WHERE kind = 'base'")
    _sql(db, "UPDATE snapshot SET data = ? WHERE kind = 'base'", _flip(blob, 0))
    again = GraphStore.open(db)
    severities = [p.severity for p in again.problems]
    assert severities == ["warning", "error"]
    assert "journal record 2" in again.problems[1].message and "base snapshot" in again.problems[1].message
    # What could be recovered is there; the imported state is not invented.
    assert again.graph.node_ids() == ["before"]
    again.close(snapshot=False)
