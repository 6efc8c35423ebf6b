"""Benchmark of fleet mode on a real PostgreSQL server: the shared thought graph and the slot claims.

Usage::

    python benchmarks/fleet_bench.py [--dsn postgresql://...] [--samples 200] [--writers 3] [--json]

Without ``--dsn`` a throw-away server is started from Debian's ``postgresql``
package (``tests/postgres_server.py``) and stopped afterwards. Every writer is
a process of its own (this script run with ``--writer``), as machines are.

Figures of the shared graph (``graph_metrics``):

* ``replication_lag_ms_p99``: a writer process commits a transaction every 20 ms; time from the start of its
  commit (its provenance time) to the transaction applied to another process's graph, which waits for the
  store's ``remote_pending`` and pulls (target < 200);
* ``tx_per_s``: ``--writers`` processes commit 300 transactions each as fast as they can, pulling the others'
  in between; committed transactions per second of wall time, all writers together;
* ``lost_transactions``: transactions a writer saw committed that are missing from the shared journal or from
  the reading process's graph (must be 0).

Figures of the slot claims (``claim_metrics``): ``claim_ms_p99`` (``--writers`` machine processes claim each of
200 slots at the same moment; one claim transaction, target < 20), ``duplicate_fires`` and ``missed_fires``
(slots allowed to more than one machine, or to none; both must be 0).

Each group of figures is a function returning a dict; the output is their union, one flat JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAG_PERIOD_S = 0.02


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))] if ordered else float("nan")


# -- the writer process -------------------------------------------------------------------------------
def writer(dsn: str, machine: str, folder: str, count: int, go: str, out: str, period: float) -> int:
    """Commit ``count`` new thoughts (``period`` seconds apart, 0: flat out) once ``go`` exists; report ids."""
    from orchestrator_gui.model import operations
    from orchestrator_gui.store.postgres import PostgresGraphStore

    store = PostgresGraphStore.open(dsn, local_path=Path(folder) / "graph.db", machine=machine)
    deadline = time.monotonic() + 120
    while not Path(go).exists():
        if time.monotonic() > deadline:
            return 2
        time.sleep(0.002)
    ids: list[str] = []
    start = time.time()
    g = store.graph
    for i in range(count):
        store.pull()
        tx = g.apply(operations.add_thought(g, f"{machine} {i}", node_id=f"thought-{machine}-{i:05d}",
                                            now=time.time()))
        ids.append(tx.id)
        if period:
            time.sleep(period)
    end = time.time()
    store.close()
    Path(out).write_text(json.dumps({"ids": ids, "start": start, "end": end}))
    return 0


def _spawn(dsn: str, machine: str, work: Path, count: int, go: Path, period: float) -> subprocess.Popen:
    argv = [sys.executable, str(Path(__file__).resolve()), "--writer", dsn, machine, str(work / machine), str(count),
            str(go), str(work / f"{machine}.json"), str(period)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"writer failed ({proc.returncode}): {out[-2000:]}")


# -- the figures --------------------------------------------------------------------------------------
def graph_metrics(dsn: str, work: Path, *, samples: int = 200, writers: int = 3) -> dict:
    """``replication_lag_ms_p99``, ``tx_per_s`` and ``lost_transactions`` (see the module docstring)."""
    import psycopg

    from orchestrator_gui.store.postgres import PostgresGraphStore
    from orchestrator_gui.store.postgres_schema import migrate

    migrate(dsn)
    reader = PostgresGraphStore.open(dsn, local_path=work / "reader" / "graph.db", machine="reader")
    wake = threading.Event()
    reader.events.remote_pending.connect(wake.set)
    lags: list[float] = []

    def measure(tx) -> None:
        if len(lags) < samples:  # the lag phase only: the throughput phase's records are pulled in bulk later
            lags.append((time.time() - tx.provenance.time) * 1000)

    reader.events.remote_applied.connect(measure)
    try:
        go = work / "go-lag"
        procs = [_spawn(dsn, "lag", work, samples, go, LAG_PERIOD_S)]
        go.touch()
        deadline = time.monotonic() + 600
        while len(lags) < samples and time.monotonic() < deadline:
            wake.wait(0.5)  # a pull without a wake-up only guards the loop: its lag would be >= 500 ms
            wake.clear()
            reader.pull()
        _finish(procs)

        go = work / "go-tps"
        machines = [f"w{i}" for i in range(writers)]
        per_writer = 300
        procs = [_spawn(dsn, m, work, per_writer, go, 0.0) for m in machines]
        time.sleep(0.5)  # let them connect: the figure is about committing, not opening
        go.touch()
        _finish(procs)
        reports = [json.loads((work / f"{m}.json").read_text()) for m in machines + ["lag"]]
        committed = {i for r in reports for i in r["ids"]}
        tps_reports = reports[:-1]
        span = max(r["end"] for r in tps_reports) - min(r["start"] for r in tps_reports)
        total_rows = per_writer * writers + samples
        end = time.monotonic() + 60
        while reader.last_seq < total_rows and time.monotonic() < end:
            reader.pull() or time.sleep(0.01)
        with psycopg.connect(dsn) as conn:
            journaled = {r[0] for r in conn.execute("SELECT tx_id FROM journal")}
        in_graph = {n for n in reader.graph.node_ids()}
        expected_nodes = {f"thought-{m}-{i:05d}" for m in machines for i in range(per_writer)}
        expected_nodes |= {f"thought-lag-{i:05d}" for i in range(samples)}
        lost = len(committed - journaled) + len(expected_nodes - in_graph)
    finally:
        reader.close()
    return {
        "replication_lag_ms_p99": round(_p99(lags), 2),
        "replication_lag_ms_p50": round(sorted(lags)[len(lags) // 2], 2) if lags else float("nan"),
        "replication_samples": len(lags),
        "tx_per_s": round(per_writer * writers / span, 1) if span > 0 else float("nan"),
        "tx_writers": writers,
        "lost_transactions": lost,
    }


# -- slot claims (orchestrator_gui/fleet/claims.py) ---------------------------------------------------
def _claimer(dsn: str, machine: str, slots: int, barrier, out) -> None:
    """One machine (a process of its own): claim every slot together with the others, one barrier per slot."""
    from orchestrator_gui.engine.fleet_config import FleetSettings
    from orchestrator_gui.engine.scheduler import Allow, StartRequest
    from orchestrator_gui.fleet.claims import FleetGate

    gate = FleetGate(FleetSettings(dsn=dsn, machine=machine), policy="once")
    gate.sync(["bench"])  # connect before timing: the figure is about claiming, not opening
    lat, won = [], []
    for k in range(slots):
        due = 1_772_442_060_000 + k * 60_000
        req = StartRequest("bench", "bench", due, f"{machine}-{k}", due + 500, 0,
                           {"lastExecutionTime": "x", "lastTaskId": f"{machine}-{k}"})
        barrier.wait()
        t0 = time.perf_counter()
        verdict = gate.before_start(req)
        lat.append((time.perf_counter() - t0) * 1000)
        if isinstance(verdict, Allow):
            won.append(k)
            gate.after_finish(req, None)
    gate.close()
    out.put((machine, lat, won))


def claim_metrics(dsn: str, work: Path, *, writers: int = 3, slots: int = 200, **_: object) -> dict:
    """``claim_ms_p99`` and ``duplicate_fires``: ``writers`` machines claim each of ``slots`` slots at once.

    ``claim_ms_p99``: one claim transaction (heartbeat, lock of the schedule's shared record, insert of the
    claim, record update), every machine claiming the same slot at the same moment (target < 20);
    ``duplicate_fires``: slots allowed to more than one machine (must be 0); ``missed_fires``: slots
    allowed to none (must be 0).
    """
    import multiprocessing as mp

    import psycopg

    from orchestrator_gui.store.postgres_schema import migrate

    migrate(dsn)
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(writers), ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(dsn, f"claimer{i}", slots, barrier, out)) for i in range(writers)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(60)
    lat = [x for _, ls, _ in results for x in ls]
    fires = [0] * slots
    for _, _, won in results:
        for k in won:
            fires[k] += 1
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT count(*) FROM claims WHERE schedule_id = 'bench'").fetchone()[0]
    return {"claim_ms_p99": round(_p99(lat), 2), "claim_ms_p50": round(sorted(lat)[len(lat) // 2], 2),
            "claim_slots": slots, "claim_machines": writers,
            "duplicate_fires": sum(max(0, n - 1) for n in fires) + max(0, int(rows) - slots),
            "missed_fires": sum(1 for n in fires if n == 0)}


#: The groups of figures, merged into one flat JSON object (fleet engine figures join here).
METRICS = [graph_metrics, claim_metrics]


# -- a throw-away server --------------------------------------------------------------------------------
def _start_server(work: Path):
    sys.path.insert(0, str(ROOT / "tests"))
    from postgres_server import PostgresServer

    server = PostgresServer(work / "pg")
    server.start()
    return server


def _stop_server(server) -> None:
    # As root the server runs under runuser, which does not pass SIGINT on: signal the postmaster itself.
    pid_file = server.data / "postmaster.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().split("\n", 1)[0]), signal.SIGINT)
        except (OSError, ValueError):
            pass
    server.stop()
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["--writer"]:
        dsn, machine, folder, count, go, out, period = args_in[1:8]
        return writer(dsn, machine, folder, int(count), go, out, float(period))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="an existing, empty database (default: start a throw-away server)")
    parser.add_argument("--samples", type=int, default=200, help="replication lag samples (10..10000)")
    parser.add_argument("--writers", type=int, default=3, help="concurrent writer processes (1..16)")
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args(args_in)
    if not 10 <= args.samples <= 10000 or not 1 <= args.writers <= 16:
        parser.error("--samples must be in 10..10000 and --writers in 1..16")
    work = Path(tempfile.mkdtemp(prefix="fleet_bench_"))
    server = None
    try:
        dsn = args.dsn
        if dsn is None:
            server = _start_server(work)
            dsn = server.create_database("fleet_bench")
        result: dict = {}
        for group in METRICS:
            result.update(group(dsn, work, samples=args.samples, writers=args.writers))
        result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    finally:
        if server is not None:
            _stop_server(server)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
