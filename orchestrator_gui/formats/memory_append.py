"""Append one entry to ``persistent-memory.md`` without rewriting it (docs/formats.md §3.4).

Agents append to the memory log while we run. Rewriting the whole file (read,
add, rename) would drop whatever they appended in between, so an entry is
appended like a timing row (:mod:`orchestrator_gui.formats.timing_write`):
under the file's lock, on an ``O_APPEND`` descriptor, in **one** ``write``.

The bytes are exactly those :meth:`MemoryDocument.append_entry` adds to the
file as it is at the moment of the write (newline style, BOM, a last line
without newline, the blank separator line): the old content stays a
byte-exact prefix. An agent may append while the entry is planned (it takes
no lock). What it appended is then looked at: lines that cannot open a code
fence or an HTML comment change only the tail and the newline counts, from
which the entry's separator and line ending are computed again without
re-reading the file; anything else is planned again from scratch.
"""

from __future__ import annotations

import contextlib
import os
import stat
from datetime import UTC, datetime

from orchestrator_gui.formats import file_lock
from orchestrator_gui.formats.fileio import UTF8_BOM, check_size, decode_text, stat_regular_file
from orchestrator_gui.formats.memory import MemoryDocument, MemoryEntry
from orchestrator_gui.formats.memory_scan import scan_tail
from orchestrator_gui.formats.write_session import check_writable
from orchestrator_gui.problems import ConflictError, FormatError

#: How often the entry is planned again when the file keeps growing under it.
_ATTEMPTS = 20
#: Bytes whose appearance in appended text may open a code fence or comment, or start a
#: section heading (the new entry would belong to it): a full re-plan then.
_CODE_BYTES = frozenset(b"`~<#")
#: How often the file is opened again when it is replaced while we wait for its lock.
_REOPENS = 50


def _open(real: str, name: str) -> int:
    flags = os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    st = stat_regular_file(real, name)
    check_size(name, st.st_size)
    check_writable(real, st, name)
    try:
        return os.open(real, flags)
    except FileNotFoundError:
        raise FormatError(name, "file not found") from None
    except PermissionError:
        raise FormatError(name, "permission denied") from None
    except OSError as exc:
        raise FormatError(name, f"cannot open file: {exc.strerror or exc}") from None


def _read_all(fd: int, size: int) -> bytes:
    chunks, pos = [], 0
    while pos < size:
        chunk = _pread(fd, min(size - pos, 1 << 20), pos)
        if not chunk:
            break
        chunks.append(chunk)
        pos += len(chunk)
    return b"".join(chunks)


def append_entry(path: str | os.PathLike[str], mode: str, entry_id: str, text: str, *,
                 now: datetime | None = None, label: str = "Finding") -> MemoryEntry:
    """Append a heading entry to a memory log, never touching the bytes already there.

    Parameters
    ----------
    path : path-like
        The ``persistent-memory.md`` file; it must exist (a symbolic link is
        followed; hard links, owner and mode are untouched by an append).
    mode, entry_id, text, now, label
        As :meth:`MemoryDocument.append_entry`.

    Returns
    -------
    MemoryEntry
        The new entry; its line numbers count the lines other programs
        appended before it.

    Raises
    ------
    FormatError
        Missing, unreadable, too large or non-UTF-8 file, invalid arguments,
        a file ending inside an unclosed code fence, or a failed write
        (nothing of a partial write is left).
    WriteProtectedError
        A read-only file, unless writing is forced.
    ConflictError
        The file kept growing under every attempt to plan the entry.
    """
    name = str(path)
    real = os.path.realpath(path)
    now = now if now is not None else datetime.now(UTC)  # one time stamp, however often it is planned
    fd = _open(real, name)
    try:
        for _ in range(_REOPENS):
            lock = file_lock.lock_fd(fd, real, name, wait_s=file_lock.LOCK_WAIT_S)
            if lock is not None:
                break
            os.close(fd)
            fd = -1
            fd = _open(real, name)
        else:
            raise ConflictError(name, "the file keeps being replaced by another program; nothing was written")
        try:
            entry, _start, _line = _append_locked(fd, path, name, mode, entry_id, text, now, label)
        finally:
            file_lock.release(lock)
        with contextlib.suppress(OSError):
            getattr(os, "fdatasync", os.fsync)(fd)
        return entry
    finally:
        if fd >= 0:
            os.close(fd)


def _read_all_from(fd: int, offset: int, size: int) -> bytes:
    return _pread(fd, size, offset) if size > 0 else b""


