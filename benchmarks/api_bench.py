"""Benchmark of the local API on a 100k-node graph: node reads, search, transforms, event fan-out, MCP tool list.

Usage::

    python benchmarks/api_bench.py --nodes 100000 --edges 500000 [--json]

A copy of the demo workspace gets the synthetic graph of ``graph_bench.py``
as its store's graph; ``orchestrator-gui serve`` then serves it in a
process of its own (the real command, store, engine and file watch), and
this process is the client, over real HTTP and WebSockets on 127.0.0.1.

Figures (milliseconds are client-side round trips, p99 over the samples):

* ``get_node_p99_ms``: ``GET /graph/nodes/{id}?depth=1`` of random nodes (target < 10; 5 x samples)
* ``query_p99_ms``: ``GET /graph/search``, one- to three-word queries, some matching most nodes (target < 50;
  5 x samples); ``query_after_change_p99_ms``: searches right after a transform (the index follows changes)
* ``transform_p99_ms``: ``POST /graph/transforms/generate`` (offline thinker, n=3; journaled) (target < 50)
* ``ws_fanout_p99_ms``: 50 ``/events`` clients each receive every event of 1,000 transactions; time from
  the server's publish to each client's receipt (target < 100); ``ws_lost`` counts missing events (must be 0)
* ``tool_list_chars``: the MCP tool list as the SDK's client receives it, serialised (target <= 6000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graph_bench import synthetic_columns  # noqa: E402

TOKEN = "bench-" + "t" * 40
CLIENTS = 50
TRANSACTIONS = 1000
QUERIES = ["loop", "agent", "stall retry", "memory 4", "deploy review 17", "plan", "schedule test", "review 999",
           "nothing-matches", "7"]


def _p99(values: list[float]) -> float:
    return round(float(np.percentile(values, 99)), 3) if values else float("nan")


def make_workspace(tmp: Path, n: int, m: int) -> tuple[Path, float]:
    """A demo workspace whose store holds the synthetic graph; returns it and the seconds the store took."""
    from orchestrator_gui.model import ThoughtGraph
    from orchestrator_gui.store import GraphStore

    root = tmp / "ws"
    shutil.copytree(ROOT / "resources" / "demo", root, ignore=shutil.ignore_patterns(".orchestrator"))
    cols = synthetic_columns(n, m)
    g = ThoughtGraph.from_arrays(cols.pop("ids"), cols.pop("kinds"), now=1.7e9, **cols)
    t = time.perf_counter()
    store = GraphStore.open_workspace(root)
    store.replace_graph(g, operation="bench", description="synthetic graph", params={"undoable": False})
    store.close()
    return root, time.perf_counter() - t


def start_server(root: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator_gui", "serve", "-w", str(root), "--port", "0"],
                            env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 600
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError(f"the server exited ({proc.wait()})")
        if line.startswith("serving "):
            url = line.split(" on ", 1)[1].split(" ", 1)[0]
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe drained
            return proc, url
    raise RuntimeError("the server did not start")


def timed(fn, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def fanout(url: str, client, ids: list[str]) -> dict:
    """50 clients, 1,000 transactions: latency from publish to receipt, and what got lost."""
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {TOKEN}"}
    ws_url = url.replace("http://", "ws://") + "/events"
    conns = [await connect(ws_url, additional_headers=headers, max_size=2**22) for _ in range(CLIENTS)]
    starts = [json.loads(await c.recv())["seq"] for c in conns]
    latencies: list[float] = []
    seen: list[list[int]] = [[] for _ in conns]

    async def reader(k: int, conn) -> None:
        while len(seen[k]) < TRANSACTIONS:
            msg = json.loads(await conn.recv())
            now = time.time()
            if msg.get("type") == "transaction":
                seen[k].append(msg["seq"])
                latencies.append((now - msg["time"]) * 1000)

    def produce() -> None:
        for node in ids[:TRANSACTIONS]:
            r = client.post("/graph/transforms/generate", json={"ids": [node], "n": 1})
            if r.status_code != 200:
                raise RuntimeError(f"{r.status_code}: {r.text[:500]}")

    readers = [asyncio.create_task(reader(k, c)) for k, c in enumerate(conns)]
    t = time.perf_counter()
    await asyncio.gather(asyncio.to_thread(produce), asyncio.wait_for(asyncio.gather(*readers), 600))
    seconds = time.perf_counter() - t
    for c in conns:
        await c.close()
    lost = 0
    for k, got in enumerate(seen):
        # Each transaction is one event; other events (run nodes, files) may interleave, so the
        # transaction events must be TRANSACTIONS distinct, increasing numbers after the client's start.
        ok = len(got) == TRANSACTIONS and got == sorted(set(got)) and got[0] > starts[k]
        lost += 0 if ok else TRANSACTIONS - len(set(got))
    return {"ws_fanout_p99_ms": _p99(latencies), "ws_fanout_median_ms": round(statistics.median(latencies), 3),
            "ws_deliveries": len(latencies), "ws_lost": lost, "ws_seconds": round(seconds, 2)}


async def tool_list(url: str) -> int:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        async with Client(streamable_http_client(url + "/mcp", http_client=http)) as client:
            tools = (await client.list_tools()).tools
    return len(json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools],
                          ensure_ascii=False))


def run(n: int, m: int, samples: int) -> dict:
    import httpx

    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as tmp:
        root, store_s = make_workspace(Path(tmp), n, m)
        env = {**os.environ, "ORCHESTRATOR_API_TOKEN": TOKEN, "XDG_CONFIG_HOME": str(Path(tmp) / "cfg")}
        t = time.perf_counter()
        proc, url = start_server(root, env)
        start_s = time.perf_counter() - t
        try:
            client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
            stats = client.get("/graph/stats").json()
            # Distinct nodes: the offline thinker has nothing new to generate from a node twice.
            ids = [f"n{int(i)}" for i in rng.permutation(n)[: samples * 2 + TRANSACTIONS + 200]]
            it = iter(ids)
            for _ in range(5):  # warm-up: first-call imports, the search index build
                client.get(f"/graph/nodes/{next(it)}")
                client.get("/graph/search", params={"q": "loop"})
            # Reads are cheap: five times the samples, so that a p99 is not one scheduler hiccup.
            reads = iter([f"n{int(i)}" for i in rng.integers(0, n, samples * 5)])
            node_ms = timed(lambda: client.get(f"/graph/nodes/{next(reads)}", params={"depth": 1, "limit": 20}
                                               ).raise_for_status(), samples * 5)
            qs = iter(QUERIES * (samples * 5 // len(QUERIES) + 1))
            query_ms = timed(lambda: client.get("/graph/search", params={"q": next(qs), "limit": 20}
                                                ).raise_for_status(), samples * 5)
            transform_ms = timed(lambda: client.post("/graph/transforms/generate",
                                                     json={"ids": [next(it)], "n": 3}).raise_for_status(), samples)
            # Searches right after changes: the index follows them instead of rebuilding.
            after_ms = []
            for _ in range(max(10, samples // 10)):
                client.post("/graph/transforms/generate", json={"ids": [next(it)], "n": 1}).raise_for_status()
                after_ms += timed(lambda: client.get("/graph/search", params={"q": "agent loop", "limit": 20}
                                                     ).raise_for_status(), 1)
            fan = asyncio.run(fanout(url, client, list(it)))
            chars = asyncio.run(tool_list(url))
            client.close()
        finally:
            proc.terminate()
            proc.wait(120)
    return {
        "nodes": stats["nodes"], "edges": stats["edges"], "store_build_s": round(store_s, 2),
        "server_start_s": round(start_s, 2), "samples": samples, "read_samples": samples * 5,
        "get_node_p99_ms": _p99(node_ms), "get_node_median_ms": round(statistics.median(node_ms), 3),
        "query_p99_ms": _p99(query_ms), "query_median_ms": round(statistics.median(query_ms), 3),
        "query_after_change_p99_ms": _p99(after_ms),
        "transform_p99_ms": _p99(transform_ms), "transform_median_ms": round(statistics.median(transform_ms), 3),
        **fan, "ws_clients": CLIENTS, "ws_transactions": TRANSACTIONS, "tool_list_chars": chars,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=500_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args(argv)
    if not 100 <= args.nodes <= 2_000_000 or not 0 <= args.edges <= 10_000_000 or not 10 <= args.samples <= 10_000:
        parser.error("--nodes 100..2,000,000, --edges 0..10,000,000, --samples 10..10,000")
    result = run(args.nodes, args.edges, args.samples)
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>26}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
