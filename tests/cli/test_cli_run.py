"""``orchestrator-gui run``: a real end-to-end ``--once``, TODO tasks, and a clean SIGTERM/SIGINT shutdown."""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import os
import select
import signal
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.scheduler import started_updates
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.timing import load_timing
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.model.identity import run_node_id, schedule_node_id, todo_node_id
from orchestrator_gui.model.nodes import EdgeType, NodeStatus
from orchestrator_gui.store import GraphStore

PY = sys.executable
EXE = str(Path(sys.executable).with_name("orchestrator-gui"))
NOW = "2026-03-02T09:00:30.000Z"
WAIT = 60
INSTRUCTIONS = ('Say "hi" \'there\' $(touch pwned) `id` ${HOME} $HOME \\ C:\\tmp\\n; rm -rf / | cat > x &\n'
                "second line\twith a tab → 日本語 🚀 {mode} {task_id} %s\n\n")
RECORDER = """
import os, sys
with open(os.path.join(os.environ["ORCHESTRATOR_WORKSPACE"], "argv.hex"), "w") as f:
    for a in sys.argv[1:]:
        f.write(os.fsencode(a).hex() + "\\n")
print("recorded", len(sys.argv) - 1, "arguments")
sys.exit(int(os.environ.get("EXIT", "0")))
"""
SLEEPER = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(sys.argv[1], "w") as f:
    f.write(f"{os.getpid()} {child.pid}\\n")
