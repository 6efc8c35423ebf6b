"""The engine over plain threads: priorities, limits, dependencies, cancellation, shutdown, tracking."""

from __future__ import annotations

import json
import sys
import threading
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest
from test_runner import alive, wait_dead

from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import EngineClosed, EngineEvent, ThreadExecutor
from orchestrator_gui.engine.queue import DependencyCycleError
from orchestrator_gui.engine.tasks import Task, schedule_task, todo_task, transform_task
from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.timing import load_timing

PY = sys.executable
WAIT = 20  # generous upper bound for anything that should happen at once

SLEEPER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("ready", child.pid, flush=True)
time.sleep(60)
"""


class Recorder:
    """Collects engine events; lets a test wait for one without sleeping."""

    def __init__(self) -> None:
        self.events: list[EngineEvent] = []
        self.lock = threading.Condition(threading.RLock())

    def __call__(self, event: EngineEvent) -> None:
        with self.lock:
            self.events.append(event)
            self.lock.notify_all()

    def wait_for(self, pred, timeout: float = WAIT):
        with self.lock:
            assert self.lock.wait_for(lambda: any(pred(e) for e in self.events), timeout), "event never came"
            return next(e for e in self.events if pred(e))

    def of(self, type_: str) -> list[EngineEvent]:
        with self.lock:
            return [e for e in self.events if e.type == type_]

    def stdout(self, task_id: str) -> str:
        with self.lock:
            return "".join(e.data["text"] for e in self.events
                           if e.type == "output" and e.task_id == task_id and e.data["stream"] == "stdout")

    def ready(self, task_id: str) -> int:
        """Wait for the sleeper's whole ``ready <child pid>`` line; return the child pid."""
        with self.lock:
            assert self.lock.wait_for(lambda: self.stdout(task_id).endswith("\n"), WAIT), "never ready"
        words = self.stdout(task_id).split()
        assert words[0] == "ready"
        return int(words[1])


def engine(tmp_path: Path, recorder: Recorder | None = None, **cfg) -> ThreadExecutor:
    eng = ThreadExecutor(tmp_path, EngineConfig.model_validate(cfg))
    if recorder is not None:
        eng.add_listener(recorder)
    return eng


@pytest.fixture
def sleeper(tmp_path) -> list[str]:
    path = tmp_path / "sleeper.py"
    path.write_text(SLEEPER)
    return [PY, str(path)]


def blocker(started: threading.Event, gate: threading.Event):
    def fn(token):
        started.set()
        assert gate.wait(WAIT)
        return "blocker"
    return fn


def test_schedule_tasks_start_before_todo_tasks_before_transforms(tmp_path):
    rec = Recorder()
    eng = engine(tmp_path, rec, limits={"threads": 1})  # one worker: start order is queue order
    started, gate = threading.Event(), threading.Event()
    eng.submit(transform_task(blocker(started, gate), task_id="block"))
    assert started.wait(WAIT)
    eng.submit(todo_task("i1", "first todo", task_id="todo-1"))
    eng.submit(transform_task(lambda tok: 1, task_id="tr-1"))
    eng.submit(schedule_task("s1", "sched", "code", "x", task_id="sched-1"))
    eng.submit(todo_task("i2", "second todo", task_id="todo-2"))
    eng.submit(schedule_task("s2", "sched", "code", "x", task_id="sched-2"))
    assert [h.task_id for h in eng.queued()] == ["sched-1", "sched-2", "todo-1", "todo-2", "tr-1"]
    gate.set()
    assert eng.wait_idle(WAIT)
    assert [e.task_id for e in rec.of("started")] == ["block", "sched-1", "sched-2", "todo-1", "todo-2", "tr-1"]
    eng.shutdown()


