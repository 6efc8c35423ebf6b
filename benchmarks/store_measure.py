"""Benchmark hooks of the store: time a commit, a snapshot and a reopen on a given graph.

``benchmarks/store_bench.py`` (and any other benchmark) calls
:func:`measure_store`; the single-figure functions are usable on their own.
It lives beside the benchmarks, outside the package: nothing here is imported by the application.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import Edge, Node
from orchestrator_gui.model.transactions import AddEdge, AddNode, Transaction
from orchestrator_gui.store.store import GraphStore


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def workload_tx(g: ThoughtGraph, i: int, rng: np.random.Generator) -> Transaction:
    """The ``i``-th transaction of a realistic editing mix: edits, links and new thoughts (3:1:1)."""
    n = g.number_of_nodes()
    a = g.id_of(int(rng.integers(0, n)))
    if i % 5 == 3:
        b = g.id_of(int(rng.integers(0, n)))
        if a != b and not g.has_edge(a, b, "mentions"):
            return Transaction.create("link", [AddEdge(edge=Edge(src=a, dst=b, type="mentions", weight=0.5))])
    if i % 5 == 4:
        # A primitive add (what add_thought commits) without paying for the layout search.
        node = Node(id=f"bench-{i}-{int(rng.integers(1 << 62)):x}", title=f"new idea {i}",
                    theta=float(rng.uniform(0, 6.28)), phi=0.1)
        return Transaction.create("add_thought", [AddNode(node=node),
                                                  AddEdge(edge=Edge(src=a, dst=node.id, type="parent"))])
    return ops.edit(g, a, title=f"edited title {i}", content=f"content revision {i}")


def time_commits(store: GraphStore, count: int = 200, seed: int = 1, cpu: list[float] | None = None) -> list[float]:
    """Wall milliseconds of ``graph.apply`` (edits + journal write + fsync) for ``count`` transactions.

    Building each transaction is not timed.  A periodic snapshot that falls
    due is included in the commit that triggers it, so use the median (or set
    ``store.snapshot_every`` high) for the per-commit figure.  When ``cpu`` is
    given, the CPU milliseconds of each commit are appended to it (the
    difference to wall time is mostly waiting for the fsync).
    """
    rng = np.random.default_rng(seed)
    g = store.graph
    times = []
    for i in range(count):
        tx = workload_tx(g, i, rng)
        t0, c0 = time.perf_counter(), time.process_time()
        g.apply(tx)
        times.append(_ms(t0))
        if cpu is not None:
            cpu.append((time.process_time() - c0) * 1000.0)
    return times


def time_snapshot(store: GraphStore) -> tuple[float, float]:
    """Wall and CPU milliseconds to write one snapshot of ``store.graph`` (encode, compress, checksum, commit)."""
    t0, c0 = time.perf_counter(), time.process_time()
    store.snapshot(kind="manual")
    return _ms(t0), (time.process_time() - c0) * 1000.0


def time_reopen(path: str | os.PathLike[str]) -> tuple[float, float, GraphStore]:
    """Wall and CPU milliseconds to open the store at ``path`` (latest snapshot + journal replay), and the store.

    CPU time is reported beside wall time because on a shared 2-core machine
    the wall figure mostly measures the other processes.
    """
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    store = GraphStore.open(path)
    return _ms(t0), (time.process_time() - c0) * 1000.0, store


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_store(graph: ThoughtGraph, folder: str | os.PathLike[str], *, commits: int = 200,
                  replay: int = 1000) -> dict[str, Any]:
    """All store figures for ``graph`` (which becomes the store's graph and is released afterwards).

    Start nodes/edges are reported as ``nodes``/``edges``.

    1. ``base_snapshot_ms``: the graph enters a fresh store (``replace_graph``, one base snapshot);
    2. ``commit_ms`` (median), ``commit_p95_ms``, ``commit_max_ms``: ``commits`` transactions,
       periodic snapshots off;
    3. ``snapshot_ms``: one snapshot of the graph;
    4. ``replay`` more transactions, then the process "crashes" (no close snapshot) and
       ``reopen_ms`` times loading the snapshot and replaying those ``replay`` records.
    """
    path = Path(folder) / "graph.db"
    start = (graph.number_of_nodes(), graph.number_of_edges())
    store = GraphStore.open(path, snapshot_every=10**9)
    t0 = time.perf_counter()
    store.replace_graph(graph, operation="bench")
    base_ms = _ms(t0)
    cpu: list[float] = []
    times = time_commits(store, commits, cpu=cpu)
    snapshot_ms, snapshot_cpu_ms = time_snapshot(store)
    time_commits(store, replay, seed=2)
    expected_nodes, expected_edges = graph.number_of_nodes(), graph.number_of_edges()
    start_nodes, start_edges = start
    store.close(snapshot=False)
    del store, graph
    reopen_ms, reopen_cpu_ms, again = time_reopen(path)
    loaded = again.graph
    ok = (loaded.number_of_nodes(), loaded.number_of_edges()) == (expected_nodes, expected_edges) and not again.problems
    replayed = again.replayed
    again.close(snapshot=False)
    return {
        "nodes": start_nodes,
        "edges": start_edges,
        "commit_ms": round(statistics.median(times), 3),
        "commit_p95_ms": round(float(np.percentile(times, 95)), 3),
        "commit_max_ms": round(max(times), 3),
        "commit_cpu_ms": round(statistics.median(cpu), 3),
        "base_snapshot_ms": round(base_ms, 1),
        "snapshot_ms": round(snapshot_ms, 1),
        "snapshot_cpu_ms": round(snapshot_cpu_ms, 1),
        "reopen_ms": round(reopen_ms, 1),
        "reopen_cpu_ms": round(reopen_cpu_ms, 1),
        "reopen_replayed_tx": replayed,
        "reopen_ok": ok,
        "store_mb": round(sum(p.stat().st_size for p in path.parent.glob("graph.db*")) / 1e6, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
