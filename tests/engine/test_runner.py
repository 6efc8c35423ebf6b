"""The process runner with real processes: argument safety, logs, time limits, process-group kills."""

from __future__ import annotations

import json
import os
import select
import sys
import threading
from pathlib import Path

import pytest

from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.runner import ProcessRunner, expand_template, run_paths
from orchestrator_gui.engine.tasks import CancelToken, Task, schedule_task, todo_task

PY = sys.executable
NASTY = ("He said \"hi\" & 'bye'; $(touch pwned1) `touch pwned2` $HOME ${PATH} \\n %s * ? ~ | > < ; \n"
         "line 2\r\nline 3\ttab ünïcødé 🚀 \u202e {mode} {task_id} {{x}} -- --help")


def cfg(runner=None, **kw) -> EngineConfig:
    return EngineConfig.model_validate({"runner": runner, **kw} if runner else kw)


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return str(path)


def wait_dead(pid: int, timeout: float = 10.0) -> bool:
    """Block until ``pid`` has exited (a zombie counts: it is dead, awaiting its reaper)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


RECORDER = """
import os, sys
out = os.environ["RECORD_TO"]
with open(out, "wb") as f:
    for a in sys.argv[1:]:
        f.write(os.fsencode(a).hex().encode() + b"\\n")
    f.write(open(sys.argv[2], "rb").read().hex().encode() + b"\\n")
    f.write(os.environ["ORCHESTRATOR_TASK_ID"].encode().hex().encode() + b"\\n")
