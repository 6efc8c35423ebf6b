"""Build a workspace's graph store on a worker thread while the window keeps drawing.

The first open of a workspace (the demo on a first start, above all)
builds its thought graph from the files: reading them, placing every node
on its shell and relaxing the layout, about 0.4 s of Python for
the demo. The window's first frames cost about as much on the GUI thread,
but that time is spent inside OpenGL (llvmpipe compiling the shaders),
which holds no interpreter lock. Running the build on a worker thread
meanwhile, and opening the finished store on the GUI thread afterwards,
lets the two share the machine's cores instead of running one after the
other.

The worker owns everything it opens: it builds the store with
:meth:`Session.open <orchestrator_gui.workspace.Session.open>` and closes it
again (SQLite connections stay on the thread that made them). The GUI
thread then opens that store as on any later start, so the graph, its
journal and its undo history are exactly those of a build on the GUI
thread. A build that fails is not reported here: the GUI thread's open
meets the same problem and reports it as it always has.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal

#: Safety net of the wait: how often the GUI thread checks the worker even without its signal (ms).
WATCHDOG_MS = 100


def needs_build(root: str | os.PathLike[str]) -> bool:
    """True when opening ``root`` with a store would build its graph from scratch in a new local store.

    That is a folder with no ``.orchestrator/`` at all: no store yet, and no
    ``config.toml`` that could point the graph at a fleet's database instead.
    """
    from orchestrator_gui.store import store_path

    return Path(root).is_dir() and not store_path(root).parent.exists()


class _Relay(QObject):
    """Lives on the GUI thread; the worker's ``finished.emit()`` reaches it as a queued event."""

    finished = Signal()


class GraphPrebuild:
    """One build of a workspace's graph store on a worker thread (create it on the GUI thread).

    Parameters
    ----------
    root : path-like
        The workspace folder (it must have no store yet; see :func:`needs_build`).

    Attributes
    ----------
    error : BaseException or None
        What the build raised (the GUI thread's open meets it again and reports it).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.error: BaseException | None = None
        self._ended = threading.Event()
        self._relay = _Relay()
        self._thread = threading.Thread(target=self._run, name="graph-prebuild", daemon=True)

    def _run(self) -> None:
        from orchestrator_gui.workspace import Session

        try:
            Session.open(self.root, sync=False).close()
        except BaseException as exc:  # noqa: BLE001 - reported by the GUI thread's own open
            self.error = exc
        finally:
            self._ended.set()
            self._relay.finished.emit()

    def start(self) -> GraphPrebuild:
        """Start the build; returns ``self``."""
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        """True until the build has ended."""
        return not self._ended.is_set()

    def wait(self, *, events: bool = True) -> None:
        """Return once the build has ended.

        Parameters
        ----------
        events : bool
            Meanwhile run the GUI's event loop for paints and timers (user input
            waits). It sleeps until an event comes: the worker's end is one.
        """
        if events and self.running:
            loop = QEventLoop()
            self._relay.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)
            watchdog = QTimer()  # in case the end was signalled before the connection was made
            watchdog.setInterval(WATCHDOG_MS)
            watchdog.timeout.connect(lambda: None if self.running else loop.quit())
            watchdog.start()
            if self.running:
                loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
            watchdog.stop()
        self._thread.join()


def start_build(root: str | os.PathLike[str]) -> GraphPrebuild | None:
    """Start building ``root``'s graph store on a worker thread; ``None`` when it has one already.

    Parameters
    ----------
    root : path-like
        A workspace folder that is about to be opened with a store.
    """
    return GraphPrebuild(root).start() if needs_build(root) else None


__all__ = ["WATCHDOG_MS", "GraphPrebuild", "needs_build", "start_build"]
