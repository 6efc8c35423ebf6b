"""CLI edits next to other writers (docs/write-protocol.md): real ``orchestrator-gui`` processes.

The edit commands exit 0 only when their edit is in the file, and never
drop what another program wrote meanwhile. The protocol itself is tested in
tests/formats/test_write_races.py and test_write_protocol.py; here the real
command line (parser, edit session, retries, ``--force``) is driven.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.schedules import load_schedules

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux file semantics")

EXE = str(Path(sys.executable).with_name("orchestrator-gui"))
WAIT = 120


def cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([EXE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def figures(case: str, **values: int) -> None:
    print(f"\n[cli-races] {case}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


def test_concurrent_todo_check_commands_all_land(tmp_path: Path):
    rounds, lines = 4, (2, 4, 6, 8)
    items = "".join(f"- [ ] item {i}\n" for i in range(1, 11)).encode()
    lost = 0
    for r in range(rounds):
        path = tmp_path / f"round{r}" / "TODO.md"
        path.parent.mkdir()
        path.write_bytes(items)
        procs = [cli("-w", str(path.parent), "todo", "check", str(n)) for n in lines]
        results = [(p.wait(timeout=WAIT), *p.communicate()) for p in procs]
        assert [code for code, _, _ in results] == [0] * len(lines), results
        want = items
        for n in lines:
            want = want.replace(f"- [ ] item {n}\n".encode(), f"- [x] item {n}\n".encode())
        lost += sum(f"- [ ] item {n}\n".encode() in path.read_bytes() for n in lines)
        assert path.read_bytes() == want, r
    figures("concurrent todo check", commands=rounds * len(lines), edits_lost=lost)


HALF_WRITER = r"""
import os, sys, time
path, content = sys.argv[1], open(sys.argv[2], "rb").read()
half = content.index(b"- [ ] item 22")
fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
os.write(fd, content[:half])
print("half", flush=True)
time.sleep(1.5)
os.write(fd, content[half:])
os.close(fd)
"""


def test_todo_check_during_a_slow_in_place_write_keeps_the_whole_file(tmp_path: Path):
    path = tmp_path / "TODO.md"
    path.write_bytes(b"- [ ] old\n")
    full = "".join(f"- [ ] item {i}\n" for i in range(1, 42)).encode()
    (tmp_path / "new.md").write_bytes(full)
    with subprocess.Popen([sys.executable, "-c", HALF_WRITER, str(path), str(tmp_path / "new.md")],
                          stdout=subprocess.PIPE, text=True) as writer:
        assert writer.stdout.readline().strip() == "half"  # 21 items written, the rest 1.5 s later
        res = subprocess.run([EXE, "-w", str(tmp_path), "todo", "check", "3"], capture_output=True, text=True,
                             timeout=WAIT)
        assert writer.wait(timeout=WAIT) == 0
    assert res.returncode == 0, res.stderr
    assert path.read_bytes() == full.replace(b"- [ ] item 3\n", b"- [x] item 3\n")  # all 41 items


EXTENSION = r"""
import json, os, random, sys, time
path = sys.argv[1]
tmp = path + ".ext.tmp"
n, lost = 0, []
print("ready", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(random.uniform(0.005, 0.015))
    with open(path, "rb") as fh:
        seen = os.fstat(fh.fileno())
        obj = json.loads(fh.read())
    ext = obj["schedules"][1]
    if ext["lastTaskId"] != f"ext-{n}" and n not in lost:
        lost.append(n)
    ext["lastTaskId"] = f"ext-{n + 1}"
    with open(tmp, "w") as fh:
        fh.write(json.dumps(obj, indent=2))
    # A careful writer (like our own): if the file changed since it was read, start over rather than
    # replace it with a copy made from the old bytes. Without this check the *extension* loses the CLI's
    # edits now and then (its read-modify-rename is a window no other process can close).
    now = os.stat(path)
    if (now.st_ino, now.st_mtime_ns, now.st_size) != (seen.st_ino, seen.st_mtime_ns, seen.st_size):
        os.unlink(tmp)
        continue
    os.replace(tmp, path)
    n += 1
print(json.dumps({"writes": n, "lost": lost}), flush=True)
"""


def test_schedules_edits_keep_every_write_of_a_rewriting_extension(tmp_path: Path):
    path = tmp_path / ".roo" / "schedules.json"
    path.parent.mkdir()
    sched = {"id": "a", "name": "n", "mode": "code", "taskInstructions": "t", "scheduleType": "time",
             "timeInterval": "1", "timeUnit": "hour", "active": True, "lastTaskId": "x"}
    path.write_text(json.dumps({"schedules": [sched, {**sched, "id": "b", "lastTaskId": "ext-0"}]}, indent=2))
    stop = tmp_path / "stop"
    commands = [["set", "a", "name=renamed"], ["disable", "a"], ["enable", "a"], ["set", "a", "timeInterval=7"],
                ["disable", "a"], ["set", "a", "taskInstructions=final"]]
    with subprocess.Popen([sys.executable, "-c", EXTENSION, str(path), str(stop)], stdout=subprocess.PIPE,
                          text=True) as ext:
        try:
            assert ext.stdout.readline().strip() == "ready"
            for command in commands:
                res = subprocess.run([EXE, "-w", str(tmp_path), "schedules", *command], capture_output=True,
                                     text=True, timeout=WAIT)
                assert res.returncode == 0, (command, res.stderr)
        finally:
            stop.touch()
        report = json.loads(ext.stdout.readline())
    final = load_schedules(path)
    figures("extension-like rewriter during CLI schedules set/enable/disable", external_writes=report["writes"],
            external_lost=len(report["lost"]), cli_edits=len(commands))
    assert report["lost"] == [] and final.get("b").last_task_id == f"ext-{report['writes']}"
    a = final.get("a")
    # The extension re-reads before each write, so the last edits are all there.
    assert (a.name, a.time_interval, a.active, a.task_instructions) == ("renamed", "7", False, "final")


def test_read_only_file_is_refused_and_force_writes_it(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("TODO.md").write_bytes(b"- [ ] one\n")
    Path("persistent-memory.md").write_bytes(b"# System Updates & Status\n")
    for name in ("TODO.md", "persistent-memory.md"):
        Path(name).chmod(0o444)
    assert main(["todo", "check", "1"]) == 1
    assert capsys.readouterr().err.strip() == ("TODO.md: error: the file is read-only (use --force to write "
                                               "anyway): mode 0444 has no write permission; nothing was written")
    assert main(["memory", "add", "--mode", "code", "--id", "x", "text"]) == 1
    assert "persistent-memory.md: error: the file is read-only (use --force" in capsys.readouterr().err
    assert Path("TODO.md").read_bytes() == b"- [ ] one\n"
    assert main(["todo", "check", "1", "--force"]) == 0
    assert main(["memory", "add", "--force", "--mode", "code", "--id", "x", "text"]) == 0
    assert Path("TODO.md").read_bytes() == b"- [x] one\n"
    assert [e.id for e in load_memory("persistent-memory.md").entries] == ["x"]
    assert {oct(os.stat(n).st_mode & 0o777) for n in ("TODO.md", "persistent-memory.md")} == {"0o444"}


APPENDER = r"""
import os, random, sys, time
path, n = sys.argv[1], int(sys.argv[2])
print("ready", flush=True)
for i in range(n):
    time.sleep(random.uniform(0.001, 0.004))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, f"- agent note {i}\n".encode())
    os.close(fd)
