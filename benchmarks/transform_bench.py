"""Benchmark of a Graph-of-Thoughts transform committed through the store.

Usage::

    python benchmarks/transform_bench.py --nodes 100000 --edges 500000 [--json]

The graph is the synthetic one of ``graph_bench.py`` (bulk-built), made the
graph of a fresh :class:`~orchestrator_gui.store.GraphStore` (default
durability: WAL + ``synchronous=FULL``, one fsync per commit).  Each sample
generates 3 children of a random node with the offline thinker and applies
the transaction through the store, so the journal write is included.

Figures:

* ``transform_commit_ms``: median of building the ``generate`` transaction
  plus ``store.apply`` (journal write included), minus the thinker's own time
  as recorded in the transaction's ``params["cost"]`` (target < 10 ms at
  100k/500k on the 2-core reference machine)
* ``transform_commit_max_ms``: the slowest sample, same measure
* ``transform_build_ms`` / ``transform_apply_ms``: medians of the two parts
* ``thinker_ms``: median thinker time (excluded above)

Periodic snapshots are switched off (``snapshot_every`` very large): one
snapshot of 100k nodes takes seconds and is written after the commit has
returned, by design; it is measured by ``store_bench.py``, not here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graph_bench import synthetic_columns  # noqa: E402

from orchestrator_gui.model import ThoughtGraph  # noqa: E402
from orchestrator_gui.model import transforms as tf  # noqa: E402
from orchestrator_gui.store import GraphStore  # noqa: E402


def run(n: int, m: int, samples: int = 40) -> dict:
    cols = synthetic_columns(n, m)
    t = time.perf_counter()
    g = ThoughtGraph.from_arrays(cols.pop("ids"), cols.pop("kinds"), now=1.7e9, **cols)
    build_s = time.perf_counter() - t
    nodes, edges = len(g), g.number_of_edges()
    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory() as tmp:
        store = GraphStore.open(Path(tmp) / "graph.db", snapshot_every=10**9)
        try:
            t = time.perf_counter()
            store.replace_graph(g, operation="bench", description="synthetic graph")
            base_s = time.perf_counter() - t
            total, build, apply, thinker = [], [], [], []
            for _ in range(samples + 3):
                parent = g.id_of(int(rng.integers(0, len(g))))
                t0 = time.perf_counter()
                tx = tf.generate(g, parent, 3)
                t1 = time.perf_counter()
                store.apply(tx)
                t2 = time.perf_counter()
                think = tx.provenance.params["cost"]["seconds"] * 1000
                assert len(tx.edits) == 9 and store.history(1)[-1].tx_id == tx.id
                total.append((t2 - t0) * 1000 - think)
                build.append((t1 - t0) * 1000 - think)
                apply.append((t2 - t1) * 1000)
                thinker.append(think)
            del total[:3], build[:3], apply[:3], thinker[:3]  # warm-up: first-call imports and caches
        finally:
            store.close(snapshot=False)
    return {
        "nodes": nodes,
        "edges": edges,
        "build_s": round(build_s, 3),
        "base_snapshot_s": round(base_s, 3),
        "samples": samples,
        "transform_commit_ms": round(statistics.median(total), 3),
        "transform_commit_max_ms": round(max(total), 3),
        "transform_build_ms": round(statistics.median(build), 3),
        "transform_apply_ms": round(statistics.median(apply), 3),
        "thinker_ms": round(statistics.median(thinker), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args(argv)
    result = run(args.nodes, args.edges, args.samples)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>24}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