def _pread(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    # pragma: no cover - Windows has no pread; O_APPEND writes ignore the position anyway.
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


class _Plan:
    """What decides the appended bytes: the newline counts and the last line of the file."""

    def __init__(self, data: bytes, entry_lines: list[str]) -> None:
        self.size = len(data)
        self.crlf = data.count(b"\r\n")
        self.lf = data.count(b"\n")
        self.tail = data[data.rfind(b"\n") + 1:]  # the last line if unterminated, else b""
        self.last_blank = _last_line_blank(data)
        self.empty = not data.removeprefix(b"\xef\xbb\xbf")
        self.entry_lines = entry_lines

    def grow(self, delta: bytes) -> bool:
        """Take in bytes appended since; False when they need a full re-plan."""
        if self.tail or _CODE_BYTES.intersection(delta) or b"\x00" in delta:
            return False  # they continue a line we have not seen end, or may open code: re-parse
        try:
            delta.decode("utf-8")
        except UnicodeDecodeError:
            return False  # the reader refuses such a file: let the full plan say so
        self.size += len(delta)
        self.crlf += delta.count(b"\r\n")
        self.lf += delta.count(b"\n")
        self.tail = delta[delta.rfind(b"\n") + 1:]
        if delta:  # our file ended with a line end, so its last line is now the delta's
            self.last_blank = _last_line_blank(delta, bom=False)
            self.empty = False
        return True

    def addition(self) -> tuple[bytes, int]:
        """The bytes to append, and how many line ends come before the entry's first line."""
        # As MemoryDocument.append_entry: the dominant terminator of the file, a blank separator
        # line unless the last line is blank, the last line ended first, the final-newline state kept.
        nl = "\r\n" if self.crlf > self.lf - self.crlf else "\n"
        if self.empty:
            prefix, final = "", nl
        else:
            terminated = not self.tail
            final = nl if terminated else ""
            prefix = "" if terminated else nl
            if not self.last_blank:
                prefix += nl
        return (prefix + nl.join(self.entry_lines) + final).encode("utf-8"), prefix.count("\n")


def _last_line_blank(data: bytes, *, bom: bool = True) -> bool:
    """Whether the last line of ``data`` (terminated or not) holds only whitespace, as ``is_blank``."""
    body = data.removeprefix(b"\xef\xbb\xbf") if bom else data
    if not body:
        return True
    end = len(body) - 1 if body.endswith(b"\n") else len(body)
    start = body.rfind(b"\n", 0, end) + 1
    return not body[start:end].decode("utf-8", "replace").strip()


def _append_locked(fd: int, path: str | os.PathLike[str], name: str, mode: str, entry_id: str, text: str,
                   now: datetime, label: str) -> tuple[MemoryEntry, int, int]:
    """Plan and write the entry; returns it, where it was written, and the line ends before it."""
    # The entry's own lines, as append_entry writes them (checks the arguments too).
    empty = MemoryDocument(path, b"")
    alone = empty.append_entry(mode, entry_id, text, now=now, label=label)
    entry_lines = empty.data.decode("utf-8")[:-1].split("\n")
    for _ in range(_ATTEMPTS):
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FormatError(name, "is not a regular file")
        check_size(name, st.st_size)
        old = _read_all(fd, st.st_size)
        # What MemoryDocument(path, old).append_entry(...) checks and reads, without parsing every
        # entry of the file: that it is text, and the code state and section at its end (an entry
        # appended after a blank line reads the same whatever precedes it).
        body, bom = decode_text(old, name, allow_bom=True)
        tail = scan_tail(body, old[len(UTF8_BOM):] if bom else old)
        if tail.open_code is not None:
            raise FormatError(name, "file ends inside an unclosed code fence or HTML comment; an appended "
                                    "entry would not be read as an entry. Close it first")
        entry = alone.model_copy(update={"section": tail.section})
        plan = _Plan(old, entry_lines)
        while True:
            size = os.fstat(fd).st_size
            if size == plan.size or not plan.grow(_read_all_from(fd, plan.size, size - plan.size)):
                break
            check_size(name, size)
        if size != plan.size:
            continue  # what was appended meanwhile needs a full plan
        addition, before = plan.addition()
        try:
            n = os.write(fd, addition)
        except OSError as exc:
            raise FormatError(name, f"cannot write: {exc.strerror or exc}") from None
        end = os.lseek(fd, 0, os.SEEK_CUR)  # where our write ended, whatever others appended
        if n != len(addition):
            # Disk full or a quota: remove the partial entry rather than leave half of it.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, end - n)
            raise FormatError(name, "cannot write: short write (disk full?); nothing was appended")
        start = end - n
        newlines = plan.lf + (_read_all_from(fd, plan.size, start - plan.size).count(b"\n") if start > plan.size else 0)
        line = newlines + before + 1
        return entry.model_copy(update={"line": line, "end_line": line + entry.end_line - entry.line}), start, line
    raise ConflictError(name, "the file kept growing while the entry was prepared; nothing was written")


__all__ = ["append_entry"]