"""


def test_instructions_reach_the_runner_byte_exact(tmp_path):
    rec = script(tmp_path, "rec.py", RECORDER)
    out = tmp_path / "argv.txt"
    config = cfg([PY, rec, "{instructions}", "{instructions_file}", "{mode}", "{task_id}", "{schedule_id}",
                  "{workspace}", "lit{eral}"], env={"RECORD_TO": str(out)})
    runner = ProcessRunner(tmp_path, config)
    task = schedule_task("17619", "nightly", "code", NASTY, task_id="run-1")
    result = runner.run(task)
    assert result.status == "completed", result
    got = [bytes.fromhex(x) for x in out.read_text().split()]
    assert got[0] == NASTY.encode("utf-8")                         # {instructions}: one argument, unchanged
    assert got[1] == str(run_paths(tmp_path, "run-1")[1].resolve()).encode()
    assert got[2:6] == [b"code", b"run-1", b"17619", str(tmp_path.resolve()).encode()]
    assert got[6] == b"lit{eral}"                                  # unknown braces stay literal
    assert got[7] == NASTY.encode("utf-8")                         # {instructions_file}: the same bytes
    assert got[8] == b"run-1"
    assert not (tmp_path / "pwned1").exists() and not (tmp_path / "pwned2").exists()
    assert result.command[2] == NASTY


def test_expand_template_is_one_pass_per_argument():
    values = {"instructions": "{mode} $(x)", "mode": "code", "task_id": "t"}
    assert expand_template(["-p", "{instructions}", "--{mode}={task_id}", "{unknown}", "{}"], values) == \
        ["-p", "{mode} $(x)", "--code=t", "{unknown}", "{}"]


def test_no_runner_is_a_recorded_dry_run(tmp_path):
    runner = ProcessRunner(tmp_path, cfg())
    result = runner.run(todo_task("i1", "Write the docs", task_id="dry-1"))
    assert (result.status, result.dry_run, result.exit_code, result.command) == ("completed", True, None, None)
    log = Path(result.log_path).read_text()
    assert "# DRY RUN: no runner is configured in .orchestrator/config.toml; nothing was started." in log
    assert "#   Write the docs" in log
    assert result.summary() == "completed - dry run, no runner configured, nothing was started"
    assert not run_paths(tmp_path, "dry-1")[1].exists()


def test_output_is_logged_streamed_and_the_stderr_tail_kept(tmp_path):
    body = "import sys\nprint('out ü', flush=True)\nsys.stderr.write('x' * 5000 + 'err end\\n')\nsys.exit(3)\n"
    runner = ProcessRunner(tmp_path, cfg([PY, script(tmp_path, "s.py", body)]))
    events: list[tuple[str, dict]] = []
    result = runner.run(todo_task("i", "t", task_id="out-1"), on_event=lambda t, d: events.append((t, d)))
    assert (result.status, result.exit_code) == ("failed", 3)
    assert result.summary() == "failed - exit 3"
    assert result.stderr_tail.endswith("err end\n") and len(result.stderr_tail) == 4096
    text = "".join(d["text"] for t, d in events if t == "output" and d["stream"] == "stdout")
    assert text == "out ü\n"
    assert events[0][0] == "spawned" and events[0][1]["command"] == result.command
    log = Path(result.log_path).read_text(encoding="utf-8")
    assert "out ü\n" in log and "err end\n" in log
    assert log.splitlines()[-1].startswith("# finished: failed, exit 3, ")


def test_a_missing_program_fails_with_a_clear_error(tmp_path):
    result = ProcessRunner(tmp_path, cfg(["/nonexistent/agent"])).run(todo_task("i", "t"))
    assert (result.status, result.exit_code) == ("failed", None)
    assert result.error == "runner program not found: /nonexistent/agent"
    assert "# finished: failed, runner program not found" in Path(result.log_path).read_text()


def test_a_nul_byte_cannot_be_passed_and_fails_the_run(tmp_path):
    result = ProcessRunner(tmp_path, cfg([PY, "-c", "pass", "{instructions}"])).run(todo_task("i", "a\0b"))
    assert result.status == "failed" and "cannot pass an argument" in result.error


TREE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def test_timeout_kills_the_whole_process_tree_and_warns_at_80_percent(tmp_path):
    runner = ProcessRunner(tmp_path, cfg([PY, script(tmp_path, "tree.py", TREE)], grace_s=2))
    events: list[tuple[str, dict]] = []
    result = runner.run(todo_task("i", "t"), timeout_s=0.8, on_event=lambda t, d: events.append((t, d)))
    pids = [events[0][1]["pid"], int("".join(d["text"] for t, d in events if t == "output"))]
    assert result.status == "timeout" and result.warned
    assert result.exit_code == -15                      # SIGTERM to the group was enough
    assert result.summary() == "timeout - killed after 0.8 s"
    warning = [d for t, d in events if t == "warning"]
    assert len(warning) == 1 and warning[0]["limit_s"] == 0.8 and 0.64 <= warning[0]["elapsed_s"] < 0.8
    assert 0.8 <= result.duration_s < 2.5
    for pid in pids:
        assert wait_dead(pid) and not alive(pid)


STUBBORN = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
"""


def test_cancel_escalates_to_sigkill_after_the_grace_period(tmp_path):
    runner = ProcessRunner(tmp_path, cfg([PY, script(tmp_path, "stubborn.py", STUBBORN)], grace_s=0.3))
    token = CancelToken()

    def on_event(kind, data):
        if kind == "output" and "ready" in data["text"]:
            token.cancel()
    result = runner.run(todo_task("i", "t"), token=token, on_event=on_event, timeout_s=None)
    assert (result.status, result.exit_code) == ("cancelled", -9)
    assert 0.3 <= result.duration_s < 5


LEAVES = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(child.pid, flush=True)
"""


def test_a_run_leaves_nothing_of_its_group_behind(tmp_path):
    runner = ProcessRunner(tmp_path, cfg([PY, script(tmp_path, "leaves.py", LEAVES)]))
    out: list[str] = []
    result = runner.run(todo_task("i", "t"), on_event=lambda t, d: out.append(d.get("text", "")))
    assert result.status == "completed"
    pid = int("".join(out))
    assert wait_dead(pid) and not alive(pid)


HOLDS = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # inherits our stdout
print("bye", flush=True)
"""


