"""Every run's started and finished rows in the fleet's ``runs`` table, with the machine's name.

:class:`RunRecorder` listens to an engine (``engine.add_listener``) and
queues a row per ``started``/``finished`` event of an agent run (schedule
and TODO runs; transforms and dry runs write no timing row locally either).
A writer thread inserts them; while the database is unreachable the rows
wait in memory (at most :data:`MAX_PENDING`) and are written when it is
back; rows still unwritten when the recorder closes go to its journal
(``.orchestrator/fleet-runs.jsonl``) and the next recorder of the workspace
writes them. ``task_timing.tsv`` is untouched: the engine writes it as always.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from orchestrator_gui.fleet.journal import MemoryJournal
from orchestrator_gui.fleet.link import FleetOffline, Link

#: Most rows held while the database is unreachable (older ones are dropped, and that is reported).
MAX_PENDING = 50_000


@dataclass(frozen=True)
class RunRow:
    """One row of the ``runs`` table."""

    machine: str
    task_id: str
    event: str
    at: datetime
    kind: str | None = None
    subject_id: str | None = None
    name: str | None = None
    mode: str | None = None
    status: str | None = None
    duration_s: float | None = None
    due_ms: int | None = None


def _due_ms(meta: dict[str, Any]) -> int | None:
    from orchestrator_gui.formats.nextrun import parse_js_iso

    due = meta.get("due")
    return parse_js_iso(due) if isinstance(due, str) else None


class RunRecorder:
    """Writes the engine's run events to the ``runs`` table (see the module docs).

    Parameters
    ----------
    dsn : str
    machine : str
    engine : Engine
        Listened to; its handles give a started run's title and mode.
    log : callable, optional
    journal : MemoryJournal, optional
        Where unwritten rows go at close, and are taken from at start.
    """

    def __init__(self, dsn: str, machine: str, engine: Any, *, log: Callable[[str], None] | None = None,
                 retry_s: float = 2.0, journal: MemoryJournal | None = None) -> None:
        self.machine = machine
        self.engine = engine
        self.link = Link(dsn, retry_s=retry_s, name=f"orchestrator-gui runs {machine}")
        self._log = log or (lambda _line: None)
        self._queue: queue.SimpleQueue[RunRow | None] = queue.SimpleQueue()
        self.journal = journal
        self._pending: list[RunRow] = []
        self._dropped = 0
        if journal is not None and journal.pending():
            with journal.locked():
                for e in journal.load():
                    try:
                        self._pending.append(RunRow(**{**e, "at": datetime.fromisoformat(e["at"])}))
                    except (KeyError, TypeError, ValueError):
                        self._dropped += 1
                journal.replace([])
        self._idle = threading.Event()
        if not self._pending:
            self._idle.set()
        self._thread = threading.Thread(target=self._run, name="fleet-runs", daemon=True)
        self._thread.start()
        self._remove = engine.add_listener(self._on_event)

    def _on_event(self, event: Any) -> None:
        if event.type not in ("started", "finished") or event.kind == "transform":
            return
        data = event.data or {}
        if event.type == "started":
            h = self.engine.handle(event.task_id)
            task = getattr(h, "task", None)
            if task is None or self.engine.dry_run_for(task):
                return
            row = RunRow(self.machine, event.task_id, "started", datetime.now(UTC), event.kind, event.subject_id,
                         task.title, task.mode, None, None, _due_ms(dict(task.meta)))
        else:
            if data.get("dry_run"):
                return
            ended = data.get("ended_at")
            at = datetime.fromisoformat(ended) if isinstance(ended, str) else datetime.now(UTC)
            row = RunRow(self.machine, event.task_id, "finished", at, event.kind, event.subject_id,
                         data.get("title"), data.get("mode"), data.get("status"), data.get("duration_s"),
                         _due_ms(dict(data.get("meta") or {})))
        self._idle.clear()
        self._queue.put(row)

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self.link.retry_s if self._pending else None)
            except queue.Empty:
                item = ...
            if item is None:
                self._flush()
                return
            if isinstance(item, RunRow):
                self._pending.append(item)
                if len(self._pending) > MAX_PENDING:
                    self._dropped += len(self._pending) - MAX_PENDING
                    del self._pending[:len(self._pending) - MAX_PENDING]
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            self._idle.set()
            return
        rows, self._pending = self._pending, []
        try:
            with self.link.transaction() as cur:
                cur.executemany(
                    "INSERT INTO runs (machine, task_id, event, at, kind, subject_id, name, mode, status, "
                    "duration_s, due_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (machine, task_id, event) DO NOTHING",
                    [(r.machine, r.task_id, r.event, r.at, r.kind, r.subject_id, r.name, r.mode, r.status,
                      r.duration_s, r.due_ms) for r in rows])
        except FleetOffline:
            self._pending[:0] = rows
            return
        if self._dropped:
            self._log(f"fleet: {self._dropped} run row(s) were dropped while the database was unreachable")
            self._dropped = 0
        if self._queue.empty() and not self._pending:
            self._idle.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued row is written (or ``timeout`` seconds); True when none is left."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, write what is queued (for up to ``timeout`` seconds) and close."""
        if self._remove is not None:
            self._remove()
            self._remove = None
        self._queue.put(None)
        self._thread.join(timeout)
        if self.journal is not None and self._pending and not self._thread.is_alive():
            with self.journal.locked():
                for row in self._pending:
                    self.journal.append({**asdict(row), "at": row.at.isoformat()})
            self._pending = []
        self.link.close()


__all__ = ["MAX_PENDING", "RunRecorder", "RunRow"]
