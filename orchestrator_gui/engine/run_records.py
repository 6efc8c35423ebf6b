"""Our own record of runs: ``.orchestrator/runs.jsonl``, one JSON object per line, only ever appended.

Why a file of our own: ``task_timing.tsv`` and ``schedules.json`` belong to
the agents and the Roo extension, which read them, so a dry run (a
rehearsal: no runner configured, or ``--dry-run``) must not appear there; and
the 3-strike failure count has to survive the process (``run --once`` from
cron is a new process every time). Both needs are met by this record, which
nobody but this app reads.

Records (every one has ``record``, ``time`` (ISO 8601, UTC), ``kind`` and
``subject_id``; ``v`` is the format version, 1):

``run``
    One finished agent run (dry or not): ``task_id``, ``title``, ``mode``,
    ``status``, ``dry_run``, ``dry_reason``, ``started_at``, ``ended_at``,
    ``duration_s``, ``exit_code``, ``timeout_s``, ``warned``, ``error``, ``log``.
``warning``
    A running task passed the warning share (80 %) of its time limit:
    ``task_id``, ``elapsed_s``, ``limit_s``.
``escalated``
    The item failed ``failures`` times in a row and is paused
    (:mod:`.failures`): ``task_id``, ``failures``, ``status``, ``exit_code``, ``reason``.
``resumed``
    The user cleared the pause (``schedules resume``, the Schedules panel):
    the failure count starts again from zero.

Derived state (:class:`RecordState`): an item's consecutive failures are
the ``failed``/``timeout`` runs after its last ``completed`` run or
``resumed`` record (cancelled and dry runs do not count); its escalation is
open from an ``escalated`` record until a ``resumed`` one.

Writing: each append is one ``write`` with ``O_APPEND`` under an exclusive
``flock``, so processes never interleave, and :meth:`RunRecords.transaction`
holds the lock over a read-decide-append (the failure counter's, so two
processes that fail at once escalate once). Records are not fsync'ed: they
survive the process, not a power cut (the timing rows, which are, cost one
``fdatasync`` per batch already).

Reading is incremental: a :class:`RunRecords` remembers how far it has read
and folds only the new complete lines. Limits (hostile or damaged file): a
reader that starts on a file reads only its last :data:`MAX_SCAN` bytes; a
line longer than :data:`MAX_LINE` is skipped; each line goes through
:func:`~orchestrator_gui.formats.limits.load_json` (nesting, number length);
a line that is not a record is skipped and reported in
:attr:`RunRecords.problems` (at most :data:`MAX_PROBLEMS` kept). State kept
per task (runs, warnings) is capped at :data:`MAX_TASKS` entries, the oldest
dropped first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator_gui.formats.limits import load_json
from orchestrator_gui.problems import FormatError

#: Where the records are, relative to the workspace root.
RECORDS = Path(".orchestrator") / "runs.jsonl"
#: A reader that starts on a file reads at most this many bytes from its end.
MAX_SCAN = 8 << 20
#: Longest line accepted (a record is a few hundred bytes; a run's error text is capped below).
MAX_LINE = 64 << 10
#: Runs and warnings remembered per reader (the newest).
MAX_TASKS = 5000
#: Problems remembered per reader.
MAX_PROBLEMS = 20
#: Longest text kept in one field of a record.
MAX_TEXT = 2000
VERSION = 1
_KINDS = ("schedule", "todo")

Key = tuple[str, str]


def now_iso() -> str:
    """The current UTC time as the records write it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    """A record's ISO time as an aware datetime, ``None`` when absent or unreadable."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _text(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    return value


def run_record(result: Any, *, dry_reason: str | None = None) -> dict[str, Any]:
    """The ``run`` record of a :class:`~orchestrator_gui.engine.tasks.RunResult`."""
    return {
        "v": VERSION, "record": "run", "time": now_iso(), "task_id": result.task_id, "kind": result.kind,
        "subject_id": result.subject_id, "title": _text(result.title), "mode": result.mode,
        "status": result.status, "dry_run": bool(result.dry_run),
        "dry_reason": dry_reason if result.dry_run else None,
        "started_at": result.started_at.isoformat(), "ended_at": result.ended_at.isoformat(),
        "duration_s": round(float(result.duration_s), 3), "exit_code": result.exit_code,
        "timeout_s": result.timeout_s, "warned": bool(result.warned), "error": _text(result.error),
        "log": result.log_path,
    }


def event_record(record: str, kind: str, subject_id: str | None, **fields: Any) -> dict[str, Any]:
    """A ``warning``/``escalated``/``resumed`` record."""
    return {"v": VERSION, "record": record, "time": now_iso(), "kind": kind, "subject_id": subject_id,
            **{k: _text(v) for k, v in fields.items()}}


def record_warning(records: RunRecords, log: str | os.PathLike[str], task: Any, data: dict[str, Any],
                   fraction: float) -> None:
    """A run passed ``fraction`` of its time limit: a ``# warning:`` line in its log, a ``warning`` record.

    Call it in the thread that writes the run's output to the log (the
    process watcher's), so the line never lands inside a chunk of output; it
    starts on a line of its own.

    Raises
    ------
    OSError
        The log or the records cannot be written.
    """
    elapsed, limit = float(data.get("elapsed_s") or 0.0), data.get("limit_s")
    line = (f"# warning: {elapsed:.1f} s of the {float(limit or 0):g} s time limit used "
            f"({round(100 * fraction)} %); the run is stopped at the limit\n")
    fd = os.open(log, os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))  # no O_CREAT: the runner made it
    try:
        size = os.fstat(fd).st_size
        lead = b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""
        os.write(fd, lead + line.encode("utf-8"))
    finally:
        os.close(fd)
    records.append(event_record("warning", task.kind, task.subject_id, task_id=task.task_id, title=task.title,
                                elapsed_s=round(elapsed, 3), limit_s=limit))


class RecordState:
    """What the records say, folded: failure counts, open escalations, resumes, recent runs and warnings."""

    def __init__(self) -> None:
        self.failures: dict[Key, int] = {}
        self.escalations: dict[Key, dict[str, Any]] = {}
        self.resumed: dict[Key, datetime] = {}
        self.runs: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.warnings: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def fold(self, rec: dict[str, Any]) -> None:
        """Apply one record (unknown record types are ignored: a newer version may add some)."""
        kind, sid = rec.get("kind"), rec.get("subject_id")
        key: Key | None = (kind, sid) if kind in _KINDS and isinstance(sid, str) and sid else None
        what = rec.get("record")
        if what == "run":
            tid = rec.get("task_id")
            if isinstance(tid, str):
                _put(self.runs, tid, rec)
            if key is None or rec.get("dry_run") is True:
                return
            status = rec.get("status")
            if status == "completed":
                self.failures.pop(key, None)
            elif status in ("failed", "timeout"):
                self.failures[key] = self.failures.get(key, 0) + 1
        elif what == "warning":
            tid = rec.get("task_id")
            if isinstance(tid, str):
                _put(self.warnings, tid, rec)
        elif what == "escalated" and key is not None:
            self.escalations[key] = rec
        elif what == "resumed" and key is not None:
            self.failures.pop(key, None)
            self.escalations.pop(key, None)
            when = parse_time(rec.get("time"))
            if when is not None:
                self.resumed[key] = when


def _put(table: OrderedDict[str, dict[str, Any]], key: str, value: dict[str, Any]) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > MAX_TASKS:
        table.popitem(last=False)


class RunRecords:
    """Reads and appends one records file; thread-safe.

    Parameters
    ----------
    path : path-like
        The records file (created with its folder on the first append).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.state = RecordState()
        #: Lines that could not be read, as ``FILE: …`` messages (the newest :data:`MAX_PROBLEMS`).
        self.problems: list[str] = []
        self._lock = threading.RLock()
        self._ident: tuple[int, int] | None = None  # (device, inode) of the file read so far
        self._offset = 0  # bytes folded so far (always at a line start)

    @classmethod
    def for_workspace(cls, root: str | os.PathLike[str]) -> RunRecords:
        """The records of the workspace at ``root``."""
        return cls(Path(root) / RECORDS)

    # ----------------------------------------------------------- reading

    def refresh(self) -> RecordState:
        """Fold what other threads and processes appended since the last look; returns the state."""
        with self._lock:
            try:
                fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except FileNotFoundError:
                if self._ident is not None:
                    self._reset(None)
                return self.state
            except OSError as exc:
                self._problem(f"cannot read: {exc.strerror or exc}")
                return self.state
            try:
                self._read(fd)
            finally:
                os.close(fd)
            return self.state

    def _reset(self, ident: tuple[int, int] | None) -> None:
        self.state = RecordState()
        self._ident = ident
        self._offset = 0

    def _read(self, fd: int) -> None:
        st = os.fstat(fd)
        ident = (st.st_dev, st.st_ino)
        size = st.st_size
        if ident != self._ident or size < self._offset:
            # A new or truncated file: start again, from its last MAX_SCAN bytes.
            self._reset(ident)
            if size > MAX_SCAN:
                self._offset = self._line_start(fd, size - MAX_SCAN, size)
        if size - self._offset > MAX_SCAN:
            # Far behind (another process appended a lot): only the newest part counts.
            self._reset(ident)
            self._offset = self._line_start(fd, size - MAX_SCAN, size)
        while self._offset < size:
            chunk = os.pread(fd, min(size - self._offset, 1 << 20), self._offset)
            if not chunk:
                break
            end = chunk.rfind(b"\n")
            if end < 0:
                if len(chunk) <= MAX_LINE:
                    break  # an incomplete last line: another process is writing it
                self._problem(f"skipped a line of more than {MAX_LINE} bytes at byte {self._offset}")
                self._offset = self._line_start(fd, self._offset + 1, size)
                continue
            base = self._offset
            for line in chunk[:end].split(b"\n"):
                self._fold_line(line, base)
                base += len(line) + 1
            self._offset += end + 1

    @staticmethod
    def _line_start(fd: int, offset: int, size: int) -> int:
        """The first line start at or after ``offset`` (``size`` when there is none)."""
        if offset <= 0:
            return 0
        pos = offset - 1
        while pos < size:
            block = os.pread(fd, 1 << 16, pos)
            if not block:
                break
            nl = block.find(b"\n")
            if nl >= 0:
                return pos + nl + 1
            pos += len(block)
        return size

    def _fold_line(self, line: bytes, offset: int) -> None:
        if not line.strip():
            return
        if len(line) > MAX_LINE:
            self._problem(f"skipped a line of more than {MAX_LINE} bytes at byte {offset}")
            return
        try:
            rec = load_json(line, str(self.path))
        except FormatError as exc:
            self._problem(f"skipped an unreadable record at byte {offset}: {exc.message}")
            return
        if not isinstance(rec, dict) or not isinstance(rec.get("record"), str):
            self._problem(f"skipped a line at byte {offset}: not a record")
            return
        self.state.fold(rec)

    def _problem(self, message: str) -> None:
        self.problems.append(f"{self.path}: {message}")
        del self.problems[:-MAX_PROBLEMS]

    # ----------------------------------------------------------- writing

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_Transaction]:
        """Hold the file's exclusive lock: read what is new, then append (see :class:`_Transaction`).

        Raises
        ------
        OSError
            The file or its folder cannot be created or locked.
        """
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._read(fd)
                yield _Transaction(self, fd)
            finally:
                os.close(fd)  # releases the lock

    def append(self, *records: dict[str, Any]) -> None:
        """Append records (one write, under the lock)."""
        with self.transaction() as txn:
            txn.append(*records)


class _Transaction:
    """The locked file: :attr:`state` is up to date, :meth:`append` writes and folds."""

    def __init__(self, owner: RunRecords, fd: int) -> None:
        self._owner = owner
        self._fd = fd

    @property
    def state(self) -> RecordState:
        return self._owner.state

    def append(self, *records: dict[str, Any]) -> None:
        data = b"".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
                        + b"\n" for r in records)
        size = os.fstat(self._fd).st_size
        if size and os.pread(self._fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a torn last line (a crash mid-write) must not swallow ours
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        owner = self._owner
        for r in records:
            owner.state.fold(r)
        owner._offset = os.fstat(self._fd).st_size


__all__ = ["MAX_LINE", "MAX_SCAN", "RECORDS", "RecordState", "RunRecords", "event_record", "now_iso",
           "parse_time", "record_warning", "run_record"]
