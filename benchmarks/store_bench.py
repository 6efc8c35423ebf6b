"""Benchmark of the crash-safe graph store on a synthetic graph.

Usage::

    python benchmarks/store_bench.py --nodes 100000 --edges 500000 [--json]

The graph is the one of ``benchmarks/graph_bench.py`` (an 8-ary hierarchy plus
local and cross links).  Figures (targets at 100k/500k on the 2-core
reference machine in brackets):

* ``commit_ms``: median of one transaction commit including its journal write
  and fsync (< 5 ms); ``commit_p95_ms``, ``commit_max_ms`` beside it
* ``snapshot_ms``: one snapshot write (< 2 s)
* ``reopen_ms``: open = latest snapshot plus replay of 1,000 journaled transactions (< 3 s)
* ``peak_rss_mb``: peak resident memory of the process (< 1.5 GB)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from graph_bench import synthetic_columns  # noqa: E402
from store_measure import measure_store  # noqa: E402

from orchestrator_gui.model import ThoughtGraph  # noqa: E402


def run(n: int, m: int, commits: int = 200, replay: int = 1000) -> dict:
    cols = synthetic_columns(n, m)
    t = time.perf_counter()
    g = ThoughtGraph.from_arrays(cols.pop("ids"), cols.pop("kinds"), now=1.7e9, **cols)
    build_s = time.perf_counter() - t
    del cols
    with tempfile.TemporaryDirectory(prefix="store-bench-") as folder:
        result = measure_store(g, folder, commits=commits, replay=replay)
    return {"build_s": round(build_s, 3), **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=50_000)
    parser.add_argument("--commits", type=int, default=200, help="timed commits (default 200)")
    parser.add_argument("--replay", type=int, default=1000, help="journal records replayed on reopen (default 1000)")
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args(argv)
    result = run(args.nodes, args.edges, args.commits, args.replay)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>20}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
