"""Writer tests for task_timing.tsv: append-only, lock-protected (docs/formats.md §4.4, §6 case 19, §7)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError
from shared_fixtures import LOCAL_DATA, REPO_ROOT, fixture_files

from orchestrator_gui.formats.timing import (
    HEADER,
    NewTimingRow,
    append_row,
    format_row,
    load_timing,
    parse_timing,
)
from orchestrator_gui.problems import FormatError, ReadOnlyError

LOCAL_TIMING = LOCAL_DATA / "timing"
START = datetime(2025, 11, 2, 10, 0, 0, 123456, tzinfo=UTC)


def fx(part: str) -> Path:
    """The one fixture whose name contains ``part`` (shared first, then the local copy)."""
    for p in fixture_files("timing") + sorted(LOCAL_TIMING.glob("*.*sv")):
        if part in p.name:
            return p
    pytest.skip(f"timing fixture *{part}* not available")


def copy_of(part: str, tmp_path: Path) -> Path:
    dst = tmp_path / "task_timing.tsv"
    shutil.copyfile(fx(part), dst)  # copyfile: the fixtures are read-only, the copy must not be
    return dst


def new_row(task_id: str = "t1", **kw) -> NewTimingRow:
    values = dict(timestamp=START, mode="code", task_id=task_id, start_time=START,
                  task="do things", result="started")
    values.update(kw)
    return NewTimingRow(**values)


# --- format_row ---------------------------------------------------------------------------


def test_format_row_standard_layout():
    row = new_row(end_time=START + timedelta(seconds=65.9), result="completed", priority="todo")
    assert format_row(row, 9) == (
        "2025-11-02T10:00:00.123Z\tcode\tt1\t2025-11-02T10:00:00.123Z\t2025-11-02T10:01:06.023Z"
        "\t65\tdo things\tcompleted\ttodo")
    # An 8-column header has no priority column.
    assert format_row(row, 8).split("\t") == format_row(row, 9).split("\t")[:8]


def test_format_row_running_task_and_explicit_duration():
    assert format_row(new_row(), 9).split("\t")[4:] == ["", "", "do things", "started", ""]
    # Written as given, never recomputed (the origin has a duration without end).
    assert format_row(new_row(duration_s=19), 8).split("\t")[4:6] == ["", "19"]


def test_format_row_converts_to_utc_milliseconds():
    plus2 = timezone(timedelta(hours=2))
    row = new_row(timestamp=datetime(2025, 1, 1, 12, 0, 0, 999999, tzinfo=plus2),
                  start_time=datetime(2025, 1, 1, 0, 30, tzinfo=plus2))
    fields = format_row(row, 9).split("\t")
    assert fields[0] == "2025-01-01T10:00:00.999Z" and fields[3] == "2024-12-31T22:30:00.000Z"


def test_format_row_default_timestamp_is_now():
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = format_row(new_row(timestamp=None), 9).split("\t")[0]
    written = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert before <= written <= datetime.now(UTC) and stamp.endswith("Z") and len(stamp) == 24


def test_tabs_and_newlines_in_text_are_replaced(tmp_path: Path):
    path = tmp_path / "task_timing.tsv"
    row = append_row(path, new_row(task="fix\tthe\r\nbug\nnow", result="completed -\tall\rgood"))
    assert (row.task, row.result) == ("fix the bug now", "completed - all good")
    assert len(row.fields) == 9
    doc = load_timing(path)
    assert len(doc.rows) == 2 and doc.rows[1].task == "fix the bug now"


def test_new_row_rejects_ids_that_would_be_misread():
    with pytest.raises(ValidationError):
        new_row(task_id="2025-11-01T07:24:32.582Z")  # the reader would take it for a shifted row
    with pytest.raises(ValidationError):
        new_row(task_id="  ")
    with pytest.raises(ValidationError):
        new_row(priority="normal")


# --- append_row on real files ------------------------------------------------------------


def test_lossy_rewriter_regression_a1a74f8f(tmp_path: Path):
    """The origin's own tool (a1a74f8f -> 4801832c) dropped 4 rows, blank lines and CRLF; we must not."""
    original = fx("a1a74f8f.tsv").read_bytes()
    before = parse_timing(original)
    dropped = [r for r in before.data_rows() if r.layout == "corrupt" or len(r.fields) < 7]
    rewritten = fx("4801832c.tsv").read_bytes()
    assert len(dropped) == 4 and all(r.raw.rstrip(b"\r\n") not in rewritten for r in dropped)

    path = copy_of("a1a74f8f.tsv", tmp_path)
    row = append_row(path, new_row("after_rewrite", result="completed"))
    data = path.read_bytes()
    assert not original.endswith(b"\n")
    assert data.startswith(original + b"\r\n")  # separator first, with the file's CRLF
    assert data == original + b"\r\n" + row.raw and not data.endswith(b"\n")
    after = parse_timing(data)
    assert after.rows[:-1] == [r.model_copy(update={"raw": r.raw + b"\r\n"}) if r is before.rows[-1] else r
                               for r in before.rows]
    for r in dropped:
        assert r in after.rows
    assert sum(1 for r in after.rows if r.layout == "blank") == 5
    assert data.count(b"\r\n") == original.count(b"\r\n") + 1
    assert data.count(b"\n") - data.count(b"\r\n") == original.count(b"\n") - original.count(b"\r\n")
    assert (row.line, after.rows[-1].line, row.task_id) == (31, 31, "after_rewrite")
    assert len(row.fields) == 9 and after.rows[-1] == row