time.sleep(60)
"""


def toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string of a plain path is a valid TOML basic string


def make_ws(tmp_path: Path, runner: list[str] | None, extra: str = "") -> Path:
    ws = tmp_path / "ws"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(ws)]) == 0
    cfg = ws / ".orchestrator" / "config.toml"
    cfg.parent.mkdir(exist_ok=True)
    text = f"runner = [{', '.join(toml_str(a) for a in runner)}]\n" if runner else ""
    cfg.write_text(text + extra, encoding="utf-8")
    return ws


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def recorded_argv(ws: Path) -> list[str]:
    return [os.fsdecode(bytes.fromhex(h)) for h in (ws / "argv.hex").read_text().split()]


def cli(*args: str, timeout: float = WAIT) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=timeout)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_dead(pid: int, timeout: float = 10.0) -> bool:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


# -- the end-to-end run ---------------------------------------------------------------------------
def test_run_once_end_to_end_with_a_real_runner(tmp_path):
    rec = script(tmp_path, "rec.py", RECORDER)
    ws = make_ws(tmp_path, [PY, rec, "{instructions}", "--mode", "{mode}", "{task_id}"])
    assert main(["graph", "build", "-w", str(ws)]) == 0
    path = ws / ".roo" / "schedules.json"
    doc = load_schedules(path)
    sid = doc.schedules[0].id
    doc.set_values(sid, {"taskInstructions": INSTRUCTIONS, "nextExecutionTime": "2026-03-02T09:00:00.000Z"})
    doc.save()
    before = path.read_bytes()

    res = cli("run", "--once", "--now", NOW, "--tz", "UTC", "--json", "-w", str(ws))
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert "fire: due at 2026-03-02T09:00:00.000Z" in res.stderr  # progress on stderr
    summary = json.loads(res.stdout)
    assert summary["dry_run"] is False and summary["problems"] == []
    [fired] = summary["fired"]
    task_id = fired["task_id"]
    assert fired["schedule_id"] == sid and fired["result"]["status"] == "completed"

    # the runner got the instructions byte-exact, as one argument, never interpreted
    assert recorded_argv(ws) == [INSTRUCTIONS, "--mode", "code", task_id]
    assert not (ws / "pwned").exists()

    # two timing rows, same task id, priority schedule
    rows = [r for r in load_timing(ws / "task_timing.tsv").rows[1:] if r.task_id == task_id]
    assert [(r.status, r.priority) for r in rows] == [("started", "schedule"), ("completed", "schedule")]

    # schedules.json: only the three runtime values changed, updatedAt untouched
    after = path.read_bytes()
    changed = [ln for ln in difflib.ndiff(before.decode().split("\n"), after.decode().split("\n")) if ln[:1] in "+-"]
    assert sorted(ln.split('"')[1] for ln in changed if ln[0] == "+") == \
        ["lastExecutionTime", "lastTaskId", "nextExecutionTime"]
    assert len(before.split(b"\n")) == len(after.split(b"\n"))
    raw = load_schedules(path).get(sid).raw
    expected = started_updates(doc.get(sid).raw, parse_js_iso(NOW), task_id, UTC)
    assert {k: raw[k] for k in expected} == expected
    assert raw["lastExecutionTime"] == NOW and raw["nextExecutionTime"] == "2026-03-02T10:00:00.000Z"
    assert raw["updatedAt"] == doc.get(sid).raw["updatedAt"]

    # the run log exists and holds the runner's output
    log = Path(fired["result"]["log_path"])
    assert log == ws / ".orchestrator" / "runs" / f"{task_id}.log"
    text = log.read_text()
    assert "recorded 4 arguments" in text and "# finished: completed, exit 0" in text

    # the graph got a run node linked to its schedule, with status, duration and log
    with GraphStore.open_workspace(ws, readonly=True) as store:
        node = store.graph.node(run_node_id(task_id))
        assert node.status is NodeStatus.DONE
        assert node.metadata["log"] == f".orchestrator/runs/{task_id}.log"
        assert node.metadata["duration_s"] >= 0 and node.metadata["exit_code"] == 0
        assert store.graph.has_edge(run_node_id(task_id), schedule_node_id(sid), EdgeType.SCHEDULED_BY)


def test_run_once_with_nothing_due_arms_the_schedule_and_says_so(tmp_path, capsys):
    # (Without a runner the whole invocation is a dry run and arms nothing: tests/cli/test_cli_dry_run.py.)
    ws = make_ws(tmp_path, [PY, "-c", "pass"])
    assert main(["run", "--once", "--now", NOW, "--tz", "UTC", "-w", str(ws)]) == 0
    out, err = capsys.readouterr()
    assert "nothing was due" in out
    raw = load_schedules(ws / ".roo" / "schedules.json").schedules[0].raw
    assert raw["nextExecutionTime"] == "2026-03-02T10:00:00.000Z" and raw["lastExecutionTime"] == ""


def test_dry_run_flag_starts_nothing_even_with_a_runner(tmp_path, capsys):
    rec = script(tmp_path, "rec.py", RECORDER)
    ws = make_ws(tmp_path, [PY, rec, "{instructions}"])
    doc = load_schedules(ws / ".roo" / "schedules.json")
    doc.set_values(doc.schedules[0].id, {"nextExecutionTime": "2026-03-02T09:00:00.000Z"})
    doc.save()
    assert main(["run", "--once", "--dry-run", "--json", "--now", NOW, "-w", str(ws)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["dry_run"] is True and summary["fired"][0]["result"]["dry_run"] is True
    assert not (ws / "argv.hex").exists()


def test_failed_run_gives_status_1(tmp_path, capsys):
    ws = make_ws(tmp_path, [PY, "-c", "import sys; sys.exit(3)"])
    doc = load_schedules(ws / ".roo" / "schedules.json")
    doc.set_values(doc.schedules[0].id, {"nextExecutionTime": "2026-03-02T09:00:00.000Z"})
    doc.save()
    assert main(["run", "--once", "--now", NOW, "-w", str(ws)]) == 1
    assert "failed" in capsys.readouterr().out


def test_bad_config_is_a_file_line_error(tmp_path, capsys):
    ws = make_ws(tmp_path, None, '[scheduler]\nmissed = "never"\n')
    assert main(["run", "--once", "-w", str(ws)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{ws / '.orchestrator' / 'config.toml'}:2: error: scheduler.missed")


# -- TODO items as tasks --------------------------------------------------------------------------
def todo_line(ws: Path, index: int = 0) -> int:
    return load_todo(ws / "TODO.md").items[index].line


@pytest.mark.parametrize("flag, config, checked", [
    ([], "", False), (["--check-off"], "", True), ([], "[todo]\ncheck_off_on_success = true\n", True),
    (["--no-check-off"], "[todo]\ncheck_off_on_success = true\n", False)])
def test_todo_item_runs_as_a_task_and_is_checked_off_only_when_enabled(tmp_path, capsys, flag, config, checked):
    rec = script(tmp_path, "rec.py", RECORDER)
    ws = make_ws(tmp_path, [PY, rec, "{instructions}", "{mode}"], config)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["graph", "build", "-w", str(ws)]) == 0
    line = todo_line(ws)
    before = (ws / "TODO.md").read_bytes()
    assert main(["run", "--todo", str(line), "--json", "-w", str(ws), *flag]) == 0
    summary = json.loads(capsys.readouterr().out)
    todo = summary["todo"]
    assert recorded_argv(ws) == ["Describe the project goal in this file\n- **Note**: agents pick the first open item",
                                 "code"]
    rows = [r for r in load_timing(ws / "task_timing.tsv").rows[1:] if r.task_id == todo["task_id"]]
    assert [(r.status, r.priority) for r in rows] == [("started", "todo"), ("completed", "todo")]
    after = (ws / "TODO.md").read_bytes()
    if checked:
        assert todo["checked"] is True
        diff = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
        assert len(before) == len(after) and len(diff) == 1 and after[diff[0]:diff[0] + 1] == b"x"
    else:
        assert after == before and todo["checked"] is None
    with GraphStore.open_workspace(ws, readonly=True) as store:
        assert store.graph.has_edge(run_node_id(todo["task_id"]), todo_node_id(todo["key"]), EdgeType.SCHEDULED_BY)


def test_todo_run_that_fails_or_is_dry_is_not_checked_off(tmp_path, capsys):
    ws = make_ws(tmp_path, [PY, "-c", "import sys; sys.exit(1)"])
    line = todo_line(ws)
    before = (ws / "TODO.md").read_bytes()
    assert main(["run", "--todo", str(line), "--check-off", "--json", "-w", str(ws)]) == 1
    todo = json.loads(capsys.readouterr().out)["todo"]
    assert todo["checked"] is False and "ended failed" in todo["note"]
    assert main(["run", "--todo", str(line), "--check-off", "--dry-run", "--json", "-w", str(ws)]) == 1
    todo = json.loads(capsys.readouterr().out)["todo"]
    assert todo["checked"] is False and "dry run" in todo["note"]
    assert (ws / "TODO.md").read_bytes() == before


def test_todo_line_without_an_item_is_an_error(tmp_path, capsys):
    ws = make_ws(tmp_path, None)
    assert main(["run", "--todo", "1", "-w", str(ws)]) == 1
    assert "no checklist item on line 1" in capsys.readouterr().err
    assert main(["run", "--check-off", "-w", str(ws)]) == 1


# -- the loop: clean shutdown on SIGTERM / SIGINT ---------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_loop_shuts_down_cleanly_on_a_signal_and_leaves_no_process(tmp_path, sig):
    fifo = tmp_path / "pids.fifo"
    os.mkfifo(fifo)
    sleeper = script(tmp_path, "sleeper.py", SLEEPER)
    ws = make_ws(tmp_path, [PY, sleeper, str(fifo)])
    doc = load_schedules(ws / ".roo" / "schedules.json")
    sid = doc.schedules[0].id
    doc.set_values(sid, {"nextExecutionTime": "2026-01-01T00:00:00.000Z"})  # due (long ago: missed, run once)
    doc.save()
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    proc = subprocess.Popen([EXE, "run", "--json", "-w", str(ws)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert select.select([fd], [], [], WAIT)[0], "the runner never started"
        leader, child = (int(x) for x in os.read(fd, 100).split())
        assert alive(leader) and alive(child)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        os.close(fd)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert f"received {sig.name}: shutting down" in err and "Traceback" not in err
    assert wait_dead(leader, 10) and wait_dead(child, 10)
    assert not alive(leader) and not alive(child)
    summary = json.loads(out)
    [fired] = summary["fired"]
    assert fired["result"]["status"] == "cancelled" and fired["missed"] >= 1
    rows = [r for r in load_timing(ws / "task_timing.tsv").rows[1:] if r.task_id == fired["task_id"]]
    assert [r.status for r in rows] == ["started", "cancelled"]
    assert load_schedules(ws / ".roo" / "schedules.json").get(sid).raw["lastTaskId"] == fired["task_id"]
