"""Salvaging a damaged store file: real SQLite files with real overwritten pages (issue 13)."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from pathlib import Path

import pytest

from orchestrator_gui.model import operations as ops
from orchestrator_gui.problems import FormatError
from orchestrator_gui.store import GraphStore
from orchestrator_gui.store.records import decode_tx
from orchestrator_gui.store.salvage import salvage
from orchestrator_gui.store.setaside import aside_path, install
from orchestrator_gui.store.sidecar import seq_path

PAGE = 4096
COUNT = 120


def make_store(db: Path, count: int = COUNT) -> None:
    """``count`` thoughts ``u<i>`` (transaction ``i``), ~1 KB each: several journal rows per page, many pages."""
    store = GraphStore.open(db, durable=False, snapshot_every=50)
    g = store.graph
    for i in range(1, count + 1):
        g.apply(ops.add_thought(g, f"thought {i}", f"note {i} " + "x" * 900, node_id=f"u{i}", now=float(i)))
    store.close()  # the last connection: everything is checkpointed into graph.db


def pages(db: Path, table: str, kind: str) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [p for (p,) in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno", (table, kind))]
    finally:
        conn.close()


def overwrite(db: Path, page: int) -> None:
    """Overwrite page ``page`` (1-based) with garbage, as a bad disk sector would."""
    with open(db, "r+b") as fh:
        fh.seek((page - 1) * PAGE)
        fh.write(bytes((page * 37 + i * 101 + 7) % 256 for i in range(PAGE)))


def readable_seqs(db: Path) -> set[int]:
    """The journal seqs a point lookup can still read: the oracle, independent of the salvage walk."""
    conn = sqlite3.connect(db)
    found = set()
    try:
        for seq in range(1, COUNT + 1):
            try:
                if conn.execute("SELECT payload FROM journal WHERE seq = ?", (seq,)).fetchone():
                    found.add(seq)
            except sqlite3.DatabaseError:
                pass
    finally:
        conn.close()
    return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_overwritten_journal_page_loses_only_its_rows(tmp_path: Path):
    db = tmp_path / "graph.db"
    make_store(db)
    leaves = pages(db, "journal", "leaf")
    assert len(leaves) > 10
    overwrite(db, leaves[len(leaves) // 2])
    before = digest(db)
    expected = readable_seqs(db)
    assert 0 < COUNT - len(expected) < 10  # one page's rows are unreadable, no more
    saved = salvage(db)
    assert digest(db) == before  # the damaged file itself is never opened for writing
    assert saved.error is None and saved.damage  # quick_check saw the damage
    assert {r.seq for r in saved.journal} == expected
    lost = set(range(1, COUNT + 1)) - expected
    assert saved.journal_unreadable == len(lost)
    [(first, last)] = saved.journal_read.gaps
    assert set(range(first, last + 1)) == lost
    for row in saved.journal:
        assert decode_tx(row).id  # what was read is intact (checksums match)
    assert len(saved.snapshots) >= 2 and saved.snapshot_read.gaps == []


def test_whichever_journal_page_is_overwritten_salvage_reads_every_row_a_point_lookup_can(tmp_path: Path):
    good = tmp_path / "good.db"
    make_store(good)
    db = tmp_path / "graph.db"
    for page in pages(good, "journal", "leaf") + pages(good, "journal", "internal"):
        db.write_bytes(good.read_bytes())
        overwrite(db, page)
        expected = readable_seqs(db)
        saved = salvage(db)
        assert {r.seq for r in saved.journal} == expected, page
        if expected and max(expected) == COUNT:  # (when the tail is lost, nothing in the file says how long it was)
            assert saved.journal_unreadable == COUNT - len(expected), page


def test_an_overwritten_overflow_page_loses_that_snapshot_alone(tmp_path: Path):
    db = tmp_path / "graph.db"
    make_store(db)
    conn = sqlite3.connect(db)
    ids = [i for (i,) in conn.execute("SELECT id FROM snapshot ORDER BY id")]
    conn.close()
    overwrite(db, pages(db, "snapshot", "overflow")[0])
    saved = salvage(db)
    assert len(saved.snapshots) == len(ids) - 1
    assert len(saved.snapshot_read.bad_rows) == 1
    assert len(saved.journal) == COUNT and saved.journal_unreadable == 0


def test_a_damaged_root_page_loses_the_whole_table_and_says_so(tmp_path: Path):
    db = tmp_path / "graph.db"
    make_store(db)
    conn = sqlite3.connect(db)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'journal'").fetchone()[0]
    conn.close()
    overwrite(db, root)
    saved = salvage(db)
    assert saved.journal == []
    [(first, last)] = saved.journal_read.gaps
    assert last == 2**63 - 1  # nothing tells how far the unreadable part went
    assert len(saved.snapshots) >= 2  # the other tables are read all the same


def test_random_bytes_give_an_error_and_nothing(tmp_path: Path):
    db = tmp_path / "graph.db"
    db.write_bytes(random.Random(13).randbytes(64 * PAGE))
    saved = salvage(db)
    assert saved.error == "file is not a database"
    assert saved.journal == [] and saved.snapshots == []


def test_commits_only_in_the_wal_are_salvaged_and_the_wal_is_left_alone(tmp_path: Path):
    db = tmp_path / "graph.db"
    make_store(db, 10)
    store = GraphStore.open(db, durable=False)
    g = store.graph
    g.apply(ops.add_thought(g, "late", node_id="late", now=99.0))
    wal = Path(f"{db}-wal")
    try:
        before = digest(wal)
        saved = salvage(db)  # read while the store is still open: the commit is in the WAL only
        assert [r.seq for r in saved.journal][-1] == 11
        assert decode_tx(saved.journal[-1]).edits[0].node.id == "late"
        assert digest(wal) == before
    finally:
        store.close()


def test_a_database_of_another_program_is_refused(tmp_path: Path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('format', 'someone-else')")
    conn.commit()
    conn.close()
    with pytest.raises(FormatError, match="another program"):
        salvage(other)
    plain = tmp_path / "plain.db"
    conn = sqlite3.connect(plain)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with pytest.raises(FormatError, match="without the graph store's tables"):
        salvage(plain)
    with pytest.raises(FormatError, match="nothing to recover"):
        salvage(tmp_path / "missing.db")


@pytest.mark.parametrize("readonly", [True, False])
def test_opening_a_damaged_file_is_refused_with_the_way_out(tmp_path: Path, readonly: bool):
    db = tmp_path / "graph.db"
    make_store(db)
    overwrite(db, pages(db, "journal", "leaf")[3])  # before the newest snapshot: loading alone would not touch it
    with pytest.raises(FormatError) as exc:
        GraphStore.open(db, readonly=readonly).close()
    assert exc.value.file == str(db)
    assert "damaged" in exc.value.message and "'orchestrator-gui graph recover'" in exc.value.message


def test_install_keeps_the_old_files_under_the_aside_name(tmp_path: Path):
    db = tmp_path / "graph.db"
    fresh = tmp_path / "graph.db.recovering"
    olds = {"": b"old db", "-wal": b"old wal", "-shm": b"old shm", ".seq": b"7\n"}
    for suffix, data in olds.items():
        Path(f"{db}{suffix}").write_bytes(data)
    fresh.write_bytes(b"new db")
    seq_path(fresh).write_bytes(b"3\n")
    aside = aside_path(db, 0.0)
    assert aside.name.startswith("graph.db.damaged-19") or aside.name.startswith("graph.db.damaged-20")
    moved = install(db, fresh, aside)
    assert moved[0] == aside
    for suffix, data in olds.items():
        assert Path(f"{aside}{suffix}").read_bytes() == data
    assert db.read_bytes() == b"new db" and seq_path(db).read_bytes() == b"3\n"
    assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists() and not fresh.exists()
    assert aside_path(db, 0.0) == Path(f"{aside}-2")  # a second recovery in the same second gets its own name
