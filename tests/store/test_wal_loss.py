"""A deleted ``-wal`` file takes committed transactions with it: the store says so on open (issue 13)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from orchestrator_gui.model import operations as ops
from orchestrator_gui.store import GraphStore
from orchestrator_gui.store.sidecar import read_seq, seq_path, write_seq

# Commits thoughts t<first>..t<last-1> in a real process, then closes the store or dies without closing it
# (os._exit: no checkpoint, so the commits stay in graph.db-wal only, as after a crash or a kill).
CHILD = textwrap.dedent("""
    import os, sys
    from orchestrator_gui.model import operations as ops
    from orchestrator_gui.store import GraphStore
    store = GraphStore.open(sys.argv[1])
    g = store.graph
    for i in range(int(sys.argv[2]), int(sys.argv[3])):
        g.apply(ops.add_thought(g, f"t{i}", node_id=f"t{i}", now=float(i)))
    if sys.argv[4] == "close":
        store.close()
    else:
        os._exit(0)
""")


def commit(db: Path, first: int, last: int, end: str) -> None:
    subprocess.run([sys.executable, "-c", CHILD, str(db), str(first), str(last), end], check=True, timeout=120)


@pytest.fixture
def lost_wal(tmp_path: Path) -> Path:
    """A store whose last 3 commits (t5..t7) were only in its -wal file, which is then deleted."""
    db = tmp_path / "graph.db"
    commit(db, 0, 5, "close")  # t0..t4 checkpointed into graph.db by the close
    commit(db, 5, 8, "kill")
    wal = Path(f"{db}-wal")
    assert wal.stat().st_size > 0  # the three commits are in the log, not yet in graph.db
    wal.unlink()
    return db


def missing(store: GraphStore) -> list[str]:
    return [p.message for p in store.problems if "-wal" in p.message]


def test_a_deleted_wal_is_reported_with_the_number_of_missing_transactions(lost_wal: Path):
    for readonly in (True, False):
        store = GraphStore.open(lost_wal, readonly=readonly)
        try:
            assert sorted(store.graph.node_ids()) == [f"t{i}" for i in range(5)]  # t5..t7 really are gone
            [message] = missing(store)
            assert [p.severity for p in store.problems] == ["warning"]
            assert "3 committed transactions (journal records 6..8) are missing" in message
            assert f"{lost_wal}-wal was deleted or lost" in message
            assert "'orchestrator-gui graph recover'" in message
        finally:
            store.close()


def test_the_loss_is_still_reported_after_new_commits_reuse_the_numbers(lost_wal: Path):
    store = GraphStore.open(lost_wal)
    g = store.graph
    for i in range(3):
        g.apply(ops.add_thought(g, f"n{i}", node_id=f"n{i}", now=100.0 + i))
    assert store.last_seq == 8
    store.close()
    again = GraphStore.open(lost_wal, readonly=True)
    [message] = missing(again)
    assert "3 committed transactions were lost earlier (as journal records 6..8" in message
    assert "graph recover" in message
    again.close()


def test_a_crash_with_the_wal_intact_loses_nothing_and_says_nothing(tmp_path: Path):
    db = tmp_path / "graph.db"
    commit(db, 0, 5, "close")
    commit(db, 5, 8, "kill")
    store = GraphStore.open(db)
    assert store.problems == []
    assert len(store.graph.node_ids()) == 8
    store.close()
    assert read_seq(db) == 8


def test_the_sidecar_follows_every_commit_and_a_rolled_back_one_is_not_counted(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db)
    g = store.graph
    g.apply(ops.add_thought(g, "a", node_id="a", now=1.0))
    assert read_seq(db) == 1 == store.last_seq

    def veto(tx):  # a hook after the store's: the store journals the transaction, then the graph rolls it back
        if any(getattr(getattr(e, "node", None), "id", None) == "v" for e in tx.edits):
            raise RuntimeError("no")

    g.add_commit_hook(veto)
    with pytest.raises(RuntimeError):
        g.apply(ops.add_thought(g, "vetoed", node_id="v", now=2.0))
    assert read_seq(db) == 1  # the vetoed row is in the journal until the next write; it never counts
    store.close()  # settles: deletes the vetoed row
    assert read_seq(db) == 1
    again = GraphStore.open(db)
    assert again.problems == [] and again.graph.node_ids() == ["a"]
    again.close()


def test_a_new_database_does_not_inherit_the_sidecar_of_a_deleted_one(tmp_path: Path):
    db = tmp_path / "graph.db"
    commit(db, 0, 5, "close")
    db.unlink()  # the old advice: delete the database and build again; graph.db.seq stays behind
    assert read_seq(db) == 5
    store = GraphStore.open(db)
    assert store.problems == []
    assert not seq_path(db).exists()
    g = store.graph
    g.apply(ops.add_thought(g, "a", node_id="a", now=1.0))
    store.close()
    again = GraphStore.open(db)
    assert again.problems == [] and read_seq(db) == 1
    again.close()


TORN = b"00000000000000000099 00000000\n"  # the right shape, a checksum that does not match


@pytest.mark.parametrize("content", [b"", b"x\n", b"99\n", b"9" * 40, b"\xff\xfe1\n", TORN])
def test_an_unusable_sidecar_is_ignored_and_rewritten(tmp_path: Path, content: bytes):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db, durable=False)
    store.graph.apply(ops.add_thought(store.graph, "t", node_id="t", now=1.0))
    store.graph.apply(ops.add_thought(store.graph, "u", node_id="u", now=2.0))
    store.close()
    seq_path(db).write_bytes(content)
    store = GraphStore.open(db)
    assert store.problems == []
    g = store.graph
    g.apply(ops.add_thought(g, "a", node_id="a", now=1.0))
    store.close()
    assert read_seq(db) == 3


def test_write_seq_refuses_numbers_out_of_range(tmp_path: Path):
    with pytest.raises(ValueError):
        write_seq(tmp_path / "graph.db", -1)
    with pytest.raises(ValueError):
        write_seq(tmp_path / "graph.db", 2**62 + 1)


def test_a_sidecar_that_cannot_be_written_is_one_warning_and_the_commits_go_on(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db)
    seq_path(db).mkdir()  # a folder where the sidecar should be: opening it for writing fails
    g = store.graph
    for i in range(3):
        g.apply(ops.add_thought(g, f"n{i}", node_id=f"n{i}", now=float(i)))
    warnings = [p for p in store.problems if "cannot record the last commit" in p.message]
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    store.close()
    again = GraphStore.open(db)
    assert sorted(again.graph.node_ids()) == ["n0", "n1", "n2"] and again.problems == []
    again.close()
