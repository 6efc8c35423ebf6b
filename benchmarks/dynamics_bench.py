"""Benchmark of the thought dynamics: activation update and attention (personalised PageRank) vs networkx.

Usage::

    python benchmarks/dynamics_bench.py --nodes 100000 --edges 500000 [--json]

The graph is the synthetic one of ``benchmarks/graph_bench.py`` (bulk-built),
with last-update times spread over the past weeks so that some nodes are
active, most are neither, and the oldest are suppressed.

Figures (targets at 100k/500k on the 2-core reference machine in brackets):

* ``activation_ms``: :func:`update_activation` for all nodes -- compute plus
  writing the mirror and flags -- on an unchanged graph, median (< 10 ms)
* ``activation_cold_ms``: the first update after a change, which re-extracts
  the temporal vectors and rebuilds the spreading matrix
* ``pagerank_ms``: personalised PageRank seeded by the active nodes, including
  building the sparse matrix from the edge arrays, median (< 200 ms)
* ``pagerank_cached_ms``: the same with the matrix cached (the per-tick cost)
* ``networkx_pagerank_ms``: ``networkx.pagerank`` on the same graph and
  personalisation, same run, median of 3
* ``ratio``: ``networkx_pagerank_ms / pagerank_ms`` (>= 20)
* ``pagerank_max_diff``: largest absolute difference between the two results
* ``next_ms_<N>k``: :func:`rank_next` over every open TODO item with 20
  schedules due and 50 items with failures, median (< 50 ms at 100k)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graph_bench import synthetic_columns  # noqa: E402

from orchestrator_gui.model import ThoughtGraph  # noqa: E402
from orchestrator_gui.model.activation import update_activation  # noqa: E402
from orchestrator_gui.model.attention import (  # noqa: E402
    attention_scores,
    link_matrix,
    pagerank,
    seeds_from_activation,
)
from orchestrator_gui.model.next_work import NextContext, rank_next  # noqa: E402
from orchestrator_gui.model.nodes import KIND_INDEX  # noqa: E402

NOW = 1.8e9
DAY = 86_400.0


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def build(n: int, m: int) -> ThoughtGraph:
    """The synthetic graph, last updated an exponential number of days ago (mean 7 days)."""
    cols = synthetic_columns(n, m)
    rng = np.random.default_rng(3)
    updated = NOW - rng.exponential(7 * DAY, n)
    return ThoughtGraph.from_arrays(cols.pop("ids"), cols.pop("kinds"), created=updated - DAY, updated=updated,
                                    now=NOW, **cols)


def to_networkx(g: ThoughtGraph) -> nx.MultiDiGraph:
    """Same nodes and weighted edges (parallel edges kept: networkx sums them, as our matrix does)."""
    ea = g.edge_arrays()
    out = nx.MultiDiGraph()
    out.add_nodes_from(range(len(g)))
    out.add_weighted_edges_from(zip(ea.src.tolist(), ea.dst.tolist(), ea.weight.tolist(), strict=True))
    return out


def run(n: int, m: int, nx_repeat: int = 3) -> dict:
    t = time.perf_counter()
    g = build(n, m)
    build_s = time.perf_counter() - t

    t = time.perf_counter()
    result = update_activation(g, NOW, tz=UTC)
    activation_cold_ms = (time.perf_counter() - t) * 1000
    ticks = iter(range(10**9))
    activation_ms = _median_ms(lambda: update_activation(g, NOW + 60 * next(ticks), tz=UTC), 21)
    result = update_activation(g, NOW, tz=UTC)

    seeds = seeds_from_activation(g)
    info: dict = {}
    ours = attention_scores(g, seeds, info=info)
    pagerank_ms = _median_ms(lambda: pagerank(link_matrix(g), seeds), 5)
    pagerank_cached_ms = _median_ms(lambda: attention_scores(g, seeds), 7)

    nxg = to_networkx(g)
    pers = {int(r): float(seeds[r]) for r in np.flatnonzero(seeds)}
    ref: dict = {}

    def nx_run() -> None:
        ref.update(nx.pagerank(nxg, personalization=pers or None, weight="weight"))

    networkx_ms = _median_ms(nx_run, nx_repeat)

    # What next: rank every open TODO item, 20 schedules due, 50 items with failures.
    kinds = np.asarray(g.kind_index)
    sched = np.flatnonzero(kinds == KIND_INDEX["schedule"])[:20]
    if len(sched) == 0:  # the synthetic graph has no schedules: goals stand in (the same reach search)
        sched = np.flatnonzero(kinds == KIND_INDEX["goal"])[:20]
    todos = np.flatnonzero(kinds == KIND_INDEX["todo"])
    ctx = NextContext(due_in_s={g.id_of(int(r)): -60.0 for r in sched},
                      failures={g.id_of(int(r)): 1 + k % 3 for k, r in enumerate(todos[:50])})
    next_ms = _median_ms(lambda: rank_next(g, ctx), 7)
    ref_arr = np.array([ref[i] for i in range(len(g))])
    return {
        "nodes": len(g),
        "edges": g.number_of_edges(),
        "build_s": round(build_s, 3),
        "active_nodes": int(result.active.sum()),
        "suppressed_nodes": int(result.suppressed.sum()),
        "activation_ms": round(activation_ms, 3),
        "activation_cold_ms": round(activation_cold_ms, 3),
        "pagerank_ms": round(pagerank_ms, 3),
        "pagerank_cached_ms": round(pagerank_cached_ms, 3),
        "pagerank_iterations": info["iterations"],
        "networkx_pagerank_ms": round(networkx_ms, 3),
        "ratio": round(networkx_ms / pagerank_ms, 1),
        "pagerank_max_diff": float(np.abs(ref_arr - ours).max()),
        f"next_ms_{len(g) // 1000}k": round(next_ms, 3),
        "next_candidates": int(len(todos)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=50_000)
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args(argv)
    result = run(args.nodes, args.edges)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>24}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
