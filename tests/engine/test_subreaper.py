"""A run's processes that left its group (``setsid``) are found and killed; adopted orphans are reaped.

Real processes throughout: runner scripts whose grandchild calls ``setsid``,
ignores SIGTERM and writes its pid to a file. After the run, that pid must be
gone from /proc (not even a zombie: the engine adopted it and reaped it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator_gui.engine import process_tree
from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.runner import ProcessRunner
from orchestrator_gui.engine.tasks import CancelToken, todo_task

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_CHILD_SUBREAPER")

PY = sys.executable

# The grandchild: leaves the session, ignores SIGTERM, says where it is, and would live 5 minutes.
GRANDCHILD = """
import os, signal, sys, time
os.setsid()
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if sys.argv[2] == "quiet":  # let go of the runner's pipes: nothing but its pid leads to it
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)
"""

# The runner: starts a child that starts the grandchild; the child exits at once ("orphan": the
# grandchild is re-parented) or stays ("parent"); the runner waits for the pid file, then sleeps.
RUNNER = """
import os, subprocess, sys, time
pid_file, how, grandchild = sys.argv[1], sys.argv[2], sys.argv[3]
middle = ("import subprocess, sys, time; subprocess.Popen(sys.argv[1:]); "
          + ("time.sleep(300)" if how.startswith("parent") else "pass"))
subprocess.Popen([sys.executable, "-c", middle, sys.executable, grandchild, pid_file, how.split("-")[1]])
end = time.monotonic() + 20
while not os.path.exists(pid_file) and time.monotonic() < end:
    time.sleep(0.01)
print("ready", flush=True)
time.sleep(300)
"""


def state(pid: int) -> str | None:
    """The /proc state letter of ``pid`` (``"Z"`` for a zombie), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def wait_for(predicate, limit: float = 10.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def runner_for(tmp_path: Path, how: str, grace_s: float = 0.3) -> tuple[ProcessRunner, Path]:
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    (tmp_path / "grandchild.py").write_text(GRANDCHILD, encoding="utf-8")
    pid_file = tmp_path / "grandchild.pid"
    config = EngineConfig.model_validate({
        "runner": [PY, str(tmp_path / "runner.py"), str(pid_file), how, str(tmp_path / "grandchild.py")],
        "grace_s": grace_s})
    return ProcessRunner(tmp_path, config), pid_file


def kill_if_alive(pid_file: Path) -> None:
    """Clean up after a failing assertion (the escaped process would otherwise live 5 minutes)."""
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ProcessLookupError, PermissionError, ValueError):
            pass


# orphan: re-parented to the engine long before the run stops; parent: its parent is in the group
# and dies with it. quiet: it holds none of our pipes; loud: it keeps stdout and stderr open.
# Timeout and cancel share the stopping code, so they split the four cases between them.
@pytest.mark.parametrize("how", ["orphan-quiet", "parent-loud"])
def test_timeout_kills_a_grandchild_that_left_the_session(tmp_path, how):
    runner, pid_file = runner_for(tmp_path, how)
    try:
        result = runner.run(todo_task("i", "t"), timeout_s=3)
        assert pid_file.exists(), "the grandchild never started"
        pid = int(pid_file.read_text())
        assert result.status == "timeout"
        assert result.duration_s < 3 + 0.3 + 5
        assert wait_for(lambda: state(pid) is None), f"grandchild {pid} is still there: state {state(pid)}"
    finally:
        kill_if_alive(pid_file)


@pytest.mark.parametrize("how", ["orphan-loud", "parent-quiet"])
def test_cancel_kills_a_grandchild_that_left_the_session(tmp_path, how):
    runner, pid_file = runner_for(tmp_path, how)
    token = CancelToken()
    try:
        result = runner.run(todo_task("i", "t"), token=token, timeout_s=60,
                            on_event=lambda kind, data: kind == "output" and "ready" in data["text"] and token.cancel())
        pid = int(pid_file.read_text())
        assert result.status == "cancelled"
        assert wait_for(lambda: state(pid) is None), f"grandchild {pid} is still there: state {state(pid)}"
    finally:
        kill_if_alive(pid_file)


