"""Append-only, lock-protected writer for ``task_timing.tsv`` (docs/formats.md §4.4).

The file is a log that agents, shell one-liners and this app append to at
the same time, and most real versions have no final newline. So an append
never rewrites anything. Under an exclusive ``flock`` it looks at the first
line (header column count) and the last bytes (dominant terminator, final
newline). If the file does not end with ``\\n`` it writes the separator
first, and it keeps the file's final-newline convention. The row goes out in
**one** ``os.write`` on an ``O_APPEND`` descriptor, so even writers that do
not lock (PowerShell ``>>``) cannot interleave with it.

An append refuses exactly the files the reader refuses (binary data, a
UTF-16 file without BOM, ...): UTF-8 rows appended to them would be mixed
into text of another encoding. A scan at C speed, whatever the file's size,
recognises the files the reader certainly accepts; only a file it cannot
vouch for is parsed like the reader does (up to the 20 MB read limit; past
it, its first and last megabyte are judged).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import stat
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, field_validator

from orchestrator_gui.formats import file_lock
from orchestrator_gui.formats.fileio import MAX_FILE_BYTES
from orchestrator_gui.formats.timing_read import STANDARD_COLUMNS, TimingRow, is_iso, make_row, parse_timing
from orchestrator_gui.problems import FormatError, ReadOnlyError

#: The header a new file gets: the 9-column format of §4.1.
HEADER = "\t".join(STANDARD_COLUMNS)
#: How much of the file's start/end an append reads: enough for the header
#: line and for a terminator census, while keeping each append O(1).
_HEAD_BYTES = 64 * 1024
_TAIL_BYTES = 8 * 1024
#: Characters that would break the row into fields or lines (NUL would make
#: the reader take the row for a UTF-16 fragment).
_BREAKERS = re.compile(r"\r\n|[\t\r\n\x00]")
#: Bytes the reader does not count as damage: all but NUL and the control characters of its _CONTROL_RE.
_CLEAN_BYTES = bytes(b for b in range(256) if not (b <= 0x08 or b in (0x0B, 0x0C) or 0x0E <= b <= 0x1F or b == 0x7F))
_SCAN_BYTES = 1 << 20
#: How often the file is opened again when it is replaced while we wait for its lock.
_REOPENS = 50


class NewTimingRow(BaseModel):
    """A row to append, in the standard layout.

    Attributes
    ----------
    timestamp : datetime or None
        When the row is written; ``None`` means now.
    mode : str
        Roo mode slug that did the work.
    task_id : str
        Groups the rows of one logical task; must not be empty or an ISO
        date-time (the reader would take such a row for a shifted one).
    start_time : datetime
        Task start.
    end_time : datetime or None
        Task end; ``None`` while running.
    duration_s : int or None
        Written as is; ``None`` means ``int(end - start)`` when ``end_time`` is given.
    task, result : str
        Description and status text (``started``, ``completed - details`` …).
    priority : {"schedule", "todo"} or None
        Written only to files whose header has a ``priority`` column.

    Naive datetimes are local time (as ``datetime.now()`` returns); all are
    written in UTC like JavaScript's ``toISOString()``.
    """

    timestamp: datetime | None = None
    mode: str
    task_id: str
    start_time: datetime
    end_time: datetime | None = None
    duration_s: int | None = None
    task: str
    result: str
    priority: Literal["schedule", "todo"] | None = None

    @field_validator("task_id")
    @classmethod
    def _task_id_usable(cls, value: str) -> str:
        if not clean_text(value).strip():
            raise ValueError("task_id must not be empty")
        if is_iso(clean_text(value)):
            raise ValueError("task_id must not be an ISO date-time (readers would misread the row)")
        return value

    @field_validator("mode")
    @classmethod
    def _mode_not_time(cls, value: str) -> str:
        if is_iso(clean_text(value)):
            raise ValueError("mode must not be an ISO date-time (readers would misread the row)")
        return value

    def effective_duration(self) -> int | None:
        """Return the duration to write: ``duration_s``, else ``int(end - start)`` if ended."""
        if self.duration_s is not None:
            return self.duration_s
        if self.end_time is None:
            return None
        return int((_utc(self.end_time) - _utc(self.start_time)).total_seconds())


def clean_text(text: str) -> str:
    """Replace tabs, line breaks and NULs by spaces so the text stays one field of one line."""
    return _BREAKERS.sub(" ", text)


def _utc(dt: datetime) -> datetime:
    # astimezone() on a naive datetime assumes local time, like JS `new Date(y, m, d…)`.
    return dt.astimezone(UTC)


def iso_js(dt: datetime) -> str:
    """Format like JavaScript ``Date.prototype.toISOString()``: UTC, milliseconds, ``Z``."""
    u = _utc(dt)
    return f"{u:%Y-%m-%dT%H:%M:%S}.{u.microsecond // 1000:03d}Z"


def format_row(row: NewTimingRow, columns: int) -> str:
    """Return the row's line in the standard layout, without terminator.

    Parameters
    ----------
    row : NewTimingRow
        What to write.
    columns : int
        The header's column count: 9 (or more) writes the ``priority`` field,
        anything else writes 8 fields and drops ``priority`` (the file has no
        column for it).

    Returns
    -------
    str
        Tab-joined fields; timestamps as ``toISOString()``, duration in integer seconds.
    """
    duration = row.effective_duration()
    fields = [
        iso_js(row.timestamp or datetime.now(UTC)),
        clean_text(row.mode),
        clean_text(row.task_id),
        iso_js(row.start_time),
        iso_js(row.end_time) if row.end_time is not None else "",
        str(duration) if duration is not None else "",
        clean_text(row.task),
        clean_text(row.result),
    ]
    if columns >= 9:
        fields.append(row.priority or "")
    return "\t".join(fields)


def _open_append(p: Path, name: str, flags: int, create: bool) -> int:
    """Open the file for appending (creating it and its folder when allowed)."""
    try:
        try:
            return os.open(p, flags, 0o666)
        except FileNotFoundError:
            if not create or p.parent.is_dir():
                raise
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise FormatError(name, f"cannot create folder: {exc.strerror or exc}") from None
            return os.open(p, flags, 0o666)
    except FileNotFoundError:
        raise FormatError(name, "file not found") from None
    except IsADirectoryError:
        raise FormatError(name, "is a directory, expected a file") from None
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except OSError as exc:
        raise FormatError(name, f"cannot open file: {exc.strerror or exc}") from None


def _open_locked(p: Path, name: str, flags: int, create: bool) -> tuple[int, file_lock.FileLock]:
    """Open the file and take its lock, the one every writer of ours takes (docs/write-protocol.md).

    The lock lives on the file itself. A rewrite by another writer replaces
    the file with a new inode while we wait for the lock; appending to the
    old one would lose the rows. So once locked, the name is looked up
    again, and the new file is opened when it changed.
    """
    for _ in range(_REOPENS):
        fd = _open_append(p, name, flags, create)
        try:
            # Blocking (no deadline): the wait costs no GIL, and an appender holds no other lock.
            lock = file_lock.lock_fd(fd, os.fspath(p), name, wait_s=None)
        except BaseException:
            os.close(fd)
            raise
        if lock is not None:
            return fd, lock
        os.close(fd)
    raise FormatError(name, "the file keeps being replaced by another program; nothing was appended")


def _header_columns(fd: int, size: int, name: str) -> int:
    """Return the header's column count for 8/9-field rows (9 when there is no header)."""
    # Most headers fit in the first few hundred bytes: read 4 KB, and only
    # read up to _HEAD_BYTES when the first line is longer.
    head = _pread(fd, min(size, 4096), 0)
    if b"\n" not in head and size > len(head):
        head = _pread(fd, min(size, _HEAD_BYTES), 0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormatError(name, "file is UTF-16 encoded; refusing to append UTF-8 rows to it", line=1)
    first = head.split(b"\n", 1)[0].rstrip(b"\r").removeprefix(b"\xef\xbb\xbf")
    fields = first.decode("utf-8", "replace").split("\t")
    if b"\t" not in first and b"," in first and first.split(b",", 1)[0].strip().lower() == b"task_id":
        raise ReadOnlyError(name, "this is the comma-separated task_timing.csv sibling; it is read-only")
    if fields[0].strip().lower() not in ("timestamp", "task_id"):
        return len(STANDARD_COLUMNS)
    return 9 if "priority" in (f.strip().lower() for f in fields) else 8


def _surely_readable(fd: int, size: int) -> bool:
    """True when the reader certainly accepts the file; computed at C speed, whatever its size.

    The reader refuses a file whose damage (stray NULs, control characters,
    invalid UTF-8) exceeds a quarter of its bytes, or whose every non-blank
    line holds a NUL (UTF-16 without BOM). Counting NUL and control bytes and
    U+FFFD from a lenient decode bounds the damage from above, and one clean
    line near the start rules the second case out. When this says False the
    file is parsed exactly (:func:`_check_appendable`).
    """
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    damage = nuls = pos = 0
    while pos < size:
        chunk = _pread(fd, min(_SCAN_BYTES, size - pos), pos)
        if not chunk:
            break
        nuls += chunk.count(0)
        damage += len(chunk.translate(None, _CLEAN_BYTES))  # what is left: NUL and control bytes
        damage += decoder.decode(chunk).count("\ufffd") - chunk.count(b"\xef\xbf\xbd")
        pos += len(chunk)
    damage += decoder.decode(b"", final=True).count("\ufffd")
    if damage * 4 > size:
        return False
    return nuls == 0 or _has_clean_line(_pread(fd, min(size, _HEAD_BYTES), 0))


def _has_clean_line(head: bytes) -> bool:
    """A non-blank line without NUL whose ``\n`` is a real line end (not the low byte of a UTF-16 unit)."""
    start = 0
    while start < len(head):
        nl = head.find(b"\n", start)
        if nl < 0:
            return False  # the last, possibly cut, line of the window does not count
        line = head[start:nl]
        if line.strip() and 0 not in line and head[nl + 1:nl + 2] != b"\x00":
            return True
        start = nl + 1
    return False


def _check_appendable(fd: int, size: int, name: str) -> None:
    """Refuse to append to a file that ``timing list`` refuses (docs/formats.md §4.4).

    Raises
    ------
    FormatError
        The reader's own message, prefixed with "refusing to append".
    """
    if size == 0 or _surely_readable(fd, size):
        return
    if size <= MAX_FILE_BYTES:
        samples = [_pread(fd, size, 0)]
    else:
        # Too large to parse on every append: judge by its first and last megabyte, whole lines only.
        head = _pread(fd, _SCAN_BYTES, 0)
        tail = _pread(fd, _SCAN_BYTES, size - _SCAN_BYTES)
        samples = [head[:head.rfind(b"\n") + 1] or head, tail[tail.find(b"\n") + 1:] or tail]
    for data in samples:
        try:
            parse_timing(data, name)
        except FormatError as exc:
            raise FormatError(name, f"refusing to append: {exc.message}", line=exc.line) from None


def _plan(fd: int, size: int, lines: list[tuple[str, str]], name: str) -> tuple[bytes, list[int], list[str]]:
    """Return (payload, row start offsets in it + its end, header columns) for an append at ``size``.

    ``lines`` holds each row's 8-field line and its priority field, formatted
    before the lock was taken (see :func:`append_rows`).
    """
    if size == 0:
        ncols, sep, nl, after, prefix = len(STANDARD_COLUMNS), b"", b"\n", b"\n", (HEADER + "\n").encode("utf-8")
    else:
        ncols = _header_columns(fd, size, name)
        _check_appendable(fd, size, name)
        tail = _pread(fd, min(size, _TAIL_BYTES), size - min(size, _TAIL_BYTES))
        crlf = tail.count(b"\r\n")
        nl = b"\r\n" if crlf > tail.count(b"\n") - crlf else b"\n"
        if tail.endswith(b"\n"):
            sep, after = b"", nl
        else:
            # The file has no final terminator (most real versions): end the last
            # line first, and leave ours unterminated too. A lone \r is a cut CRLF.
            sep = b"\n" if (tail.endswith(b"\r") and nl == b"\r\n") else nl
            after = b""
        prefix = sep
    encoded = [(line + "\t" + priority if ncols >= 9 else line).encode("utf-8") for line, priority in lines]
    payload = prefix + nl.join(encoded) + after
    starts, pos = [], len(prefix)
    for e in encoded:
        starts.append(pos)
        pos += len(e) + len(nl)
    starts.append(len(payload))
    columns = list(STANDARD_COLUMNS[:9 if ncols >= 9 else 8])
    return payload, starts, columns


def _pread(fd: int, size: int, offset: int) -> bytes:
    pread = getattr(os, "pread", None)
    if pread is not None:
        return pread(fd, size, offset)
    # pragma: no cover - Windows has no pread; the fd is private to this call and
    # O_APPEND writes ignore the position, so seeking for a read is harmless.
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def _count_newlines(fd: int, end: int) -> int:
    # Counted afresh on every call: a cached count keyed by inode can go stale when another tool
    # rewrites the file in place. The engine appends with ``parse=False`` and never pays for this.
    count, pos = 0, 0
    while pos < end:
        chunk = _pread(fd, min(1 << 20, end - pos), pos)
        if not chunk:
            break
        count += chunk.count(b"\n")
        pos += len(chunk)
    return count


def append_row(path: str | os.PathLike[str], row: NewTimingRow, *, create: bool = True) -> TimingRow:
    """Append one row to a timing file, never touching the bytes already there.

    Parameters
    ----------
    path : path-like
        The ``task_timing.tsv`` file.
    row : NewTimingRow
        The row to write (standard layout).
    create : bool
        Create a missing file (and its folder) with the 9-column header.

    Returns
    -------
    TimingRow
        The row as the reader parses it, with its physical line number.

    Raises
    ------
    FormatError
        Missing file with ``create=False``, a folder, permission denied, a
        UTF-16 file, or a failed write (nothing of a partial write is left).
    ReadOnlyError
        For the ``task_timing.csv`` sibling.
    """
    return append_rows(path, [row], create=create)[0]  # type: ignore[return-value]


def append_rows(path: str | os.PathLike[str], rows: Sequence[NewTimingRow], *, create: bool = True,
                parse: bool = True, sync: bool = True,
                on_written: Callable[[], None] | None = None) -> list[TimingRow | None]:
    """Append several rows in one locked ``write`` and one flush (a group commit).

    The rows go out consecutively, in order, each whole, under one ``flock``:
    the same guarantees as :func:`append_row`, for the cost of one append.

    Parameters
    ----------
    path : path-like
        The ``task_timing.tsv`` file.
    rows : sequence of NewTimingRow
        The rows to write, in file order.
    create : bool
        Create a missing file (and its folder) with the 9-column header.
    parse : bool
        Return each row as the reader parses it (with its line number); with
        ``False`` the list holds ``None`` and the file's lines are not counted.
    sync : bool
        ``fdatasync`` before returning, so the rows survive a power loss. With
        ``False`` they are in the file (every reader and a crash of this
        process see them) and reach the disk with the next synced append.
    on_written : callable, optional
        Called once the rows are in the file and the lock is released, before
        the flush: a group committer can let the next batch be written while
        this one is flushed.

    Returns
    -------
    list of TimingRow or None
        One per row, in order.

    Raises
    ------
    FormatError, ReadOnlyError
        As :func:`append_row`; nothing of the batch is written then.
    """
    name = str(path)
    p = Path(path)
    if p.suffix.lower() == ".csv":
        raise ReadOnlyError(name, "task_timing.csv is read-only; rows are appended to task_timing.tsv")
    if not rows:
        return []
    # Formatted before the lock: the lock is held only for the syscalls. In a
    # busy process every Python step under the lock may wait for the GIL, and
    # every other appender (threads and processes) waits for the lock.
    lines = [(format_row(r, 8), r.priority or "") for r in rows]
    # Every syscall here releases the GIL and may wait to get it back, up to
    # the switch interval (5 ms) in a process with busy threads: an append
    # makes as few as it can (no folder check unless the open fails, one
    # fstat, no lseek unless needed). The header is read again each time: a
    # cache keyed by inode could outlive a file whose inode number is reused.
    flags = os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    if create:
        flags |= os.O_CREAT
    fd, lock = _open_locked(p, name, flags, create)
    try:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise FormatError(name, "is not a regular file")
            size = st.st_size
            payload, starts, columns = _plan(fd, size, lines, name)
            try:
                written = os.write(fd, payload)
            except OSError as exc:
                raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
            if parse or written != len(payload):
                end = os.lseek(fd, 0, os.SEEK_CUR)  # where our write ended, whatever non-locking writers did
            else:
                end = size + written
            if written != len(payload):
                # Disk full or a quota: remove the partial rows rather than leave half a line.
                os.ftruncate(fd, end - written)
                raise FormatError(name, "cannot write: short write (disk full?); nothing was appended")
        finally:
            file_lock.release(lock)
        if on_written is not None:
            on_written()
        # Outside the lock, so appenders do not queue behind each other's disk flush.
        if sync:
            with contextlib.suppress(OSError):
                getattr(os, "fdatasync", os.fsync)(fd)
        if not parse:
            return [None] * len(rows)
        # Bytes before our rows never change (append-only), so counting them
        # needs no lock; the count is the first row's physical line number minus one.
        first = end - len(payload) + starts[0]
        line = _count_newlines(fd, first) + 1
    finally:
        os.close(fd)
    return [make_row(payload[a:b], line + i, columns, "\t")[0] for i, (a, b) in enumerate(zip(starts, starts[1:]))]
