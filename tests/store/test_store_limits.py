"""Import caps and a damaged database page at the store's API (issue 13)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from orchestrator_gui.model import operations as ops
from orchestrator_gui.problems import FormatError
from orchestrator_gui.store import GraphStore, export_graph, import_json
from orchestrator_gui.store.exchange import MAX_IMPORT_BYTES, MAX_IMPORT_EDGES, MAX_IMPORT_NODES


def test_the_caps_are_what_the_readme_says():
    assert (MAX_IMPORT_BYTES, MAX_IMPORT_NODES, MAX_IMPORT_EDGES) == (256 * 1024**2, 250_000, 1_250_000)


def test_too_many_edges_is_refused_before_the_graph_is_built(tmp_path: Path):
    store = GraphStore.open(tmp_path / "g.db", durable=False)
    g = store.graph
    g.apply(ops.add_thought(g, "a", node_id="a", now=1.0))
    export_graph(g, tmp_path / "g.json")
    store.close()
    data = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    data["edges"] = [[0]] * (MAX_IMPORT_EDGES + 1)  # the count is checked before any edge is looked at
    (tmp_path / "many.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"1,250,001 edges \(the limit is 1,250,000 edges"):
        import_json(tmp_path / "many.json")


def test_a_file_over_the_byte_cap_is_refused_without_reading_it(tmp_path: Path):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(MAX_IMPORT_BYTES + 1)  # sparse: nothing is written, the size alone decides
    with pytest.raises(FormatError, match="too large"):
        import_json(big)


def _damage(db: Path, table: str) -> None:
    """Overwrite the first leaf page of ``table`` with garbage (as a bad disk sector would)."""
    conn = sqlite3.connect(db)
    try:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    with open(db, "r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(bytes((i * 73 + 11) % 256 for i in range(page_size)))


def test_a_damaged_journal_page_is_a_format_error_that_names_the_way_out(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db, durable=False)
    g = store.graph
    for i in range(20):
        g.apply(ops.add_thought(g, f"thought {i}", node_id=f"n{i}", now=float(i)))
    store.close(snapshot=False)
    _damage(db, "journal")
    with pytest.raises(FormatError) as exc:
        store = GraphStore.open(db)
        store.history()
    message = exc.value.message
    assert exc.value.file == str(db)
    assert "damaged" in message and "orchestrator-gui graph build" in message and f"{db}.damaged" in message
