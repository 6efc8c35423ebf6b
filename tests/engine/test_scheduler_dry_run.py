"""The scheduler and dry runs: a rehearsal writes nothing to schedules.json and does not fire on every tick."""

from __future__ import annotations

import sys
from datetime import UTC

from test_scheduler_loop import NOW, raw, sched, workspace

from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.scheduler import Action
from orchestrator_gui.engine.scheduler_loop import SCHEDULER_LOG, Scheduler
from orchestrator_gui.engine.scheduler_settings import EngineSettings
from orchestrator_gui.formats.nextrun import parse_js_iso

PY = sys.executable


def scheduler(root, cfg: dict, *, dry_run: bool = False, now: str = NOW):
    engine = ThreadExecutor(root, EngineConfig.model_validate(cfg))
    t = [parse_js_iso(now)]
    s = Scheduler(root, engine, settings=EngineSettings(), tz=UTC, clock=lambda: t[0], dry_run=dry_run)
    return engine, s, t


def test_a_dry_run_of_a_due_schedule_writes_nothing_back_and_fires_once_per_due_time(tmp_path):
    root = workspace(tmp_path, sched("A"))
    path = root / ".roo" / "schedules.json"
    before = path.read_bytes()
    engine, s, t = scheduler(root, {})  # no runner: every run is a dry run
    try:
        s.run_once()
        s.run_once()  # the stored time is still 09:00, but the intended next run (10:00) is kept in memory
        assert len(s.fired) == 1
        assert s.fired[0].handle.result(0).dry_run
        assert s.fired[0].writeback.note == "dry run: not written"
        assert s.fired[0].writeback.values["nextExecutionTime"] == "2026-03-02T10:00:00.000Z"
        t[0] = parse_js_iso("2026-03-02T10:00:10.000Z")
        s.run_once()
        assert len(s.fired) == 2
    finally:
        engine.shutdown()
    assert path.read_bytes() == before
    assert not (root / "task_timing.tsv").exists()
    assert "dry run: ['lastExecutionTime', 'lastTaskId', 'nextExecutionTime'] not written" in \
        (root / SCHEDULER_LOG).read_text()


def test_only_the_dry_runs_are_kept_from_the_file_when_one_mode_has_a_runner(tmp_path):
    root = workspace(tmp_path, sched("A", mode="code"), sched("B", mode="architect"))
    engine, s, t = scheduler(root, {"modes": {"architect": {"runner": [PY, "-c", "pass"]}}})
    try:
        # One task at a time (as the extension): B waits while A's dry run is still going, then fires.
        for _ in range(5):
            s.run_once()
            if any(f.schedule_id == "B" for f in s.fired):
                break
            t[0] += 61_000
    finally:
        engine.shutdown()
    assert raw(root, "A")["lastTaskId"] == ""  # code: no runner, a dry run, nothing written
    b = raw(root, "B")
    assert b["lastTaskId"] == next(f.task_id for f in s.fired if f.schedule_id == "B")
    assert b["nextExecutionTime"] >= "2026-03-02T10:00:00.000Z"  # B ran and was re-armed in the file


def test_a_rehearsal_scheduler_arms_and_expires_nothing(tmp_path):
    root = workspace(tmp_path, sched("A", nextExecutionTime=""),
                     sched("E", expirationDate="2026-03-01", expirationHour="00"))
    before = (root / ".roo" / "schedules.json").read_bytes()
    engine, s, _ = scheduler(root, {"runner": [PY, "-c", "pass"]}, dry_run=True,
                             now="2026-03-02T08:10:00.000Z")
    try:
        assert [d.action for d in s.tick()] == [Action.EXPIRE]
        assert s.tick() == []  # the arming is kept in memory: not tried again
    finally:
        engine.shutdown()
    assert (root / ".roo" / "schedules.json").read_bytes() == before
