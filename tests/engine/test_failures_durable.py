"""The failure count lives in the run records: a fresh tracker (a new process) continues it, and escalates once."""

from __future__ import annotations

import multiprocessing
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from orchestrator_gui.engine.failures import FailureTracker, paused_in_config
from orchestrator_gui.engine.tasks import RunResult
from orchestrator_gui.formats.memory import load_memory

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SID = "1761981872582"


def failed(task_id: str, subject: str = SID, **kw) -> RunResult:
    return RunResult(task_id=task_id, kind="schedule", subject_id=subject, title="Nightly", status="failed",
                     exit_code=2, started_at=T0, ended_at=T0, duration_s=1.0, **kw)


def test_each_failure_in_a_new_tracker_still_counts_and_the_third_escalates(tmp_path):
    for k in range(2):
        assert FailureTracker(tmp_path).record(failed(f"r{k}")) is None  # each a new process, in effect
    assert FailureTracker(tmp_path).count("schedule", SID) == 2
    esc = FailureTracker(tmp_path).record(failed("r2"))
    assert esc is not None and (esc.failures, esc.paused, esc.task_id) == (3, True, "r2")
    fresh = FailureTracker(tmp_path)
    assert fresh.is_escalated("schedule", SID)
    assert fresh.escalation("schedule", SID)["reason"] == "failed 3 times in a row (last: exit 2)"
    assert paused_in_config(tmp_path / ".orchestrator" / "config.toml") == ({SID}, None)
    # A fourth failure, yet another process: counted, not escalated again.
    assert FailureTracker(tmp_path).record(failed("r3")) is None
    assert FailureTracker(tmp_path).count("schedule", SID) == 4
    assert [e.id for e in load_memory(tmp_path / "persistent-memory.md").entries] == [f"escalation_{SID}"]
    # Cleared in one process, seen by another: the count starts again.
    assert FailureTracker(tmp_path).clear_escalation(SID) is True
    other = FailureTracker(tmp_path)
    assert not other.is_escalated("schedule", SID) and other.count("schedule", SID) == 0
    assert other.resumed_at("schedule", SID) is not None
    assert tomllib.loads((tmp_path / ".orchestrator" / "config.toml").read_text()) == \
        {"schedules": {SID: {"paused": False}}}


def _fail_twice(root: str, worker: int, start) -> None:
    start.wait()
    for k in range(2):
        FailureTracker(Path(root)).record(failed(f"p{worker}-{k}"))


def test_processes_failing_at_once_escalate_exactly_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_fail_twice, args=(str(tmp_path), w, start)) for w in range(4)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 4
    tracker = FailureTracker(tmp_path)
    assert tracker.count("schedule", SID) == 8
    text = (tmp_path / ".orchestrator" / "runs.jsonl").read_text()
    assert text.count('"record":"escalated"') == 1
    assert [e.id for e in load_memory(tmp_path / "persistent-memory.md").entries] == [f"escalation_{SID}"]