def test_per_kind_limits_hold(tmp_path):
    eng = engine(tmp_path, limits={"transforms": 2, "threads": 10})
    lock, gate = threading.Condition(), threading.Event()
    active, peak = [0], [0]

    def fn(token):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            lock.notify_all()
        assert gate.wait(WAIT)
        with lock:
            active[0] -= 1
        return True

    handles = [eng.submit(transform_task(fn)) for _ in range(6)]
    with lock:
        assert lock.wait_for(lambda: active[0] == 2, WAIT)
    assert len(eng.running()) == 2 and len(eng.queued()) == 4
    gate.set()
    assert all(h.result(WAIT).value is True for h in handles)
    assert peak[0] == 2
    eng.shutdown()


def test_one_agent_task_at_a_time_shared_by_schedules_and_todos(tmp_path, sleeper):
    rec = Recorder()
    eng = engine(tmp_path, rec, runner=sleeper, limits={"agent_tasks": 1})
    first = eng.submit(todo_task("i", "t", task_id="a-1"))
    second = eng.submit(schedule_task("s", "s", "code", "x", task_id="a-2"))
    rec.ready("a-1")
    assert (first.state, second.state) == ("running", "queued")
    assert first.idle_s is not None and second.idle_s is None
    assert eng.cancel("a-1")
    rec.ready("a-2")
    assert first.result(WAIT).status == "cancelled"
    eng.cancel("a-2")
    assert second.result(WAIT).status == "cancelled"
    eng.shutdown()


def test_a_transform_waits_for_pending_writers_of_its_inputs(tmp_path):
    eng = engine(tmp_path)
    started, gate = threading.Event(), threading.Event()
    order: list[str] = []
    writer = eng.submit(transform_task(lambda tok: (blocker(started, gate)(tok), order.append("writer")),
                                       outputs=("node-A",), task_id="writer"))
    assert started.wait(WAIT)
    reader = eng.submit(transform_task(lambda tok: order.append("reader"), inputs=("node-A", "node-X"),
                                       task_id="reader"))
    other = eng.submit(transform_task(lambda tok: order.append("other"), inputs=("node-B",), task_id="other"))
    assert other.result(WAIT).ok                       # not blocked: nobody writes node-B
    assert reader.state == "queued" and eng._queue.waiting_for("reader") == {"writer"}
    gate.set()
    assert reader.result(WAIT).ok and writer.result(WAIT).ok
    assert order == ["other", "writer", "reader"]
    eng.shutdown()


def test_a_dependency_cycle_is_refused_whole(tmp_path):
    eng = engine(tmp_path)
    a = transform_task(lambda tok: 1, inputs=("A",), outputs=("B",), task_id="t-a")
    b = transform_task(lambda tok: 2, inputs=("B",), outputs=("A",), task_id="t-b")
    c = transform_task(lambda tok: 3, inputs=("C",), task_id="t-c")
    with pytest.raises(DependencyCycleError) as info:
        eng.submit_batch([c, a, b])
    assert info.value.cycle in (["t-a", "t-b", "t-a"], ["t-b", "t-a", "t-b"])
    assert "reads 'A' written by t-b" in str(info.value) and "reads 'B' written by t-a" in str(info.value)
    assert eng.queued() == [] and eng.running() == []
    with pytest.raises(DependencyCycleError, match="waits for itself"):
        eng.submit(Task(kind="todo", task_id="self", after=("self",)))
    x = Task(kind="todo", task_id="x", after=("y",))
    y = Task(kind="todo", task_id="y", after=("x",))
    with pytest.raises(DependencyCycleError, match="x runs after y"):
        eng.submit_batch([x, y])
    # In order, one after the other, the same transforms are fine: the later waits for the earlier.
    ha, hb = eng.submit(a), eng.submit(b)
    assert ha.result(WAIT).value == 1 and hb.result(WAIT).value == 2
    eng.shutdown()


