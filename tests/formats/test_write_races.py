"""The write protocol under real concurrent processes (docs/write-protocol.md): nothing is lost.

Each test runs a foreign writer in another process (it takes no lock, like
the Roo extension, an agent's ``>>`` or Node's ``fs.writeFile``) while this
process edits the same file through the library in a loop: the same
``run_edit`` + loader + ``save`` path the CLI takes, without paying a
process start per edit. The figures (writes attempted / lost) are printed;
``pytest -s`` shows them.

A foreign rewriter that read the file before one of our commits and writes
after it overwrites our edit; no protocol on our side can prevent that (its
read is in its own memory). The rewriters here detect when they do that and
report which of our edits they overwrote, so that every edit of ours is
accounted for: in the final file, or overwritten by the foreign writer's
own stale read. Neither side may lose anything else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shared_fixtures import REPO_ROOT

from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.memory_append import append_entry
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.formats.write_session import run_edit

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the protocol's full form is Linux's")

#: External writes per rewrite test (the issue asks for at least 1,000).
EXTERNAL_WRITES = 1000
DEADLINE_S = 180.0

# A Roo-like rewriter of schedules.json: read, bump its own field, write the whole file back
# (JSON.stringify(obj, null, 2) layout), every few milliseconds. "rename" writes a temporary file
# and renames it over the target; "inplace" opens, truncates and writes like Node's fs.writeFile.
REWRITER = r"""
import ctypes, json, os, random, sys, time
path, n, how, lo, hi = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
libc = ctypes.CDLL(None, use_errno=True)
tmp = os.path.join(os.path.dirname(path), f".ext-{os.getpid()}.tmp")

def read_all(fd):
    out = b""
    while True:
        chunk = os.pread(fd, 1 << 16, len(out))
        if not chunk:
            return out
        out += chunk

def tokens(data):
    try:
        return set(json.loads(data)["schedules"][0]["taskInstructions"].split())
    except Exception:
        return set()

lost, clobbered = [], []
print("ready", flush=True)
sys.stdin.readline()
for i in range(1, n + 1):
    time.sleep(random.uniform(lo, hi))
    fd_r = os.open(path, os.O_RDONLY)
    base = read_all(fd_r)
    obj = json.loads(base)
    ext = obj["schedules"][1]
    if ext["lastTaskId"] != f"ext-{i - 1}":
        lost.append(i - 1)  # our previous write is not in the file any more
    ext["lastTaskId"] = f"ext-{i}"
    new = json.dumps(obj, indent=2, ensure_ascii=False).encode()
    if how == "rename":
        with open(tmp, "wb") as fh:
            fh.write(new)
        # rename(2), except that the replaced file stays an instant under the temporary
        # name, so this writer can tell whether it overwrote bytes it never read.
        if libc.renameat2(-100, tmp.encode(), -100, path.encode(), 2) != 0:
            raise OSError(ctypes.get_errno(), "renameat2")
        with open(tmp, "rb") as fh:
            old = fh.read()
        os.unlink(tmp)
    else:
        fd_w = os.open(path, os.O_RDWR)
        old = read_all(fd_w)
        os.ftruncate(fd_w, 0)
        os.pwrite(fd_w, new, 0)
        os.close(fd_w)
    os.close(fd_r)
    if old != base:
        clobbered.append(sorted(tokens(old) - tokens(new)))
print(json.dumps({"writes": n, "lost": lost, "clobbered": clobbered}), flush=True)
"""

# An agent appending lines (open, one write, close: a shell's >>).
APPENDER = r"""
import os, random, sys, time
path, n, prefix, lo, hi = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
print("ready", flush=True)
sys.stdin.readline()
for i in range(n):
    time.sleep(random.uniform(lo, hi))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, f"{prefix} {i}\n".encode())
    os.close(fd)
print(n, flush=True)
"""

# Our own writer in another process: checks (or unchecks) every item of its share of TODO.md.
TODO_EDITOR = r"""
import sys
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.formats.write_session import run_edit
path, lines = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
print("ready", flush=True)
for rnd in ("check", "uncheck"):
    sys.stdin.readline()
    for line in lines:
        def edit(line=line):
            doc = load_todo(path)
            getattr(doc, rnd)(line)
            doc.save()
        run_edit(edit)
    print("done", flush=True)
