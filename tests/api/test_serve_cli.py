"""``orchestrator-gui serve`` as a user starts it: a real process, its URL on stderr, Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest

TOKEN = "serve-" + "s" * 40


def _env(tmp_path) -> dict[str, str]:
    return {**os.environ, "ORCHESTRATOR_API_TOKEN": TOKEN, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_runs_until_interrupted(workspace, tmp_path, stop):
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator_gui", "serve", "-w", str(workspace), "--port", "0",
                             "--init"], env=_env(tmp_path), stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # blocks until the server says where it listens (or exits)
        assert line.startswith("serving "), line + proc.stderr.read()
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:") and TOKEN not in line
        status = httpx.get(url + "/status", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert status.status_code == 200 and status.json()["workspace"] == str(workspace.resolve())
        assert status.json()["engine"] and status.json()["store"]
        proc.send_signal(stop)
        assert proc.wait(60) == 0  # stopped gracefully, the workspace closed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stdout.read() == ""  # nothing on stdout: scripts read the token with --show-token only
    from orchestrator_gui.store import GraphStore

    with GraphStore.open_workspace(workspace, readonly=True) as store:  # closed cleanly: opens without damage
        assert store.problems == [] and store.graph.number_of_nodes() > 0


def _serve_status(root, tmp_path, *extra: str) -> tuple[list[str], dict]:
    """Start ``serve`` on ``root``, read its stderr up to the ``serving`` line, ask /status, stop it."""
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator_gui", "serve", "-w", str(root), "--port", "0", *extra],
                            env=_env(tmp_path), stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stderr.readline()]
        while lines[-1] and not lines[-1].startswith("serving "):
            lines.append(proc.stderr.readline())
        assert lines[-1].startswith("serving "), "".join(lines) + proc.stderr.read()
        url = lines[-1].split(" on ", 1)[1].split(" ", 1)[0]
        status = httpx.get(url + "/status", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).json()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return lines, status


def test_serve_keeps_a_workspace_without_orchestrator_folder_in_memory(workspace, tmp_path):
    lines, status = _serve_status(workspace, tmp_path)
    assert "has no .orchestrator/ folder" in lines[0] and "--init" in lines[0]
    assert status["nodes"] > 0 and not status["store"]
    assert not (workspace / ".orchestrator").exists()  # nothing written beside the files, unasked


def test_serve_uses_the_store_of_a_workspace_that_has_one(workspace, tmp_path):
    (workspace / ".orchestrator").mkdir()  # set up for this app before (e.g. by the desktop app, with consent)
    lines, status = _serve_status(workspace, tmp_path)
    assert len(lines) == 1 and status["store"]
    assert (workspace / ".orchestrator" / "graph.db").is_file()


@pytest.mark.parametrize("command", ["serve", "mcp"])
def test_a_plain_folder_is_refused_without_init(tmp_path, command):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("not a workspace\n")
    port = ["--port", "0"] if command == "serve" else []
    out = subprocess.run([sys.executable, "-m", "orchestrator_gui", command, "-w", str(plain), *port],
                         env=_env(tmp_path), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 1, out.stderr
    assert "is not an agent-loop workspace" in out.stderr and "--init" in out.stderr
    assert sorted(p.name for p in plain.iterdir()) == ["notes.txt"]  # no .orchestrator/ written


def test_init_creates_the_store_in_a_plain_folder(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    _lines, status = _serve_status(plain, tmp_path, "--init")
    assert status["store"] and (plain / ".orchestrator" / "graph.db").is_file()


def test_serve_on_a_busy_port_changes_nothing(workspace, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "orchestrator_gui", "serve", "-w", str(workspace), "--port",
                              str(port)], env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in out.stderr
    assert not (workspace / ".orchestrator").exists()


def test_the_api_loads_no_qt():
    code = ("import sys, json, orchestrator_gui.api.app, orchestrator_gui.api.mcp_server, orchestrator_gui.cli.cmd_serve, "
            "orchestrator_gui.workspace.live_host; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'vispy'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout) == []
