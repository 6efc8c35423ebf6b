"""A separate process committing to the fleet graph (the live-graph tests and benchmarks/fleet_bench.py).

Usage: ``python pg_worker.py DSN MACHINE FOLDER COUNT GO_FILE OUT_FILE TOTAL``

Opens a PostgresGraphStore as ``MACHINE``, waits for ``GO_FILE`` to exist
(all workers start together), then commits ``COUNT`` transactions: a new
thought linked to its previous one and, every 10th, a retitle of the shared
``thought-hub`` node (those may conflict with another machine: the worker
pulls and makes the edit again, as a user would). Between commits it pulls.
Then it pulls until the journal holds ``TOTAL`` records and writes its
graph's content and counts as JSON to ``OUT_FILE``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from orchestrator_gui.model import operations
from orchestrator_gui.problems import ConflictError
from orchestrator_gui.store.postgres import PostgresGraphStore


def content(graph) -> dict:
    """The graph's content, independent of row order."""
    nodes = {n.id: n.model_dump(mode="json") for n in graph.nodes()}
    edges = sorted(list(e.key) for e in graph.edges())
    return {"nodes": nodes, "edges": edges}


def main(argv: list[str]) -> int:
    dsn, machine, folder, count, go, out, total = argv
    count_i, total_i = int(count), int(total)
    store = PostgresGraphStore.open(dsn, local_path=Path(folder) / "graph.db", machine=machine)
    deadline = time.monotonic() + 120
    while not Path(go).exists():
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.005)
    conflicts = 0
    prev = None
    g = store.graph
    for i in range(count_i):
        store.pull()
        nid = f"thought-{machine}-{i:04d}"
        g.apply(operations.add_thought(g, f"{machine} {i}", node_id=nid, parent=prev))
        prev = nid
        if i % 10 == 9:
            for _attempt in range(200):
                try:
                    g.apply(operations.edit(g, "thought-hub", title=f"hub by {machine} {i}"))
                    break
                except ConflictError:
                    conflicts += 1
                    store.pull()
            else:
                return 3
    while store.last_seq < total_i:
        if time.monotonic() > deadline + 120:
            return 4
        if not store.pull():
            time.sleep(0.005)
    result = {"machine": machine, "conflicts": conflicts, "last_seq": store.last_seq,
              "problems": [p.format() for p in store.problems], "graph": content(store.graph)}
    store.close()
    Path(out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
