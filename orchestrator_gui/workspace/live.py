"""A workspace served live: one thread owns the session, and every change becomes one numbered event.

The local API (and anything else that serves a session to other threads)
holds a :class:`LiveWorkspace`. It is the same :class:`~orchestrator_gui.workspace.Session`
the app or the headless server opened; this adds two things.

* **The owner thread.** A session (its SQLite store, its graph) belongs to
  one thread. :meth:`LiveWorkspace.call` runs a function there and returns
  its result: in the desktop app that is the GUI thread (the ``invoke``
  given by ``ui/local_api.py``), headless it is the thread of
  :class:`~orchestrator_gui.workspace.live_host.OwnerThread`.
* **One event per cause.** Each call (and each batch of file changes seen
  from outside) is a *scope*. A graph transaction committed in a scope that
  wrote no file is one ``transaction`` event. Files written or seen changed
  in a scope are synced into the graph, and the files with the sync's
  transactions are one ``files`` event: a TODO check through the API is one
  event, not a file event plus a graph event. A write refused because the
  caller's version was stale is a ``conflict`` event; engine runs are
  ``run`` events (started, finished, timeout, warning, escalated).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from orchestrator_gui.model.transforms import changes
from orchestrator_gui.workspace.file_edits import StaleVersion, file_etag
from orchestrator_gui.workspace.live_events import EventJournal
from orchestrator_gui.workspace.search_index import SearchIndex

T = TypeVar("T")
#: Engine events published, and the kinds of task they are published for.
RUN_EVENTS = ("started", "finished", "warning", "escalated")
RUN_KINDS = ("schedule", "todo")
#: Ids listed per category in a transaction event (the event says how many there were).
EVENT_IDS = 200


@dataclass
class _Scope:
    files: dict[str, None] = field(default_factory=dict)
    txs: list[Any] = field(default_factory=list)
    depth: int = 0


def tx_summary(tx: Any, limit: int = EVENT_IDS) -> dict[str, Any]:
    """A committed transaction as an event's data: its changes (ids cut at ``limit``) and provenance."""
    c = changes(tx)
    out: dict[str, Any] = {"transaction": c["transaction"], "operation": tx.provenance.operation,
                           "actor": tx.provenance.actor, "description": tx.description}
    for key in ("created", "changed", "removed"):
        out[key] = c[key][:limit]
        out[f"{key}_count"] = len(c[key])
    return out


