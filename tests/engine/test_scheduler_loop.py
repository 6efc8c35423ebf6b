"""The scheduler loop over a real engine: interactions, missed runs, expiry, requireActivity, write-back safety."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC
from pathlib import Path

import pytest

from orchestrator_gui.engine import scheduler_loop
from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.scheduler import Action
from orchestrator_gui.engine.scheduler_loop import SCHEDULER_LOG, Scheduler
from orchestrator_gui.engine.scheduler_settings import EngineSettings, SchedulerSettings, load_settings
from orchestrator_gui.engine.writeback import WriteResult
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.timing import load_timing
from orchestrator_gui.problems import FormatError

PY = sys.executable
UTC = UTC
WAIT = 20
NOW = "2026-03-02T09:00:30.000Z"
ALL_DAYS = {d: True for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")}
SLEEPER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print("ready", child.pid, flush=True)
time.sleep(60)
"""


def sched(sid: str, **kw) -> dict:
    s = {"id": sid, "name": f"S{sid}", "mode": "code", "taskInstructions": f"do {sid}", "scheduleType": "time",
         "timeInterval": "1", "timeUnit": "hour", "selectedDays": dict(ALL_DAYS), "startDate": "", "startHour": "",
         "startMinute": "00", "expirationDate": "", "expirationHour": "00", "expirationMinute": "00",
         "requireActivity": False, "active": True, "taskInteraction": "wait", "inactivityDelay": "10",
         "lastExecutionTime": "2026-03-02T08:00:00.500Z", "lastSkippedTime": "", "lastTaskId": "",
         "nextExecutionTime": "2026-03-02T09:00:00.500Z", "modeDisplayName": "Code",
         "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}
    s.update(kw)
    return s


def workspace(tmp_path: Path, *schedules: dict) -> Path:
    root = tmp_path / "ws"
    (root / ".roo").mkdir(parents=True)
    (root / ".roo" / "schedules.json").write_text(
        json.dumps({"schedules": list(schedules)}, indent=2, ensure_ascii=False), encoding="utf-8")
    return root


def raw(root: Path, sid: str) -> dict:
    return load_schedules(root / ".roo" / "schedules.json").get(sid).raw


#: A runner that does nothing and succeeds: runs are real runs (a dry run writes nothing back).
NOOP = [PY, "-c", "pass"]


def setup(root: Path, *, now: str = NOW, settings: EngineSettings | None = None, **cfg):
    engine = ThreadExecutor(root, EngineConfig.model_validate({"runner": NOOP, **cfg}))
    lines: list[str] = []
    t = parse_js_iso(now)
    s = Scheduler(root, engine, settings=settings or EngineSettings(), tz=UTC, clock=lambda: t, log=lines.append)
    return engine, s, lines


def sleeper(root: Path) -> list[str]:
    path = root / "sleeper.py"
    path.write_text(SLEEPER)
    return [PY, str(path)]


def rows(root: Path):
    if not (root / "task_timing.tsv").exists():
        return []
    return [(r.task_id, r.result.split(" ")[0], r.priority) for r in load_timing(root / "task_timing.tsv").rows[1:]]


# -- taskInteraction against our running task ---------------------------------------------------
@pytest.mark.parametrize("interaction, delay", [("wait", "10"), ("wait", "0"), ("interrupt", "10"), ("skip", "10")])
def test_interaction_with_our_running_task(tmp_path, interaction, delay):
    root = workspace(tmp_path, sched("A"), sched("B", mode="ask", taskInteraction=interaction, inactivityDelay=delay))
    quick = [PY, "-c", "print('quick')"]
    engine, s, lines = setup(root, runner=sleeper(root), modes={"ask": {"runner": quick}})
    try:
        acted = {d.schedule_id: d for d in s.tick()}
        assert acted["A"].action is Action.FIRE
        a = next(f for f in s.fired if f.schedule_id == "A").handle
        b = raw(root, "B")
        if (interaction, delay) == ("wait", "10"):
            assert acted["B"].action is Action.WAIT
            assert (b["lastSkippedTime"], b["nextExecutionTime"]) == (NOW, "2026-03-02T09:01:00.000Z")
            assert b["lastExecutionTime"] == "2026-03-02T08:00:00.500Z"  # B did not run
            assert not a.done()
        elif interaction == "skip":
            assert acted["B"].action is Action.SKIP
            assert (b["lastSkippedTime"], b["nextExecutionTime"]) == (NOW, "2026-03-02T10:00:00.000Z")
            assert not a.done()
        else:  # interrupt, or wait with inactivityDelay "0": A is cancelled and B runs
            assert acted["B"].action is Action.FIRE and acted["B"].interrupt == a.task_id
            assert a.result(WAIT).status == "cancelled"
            fb = next(f for f in s.fired if f.schedule_id == "B")
            assert fb.handle.result(WAIT).status == "completed"
            assert (b["lastExecutionTime"], b["lastTaskId"]) == (NOW, fb.task_id)
        assert raw(root, "A")["lastTaskId"] == a.task_id
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert all(r[2] == "schedule" for r in rows(root))


def test_no_interaction_when_an_agent_slot_is_free(tmp_path):
    root = workspace(tmp_path, sched("A"), sched("B", mode="ask", taskInteraction="skip"))
    engine, s, _ = setup(root, runner=sleeper(root), modes={"ask": {"runner": [PY, "-c", "pass"]}},
                         limits={"agent_tasks": 2})
    try:
        assert [d.action for d in s.tick()] == [Action.FIRE, Action.FIRE]
    finally:
        engine.shutdown(wait=True, cancel=True)


# -- missed runs --------------------------------------------------------------------------------
CLOSED = "2026-03-02T12:30:00.000Z"  # 09:00, 10:00, 11:00 and 12:00 passed while nothing ran


@pytest.mark.parametrize("policy, runs", [("once", 1), ("all", 4), ("skip", 0)])
def test_missed_run_policy_is_applied_and_recorded(tmp_path, policy, runs):
    root = workspace(tmp_path, sched("A"))
    settings = EngineSettings(scheduler=SchedulerSettings(missed=policy))
    engine, s, lines = setup(root, now=CLOSED, settings=settings)  # no runner: dry runs
    try:
        s.run_once()
    finally:
        engine.shutdown()
    assert len(s.fired) == runs
    assert [f.handle.result(0).status for f in s.fired] == ["completed"] * runs
    assert len(rows(root)) == 2 * runs
    d = s.decisions[0]
    assert (d.missed, d.dropped) == (4, 4 - runs)
    record = (root / SCHEDULER_LOG).read_text()
    assert f"4 run(s) missed since 2026-03-02T09:00:00.500Z; missed-run policy {policy}" in record
    assert any("4 run(s) missed" in ln for ln in lines)
    a = raw(root, "A")
    if policy == "skip":
        assert a["nextExecutionTime"] == "2026-03-02T13:00:00.500Z"
        assert a["lastExecutionTime"] == "2026-03-02T08:00:00.500Z"
    else:
        assert a["lastExecutionTime"] == CLOSED and a["lastTaskId"] == s.fired[-1].task_id
        assert a["nextExecutionTime"] == "2026-03-02T13:30:00.000Z"


def test_a_slightly_late_due_time_is_not_a_missed_run(tmp_path):
    root = workspace(tmp_path, sched("A"))
    settings = EngineSettings(scheduler=SchedulerSettings(missed="skip"))
    engine, s, _ = setup(root, now="2026-03-02T09:01:10.000Z", settings=settings)
    try:
        s.run_once()
    finally:
        engine.shutdown()
    assert len(s.fired) == 1 and s.decisions[0].missed == 0


# -- expiry, arming, pause ----------------------------------------------------------------------
def test_expired_schedule_is_deactivated_on_disk_and_not_run(tmp_path):
    root = workspace(tmp_path, sched("A", expirationDate="2026-03-02", expirationHour="08", expirationMinute="30"))
    before = (root / ".roo" / "schedules.json").read_text()
    engine, s, _ = setup(root)
    try:
        s.run_once()
    finally:
        engine.shutdown()
    assert s.fired == [] and s.decisions[0].action is Action.EXPIRE
    a = raw(root, "A")
    assert a["active"] is False and "nextExecutionTime" not in a
    assert a["updatedAt"] == "2026-01-01T00:00:00.000Z"
    after = (root / ".roo" / "schedules.json").read_text()
    assert before.replace('"active": true', '"active": false').replace(
        ',\n      "nextExecutionTime": "2026-03-02T09:00:00.500Z"', "") == after


def test_a_schedule_without_next_time_is_armed_once(tmp_path):
    root = workspace(tmp_path, sched("A", nextExecutionTime=""), sched("B", active=False, nextExecutionTime=""))
    engine, s, _ = setup(root, now="2026-03-02T08:10:00.000Z")
    try:
        assert s.tick() == []
        assert raw(root, "A")["nextExecutionTime"] == "2026-03-02T09:00:00.500Z"
        assert raw(root, "B")["nextExecutionTime"] == ""  # inactive: left alone
        mtime = (root / ".roo" / "schedules.json").stat().st_mtime_ns
        assert s.tick() == []
        assert (root / ".roo" / "schedules.json").stat().st_mtime_ns == mtime
    finally:
        engine.shutdown()


def test_paused_schedule_is_reported_once_and_not_run(tmp_path):
    root = workspace(tmp_path, sched("A"))
    (root / ".orchestrator").mkdir()
    (root / ".orchestrator" / "config.toml").write_text('[schedules."A"]\npaused = true\n')
    from orchestrator_gui.engine.config import load_config
    engine = ThreadExecutor(root, load_config(root))
    t = parse_js_iso(NOW)
    s = Scheduler(root, engine, settings=EngineSettings(), tz=UTC, clock=lambda: t)
    before = (root / ".roo" / "schedules.json").read_bytes()
    try:
        assert [d.action for d in s.tick()] == [Action.PAUSED]
        assert s.tick() == []  # reported once per due time
    finally:
        engine.shutdown()
    assert s.fired == [] and (root / ".roo" / "schedules.json").read_bytes() == before
    assert "paused in .orchestrator/config.toml" in (root / SCHEDULER_LOG).read_text()


# -- requireActivity ----------------------------------------------------------------------------
def test_require_activity_looks_at_our_run_logs(tmp_path):
    root = workspace(tmp_path, sched("A", requireActivity=True, lastTaskId="prev"))
    runs = root / ".orchestrator" / "runs"
    runs.mkdir(parents=True)
    last_exec = parse_js_iso("2026-03-02T08:00:00.500Z") / 1000
    for name, t in (("prev", last_exec + 600), ("other", last_exec - 600)):
        (runs / f"{name}.log").write_text("x")
        os.utime(runs / f"{name}.log", (t, t))
    engine, s, _ = setup(root)
    try:
        assert [d.action for d in s.tick()] == [Action.NO_ACTIVITY]
        a = raw(root, "A")
        assert a["lastSkippedTime"] == "" and a["nextExecutionTime"] == "2026-03-02T10:00:00.500Z"
        assert s.fired == []
        # another run of ours wrote output after the last execution: the next due time fires
        os.utime(runs / "other.log", (last_exec + 60, last_exec + 60))
        t = parse_js_iso("2026-03-02T10:00:10.000Z")
        s.clock = lambda: t
        assert [d.action for d in s.tick()] == [Action.FIRE]
    finally:
        engine.shutdown()


# -- write-back failures ------------------------------------------------------------------------
def test_failed_write_back_never_fires_the_stale_time_twice(tmp_path, monkeypatch):
    root = workspace(tmp_path, sched("A"))

    def refuse(path, sid, updates, **kw):
        values = updates(raw(root, sid)) if callable(updates) else dict(updates)
        return WriteResult(ok=False, schedule_id=sid, values=values, attempts=5, error="changed on disk")

    monkeypatch.setattr(scheduler_loop, "write_runtime_fields", refuse)
    engine, s, lines = setup(root)
    try:
        s.run_once()
        assert len(s.fired) == 1
        s.run_once()
        assert len(s.fired) == 1  # the stored 09:00 is stale; the intended 10:00 is used
    finally:
        engine.shutdown()
    assert any("write-back failed" in p for p in s.problems)
    assert "write-back of ['lastExecutionTime', 'lastTaskId', 'nextExecutionTime'] failed" in \
        (root / SCHEDULER_LOG).read_text()


def test_a_run_that_cannot_start_still_rearms(tmp_path):
    root = workspace(tmp_path, sched("A"))
    engine, s, _ = setup(root)
    engine.shutdown()
    s.run_once()
    assert s.fired[0].handle is None and "run not started" in s.problems[0]
    assert raw(root, "A")["nextExecutionTime"] == "2026-03-02T10:00:00.500Z"
    assert raw(root, "A")["lastExecutionTime"] == "2026-03-02T08:00:00.500Z"


# -- settings -----------------------------------------------------------------------------------
def test_settings_are_read_with_file_and_line_errors(tmp_path):
    (tmp_path / ".orchestrator").mkdir()
    cfg = tmp_path / ".orchestrator" / "config.toml"
    cfg.write_text('runner = ["x"]\n[scheduler]\nmissed = "all"\ntick_s = 2\n[todo]\ncheck_off_on_success = true\n'
                   '[todos."item/abc"]\ncheck_off_on_success = false\n')
    st = load_settings(tmp_path)
    assert (st.scheduler.missed.value, st.scheduler.tick_s, st.todo.check_off_on_success) == ("all", 2.0, True)
    assert st.check_off_for("item/abc", "text") is False and st.check_off_for("item/zzz") is True
    cfg.write_text('[scheduler]\nmissed = "sometimes"\n')
    with pytest.raises(FormatError) as exc:
        load_settings(tmp_path)
    assert exc.value.line == 2 and "scheduler.missed" in str(exc.value)
    cfg.write_text('[todo]\n\ncheck_off_on_success = "yes"\n')
    with pytest.raises(FormatError) as exc:
        load_settings(tmp_path)
    assert exc.value.line == 3


def test_the_loop_survives_an_error_and_reports_it_once(tmp_path, monkeypatch):
    import threading

    root = workspace(tmp_path, sched("A"))

    def broken(*a, **kw):
        raise RuntimeError("boom")

    monkeypatch.setattr(scheduler_loop, "decide", broken)
    engine, s, lines = setup(root)
    stop = threading.Event()
    report = s._problem

    def problem(msg):  # let the loop go round twice, then stop it
        report(msg)
        s.wake.set()
        if len(s.problems) == 2:
            stop.set()

    s._problem = problem
    try:
        s.run_forever(stop)
    finally:
        engine.shutdown()
    # the error is now caught per schedule, so the message names it (and its line)
    expected = f"{root / '.roo' / 'schedules.json'}:3: schedule 'A': scheduler error: RuntimeError: boom"
    assert s.problems == [expected] * 2
    assert lines.count(f"problem: {expected}") == 1
