"""Benchmark of the thought-graph model on a synthetic graph.

Usage::

    python benchmarks/graph_bench.py --nodes 100000 --edges 500000 [--json]

The graph has a realistic shape: an 8-ary hierarchy of ``parent`` edges
(goal, navigation and execution layers by depth), local links between nodes
created close together (``depends_on``, ``similar``, ``derived_from``) and
random cross links (``mentions``, ``evidence_for``).

Figures (targets at 100k/500k on the 2-core reference machine in brackets):

* ``build_s``: bulk build from arrays (< 5 s)
* ``bfs_ms``: BFS over the whole graph from the root, median (< 50 ms)
* ``neighbourhood2_ms``: 2-hop neighbourhood of a random node, median (< 1 ms)
* ``apply_ms``: ``graph.apply`` of one transaction in memory (an edit, median)
* ``commit_ms``: one transaction committed through the store, journal write and fsync included (median, < 5 ms);
  ``commit_p95_ms`` and ``commit_cpu_ms`` (CPU time only, without waiting for the disk) beside it
* ``snapshot_ms``: writing one store snapshot of the whole graph (< 2 s)
* ``reopen_ms``: opening the store again: latest snapshot plus replay of 1,000 journaled transactions (< 3 s)
* ``add_thought_ms``: building an ``add_thought`` transaction under a parent (layout included) plus applying it
* ``add_thought_unparented_ms``: the same without a parent (placement compares text with recent nodes)
* ``to_columns_s`` / ``from_columns_s``: columnar snapshot form round trip (what a binary snapshot builds on)
* ``to_dict_s`` / ``from_dict_s``: JSON-form round trip
* ``relayout_s``: with ``--relayout``, computing and applying a full relayout (no target)
* ``peak_rss_mb_before_export``: peak resident memory after build, queries and commits
* ``peak_rss_mb``: peak resident memory of the whole run, exports included (< 1.5 GB)

With ``--dynamics`` (on by default; ``--no-dynamics`` skips it) the same run adds the thought-dynamics
figures of ``dynamics_bench.py`` and ``transform_bench.py`` on a graph of the same size:
``pagerank_ms``, ``networkx_pagerank_ms`` (networkx on the same graph, same run), ``pagerank_ratio``
(< 200 ms and ≥ 20×), ``activation_ms`` (< 10 ms) and ``transform_commit_ms`` (< 10 ms).

The store figures come from :func:`store_measure.measure_store` (benchmarks/store_measure.py), run on the same graph
in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_measure import measure_store  # noqa: E402

from orchestrator_gui.model import ThoughtGraph  # noqa: E402
from orchestrator_gui.model import operations as ops  # noqa: E402
from orchestrator_gui.model import queries as q  # noqa: E402
from orchestrator_gui.model.arrays import pack_key  # noqa: E402
from orchestrator_gui.model.layout import relayout  # noqa: E402
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX  # noqa: E402
from orchestrator_gui.model.serialize import graph_from_columns, graph_to_columns  # noqa: E402


def synthetic_columns(n: int, m: int, seed: int = 7) -> dict:
    """Columns of a synthetic graph with ``n`` nodes and about ``m`` edges (duplicates removed)."""
    rng = np.random.default_rng(seed)
    ids = [f"n{i}" for i in range(n)]
    child = np.arange(1, n)
    parent = (child - 1) // 8
    depth = np.zeros(n, dtype=np.int64)
    for i in range(1, n):  # cheap: one pass, parents come first
        depth[i] = depth[(i - 1) // 8] + 1
    kinds = np.where(depth == 0, "goal", np.where(depth <= 2, "plan", np.where(depth <= 4, "thought", "todo")))
    rest = max(m - len(child), 0)
    n_local = rest * 2 // 3
    a = rng.integers(0, n, n_local)
    b = np.clip(a + rng.integers(1, 40, n_local), 0, n - 1)
    local_t = rng.choice(["depends_on", "similar", "derived_from"], n_local)
    n_cross = rest - n_local
    c = rng.integers(0, n, n_cross)
    d = rng.integers(0, n, n_cross)
    cross_t = rng.choice(["mentions", "evidence_for"], n_cross)
    src = np.concatenate((parent, a, c))
    dst = np.concatenate((child, b, d))
    types = np.concatenate((np.full(len(child), EDGE_TYPE_INDEX["parent"]),
                            [EDGE_TYPE_INDEX[t] for t in local_t],
                            [EDGE_TYPE_INDEX[t] for t in cross_t])).astype(np.int8)
    ok = src != dst
    src, dst, types = src[ok], dst[ok], types[ok]
    _, first = np.unique(pack_key(src, dst, types), return_index=True)
    first.sort()
    words = ["loop", "stall", "retry", "schedule", "memory", "agent", "plan", "test", "deploy", "review"]
    titles = [f"{words[i % 10]} {words[(i // 10) % 10]} {i}" for i in range(n)]
    return {
        "ids": ids, "kinds": kinds, "titles": titles,
        "edge_src": src[first], "edge_dst": dst[first], "edge_types": types[first],
        "edge_weights": rng.random(len(first)),
    }


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(n: int, m: int, with_relayout: bool = False) -> dict:
    cols = synthetic_columns(n, m)
    t = time.perf_counter()
    g = ThoughtGraph.from_arrays(cols.pop("ids"), cols.pop("kinds"), now=1.7e9, **cols)
    build_s = time.perf_counter() - t
    rng = np.random.default_rng(1)
    bfs_ms = _median_ms(lambda: q.bfs_layers_rows(g, np.array([0])), 7)
    reached = sum(len(level) for level in q.bfs_layers_rows(g, np.array([0])))
    sample = [g.id_of(int(r)) for r in rng.integers(0, n, 300)]
    it = iter(sample * 2)
    nb2_ms = _median_ms(lambda: q.neighbourhood(g, next(it), 2), 300)
    counter = iter(range(10**9))
    commit_times = []
    for _ in range(50):
        nid = g.id_of(int(rng.integers(0, n)))
        tx = ops.edit(g, nid, title=f"edited {next(counter)}")
        t = time.perf_counter()
        g.apply(tx)
        commit_times.append((time.perf_counter() - t) * 1000)
    parents = iter(sample)
    add_ms = _median_ms(lambda: g.apply(ops.add_thought(g, "a new idea about retries", parent=next(parents))), 20)
    words = iter(range(10**9))
    add_free_ms = _median_ms(
        lambda: g.apply(ops.add_thought(g, f"retry loop stall {next(words)}", kind="thought")), 10
    )
    after_commit_nb2_ms = _median_ms(lambda: q.neighbourhood(g, next(it), 2), 100)
    rss_before_export = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    cols = graph_to_columns(g)
    to_columns_s = time.perf_counter() - t
    t = time.perf_counter()
    graph_from_columns(cols)
    from_columns_s = time.perf_counter() - t
    del cols
    t = time.perf_counter()
    d = g.to_dict()
    to_dict_s = time.perf_counter() - t
    t = time.perf_counter()
    ThoughtGraph.from_dict(d)
    from_dict_s = time.perf_counter() - t
    relayout_s = None
    if with_relayout:
        t = time.perf_counter()
        g.apply(relayout(g))
        relayout_s = round(time.perf_counter() - t, 3)
    nodes, edges = len(g), g.number_of_edges()
    with tempfile.TemporaryDirectory(prefix="graph-bench-") as folder:
        store = measure_store(g, folder, commits=200, replay=1000)
    g = None  # let the graph go before the figures are assembled (peak RSS of the next size)
    return {
        "nodes": nodes,
        "edges": edges,
        "build_s": round(build_s, 3),
        "bfs_ms": round(bfs_ms, 3),
        "bfs_reached": reached,
        "neighbourhood2_ms": round(nb2_ms, 4),
        "neighbourhood2_after_commits_ms": round(after_commit_nb2_ms, 4),
        "apply_ms": round(statistics.median(commit_times), 3),
        "apply_max_ms": round(max(commit_times), 3),
        "commit_ms": store["commit_ms"],
        "commit_p95_ms": store["commit_p95_ms"],
        "commit_cpu_ms": store["commit_cpu_ms"],
        "add_thought_ms": round(add_ms, 3),
        "add_thought_unparented_ms": round(add_free_ms, 3),
        "to_columns_s": round(to_columns_s, 3),
        "from_columns_s": round(from_columns_s, 3),
        "to_dict_s": round(to_dict_s, 3),
        "from_dict_s": round(from_dict_s, 3),
        "relayout_s": relayout_s,
        "snapshot_ms": store["snapshot_ms"],
        "reopen_ms": store["reopen_ms"],
        "peak_rss_mb_before_export": round(rss_before_export, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=50_000)
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    parser.add_argument("--relayout", action="store_true", help="also time a full relayout (slow at 100k)")
    parser.add_argument("--dynamics", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure PageRank, activation and transform commits (default: on)")
    args = parser.parse_args(argv)
    result = run(args.nodes, args.edges, args.relayout)
    if args.dynamics:
        import dynamics_bench
        import transform_bench

        dyn = dynamics_bench.run(args.nodes, args.edges)
        result.update({"pagerank_ms": dyn["pagerank_ms"], "networkx_pagerank_ms": dyn["networkx_pagerank_ms"],
                       "pagerank_ratio": dyn["ratio"], "pagerank_max_diff": dyn["pagerank_max_diff"],
                       "activation_ms": dyn["activation_ms"]})
        result["transform_commit_ms"] = transform_bench.run(args.nodes, args.edges)["transform_commit_ms"]
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>32}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