class LiveWorkspace:
    """A session served to other threads, with its event journal.

    Parameters
    ----------
    session : Session
        The open workspace (owned by the thread ``invoke`` runs functions on).
    invoke : callable
        ``invoke(fn) -> fn()``, run on the session's thread (and waited for).
    engine : Engine, optional
        Runs transforms and agent runs; ``None``: transforms build on the
        caller's thread, and nothing can be run.
    runs : Runs, optional
        Run-now and the run nodes (``runs.process`` is the owner's business).
    journal : EventJournal, optional
    sync_files : bool
        Sync the graph with the files a scope saw change (headless). The app
        syncs by itself when its watcher or its undo history reports a file.
    submit : callable, optional
        ``submit(fn) -> concurrent.futures.Future``: queue ``fn`` on the
        session's thread without waiting (lets :meth:`acall` await it on an
        event loop instead of parking a worker thread on it).
    """

    def __init__(self, session: Any, invoke: Callable[[Callable[[], Any]], Any], *, engine: Any = None,
                 runs: Any = None, journal: EventJournal | None = None, sync_files: bool = True,
                 submit: Callable[[Callable[[], Any]], Any] | None = None) -> None:
        self.session = session
        self._submit = submit
        self.root = Path(session.root)
        self.engine = engine
        self.runs = runs
        self.journal = journal or EventJournal()
        self.sync_files = sync_files
        self._invoke = invoke
        self._scope: _Scope | None = None
        self._owner: int | None = None
        self._index: SearchIndex | None = None
        #: Called with a workspace-relative name after this process wrote that file (the watcher's acknowledge).
        self.on_written: Callable[[str], None] | None = None
        session.graph.events.transaction_committed.connect(self._on_committed)
        session.history.events.file_written.connect(self._on_file_written)
        self._detach_engine = engine.add_listener(self._on_engine_event) if engine is not None else None
        self.closed = False

    # -- the owner thread --------------------------------------------------------------------
    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the session's thread as one scope; its result or exception comes back."""
        if self.closed:
            raise RuntimeError("the workspace is closed")
        if self._owner == threading.get_ident():  # already there (a scope calling back in)
            return self._scoped(fn, *args, **kwargs)
        return self._invoke(lambda: self._scoped(fn, *args, **kwargs))

    async def acall(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """:meth:`call` for an asyncio event loop: awaits the session's thread without blocking the loop.

        With ``submit`` the job goes straight from the loop to the owner
        thread and back (a request's read crosses two threads, not three);
        without it, :meth:`call` runs on the loop's default executor.
        """
        import asyncio

        if self.closed:
            raise RuntimeError("the workspace is closed")
        if self._submit is None:
            return await asyncio.get_running_loop().run_in_executor(None, lambda: self.call(fn, *args, **kwargs))
        return await asyncio.wrap_future(self._submit(lambda: self._scoped(fn, *args, **kwargs)))

    def _scoped(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self._owner = threading.get_ident()
        self.begin()
        try:
            return fn(*args, **kwargs)
        except StaleVersion as exc:
            self.journal.publish("conflict", {"file": self.relative(exc.file), "etag": exc.current})
            raise
        finally:
            self.end()

    def begin(self) -> None:
        """Open a scope (on the owner thread); scopes nest, the outermost one publishes."""
        if self._scope is None:
            self._scope = _Scope()
        self._scope.depth += 1

    def end(self) -> None:
        """Close a scope: sync the files it saw change and publish its events."""
        scope = self._scope
        if scope is None:
            return
        scope.depth -= 1
        if scope.depth > 0:
            return
        problem = None
        try:
            if scope.files and self.sync_files:
                try:
                    self.session.sync(list(scope.files))
                except Exception as exc:  # noqa: BLE001 - a file an agent is half-way through: reported, kept
                    problem = str(exc)
        finally:
            self._scope = None
        self._publish(scope, problem)

    def _publish(self, scope: _Scope, problem: str | None) -> None:
        if scope.files:
            files = [{"file": name, "etag": self._etag(name)} for name in scope.files]
            data: dict[str, Any] = {"files": files, "transactions": [tx_summary(tx) for tx in scope.txs]}
            if problem:
                data["problem"] = problem
            self.journal.publish("files", data)
            return
        for tx in scope.txs:
            self.journal.publish("transaction", tx_summary(tx))

    def _etag(self, name: str) -> str | None:
        try:
            return file_etag(self.root / name)
        except Exception:  # noqa: BLE001 - unreadable now: the event says so by its missing version
            return None

    # -- what happens -------------------------------------------------------------------------
    def relative(self, path: str) -> str:
        """``path`` relative to the workspace when it lies inside it (as events and errors name files)."""
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except (ValueError, OSError):
            return Path(path).name

    def _on_committed(self, tx: Any) -> None:
        if self._scope is not None:
            self._scope.txs.append(tx)
        else:  # committed outside any scope (the app's own edits, run nodes): an event of its own
            self.journal.publish("transaction", tx_summary(tx))

    def _on_file_written(self, path: str) -> None:
        self.files_changed([self.relative(path)], written=True)

    def files_changed(self, names: list[str], *, written: bool = False) -> None:
        """Files changed (``written``: by this process); call on the owner thread.

        Inside a scope they are noted for its event; outside, they are a scope of their own.
        """
        if written and self.on_written is not None:
            for name in names:
                self.on_written(name)
        self.begin()
        try:
            assert self._scope is not None
            self._scope.files.update(dict.fromkeys(names))
        finally:
            self.end()

    def _on_engine_event(self, event: Any) -> None:
        # In an engine thread: the journal is thread-safe; nothing else is touched here.
        if event.type not in RUN_EVENTS or event.kind not in RUN_KINDS:
            return
        data = {"event": event.type, "task_id": event.task_id, "kind": event.kind, "subject_id": event.subject_id}
        if event.type == "finished":
            status = event.data.get("status")
            data.update(status=status, dry_run=bool(event.data.get("dry_run")), error=event.data.get("error"),
                        duration_s=event.data.get("duration_s"))
            if status == "timeout":
                data["event"] = "timeout"
        elif event.type == "warning":
            data.update(elapsed_s=event.data.get("elapsed_s"), limit_s=event.data.get("limit_s"))
        self.journal.publish("run", data)

    # -- shared helpers -----------------------------------------------------------------------
    @property
    def index(self) -> SearchIndex:
        """The graph's search index (made on first use; use it on the owner thread)."""
        if self._index is None:
            self._index = SearchIndex(self.session.graph)
        return self._index

    def close(self) -> None:
        """Stop listening (the session, engine and runs stay their owner's to close)."""
        if self.closed:
            return
        self.closed = True
        self.session.graph.events.transaction_committed.disconnect(self._on_committed)
        self.session.history.events.file_written.disconnect(self._on_file_written)
        if self._detach_engine is not None:
            self._detach_engine()
        if self._index is not None:
            self._index.close()


__all__ = ["EVENT_IDS", "LiveWorkspace", "RUN_EVENTS", "RUN_KINDS", "tx_summary"]
