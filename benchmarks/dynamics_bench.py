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

History scrubbing (:func:`history_bench`, always on a 10k-node / 50k-edge graph in
a temporary store, ``--history-tx`` transactions after its base build, default 1,000):

* ``history_step_ms_10k``: the History panel's slider moved one record, forward
  over every record and back again: :meth:`HistoryPreview.show` walking from the
  state it built last, median (< 100 ms)
* ``history_step_p95_ms_10k`` / ``history_step_max_ms_10k``: the same, 95th
  percentile and worst single step
* ``history_drag_ms_10k``: steps of 25 records (a fast drag), median
* ``history_jump_ms_10k`` / ``history_jump_max_ms_10k``: 40 jumps to random
  records (a click on the groove), median and worst
* ``history_rebuild_ms_10k``: ``store.graph_at`` (nearest snapshot plus replay,
  what a jump longer than ``MAX_REPLAY`` or across a reset costs), median of 5
  points spread over the history
* ``history_tx``: the transactions scrubbed over
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graph_bench import synthetic_columns  # noqa: E402

from orchestrator_gui.model import ThoughtGraph  # noqa: E402
from orchestrator_gui.model import operations as ops  # noqa: E402
from orchestrator_gui.model.activation import update_activation  # noqa: E402
from orchestrator_gui.model.attention import (  # noqa: E402
    attention_scores,
    link_matrix,
    pagerank,
    seeds_from_activation,
)
from orchestrator_gui.model.next_work import NextContext, rank_next  # noqa: E402
from orchestrator_gui.model.nodes import KIND_INDEX  # noqa: E402
from orchestrator_gui.store import GraphStore  # noqa: E402
from orchestrator_gui.workspace.history_preview import HistoryPreview  # noqa: E402

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


def _history_edits(g: ThoughtGraph, k: int, rng: np.random.Generator) -> object:
    """The ``k``-th transaction of the scrubbed history: the mix a working session makes."""
    ids = g.node_ids()
    pick = ids[int(rng.integers(len(ids)))]
    kind = k % 6
    if kind == 0:
        return ops.add_thought(g, f"new thought {k}", parent=pick, now=NOW + k)
    if kind == 1:
        return ops.edit(g, pick, title=f"reworded {k}", now=NOW + k)
    if kind == 2:
        other = ids[int(rng.integers(len(ids)))]
        if other == pick or g.has_edge(pick, other, "mentions"):
            return ops.edit(g, pick, content=f"detail {k}", now=NOW + k)
        return ops.link(g, pick, other, "mentions", now=NOW + k)
    if kind == 3:
        moved = [ids[int(r)] for r in rng.integers(0, len(ids), 8)]
        return ops.move(g, {i: (float(rng.uniform(0, 6.2)), float(rng.uniform(-1.5, 1.5))) for i in moved}, now=NOW + k)
    if kind == 4:
        return ops.edit(g, pick, content=f"more detail {k}", now=NOW + k)
    return ops.delete(g, [pick], now=NOW + k)  # with its incident edges


def history_bench(n: int = 10_000, m: int = 50_000, n_tx: int = 1000) -> dict:
    """Scrub ``n_tx`` journaled transactions on an ``n``-node graph with :class:`HistoryPreview`.

    Returns the flat ``history_*`` figures listed in the module docstring.
    """
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp:
        # The store's default snapshot cadence and pruning: only the newest periodic snapshots and the base remain.
        with GraphStore.open(Path(tmp) / "graph.db", durable=False) as store:
            store.replace_graph(build(n, m), operation="build_graph", actor="migration")
            g = store.graph
            for k in range(n_tx):
                g.apply(_history_edits(g, k, rng), record=False)
            last = store.last_seq
            preview = HistoryPreview(store)
            preview.show(1)
            single = []
            for seq in [*range(2, last + 1), *range(last - 1, 0, -1)]:  # every record forward, then back
                t = time.perf_counter()
                preview.show(seq)
                single.append((time.perf_counter() - t) * 1000)
            drag = []
            for seq in [*range(1, last + 1, 25), *range(last, 0, -25)]:
                t = time.perf_counter()
                preview.show(seq)
                drag.append((time.perf_counter() - t) * 1000)
            jump = []
            for seq in rng.integers(1, last + 1, 40).tolist():  # clicks anywhere on the slider's groove
                t = time.perf_counter()
                preview.show(int(seq))
                jump.append((time.perf_counter() - t) * 1000)
            points = np.linspace(1, last, 5).astype(int).tolist()
            rebuild = _median_ms(lambda: [store.graph_at(p) for p in points], 1) / len(points)
    single.sort()
    return {
        "history_tx": n_tx,
        "history_step_ms_10k": round(statistics.median(single), 3),
        "history_step_p95_ms_10k": round(single[int(0.95 * (len(single) - 1))], 3),
        "history_step_max_ms_10k": round(single[-1], 3),
        "history_drag_ms_10k": round(statistics.median(drag), 3),
        "history_jump_ms_10k": round(statistics.median(jump), 3),
        "history_jump_max_ms_10k": round(max(jump), 3),
        "history_rebuild_ms_10k": round(rebuild, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=50_000)
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    parser.add_argument("--history-tx", type=int, default=1000, metavar="N",
                        help="transactions scrubbed by the history figures (1-100000; 0 skips them)")
    parser.add_argument("--history-only", action="store_true", help="only the history figures")
    args = parser.parse_args(argv)
    if not 0 <= args.history_tx <= 100_000:
        parser.error("--history-tx must be 0-100000")
    result = {} if args.history_only else run(args.nodes, args.edges)
    if args.history_tx:
        result.update(history_bench(n_tx=args.history_tx))
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>24}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