def test_append_without_final_newline_lf(tmp_path: Path):
    path = copy_of("e0af0f6f.tsv", tmp_path)
    original = path.read_bytes()
    first = append_row(path, new_row("a"))
    second = append_row(path, new_row("b"))
    data = path.read_bytes()
    line_a, line_b = (format_row(new_row(t), 9).encode() for t in "ab")
    assert data == original + b"\n" + line_a + b"\n" + line_b
    assert (first.line, second.line) == (31, 32)
    assert second.raw == format_row(new_row("b"), 9).encode() and second.terminator == b""


def test_append_rows_writes_a_batch_as_consecutive_whole_rows(tmp_path: Path):
    from orchestrator_gui.formats.timing_write import append_rows
    path = copy_of("e0af0f6f.tsv", tmp_path)  # LF, no final newline
    original = path.read_bytes()
    calls = []
    rows = append_rows(path, [new_row("a"), new_row("b", priority="todo"), new_row("c")],
                       on_written=lambda: calls.append(path.read_bytes()))
    lines = [format_row(new_row("a"), 9), format_row(new_row("b", priority="todo"), 9), format_row(new_row("c"), 9)]
    assert path.read_bytes() == original + b"\n" + "\n".join(lines).encode()
    assert calls == [path.read_bytes()]  # called once, after the write
    assert [(r.line, r.task_id, r.priority) for r in rows] == [(31, "a", None), (32, "b", "todo"), (33, "c", None)]
    assert rows[0].raw == lines[0].encode() + b"\n" and rows[2].terminator == b""
    assert append_rows(path, [new_row("d")], parse=False, sync=False) == [None]
    assert load_timing(path).rows[-1].task_id == "d" and len(load_timing(path).rows) == 34


def test_append_keeps_final_newline(tmp_path: Path):
    src = next((p for p in fixture_files("timing") if "c45ad2ca" in p.name), None)
    if src is None:
        pytest.skip("c45ad2ca not available")
    path = tmp_path / "task_timing.tsv"
    shutil.copyfile(src, path)
    original = path.read_bytes()
    assert original.endswith(b"\n")
    row = append_row(path, new_row("c"))
    # 8-column header: no priority field; LF file that ends with LF keeps doing so.
    assert path.read_bytes() == original + format_row(new_row("c"), 8).encode() + b"\n"
    assert len(row.fields) == 8 and row.raw.endswith(b"\tstarted\n")


def test_append_after_utf16_tail(tmp_path: Path):
    path = copy_of("5d7a55d0.tsv", tmp_path)
    original = path.read_bytes()
    assert original.endswith(b"\n\x00")
    row = append_row(path, new_row("d", priority="schedule"))
    data = path.read_bytes()
    assert data == original + b"\r\n" + row.raw
    assert len(row.fields) == 8 and row.priority is None  # 8-column header: priority not written
    doc = parse_timing(data)
    assert [r.layout for r in doc.rows[-2:]] == ["corrupt", "standard"]
    assert doc.rows[-2].raw.endswith(b"\n\x00\r\n") and doc.rows[-1].line == row.line == 21