"""


def test_memory_add_keeps_every_line_an_agent_appends(tmp_path: Path, capsys):
    path = tmp_path / "persistent-memory.md"
    path.write_bytes(b"# System Updates & Status\n")
    n = 1000
    added = 0
    deadline = time.monotonic() + WAIT
    with subprocess.Popen([sys.executable, "-c", APPENDER, str(path), str(n)], stdout=subprocess.PIPE,
                          text=True) as agent:
        assert agent.stdout.readline().strip() == "ready"
        while agent.poll() is None:
            assert time.monotonic() < deadline
            added += 1
            assert main(["-w", str(tmp_path), "memory", "add", "--mode", "code", "--id", f"cli-{added}",
                         f"finding {added}"]) == 0
        assert agent.wait() == 0
    capsys.readouterr()
    notes = [ln for ln in path.read_text().splitlines() if ln.startswith("- agent note ")]
    figures("agent appending to persistent-memory.md during memory add", external_writes=n,
            external_lost=n - len(notes), cli_entries=added)
    assert notes == [f"- agent note {i}" for i in range(n)]
    assert [e.id for e in load_memory(path).entries] == [f"cli-{i}" for i in range(1, added + 1)]


def test_edits_through_symlinks_keep_the_links(tmp_path: Path, capsys):
    real, ws = tmp_path / "real", tmp_path / "ws"
    (real / ".roo").mkdir(parents=True)
    (ws / ".roo").mkdir(parents=True)
    (real / "TODO.md").write_bytes(b"- [ ] one\n")
    (real / "persistent-memory.md").write_bytes(b"# System Updates & Status\n")
    (real / ".roo" / "schedules.json").write_text(json.dumps({"schedules": [
        {"id": "1", "name": "n", "mode": "code", "taskInstructions": "t", "scheduleType": "time",
         "active": True}]}, indent=2))
    for rel in ("TODO.md", "persistent-memory.md", ".roo/schedules.json"):
        (ws / rel).symlink_to(real / rel)
    assert main(["-w", str(ws), "todo", "check", "1"]) == 0
    assert main(["-w", str(ws), "schedules", "disable", "1"]) == 0
    assert main(["-w", str(ws), "memory", "add", "--mode", "code", "--id", "x", "text"]) == 0
    capsys.readouterr()
    for rel in ("TODO.md", "persistent-memory.md", ".roo/schedules.json"):
        assert (ws / rel).is_symlink(), rel
    assert (real / "TODO.md").read_bytes() == b"- [x] one\n"
    assert load_schedules(real / ".roo" / "schedules.json").get("1").active is False
    assert [e.id for e in load_memory(real / "persistent-memory.md").entries] == ["x"]
