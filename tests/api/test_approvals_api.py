"""Approvals through the API: the same use cases as ``runs pending|approve|skip`` and the Runs panel (issue 15)."""

from __future__ import annotations

import json
import sys
from datetime import UTC

from api_helpers import serve, stop

from orchestrator_gui.engine.approvals import ApprovalGate
from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.scheduler_loop import Scheduler
from orchestrator_gui.engine.scheduler_settings import EngineSettings
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules

DUE = "2026-03-02T09:00:00.500Z"


def _schedule(sid: str) -> dict:
    days = {d: True for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")}
    return {"id": sid, "name": f"S{sid}", "mode": "architect", "taskInstructions": f"plan {sid}",
            "scheduleType": "time", "timeInterval": "1", "timeUnit": "hour", "selectedDays": days,
            "startDate": "", "startHour": "", "startMinute": "00", "expirationDate": "", "expirationHour": "00",
            "expirationMinute": "00", "requireActivity": False, "active": True, "taskInteraction": "wait",
            "inactivityDelay": "10", "lastExecutionTime": "2026-03-02T08:00:00.500Z", "lastSkippedTime": "",
            "lastTaskId": "", "nextExecutionTime": DUE, "modeDisplayName": "Architect",
            "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}


def test_list_approve_with_edited_text_and_skip(tmp_path):
    root = tmp_path / "ws"
    (root / ".roo").mkdir(parents=True)
    (root / ".orchestrator").mkdir()
    (root / ".roo" / "schedules.json").write_text(json.dumps({"schedules": [_schedule("A"), _schedule("B")]}))
    (root / ".orchestrator" / "config.toml").write_text('[schedules."A"]\napprove = true\n'
                                                        '[schedules."B"]\napprove = true\n')
    engine = ThreadExecutor(root, EngineConfig.model_validate({"runner": [sys.executable, "-c", "pass"]}))
    t = parse_js_iso("2026-03-02T09:00:30.000Z")
    try:
        s = Scheduler(root, engine, settings=EngineSettings(), tz=UTC, clock=lambda: t, gate=ApprovalGate(root))
        s.run_once(timeout=60)
        assert s.fired == []  # both wait
    finally:
        engine.shutdown(wait=True, cancel=True)
    before = (root / ".roo" / "schedules.json").read_bytes()
    served = serve(root, engine=False)
    try:
        c = served.client
        pending = c.get("/approvals").json()
        assert sorted(p["subject_id"] for p in pending) == ["A", "B"]
        a = next(p for p in pending if p["subject_id"] == "A")
        b = next(p for p in pending if p["subject_id"] == "B")
        assert (a["mode"], a["instructions"], a["state"]) == ("architect", "plan A", "pending") and a["reasons"]
        r = c.post(f"/approvals/{a['id']}/approve", json={"instructions": "plan A, but shorter"})
        assert r.status_code == 200 and r.json()["state"] == "approved"
        assert r.json()["edited"] == "plan A, but shorter"
        assert (root / ".roo" / "schedules.json").read_bytes() == before  # a one-off edit
        r = c.post(f"/approvals/{b['id']}/skip")
        assert r.status_code == 200
        assert load_schedules(root / ".roo" / "schedules.json").get("B").raw["lastSkippedTime"]
        assert [p["subject_id"] for p in c.get("/approvals").json()] == ["A"]
        assert c.post("/approvals/s-0000000000/approve", json={}).status_code == 404
        assert c.post("/approvals/not-an-id/skip").status_code == 422
    finally:
        stop(served)