def test_lone_cr_at_end_is_completed_not_doubled(tmp_path: Path):
    path = tmp_path / "task_timing.tsv"
    path.write_bytes(HEADER.encode() + b"\r\n2025-01-01T00:00:00Z\tcode\tx\t\t\t\tt\tstarted\t\r")
    row = append_row(path, new_row("e"))
    assert path.read_bytes().endswith(b"\tstarted\t\r\n" + row.raw)
    assert [r.layout for r in load_timing(path).rows] == ["header", "standard", "standard"]


def test_create_missing_file_writes_header(tmp_path: Path):
    path = tmp_path / "ws" / "task_timing.tsv"
    row = append_row(path, new_row("f"))
    assert path.read_bytes() == (HEADER + "\n" + format_row(new_row("f"), 9) + "\n").encode()
    assert HEADER.split("\t")[-1] == "priority"
    assert (row.line, row.layout) == (2, "standard")
    empty = tmp_path / "empty.tsv"
    empty.write_bytes(b"")
    append_row(empty, new_row("g"), create=False)
    assert empty.read_bytes().startswith(HEADER.encode() + b"\n")


def test_create_false_refuses_missing_file(tmp_path: Path):
    path = tmp_path / "task_timing.tsv"
    with pytest.raises(FormatError, match="not found"):
        append_row(path, new_row(), create=False)
    assert not path.exists()


def test_csv_sibling_is_read_only(tmp_path: Path):
    path = tmp_path / "task_timing.csv"
    shutil.copyfile(fx("a1a74f8f.csv"), path)
    with pytest.raises(ReadOnlyError):
        append_row(path, new_row())
    disguised = tmp_path / "timing.tsv"
    shutil.copyfile(fx("a1a74f8f.csv"), disguised)
    with pytest.raises(ReadOnlyError):
        append_row(disguised, new_row())
    assert path.read_bytes() == disguised.read_bytes() == fx("a1a74f8f.csv").read_bytes()


def test_refuses_utf16_file_and_directory(tmp_path: Path):
    path = tmp_path / "task_timing.tsv"
    content = "\ufefftimestamp\tmode\n".encode("utf-16-le")
    path.write_bytes(content)
    with pytest.raises(FormatError, match="UTF-16"):
        append_row(path, new_row())
    assert path.read_bytes() == content
    with pytest.raises(FormatError, match="directory"):
        append_row(tmp_path, new_row())


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
def test_permission_denied(tmp_path: Path):
    path = tmp_path / "task_timing.tsv"
    path.write_bytes(HEADER.encode())
    path.chmod(0o444)
    with pytest.raises(FormatError, match="permission denied"):
        append_row(path, new_row())


# --- concurrency ---------------------------------------------------------------------------

PROCESS_ROWS = 1000
THREADS, THREAD_ROWS = 8, 500
CHILD = """
import sys
from datetime import datetime, timezone
from orchestrator_gui.formats.timing import NewTimingRow, append_row
path, n = sys.argv[1], int(sys.argv[2])
start = datetime(2025, 11, 2, tzinfo=timezone.utc)
print("ready", flush=True)
sys.stdin.readline()
out = []
for i in range(n):
    r = append_row(path, NewTimingRow(timestamp=start, mode="code", task_id=f"proc-{i}", start_time=start,
                                      task=f"process row {i} " + "p" * (i % 50), result="started"))
    out.append(f"proc-{i}:{r.line}")
print(" ".join(out), flush=True)
"""


def expected_task(task_id: str) -> str:
    who, i = task_id.rsplit("-", 1)
    if who == "proc":
        return f"process row {i} " + "p" * (int(i) % 50)
    return f"thread {who} row {i} " + "x" * (10 * int(who[1:]))


