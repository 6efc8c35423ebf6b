"""``runs pending/approve/skip`` as real processes on real files.

The waiting run is made by the real scheduler with the approval gate (in this
process); every command under test is a separate ``orchestrator-gui`` process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from orchestrator_gui.engine.approvals import ApprovalGate
from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.scheduler import skipped_updates
from orchestrator_gui.engine.scheduler_loop import Scheduler
from orchestrator_gui.engine.scheduler_settings import EngineSettings
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules

PY = sys.executable
WAIT = 60
NOW = "2026-03-02T09:00:30.000Z"
DUE = "2026-03-02T09:00:00.500Z"
ALL_DAYS = {d: True for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")}


def cli(*args: str) -> subprocess.CompletedProcess:
    res = subprocess.run([PY, "-m", "orchestrator_gui", *args], capture_output=True, text=True, timeout=WAIT)
    assert "Traceback" not in res.stderr, res.stderr
    return res


def sched(sid: str) -> dict:
    return {"id": sid, "name": f"S{sid}", "mode": "architect", "taskInstructions": f"plan {sid}\nthen report",
            "scheduleType": "time", "timeInterval": "1", "timeUnit": "hour", "selectedDays": dict(ALL_DAYS),
            "startDate": "", "startHour": "", "startMinute": "00", "expirationDate": "", "expirationHour": "00",
            "expirationMinute": "00", "requireActivity": False, "active": True, "taskInteraction": "wait",
            "inactivityDelay": "10", "lastExecutionTime": "2026-03-02T08:00:00.500Z", "lastSkippedTime": "",
            "lastTaskId": "", "nextExecutionTime": DUE, "modeDisplayName": "Architect",
            "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}


@pytest.fixture
def waiting(tmp_path) -> tuple[Path, str]:
    """A workspace whose schedule A came due with ``approve = true``: one run waits."""
    root = tmp_path / "ws"
    (root / ".roo").mkdir(parents=True)
    (root / ".orchestrator").mkdir()
    (root / ".roo" / "schedules.json").write_text(json.dumps({"schedules": [sched("A")]}, indent=2))
    (root / ".orchestrator" / "config.toml").write_text('[schedules."A"]\napprove = true\n')
    engine = ThreadExecutor(root, EngineConfig.model_validate({"runner": [PY, "-c", "pass"]}))
    t = parse_js_iso(NOW)
    try:
        s = Scheduler(root, engine, settings=EngineSettings(), tz=UTC, clock=lambda: t, gate=ApprovalGate(root))
        s.run_once(timeout=WAIT)
        assert s.fired == []
    finally:
        engine.shutdown(wait=True, cancel=True)
    ids = [a["id"] for a in json.loads((root / ".orchestrator" / "approvals.json").read_text())["pending"]]
    return root, ids[0]


def test_pending_lists_the_waiting_run_with_instructions_mode_and_reasons(waiting):
    root, aid = waiting
    res = cli("runs", "pending", "--json", "-w", str(root))
    assert res.returncode == 0, res.stderr
    [row] = json.loads(res.stdout)["pending"]
    assert (row["id"], row["subject_id"], row["mode"], row["instructions"], row["state"]) == \
        (aid, "A", "architect", "plan A\nthen report", "pending")
    assert row["reasons"] == ['[schedules."A"] approve = true in .orchestrator/config.toml', f"due at {DUE}"]
    text = cli("runs", "pending", "-w", str(root))
    assert text.returncode == 0 and aid in text.stdout and "plan A" in text.stdout


def test_approve_with_an_instructions_file_keeps_schedules_json(waiting, tmp_path):
    root, aid = waiting
    before = (root / ".roo" / "schedules.json").read_bytes()
    edit = tmp_path / "edit.txt"
    edit.write_text("only the risky part, today\n", encoding="utf-8")
    res = cli("runs", "approve", aid, "--instructions-file", str(edit), "--json", "-w", str(root))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["approval"]["edited"] == "only the risky part, today\n"
    [row] = json.loads(cli("runs", "pending", "--json", "-w", str(root)).stdout)["pending"]
    assert (row["state"], row["edited"]) == ("approved", "only the risky part, today\n")
    assert (root / ".roo" / "schedules.json").read_bytes() == before


def test_skip_writes_roos_skip_fields_and_removes_the_entry(waiting):
    root, aid = waiting
    before = dict(load_schedules(root / ".roo" / "schedules.json").get("A").raw)
    res = cli("runs", "skip", aid, "--now", "2026-03-02T09:10:00Z", "--tz", "UTC", "-w", str(root))
    assert res.returncode == 0, res.stderr
    after = dict(load_schedules(root / ".roo" / "schedules.json").get("A").raw)
    changed = {k: after[k] for k in after if before.get(k) != after[k]}
    assert changed == skipped_updates(before, parse_js_iso("2026-03-02T09:10:00.000Z"), UTC)
    assert changed["lastSkippedTime"] == "2026-03-02T09:10:00.000Z"
    assert json.loads(cli("runs", "pending", "--json", "-w", str(root)).stdout) == {"pending": []}


def test_unknown_id_is_an_error_and_writes_nothing(waiting):
    root, _ = waiting
    path = root / ".orchestrator" / "approvals.json"
    before = path.read_bytes()
    for action in ("approve", "skip"):
        res = cli("runs", action, "s-0000000000", "-w", str(root))
        assert res.returncode == 1 and "error: no run waits for approval under id 's-0000000000'" in res.stderr
    assert path.read_bytes() == before


def test_a_bad_approvals_file_is_file_line_exit_1_and_nothing_written(waiting):
    root, aid = waiting
    path = root / ".orchestrator" / "approvals.json"
    bad = path.read_text().replace('"kind": "schedule"', '"kind": "cron"')
    path.write_text(bad)
    for args in (("pending",), ("approve", aid), ("skip", aid)):
        res = cli("runs", *args, "-w", str(root))
        assert res.returncode == 1
        assert res.stderr.startswith(f"{path}:4: error: kind must be one of schedule, todo, not 'cron'"), res.stderr
    assert path.read_text() == bad
    assert load_schedules(root / ".roo" / "schedules.json").get("A").raw["lastSkippedTime"] == ""


RECORD = "import sys; open(sys.argv[1], 'a', encoding='utf-8').write(sys.argv[2] + '\\n')"


def cron_run(root: Path, now: str) -> dict:
    res = subprocess.run([PY, "-m", "orchestrator_gui", "run", "--once", "--now", now, "--tz", "UTC", "--json",
                          "-w", str(root)], capture_output=True, text=True, timeout=WAIT)
    assert "Traceback" not in res.stderr, res.stderr
    return json.loads(res.stdout)


def test_run_once_waits_for_approval_then_runs_the_edited_text(tmp_path):
    root = tmp_path / "ws"
    (root / ".roo").mkdir(parents=True)
    (root / ".orchestrator").mkdir()
    got = tmp_path / "received.txt"
    (root / ".roo" / "schedules.json").write_text(json.dumps({"schedules": [sched("A")]}, indent=2))
    runner = ", ".join(json.dumps(a) for a in (PY, "-c", RECORD, str(got), "{instructions}"))
    (root / ".orchestrator" / "config.toml").write_text(f'runner = [{runner}]\n[schedules."A"]\napprove = true\n')
    first = cron_run(root, NOW)
    assert first["fired"] == [] and not got.exists() and not (root / "task_timing.tsv").exists()
    assert "waits for approval" in first["not_started"][0]["reason"]
    [row] = json.loads(cli("runs", "pending", "--json", "-w", str(root)).stdout)["pending"]
    assert cli("runs", "approve", row["id"], "--instructions", "edited for today", "-w", str(root)).returncode == 0
    second = cron_run(root, "2026-03-02T09:01:30.000Z")
    assert [f["schedule_id"] for f in second["fired"]] == ["A"]
    assert got.read_text() == "edited for today\n"
    assert load_schedules(root / ".roo" / "schedules.json").get("A").raw["taskInstructions"] == "plan A\nthen report"
