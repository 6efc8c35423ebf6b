"""Consecutive-failure counting per schedule / TODO item, and 3-strike escalation.

A ``failed`` or ``timeout`` run adds one to its item's count; a
``completed`` run resets it; ``cancelled`` runs and dry runs leave it alone.
When the count reaches the threshold (3), the item is escalated, once:

* it is paused in **our** config, ``[schedules."<id>"] paused = true`` (or
  ``[todos."<id>"]``), by splicing that one line into ``.orchestrator/config.toml``
  (never Roo's ``active`` flag: that needs the user's consent, which the UI asks for);
* an entry is appended to ``persistent-memory.md`` (docs/formats.md §3.4) with the
  command, the exit code, the tail of stderr and the time.

Failures after that keep counting but do not escalate again until the user
clears the escalation (:meth:`FailureTracker.clear_escalation`), which resets
the count and writes ``paused = false``. Writes that fail (a file changed on
disk three times in a row, an unparseable config) are reported in
:attr:`Escalation.errors`, never raised into the run.
"""

from __future__ import annotations

import os
import re
import shlex
import threading
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from orchestrator_gui.engine.config import CONFIG, config_path
from orchestrator_gui.engine.config_toml import set_table_value
from orchestrator_gui.engine.tasks import RunResult, RunStatus, TaskKind, utcnow
from orchestrator_gui.formats.fileio import atomic_write, decode_text
from orchestrator_gui.formats.limits import toml_nesting_offset
from orchestrator_gui.formats.memory import MemoryDocument, format_timestamp, load_memory
from orchestrator_gui.formats.workspace import MEMORY
from orchestrator_gui.problems import ConflictError, FormatError

#: How many times a write is retried when another program changed the file meanwhile.
_RETRIES = 5
_UNSAFE_ID = re.compile(r"[\[\]\s]+")
_TABLE = {"schedule": "schedules", "todo": "todos"}


def _is_paused(text: str, kind: str, subject_id: str) -> bool:
    if toml_nesting_offset(text) is not None:
        return True  # too deep for tomllib: the editor refuses it with its line
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return True  # let the editor report the parse error with its line
    table = doc.get(_TABLE[kind], {})
    entry = table.get(subject_id, {}) if isinstance(table, dict) else {}
    return isinstance(entry, dict) and entry.get("paused") is True


class Escalation(BaseModel):
    """One escalation, as recorded.

    Attributes
    ----------
    kind : {"schedule", "todo"}
    subject_id : str
        The schedule id / TODO item id.
    title : str
        Its name, as the run had it.
    failures : int
        Consecutive failures at escalation time (the threshold).
    task_id : str
        The run that made it escalate.
    status : {"failed", "timeout"}
    command : list of str or None
    exit_code : int or None
    stderr_tail : str
    time : datetime
        When the escalation happened (UTC).
    memory_line : int or None
        Line of the new ``persistent-memory.md`` entry (None if not written).
    paused : bool
        Whether ``paused = true`` was written to our config.
    errors : list of str
        Writes that failed, phrased for the user.
    """

    model_config = ConfigDict(frozen=True)

    kind: TaskKind
    subject_id: str
    title: str = ""
    failures: int
    task_id: str
    status: RunStatus
    command: list[str] | None = None
    exit_code: int | None = None
    stderr_tail: str = ""
    time: datetime
    memory_line: int | None = None
    paused: bool = False
    errors: list[str] = []


def memory_text(esc: Escalation, config_name: str) -> str:
    """The entry text: a first line, then one nested bullet per fact."""
    what = "Schedule" if esc.kind == "schedule" else "TODO item"
    name = f'"{esc.title}" ({esc.subject_id})' if esc.title else esc.subject_id
    command = shlex.join(esc.command) if esc.command else "(none)"
    tail = " | ".join(ln.strip() for ln in esc.stderr_tail.splitlines() if ln.strip())
    if len(tail) > 600:
        tail = "…" + tail[-600:]
    outcome = "timeout (process group killed)" if esc.status == "timeout" else "failed"
    return "\n".join([
        f"{what} {name} failed {esc.failures} times in a row; paused in {config_name} "
        "until the escalation is cleared",
        f"Command: {command}",
        f"Exit code: {esc.exit_code if esc.exit_code is not None else 'none'} ({outcome})",
        f"Stderr tail: {tail or '(empty)'}",
        f"Time: {format_timestamp(esc.time)}",
        f"Run: {esc.task_id}",
    ])