def test_cancel_a_queued_task_and_a_running_process_group(tmp_path, sleeper):
    rec = Recorder()
    eng = engine(tmp_path, rec, runner=sleeper)
    running = eng.submit(todo_task("i1", "long", task_id="run-1"))
    queued = eng.submit(todo_task("i2", "never", task_id="run-2"))
    child = rec.ready("run-1")
    leader = rec.wait_for(lambda e: e.type == "spawned").data["pid"]
    assert eng.cancel("run-2")
    r2 = queued.result(WAIT)
    assert (r2.status, r2.error) == ("cancelled", "cancelled before it started")
    assert eng.cancel("run-1")
    r1 = running.result(WAIT)
    assert (r1.status, r1.exit_code) == ("cancelled", -15)
    assert wait_dead(child) and wait_dead(leader) and not alive(child)
    assert [e.task_id for e in rec.of("started")] == ["run-1"]
    rows = load_timing(tmp_path / "task_timing.tsv").rows[1:]
    assert [(r.task_id, r.result) for r in rows] == [("run-1", "started"), ("run-1", "cancelled - exit -15")]
    assert eng.failures.count("todo", "i1") == 0        # a cancel is not a failure
    eng.shutdown()


def test_shutdown_waits_and_leaves_no_process_behind(tmp_path, sleeper):
    rec = Recorder()
    eng = engine(tmp_path, rec, runner=sleeper, limits={"agent_tasks": 3})
    handles = [eng.submit(todo_task(f"i{k}", "t", task_id=f"r-{k}")) for k in range(4)]
    children = [rec.ready(f"r-{k}") for k in range(3)]
    leaders = [e.data["pid"] for e in rec.of("spawned")]
    eng.shutdown(wait=True)
    assert all(h.done() for h in handles)
    assert [h.result().status for h in handles] == ["cancelled"] * 4
    assert handles[3].result().error == "cancelled: shutting down before it started"
    for pid in children + leaders:
        assert wait_dead(pid, 5) and not alive(pid)
    with pytest.raises(EngineClosed):
        eng.submit(todo_task("i", "late"))


def test_timeout_through_the_engine_counts_as_failure_and_escalates(tmp_path, sleeper):
    rec = Recorder()
    eng = engine(tmp_path, rec, runner=sleeper, grace_s=1)
    for k in range(3):
        r = eng.submit(schedule_task("17619", "nightly", "code", "go", task_id=f"t-{k}", timeout_s=0.3)).result(WAIT)
        assert (r.status, r.warned, r.timeout_s) == ("timeout", True, 0.3)
    [esc] = rec.of("escalated")
    assert esc.subject_id == "17619" and esc.data["failures"] == 3 and esc.data["paused"] is True
    assert len(rec.of("warning")) == 3
    assert eng.is_paused("schedule", "17619") and eng.config.is_paused("schedule", "17619")
    assert load_memory(tmp_path / "persistent-memory.md").entries[-1].id == "escalation_17619"
    rows = load_timing(tmp_path / "task_timing.tsv").rows[1:]
    assert [r.result for r in rows if r.task_id == "t-2"] == ["started", "timeout - killed after 0.3 s"]
    assert eng.clear_escalation("17619")
    assert not eng.is_paused("schedule", "17619")
    cfg = tomllib.loads((tmp_path / ".orchestrator" / "config.toml").read_text())
    assert cfg == {"schedules": {"17619": {"paused": False}}}
    # The engine's config came from code, not from that file: escalating must not have replaced it.
    again = eng.submit(schedule_task("17619", "nightly", "code", "go", timeout_s=0.3)).result(WAIT)
    assert (again.status, again.dry_run, again.command[0]) == ("timeout", False, PY)
    eng.shutdown()


def test_no_timeout_opt_out_is_reported_at_start(tmp_path):
    rec = Recorder()
    eng = engine(tmp_path, rec, todos={"i-9": {"no_timeout": True}})
    eng.submit(todo_task("i-9", "free")).result(WAIT)
    eng.submit(todo_task("i-1", "limited")).result(WAIT)
    assert [e.data for e in rec.of("started")] == [{"timeout_s": None, "no_timeout": True},
                                                   {"timeout_s": 3600.0, "no_timeout": False}]
    eng.shutdown()


