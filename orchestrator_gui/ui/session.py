"""One open workspace in the desktop app: its graph store, undo stack and file watcher.

The session owns the objects whose life is tied to a workspace folder and
keeps the graph in step with the files: on open it builds the graph (first
time) or brings it up to date (``migration.update_graph``), and every file
change the watcher reports, or the app writes itself, is followed by an
incremental update applied through the store. File-driven updates are
journaled but kept off the undo stack: undoing a panel edit writes the file
back, and the graph follows the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from orchestrator_gui.formats.workspace import Workspace
from orchestrator_gui.migration import MIGRATION_FILES, build_graph, update_graph
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import Node
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.ui.errors import ErrorReporter
from orchestrator_gui.ui.undo import UndoController
from orchestrator_gui.ui.watcher import WorkspaceWatcher


class WorkspaceSession(QObject):
    """An open workspace.

    Signals
    -------
    files_changed(list)
        Workspace-relative names of files whose bytes changed (from outside or
        by the app itself); panels reload them.
    graph_synced(object)
        The committed ``sync_workspace`` transaction after a file change.

    Parameters
    ----------
    root : path-like
        The workspace folder.
    reporter : ErrorReporter
    readonly : bool
        Open the graph store read-only (nothing is journaled; edits are refused).

    Attributes
    ----------
    workspace : Workspace
    store : GraphStore or None
        ``None`` when the store could not be opened; the graph then lives in
        memory only and :attr:`store_problem` says why.
    graph : ThoughtGraph
    undo : UndoController
    watcher : WorkspaceWatcher
    """

    files_changed = Signal(list)
    graph_synced = Signal(object)

    def __init__(self, root: str | os.PathLike[str], reporter: ErrorReporter, *, readonly: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root = Path(root).resolve()
        self.workspace = Workspace.at(self.root)
        self.reporter = reporter
        self.store = None
        self.store_problem: str | None = None
        self.graph = self._open_graph(readonly)
        self.undo = UndoController(self.apply_tx, reporter, self)
        self.undo.file_written.connect(self._on_written)
        self.watcher = WorkspaceWatcher(self.root, parent=self)
        self.watcher.changed.connect(self._on_changed)
        self._index_rev = -1
        self._by_source: dict[tuple[str, str], str] = {}
        self._by_line: dict[tuple[str, int], str] = {}

    # ------------------------------------------------------------------ graph
    def _open_graph(self, readonly: bool) -> ThoughtGraph:
        from orchestrator_gui.store import GraphStore

        try:
            self.store = GraphStore.open_workspace(self.root, readonly=readonly)
        except Exception as exc:  # noqa: BLE001 - an unusable store must not stop the files from opening
            self.store_problem = self.reporter.report(exc, context="Graph store unavailable, working in memory")
            return build_graph(self.workspace)
        for p in self.store.problems:
            self.reporter.report(p.format(), context="Graph store recovered")
        if self.store.graph.number_of_nodes() == 0 and not readonly:
            # First open: a fresh deterministic build, recorded as the store's base state.
            self.store.replace_graph(build_graph(self.workspace), operation="build_graph",
                                     description="Build from the workspace files", actor="migration")
        else:
            self._sync(self.store.graph)
        return self.store.graph

    def apply_tx(self, tx: Transaction) -> Transaction:
        """Apply ``tx`` journaled (when there is a store) and off the model's own undo stack."""
        if self.store is not None:
            return self.store.apply(tx, record=False)
        return self.graph.apply(tx, record=False)

    def _sync(self, graph: ThoughtGraph) -> Transaction | None:
        tx = update_graph(graph, self.workspace)
        if not tx.edits:
            return None
        if self.store is not None and not self.store.readonly:
            return self.store.apply(tx, record=False)
        if self.store is None:
            return graph.apply(tx, record=False)
        return None

    def sync_graph(self) -> Transaction | None:
        """Bring the graph up to date with the files now; returns the committed transaction, if any."""
        with self.reporter.guard("Updating the graph from the files") as g:
            committed = self._sync(self.graph)
        if g.failed:
            return None
        if committed is not None:
            self.graph_synced.emit(committed)
        return committed

    # ------------------------------------------------------------------ files
    def path(self, rel: str) -> Path:
        """Absolute path of a workspace-relative file name."""
        return self.root / rel

    def _on_changed(self, names: list[str]) -> None:
        self.files_changed.emit(list(names))
        if any(n in MIGRATION_FILES for n in names):
            self.sync_graph()

    def _on_written(self, path: str) -> None:
        # The app wrote the file itself: handle it now rather than after the
        # watcher's quiet period, so the next edit starts from fresh bytes.
        rel = self.watcher.relative(path)
        self.watcher.acknowledge(rel)
        self._on_changed([rel])

    # ------------------------------------------------------------------ node lookup
    def _index(self) -> None:
        if self._index_rev == self.graph.revision:
            return
        self._by_source.clear()
        self._by_line.clear()
        for node in self.graph.nodes():
            src = node.source
            if src is None:
                continue
            self._by_source[(src.file, src.key)] = node.id
            if src.line is not None:
                # Several nodes may start on one line (a schedule and its first section): keep the first.
                self._by_line.setdefault((src.file, src.line), node.id)
        self._index_rev = self.graph.revision

    def node_for(self, file: str, *, line: int | None = None, key: str | None = None) -> str | None:
        """Id of the node mirroring an item of ``file``, found by source ``key`` or by ``line``."""
        self._index()
        if key is not None:
            hit = self._by_source.get((file, key))
            if hit is not None:
                return hit
        if line is not None:
            return self._by_line.get((file, line))
        return None

    def nodes_of_file(self, file: str) -> Iterator[Node]:
        """Nodes whose source is ``file``."""
        for node in self.graph.nodes():
            if node.source is not None and node.source.file == file:
                yield node

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        """Stop watching and close the store (writing a snapshot when something changed)."""
        self.watcher.stop()
        self.undo.clear()
        if self.store is not None and not self.store.closed:
            with self.reporter.guard("Closing the graph store"):
                self.store.close()
