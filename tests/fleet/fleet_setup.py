"""Helpers of the fleet tests: workspace copies on one database, CLI processes, database queries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

PY = sys.executable
ALL_DAYS = {d: True for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")}
#: The first slot of the 1-minute schedule (a Monday morning, UTC).
FIRST_SLOT = "2026-03-02T09:01:00.000Z"
FIRST_MS = 1772442060000
MINUTE = 60_000
SID = "1761981872582"


def iso(ms: int) -> str:
    from orchestrator_gui.formats.nextrun import iso_ms

    return iso_ms(ms)


def schedule(**kw: Any) -> dict:
    s = {"id": SID, "name": "every minute", "mode": "code", "taskInstructions": "tick", "scheduleType": "time",
         "timeInterval": "1", "timeUnit": "minute", "selectedDays": dict(ALL_DAYS), "startDate": "",
         "startHour": "", "startMinute": "00", "expirationDate": "", "expirationHour": "00",
         "expirationMinute": "00", "requireActivity": False, "active": True, "taskInteraction": "wait",
         "inactivityDelay": "10", "lastExecutionTime": "2026-03-02T09:00:00.000Z", "lastSkippedTime": "",
         "lastTaskId": "", "nextExecutionTime": FIRST_SLOT, "modeDisplayName": "Code",
         "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}
    s.update(kw)
    return s


def make_workspace(root: Path, dsn: str, *, runner: list[str] | None = None, fleet_extra: str = "",
                   extra: str = "", scheduler_extra: str = "") -> Path:
    """A workspace with the 1-minute schedule and ``[fleet]`` on ``dsn``."""
    (root / ".roo").mkdir(parents=True)
    (root / ".roo" / "schedules.json").write_text(json.dumps({"schedules": [schedule()]}, indent=2),
                                                  encoding="utf-8")
    (root / ".orchestrator").mkdir()
    runner = runner or [PY, "-c", "pass"]
    (root / ".orchestrator" / "config.toml").write_text(
        f"runner = {json.dumps(runner)}\n{extra}\n[scheduler]\ntick_s = 0.2\n{scheduler_extra}\n"
        f"[fleet]\ndatabase = {json.dumps(dsn)}\nheartbeat_s = 0.5\n{fleet_extra}", encoding="utf-8")
    return root


def copies(base: Path, dsn: str, n: int = 3, **kw: Any) -> list[Path]:
    first = make_workspace(base / "m1", dsn, **kw)
    out = [first]
    for i in range(2, n + 1):
        out.append(Path(shutil.copytree(first, base / f"m{i}")))
    return out


def env_for(machine: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRATOR_")}
    env["ORCHESTRATOR_MACHINE"] = machine
    return env


def cli(*args: str, machine: str = "m1", timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "orchestrator_gui", *args], capture_output=True, text=True,
                          timeout=timeout, env=env_for(machine))


def fleet_init(ws: Path) -> None:
    res = cli("-w", str(ws), "fleet", "init")
    assert res.returncode == 0, res.stderr


def query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def runtime_fields(ws: Path) -> dict[str, Any]:
    from orchestrator_gui.formats.schedules import load_schedules

    raw = load_schedules(ws / ".roo" / "schedules.json").get(SID).raw
    return {k: raw.get(k) for k in ("lastExecutionTime", "lastTaskId", "lastSkippedTime", "nextExecutionTime",
                                    "active")}


def timing_pairs(ws: Path) -> tuple[int, int]:
    """(started rows, finished rows) of the workspace's task_timing.tsv."""
    from orchestrator_gui.formats.timing import load_timing

    path = ws / "task_timing.tsv"
    if not path.exists():
        return 0, 0
    rows = load_timing(path).data_rows()
    finished = sum(1 for r in rows if r.end_time)
    return len(rows) - finished, finished