def test_a_leftover_holding_the_pipes_does_not_hang_the_run(tmp_path):
    runner = ProcessRunner(tmp_path, cfg([PY, script(tmp_path, "holds.py", HOLDS)], grace_s=0.5))
    result = runner.run(todo_task("i", "t"))
    assert result.status == "completed" and result.exit_code == 0
    assert result.duration_s < 5


def test_environment_and_working_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    body = "import json, os\nprint(json.dumps([os.getcwd(), os.environ['A'], os.environ['B'], " \
           "os.environ['ORCHESTRATOR_MODE']]))"
    config = cfg([PY, script(tmp_path, "env.py", body)], env={"A": "top", "B": "top"},
                 modes={"architect": {"env": {"B": "mode"}, "cwd": "sub"}})
    out: list[str] = []
    ProcessRunner(tmp_path, config).run(Task(kind="todo", mode="architect"),
                                        on_event=lambda t, d: out.append(d.get("text", "")))
    assert json.loads("".join(out)) == [str(tmp_path / "sub"), "top", "mode", "architect"]


def test_a_missing_working_folder_fails_before_spawning(tmp_path):
    result = ProcessRunner(tmp_path, cfg([PY, "-c", "pass"], cwd="nope")).run(todo_task("i", "t"))
    assert result.status == "failed" and result.error == f"working folder {tmp_path / 'nope'} does not exist"


def test_cancel_before_start_spawns_nothing(tmp_path):
    token = CancelToken()
    token.cancel()
    marker = tmp_path / "ran"
    runner = ProcessRunner(tmp_path, cfg([PY, "-c", f"open({str(marker)!r}, 'w')"]))
    assert runner.run(todo_task("i", "t"), token=token).status == "cancelled"
    assert not marker.exists()


def test_cancel_token_runs_callbacks_once_from_any_thread():
    token, calls = CancelToken(), []
    token.add_callback(lambda: calls.append(1))
    t = threading.Thread(target=token.cancel)
    t.start()
    t.join()
    assert token.cancel() is False and calls == [1] and token.cancelled
    token.add_callback(lambda: calls.append(2))  # already cancelled: at once
    assert calls == [1, 2]


@pytest.mark.parametrize("bad", ["", "a/b", "2025-01-01T00:00:00Z", "-x", "x" * 129])
def test_task_ids_are_file_name_safe(bad):
    with pytest.raises(ValueError):
        Task(kind="todo", task_id=bad)


def test_start_returns_at_once_and_one_thread_watches_every_process(tmp_path):
    # start() spawns and hands over: twelve 0.5 s runs started from one
    # thread all run at the same time, each with its own output and log.
    runner = ProcessRunner(tmp_path, cfg([PY, "-c", "import sys, time; time.sleep(0.5); print(sys.argv[1])",
                                          "{task_id}"]))
    results: dict[str, object] = {}
    done = threading.Condition()

    def finished(result):
        with done:
            results[result.task_id] = result
            done.notify_all()
    before = {t.name for t in threading.enumerate()}
    import time as _time
    t0 = _time.monotonic()
    for k in range(12):
        runner.start(todo_task("i", "x", task_id=f"par-{k}"), finished)
    started_in = _time.monotonic() - t0
    with done:
        assert done.wait_for(lambda: len(results) == 12, 20)
    wall = _time.monotonic() - t0
    assert started_in < 0.5 and wall < 12 * 0.5      # not one after the other
    watchers = [t for t in threading.enumerate() if t.name == "orchestrator-processes" and t.name not in before]
    assert len(watchers) <= 1
    for k in range(12):
        r = results[f"par-{k}"]
        assert r.status == "completed" and r.exit_code == 0
        log = Path(r.log_path).read_text()
        assert f"\npar-{k}\n" in log and "# finished: completed, exit 0" in log