@pytest.mark.skipif(shutil.which("setsid") is None, reason="needs util-linux setsid")
def test_a_shell_runner_whose_setsid_sleep_outlives_it_leaves_nothing(tmp_path):
    # The runner exits by itself at once; `setsid -f` forks, so the sleep is an orphan in its own
    # session from the start. It ignores SIGTERM (trap before exec), so only SIGKILL ends it.
    pid_file = tmp_path / "sleep.pid"
    script = tmp_path / "agent.sh"
    script.write_text("setsid -f sh -c 'trap \"\" TERM; echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; "
                      "exec sleep 300' sh \"$1\" </dev/null >/dev/null 2>&1\n"
                      "while [ ! -e \"$1\" ]; do sleep 0.01; done\n", encoding="utf-8")
    config = EngineConfig.model_validate({"runner": ["sh", str(script), str(pid_file)], "grace_s": 0.3})
    try:
        result = ProcessRunner(tmp_path, config).run(todo_task("i", "t"), timeout_s=30)
        pid = int(pid_file.read_text())
        assert (result.status, result.exit_code) == ("completed", 0)   # the run's own result is unchanged
        assert wait_for(lambda: state(pid) is None), f"sleep {pid} is still there: state {state(pid)}"
    finally:
        kill_if_alive(pid_file)


def test_reaping_orphans_never_takes_the_exit_status_of_our_own_children(tmp_path):
    # While the subreaper is on, an orphan that dies becomes our zombie and is reaped; a child
    # that this process started itself, even in a new session, keeps its exit status for Popen.
    assert process_tree.hold_subreaper()
    try:
        ours = subprocess.Popen([PY, "-c", "import sys; sys.exit(7)"], start_new_session=True)
        plain = subprocess.Popen([PY, "-c", "import sys; sys.exit(5)"])
        pid_file = tmp_path / "orphan.pid"
        # The middle process leaves the session and exits; its child (session: the middle's pid,
        # not its own, not ours) is re-parented to us, writes its pid and exits.
        middle = ("import os, subprocess, sys; os.setsid(); "
                  "subprocess.Popen([sys.executable, '-c', "
                  "'import os, sys; open(sys.argv[1], \"w\").write(str(os.getpid()))', sys.argv[1]])")
        subprocess.run([PY, "-c", middle, str(pid_file)], check=True)
        assert wait_for(lambda: pid_file.exists() and pid_file.read_text() != "")
        orphan = int(pid_file.read_text())
        assert wait_for(lambda: state(orphan) in ("Z", None))
        assert wait_for(lambda: state(ours.pid) == "Z" and state(plain.pid) == "Z")
        process_tree.reap_orphans()
        assert state(orphan) is None                      # reaped: no zombie left behind
        assert state(ours.pid) == "Z" and state(plain.pid) == "Z"   # left to their Popen
        assert ours.wait(5) == 7 and plain.wait(5) == 5
    finally:
        process_tree.release_subreaper()


def test_the_subreaper_is_on_only_while_runs_go_on(tmp_path):
    def is_subreaper() -> bool:
        import ctypes
        value = ctypes.c_int(0)
        ctypes.CDLL(None).prctl(37, ctypes.byref(value), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
        return bool(value.value)

    seen: list[bool] = []
    runner = ProcessRunner(tmp_path, EngineConfig.model_validate({"runner": [PY, "-c", "print('x')"]}))
    result = runner.run(todo_task("i", "t"), on_event=lambda kind, data: kind == "spawned" and
                        seen.append(is_subreaper()))
    assert result.status == "completed" and seen == [True]
    assert not is_subreaper()
