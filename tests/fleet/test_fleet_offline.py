"""Offline tolerance: the database unreachable. ``offline = "pause"`` fires nothing (and claims the slot when the
database is back); ``offline = "local"`` fires on this machine alone and records the run when it is back."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest
from fleet_setup import (
    FIRST_MS,
    FIRST_SLOT,
    PY,
    SID,
    copies,
    env_for,
    fleet_init,
    make_workspace,
    query,
    runtime_fields,
    timing_pairs,
)
from polling import until as wait_for
from test_fleet_engines import set_clock, start_engines, stop_engines


def _dead_dsn() -> str:
    with socket.socket() as s:  # a port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/nowhere"


def _refused(dsn: str) -> bool:
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.OperationalError:
        return True
    return False


def _once(ws, machine="m1") -> tuple[dict, str]:
    res = subprocess.run([PY, "-m", "orchestrator_gui", "-w", str(ws), "run", "--once", "--now",
                          "2026-03-02T09:01:00.500Z", "--json"], capture_output=True, text=True, timeout=120,
                         env=env_for(machine))
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout), res.stderr


def test_unreachable_database_pause_fires_nothing(tmp_path):
    ws = make_workspace(tmp_path / "ws", _dead_dsn())
    before = (ws / ".roo" / "schedules.json").read_bytes()
    summary, err = _once(ws)
    assert summary["fired"] == []
    [held] = summary["not_started"]
    assert "fleet database unreachable" in held["reason"] and 'offline = "pause"' in held["reason"]
    assert held["retry"] is True and held["claimed_by"] is None
    assert summary["fleet"]["online"] is False and "working locally" in summary["fleet"]["message"]
    assert "fleet database unreachable" in err  # the log says so
    assert (ws / ".roo" / "schedules.json").read_bytes() == before  # the slot stays armed
    assert timing_pairs(ws) == (0, 0)


def test_unreachable_database_local_fires_on_this_machine(tmp_path):
    ws = make_workspace(tmp_path / "ws", _dead_dsn(), fleet_extra='offline = "local"\n')
    summary, err = _once(ws)
    [fired] = summary["fired"]
    assert fired["result"]["status"] == "completed"
    assert "fired on this machine alone" in err
    assert timing_pairs(ws) == (1, 1)
    assert runtime_fields(ws)["lastTaskId"] == fired["task_id"]
    assert runtime_fields(ws)["nextExecutionTime"] != FIRST_SLOT


@pytest.mark.parametrize("policy", ["pause", "local"])
def test_partition_then_back(tmp_path, fleet_dsn, postgres, policy):
    [ws] = copies(tmp_path, fleet_dsn, n=1, fleet_extra=f'offline = "{policy}"\n')
    fleet_init(ws)
    clock = tmp_path / "clock"
    set_clock(clock, FIRST_MS - 30_000)
    procs = start_engines([ws], clock)
    log = ws / ".orchestrator" / "scheduler.log"
    try:
        wait_for(lambda: query(fleet_dsn, "SELECT 1 FROM machines"), 60, "the heartbeat")
        postgres.stop()
        assert _refused(fleet_dsn)  # really partitioned
        try:
            set_clock(clock, FIRST_MS + 500)
            if policy == "pause":
                wait_for(lambda: log.exists() and "not fired (asked again when the database is back)"
                         in log.read_text(), 60, "the paused slot in the log")
                assert timing_pairs(ws) == (0, 0)
            else:
                wait_for(lambda: timing_pairs(ws) == (1, 1), 60, "the local run")
                assert "fired on this machine alone" in log.read_text()
        finally:
            postgres.start()
        # back online: the paused slot is claimed and run; the local run is recorded in the fleet
        rows = wait_for(lambda: query(fleet_dsn, "SELECT machine, status FROM claims WHERE schedule_id = %s "
                                      "AND due_ms = %s AND status = 'finished'", (SID, FIRST_MS)),
                        60, "the slot's claim")
        assert rows == [("m1", "finished")]
        wait_for(lambda: len(query(fleet_dsn, "SELECT 1 FROM runs")) == 2, 30, "the run's rows")
        assert timing_pairs(ws) == (1, 1)
        assert "fleet database reachable again" in log.read_text()
    finally:
        stop_engines(procs)


def test_run_once_offline_local_is_recorded_by_the_next_run(tmp_path, fleet_dsn, postgres):
    """A ``run --once`` fires alone while the database is down; the next one records it (the journal on disk)."""
    [ws] = copies(tmp_path, fleet_dsn, n=1, fleet_extra='offline = "local"\n')
    fleet_init(ws)
    postgres.stop()
    try:
        assert _refused(fleet_dsn)
        summary, err = _once(ws)
        [fired] = summary["fired"]
        assert "fired on this machine alone" in err
        journals = sorted(p.name for p in (ws / ".orchestrator").glob("fleet-*.jsonl"))
        assert journals == ["fleet-claims.jsonl", "fleet-runs.jsonl"]
    finally:
        postgres.start()
    later = subprocess.run([PY, "-m", "orchestrator_gui", "-w", str(ws), "run", "--once", "--now",
                            "2026-03-02T09:01:30.000Z", "--json"], capture_output=True, text=True, timeout=120,
                           env=env_for("m1"))
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["fired"] == []  # nothing due: the slot ran already
    assert "run while offline recorded in the fleet (finished)" in later.stderr
    assert query(fleet_dsn, "SELECT machine, task_id, status FROM claims") == [("m1", fired["task_id"], "finished")]
    rows = query(fleet_dsn, "SELECT machine, task_id, event FROM runs ORDER BY id")
    assert rows == [("m1", fired["task_id"], "started"), ("m1", fired["task_id"], "finished")]
    assert not list((ws / ".orchestrator").glob("fleet-*.jsonl"))  # replayed, then emptied
    shared = query(fleet_dsn, "SELECT fields->>'lastTaskId' FROM schedule_records")
    assert shared == [(fired["task_id"],)]
