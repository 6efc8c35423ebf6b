"""``[fleet]`` settings: FILE:LINE errors, ranges, the environment, and passwords refused and never printed."""

from __future__ import annotations

import json
import socket

import pytest
from fleet_setup import FIRST_SLOT, cli, make_workspace, runtime_fields

from orchestrator_gui.engine.fleet_config import dsn_has_password, fleet_settings, redact_dsn
from orchestrator_gui.problems import FormatError

SECRET = "s3cr3t-Pa55"


def _config(tmp_path, body: str):
    ws = make_workspace(tmp_path / "ws", "postgresql://postgres@127.0.0.1:1/x")
    cfg = ws / ".orchestrator" / "config.toml"
    cfg.write_text(f'runner = ["true"]\n\n[fleet]\n{body}', encoding="utf-8")
    return ws, cfg


@pytest.mark.parametrize("body, line", [
    (f'database = "postgresql://loop:{SECRET}@db.example/loop"\n', 4),
    (f'database = "postgresql://db.example/loop?sslmode=require&password={SECRET}"\n', 4),
    (f'database = "host=db.example user=loop password=\'{SECRET}\'"\n', 4),
    (f'database = "postgresql://loop@db.example/loop"\npassword = "{SECRET}"\n', 3),
])
def test_password_in_config_is_refused_and_never_printed(tmp_path, body, line):
    ws, cfg = _config(tmp_path, body)
    before = (ws / ".roo" / "schedules.json").read_bytes()
    for args in (["fleet", "status"], ["fleet", "init"], ["run", "--once", "--now", "2026-03-02T09:01:00.500Z"],
                 ["timing", "list", "--fleet"], ["check"]):
        res = cli("-w", str(ws), *args)
        assert res.returncode == 1, (args, res.stdout, res.stderr)
        assert SECRET not in res.stdout + res.stderr, args
        assert f"{cfg}:{line}: error: fleet" in res.stdout + res.stderr, (args, res.stdout, res.stderr)
        assert "a password may not be stored in config.toml" in res.stdout + res.stderr
    # nothing ran and nothing was written
    assert (ws / ".roo" / "schedules.json").read_bytes() == before
    assert runtime_fields(ws)["nextExecutionTime"] == FIRST_SLOT
    assert not (ws / "task_timing.tsv").exists()


@pytest.mark.parametrize("body, line, message", [
    ('database = "postgresql://h/d"\ndead_after_s = 1\n', 5, "fleet.dead_after_s: Input should be greater than or equal to 5"),
    ('database = "postgresql://h/d"\nheartbeat_s = 61\n', 5, "fleet.heartbeat_s: Input should be less than or equal to 60"),
    ('database = "postgresql://h/d"\noffline = "sometimes"\n', 5, "fleet.offline: Input should be 'pause' or 'local'"),
    ('database = "postgresql://h/d"\nmachine = "no spaces please"\n', 5, "fleet.machine: a machine name is"),
    ('machine = "m1"\n', 3, "fleet: no database"),
    ('database = "postgresql://h/d"\nheartbeat_s = 30\ndead_after_s = 40\n', 3,
     "fleet: dead_after_s (40) must be at least twice heartbeat_s (30)"),
])
def test_bad_fleet_values_are_file_line_errors(tmp_path, monkeypatch, body, line, message):
    monkeypatch.delenv("ORCHESTRATOR_FLEET_DSN", raising=False)
    ws, cfg = _config(tmp_path, body)
    with pytest.raises(FormatError) as err:
        fleet_settings(ws)
    assert str(err.value).startswith(f"{cfg}:{line}: error: {message}")
    res = cli("-w", str(ws), "fleet", "status")
    assert res.returncode == 1 and f"{cfg}:{line}: error: {message}" in res.stderr


def test_settings_from_file_and_environment(tmp_path):
    ws, _cfg = _config(tmp_path, 'database = "postgresql://loop@db/loop"\nmachine = "box-1"\ndead_after_s = 30\n'
                                 'heartbeat_s = 2\noffline = "local"\n')
    s = fleet_settings(ws, {})
    assert (s.dsn, s.machine, s.dead_after_s, s.heartbeat_s, s.offline) == \
        ("postgresql://loop@db/loop", "box-1", 30.0, 2.0, "local")
    s = fleet_settings(ws, {"ORCHESTRATOR_FLEET_DSN": "postgresql://other@db2/x", "ORCHESTRATOR_MACHINE": "m7"})
    assert (s.dsn, s.machine, s.dead_after_s) == ("postgresql://other@db2/x", "m7", 30.0)
    with pytest.raises(FormatError, match="ORCHESTRATOR_MACHINE: error: 'a b' is not a machine name"):
        fleet_settings(ws, {"ORCHESTRATOR_MACHINE": "a b"})
    # without [fleet] and without the variable: fleet mode is off, nothing changes
    plain = tmp_path / "plain"
    plain.mkdir()
    assert fleet_settings(plain, {}) is None
    s = fleet_settings(plain, {"ORCHESTRATOR_FLEET_DSN": "postgresql://a@b/c"})
    assert s is not None and s.machine == fleet_settings(plain, {"ORCHESTRATOR_FLEET_DSN": "x=1"}).machine
    assert s.machine  # the host name by default
    assert s.offline == "pause" and s.dead_after_s == 60 and s.heartbeat_s == 5


def test_password_from_the_environment_is_never_printed(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dsn = f"postgresql://loop:{SECRET}@127.0.0.1:{port}/loop"
    plain = tmp_path / "plain"
    plain.mkdir()
    import subprocess

    from fleet_setup import PY, env_for

    env = {**env_for("m1"), "ORCHESTRATOR_FLEET_DSN": dsn}
    for args in (["fleet", "status"], ["fleet", "status", "--json"], ["fleet", "init"]):
        res = subprocess.run([PY, "-m", "orchestrator_gui", "-w", str(plain), *args], capture_output=True,
                             text=True, timeout=60, env=env)
        assert res.returncode == 1
        assert SECRET not in res.stdout + res.stderr
        assert f"postgresql://loop:***@127.0.0.1:{port}/loop" in res.stderr
    s = fleet_settings(plain, {"ORCHESTRATOR_FLEET_DSN": dsn})
    assert SECRET not in repr(s) and SECRET not in str(s)
    assert json.dumps(s.shown_dsn).count("***") == 1


@pytest.mark.parametrize("dsn, shown", [
    ("postgresql://u:p@w@h:5/db?sslmode=require", "postgresql://u:***@h:5/db?sslmode=require"),
    ("postgresql://h/db?password=x&a=1", "postgresql://h/db?password=***&a=1"),
    ("host=h password='a b' user=u", "host=h password=*** user=u"),
    ("postgres://u:@h/d", "postgres://u:***@h/d"),
])
def test_redaction(dsn, shown):
    assert dsn_has_password(dsn)
    assert redact_dsn(dsn) == shown


@pytest.mark.parametrize("dsn", ["postgresql://u@h/db", "host=h user=u sslmode=verify-full", "postgresql:///db"])
def test_no_password(dsn):
    assert not dsn_has_password(dsn)
    assert redact_dsn(dsn) == dsn
