"""Time tracking: every agent run writes a ``started`` row and a finished row to ``task_timing.tsv``.

Both rows share the run's ``task_id`` (the origin's "pair" convention,
docs/formats.md §4.4) and carry the priority ``schedule`` or ``todo``. The writing
is :func:`orchestrator_gui.formats.timing.append_row`: append-only, one
``write`` per row, under an exclusive ``flock``, so agents and other
processes appending to the same file at the same time never interleave.
Transforms are not runs of the agent loop and write no rows.

Rows are written by **one writer thread** per tracker: callers queue rows
and either wait for them (``wait=True``, the default) or go on and get an
``on_done`` callback once their row is in the file. The writer takes
everything queued since its last write and appends it in one
:func:`~orchestrator_gui.formats.timing.append_rows` call (one lock, one
``write``, one ``fdatasync`` when any row of the batch asks for it), in the
order the rows were queued. Why: the engine's workers must not wait for
the file. With a dozen busy threads an append costs far more than its
syscalls, because each of the dozen GIL-releasing calls (open, flock, fstat,
pread, write, fdatasync, close …) waits to get the GIL back; a worker that
waited for its rows ran one third fewer agent runs (engine_bench). A
``started`` row is queued before the run starts and is in the file before
the run's finished row (same queue); finished rows are synced to disk.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from orchestrator_gui.engine.tasks import RunResult, Task
from orchestrator_gui.formats.timing import NewTimingRow, TimingRow
from orchestrator_gui.formats.timing_write import append_rows
from orchestrator_gui.formats.workspace import TIMING


class TimeTracker:
    """Appends the two rows of each run to one timing file, from a writer thread.

    Parameters
    ----------
    path : path-like
        The ``task_timing.tsv`` file (created with the 9-column header if missing).
    parse : bool
        Return each written row as the reader parses it (with its line
        number). The engine passes ``False``: it does not use the rows, and
        parsing them back and counting the file's lines is CPU that every
        other worker thread waits for (the GIL); rows are then reported as None.

    Notes
    -----
    ``on_done(row, error)`` callbacks run in the writer thread, after the
    row's batch is in the file (and on disk, for finished rows): ``error``
    is the :class:`~orchestrator_gui.problems.FormatError` (or other
    exception) that kept the whole batch out of the file, else None. The
    writer is a daemon thread started on the first row and ended after 10 s
    without rows; :meth:`close` (or :meth:`flush`) waits for everything queued.
    """

    def __init__(self, path: str | os.PathLike[str], *, parse: bool = True) -> None:
        self.path = Path(path)
        self.parse = parse
        self._queue: queue.SimpleQueue[_Entry | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()

    @classmethod
    def for_workspace(cls, root: str | os.PathLike[str], *, parse: bool = True) -> TimeTracker:
        """The tracker writing ``<root>/task_timing.tsv``."""
        return cls(Path(root) / TIMING, parse=parse)

    def started(self, task: Task, start: datetime, *, wait: bool = True,
                on_done: DoneCallback | None = None) -> TimingRow | None:
        """Append the ``started`` row of ``task``; None for transforms (and with ``parse=False``).

        With ``wait=False`` it returns at once (None) and ``on_done`` reports
        the outcome. The row is not flushed to disk on its own: the run's
        finished row (same file, later in the queue) is, and that covers it.

        Raises
        ------
        FormatError
            With ``wait``: the file cannot be appended to (UTF-16 file, permissions, …).
        """
        if task.kind == "transform":
            return None
        return self._append(NewTimingRow(
            timestamp=start, mode=task.mode, task_id=task.task_id, start_time=start,
            task=task.title or task.instructions[:200], result="started", priority=task.kind),
            sync=False, wait=wait, on_done=on_done)

    def finished(self, task: Task, result: RunResult, *, wait: bool = True,
                 on_done: DoneCallback | None = None) -> TimingRow | None:
        """Append the finished row: ``completed``/``failed``/``timeout``/``cancelled`` ``- details``.

        The duration is the run's measured (monotonic) time, in whole seconds.
        The row is on disk (``fdatasync``) before this returns (``wait``) or
        before ``on_done`` is called.
        """
        if task.kind == "transform":
            return None
        return self._append(NewTimingRow(
            timestamp=result.ended_at, mode=task.mode, task_id=task.task_id, start_time=result.started_at,
            end_time=result.ended_at, duration_s=int(result.duration_s),
            task=task.title or task.instructions[:200], result=result.summary(), priority=task.kind),
            sync=True, wait=wait, on_done=on_done)

    def flush(self) -> None:
        """Wait until every row queued so far is written."""
        entry = _Entry(None, False, None, waiter=True)
        self._put(entry)
        entry.wait()

    def close(self) -> None:
        """Write what is queued and stop the writer thread (a later row starts a new one).

        Each writer has its own queue: a row queued while this runs goes to
        the next writer, never to the one being stopped.
        """
        with self._thread_lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._queue.put(None)
            self._queue = queue.SimpleQueue()
        if thread is not threading.current_thread():  # a done-callback closing its own writer
            thread.join()

    # ----------------------------------------------------------- internals

    def _append(self, row: NewTimingRow, *, sync: bool, wait: bool,
                on_done: DoneCallback | None) -> TimingRow | None:
        entry = _Entry(row, sync, on_done, waiter=wait)
        self._put(entry)
        if not wait:
            return None
        entry.wait()
        if entry.error is not None:
            raise entry.error
        return entry.result

    def _put(self, entry: _Entry) -> None:
        with self._thread_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, args=(self._queue,),
                                          name=THREAD_NAME, daemon=True)
                thread.start()  # may raise (no threads left): then nothing is queued either
                self._thread = thread
            self._queue.put(entry)

    def _run(self, q: queue.SimpleQueue[_Entry | None]) -> None:
        stop = False
        last_write = 0.0
        while not stop:
            try:
                first = q.get(timeout=_IDLE_EXIT_S)
            except queue.Empty:
                # Idle: end the thread (a tracker nobody closes leaves none behind).
                with self._thread_lock:
                    if q.empty() and self._thread is threading.current_thread():
                        self._thread = None
                        return
                continue
            # At most one write (and fdatasync) per _WRITE_INTERVAL_S while
            # rows keep coming: what arrives meanwhile joins the batch. The
            # first row after a quiet spell is written at once; so are a
            # flush, a close and a row whose caller waits for it.
            if first is not None and first.row is not None and not first.waited:
                pause = last_write + _WRITE_INTERVAL_S - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            batch: list[_Entry] = []
            if first is None:
                stop = True
            else:
                batch.append(first)
            while len(batch) < _MAX_BATCH:
                try:
                    nxt = q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    continue
                batch.append(nxt)
            self._write(batch)
            last_write = time.monotonic()
            for e in batch:
                e.finish()

    def _write(self, batch: list[_Entry]) -> None:
        """Append the batch's rows in one write (fdatasync'ed if a row asks for it)."""
        rows = [e for e in batch if e.row is not None]
        if not rows:
            return
        error: BaseException | None = None
        results: list[TimingRow | None] = [None] * len(rows)
        try:
            results = append_rows(self.path, [e.row for e in rows], parse=self.parse,  # type: ignore[misc]
                                  sync=any(e.sync for e in rows))
        except BaseException as exc:  # a file-level failure: every row of the batch failed
            error = exc
        for e, r in zip(rows, results):
            e.result, e.error = r, error


#: ``on_done(row, error)``: the written row (None with ``parse=False``) or the error that kept it out.
DoneCallback = Callable[[TimingRow | None, BaseException | None], None]

#: Name of the writer thread (the engine starts agent runs directly from it).
THREAD_NAME = "orchestrator-timing"

#: At most one write (and fdatasync) per this many seconds while rows keep coming.
_WRITE_INTERVAL_S = 0.010

#: An idle writer thread ends after this many seconds (the next row starts a new one).
_IDLE_EXIT_S = 10.0

#: Most rows in one write (a bound on one batch's memory, not a tuning knob).
_MAX_BATCH = 4096


class _Entry:
    """One queued row (or a flush marker, ``row`` None) and what became of it."""

    __slots__ = ("row", "sync", "on_done", "result", "error", "_lock")

    def __init__(self, row: NewTimingRow | None, sync: bool, on_done: DoneCallback | None, *,
                 waiter: bool) -> None:
        self.row = row
        self.sync = sync
        self.on_done = on_done
        self.result: TimingRow | None = None
        self.error: BaseException | None = None
        # A held lock is the cheapest one-shot event: the writer releases it.
        self._lock: threading.Lock | None = None
        if waiter:
            self._lock = threading.Lock()
            self._lock.acquire()

    @property
    def waited(self) -> bool:
        """Whether a caller blocks until this entry is done."""
        return self._lock is not None

    def wait(self) -> None:
        assert self._lock is not None
        self._lock.acquire()

    def finish(self) -> None:
        if self.on_done is not None:
            try:
                self.on_done(self.result, self.error)
            except Exception:  # a broken callback must not stop the writer
                traceback.print_exc()
        if self._lock is not None:
            self._lock.release()


__all__ = ["THREAD_NAME", "DoneCallback", "TimeTracker"]
