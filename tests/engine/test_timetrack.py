"""Time tracking through the engine: the row pair of each run, and concurrent appends."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator_gui.engine.tasks import RunResult, Task, todo_task, transform_task
from orchestrator_gui.engine.timetrack import TimeTracker
from orchestrator_gui.formats.timing import load_timing

REPO_ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)


def finished(task: Task, status: str, seconds: float = 12.7, **kw) -> RunResult:
    return RunResult(task_id=task.task_id, kind=task.kind, subject_id=task.subject_id, title=task.title,
                     mode=task.mode, status=status, started_at=T0, ended_at=T0 + timedelta(seconds=seconds),
                     duration_s=seconds, **kw)


def test_a_run_writes_a_started_row_and_a_finished_row(tmp_path):
    tracker = TimeTracker.for_workspace(tmp_path)
    task = Task(kind="schedule", task_id="run-7", subject_id="17619", title="Nightly\tbuild", mode="code")
    tracker.started(task, T0)
    tracker.finished(task, finished(task, "timeout", timeout_s=900.0))
    other = todo_task("i", "Fix the docs", task_id="run-8", mode="architect")
    tracker.started(other, T0)
    tracker.finished(other, finished(other, "failed", exit_code=2))
    assert (tmp_path / "task_timing.tsv").read_text().splitlines() == [
        "timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority",
        "2026-03-04T05:06:07.891Z\tcode\trun-7\t2026-03-04T05:06:07.891Z\t\t\tNightly build\tstarted\tschedule",
        "2026-03-04T05:06:20.591Z\tcode\trun-7\t2026-03-04T05:06:07.891Z\t2026-03-04T05:06:20.591Z\t12\t"
        "Nightly build\ttimeout - killed after 900 s\tschedule",
        "2026-03-04T05:06:07.891Z\tarchitect\trun-8\t2026-03-04T05:06:07.891Z\t\t\tFix the docs\tstarted\ttodo",
        "2026-03-04T05:06:20.591Z\tarchitect\trun-8\t2026-03-04T05:06:07.891Z\t2026-03-04T05:06:20.591Z\t12\t"
        "Fix the docs\tfailed - exit 2\ttodo",
    ]
    doc = load_timing(tmp_path / "task_timing.tsv")
    assert [(r.task_id, r.status, r.priority) for r in doc.rows[1:]] == [
        ("run-7", "started", "schedule"), ("run-7", "timeout", "schedule"),
        ("run-8", "started", "todo"), ("run-8", "failed", "todo")]


def test_transforms_write_no_rows(tmp_path):
    tracker = TimeTracker.for_workspace(tmp_path)
    task = transform_task(lambda tok: None)
    assert tracker.started(task, T0) is None and tracker.finished(task, finished(task, "completed")) is None
    assert not (tmp_path / "task_timing.tsv").exists()


THREADS, PER_THREAD, PROCESS_RUNS = 8, 500, 250
CHILD = """
import sys
from datetime import datetime, timezone
from orchestrator_gui.engine.tasks import RunResult, Task
from orchestrator_gui.engine.timetrack import TimeTracker
tracker, n = TimeTracker(sys.argv[1]), int(sys.argv[2])
t0 = datetime(2026, 3, 4, tzinfo=timezone.utc)
print("ready", flush=True)
sys.stdin.readline()
for i in range(n):
    task = Task(kind="schedule", task_id=f"proc-{i}", subject_id="s", title=f"process run {i} " + "p" * (i % 40))
    tracker.started(task, t0)
    tracker.finished(task, RunResult(task_id=task.task_id, kind="schedule", title=task.title, status="completed",
                                     exit_code=0, started_at=t0, ended_at=t0, duration_s=0.0))
