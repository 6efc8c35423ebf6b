"""The Qt edge of an open workspace: a :class:`~orchestrator_gui.workspace.Session` plus a file watcher and signals.

Everything a workspace *does* (open the store, sync the graph from the
files, apply, undo, find a node) is the application layer's
:class:`~orchestrator_gui.workspace.Session`, shared with the CLI and the
API. This wrapper adds what only the desktop app needs: the file watcher,
Qt signals for the panels, and reporting to the user. A file change the
watcher reports, or the app writes itself, is synced for that file alone;
those syncs are journaled but never undo steps (undoing a panel edit writes
the file back, and the graph follows the file).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from orchestrator_gui.migration import MIGRATION_FILES
from orchestrator_gui.model.nodes import Node
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.ui.errors import ErrorReporter
from orchestrator_gui.ui.undo import UndoController
from orchestrator_gui.ui.watcher import WorkspaceWatcher
from orchestrator_gui.workspace import Session


class WorkspaceSession(QObject):
    """An open workspace in the desktop app.

    Signals
    -------
    files_changed(list)
        Workspace-relative names of files whose bytes changed (from outside or
        by the app itself); panels reload them.
    graph_synced(object)
        The committed sync transaction after a file change.

    Parameters
    ----------
    root : path-like
        The workspace folder.
    reporter : ErrorReporter
    readonly : bool
        Open the graph store read-only (nothing is journaled; edits are refused).
    in_memory : bool
        No graph store: the graph is built from the files and kept in memory (nothing written beside them).

    Attributes
    ----------
    core : Session
        The application layer's session (what the CLI and the API use too).
    workspace, store, graph :
        The core session's.
    undo : UndoController
    watcher : WorkspaceWatcher
    """

    files_changed = Signal(list)
    graph_synced = Signal(object)
    #: Fleet mode: another machine committed (emitted from the store's listener thread, so the
    #: connection to :meth:`_pull_remote` is queued onto this object's, the GUI, thread).
    remote_wake = Signal()
    #: Fleet mode: the shared database went away (True) or came back (False).
    offline_changed = Signal(bool)

    def __init__(self, root: str | os.PathLike[str], reporter: ErrorReporter, *, readonly: bool = False,
                 in_memory: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reporter = reporter
        self.core = Session.open(root, readonly=readonly, sync=False, in_memory=in_memory)
        self.root = self.core.root
        self.workspace = self.core.workspace
        self.store = self.core.store
        self.store_problem = self.core.store_problem
        if self.store_problem:
            self.reporter.report(self.store_problem, context="Graph store unavailable, working in memory")
        for line in self.core.problems:
            self.reporter.report(line, context="Graph store recovered")
        self.graph = self.core.graph
        self.undo = UndoController(self.core, reporter, self)
        self.undo.file_written.connect(self._on_written)
        self.watcher = WorkspaceWatcher(self.root, parent=self)
        self.watcher.changed.connect(self._on_changed)
        self.remote_wake.connect(self._pull_remote)
        self.core.events.remote_pending.connect(self._on_remote_pending)
        self.core.events.offline_changed.connect(self._on_offline_changed)
        self.sync_graph()

    # ------------------------------------------------------------------ graph
    def apply_tx(self, tx: Transaction) -> Transaction:
        """Apply ``tx`` journaled and off the undo history (activation touches)."""
        return self.core.apply(tx, undoable=False)

    def sync_graph(self, changed: list[str] | None = None) -> Transaction | None:
        """Bring the graph up to date with the files (only ``changed`` ones when given); returns the committed sync."""
        with self.reporter.guard("Updating the graph from the files") as g:
            committed = self.core.sync(changed)
        if g.failed:
            return None
        if committed is not None:
            self.graph_synced.emit(committed)
        return committed

    # ------------------------------------------------------------------ files
    def path(self, rel: str) -> Path:
        """Absolute path of a workspace-relative file name."""
        return self.core.path(rel)

    def _on_changed(self, names: list[str]) -> None:
        self.files_changed.emit(list(names))
        changed = [n for n in names if n in MIGRATION_FILES]
        if changed:
            self.sync_graph(changed)

    def _on_written(self, path: str) -> None:
        # The app wrote the file itself: handle it now rather than after the
        # watcher's quiet period, so the next edit starts from fresh bytes.
        rel = self.watcher.relative(path)
        self.watcher.acknowledge(rel)
        self._on_changed([rel])

    # ------------------------------------------------------------------ node lookup
    def node_for(self, file: str, *, line: int | None = None, key: str | None = None) -> str | None:
        """Id of the node mirroring an item of ``file``, found by source ``key`` or by ``line``."""
        return self.core.node_for(file, line=line, key=key)

    def nodes_of_file(self, file: str) -> Iterator[Node]:
        """Nodes whose source is ``file``."""
        return self.core.nodes_of_file(file)

    # ------------------------------------------------------------------ closing
    def _on_remote_pending(self) -> None:  # the store's listener thread
        self.remote_wake.emit()

    def _on_offline_changed(self, offline: bool) -> None:  # any thread
        self.offline_changed.emit(bool(offline))

    def _pull_remote(self) -> None:
        # Applies the other machines' transactions on this thread, the graph's: the view then
        # updates through the graph's own events, as for a local change.
        with self.reporter.guard("Fleet graph"):
            self.core.pull_remote()

    def close(self) -> None:
        """Stop watching and close the store (writing a snapshot when something changed)."""
        self.core.events.remote_pending.disconnect(self._on_remote_pending)
        self.core.events.offline_changed.disconnect(self._on_offline_changed)
        self.watcher.stop()
        self.undo.close()
        with self.reporter.guard("Closing the graph store"):
            self.core.close()
