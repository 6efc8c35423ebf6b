"""Tools ▸ Local API: the API server inside the desktop app, serving the app's own live session.

The server is the one ``orchestrator-gui serve`` runs, on a thread of this
process. This module does not import the API package (the faces ``ui`` and
``api`` are independent siblings): the app hands the window a plain
``start_server(live) -> handle`` callable (``app.start_local_api``), and the
handle has ``url``, ``token_source``, ``begin_stop()`` and ``wait(timeout)``. What it serves is
the open workspace's :class:`~orchestrator_gui.workspace.Session`, the very
one the window shows, wrapped in a
:class:`~orchestrator_gui.workspace.live.LiveWorkspace` whose owner thread
is the GUI thread: every request runs there, between two paint events, so
the graph is never read or changed from two threads. An agent's transform
is built on the app's engine, applied through the session's one undo
history (Edit ▸ Undo takes it back) and appears in the 3D view like the
user's own; an agent's TODO check goes through the same history as the
TODO panel's.

The app's own file watcher and its syncs stay in charge of the files: a
change it reports becomes one ``files`` event with the sync it caused.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication

#: Longest a request waits for the GUI thread.
CALL_TIMEOUT_S = 120.0


class GuiInvoker(QObject):
    """Runs functions handed over from any thread on the thread this object lives in (the GUI thread)."""

    _job = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._owner = threading.get_ident()
        self._pending: set[concurrent.futures.Future] = set()
        self._lock = threading.Lock()
        self.closed = False
        self._job.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def invoke(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` on the GUI thread and return its result (or raise its exception)."""
        if threading.get_ident() == self._owner:
            return fn()
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self.closed:
                raise RuntimeError("the local API is stopping")
            self._pending.add(future)
        self._job.emit((fn, future))
        return future.result(CALL_TIMEOUT_S)

    def _run(self, job: tuple[Callable[[], Any], concurrent.futures.Future]) -> None:
        fn, future = job
        with self._lock:
            self._pending.discard(future)
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
            future.set_exception(exc)

    def close(self) -> None:
        """Refuse new calls and fail the waiting ones (the server is stopping; the GUI thread must not wait)."""
        with self._lock:
            self.closed = True
            pending, self._pending = self._pending, set()
        for future in pending:
            if future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("the local API stopped"))


class LocalApi(QObject):
    """The in-app server of Tools ▸ Local API.

    Signals
    -------
    running_changed(bool)
        The server started or stopped (the menu's check mark).

    Parameters
    ----------
    window : MainWindow
        Gives ``session`` (WorkspaceSession), ``executor`` and ``run_control`` of the open workspace.
    start_server : callable
        ``start_server(live) -> handle``: serves a LiveWorkspace on a thread of this process (the app
        injects ``app.start_local_api``; see the module docstring for the handle).
    """

    running_changed = Signal(bool)

    def __init__(self, window: Any, start_server: Callable[[Any], Any]) -> None:
        super().__init__(window)
        self.window = window
        self._start_server = start_server
        self.server: Any = None
        self.live: Any = None
        self.url: str | None = None
        self._invoker: GuiInvoker | None = None
        self._session: Any = None
        self._scope_open = False

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self.server is not None

    def set_running(self, on: bool) -> bool:
        """Start or stop the server; returns whether it runs now."""
        if on and not self.running:
            self.start()
        elif not on and self.running:
            self.stop()
        return self.running

    def start(self) -> str | None:
        """Serve the open workspace; returns the server's URL (``None``: nothing open, or it could not start)."""
        win = self.window
        session = getattr(win, "session", None)
        if session is None or self.running:
            return self.url
        from orchestrator_gui.workspace.live import LiveWorkspace

        with win.reporter.guard("Starting the local API", dialog=True) as g:
            self._invoker = GuiInvoker(self)
            executor = getattr(win, "executor", None)
            run_control = getattr(win, "run_control", None)
            self.live = LiveWorkspace(session.core, self._guarded(session),
                                      engine=executor.engine if executor is not None else None,
                                      runs=run_control.runs if run_control is not None else None,
                                      sync_files=False)  # the app's watcher and undo history sync the graph
            self.live.on_written = self._written
            self._session = session
            session.files_changed.connect(self._on_files_changed)
            # The workspace closes (another is opened, the window closes): stop serving the old one.
            session.destroyed.connect(self.stop)
            self.server = self._start_server(self.live)
            self.url = self.server.url
        if g.failed:
            self._teardown()
            return None
        win.reporter.info(f"Local API on {self.url} (MCP at {self.url}/mcp; docs at {self.url}/docs?token=…); "
                          f"bearer token in {self.server.token_source}")
        self.running_changed.emit(True)
        return self.url

    def _guarded(self, session: Any) -> Callable[[Callable[[], Any]], Any]:
        """The invoker, refusing calls once the window shows another workspace than the one served."""
        invoker = self._invoker
        assert invoker is not None

        def invoke(fn: Callable[[], Any]) -> Any:
            def checked() -> Any:
                if getattr(self.window, "session", None) is not session or session.core.closed:
                    raise RuntimeError("the workspace the local API served was closed")
                return fn()

            return invoker.invoke(checked)

        return invoke

    def stop(self) -> None:
        """Stop serving (waiting requests are answered with an error); the session stays open."""
        if not self.running and self.live is None:
            return
        self._teardown()
        self.window.reporter.info("Local API stopped")
        self.running_changed.emit(False)

    def _teardown(self) -> None:
        if self._invoker is not None:
            self._invoker.close()
        if self._session is not None:
            for signal, slot in ((self._session.files_changed, self._on_files_changed),
                                 (self._session.destroyed, self.stop)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
            self._session = None
        server, self.server, self.url = self.server, None, None
        if server is not None:
            server.begin_stop()
            deadline = time.monotonic() + 5.0
            # Requests may be waiting for this (GUI) thread: keep serving events until the server is gone.
            while not server.wait(0.02) and time.monotonic() < deadline:
                QApplication.processEvents()
        if self.live is not None:
            self.live.close()
            self.live = None
        self._invoker = None

    def _written(self, name: str) -> None:
        # A file the API wrote (an append, or an edit through the undo history): the app's watcher
        # takes it in now and the graph follows at once, inside the request's scope (one event).
        session = self._session
        if session is not None:
            session.watcher.acknowledge(name)
            session.sync_graph([name])

    def _on_files_changed(self, names: list[str]) -> None:
        # The app syncs the graph right after this signal, in the same slot: open a scope now and
        # close it once control is back in the event loop, so the files and their sync are one event.
        live = self.live
        if live is None:
            return
        if not self._scope_open:
            live.begin()
            self._scope_open = True
            QTimer.singleShot(0, self, self._close_scope)
        live.files_changed(list(names))

    def _close_scope(self) -> None:
        if self._scope_open and self.live is not None:
            self._scope_open = False
            self.live.end()


__all__ = ["CALL_TIMEOUT_S", "GuiInvoker", "LocalApi"]
