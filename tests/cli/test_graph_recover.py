"""``graph recover`` on real damaged stores, through the real CLI entry (issue 13).

These tests need ``graph recover`` wired into the ``graph`` command
(``register_recover`` in ``cli/cmd_graph.register``), and the ``graph build``
refusal needs ``cmd_build`` to stop on a store that exists but cannot be opened.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.migration import build_graph
from orchestrator_gui.model import operations as ops
from orchestrator_gui.store import GraphStore
from orchestrator_gui.store.records import Row, decode_tx

EXE = str(Path(sys.executable).with_name("orchestrator-gui"))
ERROR_LINE = re.compile(r"^(?P<file>[^:\n]+?)(?::(?P<line>\d+))?: error: (?P<msg>.+)$", re.M)
PAGE = 4096
THOUGHTS = 200


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def stats(capsys) -> dict:
    code, out, err = run(capsys, "graph", "stats", "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def ws(tmp_path, monkeypatch, capsys) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    monkeypatch.chdir(root)
    assert run(capsys, "graph", "build")[0] == 0
    return root


def db_of(root: Path) -> Path:
    return root / ".orchestrator" / "graph.db"


def add_thoughts(root: Path, *, close_snapshot: bool) -> dict[int, str]:
    """Commit THOUGHTS user thoughts (~700 bytes each: many journal pages); return {journal seq: node id}."""
    store = GraphStore.open_workspace(root, durable=False, snapshot_every=10**9)
    g = store.graph
    for i in range(THOUGHTS):
        g.apply(ops.add_thought(g, f"thought {i}", f"note {i} " + "x" * 600, node_id=f"u{i}", now=1e9 + i))
    store.close(snapshot=close_snapshot)  # the last connection: everything is checkpointed into graph.db
    conn = sqlite3.connect(db_of(root))
    try:
        rows = [Row(*v) for v in conn.execute(
            "SELECT seq, kind, tx_id, time, operation, codec, payload, checksum FROM journal WHERE kind = 'tx'")]
    finally:
        conn.close()
    return {r.seq: decode_tx(r).edits[0].node.id for r in rows if decode_tx(r).provenance.operation == "add_thought"}


def damage_middle_journal_page(db: Path) -> set[int]:
    """Overwrite the middle leaf page of the journal with garbage; return the seqs a point lookup can still read."""
    conn = sqlite3.connect(db)
    leaves = [p for (p,) in conn.execute(
        "SELECT pageno FROM dbstat WHERE name = 'journal' AND pagetype = 'leaf' ORDER BY pageno")]
    top = conn.execute("SELECT max(seq) FROM journal").fetchone()[0]
    conn.close()
    assert len(leaves) > 20
    page = leaves[len(leaves) // 2]
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * PAGE)
        fh.write(bytes((page * 37 + i * 101 + 7) % 256 for i in range(PAGE)))
    readable = set()
    conn = sqlite3.connect(db)
    for seq in range(1, top + 1):
        try:
            if conn.execute("SELECT 1 FROM journal WHERE seq = ?", (seq,)).fetchone():
                readable.add(seq)
        except sqlite3.DatabaseError:
            pass
    conn.close()
    assert 0 < top - len(readable) < 20
    return readable


def thought_ids(capsys, tmp_path: Path) -> set[str]:
    out = tmp_path / "export.json"
    assert run(capsys, "graph", "export", "-o", str(out))[0] == 0
    return {n["id"] for n in json.loads(out.read_text(encoding="utf-8"))["nodes"] if n.get("kind") == "thought"}


def recover_json(capsys) -> dict:
    code, out, err = run(capsys, "graph", "recover", "--json")
    assert code == 0, err
    assert "Traceback" not in out + err
    return json.loads(out)


def test_a_damaged_page_is_refused_by_stats_and_history_with_the_way_out(ws, capsys):
    add_thoughts(ws, close_snapshot=True)
    db = db_of(ws)
    damage_middle_journal_page(db)
    for command in ("stats", "history"):
        code, out, err = run(capsys, "graph", command)
        assert code == 1 and "Traceback" not in out + err, (command, err)
        m = ERROR_LINE.search(err)
        assert m and m["file"].endswith("graph.db"), err
        assert "damaged" in m["msg"] and "'orchestrator-gui graph recover'" in m["msg"]


def test_graph_build_refuses_a_damaged_store_instead_of_building_in_memory(ws, capsys):
    add_thoughts(ws, close_snapshot=True)
    damage_middle_journal_page(db_of(ws))
    code, out, err = run(capsys, "graph", "build")
    assert code == 1 and "Traceback" not in out + err, out
    m = ERROR_LINE.search(err)
    assert m and "'orchestrator-gui graph recover'" in m["msg"], err


def test_recover_sets_the_damaged_file_aside_and_brings_every_thought_back(ws, capsys, tmp_path):
    seq_to_id = add_thoughts(ws, close_snapshot=True)
    db = db_of(ws)
    readable = damage_middle_journal_page(db)
    damaged = hashlib.sha256(db.read_bytes()).hexdigest()
    lost = [seq for seq in seq_to_id if seq not in readable]
    report = recover_json(capsys)
    aside, *companions = [Path(p) for p in report["set_aside"]]
    assert re.fullmatch(r"graph\.db\.damaged-\d{8}T\d{6}", aside.name)
    assert {p.name for p in companions} <= {aside.name + s for s in ("-wal", "-shm", ".seq")}
    assert hashlib.sha256(aside.read_bytes()).hexdigest() == damaged  # kept exactly as it was found
    assert report["damaged"] is True
    assert report["journal"]["lost"] == len(lost) and not report["journal"]["unreadable"]
    assert report["journal"]["salvaged"] == len(readable)
    # Thoughts whose journal records sat on the damaged page come back from the close snapshot.
    assert report["user_nodes"] == {"recovered": THOUGHTS, "rescued": len(lost)}
    assert report["transactions"]["failed"] == 0
    assert thought_ids(capsys, tmp_path) == {f"u{i}" for i in range(THOUGHTS)}
    s = stats(capsys)
    assert s["kinds"]["thought"] == THOUGHTS
    for command in ("history", "build"):
        code, out, err = run(capsys, "graph", command)
        assert code == 0 and "error" not in err, (command, err)
    # The history goes on: the newest thought is still the step "graph undo" takes back.
    code, out, err = run(capsys, "graph", "undo")
    assert code == 0, err
    assert f"u{THOUGHTS - 1}" not in thought_ids(capsys, tmp_path)


def test_without_a_snapshot_the_thoughts_on_undamaged_pages_come_back(ws, capsys, tmp_path):
    seq_to_id = add_thoughts(ws, close_snapshot=False)  # the only snapshot holds the build, not the thoughts
    readable = damage_middle_journal_page(db_of(ws))
    expected = {node for seq, node in seq_to_id.items() if seq in readable}
    report = recover_json(capsys)
    assert len(expected) < THOUGHTS
    assert thought_ids(capsys, tmp_path) == expected
    assert report["user_nodes"] == {"recovered": len(expected), "rescued": 0}
    assert report["journal"]["lost"] == len(seq_to_id) - len(expected)
    assert report["transactions"]["file_syncs"] == 0  # the first graph build is the base snapshot, no journaled sync


def test_random_bytes_recover_to_a_build_of_the_files_and_say_the_journal_was_lost(ws, capsys):
    add_thoughts(ws, close_snapshot=True)
    db = db_of(ws)
    garbage = random.Random(13).randbytes(300 * PAGE)
    db.write_bytes(garbage)
    for extra in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        extra.unlink(missing_ok=True)
    res = subprocess.run([EXE, "-w", str(ws), "graph", "recover"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert re.search(r"^journal: lost \(\d+ records\), not one record could be read; the graph was built from "
                     r"the workspace files$", res.stdout, re.M), res.stdout
    aside = next(db.parent.glob("graph.db.damaged-*[0-9]"))
    assert aside.read_bytes() == garbage
    s = stats(capsys)
    fresh = build_graph(ws)
    assert (s["nodes"], s["edges"]) == (fresh.number_of_nodes(), fresh.number_of_edges())
    assert "thought" not in s["kinds"]


def test_recover_counts_what_a_deleted_wal_took(ws, capsys):
    db = db_of(ws)
    child = textwrap.dedent("""
        import os, sys
        from orchestrator_gui.model import operations as ops
        from orchestrator_gui.store import GraphStore
        store = GraphStore.open_workspace(sys.argv[1])
        for i in range(3):
            store.graph.apply(ops.add_thought(store.graph, f"late {i}", node_id=f"late{i}"))
        os._exit(0)  # killed: the commits are only in graph.db-wal
    """)
    subprocess.run([sys.executable, "-c", child, str(ws)], check=True, timeout=120)
    Path(f"{db}-wal").unlink()
    code, out, err = run(capsys, "graph", "stats")
    assert code == 0
    assert "3 committed transactions" in err and "'orchestrator-gui graph recover'" in err
    report = recover_json(capsys)
    assert report["journal"]["lost"] == 3 and report["damaged"] is False
    code, out, err = run(capsys, "graph", "stats")
    assert code == 0 and "-wal" not in err  # the new store starts clean


def test_recover_without_a_store_is_refused(tmp_path, monkeypatch, capsys):
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    code, out, err = run(capsys, "-w", str(root), "graph", "recover")
    assert code == 1 and "Traceback" not in err
    assert "nothing to recover" in ERROR_LINE.search(err)["msg"]
    assert not (root / ".orchestrator" / "graph.db").exists()
