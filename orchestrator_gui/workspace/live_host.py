"""The headless live workspace: a session, its engine and runs, a file watch, all owned by one thread.

``orchestrator-gui serve`` and ``orchestrator-gui mcp`` have no GUI thread
to own the session. :class:`OwnerThread` is one: it runs the functions
handed to it one at a time, and between them, every :attr:`tick_s`, looks
for files changed by other programs (syncing the graph, one ``files``
event each time), applies queued run events to the graph, and turns the
scheduler loop when it is on. :func:`open_live` opens everything on that
thread (the SQLite store is bound to the thread that opened it).
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from orchestrator_gui.workspace.file_watch import FileWatch
from orchestrator_gui.workspace.live import LiveWorkspace

#: Seconds between two looks at the files (and at the run queue, and the loop).
TICK_S = 0.25
#: Longest wait for one call on the owner thread.
CALL_TIMEOUT_S = 600.0


class OwnerThread:
    """A thread that runs submitted functions in order, and a periodic ``tick`` when idle.

    Parameters
    ----------
    name : str
    tick_s : float
        Seconds between ticks (0.01 to 60).
    """

    def __init__(self, name: str = "orchestrator-live", tick_s: float = TICK_S) -> None:
        self.tick_s = min(60.0, max(0.01, float(tick_s)))
        self.tick: Callable[[], None] | None = None
        #: What the ticks could not do (each message once), for the face to show.
        self.problems: list[str] = []
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future] | None] = \
            queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    @property
    def ident(self) -> int | None:
        """The thread's identifier."""
        return self._thread.ident

    def invoke(self, fn: Callable[[], Any], timeout: float = CALL_TIMEOUT_S) -> Any:
        """Run ``fn()`` on the thread and return its result (or raise its exception)."""
        if threading.get_ident() == self._thread.ident:
            return fn()
        return self.submit(fn).result(timeout)

    def submit(self, fn: Callable[[], Any]) -> concurrent.futures.Future:
        """Queue ``fn()`` for the thread without waiting; its future holds the result (or the exception)."""
        if not self._thread.is_alive():
            raise RuntimeError("the workspace thread has stopped")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((fn, future))
        return future

    def _main(self) -> None:
        next_tick = time.monotonic() + self.tick_s
        while True:
            try:
                job = self._jobs.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                job = ()  # type: ignore[assignment]
            if job is None:
                return
            if job:
                fn, future = job
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn())
                    except BaseException as exc:  # noqa: BLE001 - handed to the caller
                        future.set_exception(exc)
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + self.tick_s
                if self.tick is not None:
                    try:
                        self.tick()
                    except Exception as exc:  # noqa: BLE001 - one bad tick must not stop the thread
                        message = f"{type(exc).__name__}: {exc}"
                        if message not in self.problems:
                            self.problems.append(message)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the functions already handed over, then end the thread."""
        self._jobs.put(None)
        if threading.get_ident() != self._thread.ident:
            self._thread.join(timeout)


class LiveHost:
    """What :func:`open_live` opened; :meth:`close` closes it all, in order.

    Attributes
    ----------
    live : LiveWorkspace
    owner : OwnerThread
    watch : FileWatch
    note : str or None
        Why the graph is kept in memory (the folder has no ``.orchestrator/``), for the face to say.
    """

    def __init__(self, live: LiveWorkspace, owner: OwnerThread, watch: FileWatch) -> None:
        self.live, self.owner, self.watch = live, owner, watch
        #: Said to the user once opened: why the graph lives in memory (``None``: it is in the store).
        self.note: str | None = None
        owner.tick = self._tick
        live.on_written = watch.acknowledge

    def _tick(self) -> None:
        changed = self.watch.poll()
        if changed:
            self.live.files_changed(changed)
        runs = self.live.runs
        if runs is not None:
            self.live.begin()
            try:
                runs.turn()  # fires what is due when the loop is on; applies queued run events
            finally:
                self.live.end()

    def close(self) -> None:
        """Stop the loop and the engine, close the session and end the owner thread."""
        live = self.live

        def shut() -> None:
            live.close()
            if live.runs is not None:
                live.runs.close()
            if live.engine is not None:
                live.engine.shutdown(wait=True, cancel=True)
            live.session.close()

        try:
            self.owner.invoke(shut)
        finally:
            self.owner.stop()


class NotAWorkspace(ValueError):
    """The folder holds no agent-loop file and no ``.orchestrator/``: it is not served unless asked to ``init``."""


def open_live(root: Any, *, engine: bool = True, loop: bool = False, dry_run: bool = False,
              tick_s: float = TICK_S, init: bool = False) -> LiveHost:
    """Open the workspace at ``root`` for serving: session (store), engine, runs and file watch on one thread.

    Opening never writes to a folder unasked (:mod:`~orchestrator_gui.workspace.opening`): a
    folder that already has ``.orchestrator/`` keeps its graph there; one without it is served
    from a graph built in memory (nothing is written beside the files, see :attr:`LiveHost.note`)
    unless ``init`` asks to create the store; a folder that is not a workspace at all is refused
    (:class:`NotAWorkspace`) unless ``init``.

    Parameters
    ----------
    root : path-like
    engine : bool
        Make a headless engine (run now, cancel, transforms off the owner thread).
    loop : bool
        Switch the scheduler loop on (off by default: a VS Code window may run the same schedules).
    dry_run : bool
        Start nothing, whatever the config (runs are recorded in ``.orchestrator/`` only).

    init : bool
        Create ``.orchestrator/`` (the graph store) when the folder has none (the user's explicit consent).

    Raises
    ------
    NotAWorkspace
        ``root`` is not a workspace and ``init`` is false; nothing was written or started.
    FormatError, OSError, NotADirectoryError
        The workspace cannot be opened; nothing is left running.
    """
    from orchestrator_gui.workspace.opening import plan_open

    plan = plan_open(root)  # reads only; a missing folder raises here
    if not plan.is_workspace and not init:
        raise NotAWorkspace(f"{plan.root} is not an agent-loop workspace (it has none of .roo/schedules.json, "
                            "TODO.md, persistent-memory.md, task_timing.tsv, .roomodes or .orchestrator/); "
                            "pass --init to serve it anyway and keep its graph in .orchestrator/")
    in_memory = plan.needs_consent and not init
    note = (f"note: {plan.root} has no .orchestrator/ folder: the graph is kept in memory and nothing is written "
            "beside the files; pass --init to keep it in .orchestrator/graph.db") if in_memory else None
    owner = OwnerThread()

    def start() -> LiveHost:
        from orchestrator_gui.workspace.session import Session

        session = Session.open(root, in_memory=in_memory)
        eng = runs = None
        try:
            if engine:
                from orchestrator_gui.engine.config import load_config
                from orchestrator_gui.engine.executor import ThreadExecutor
                from orchestrator_gui.workspace.runs import Runs

                eng = ThreadExecutor(session.root, load_config(session.root), dry_run=dry_run)
                runs = Runs(session.root, eng, session=session)
                if loop:
                    runs.start_loop()
            live = LiveWorkspace(session, owner.invoke, engine=eng, runs=runs, submit=owner.submit)
            host = LiveHost(live, owner, FileWatch(session.root))
            host.note = note
            return host
        except BaseException:
            if runs is not None:
                runs.close()
            if eng is not None:
                eng.shutdown(wait=False, cancel=True)
            session.close()
            raise

    try:
        return owner.invoke(start)
    except BaseException:
        owner.stop()
        raise


__all__ = ["CALL_TIMEOUT_S", "LiveHost", "NotAWorkspace", "OwnerThread", "TICK_S", "open_live"]