"""

# Writes TODO.md in place in two halves, 1.5 s apart, holding it open meanwhile
# ("ready" once the first half is in the file).
HALF_WRITER = r"""
import os, sys, time
path, content = sys.argv[1], open(sys.argv[2], "rb").read()
half = content.index(b"- [ ] item 22")
fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
os.write(fd, content[:half])
print("ready", flush=True)
time.sleep(1.5)
os.write(fd, content[half:])
os.close(fd)
print("done", flush=True)
"""


def spawn(script: str, *args: object) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=REPO_ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def go(proc: subprocess.Popen) -> None:
    proc.stdin.write("go\n")
    proc.stdin.flush()


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0
    return out


def edit_until(proc: subprocess.Popen, edit) -> int:
    """Run ``edit(k)`` for k = 1, 2, ... until the foreign writer has finished; return the count."""
    k = 0
    deadline = time.monotonic() + DEADLINE_S
    try:
        while proc.poll() is None:
            assert time.monotonic() < deadline, "the foreign writer did not finish"
            k += 1
            edit(k)
    except BaseException:
        stop(proc)
        raise
    return k


def stop(proc: subprocess.Popen) -> None:
    """Kill a child that is still running and close its pipes."""
    if proc.poll() is None:
        proc.kill()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None and not pipe.closed:
            pipe.close()
    proc.wait()


def figures(case: str, **values: int) -> None:
    print(f"\n[write-races] {case}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


SCHEDULES = {"schedules": [
    {"id": "a", "name": "Edited by us", "mode": "code", "taskInstructions": "k0", "scheduleType": "time",
     "timeInterval": "1", "timeUnit": "hour", "active": True, "lastTaskId": "none"},
    {"id": "b", "name": "Stamped by the extension", "mode": "code", "taskInstructions": "t",
     "scheduleType": "time", "timeInterval": "1", "timeUnit": "hour", "active": True, "lastTaskId": "ext-0"},
]}


@pytest.mark.parametrize("how", ["rename", "inplace"])
def test_rewriter_of_schedules_loses_nothing_during_set_enable_disable(tmp_path: Path, how: str):
    path = tmp_path / ".roo" / "schedules.json"
    path.parent.mkdir()
    path.write_bytes(json.dumps(SCHEDULES, indent=2).encode())
    writer = spawn(REWRITER, path, EXTERNAL_WRITES, how, 0.002, 0.02)
    committed: list[int] = []

    def edit(k: int) -> None:
        def change() -> None:
            doc = load_schedules(path)
            if k % 3 == 0:
                doc.set_values("a", {"taskInstructions": doc.get("a").task_instructions + f" k{k}"})
            else:
                doc.set_active("a", k % 3 == 2)
            doc.save()
        run_edit(change)
        if k % 3 == 0:
            committed.append(k)

    go(writer)
    edits = edit_until(writer, edit)
    report = json.loads(finish(writer))
    final = load_schedules(path)
    lost_external = report["lost"] + ([EXTERNAL_WRITES] if final.get("b").last_task_id != f"ext-{EXTERNAL_WRITES}"
                                      else [])
    overwritten_by_them = {t for ts in report["clobbered"] for t in ts}
    kept = set(final.get("a").task_instructions.split())
    lost_ours = [k for k in committed if f"k{k}" not in kept and f"k{k}" not in overwritten_by_them]
    figures(f"{how} rewriter of schedules.json", external_writes=report["writes"],
            external_lost=len(lost_external), our_edits=edits, our_edits_lost=len(lost_ours),
            our_edits_overwritten_by_their_stale_read=len(report["clobbered"]))
    assert report["writes"] >= 1000
    assert edits >= 50  # the protocol does not starve our edits
    assert lost_external == []
    assert lost_ours == []


def test_appender_on_todo_loses_no_line_during_check_uncheck(tmp_path: Path):
    path = tmp_path / "TODO.md"
    items = 10
    path.write_bytes("".join(f"- [ ] item {i}\n" for i in range(1, items + 1)).encode())
    agent = spawn(APPENDER, path, EXTERNAL_WRITES, "- [ ] agent line", 0.003, 0.025)
    wrong: list[int] = []

    def edit(k: int) -> None:
        line, want = k % items + 1, (k // items) % 2 == 0

        def change() -> None:
            doc = load_todo(path)
            (doc.check if want else doc.uncheck)(line)
            doc.save()
        run_edit(change)
        # Only we touch items 1..10 (the agent appends): the state must be what we just wrote.
        if load_todo(path).item_at(line).state != ("done" if want else "open"):
            wrong.append(k)

    go(agent)
    edits = edit_until(agent, edit)
    assert int(finish(agent)) == EXTERNAL_WRITES
    lines = path.read_text().splitlines()
    appended = [ln for ln in lines if ln.startswith("- [ ] agent line ")]
    lost = EXTERNAL_WRITES - len(set(appended))
    figures("appender on TODO.md", external_writes=EXTERNAL_WRITES, external_lost=lost, our_edits=edits,
            our_edits_lost=len(wrong))
    assert appended == [f"- [ ] agent line {i}" for i in range(EXTERNAL_WRITES)]  # all, once, in order
    assert wrong == []
    final = {k % items + 1: (k // items) % 2 == 0 for k in range(1, edits + 1)}  # the last edit of each line
    assert lines[:items] == [f"- [{'x' if final.get(i) else ' '}] item {i}" for i in range(1, items + 1)]
    assert len(lines) == items + EXTERNAL_WRITES


def test_appender_on_memory_loses_no_line_during_memory_add(tmp_path: Path):
    path = tmp_path / "persistent-memory.md"
    path.write_bytes(b"# System Updates & Status\n")
    agent = spawn(APPENDER, path, EXTERNAL_WRITES, "- agent note", 0.001, 0.006)
    ids: list[str] = []

    def edit(k: int) -> None:
        entry = append_entry(path, "code", f"cli-{k}", f"finding {k}")
        assert entry.id == f"cli-{k}"
        ids.append(entry.id)

    go(agent)
    edits = edit_until(agent, edit)
    assert int(finish(agent)) == EXTERNAL_WRITES
    text = path.read_text()
    notes = [ln for ln in text.splitlines() if ln.startswith("- agent note ")]
    doc = load_memory(path)
    ours = [e.id for e in doc.entries]
    figures("appender on persistent-memory.md", external_writes=EXTERNAL_WRITES,
            external_lost=EXTERNAL_WRITES - len(set(notes)), our_entries=edits,
            our_entries_lost=len(set(ids) - set(ours)))
    assert notes == [f"- agent note {i}" for i in range(EXTERNAL_WRITES)]
    assert ours == ids  # every entry, once, in order, still read as an entry
    for e in doc.entries:
        assert doc.entry_text(e.line).splitlines()[1] == f"- **Finding**: finding {e.id[4:]}"


def test_two_of_our_writers_never_lose_each_others_edits(tmp_path: Path):
    path = tmp_path / "TODO.md"
    n = 300
    path.write_bytes("".join(f"- [ ] item {i}\n" for i in range(1, n + 1)).encode())
    odd = ",".join(str(i) for i in range(1, n + 1, 2))
    even = ",".join(str(i) for i in range(2, n + 1, 2))
    a, b = spawn(TODO_EDITOR, path, odd), spawn(TODO_EDITOR, path, even)
    try:
        lost = {}
        for rnd, state in (("check", "done"), ("uncheck", "open")):
            go(a)
            go(b)
            assert a.stdout.readline().strip() == "done" and b.stdout.readline().strip() == "done"
            lost[rnd] = [it.line for it in load_todo(path).items if it.state != state]
        finish(a)
        finish(b)
    finally:
        for p in (a, b):
            stop(p)
    figures("two concurrent editors of TODO.md", our_edits=2 * n, our_edits_lost=sum(map(len, lost.values())))
    assert lost == {"check": [], "uncheck": []}
    assert path.read_bytes() == "".join(f"- [ ] item {i}\n" for i in range(1, n + 1)).encode()


def test_edit_waits_for_a_slow_in_place_writer_and_keeps_its_whole_file(tmp_path: Path):
    path = tmp_path / "TODO.md"
    path.write_bytes(b"- [ ] old item\n")
    content = tmp_path / "content.md"
    full = "".join(f"- [ ] item {i}\n" for i in range(1, 42)).encode()
    content.write_bytes(full)
    writer = spawn(HALF_WRITER, path, content)  # returns with the first half (21 items) written
    try:
        assert path.read_bytes() == full[:full.index(b"- [ ] item 22")]

        def change() -> None:
            doc = load_todo(path)
            doc.check(3)
            doc.save()
        run_edit(change)
        assert finish(writer).strip() == "done"
    finally:
        stop(writer)
    assert path.read_bytes() == full.replace(b"- [ ] item 3\n", b"- [x] item 3\n")
