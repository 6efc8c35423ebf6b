"""Suppression ticks and the concurrency decision on a big synthetic graph: how long one tick takes.

Figures (median of ``--repeat`` runs, milliseconds unless named otherwise):

* ``plan_ms_<n>`` -- :func:`plan_suppression` on a graph where nothing is
  suppressed yet (the first tick: every idle node is sampled ``samples`` times);
* ``suppress_tx_ms_<n>`` -- building and applying the first suppression
  transaction (``suppress_batch`` nodes, default 1000);
* ``plan_steady_ms_<n>`` -- a tick once the idle nodes are suppressed (the
  app's every ``tick_s``);
* ``allowed_us`` -- one :func:`allowed_concurrency` decision (microseconds),
  what the engine computes as tasks start;
* ``suppressed_<n>``, ``waiting_<n>`` -- counts after the first tick.

Usage: ``python benchmarks/suppression_bench.py [--nodes N] [--edges M] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dynamics_bench import NOW, _median_ms, build  # noqa: E402  (the same synthetic graph)

from orchestrator_gui.engine.concurrency import allowed_concurrency  # noqa: E402
from orchestrator_gui.engine.config import LimitsConfig  # noqa: E402
from orchestrator_gui.model.suppression import (  # noqa: E402
    SuppressionParams,
    plan_suppression,
    suppress_transaction,
)


def run(n: int, m: int, repeat: int) -> dict:
    g = build(n, m)
    params = SuppressionParams()
    plan_suppression(g, NOW, params)  # warm the temporal vectors and the spreading matrix
    out: dict = {f"plan_ms_{n}": round(_median_ms(lambda: plan_suppression(g, NOW, params), repeat), 2)}
    plan = plan_suppression(g, NOW, params)
    out[f"suppressed_{n}"] = int(len(plan.suppress))
    out[f"waiting_{n}"] = int(plan.waiting)
    t = time.perf_counter()
    g.apply(suppress_transaction(g, plan), record=False)
    out[f"suppress_tx_ms_{n}"] = round((time.perf_counter() - t) * 1000, 2)
    plan_suppression(g, NOW + 30, params)  # the first look after a change rebuilds the masks
    out[f"plan_steady_ms_{n}"] = round(_median_ms(lambda: plan_suppression(g, NOW + 30, params), repeat), 2)
    limits = LimitsConfig(agent_tasks=2, transforms=8)
    k = 10_000
    t = time.perf_counter()
    for i in range(k):
        allowed_concurrency(limits, 4, float(i % 12), rate_limited={"x": 5.0}, now=float(i % 10))
    out["allowed_us"] = round((time.perf_counter() - t) / k * 1e6, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args(argv)
    if not (1 <= args.nodes <= 5_000_000 and 0 <= args.edges <= 50_000_000 and 1 <= args.repeat <= 100):
        parser.error("--nodes 1-5000000, --edges 0-50000000, --repeat 1-100")
    result = run(args.nodes, args.edges, args.repeat)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>24}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
