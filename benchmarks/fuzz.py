"""Fuzz every reader for a time budget: crashes, hangs and peak memory per reader.

Usage::

    python benchmarks/fuzz.py --minutes 10 [--json] [--readers todo,config] [--out DIR] [--seed N]
    python benchmarks/fuzz.py --replay READER FILE      # run one saved input in-process, show the outcome

Inputs come from hypothesis (``tests/fuzz_strategies.py``): real fixtures of
``../shared/fixtures`` (when present), ``tests/data`` and the demo workspace,
mutated in hostile ways, plus raw bytes. The readers and their clean error
types are the table of ``tests/fuzz_targets.py``, which the unit test
``tests/formats/test_fuzz_readers.py`` uses too.

Each reader runs in its own worker process (spawned, so its memory figure is
its own). The driver sends one input at a time and waits at most
``--hang-s`` (2 s) for the answer; past that it counts a hang, saves the
input, kills the worker and starts a new one, so a hang never stops the run.
A worker that dies (a signal, the 4 GiB address-space cap) counts as a crash.
Each new crash signature (exception type and innermost ``orchestrator_gui``
line) is minimized (lines, then bytes) and saved with its traceback under
``--out``.

Figures, one flat JSON object with ``--json`` (per reader ``R``):

* ``R_examples``: inputs run; ``R_clean``: refused with the documented error
* ``R_crashes``: inputs that crashed; ``R_crash_kinds``: distinct signatures, listed in ``R_crash_signatures``
* ``R_hangs``: inputs that took longer than ``hang_s``; ``R_slowest_ms``: slowest call that finished
* ``R_warnings``: inputs during which a library warning escaped the reader
* ``R_peak_rss_mb``: peak resident memory of the worker (``R_base_rss_mb``: after its imports)
* ``examples``, ``crashes``, ``hangs``: totals; ``repro_dir``: where repros went
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the reader table and strategies are shared with the unit test

# Only the table at the top: a spawned worker re-imports this module, and should not load hypothesis.
from fuzz_targets import Outcome, run_target, seeds, targets  # noqa: E402

#: Address-space cap of a worker: a reader that tries to allocate more fails there, not on the machine.
WORKER_MEMORY = 4 * 1024**3
BATCH = 100
HANG_REPROS = 5


def _status_kb(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in KiB. Not ``ru_maxrss``: Linux carries that
    over fork and exec, so a spawned worker would report the driver's peak."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _serve(conn: Any, name: str, scratch: str) -> None:
    """Worker: run ``name`` on each input received, answer ``(outcome, warning, peak_rss_kb)``."""
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    target = targets()[name]
    folder = Path(scratch)
    run_target(target, b"", folder)  # imports and the thinkers' server, before the baseline
    conn.send(("ready", _status_kb("VmRSS")))
    while True:
        data = conn.recv()
        if data is None:
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outcome = run_target(target, data, folder)
        warned = f"{caught[0].category.__name__}: {str(caught[0].message).strip()[:300]}" if caught else ""
        conn.send((outcome, warned, _status_kb("VmHWM")))


class Worker:
    """One reader's worker process, restarted after a hang or a death."""

    def __init__(self, name: str, scratch: Path) -> None:
        self.name = name
        self.scratch = scratch
        self.ctx = mp.get_context("spawn")
        self.base_kb = 0
        self.peak_kb = 0
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_serve, args=(child, self.name, str(self.scratch)), daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(120):
            raise RuntimeError(f"worker for {self.name} did not start")
        _, base = self.conn.recv()
        self.base_kb = max(self.base_kb, base)

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()

    def call(self, data: bytes, hang_s: float) -> tuple[str, Outcome | None, str, float]:
        """``("done", outcome, warning, seconds)``, ``("hang", None, "", seconds)`` or ``("died", ...)``."""
        t0 = time.perf_counter()
        try:
            self.conn.send(data)
            if self.conn.poll(hang_s):
                outcome, warned, peak = self.conn.recv()
                self.peak_kb = max(self.peak_kb, peak)
                return "done", outcome, warned, time.perf_counter() - t0
            what = "hang"
        except (EOFError, OSError):
            what = "died"
        seconds = time.perf_counter() - t0
        code = self.proc.exitcode
        self.stop()
        self._start()
        if what == "died" or code is not None:
            return "died", Outcome("crash", f"worker died (exit code {code})"), "", seconds
        return "hang", None, "", seconds


