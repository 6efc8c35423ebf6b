"""Benchmark of the CLI on workspace files near the 20 MB read limit (issue 13).

Usage::

    python benchmarks/big_files.py [--json] [--only todo,memory,schedules,timing,graph] [--repeat N] [--keep DIR]

Each big file is generated in its own temporary workspace, then the real
commands run as subprocesses (``python -m orchestrator_gui.cli.main ...``,
output to ``/dev/null``), one at a time. For every command the wall time and
the peak resident memory of the child process (``ru_maxrss`` as
``/usr/bin/time`` reports it) are recorded:

* ``<name>_s``: wall seconds; ``<name>_cpu_s``: user + system CPU seconds
  (steadier than wall time on a shared machine)
* ``<name>_peak_mb``: peak RSS of the command in MB
* ``<name>_ratio``: peak RSS / file size
* ``<name>_rc``: exit status (0 unless noted: ``timing_*_over`` files are past the
  read limit; what ``list`` does there is part of the measurement)
* ``<name>_s_ok``, ``<name>_ratio_ok``: whether the targets are met: every command on
  a file at the limit in under 3 s with a peak under 15 × the file size
  (``graph_build_*``: under 10 s, no memory target; the ``timingover`` file is past the
  limit: only its time is judged)
* ``all_ok``: every target met; ``failed``: the names of the targets missed
* ``<file>_mb``: size of each generated file
* ``startup_s``, ``startup_cpu_s``, ``startup_peak_mb``: ``--version``, the floor under every figure
* ``load_before``, ``load_after``: the machine's 1-minute load average around the run
  (wall times on a loaded 2-core machine are not comparable)

With ``--repeat N`` each command runs N times: the fastest wall and CPU time
and the largest peak are kept (edits run N times too, on the edited file).

Files (``MAX`` = ``orchestrator_gui.formats.fileio.MAX_FILE_BYTES``):

* ``todo1m``: TODO.md with 1,000,000 lines just below MAX (headings, nested items, notes):
  ``todo list``, ``--json todo list``, ``todo check``/``uncheck``/``edit`` of items near the
  middle, ``todo add``, ``todo remove``, ``check``
* ``memory300k``: persistent-memory.md with 300,000 one-line entries (about 16 MB);
  ``memorylimit``: heading entries with bullet bodies, just below MAX:
  ``memory list``, ``--json memory list``, ``memory add``, ``check``
* ``schedules14mb``: .roo/schedules.json of about 14 MB (about 6,100 schedules):
  ``schedules list``, ``schedules set``, ``check``
* ``timing200k``: task_timing.tsv with 200,000 rows; ``timinglimit``: rows up to just below MAX;
  ``timingdamaged``: just below MAX of 3-byte damaged lines (about 7 million), a real row in every 10,000;
  ``timingover``: a log of 1.5 × MAX (an append-only log outgrows the read limit):
  ``timing list``, ``--json timing list``, ``timing list --all``, ``timing add``, ``check``
  (``timingdamaged``: ``timing list``, ``timing list --all``, ``check``, ``graph build``)
* ``graph`` (its own group): ``graph build`` on ``memory300k`` and ``memorylimit`` (a fresh
  build), then ``graph build`` again on the same workspace (``graph_build_again_*``: the store
  exists, so the files are synced into it; nothing changes)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator_gui.formats.fileio import MAX_FILE_BYTES  # noqa: E402

MODES = ["code", "architect", "orchestrator", "planning-analysis", "implementation-core", "time-tracking"]
WORDS = ("fix parser review graph layout memory schedule timing report cache index node edge shell "
         "sphere force build check list append refactor test docs bench profile").split()


# ---------------------------------------------------------------- generators
def _fill(lines: list[str], budget: int) -> bytes:
    data = "".join(lines).encode("utf-8")
    if len(data) > budget:
        raise SystemExit(f"generator overshot its budget: {len(data)} > {budget}")
    return data


def gen_todo(n_lines: int = 1_000_000, budget: int = MAX_FILE_BYTES - 4096) -> bytes:
    """A checklist of ``n_lines`` lines: a heading every 400 lines, items two levels deep, some notes."""
    rng = random.Random(13)
    per_line = budget // n_lines - 1  # characters per line without its "\n"
    lines = ["# Developer TODO\n"]
    k = 1
    while len(lines) < n_lines:
        k += 1
        if k % 400 == 0:
            text = f"## Section {k // 400}"
        elif k % 7 == 0:
            text = f"    - [ ] sub {k}"
        elif k % 13 == 0:
            text = f"  note {k}"
        elif k % 97 == 0:
            text = ""
        else:
            text = f"- [{'x' if rng.random() < 0.4 else ' '}] {rng.choice(WORDS)} {k}"
        if text:
            text = (text + " " + "x" * per_line)[:max(per_line, len(text))]
        lines.append(text + "\n")
    return _fill(lines, budget)


def _ts(k: int) -> str:
    s = 1_761_000_000 + k * 37
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{k % 1000:03d}Z"


def gen_memory_lines(n: int = 300_000) -> bytes:
    """The three standard sections, then ``n`` one-line (form 2) log entries."""
    rng = random.Random(7)
    lines = ["# Non-Obvious Implementation Patterns\n\n## Parsing\n- **Pattern**: keep bytes\n\n",
             "# Development & Debug Commands\n\n## Tests\n- `pytest -q`\n\n",
             "# System Updates & Status\n\n"]
    for k in range(n):
        lines.append(f"[{_ts(k)}] [{rng.choice(MODES[:2])}] - [t{k % 5000}]: {rng.choice(WORDS)[:4]}\n")
    return _fill(lines, MAX_FILE_BYTES)


def gen_memory_heads(budget: int = MAX_FILE_BYTES - 4096) -> bytes:
    """Heading (form 1) entries with three-bullet bodies up to just below ``budget`` bytes."""
    rng = random.Random(8)
    lines = ["# Non-Obvious Implementation Patterns\n\n", "# Development & Debug Commands\n\n",
             "# System Updates & Status\n\n"]
    size, k = sum(len(x) for x in lines), 0
    while True:
        w = rng.sample(WORDS, 4)
        entry = (f"## [{_ts(k)}] [{rng.choice(MODES)}] - [TASK_{k % 9000}_{w[0]}]\n"
                 f"- **Finding**: the {w[1]} of the {w[2]} needed a {w[3]} pass\n"
                 f"- **Implementation**: changed {w[0]}.py and {w[1]}.py\n"
                 f"  - nested detail {k}\n\n")
        if size + len(entry) > budget:
            break
        lines.append(entry)
        size += len(entry)
        k += 1
    return _fill(lines, budget)


_INSTRUCTIONS = ("# Orchestrator Guide\n\n## Core Workflow\n\n**MANDATORY**: Delegate ALL work to specialized "
                 "modes using `new_task`. Pass ALL data between subtasks.\n\n" + "1. Step: do the thing well.\n" * 40)


def gen_schedules(target: int = 13_200_000) -> bytes:
    """A roo-scheduler file of about ``target`` bytes, written like the extension (2-space JSON)."""
    rng = random.Random(9)
    schedules, size, k = [], 40, 0
    while size < target:
        units = rng.choice(["minute", "hour", "day"])
        s = {
            "id": str(1761482303261 + k), "name": f"Schedule {k} {rng.choice(WORDS)}", "mode": rng.choice(MODES),
            "taskInstructions": _INSTRUCTIONS + f"Run {k}.", "scheduleType": "time",
            "timeInterval": str(rng.randint(1, 60)), "timeUnit": units,
            "selectedDays": {d: True for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")},
            "startDate": "", "startHour": "", "startMinute": "00", "expirationDate": "", "expirationHour": "00",
            "expirationMinute": "00", "requireActivity": False, "active": k % 3 != 0, "taskInteraction": "wait",
            "inactivityDelay": "3", "lastExecutionTime": _ts(k), "lastTaskId": f"d0ac062a-{k:012d}",
            "nextExecutionTime": _ts(k + 10), "modeDisplayName": "Code", "createdAt": _ts(0), "updatedAt": _ts(k),
        }
        schedules.append(s)
        size += len(json.dumps(s, indent=2, ensure_ascii=False)) + 10
        k += 1
    return json.dumps({"schedules": schedules}, indent=2, ensure_ascii=False).encode("utf-8")


_TIMING_HEADER = "timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority\n"


def _timing_row(rng: random.Random, k: int, long: bool) -> str:
    if not long and k % 2 == 0:  # a "started" row: no end, no duration (agents write one per task)
        return f"{_ts(k)}\tcode\tt{k // 2}\t{_ts(k)}\t\t\t{rng.choice(WORDS)}\tstarted\t\n"
    task = f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
    if long:
        task += f" of the {rng.choice(WORDS)} module, step {k}"
    result = "completed" + (f" - {rng.choice(WORDS)} done" if long else "")
    return (f"{_ts(k)}\t{rng.choice(MODES)}\tt{k // 2}\t{_ts(k - 5)}\t{_ts(k)}\t185\t{task}\t{result}\t"
            f"{rng.choice(['schedule', 'todo', ''])}\n")


def gen_timing_damaged(budget: int) -> bytes:
    """A log of short damaged lines (``ab``), one real row in every 10,000: the most lines a file can hold."""
    rng = random.Random(11)
    parts, size, k = [_TIMING_HEADER], len(_TIMING_HEADER), 0
    while True:
        piece = _timing_row(rng, k, long=False) if k % 10_000 == 0 else "ab\n"
        if size + len(piece) > budget:
            break
        parts.append(piece)
        size += len(piece)
        k += 1
    return "".join(parts).encode("utf-8")


def gen_timing(rows: int | None, budget: int, long: bool) -> bytes:
    """A 9-column log: ``rows`` rows, or as many as fit in ``budget`` bytes."""
    rng = random.Random(10)
    lines, size, k = [_TIMING_HEADER], len(_TIMING_HEADER), 0
    while rows is None or k < rows:
        row = _timing_row(rng, k, long)
        if size + len(row) > budget:
            if rows is not None:
                raise SystemExit(f"{rows} timing rows do not fit in {budget} bytes")
            break
        lines.append(row)
        size += len(row)
        k += 1
    return "".join(lines).encode("utf-8")


# ---------------------------------------------------------------- running
TIME = shutil.which("time", path="/usr/bin:/bin")


def run_cli(ws: Path, *args: str, timeout: float = 600) -> tuple[float, float, float, int]:
    """Run one CLI command in a child process; return (wall s, CPU s, peak RSS MB, exit status).

    The peak comes from ``/usr/bin/time`` when it exists: ``ru_maxrss`` of a
    child forked straight from this process would include this process's own
    memory (the generated files) from before the ``exec``.
    """
    cmd = [sys.executable, "-m", "orchestrator_gui.cli.main", "-w", str(ws), *args]
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        if TIME:
            cmd = [TIME, "-f", "%e %U %S %M", "-o", report.name, *cmd]
        t = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, timeout=timeout,
                              check=False)
        wall = time.perf_counter() - t
        fields = report.read().split() if TIME else []
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode not in (0, 1):
        print(f"warning: {' '.join(args)} exited {proc.returncode}: {err[-500:]}", file=sys.stderr)
    if len(fields) >= 4:
        return wall, float(fields[-3]) + float(fields[-2]), int(fields[-1]) / 1024, proc.returncode
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # fallback: cumulative, an upper bound
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


#: Targets of issue 13: seconds and peak RSS / file size, per command on a file at the limit.
TARGET_S = 3.0
TARGET_RATIO = 15.0
GRAPH_TARGET_S = 10.0


class Bench:
    def __init__(self, base: Path, timeout: float, repeat: int = 1) -> None:
        self.base = base
        self.timeout = timeout
        self.repeat = repeat
        self.out: dict[str, float | int | bool | str | list[str]] = {}
        self.failed: list[str] = []

    def workspace(self, tag: str, rel: str, data: bytes) -> tuple[Path, int]:
        ws = self.base / tag
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_bytes(data)
        self.out[f"{tag}_mb"] = round(len(data) / 1e6, 2)
        return ws, len(data)

    def measure(self, key: str, ws: Path, size: int, *args: str, limit_s: float = TARGET_S,
                ratio: bool = True, before: Callable[[], None] | None = None) -> None:
        """Run one command (``repeat`` times), record its figures and whether it meets its targets.

        ``before`` runs before each repeat (not timed): to start every run from the same state.
        """
        runs = []
        for _ in range(self.repeat):
            if before is not None:
                before()
            try:
                runs.append(run_cli(ws, *args, timeout=self.timeout))
            except subprocess.TimeoutExpired:
                runs.append((self.timeout, self.timeout, 0.0, -9))
        wall = min(r[0] for r in runs)
        cpu = min(r[1] for r in runs)
        peak = max(r[2] for r in runs)
        rc = runs[-1][3]
        self.out[f"{key}_s"] = round(wall, 2)
        self.out[f"{key}_cpu_s"] = round(cpu, 2)
        self.out[f"{key}_peak_mb"] = round(peak, 1)
        self.out[f"{key}_ratio"] = round(peak * 1024 * 1024 / size, 1)
        self.out[f"{key}_rc"] = rc
        self.judge(f"{key}_s", wall < limit_s)
        if ratio:
            self.judge(f"{key}_ratio", peak * 1024 * 1024 / size < TARGET_RATIO)
        print(f"  {key}: {wall:.2f} s ({cpu:.2f} s CPU), {peak:.0f} MB, rc {rc}", file=sys.stderr)

    def judge(self, target: str, ok: bool) -> None:
        self.out[f"{target}_ok"] = ok
        if not ok:
            self.failed.append(target)


def _item_line(lines: list[bytes], prefix: bytes, frm: int) -> int:
    """The 1-based number of the first line at or after index ``frm`` that starts with ``prefix``."""
    return next(k + 1 for k in range(frm, len(lines)) if lines[k].startswith(prefix))


def bench_todo(b: Bench) -> None:
    data = gen_todo()
    ws, size = b.workspace("todo1m", "TODO.md", data)
    lines = data.split(b"\n")
    half = len(lines) // 2
    open_item, done_item = _item_line(lines, b"- [ ] ", half), _item_line(lines, b"- [x] ", half)
    edited = _item_line(lines, b"- [ ] ", open_item)  # another open item, near the middle
    del lines
    b.measure("todo_list", ws, size, "todo", "list")
    b.measure("todo_list_json", ws, size, "--json", "todo", "list")
    b.measure("todo_check", ws, size, "todo", "check", str(open_item))  # an open item near the middle
    b.measure("todo_uncheck", ws, size, "--json", "todo", "uncheck", str(done_item))  # JSON: with its id
    b.measure("todo_edit", ws, size, "todo", "edit", str(edited), "edited near the middle")
    b.measure("todo_add", ws, size, "todo", "add", "a new item at the end")
    b.measure("todo_remove", ws, size, "todo", "remove", str(edited))
    b.measure("check_todo", ws, size, "check")


def bench_memory(b: Bench) -> None:
    for tag, data in (("memory300k", gen_memory_lines()), ("memorylimit", gen_memory_heads())):
        ws, size = b.workspace(tag, "persistent-memory.md", data)
        suffix = "" if tag == "memory300k" else "_limit"
        b.measure(f"memory_list{suffix}", ws, size, "memory", "list")
        b.measure(f"memory_list_json{suffix}", ws, size, "--json", "memory", "list")
        b.measure(f"check_memory{suffix}", ws, size, "check")
        b.measure(f"memory_add{suffix}", ws, size, "memory", "add", "--mode", "code", "--id", "bench", "appended")


def bench_graph(b: Bench) -> None:
    for tag, data in (("memory300k", gen_memory_lines()), ("memorylimit", gen_memory_heads())):
        ws, size = b.workspace(tag, "persistent-memory.md", data)
        # Every repeat is a fresh build: the store the previous one made is removed first.
        b.measure(f"graph_build_{tag}", ws, size, "graph", "build", limit_s=GRAPH_TARGET_S, ratio=False,
                  before=lambda ws=ws: shutil.rmtree(ws / ".orchestrator", ignore_errors=True))
        # Again on the same files: the store exists now, so this is the sync every later build does
        # (open the store's snapshot, read the files, compare every node; nothing changes).
        b.measure(f"graph_build_again_{tag}", ws, size, "graph", "build", limit_s=GRAPH_TARGET_S, ratio=False)


def bench_schedules(b: Bench) -> None:
    ws, size = b.workspace("schedules14mb", ".roo/schedules.json", gen_schedules())
    b.measure("schedules_list", ws, size, "schedules", "list", "--now", "2025-11-01T00:00:00Z")
    b.measure("schedules_set", ws, size, "schedules", "set", "1761482303300", "timeInterval=15")
    b.measure("check_schedules", ws, size, "check")


def bench_timing(b: Bench) -> None:
    add = ["timing", "add", "--mode", "code", "--task-id", "bench1", "--task", "bench", "--start",
           "2025-11-01T00:00:00Z", "--end", "2025-11-01T00:01:00Z", "--result", "completed", "--priority", "todo"]
    for tag, data in (("timing200k", gen_timing(200_000, MAX_FILE_BYTES, long=False)),
                      ("timinglimit", gen_timing(None, MAX_FILE_BYTES - 4096, long=True)),
                      ("timingover", gen_timing(None, MAX_FILE_BYTES * 3 // 2, long=True))):
        ws, size = b.workspace(tag, "task_timing.tsv", data)
        suffix = tag.removeprefix("timing")
        # Past the read limit only the time is judged (the ratio is to a file larger than any read).
        judged = suffix != "over"
        b.measure(f"timing_list_{suffix}", ws, size, "timing", "list", ratio=judged)
        b.measure(f"timing_list_json_{suffix}", ws, size, "--json", "timing", "list", ratio=judged)
        if judged:  # --all reads the whole file: refused past the limit
            b.measure(f"timing_list_all_{suffix}", ws, size, "timing", "list", "--all")
        b.measure(f"timing_add_{suffix}", ws, size, *add, ratio=judged)
        b.measure(f"check_timing_{suffix}", ws, size, "check", ratio=judged)
    # Millions of damaged lines: every finding, row and run is judged per line.
    ws, size = b.workspace("timingdamaged", "task_timing.tsv", gen_timing_damaged(MAX_FILE_BYTES - 4096))
    b.measure("timing_list_damaged", ws, size, "timing", "list")
    b.measure("timing_list_all_damaged", ws, size, "timing", "list", "--all")
    b.measure("check_timing_damaged", ws, size, "check")
    b.measure("graph_build_timing_damaged", ws, size, "graph", "build",
              before=lambda ws=ws: shutil.rmtree(ws / ".orchestrator", ignore_errors=True))


BENCHES: dict[str, Callable[[Bench], None]] = {
    "todo": bench_todo, "memory": bench_memory, "schedules": bench_schedules, "timing": bench_timing,
    "graph": bench_graph,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one flat JSON object")
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset of " + ",".join(BENCHES))
    parser.add_argument("--timeout", type=float, default=300, help="seconds allowed per command (default 300)")
    parser.add_argument("--keep", metavar="DIR", help="generate the workspaces in DIR and keep them")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each command N times, keep the fastest (1-10, default 1)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    if not 1 <= args.repeat <= 10:
        parser.error("--repeat must be between 1 and 10")
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="big-files-"))
    base.mkdir(parents=True, exist_ok=True)
    b = Bench(base, args.timeout, args.repeat)
    b.out["load_before"] = round(os.getloadavg()[0], 2)
    try:
        wall, cpu, peak, _ = run_cli(base, "--version")
        b.out.update(startup_s=round(wall, 2), startup_cpu_s=round(cpu, 2), startup_peak_mb=round(peak, 1))
        for name in names:
            print(f"{name}:", file=sys.stderr)
            BENCHES[name](b)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    b.out["load_after"] = round(os.getloadavg()[0], 2)
    b.out["all_ok"] = not b.failed
    b.out["failed"] = ",".join(b.failed)
    if args.json:
        print(json.dumps(b.out))
    else:
        for k, v in b.out.items():
            print(f"{k:>36}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
