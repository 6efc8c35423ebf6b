"""The scheduler's start gate: asked before every run, told when it ends; refusals, adopted fields, offers.

The gate here is a small real one (an "approval" rule kept in memory), the kind a later feature adds;
the fleet's claims are tested against PostgreSQL in tests/fleet.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC
from pathlib import Path

from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.scheduler import Allow, Deny, Offer, Shared, StartRequest, started_updates
from orchestrator_gui.engine.scheduler_loop import Scheduler
from orchestrator_gui.engine.scheduler_settings import EngineSettings
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.timing import load_timing

PY = sys.executable
NOW = "2026-03-02T09:00:30.000Z"
DUE = "2026-03-02T09:00:00.500Z"
ALL_DAYS = {d: True for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")}
WAIT = 20


def sched(sid: str, **kw) -> dict:
    s = {"id": sid, "name": f"S{sid}", "mode": "code", "taskInstructions": f"do {sid}", "scheduleType": "time",
         "timeInterval": "1", "timeUnit": "hour", "selectedDays": dict(ALL_DAYS), "startDate": "", "startHour": "",
         "startMinute": "00", "expirationDate": "", "expirationHour": "00", "expirationMinute": "00",
         "requireActivity": False, "active": True, "taskInteraction": "wait", "inactivityDelay": "10",
         "lastExecutionTime": "2026-03-02T08:00:00.500Z", "lastSkippedTime": "", "lastTaskId": "",
         "nextExecutionTime": DUE, "modeDisplayName": "Code",
         "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}
    s.update(kw)
    return s


class ApprovalGate:
    """Allows the schedules in ``approved``; refuses the others (asking again, or with fields to write)."""

    def __init__(self, approved=(), *, fields=None, shared=None, offers=(), fail=False):
        self.approved = set(approved)
        self.fields = fields
        self.shared = dict(shared or {})
        self._offers = list(offers)
        self.fail = fail
        self.asked: list[StartRequest] = []
        self.finished: list[tuple[StartRequest, object]] = []

    def sync(self, schedule_ids):
        out, self.shared = {k: v for k, v in self.shared.items() if k in schedule_ids}, {}
        return out

    def before_start(self, request):
        self.asked.append(request)
        if self.fail:
            raise RuntimeError("approval service down")
        if request.schedule_id in self.approved:
            return Allow("approved")
        if self.fields is not None:
            return Deny("taken elsewhere", fields=self.fields, by="m9")
        return Deny("waiting for approval", retry=True)

    def after_finish(self, request, result):
        self.finished.append((request, result))

    def offers(self, now_ms):
        out, self._offers = self._offers, []
        return out


def setup(tmp_path: Path, gate, *schedules, dry_run=False):
    root = tmp_path / "ws"
    (root / ".roo").mkdir(parents=True)
    (root / ".roo" / "schedules.json").write_text(json.dumps({"schedules": list(schedules)}, indent=2))
    engine = ThreadExecutor(root, EngineConfig.model_validate({"runner": [PY, "-c", "pass"]}))
    lines: list[str] = []
    t = parse_js_iso(NOW)
    s = Scheduler(root, engine, settings=EngineSettings(), tz=UTC, clock=lambda: t, log=lines.append, gate=gate,
                  dry_run=dry_run)
    return root, engine, s, lines


def raw(root: Path, sid: str) -> dict:
    return dict(load_schedules(root / ".roo" / "schedules.json").get(sid).raw)


def timing_rows(root: Path) -> int:
    path = root / "task_timing.tsv"
    return len(load_timing(path).data_rows()) if path.exists() else 0


def test_refused_run_does_not_start_and_asks_again_until_allowed(tmp_path):
    gate = ApprovalGate()
    root, engine, s, lines = setup(tmp_path, gate, sched("A"), sched("B"))
    gate.approved = {"B"}
    before = raw(root, "A")
    try:
        s.run_once(timeout=WAIT)
        assert [f.schedule_id for f in s.fired] == ["B"]
        assert raw(root, "A") == before  # refused with retry: nothing written, still armed
        assert [(d.schedule_id, deny.reason) for d, deny in s.denied] == [("A", "waiting for approval")]
        s.tick()  # asked again, not reported again
        assert [r.schedule_id for r in gate.asked].count("A") == 2 and len(s.denied) == 1
        assert sum("not started: waiting for approval" in line for line in lines) == 1
        gate.approved.add("A")
        s.run_once(timeout=WAIT)
    finally:
        engine.shutdown(wait=True, cancel=True)
    fired = {f.schedule_id: f for f in s.fired}
    assert set(fired) == {"A", "B"} and timing_rows(root) == 4  # two started/finished pairs
    # the gate was told how each allowed run ended, with the request it allowed
    done = {req.schedule_id: (req, res) for req, res in gate.finished}
    assert set(done) == {"A", "B"}
    req, res = done["A"]
    assert res.status == "completed" and req.task_id == fired["A"].task_id
    assert req.due_ms == parse_js_iso(DUE) and req.attempt == 0
    # the request carried exactly the fields the start wrote back (Roo's semantics)
    assert {k: raw(root, "A")[k] for k in req.updates} == dict(req.updates)
    assert dict(req.updates) == started_updates(sched("A"), parse_js_iso(NOW), req.task_id, UTC)


def test_refusal_with_fields_writes_them_back_and_runs_nothing(tmp_path):
    elsewhere = {"lastExecutionTime": "2026-03-02T09:00:00.700Z", "lastTaskId": "run-on-m9",
                 "nextExecutionTime": "2026-03-02T10:00:00.700Z"}
    gate = ApprovalGate(fields=elsewhere)
    root, engine, s, lines = setup(tmp_path, gate, sched("A"))
    try:
        s.run_once(timeout=WAIT)
        assert s.fired == [] and timing_rows(root) == 0
        assert {k: raw(root, "A")[k] for k in elsewhere} == elsewhere
        [(d, deny)] = s.denied
        assert deny.by == "m9" and d.due_ms == parse_js_iso(DUE)
        s.tick()  # now not due: the gate is not asked again
        assert len(gate.asked) == 1
    finally:
        engine.shutdown(wait=True, cancel=True)


def test_shared_fields_are_adopted_before_deciding(tmp_path):
    shared = Shared({"lastExecutionTime": "2026-03-02T09:00:01.000Z", "lastTaskId": "t-m2",
                     "nextExecutionTime": "2026-03-02T10:00:01.000Z"}, by="m2", slot_ms=parse_js_iso(DUE))
    gate = ApprovalGate(approved={"A"}, shared={"A": shared})
    root, engine, s, lines = setup(tmp_path, gate, sched("A"))
    try:
        s.run_once(timeout=WAIT)
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert s.fired == [] and gate.asked == []  # the slot was run elsewhere: nothing to ask
    assert raw(root, "A")["lastTaskId"] == "t-m2"
    [(d, deny)] = s.denied
    assert deny.reason == f"another machine (m2) claimed the slot {DUE}"
    assert any("another machine (m2) claimed the slot" in line for line in lines)


def test_offered_slot_runs_as_its_attempt(tmp_path):
    due = parse_js_iso("2026-03-02T08:00:00.500Z")
    gate = ApprovalGate(approved={"A"}, offers=[Offer("A", due, 1, "slot re-offered: machine m3 went silent")])
    root, engine, s, lines = setup(tmp_path, gate, sched("A", nextExecutionTime="2026-03-02T10:00:00.500Z"))
    try:
        s.run_once(timeout=WAIT)
    finally:
        engine.shutdown(wait=True, cancel=True)
    [f] = s.fired
    [req] = gate.asked
    assert (req.due_ms, req.attempt, req.task_id) == (due, 1, f.task_id)
    assert f.handle.result(0).status == "completed"
    assert any("fire: slot re-offered: machine m3 went silent" in line for line in lines)


def test_failing_gate_refuses_and_the_loop_goes_on(tmp_path):
    gate = ApprovalGate(fail=True)
    root, engine, s, lines = setup(tmp_path, gate, sched("A"), sched("B"))
    try:
        s.run_once(timeout=WAIT)
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert s.fired == [] and [r.schedule_id for r in gate.asked] == ["A", "B"]
    assert all(deny.retry and "approval service down" in deny.reason for _, deny in s.denied)
    assert raw(root, "A")["nextExecutionTime"] == DUE


def test_rehearsal_never_asks_the_gate(tmp_path):
    gate = ApprovalGate()
    root, engine, s, _ = setup(tmp_path, gate, sched("A"), dry_run=True)
    try:
        s.run_once(timeout=WAIT)
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert gate.asked == [] and len(s.fired) == 1


def test_without_a_gate_nothing_changes(tmp_path):
    root, engine, s, _ = setup(tmp_path, None, sched("A"))
    try:
        s.run_once(timeout=WAIT)
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert len(s.fired) == 1 and s.denied == [] and timing_rows(root) == 2


def test_refused_run_does_not_interrupt_our_running_task(tmp_path):
    gate = ApprovalGate(approved={"A"})
    root = tmp_path / "ws"
    (root / ".roo").mkdir(parents=True)
    (root / ".roo" / "schedules.json").write_text(json.dumps(
        {"schedules": [sched("A"), sched("B", taskInteraction="interrupt")]}, indent=2))
    sleeper = root / "sleeper.py"
    sleeper.write_text("import time; time.sleep(60)\n")
    engine = ThreadExecutor(root, EngineConfig.model_validate({"runner": [PY, str(sleeper)]}))
    t = parse_js_iso(NOW)
    s = Scheduler(root, engine, settings=EngineSettings(), tz=UTC, clock=lambda: t, gate=gate)
    try:
        s.tick()
        [a] = s.fired
        assert [r.schedule_id for r in gate.asked] == ["A", "B"]  # B would interrupt A, but is refused first
        assert not a.handle.token.cancelled and not a.handle.done()
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert a.handle.result(WAIT).status == "cancelled"  # by the shutdown, not by B
    assert a.handle.result(0).task_id == a.task_id and len(s.fired) == 1