def minimize(data: bytes, fails: Any, deadline: float) -> bytes:
    """Smallest input found that still ``fails``: drop line chunks, then byte chunks (ddmin), until ``deadline``."""
    for split in (lambda d: d.splitlines(keepends=True), lambda d: [d[i:i + 1] for i in range(len(d))]):
        parts = split(data)
        n = 2
        while len(parts) >= 2 and time.monotonic() < deadline:
            size = -(-len(parts) // n)
            for start in range(0, len(parts), size):
                candidate = parts[:start] + parts[start + size:]
                if fails(b"".join(candidate)):
                    parts, n = candidate, max(n - 1, 2)
                    break
                if time.monotonic() >= deadline:
                    break
            else:
                if n >= len(parts):
                    break
                n = min(2 * n, len(parts))
        data = b"".join(parts)
        if len(data) > 1 << 16:  # byte-level passes on a large input cannot finish in time
            break
    return data


class Fuzzer:
    """Runs the readers one after the other and collects the report."""

    def __init__(self, names: list[str], seconds: float, hang_s: float, out: Path, seed: int | None) -> None:
        self.names = names
        self.seconds = seconds
        self.hang_s = hang_s
        self.out = out
        self.seed = seed
        self.report: dict[str, Any] = {"minutes": round(seconds / 60, 2), "hang_s": hang_s,
                                       "readers": ",".join(names)}

    def run(self) -> dict[str, Any]:
        scratch = Path(tempfile.mkdtemp(prefix="fuzz-scratch-"))
        t0 = time.monotonic()
        try:
            for k, name in enumerate(self.names):
                # What earlier readers left unused (or overran) is shared by the ones still to come.
                share = (self.seconds - (time.monotonic() - t0)) / (len(self.names) - k)
                folder = scratch / name
                folder.mkdir()
                self._fuzz(name, share, folder)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for key in ("examples", "crashes", "hangs", "warnings"):
            self.report[key] = sum(self.report[f"{n}_{key}"] for n in self.names)
        self.report["repro_dir"] = str(self.out)
        self.report["load_avg_1m"] = round(os.getloadavg()[0], 2)  # timings (hangs) depend on it
        return self.report

    def _save(self, name: str, kind: str, data: bytes, text: str) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        k = len(list(self.out.glob(f"{name}-{kind}-*.bin"))) + 1
        (self.out / f"{name}-{kind}-{k}.bin").write_bytes(data)
        (self.out / f"{name}-{kind}-{k}.txt").write_text(text, encoding="utf-8", errors="backslashreplace")

    def _fuzz(self, name: str, share: float, scratch: Path) -> None:
        from fuzz_strategies import inputs
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hypothesis_seed

        target = targets()[name]
        worker = Worker(name, scratch)
        deadline = time.monotonic() + 0.8 * share  # the rest for minimizing what was found
        stats = {"examples": 0, "clean": 0, "crashes": 0, "hangs": 0, "warnings": 0, "slowest": 0.0}
        found: dict[str, tuple[bytes, str]] = {}  # crash signature -> first input, detail
        warned: dict[str, bytes] = {}
        hangs: list[bytes] = []

        @settings(max_examples=BATCH, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(inputs(seeds(target), target.tokens, big=True))
        def one(data: bytes) -> None:
            if time.monotonic() >= deadline:
                return
            what, outcome, warning, seconds = worker.call(data, self.hang_s)
            stats["examples"] += 1
            if what == "hang":
                stats["hangs"] += 1
                if len(hangs) < HANG_REPROS:
                    hangs.append(data)
                return
            stats["slowest"] = max(stats["slowest"], seconds)
            if warning:
                stats["warnings"] += 1
                warned.setdefault(warning, data)
            if outcome.kind == "clean":
                stats["clean"] += 1
            elif outcome.kind == "crash":
                stats["crashes"] += 1
                found.setdefault(outcome.signature, (data, outcome.detail))

        batch = 0
        while time.monotonic() < deadline:
            run = one if self.seed is None else hypothesis_seed(self.seed + batch)(one)
            run()
            batch += 1
        for sig, (data, detail) in found.items():  # minimizing takes from the budget: 20 % of it, 5..30 s
            self._save_crash(name, worker, sig, data, detail, min(30.0, max(5.0, 0.2 * share / len(found))))
        for text, data in warned.items():
            self._save(name, "warning", data, f"reader: {name}\nwarning: {text}\n")
        for data in hangs:
            self._save(name, "hang", data, f"reader: {name}\nno answer within {self.hang_s} s; {len(data)} bytes\n"
                                           f"replay: python benchmarks/fuzz.py --replay {name} FILE.bin\n")
        worker.stop()
        r = self.report
        r[f"{name}_examples"] = stats["examples"]
        r[f"{name}_clean"] = stats["clean"]
        r[f"{name}_crashes"] = stats["crashes"]
        r[f"{name}_crash_kinds"] = len(found)
        r[f"{name}_crash_signatures"] = "; ".join(sorted(found))
        r[f"{name}_hangs"] = stats["hangs"]
        r[f"{name}_warnings"] = stats["warnings"]
        r[f"{name}_slowest_ms"] = round(stats["slowest"] * 1000, 1)
        r[f"{name}_peak_rss_mb"] = round(worker.peak_kb / 1024, 1)
        r[f"{name}_base_rss_mb"] = round(worker.base_kb / 1024, 1)

    def _save_crash(self, name: str, worker: Worker, sig: str, data: bytes, detail: str, seconds: float) -> None:
        def fails(candidate: bytes) -> bool:
            what, outcome, _, _ = worker.call(candidate, self.hang_s)
            return what != "hang" and outcome is not None and outcome.signature == sig

        small = minimize(data, fails, time.monotonic() + seconds) if fails(data) else data
        _, outcome, _, _ = worker.call(small, self.hang_s)
        shown = outcome.detail if outcome is not None and outcome.signature == sig else detail
        self._save(name, "crash", small, f"reader: {name}\nsignature: {sig}\ninput: {len(data)} bytes, "
                                         f"minimized to {len(small)}: {small[:500]!r}\n"
                                         f"replay: python benchmarks/fuzz.py --replay {name} FILE.bin\n\n{shown}\n")


def replay(name: str, path: str) -> int:
    """Run one saved input in this process and print its outcome (and traceback)."""
    target = targets()[name]
    with tempfile.TemporaryDirectory() as scratch:
        t0 = time.perf_counter()
        outcome = run_target(target, Path(path).read_bytes(), Path(scratch))
    print(f"{name}: {outcome.kind} in {time.perf_counter() - t0:.3f} s {outcome.signature}")
    if outcome.detail:
        print(outcome.detail)
    return 1 if outcome.kind == "crash" else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="whole budget, shared by the readers")
    parser.add_argument("--readers", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--hang-s", type=float, default=2.0, help="a call longer than this is a hang (default 2)")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "orchestrator-fuzz"),
                        help="folder for minimized repros")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed, for a repeatable run")
    parser.add_argument("--replay", nargs=2, metavar=("READER", "FILE"), help="run one saved input and exit")
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(*args.replay)
    known = list(targets())
    names = [n for n in args.readers.split(",") if n] or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        parser.error(f"unknown reader(s) {', '.join(unknown)} (known: {', '.join(known)})")
    if not 0 < args.minutes <= 24 * 60 or not 0.1 <= args.hang_s <= 60:
        parser.error("--minutes must be in (0, 1440] and --hang-s in [0.1, 60]")
    out = Path(args.out) / time.strftime("%Y%m%d-%H%M%S")
    result = Fuzzer(names, args.minutes * 60, args.hang_s, out, args.seed).run()
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>32}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
