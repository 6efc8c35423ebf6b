"""Runs that need approval, through the real scheduler, engine and runner process (no mocks).

A schedule with ``approve = true`` must not start when due, wait in ``.orchestrator/approvals.json``,
start once approved (with a one-off edit when given) and never touch ``taskInstructions``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC
from pathlib import Path

import pytest

from orchestrator_gui.engine.approvals import ApprovalGate, load_approvals, parse_approvals
from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.gate_chain import CompositeGate, chain_gates
from orchestrator_gui.engine.scheduler import Allow, Deny, StartRequest, skipped_updates
from orchestrator_gui.engine.scheduler_loop import Scheduler
from orchestrator_gui.engine.scheduler_settings import EngineSettings
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.timing import load_timing
from orchestrator_gui.problems import FormatError
from orchestrator_gui.workspace import approvals as desk

PY = sys.executable
NOW = "2026-03-02T09:00:30.000Z"
DUE = "2026-03-02T09:00:00.500Z"
ALL_DAYS = {d: True for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")}
WAIT = 20
# The runner appends the instructions it was given to a file: what the agent really received.
RECORD = "import sys; open(sys.argv[1], 'a', encoding='utf-8').write(sys.argv[2] + '\\n')"


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


def workspace(tmp_path: Path, *schedules: dict, config: str = '[schedules."A"]\napprove = true\n') -> Path:
    root = tmp_path / "ws"
    (root / ".roo").mkdir(parents=True)
    (root / ".orchestrator").mkdir()
    (root / ".roo" / "schedules.json").write_text(json.dumps({"schedules": list(schedules)}, indent=2))
    (root / ".orchestrator" / "config.toml").write_text(config)
    return root


def loop(root: Path, gate, now: str = NOW):
    got = root.parent / "received.txt"
    engine = ThreadExecutor(root, EngineConfig.model_validate({"runner": [PY, "-c", RECORD, str(got),
                                                                          "{instructions}"]}))
    t = parse_js_iso(now)
    s = Scheduler(root, gate.engine(engine) if isinstance(gate, ApprovalGate) else engine, settings=EngineSettings(),
                  tz=UTC, clock=lambda: t, gate=gate)
    return engine, s, got


def raw(root: Path, sid: str) -> dict:
    return dict(load_schedules(root / ".roo" / "schedules.json").get(sid).raw)


def timing_rows(root: Path) -> int:
    path = root / "task_timing.tsv"
    return len(load_timing(path).data_rows()) if path.exists() else 0


def test_a_run_that_needs_approval_waits_then_starts_when_approved(tmp_path):
    root = workspace(tmp_path, sched("A"), sched("B"))
    before = raw(root, "A")
    gate = ApprovalGate(root)
    engine, s, got = loop(root, gate)
    try:
        s.run_once(timeout=WAIT)
        s.tick()  # due again at the next tick: still waiting, still one entry
        assert [f.schedule_id for f in s.fired] == ["B"]  # B needs no approval
        assert raw(root, "A") == before  # nothing written: the slot stays armed
        assert got.read_text().splitlines() == ["do B"] and timing_rows(root) == 2
        [entry] = desk.pending(root)
        assert (entry.kind, entry.subject_id, entry.name, entry.mode, entry.instructions, entry.state) == \
            ("schedule", "A", "SA", "code", "do A", "pending")
        assert entry.reasons[0] == '[schedules."A"] approve = true in .orchestrator/config.toml'
        assert entry.due == DUE
        desk.approve(root, entry.id)
        s.run_once(timeout=WAIT)
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert [f.schedule_id for f in s.fired] == ["B", "A"]
    assert got.read_text().splitlines() == ["do B", "do A"] and timing_rows(root) == 4
    assert raw(root, "A")["lastTaskId"] == s.fired[1].task_id  # Roo's start write-back, as for any run
    assert desk.pending(root) == []  # the approval was used up


def test_edit_then_approve_runs_the_edited_text_and_keeps_schedules_json(tmp_path):
    root = workspace(tmp_path, sched("A", taskInstructions="original text"))
    gate = ApprovalGate(root)
    engine, s, got = loop(root, gate)
    try:
        s.run_once(timeout=WAIT)
        [entry] = desk.pending(root)
        desk.approve(root, entry.id, instructions="edited once\nsecond line")
        s.run_once(timeout=WAIT)
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert got.read_text() == "edited once\nsecond line\n"  # what the runner process received
    assert raw(root, "A")["taskInstructions"] == "original text"


def test_skip_writes_last_skipped_time_like_roo_and_nothing_else(tmp_path):
    root = workspace(tmp_path, sched("A"))
    gate = ApprovalGate(root)
    engine, s, got = loop(root, gate)
    try:
        s.run_once(timeout=WAIT)
        before = raw(root, "A")
        [entry] = desk.pending(root)
        skip_at = parse_js_iso("2026-03-02T09:05:00.250Z")
        desk.skip(root, entry.id, now=skip_at, tz=UTC)
        after = raw(root, "A")
        s.run_once(timeout=WAIT)  # re-armed: nothing is due any more
    finally:
        engine.shutdown(wait=True, cancel=True)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {"lastSkippedTime", "nextExecutionTime"}
    assert after["lastSkippedTime"] == "2026-03-02T09:05:00.250Z"
    # exactly what the scheduler writes for Roo's taskInteraction "skip" at that instant
    assert {k: after[k] for k in changed} == skipped_updates(before, skip_at, UTC)
    assert s.fired == [] and not got.exists() and desk.pending(root) == []


def test_resume_of_an_escalated_schedule_waits_for_approval(tmp_path):
    from datetime import datetime

    from orchestrator_gui.engine.failures import FailureTracker
    from orchestrator_gui.engine.tasks import RunResult

    root = workspace(tmp_path, sched("A"), config="")  # no approve key: only the resume asks
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for k in range(3):
        FailureTracker(root).record(RunResult(task_id=f"f{k}", kind="schedule", subject_id="A", title="t",
                                              status="failed", exit_code=1, started_at=t0, ended_at=t0,
                                              duration_s=1.0))
    assert desk.resume(root, "A") is True
    gate = ApprovalGate(root)
    engine, s, got = loop(root, gate)
    try:
        s.run_once(timeout=WAIT)
        assert s.fired == []
        [entry] = desk.pending(root)
        assert "resumed after escalation" in entry.reasons[0]
        desk.approve(root, entry.id)
        s.run_once(timeout=WAIT)
        s.tick()
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert [f.schedule_id for f in s.fired] == ["A"]
    assert load_approvals(root).holds == []  # one approval: later runs start by themselves again


class _Recorder:
    """A second real gate: records what it was asked and answers as told."""

    def __init__(self, answer):
        self.answer, self.asked, self.finished = answer, [], []

    def sync(self, ids):
        return {}

    def before_start(self, r):
        self.asked.append(r.schedule_id)
        return self.answer

    def after_finish(self, r, res):
        self.finished.append(r.schedule_id)

    def offers(self, now):
        return []


def test_composite_gate_asks_in_order_and_stops_at_the_first_refusal():
    req = StartRequest("A", "SA", 1, "t1", 2)
    first, second = _Recorder(Deny("wait")), _Recorder(Allow("ok"))
    assert CompositeGate([first, second]).before_start(req) == Deny("wait") and second.asked == []
    first.answer = Allow("a")
    both = CompositeGate([first, None, second])
    assert both.before_start(req) == Allow("a; ok")
    both.after_finish(req, None)
    assert first.finished == second.finished == ["A"]
    assert chain_gates(None, first) is first and chain_gates(None, None) is None


@pytest.mark.parametrize(("text", "line", "words"), [
    ('{\n  "version": 1,\n  "pending": [\n    {"id": "s-0123456789", "kind": "cron"}\n  ]\n}\n', 4, "kind"),
    ('{\n  "pending": [\n  ]\n  "holds": []\n}\n', 4, ""),
    ('{"pending": 3}', 1, "'pending' must be a list"),
    ('{\n"pending": [{"id": "x", "kind": "schedule", "subject_id": "A", "name": "n", "mode": "m",\n'
     '"instructions": "i", "requested": "r", "state": "pending"}]}', 2, "not an approval id"),
])
def test_a_bad_approvals_file_is_a_file_line_error(tmp_path, text, line, words):
    path = tmp_path / "approvals.json"
    with pytest.raises(FormatError) as err:
        parse_approvals(text.encode(), path)
    assert err.value.file == str(path) and err.value.line == line and words in err.value.message


def test_limits_refuse_oversized_files_and_texts(tmp_path):
    path = tmp_path / "approvals.json"
    with pytest.raises(FormatError, match="larger than"):
        parse_approvals(b" " * (4 * 1024 * 1024 + 1), path)
    entry = {"id": "s-0123456789", "kind": "schedule", "subject_id": "A", "name": "n", "mode": "m",
             "instructions": "x" * 200_001, "requested": "r", "state": "pending"}
    with pytest.raises(FormatError, match="longer than 200000"):
        parse_approvals(json.dumps({"pending": [entry]}).encode(), path)


def test_a_bad_approvals_file_starts_nothing_and_says_where(tmp_path):
    # Fail closed: the file may hold a resume's hold, so no run starts until it is fixed.
    root = workspace(tmp_path, sched("A"), sched("B"))
    path = root / ".orchestrator" / "approvals.json"
    path.write_text('{\n  "pending": [\n    {"kind": "cron"}\n  ]\n}\n')
    engine, s, got = loop(root, ApprovalGate(root))
    try:
        s.run_once(timeout=WAIT)
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert s.fired == [] and not got.exists()
    reasons = {d.schedule_id: deny.reason for d, deny in s.denied}
    assert set(reasons) == {"A", "B"}
    assert f"{path}:3: error: kind must be one of schedule, todo, not 'cron'" in reasons["A"]
    assert path.read_text() == '{\n  "pending": [\n    {"kind": "cron"}\n  ]\n}\n'  # nothing written
