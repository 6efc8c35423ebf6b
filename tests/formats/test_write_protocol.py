"""The write protocol's guarantees one by one (docs/write-protocol.md): links, owners, read-only
files, the swap-back, waiting for writers, the shared lock, and byte-exact memory appends.

Where a foreign write must land inside a window of microseconds (between the
last check and the swap), the test wraps the real ``renameat2`` call and lets
the write happen right before it; tests/formats/test_write_races.py shows
the same outcome under real, unsynchronised processes.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator_gui.formats import file_lock, write_commit, write_guard
from orchestrator_gui.formats.fileio import atomic_write
from orchestrator_gui.formats.memory import MemoryDocument, load_memory
from orchestrator_gui.formats.memory_append import _Plan, append_entry
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.timing import NewTimingRow, append_row, load_timing
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.formats.write_openers import writers
from orchestrator_gui.formats.write_session import WriteProtectedError, run_edit, write_options
from orchestrator_gui.problems import ConflictError, FormatError

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux file semantics")

NOW = datetime(2025, 11, 2, 10, 0, tzinfo=UTC)
TODO = b"- [ ] one\n- [ ] two\n- [ ] three\n"
SCHEDULES = (b'{\n  "schedules": [\n    {\n      "id": "1",\n      "name": "n",\n      "mode": "code",\n'
             b'      "taskInstructions": "t",\n      "scheduleType": "time",\n      "active": true\n    }\n  ]\n}')
MEMORY = b"# System Updates & Status\n\n## [2025-11-01T00:00:00.000Z] [code] - [x]\n- **Finding**: y\n"


def check(path: Path, line: int) -> None:
    def edit() -> None:
        doc = load_todo(path)
        doc.check(line)
        doc.save()
    run_edit(edit)


def temporaries(*folders: Path) -> list[str]:
    return sorted(p.name for f in folders for p in f.iterdir() if p.name.endswith(".tmp"))


def wait_until(predicate, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def proc_locks_line(inode: int, marker: str) -> bool:
    """Whether /proc/locks lists a lock of ``inode`` whose line contains ``marker``."""
    with open("/proc/locks") as fh:
        return any(marker in ln and f":{inode} " in ln for ln in fh)


# --- links -------------------------------------------------------------------------------------


def test_symlinked_files_are_edited_through_the_link(tmp_path: Path):
    real, ws = tmp_path / "real", tmp_path / "ws"
    (real / ".roo").mkdir(parents=True)
    (ws / ".roo").mkdir(parents=True)
    targets = {"TODO.md": TODO, ".roo/schedules.json": SCHEDULES, "persistent-memory.md": MEMORY}
    for rel, data in targets.items():
        (real / rel).write_bytes(data)
        (ws / rel).symlink_to(real / rel)

    check(ws / "TODO.md", 2)

    def disable() -> None:
        doc = load_schedules(ws / ".roo" / "schedules.json")
        doc.set_active("1", False)
        doc.save()
    run_edit(disable)
    append_entry(ws / "persistent-memory.md", "code", "through-link", "kept", now=NOW)

    for rel in targets:
        assert (ws / rel).is_symlink() and os.readlink(ws / rel) == str(real / rel), rel
    assert (real / "TODO.md").read_bytes() == TODO.replace(b"[ ] two", b"[x] two")
    assert b'"active": false' in (real / ".roo" / "schedules.json").read_bytes()
    assert load_memory(real / "persistent-memory.md").entries[-1].id == "through-link"
    assert temporaries(real, ws, real / ".roo", ws / ".roo") == []


def test_hard_linked_file_stays_one_file(tmp_path: Path):
    path, other = tmp_path / "TODO.md", tmp_path / "also-TODO.md"
    path.write_bytes(TODO)
    os.link(path, other)
    inode = path.stat().st_ino
    check(path, 1)
    check(other, 3)
    assert path.stat().st_ino == other.stat().st_ino == inode and path.stat().st_nlink == 2
    assert other.read_bytes() == b"- [x] one\n- [ ] two\n- [x] three\n"
    assert temporaries(tmp_path) == []


# --- owners and modes --------------------------------------------------------------------------


@pytest.fixture
def shared_dir():
    """A folder other users may enter (pytest's own folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="write-protocol-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="changes file owners: needs root")
def test_owner_group_and_mode_are_kept_when_root_edits(shared_dir: Path):
    path = shared_dir / "TODO.md"
    path.write_bytes(TODO)
    os.chown(path, 65534, 65534)  # nobody:nogroup
    path.chmod(0o640)
    check(path, 1)
    st = path.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (65534, 65534, 0o640)
    # Its owner can still read it (with root:root and 0640 it could not).
    seen = subprocess.run(["cat", str(path)], user=65534, group=65534, capture_output=True, check=True)
    assert seen.stdout == TODO.replace(b"[ ] one", b"[x] one")


@pytest.mark.skipif(os.geteuid() != 0, reason="switches the effective user: needs root")
def test_a_file_whose_owner_a_rename_cannot_keep_is_written_in_place(shared_dir: Path):
    path = shared_dir / "TODO.md"
    path.write_bytes(TODO)
    os.chown(path, 0, 65534)  # root:nogroup, group-writable: nobody may write it, not own it
    path.chmod(0o664)
    inode = path.stat().st_ino
    os.setegid(65534)
    os.seteuid(65534)
    try:
        check(path, 2)
    finally:
        os.seteuid(0)
        os.setegid(0)
    st = path.stat()
    assert (st.st_ino, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (inode, 0, 65534, 0o664)
    assert path.read_bytes() == TODO.replace(b"[ ] two", b"[x] two")
    assert temporaries(shared_dir) == []


# --- read-only files ---------------------------------------------------------------------------


def test_read_only_file_is_refused_unless_forced(tmp_path: Path):
    path, memory = tmp_path / "TODO.md", tmp_path / "persistent-memory.md"
    path.write_bytes(TODO)
    memory.write_bytes(MEMORY)
    for p in (path, memory):
        p.chmod(0o444)
    with pytest.raises(WriteProtectedError) as err:
        check(path, 1)
    assert str(err.value).startswith(f"{path}: error: the file is read-only (use --force to write anyway)")
    with pytest.raises(WriteProtectedError, match=r"read-only \(use --force"):
        append_entry(memory, "code", "x", "y", now=NOW)
    assert path.read_bytes() == TODO and memory.read_bytes() == MEMORY
    assert temporaries(tmp_path) == []
    with write_options(force=True):
        check(path, 1)
        append_entry(memory, "code", "forced", "y", now=NOW)
    assert path.read_bytes() == TODO.replace(b"[ ] one", b"[x] one")
    assert load_memory(memory).entries[-1].id == "forced"
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(memory.stat().st_mode) == 0o444


@pytest.mark.skipif(os.geteuid() != 0, reason="switches the effective user: needs root")
def test_a_file_the_user_may_not_write_is_read_only_for_him(shared_dir: Path):
    path = shared_dir / "TODO.md"
    path.write_bytes(TODO)
    path.chmod(0o644)  # root's; nobody may read it, not write it
    os.seteuid(65534)
    try:
        with pytest.raises(WriteProtectedError, match="no write permission"):
            check(path, 1)
    finally:
        os.seteuid(0)
    assert path.read_bytes() == TODO


# --- the swap: a write landing just before it is swapped back and kept -------------------------


def foreign_write_before_swap(monkeypatch, hook) -> list[int]:
    """Run ``hook`` right before the first swap of the commit (then the real renameat2)."""
    calls: list[int] = []
    real = write_commit.exchange

    def exchange(a: str, b: str) -> bool:
        calls.append(1)
        if len(calls) == 1:
            hook()
        return real(a, b)

    monkeypatch.setattr(write_commit, "exchange", exchange)
    return calls


def test_a_file_renamed_over_ours_just_before_the_swap_is_swapped_back_and_kept(tmp_path: Path, monkeypatch):
    path = tmp_path / "TODO.md"
    path.write_bytes(TODO)
    theirs = TODO + b"- [ ] four\n"

    def rename_over() -> None:  # an extension's rename(2), after our last check
        (tmp_path / "theirs").write_bytes(theirs)
        os.replace(tmp_path / "theirs", path)

    calls = foreign_write_before_swap(monkeypatch, rename_over)
    with pytest.raises(ConflictError, match="changed on disk"):
        atomic_write(path, TODO.replace(b"[ ] one", b"[x] one"), expected=TODO)
    assert len(calls) == 2  # swapped, then swapped back
    assert path.read_bytes() == theirs
    assert temporaries(tmp_path) == []

    calls.clear()
    path.write_bytes(TODO)
    check(path, 1)  # the edit is read and applied again on their bytes
    assert path.read_bytes() == theirs.replace(b"[ ] one", b"[x] one")


def test_without_a_lease_a_write_just_before_the_swap_is_swapped_back_and_kept(tmp_path: Path, monkeypatch):
    # With a lease no writer can even open the file in that instant (see the next test); without
    # one (another user's file), the watch sees the write and the swap is undone.
    monkeypatch.setattr(write_guard, "_leases_allowed", lambda: False)
    path = tmp_path / "TODO.md"
    path.write_bytes(TODO)

    def append() -> None:  # an agent's >> (no lock)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.write(fd, b"- [ ] four\n")
        os.close(fd)

    calls = foreign_write_before_swap(monkeypatch, append)
    check(path, 1)
    assert len(calls) == 3  # swapped, swapped back, then the edit applied again and swapped in
    assert path.read_bytes() == TODO.replace(b"[ ] one", b"[x] one") + b"- [ ] four\n"
    assert temporaries(tmp_path) == []


OPENER = r"""
import os, sys
path = sys.argv[1]
sys.stdin.readline()
fd = os.open(path, os.O_WRONLY | os.O_APPEND)   # held up by the lease until the commit lets go
os.write(fd, b"- [ ] from the late writer\n")
os.close(fd)
print("written", flush=True)
"""


def test_a_writer_opening_the_file_during_the_swap_is_let_in_and_kept(tmp_path: Path, monkeypatch):
    path = tmp_path / "TODO.md"
    path.write_bytes(TODO)
    inode = path.stat().st_ino
    with subprocess.Popen([sys.executable, "-c", OPENER, str(path)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as child:
        def open_for_writing() -> None:
            child.stdin.write("go\n")
            child.stdin.flush()
            # Its open waits for our lease: the kernel lists the lease as breaking.
            wait_until(lambda: proc_locks_line(inode, "BREAKING"), "the writer's open to break the lease")

        try:
            calls = foreign_write_before_swap(monkeypatch, open_for_writing)
            check(path, 1)
            assert calls, "the commit never swapped"
            assert child.stdout.readline().strip() == "written"
            assert child.wait(timeout=30) == 0
        finally:
            if child.poll() is None:
                child.kill()
    assert path.read_bytes() == TODO.replace(b"[ ] one", b"[x] one") + b"- [ ] from the late writer\n"
    assert temporaries(tmp_path) == []


HOLDER = r"""
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY if sys.argv[2] == "w" else os.O_RDONLY)
print("open", flush=True)
sys.stdin.readline()
"""


@pytest.mark.parametrize("leases", [True, False], ids=["lease", "proc-scan"])
def test_no_commit_while_another_program_holds_the_file_open_for_writing(tmp_path: Path, monkeypatch, leases):
    if not leases:  # as for another user's file, where the kernel grants no lease
        monkeypatch.setattr(write_guard, "_leases_allowed", lambda: False)
    path = tmp_path / "TODO.md"
    path.write_bytes(TODO)
    holders = [subprocess.Popen([sys.executable, "-c", HOLDER, str(path), mode], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True) for mode in ("r", "w")]
    try:
        for h in holders:
            assert h.stdout.readline().strip() == "open"
        key = file_lock.key_of(path.stat())
        assert [pid for pid, _ in writers(key, [str(path)])] == [holders[1].pid]  # the reader is no writer
        with pytest.raises(FormatError, match=r"keeps the file open for writing; nothing was written.*") as err:
            write_commit.commit(path, TODO.replace(b"[ ] one", b"[x] one"), expected=TODO, wait_s=0.3)
        assert f"pid {holders[1].pid}" in str(err.value)
        assert path.read_bytes() == TODO and temporaries(tmp_path) == []
        holders[1].communicate("\n", timeout=30)  # the writer closes the file: now it goes through
        write_commit.commit(path, TODO.replace(b"[ ] one", b"[x] one"), expected=TODO, wait_s=5)
        assert path.read_bytes() == TODO.replace(b"[ ] one", b"[x] one")
    finally:
        for h in holders:
            if h.poll() is None:
                h.kill()
            h.stdin.close()
            h.stdout.close()
            h.wait()


def test_create_never_replaces_a_file_that_appeared_meanwhile(tmp_path: Path, monkeypatch):
    path = tmp_path / ".roo" / "schedules.json"
    real = write_commit.rename_noreplace

    def rename_noreplace(src: str, dst: str) -> bool:
        Path(dst).write_bytes(b"theirs")  # the extension created it first
        return real(src, dst)

    monkeypatch.setattr(write_commit, "rename_noreplace", rename_noreplace)
    with pytest.raises(ConflictError, match="created on disk meanwhile"):
        atomic_write(path, SCHEDULES, expected=None, create=True)
    assert path.read_bytes() == b"theirs" and temporaries(path.parent) == []


# --- the lock ----------------------------------------------------------------------------------


def test_timing_append_waiting_for_the_lock_follows_a_replaced_file(tmp_path: Path):
    path = tmp_path / "task_timing.tsv"
    header = b"timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority\n"
    path.write_bytes(header)
    old_inode = path.stat().st_ino
    lock = file_lock.acquire(str(path), str(path))  # one of our rewriters holds the file
    done: list[object] = []
    appender = threading.Thread(target=lambda: done.append(append_row(path, NewTimingRow(
        timestamp=NOW, mode="code", task_id="t1", start_time=NOW, task="x", result="started"))))
    try:
        appender.start()
        wait_until(lambda: proc_locks_line(old_inode, "->"), "the append to wait for the lock")
        replacement = tmp_path / "new.tsv"
        replacement.write_bytes(header + b"2025-11-01T00:00:00.000Z\tcode\tt0\t2025-11-01T00:00:00.000Z"
                                         b"\t\t\tprior\tstarted\tschedule\n")
        os.replace(replacement, path)  # the rewriter commits a new file
    finally:
        file_lock.release(lock)
        appender.join(timeout=30)
    assert [r.task_id for r in load_timing(path).data_rows()] == ["t0", "t1"]  # not lost in the old inode


# --- memory appends are byte-exact -------------------------------------------------------------

MEMORY_SHAPES = {
    "empty": b"",
    "bom-only": b"\xef\xbb\xbf",
    "lf": MEMORY,
    "crlf": MEMORY.replace(b"\n", b"\r\n"),
    "no-final-newline": MEMORY.rstrip(b"\n"),
    "crlf-no-final-newline": MEMORY.replace(b"\n", b"\r\n").rstrip(b"\r\n"),
    "blank-last-line": MEMORY + b"\n",
    "bom-crlf": b"\xef\xbb\xbf" + MEMORY.replace(b"\n", b"\r\n"),
    "mixed-mostly-lf": b"# A\r\nline\nline\nline\n",
    "trailing-spaces": MEMORY + b"   ",
}


@pytest.mark.parametrize("shape", MEMORY_SHAPES, ids=list(MEMORY_SHAPES))
def test_memory_append_writes_exactly_what_the_document_editor_would(tmp_path: Path, shape: str):
    data = MEMORY_SHAPES[shape]
    path = tmp_path / "persistent-memory.md"
    path.write_bytes(data)
    expected = MemoryDocument(path, data)
    want = expected.append_entry("code", "task-1", "first line\nsecond line", now=NOW)
    got = append_entry(path, "code", "task-1", "first line\nsecond line", now=NOW)
    assert path.read_bytes() == expected.data  # the old bytes + exactly the editor's addition
    assert (got.line, got.end_line, got.timestamp_raw) == (want.line, want.end_line, want.timestamp_raw)


DELTAS = [b"- agent note\n", b"- a\r\n- b\r\n", b"\n", b"   \n", b"- no newline", b"x\n\n", b"\r\n\r\n\r\n"]


@pytest.mark.parametrize("shape", [s for s in MEMORY_SHAPES if s != "bom-only"])
def test_memory_append_planned_before_an_agent_append_still_matches_the_editor(shape: str):
    """Lines an agent appends between our read and our write are taken in without a re-read."""
    base = MEMORY_SHAPES[shape]
    empty = MemoryDocument("m.md", b"")
    empty.append_entry("code", "task-1", "text", now=NOW)
    lines = empty.data.decode()[:-1].split("\n")
    for delta in DELTAS:
        plan = _Plan(base, lines)
        if not plan.grow(delta):
            assert base and not base.endswith(b"\n")  # only an unfinished last line forces a re-plan
            continue
        doc = MemoryDocument("m.md", base + delta)
        doc.append_entry("code", "task-1", "text", now=NOW)
        assert base + delta + plan.addition()[0] == doc.data, (shape, delta)
    assert not _Plan(base, lines).grow(b"```\n") and not _Plan(base, lines).grow(b"# New section\n")