print("done", flush=True)
"""


@pytest.mark.parametrize("parse", [True, False])  # False: the engine's way (started rows not awaited on disk)
def test_8_threads_x_500_appends_and_another_process_lose_nothing(tmp_path, parse):
    path = tmp_path / "task_timing.tsv"
    path.write_bytes(b"timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority\r\n"
                     b"2025-11-01T07:24:32.582617Z\tcode\told\t2025-11-01T07:24:32.582Z\t\t\tkept\tstarted\t")
    original = path.read_bytes()
    tracker = TimeTracker(path, parse=parse)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(PROCESS_RUNS)], cwd=REPO_ROOT,
                             env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    errors: list[BaseException] = []
    try:
        assert child.stdout.readline().strip() == "ready"
        gate = threading.Barrier(THREADS + 1)

        def worker(k: int) -> None:
            gate.wait()
            try:
                for i in range(PER_THREAD // 2):  # two appends per run: 500 per thread
                    task = Task(kind="todo", task_id=f"t{k}-{i}", subject_id="x", title=f"thread {k} run {i} "
                                + "x" * (7 * k))
                    tracker.started(task, T0)
                    tracker.finished(task, finished(task, "completed", exit_code=0))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
        for t in threads:
            t.start()
        child.stdin.write("go\n")
        child.stdin.flush()
        gate.wait()
        for t in threads:
            t.join()
        out, _ = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert not errors and child.returncode == 0 and out.strip() == "done"

    data = path.read_bytes()
    assert data.startswith(original + b"\r\n") and not data.endswith(b"\n")  # CRLF file, no final newline kept
    rows = [r for r in load_timing(path).rows if r.line > 2]  # after the header and the old row
    total = THREADS * PER_THREAD + 2 * PROCESS_RUNS
    assert len(rows) == total
    assert Counter(r.layout for r in rows) == {"standard": total}
    assert all(len(r.fields) == 9 and r.terminator in (b"\r\n", b"") for r in rows)
    pairs = Counter((r.task_id, r.status) for r in rows)
    want = {(f"t{k}-{i}", s) for k in range(THREADS) for i in range(PER_THREAD // 2) for s in ("started", "completed")}
    want |= {(f"proc-{i}", s) for i in range(PROCESS_RUNS) for s in ("started", "completed")}
    assert set(pairs) == want and set(pairs.values()) == {1}
    for r in rows:  # whole rows: the task text is exactly what its writer wrote
        if r.task_id.startswith("t"):
            k, i = r.task_id[1:].split("-")
            assert r.task == f"thread {k} run {i} " + "x" * (7 * int(k))
        else:
            i = int(r.task_id.split("-")[1])
            assert r.task == f"process run {i} " + "p" * (i % 40)


def test_rows_queued_without_waiting_are_written_in_order_and_reported(tmp_path):
    tracker = TimeTracker.for_workspace(tmp_path, parse=False)
    reports: list[tuple[str, int, object]] = []
    lock = threading.Lock()

    def report(task_id):
        def cb(row, error):
            # Called once the row is in the file: it must be readable by then.
            text = (tmp_path / "task_timing.tsv").read_text()
            with lock:
                reports.append((task_id, text.count(task_id), error))
        return cb
    tasks = [todo_task("i", f"item {k}", task_id=f"q-{k}") for k in range(300)]
    for t in tasks:
        assert tracker.started(t, T0, wait=False, on_done=report(t.task_id)) is None
    for t in tasks:
        tracker.finished(t, finished(t, "completed"), wait=False, on_done=report(t.task_id))
    tracker.close()
    assert len(reports) == 600 and all(err is None and n >= 1 for _, n, err in reports)
    rows = load_timing(tmp_path / "task_timing.tsv").rows[1:]
    assert [(r.task_id, r.status) for r in rows] == \
        [(t.task_id, "started") for t in tasks] + [(t.task_id, "completed") for t in tasks]


def test_a_row_that_cannot_be_written_is_reported_to_its_callback(tmp_path):
    path = tmp_path / "task_timing.tsv"
    path.write_bytes("timestamp\tmode\n".encode("utf-16"))   # a UTF-16 file is never appended to
    tracker = TimeTracker(path)
    errors = []
    task = todo_task("i", "x", task_id="bad-1")
    tracker.started(task, T0, wait=False, on_done=lambda row, err: errors.append(err))
    tracker.flush()
    assert len(errors) == 1 and "UTF-16" in str(errors[0])
    with pytest.raises(type(errors[0])):
        tracker.finished(task, finished(task, "completed"))
    tracker.close()


def test_closing_while_rows_are_queued_loses_nothing_and_returns(tmp_path):
    # A row queued during close() goes to the next writer, never to the one being stopped.
    tracker = TimeTracker.for_workspace(tmp_path, parse=False)
    stop = threading.Event()
    queued: list[str] = []

    def appender():
        k = 0
        while not stop.is_set() or k < 200:
            task = todo_task("i", "x", task_id=f"c-{k}")
            tracker.started(task, T0, wait=False)
            queued.append(task.task_id)
            k += 1
            time.sleep(0.0002)  # a busy engine, not a flood the writer could never catch up with
    t = threading.Thread(target=appender)
    t.start()
    closer_done = []
    for _ in range(50):
        closer = threading.Thread(target=lambda: (tracker.close(), closer_done.append(1)))
        closer.start()
        closer.join(10)
        assert not closer.is_alive(), "close() hung"
    stop.set()
    t.join(10)
    tracker.close()
    rows = load_timing(tmp_path / "task_timing.tsv").rows[1:]
    assert sorted(r.task_id for r in rows) == sorted(queued) and len(closer_done) == 50