class FailureTracker:
    """Thread-safe consecutive-failure counters with escalation.

    Parameters
    ----------
    workspace : path-like
        The workspace root (for ``persistent-memory.md`` and our config).
    threshold : int
        Consecutive failures that escalate (3).
    memory_path, config_file : path-like, optional
        Override the files written on escalation.
    mode : str
        The mode slug of the memory entries.
    on_escalate : callable, optional
        ``on_escalate(escalation)``, called after the files were written
        (in the thread that recorded the failure).
    """

    def __init__(self, workspace: str | os.PathLike[str], *, threshold: int = 3,
                 memory_path: str | os.PathLike[str] | None = None,
                 config_file: str | os.PathLike[str] | None = None, mode: str = "orchestrator",
                 on_escalate: Callable[[Escalation], None] | None = None) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.workspace = Path(workspace)
        self.threshold = threshold
        self.memory_path = Path(memory_path) if memory_path is not None else self.workspace / MEMORY
        self.config_file = Path(config_file) if config_file is not None else config_path(self.workspace)
        self.mode = mode
        self.on_escalate = on_escalate
        self._lock = threading.RLock()
        self._counts: dict[tuple[str, str], int] = {}
        self._escalated: dict[tuple[str, str], Escalation] = {}

    # ----------------------------------------------------------- queries

    def count(self, kind: str, subject_id: str) -> int:
        """Current consecutive failures of an item."""
        with self._lock:
            return self._counts.get((kind, subject_id), 0)

    def is_escalated(self, kind: str, subject_id: str) -> bool:
        """Whether the item is escalated and not cleared yet (in this process)."""
        with self._lock:
            return (kind, subject_id) in self._escalated

    def escalations(self) -> dict[tuple[str, str], Escalation]:
        """The open escalations, keyed by ``(kind, subject_id)``."""
        with self._lock:
            return dict(self._escalated)

    # ----------------------------------------------------------- updates

    def record(self, result: RunResult) -> Escalation | None:
        """Count one outcome; escalate (and return the escalation) on reaching the threshold."""
        if result.subject_id is None or result.kind not in _TABLE or result.dry_run:
            return None
        key = (result.kind, result.subject_id)
        with self._lock:
            if result.status == "completed":
                self._counts.pop(key, None)
                return None
            if not result.is_failure:
                return None
            n = self._counts.get(key, 0) + 1
            self._counts[key] = n
            if n < self.threshold or key in self._escalated:
                return None
            esc = self._escalate(result, n)
            self._escalated[key] = esc
        if self.on_escalate is not None:
            self.on_escalate(esc)
        return esc

    def clear_escalation(self, subject_id: str, kind: str = "schedule") -> bool:
        """Clear an item's escalation: reset its count and write ``paused = false``.

        Returns
        -------
        bool
            True if there was an open escalation or a ``paused = true`` to clear.

        Raises
        ------
        FormatError
            Our config cannot be edited (it does not parse, or keeps changing).
        """
        key = (kind, subject_id)
        with self._lock:
            had = self._escalated.pop(key, None) is not None
            self._counts.pop(key, None)
            changed = self._set_paused(kind, subject_id, False, only_if_present=True)
            return had or changed

    # ----------------------------------------------------------- writing

    def _escalate(self, result: RunResult, n: int) -> Escalation:
        esc = Escalation(kind=result.kind, subject_id=result.subject_id or "", title=result.title, failures=n,
                         task_id=result.task_id, status=result.status, command=result.command,
                         exit_code=result.exit_code, stderr_tail=result.stderr_tail, time=utcnow())
        errors: list[str] = []
        paused = False
        try:
            self._set_paused(esc.kind, esc.subject_id, True)
            paused = True
        except FormatError as exc:
            errors.append(f"could not pause it in our config: {exc}")
        line = None
        try:
            line = self._append_memory(esc)
        except FormatError as exc:
            errors.append(f"could not write the memory entry: {exc}")
        return esc.model_copy(update={"memory_line": line, "paused": paused, "errors": errors})

    def _set_paused(self, kind: str, subject_id: str, value: bool, *, only_if_present: bool = False) -> bool:
        path, name = self.config_file, str(self.config_file)
        for _ in range(_RETRIES):
            try:
                data: bytes | None = path.read_bytes()
            except FileNotFoundError:
                data = None
            except OSError as exc:
                raise FormatError(name, f"cannot read: {exc.strerror or exc}") from None
            if data is None and only_if_present:
                return False
            text = decode_text(data, name)[0] if data is not None else ""
            bom = data is not None and data.startswith(b"\xef\xbb\xbf")
            if only_if_present and not _is_paused(text, kind, subject_id):
                return False
            new = set_table_value(text, (_TABLE[kind], subject_id), "paused", value, name)
            if new == text:
                return False
            try:
                atomic_write(path, (b"\xef\xbb\xbf" if bom else b"") + new.encode("utf-8"),
                             expected=data, create=data is None)
                return True
            except ConflictError:
                continue
        raise ConflictError(name, "changed on disk during every attempt to write it; nothing was written")

    def _append_memory(self, esc: Escalation) -> int:
        path, name = self.memory_path, str(self.memory_path)
        entry_id = "escalation_" + _UNSAFE_ID.sub("_", esc.subject_id).strip("_")
        shown = str(CONFIG) if self.config_file == config_path(self.workspace) else str(self.config_file)
        text = memory_text(esc, shown)
        for _ in range(_RETRIES):
            if os.path.lexists(path):
                doc = load_memory(path)
                existed = True
            else:
                doc = MemoryDocument(path, b"")
                existed = False
            entry = doc.append_entry(self.mode, entry_id, text, now=esc.time, label="Escalation")
            try:
                if existed:
                    doc.save()
                else:
                    atomic_write(path, doc.data, expected=None, create=True)
                return entry.line
            except ConflictError:
                continue
        raise ConflictError(name, "changed on disk during every attempt to write it; nothing was written")


__all__ = ["Escalation", "FailureTracker", "memory_text"]