def test_concurrent_appends_threads_and_process(tmp_path: Path):
    path = copy_of("a1a74f8f.tsv", tmp_path)  # CRLF, no final newline: every append writes a separator
    original = path.read_bytes()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(PROCESS_ROWS)], cwd=REPO_ROOT,
                             env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        gate = threading.Barrier(THREADS + 1)
        lines: dict[str, int] = {}
        errors: list[BaseException] = []

        def worker(k: int) -> None:
            gate.wait()
            try:
                for i in range(THREAD_ROWS):
                    task_id = f"t{k}-{i}"
                    r = append_row(path, new_row(task_id, task=expected_task(task_id)))
                    lines[task_id] = r.line
            except BaseException as exc:  # reported below, not swallowed
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
        for t in threads:
            t.start()
        child.stdin.write("go\n")
        child.stdin.flush()
        gate.wait()
        for t in threads:
            t.join()
        out, _ = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0 and not errors
    for item in out.split():
        task_id, line = item.split(":")
        lines[task_id] = int(line)

    data = path.read_bytes()
    assert data.startswith(original + b"\r\n") and not data.endswith(b"\n")
    doc = parse_timing(data)
    old = parse_timing(original)
    new = doc.rows[len(old.rows):]
    total = THREADS * THREAD_ROWS + PROCESS_ROWS
    assert len(new) == total
    assert Counter(r.layout for r in new) == {"standard": total}
    ids = Counter(r.task_id for r in new)
    assert len(ids) == total and set(ids.values()) == {1}
    for r in new:
        # Whole rows: every field exactly as written, CRLF between rows, none after the last.
        assert r.fields[1:3] == ["code", r.task_id] and len(r.fields) == 9
        assert (r.task, r.result) == (expected_task(r.task_id), "started")
        assert r.terminator == (b"" if r is new[-1] else b"\r\n")
    # Every append reported the physical line its row landed on.
    by_line = {r.line: r.task_id for r in new}
    assert {task_id: by_line.get(line) for task_id, line in lines.items()} == {t: t for t in lines}


def test_concurrent_creation_writes_one_header(tmp_path: Path):
    path = tmp_path / "task_timing.tsv"
    gate = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        gate.wait()
        try:
            for i in range(50):
                append_row(path, new_row(f"c{k}-{i}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    doc = load_timing(path)
    assert [r.layout for r in doc.rows].count("header") == 1 and doc.rows[0].layout == "header"
    assert Counter(r.layout for r in doc.rows[1:]) == {"standard": THREADS * 50}
    assert doc.data.endswith(b"\n") and b"\r" not in doc.data


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_lock_is_held_for_tail_read_and_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import fcntl

    path = copy_of("e0af0f6f.tsv", tmp_path)
    inode = path.stat().st_ino
    calls: list[str] = []

    def assert_locked() -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)

    real_write, real_pread = os.write, os.pread

    def write(fd: int, data: bytes) -> int:
        if os.fstat(fd).st_ino == inode:
            assert_locked()
            calls.append("write")
        return real_write(fd, data)

    def pread(fd: int, n: int, offset: int) -> bytes:
        if os.fstat(fd).st_ino == inode and "write" not in calls:
            assert_locked()  # header and tail are read under the same lock as the write
            calls.append("pread")
        return real_pread(fd, n, offset)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "pread", pread)
    append_row(path, new_row("probe"))
    monkeypatch.undo()
    # head, the readability scan and tail (all under the lock), then ONE write
    assert calls[-1] == "write" and calls.count("write") == 1 and set(calls[:-1]) == {"pread"}
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released afterwards
    finally:
        os.close(fd)


def test_line_numbers_stay_right_when_the_file_is_replaced(tmp_path):
    """A file rewritten in place (same inode, other content) must not reuse a stale line count."""
    path = tmp_path / "task_timing.tsv"
    start = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
    row = NewTimingRow(mode="code", task_id="t1", task="a", result="started", start_time=start, priority="todo")
    for _ in range(5):
        append_row(path, row)
    assert append_row(path, row).line == 7
    header = path.read_bytes().split(b"\n", 1)[0] + b"\n"
    with open(path, "r+b") as fh:  # same inode: blank lines, then the header and a longer history
        fh.write(b"\n" * 30 + header + b"x\tcode\tt0\t\t\t\tlegacy\tstarted\t\n" * 3)
    lines = path.read_bytes().count(b"\n")
    assert append_row(path, row).line == lines + 1