def test_a_dry_run_writes_no_timing_row_only_its_log_and_run_record(tmp_path):
    rec = Recorder()
    eng = engine(tmp_path, rec)
    r = eng.submit(todo_task("i", "Write docs", task_id="dry-9")).result(WAIT)
    eng.shutdown()
    assert r.dry_run
    assert rec.of("finished")[0].data["dry_run"] is True
    # Nothing in the workspace: the agents read task_timing.tsv and must not take this for a run.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".orchestrator"]
    assert "DRY RUN" in (tmp_path / ".orchestrator" / "runs" / "dry-9.log").read_text()
    [line] = (tmp_path / ".orchestrator" / "runs.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert (record["record"], record["task_id"], record["dry_run"], record["dry_reason"]) == \
        ("run", "dry-9", True, "no runner is configured in .orchestrator/config.toml")


def test_transform_errors_and_values_and_listener_errors(tmp_path, capsys):
    eng = engine(tmp_path)
    eng.add_listener(lambda e: 1 / 0)  # a broken listener does not break runs

    def boom(token):
        raise KeyError("nope")
    assert eng.submit(transform_task(lambda tok: {"x": 1})).result(WAIT).value == {"x": 1}
    bad = eng.submit(transform_task(boom)).result(WAIT)
    assert (bad.status, bad.error) == ("failed", "KeyError: 'nope'")
    assert "ZeroDivisionError" in capsys.readouterr().err
    eng.shutdown()


def test_many_mixed_tasks_all_finish_exactly_once(tmp_path):
    eng = engine(tmp_path, limits={"agent_tasks": 2, "transforms": 3})
    finished: dict[str, int] = defaultdict(int)
    eng.add_listener(lambda e: e.type == "finished" and finished.__setitem__(e.task_id, finished[e.task_id] + 1))
    tasks = [todo_task(f"i{k}", "t") if k % 3 else transform_task(lambda tok: None, outputs=(f"n{k % 5}",),
                                                                   inputs=(f"n{(k + 1) % 5}",)) for k in range(60)]
    handles = [eng.submit(t) for t in tasks]
    assert all(h.result(WAIT).ok for h in handles)
    assert eng.wait_idle(WAIT) and set(finished.values()) == {1} and len(finished) == 60
    eng.shutdown()


def test_a_transform_time_limit_cancels_its_token(tmp_path):
    eng = engine(tmp_path, timeouts={"transform_s": 0.2})

    def polite(token):
        assert token.wait(WAIT)  # returns as soon as the limit cancels the token
        return "stopped"
    r = eng.submit(transform_task(polite)).result(WAIT)
    assert (r.status, r.timeout_s, r.value) == ("timeout", 0.2, "stopped")
    eng.shutdown()


def test_a_finished_event_and_a_resolved_handle_come_after_both_timing_rows(tmp_path):
    # The rows are written by the tracker's writer thread; the run's end is
    # reported only once its finished row is in the file.
    eng = engine(tmp_path, runner=[PY, "-c", "print('hi')"], limits={"agent_tasks": 4})
    seen_rows: dict[str, set[str]] = {}

    def on_event(e: EngineEvent) -> None:
        if e.type == "finished":
            rows = load_timing(tmp_path / "task_timing.tsv").rows[1:]
            seen_rows[e.task_id] = {r.status for r in rows if r.task_id == e.task_id}
    eng.add_listener(on_event)
    handles = [eng.submit(todo_task(f"i{k}", "say hi", task_id=f"run-{k}")) for k in range(12)]
    for h in handles:
        result = h.result(WAIT)
        rows = load_timing(tmp_path / "task_timing.tsv").rows[1:]
        assert {r.status for r in rows if r.task_id == h.task_id} == {"started", "completed"}, result
    eng.shutdown()
    assert seen_rows == {f"run-{k}": {"started", "completed"} for k in range(12)}


def test_a_run_frees_its_slot_when_its_process_ends_and_dependents_wait_for_its_rows(tmp_path, monkeypatch):
    # While the finished row of A cannot be written yet, the next agent task
    # (limit 1) already runs, but C, which runs after A, still waits.
    from orchestrator_gui.engine import timetrack

    gate = threading.Event()
    real = timetrack.append_rows

    def slow_append(path, rows, **kw):
        if any(r.task_id == "A" and r.result != "started" for r in rows):
            assert gate.wait(WAIT)
        return real(path, rows, **kw)
    monkeypatch.setattr(timetrack, "append_rows", slow_append)
    rec = Recorder()
    eng = engine(tmp_path, rec, runner=[PY, "-c", "pass"], limits={"agent_tasks": 1})
    a = eng.submit(todo_task("a", "first", task_id="A"))
    b = eng.submit(todo_task("b", "second", task_id="B"))
    c = eng.submit(Task(kind="todo", task_id="C", subject_id="c", title="after A", after=("A",)))
    rec.wait_for(lambda e: e.type == "spawned" and e.task_id == "B")
    assert not a.done()                                   # A's row is not written yet...
    assert not any(e.type == "started" and e.task_id == "C" for e in rec.events)  # ...so C waits
    gate.set()
    assert a.result(WAIT).ok and b.result(WAIT).ok and c.result(WAIT).ok
    starts = [e.task_id for e in rec.events if e.type == "started"]
    finishes = [e.task_id for e in rec.events if e.type == "finished"]
    assert starts.index("C") > starts.index("B") and finishes.index("A") < starts.index("C")
    eng.shutdown()


def test_a_raising_done_callback_neither_doubles_the_end_nor_stalls_the_engine(tmp_path, capsys):
    rec = Recorder()
    eng = ThreadExecutor(tmp_path, EngineConfig.model_validate({}), track_time=False)  # dry runs
    eng.add_listener(rec)
    started, gate = threading.Event(), threading.Event()
    first = eng.submit(transform_task(blocker(started, gate), task_id="T0"))

    def boom(result):
        raise RuntimeError("a caller's bug")
    h = eng.submit(Task(kind="todo", task_id="D1", subject_id="a", title="dry", after=("T0",)))
    h.add_done_callback(boom)            # registered while D1 waits: the engine calls it
    later = eng.submit(Task(kind="todo", task_id="D2", subject_id="b", title="after D1", after=("D1",)))
    gate.set()
    assert first.result(WAIT).ok and h.result(WAIT).ok and later.result(WAIT).ok
    assert eng.wait_idle(WAIT)
    assert [e.task_id for e in rec.of("finished")].count("D1") == 1
    assert "a caller's bug" in capsys.readouterr().err   # reported, not swallowed
    h.add_done_callback(boom)            # already done: called at once, reported the same way
    assert "a caller's bug" in capsys.readouterr().err
    eng.shutdown()


def test_a_long_chain_of_instant_runs_neither_recurses_nor_stalls(tmp_path):
    # Runs that end at once (a runner that cannot start) are started by the engine's own
    # threads as slots free up; a few thousand in a row must not nest calls or lose a row.
    # (Dry runs end at once too, but write no timing rows, so they never reach the writer thread.)
    missing = str(tmp_path / "no-such-runner")
    eng = ThreadExecutor(tmp_path, EngineConfig.model_validate({"runner": [missing], "limits": {"agent_tasks": 1}}))
    handles = [eng.submit(Task(kind="todo", title="instant", task_id=f"run-{k}")) for k in range(2000)]
    assert all(h.result(WAIT).error == f"runner program not found: {missing}" for h in handles)
    eng.shutdown()
    rows = load_timing(tmp_path / "task_timing.tsv").rows[1:]
    assert len(rows) == 4000 and {r.status for r in rows} == {"started", "failed"}
    assert len((tmp_path / ".orchestrator" / "runs.jsonl").read_text().splitlines()) == 2000
