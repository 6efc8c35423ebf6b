"""Consecutive-failure counting per schedule / TODO item, 3-strike escalation, and the pause it sets.

The count is **derived from our run records** (``.orchestrator/runs.jsonl``,
:mod:`.run_records`), not kept in memory, so a fresh process continues it:
three ``run --once`` started by cron, each failing, escalate on the third.
A ``failed`` or ``timeout`` run adds one to its item's count; a
``completed`` run resets it; ``cancelled`` runs and dry runs leave it alone;
a ``resumed`` record (the user cleared the pause) starts it from zero.
When the count reaches the threshold (3) and the item has no open
escalation, it is escalated, once (the read, the decision and the
``escalated`` record are made under the records' lock, so two processes that
fail at the same moment escalate once):

* an ``escalated`` record (the reason, the time, the run) is appended to the run records;
* it is paused in **our** config, ``[schedules."<id>"] paused = true`` (or
  ``[todos."<id>"]``), by splicing that one line into ``.orchestrator/config.toml``
  (never Roo's ``active`` flag: that needs the user's consent, which the UI asks for);
* an entry is appended to ``persistent-memory.md`` (docs/formats.md §3.4) with the
  command, the exit code, the tail of stderr and the time.

Where the pause is stored: the flag is ``paused = true`` in
``.orchestrator/config.toml`` (our file, documented in docs/formats.md §8;
a user may also set it by hand); why and since when come from the open
``escalated`` record. An item counts as paused while either says so (the
record keeps an item paused even when the config could not be written).
Failures after that keep counting but do not escalate again until the user
clears the escalation (:meth:`FailureTracker.clear_escalation`: a
``resumed`` record and ``paused = false``). Writes that fail (a file changed
on disk three times in a row, an unparseable config) are reported in
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
from typing import Any

from pydantic import BaseModel, ConfigDict

from orchestrator_gui.engine.config import CONFIG, config_path, read_config
from orchestrator_gui.engine.config_toml import set_table_value
from orchestrator_gui.engine.run_records import RunRecords, event_record, run_record
from orchestrator_gui.engine.tasks import RunResult, RunStatus, TaskKind, utcnow
from orchestrator_gui.formats.fileio import atomic_write, decode_text
from orchestrator_gui.formats.limits import toml_nesting_offset
from orchestrator_gui.formats.memory import MemoryDocument, format_timestamp
from orchestrator_gui.formats.memory_append import append_entry
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


def escalation_reason(esc: Escalation) -> str:
    """One line for lists and status bars: ``failed 3 times in a row (last: exit 2)``."""
    last = "timeout" if esc.status == "timeout" else (
        f"exit {esc.exit_code}" if esc.exit_code is not None else esc.status)
    return f"failed {esc.failures} times in a row (last: {last})"


def paused_in_config(path: str | os.PathLike[str], kind: str = "schedule") -> tuple[set[str], str | None]:
    """Ids with ``paused = true`` in our config file, and the problem that kept them from being read.

    Lenient on purpose (a list of schedules must not fail on a broken config):
    a missing file is no problem; one that does not load gives
    ``(set(), "FILE:LINE: error: …")``.
    """
    if not os.path.lexists(path):
        return set(), None
    try:
        cfg = read_config(path).config
    except FormatError as exc:
        return set(), str(exc)
    table = cfg.schedules if kind == "schedule" else cfg.todos
    return {sid for sid, sub in table.items() if sub.paused}, None


class FailureTracker:
    """Consecutive-failure counters derived from the run records, with escalation; thread-safe.

    Parameters
    ----------
    workspace : path-like
        The workspace root (for ``persistent-memory.md``, our config and the run records).
    threshold : int
        Consecutive failures that escalate (3).
    memory_path, config_file : path-like, optional
        Override the files written on escalation.
    mode : str
        The mode slug of the memory entries.
    on_escalate : callable, optional
        ``on_escalate(escalation)``, called after the files were written
        (in the thread that recorded the failure).
    records : RunRecords, optional
        The run records (default: the workspace's ``.orchestrator/runs.jsonl``).
    """

    def __init__(self, workspace: str | os.PathLike[str], *, threshold: int = 3,
                 memory_path: str | os.PathLike[str] | None = None,
                 config_file: str | os.PathLike[str] | None = None, mode: str = "orchestrator",
                 on_escalate: Callable[[Escalation], None] | None = None,
                 records: RunRecords | None = None) -> None:
        if not 1 <= threshold <= 1000:
            raise ValueError("threshold must be between 1 and 1000")
        self.workspace = Path(workspace)
        self.threshold = threshold
        self.memory_path = Path(memory_path) if memory_path is not None else self.workspace / MEMORY
        self.config_file = Path(config_file) if config_file is not None else config_path(self.workspace)
        self.mode = mode
        self.on_escalate = on_escalate
        self.records = records if records is not None else RunRecords.for_workspace(self.workspace)
        self._lock = threading.RLock()

    # ----------------------------------------------------------- queries

    def count(self, kind: str, subject_id: str) -> int:
        """Current consecutive failures of an item (as the records say now)."""
        with self._lock:
            return self.records.refresh().failures.get((kind, subject_id), 0)

    def is_escalated(self, kind: str, subject_id: str) -> bool:
        """Whether the item has an open escalation (in any process, until it is resumed)."""
        with self._lock:
            return (kind, subject_id) in self.records.refresh().escalations

    def escalation(self, kind: str, subject_id: str) -> dict[str, Any] | None:
        """The open ``escalated`` record of an item (reason, time, run), or None."""
        with self._lock:
            rec = self.records.refresh().escalations.get((kind, subject_id))
            return dict(rec) if rec is not None else None

    def escalations(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The open ``escalated`` records, keyed by ``(kind, subject_id)``."""
        with self._lock:
            return {k: dict(v) for k, v in self.records.refresh().escalations.items()}

    def resumed_at(self, kind: str, subject_id: str) -> datetime | None:
        """When the item was last resumed (cleared), per the records; None if never."""
        with self._lock:
            return self.records.refresh().resumed.get((kind, subject_id))

    # ----------------------------------------------------------- updates

    def record(self, result: RunResult, *, entry: dict[str, Any] | None = None) -> Escalation | None:
        """Record one finished run; escalate (and return the escalation) on reaching the threshold.

        Parameters
        ----------
        result : RunResult
        entry : dict, optional
            The ``run`` record to append (default :func:`~.run_records.run_record` of ``result``).

        Raises
        ------
        OSError
            The run records cannot be written.
        """
        entry = entry if entry is not None else run_record(result)
        key = (result.kind, result.subject_id or "")
        countable = result.subject_id is not None and result.kind in _TABLE and not result.dry_run
        with self._lock, self.records.transaction() as txn:
            txn.append(entry)
            if not countable or not result.is_failure:
                return None
            n = txn.state.failures.get(key, 0)
            if n < self.threshold or key in txn.state.escalations:
                return None
            esc = Escalation(kind=result.kind, subject_id=result.subject_id or "", title=result.title, failures=n,
                             task_id=result.task_id, status=result.status, command=result.command,
                             exit_code=result.exit_code, stderr_tail=result.stderr_tail, time=utcnow())
            txn.append(event_record("escalated", esc.kind, esc.subject_id, task_id=esc.task_id, failures=n,
                                    status=esc.status, exit_code=esc.exit_code, title=esc.title,
                                    reason=escalation_reason(esc)))
        esc = self._escalate(esc)
        if self.on_escalate is not None:
            self.on_escalate(esc)
        return esc

    def clear_escalation(self, subject_id: str, kind: str = "schedule") -> bool:
        """Clear an item's escalation: a ``resumed`` record (the count starts again) and ``paused = false``.

        Returns
        -------
        bool
            True if there was an open escalation, a failure count or a ``paused = true`` to clear.

        Raises
        ------
        FormatError
            Our config cannot be edited (it does not parse, or keeps changing).
        OSError
            The run records cannot be written.
        """
        key = (kind, subject_id)
        with self._lock:
            changed = self._set_paused(kind, subject_id, False, only_if_present=True)
            with self.records.transaction() as txn:
                had = key in txn.state.escalations or txn.state.failures.get(key, 0) > 0
                if had or changed:
                    txn.append(event_record("resumed", kind, subject_id))
            return had or changed

    # ----------------------------------------------------------- writing

    def _escalate(self, esc: Escalation) -> Escalation:
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
        if os.path.lexists(path):
            # One locked O_APPEND write: lines an agent appends meanwhile are never rewritten away.
            return append_entry(path, self.mode, entry_id, text, now=esc.time, label="Escalation").line
        for _ in range(_RETRIES):
            doc = MemoryDocument(path, b"")
            entry = doc.append_entry(self.mode, entry_id, text, now=esc.time, label="Escalation")
            try:
                atomic_write(path, doc.data, expected=None, create=True)
                return entry.line
            except ConflictError:
                if os.path.lexists(path):  # created meanwhile: append to it instead
                    return append_entry(path, self.mode, entry_id, text, now=esc.time, label="Escalation").line
        raise ConflictError(name, "changed on disk during every attempt to write it; nothing was written")


__all__ = ["Escalation", "FailureTracker", "escalation_reason", "memory_text", "paused_in_config"]
