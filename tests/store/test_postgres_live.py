"""Live graph: transactions committed on one machine reach the others' graphs, in journal order, all of them."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from pg_wait import pulled_to
from polling import until

from orchestrator_gui.model import operations
from orchestrator_gui.store.postgres import PostgresGraphStore

WORKER = Path(__file__).with_name("pg_worker.py")


def test_a_commit_on_one_machine_shows_on_another_within_a_second_with_the_graph_events(open_pg):
    a, b = open_pg("m1"), open_pg("m2")
    pending = threading.Event()
    b.events.remote_pending.connect(pending.set)
    added, applied = [], []
    b.graph.events.node_added.connect(added.append)
    b.events.remote_applied.connect(applied.append)
    start = time.monotonic()
    tx = a.graph.apply(operations.add_thought(a.graph, "From m1", node_id="thought-x"))
    assert pending.wait(1.0), "no notification within a second"
    until(lambda: b.pull(), timeout=1.0, what="the pull to apply the remote record")
    assert time.monotonic() - start < 1.0
    assert b.graph.node("thought-x").title == "From m1"
    assert added == ["thought-x"] and [t.id for t in applied] == [tx.id]
    assert b.last_seq == a.last_seq == 1
    assert b.own_history() == [] and [e.tx_id for e in a.own_history()] == [tx.id]


def test_two_processes_commit_500_each_interleaved_and_end_with_identical_graphs(fleet_db, tmp_path):
    seed = PostgresGraphStore.open(fleet_db, local_path=tmp_path / "seed" / "graph.db", machine="seed")
    seed.graph.apply(operations.add_thought(seed.graph, "Hub", node_id="thought-hub"))
    seed.close()
    count = 500
    total = 1 + 2 * (count + count // 10)  # the hub, then per worker 500 thoughts and 50 retitles
    go = tmp_path / "go"
    procs = []
    for machine in ("m1", "m2"):
        argv = [sys.executable, str(WORKER), fleet_db, machine, str(tmp_path / machine), str(count), str(go),
                str(tmp_path / f"{machine}.json"), str(total)]
        procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    go.touch()
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out
    results = [json.loads((tmp_path / f"{m}.json").read_text()) for m in ("m1", "m2")]
    assert results[0]["problems"] == [] and results[1]["problems"] == []
    assert results[0]["graph"] == results[1]["graph"]
    graph = results[0]["graph"]
    assert len(graph["nodes"]) == 1 + 2 * count
    # What a third machine loads from the journal is the same graph.
    fresh = PostgresGraphStore.open(fleet_db, local_path=tmp_path / "m3" / "graph.db", machine="m3")
    try:
        from pg_worker import content

        assert content(fresh.graph) == graph
    finally:
        fresh.close()
    with psycopg.connect(fleet_db) as conn:
        rows = conn.execute("SELECT seq, origin_machine, operation, payload FROM journal ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == list(range(1, total + 1))  # every commit, no gap, no duplicate
    origins = [r[1] for r in rows[1:]]
    assert origins.count("m1") == origins.count("m2") == count + count // 10
    switches = sum(1 for x, y in zip(origins, origins[1:]) if x != y)
    assert switches >= 20, f"the two machines did not interleave (only {switches} switches)"
    for machine in ("m1", "m2"):  # each machine's own order is kept in the journal
        titles = [json.loads(r[3])["description"] for r in rows[1:] if r[1] == machine and r[2] == "add_thought"]
        assert titles == [f"Add thought '{machine} {i}'" for i in range(count)]


def test_a_store_that_was_closed_catches_up_on_open_and_pull_keeps_it_current(open_pg):
    a = open_pg("m1")
    for i in range(5):
        a.graph.apply(operations.add_thought(a.graph, f"T{i}", node_id=f"thought-{i}"))
    b = open_pg("m2")
    assert sorted(b.graph.node_ids()) == [f"thought-{i}" for i in range(5)]
    a.graph.apply(operations.edit(a.graph, "thought-3", title="changed"))
    pulled_to(b, 6)
    assert b.graph.node("thought-3").title == "changed"


def test_a_graph_replaced_on_one_machine_is_replaced_on_the_others(open_pg):
    from orchestrator_gui.model.graph import ThoughtGraph

    a, b = open_pg("m1"), open_pg("m2")
    a.graph.apply(operations.add_thought(a.graph, "Old", node_id="thought-old"))
    pulled_to(b, 1)
    fresh = ThoughtGraph()
    fresh.apply(operations.add_thought(fresh, "New", node_id="thought-new"))
    a.replace_graph(fresh, operation="import", description="Import")
    removed = []
    b.graph.events.node_removed.connect(removed.append)
    pulled_to(b, 2)
    assert b.graph.node_ids() == ["thought-new"] and removed == ["thought-old"]
