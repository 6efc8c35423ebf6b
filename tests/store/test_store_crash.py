"""SIGKILL recovery: a child process commits transactions in a loop and is killed at random moments.

The child (this file run as a script) opens the store, continues a
deterministic sequence of transactions and prints the journal seq of each one
only after ``graph.apply`` returned.  The parent kills it with SIGKILL after
a random number of reported commits plus a random sub-millisecond delay, so
the kill lands anywhere: inside a journal write, between commits, or in the
middle of a periodic snapshot (the child snapshots every 5 transactions).
On reopening, the graph must equal the reference graph after the last
reported transaction, or after one more (killed after COMMIT returned but
before the print); exactly one of the two must match.  The 20 rounds run on
the same database, so each child also recovers what its predecessor left.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import Edge, Node
from orchestrator_gui.model.transactions import AddEdge, AddNode, MoveNode, RemoveNode, Transaction, UpdateNode
from orchestrator_gui.store import GraphStore

ROUNDS = 20


def make_tx(i: int, g: ThoughtGraph) -> Transaction:
    """The ``i``-th transaction of the sequence (0-based); deterministic given the graph state.

    Every transaction changes the graph, so the states after ``i`` and
    ``i + 1`` transactions always differ.
    """
    rng = random.Random(i)
    ids = sorted(g.node_ids())
    step = i % 5
    if len(ids) < 4 or step in (0, 1):
        node = Node(id=f"n{i}", title=f"thought {i}", content="x" * rng.randrange(0, 300), created=i, updated=i,
                    theta=rng.uniform(0, 6.28), phi=rng.uniform(-1.5, 1.5), tags=(f"t{i % 7}",))
        edits = [AddNode(node=node)]
        if ids:
            edits.append(AddEdge(edge=Edge(src=rng.choice(ids), dst=node.id, type="parent", weight=rng.random())))
    elif step == 2:
        nid = rng.choice(ids)
        edits = [UpdateNode(node_id=nid, field="title", old=g.node(nid).title, new=f"title {i}")]
    elif step == 3:
        while True:
            a, b = rng.sample(ids, 2)
            if not g.has_edge(a, b, "mentions"):
                break
        edits = [AddEdge(edge=Edge(src=a, dst=b, type="mentions", weight=i / 7, metadata={"i": i}))]
    elif i % 15 == 4:
        edits = [RemoveNode(node_id=rng.choice(ids))]
    else:
        nid = rng.choice(ids)
        edits = [MoveNode(node_ids=(nid,), new=(((i % 600) / 100.0, 0.25, 2.5),))]
    return Transaction.create(f"step{step}", edits, tx_id=f"tx{i}", now=1000.0 + i, params={"i": i})


def child_main(db: str) -> None:
    """Open the store and commit forever, reporting each committed seq on stdout."""
    store = GraphStore.open(db, snapshot_every=5)
    if store.problems:
        sys.stderr.write("\n".join(p.format() for p in store.problems))
        sys.exit(3)
    g = store.graph
    i = store.last_seq
    print(f"ready {i}", flush=True)
    while True:
        g.apply(make_tx(i, g))
        i += 1
        # Only now, after apply (and so the journal COMMIT) returned, is the transaction reported.
        print(i, flush=True)


def test_sigkill_at_random_moments_never_loses_a_committed_transaction(tmp_path: Path):
    db = tmp_path / ".orchestrator" / "graph.db"
    rng = random.Random(20240607)
    ref = ThoughtGraph()  # reference graph after `done` transactions
    done = 0
    for round_no in range(ROUNDS):
        proc = subprocess.Popen([sys.executable, __file__, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=Path(__file__).resolve().parents[2])
        try:
            first = proc.stdout.readline()
            assert first == f"ready {done}\n", (first, proc.stderr.read() if proc.poll() is not None else "")
            target = rng.randint(1, 25)
            reported = done
            for _ in range(target):
                line = proc.stdout.readline()
                assert line, proc.stderr.read()
                reported = int(line)
            # The random extra delay is the point (a kill at an arbitrary phase), not a wait for a condition.
            time.sleep(rng.uniform(0, 0.002))
            os.kill(proc.pid, signal.SIGKILL)
            rest = proc.stdout.read()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        for line in rest.splitlines():
            reported = int(line)  # commits printed between our last read and the kill

        while done < reported:
            ref.apply(make_tx(done, ref), record=False)
            done += 1
        at_k = ref.to_dict()
        ref_next = ThoughtGraph.from_dict(at_k)
        ref_next.apply(make_tx(done, ref_next), record=False)
        at_k1 = ref_next.to_dict()

        store = GraphStore.open(db)
        try:
            assert store.problems == [], [p.format() for p in store.problems]
            got = store.graph.to_dict()
            matches = [got == at_k, got == at_k1]
            assert matches.count(True) == 1, f"round {round_no}: state matches neither {reported} nor {reported + 1}"
            if matches[1]:
                ref, done = ref_next, done + 1
            assert store.last_seq == done
            assert [e.tx_id for e in store.history()] == [f"tx{i}" for i in range(done)]
        finally:
            store.close(snapshot=False)  # leave recovery work to the next child
    assert done >= ROUNDS


if __name__ == "__main__":
    child_main(sys.argv[1])
