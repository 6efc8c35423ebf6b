"""Every machine's runs: ``timing list --fleet``, ``fleet status``, the workspace's fleet rows, the status bar."""

from __future__ import annotations

import json
import socket
from datetime import UTC

from fleet_setup import FIRST_MS, MINUTE, cli, copies, fleet_init, iso, make_workspace, query, timing_pairs

from orchestrator_gui.engine.config import load_config
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.workspace.runs import Runs, fleet_run_rows


def test_every_machines_runs_are_listed_with_the_machine(tmp_path, fleet_dsn):
    m1, m2 = copies(tmp_path, fleet_dsn, n=2)
    before = cli("-w", str(m1), "fleet", "status")
    assert before.returncode == 1 and "has `orchestrator-gui fleet init` been run?" in before.stderr
    init = cli("-w", str(m1), "fleet", "init", "--json")
    assert init.returncode == 0, init.stderr
    version = json.loads(init.stdout)["schema_version"]
    assert version >= 10  # the loop's tables are migration 0010
    again = cli("-w", str(m2), "fleet", "init")
    assert again.returncode == 0 and f"fleet schema at version {version}" in again.stdout  # idempotent
    for k, (ws, machine) in enumerate([(m1, "m1"), (m2, "m2")]):
        res = cli("-w", str(ws), "run", "--once", "--now", iso(FIRST_MS + k * MINUTE + 500), machine=machine)
        assert res.returncode == 0 and "fired" in res.stdout, res.stderr

    res = cli("-w", str(m1), "timing", "list", "--fleet", "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [(r["machine"], r["event"]) for r in rows] == [("m1", "started"), ("m1", "finished"),
                                                          ("m2", "started"), ("m2", "finished")]
    assert {r["status"] for r in rows if r["event"] == "finished"} == {"completed"}
    text = cli("-w", str(m1), "timing", "list", "--fleet").stdout
    assert text.splitlines()[0].split()[:3] == ["MACHINE", "EVENT", "AT"] and "m2" in text
    # the local log stays this machine's own
    local = json.loads(cli("-w", str(m1), "timing", "list", "--json").stdout)
    assert len(local) == 2 and timing_pairs(m1) == (1, 1)

    runs = fleet_run_rows(m2)
    assert [(r["machine"], r["status"]) for r in runs] == [("m1", "completed"), ("m2", "completed")]
    assert all(r["started"] and r["finished"] and r["duration_s"] is not None for r in runs)

    status = cli("-w", str(m1), "fleet", "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert [m["machine"] for m in report["machines"]] == ["m1", "m2"]
    assert report["running"] == []
    assert [(c["machine"], c["status"]) for c in report["claims"]] == [("m2", "finished"), ("m1", "finished")]
    assert report["database"] == fleet_dsn  # no password in it to hide
    plain = cli("-w", str(m1), "fleet", "status")
    assert "machines" in plain.stdout and "latest claims" in plain.stdout


def test_not_in_fleet_mode_says_so(tmp_path):
    (tmp_path / "ws").mkdir()
    for args in (["fleet", "status"], ["fleet", "init"], ["timing", "list", "--fleet"]):
        res = cli("-w", str(tmp_path / "ws"), *args)
        assert res.returncode == 1 and "not in fleet mode" in res.stderr
    assert fleet_run_rows(tmp_path / "ws") is None


def test_runs_loop_joins_the_fleet_and_reports_its_state(tmp_path, fleet_dsn, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_MACHINE", "gui-box")
    monkeypatch.delenv("ORCHESTRATOR_FLEET_DSN", raising=False)
    ws = make_workspace(tmp_path / "ws", fleet_dsn)
    fleet_init(ws)
    engine = ThreadExecutor(ws, load_config(ws))
    runs = Runs(ws, engine, tz=UTC, clock=lambda: FIRST_MS + 500)
    try:
        runs.run_once(timeout=60)
        state = runs.fleet_state()
        assert state.online and state.message == "fleet: online as gui-box"
        assert query(fleet_dsn, "SELECT machine, status FROM claims") == [("gui-box", "finished")]
    finally:
        engine.shutdown(wait=True, cancel=True)
        runs.close()
    assert runs.fleet is None and runs.fleet_state() is None  # closing leaves the fleet
    # not joining (fleet=False) runs alone whatever the config
    alone = Runs(ws, ThreadExecutor(ws, load_config(ws)), tz=UTC, clock=lambda: FIRST_MS + 500, fleet=False)
    try:
        alone.start_loop()
        # no fleet claim gate: only the approval gate every loop has (engine/approvals.py)
        from orchestrator_gui.engine.approvals import ApprovalGate

        assert alone.fleet is None and isinstance(alone.scheduler.gate, ApprovalGate)
    finally:
        alone.engine.shutdown(wait=True, cancel=True)
        alone.close()


def test_status_bar_says_when_the_database_is_unreachable(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_MACHINE", "gui-box")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ws = make_workspace(tmp_path / "ws", f"postgresql://postgres@127.0.0.1:{port}/none")
    lines: list[str] = []
    engine = ThreadExecutor(ws, load_config(ws))
    runs = Runs(ws, engine, tz=UTC, clock=lambda: FIRST_MS + 500, log=lines.append)
    try:
        runs.run_once(timeout=60)
        state = runs.fleet_state()
    finally:
        engine.shutdown(wait=True, cancel=True)
        runs.close()
    assert not state.online
    assert state.message.startswith("fleet database unreachable (") and 'offline = "pause": due slots wait' in \
        state.message
    assert any("fleet database unreachable" in line for line in lines)
    assert runs.scheduler is None and timing_pairs(ws) == (0, 0)
