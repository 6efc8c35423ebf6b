"""An open workspace: its graph (in a store or in memory), kept in step with the files, with one undo history.

:class:`Session` is what the desktop app, the CLI and the API hold while they
work on a workspace folder. It has no Qt in it; the app wraps it with a file
watcher and Qt signals (``ui/session.py``), the CLI opens one per command.

* **Open**: :meth:`Session.open` attaches to ``.orchestrator/graph.db``
  (creating it with a fresh build when asked) or, when the store cannot be
  used, builds the graph in memory and says why in :attr:`Session.store_problem`.
* **Sync**: :meth:`Session.sync` brings the file-backed nodes up to date.
  Given the names of the files that changed, it re-reads only those (the
  other files' items are kept from the last read), so a TODO tick reads
  ``TODO.md`` alone.
* **Apply**: :meth:`Session.apply` commits a transaction, journaled, and puts
  it on the :class:`~orchestrator_gui.workspace.history.UndoHistory` unless
  it is marked not undoable; :meth:`undo`/:meth:`redo` are that history's.
* **Find**: :meth:`Session.node_for` maps a file item (key or line) to its node.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from psygnal import Signal, SignalGroup

from orchestrator_gui.engine.fleet_config import ENV_DSN, fleet_settings
from orchestrator_gui.formats.workspace import MEMORY, TIMING, TIMING_CSV, Workspace
from orchestrator_gui.migration import MIGRATION_FILES, build_graph, update_graph
from orchestrator_gui.migration.extract import READERS, read_workspace, readers_for
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import Node
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.workspace.history import UndoHistory, Undone, not_undoable, store_reset_change
from orchestrator_gui.workspace.thinking import Thinking


def _fleet_target(root: str | os.PathLike[str]) -> Any:
    """The fleet settings when ``[fleet]`` (or its environment variable) asks for fleet mode, else ``None``.

    A config file that is broken elsewhere (not in ``[fleet]``) keeps the embedded store as
    before fleet mode existed; a fleet that is asked for but misconfigured raises, so a machine
    never drifts off on a private graph unnoticed.
    """
    from orchestrator_gui.engine.config import config_path
    from orchestrator_gui.problems import FormatError

    try:
        return fleet_settings(root)
    except FormatError:
        path = config_path(root)
        try:
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        except OSError:
            text = ""
        if os.environ.get(ENV_DSN, "").strip() or any(line.strip().startswith("[fleet")
                                                       for line in text.splitlines()):
            raise
        return None


def open_store(root: str | os.PathLike[str], *, readonly: bool = False) -> Any:
    """The workspace's graph store as its config chooses it: the fleet's shared store with ``[fleet]``, else SQLite.

    For commands that work on the store without a whole :class:`Session` (``graph history``,
    ``graph stats``); the result is used through the store interface only.

    Raises
    ------
    FormatError
        The store cannot be opened, or ``[fleet]`` is asked for but misconfigured.
    """
    from orchestrator_gui.store import open_graph_store

    return open_graph_store(root, readonly=readonly, fleet=_fleet_target(root))


class NoGraphError(ValueError):
    """The workspace has no thought graph yet (``graph build`` makes one)."""


class SessionEvents(SignalGroup):
    """Events of a :class:`Session`.

    synced(Transaction)
        The graph was brought up to date with the files (the committed sync).
    applied(Transaction)
        A transaction was committed through :meth:`Session.apply`.
    remote_pending()
        Another machine of the fleet committed: call :meth:`Session.pull_remote` on the thread that
        owns the graph. Emitted on the store's listener thread (a face hops to its own thread).
    offline_changed(bool)
        The fleet database became unreachable (True) or reachable again (False); any thread.
    """

    synced = Signal(object)
    applied = Signal(object)
    remote_pending = Signal()
    offline_changed = Signal(bool)


class Session:
    """An open workspace.

    Use :meth:`open`; the constructor takes already opened parts.

    Attributes
    ----------
    root : pathlib.Path
    workspace : Workspace
    store : GraphStoreAPI or None
        ``None`` when the graph lives in memory only. The embedded SQLite store, or the fleet's
        shared one when ``[fleet]`` is configured; used only through the store interface.
    store_problem : str or None
        Why there is no store, when one was wanted.
    graph : ThoughtGraph
    history : UndoHistory
    thinking : Thinking
    events : SessionEvents
    """

    def __init__(self, root: str | os.PathLike[str], graph: ThoughtGraph, *, store: Any = None,
                 store_problem: str | None = None, problems: list[str] | None = None) -> None:
        self.root = Path(root).resolve()
        self.workspace = Workspace.at(self.root)
        self.store = store
        self.store_problem = store_problem
        #: Damage the store skipped while opening (one line each), for the face to show.
        self.problems: list[str] = list(problems or [])
        self.graph = graph
        #: True when :meth:`open` gave an empty store its fresh build (the store's base state).
        self.built_fresh = False
        #: Transforms with the thinkers this workspace's config names.
        self.thinking = Thinking(self.root)
        self.events = SessionEvents()
        self.history = UndoHistory(self._commit, store.transaction if store is not None else None,
                                   reset_change=store_reset_change(store) if store is not None else None)
        if store is not None:
            # Only this writer's records: a fleet's other machines' transactions are theirs to undo.
            self.history.seed(store.own_history())
            store.events.remote_pending.connect(self.events.remote_pending.emit)
            store.events.offline_changed.connect(self.events.offline_changed.emit)
        self._items: dict[str, list[Any]] | None = None
        self._stale: set[str] = set()
        self._index_rev = -1
        self._by_source: dict[tuple[str, str], str] = {}
        self._by_line: dict[tuple[str, int], str] = {}

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, root: str | os.PathLike[str], *, readonly: bool = False, create: bool = True,
             build: bool = True, in_memory: bool = False, sync: bool = True) -> Session:
        """Open the workspace at ``root``.

        Parameters
        ----------
        root : path-like
        readonly : bool
            Open the store read-only (edits are refused; nothing is synced).
        create : bool
            Create the store when there is none, and fall back to a graph in
            memory when the store cannot be opened (the app). With
            ``create=False`` a workspace without a graph raises
            :class:`NoGraphError` and a damaged store raises (the CLI).
        build : bool
            Give an empty store a fresh deterministic build (recorded as its base state).
        in_memory : bool
            Do not use a store at all: build the graph in memory.
        sync : bool
            Bring an existing graph up to date with the files (an automatic,
            not undoable sync; never for read-only stores).

        Raises
        ------
        NoGraphError
            ``create=False`` and the workspace has no graph yet.
        FormatError
            A workspace file cannot be read while building or syncing the graph.
        """
        from orchestrator_gui.store import store_path

        root = Path(root)
        ws = Workspace.at(root)  # a folder that is missing or not a folder fails here, before a store is made in it
        if in_memory:
            return cls._built(root, ws)
        path = store_path(root)
        if not create and not path.is_file() and _fleet_target(root) is None:
            raise NoGraphError(f"no thought graph in {Path(root).resolve()} yet: "
                               "run 'orchestrator-gui graph build' first")
        try:
            store = open_store(root, readonly=readonly)
        except Exception as exc:  # noqa: BLE001 - an unusable store must not stop the files from opening
            if not create:
                raise
            return cls._built(root, ws, store_problem=f"{type(exc).__name__}: {exc}")
        problems = [p.format() for p in store.problems]
        empty = store.graph.number_of_nodes() == 0 and store.last_seq == 0
        if empty and not create:
            store.close()
            raise NoGraphError(f"the thought graph in {path} is empty: run 'orchestrator-gui graph build' first")
        if empty and build and not readonly:
            # First open: a fresh deterministic build, recorded as the store's base state.
            items = read_workspace(ws)
            store.replace_graph(build_graph(ws, items=items), operation="build_graph",
                                description="Build from the workspace files", actor="migration")
            session = cls(root, store.graph, store=store, problems=problems)
            session._items = items
            session.built_fresh = True
            return session
        session = cls(root, store.graph, store=store, problems=problems)
        if sync and not readonly:
            try:
                session.sync()
            except Exception:
                session.close()
                raise
        return session

    @classmethod
    def _built(cls, root: Path, ws: Workspace, **kwargs: Any) -> Session:
        """A session on a fresh build held in memory (the files' items kept for per-file syncs)."""
        items = read_workspace(ws)
        session = cls(root, build_graph(ws, items=items), **kwargs)
        session._items = items
        return session

    @property
    def readonly(self) -> bool:
        """True when the store was opened read-only."""
        return self.store is not None and self.store.readonly

    # ------------------------------------------------------------------ applying
    def _commit(self, tx: Transaction) -> Transaction:
        # A store journals every transaction its graph commits (its commit hook), so the graph's
        # own apply is the journaled one; record=False keeps the model's in-memory undo stack out:
        # the history is this session's.
        return self.graph.apply(tx, record=False)

    def apply(self, tx: Transaction, *, undoable: bool = True) -> Transaction:
        """Commit ``tx`` (journaled when there is a store) and, when ``undoable``, put it on the history.

        A transaction applied with ``undoable=False`` is marked so in its
        provenance: a later process reading the journal leaves it off the
        history too (file syncs, activation touches, run records).

        Returns
        -------
        Transaction
            The committed (resolved) transaction.
        """
        committed = self.graph.apply(tx if undoable else not_undoable(tx), record=False)  # journaled: see _commit
        if undoable:
            self.history.record(committed)
        self.events.applied.emit(committed)
        return committed

    def undo(self) -> Undone:
        """Undo the newest step of the history (see :meth:`UndoHistory.undo`)."""
        return self.history.undo()

    def redo(self) -> Undone:
        """Redo the newest undone step (see :meth:`UndoHistory.redo`)."""
        return self.history.redo()

    def pull_remote(self) -> int:
        """Apply the fleet's other machines' new transactions to the graph (0 without a shared store).

        Call on the thread that owns the graph, after :attr:`SessionEvents.remote_pending`;
        the graph emits the same events as for a local commit.
        """
        return self.store.pull() if self.store is not None and not self.store.closed else 0

    @property
    def offline(self) -> bool:
        """True while the fleet database is unreachable (commits go to the local journal)."""
        return self.store is not None and self.store.offline

    # ------------------------------------------------------------------ files
    def path(self, rel: str) -> Path:
        """Absolute path of a workspace-relative file name."""
        return self.root / rel

    def plan_sync(self, changed: Iterable[str] | None = None) -> Transaction | None:
        """The transaction that brings the graph up to date with the files (not applied).

        Parameters
        ----------
        changed : iterable of str, optional
            Workspace-relative names of the files that changed; only those are
            read again. ``None`` reads every file.

        Returns
        -------
        Transaction or None
            ``None`` when no migration file changed.
        """
        if changed is None or self._items is None:
            only = None
        else:
            only = set(readers_for(n for n in changed if n in MIGRATION_FILES)) | self._stale
            if not only:
                return None
        try:
            items = read_workspace(self.workspace, only=only, previous=self._items)
        except Exception:
            # A reader that failed is read again next time, whatever file changes then.
            self._stale |= set(only) if only is not None else {name for name, _ in READERS}
            raise
        self._items, self._stale = items, set()
        return update_graph(self.graph, self.workspace, items=items, keep_files=self._shared_logs())

    def _shared_logs(self) -> tuple[str, ...]:
        # In a fleet every machine syncs its own copy of the files into the one shared graph. The logs
        # differ per machine (each has its own task_timing.tsv; memory entries reach the others only
        # through git), so a sync must not remove the nodes another machine's copy holds.
        if self.store is None or not self.store.shared:
            return ()
        return (TIMING.as_posix(), TIMING_CSV.as_posix(), MEMORY.as_posix())

    def sync(self, changed: Iterable[str] | None = None, *, undoable: bool = False) -> Transaction | None:
        """Bring the graph up to date with the files; returns the committed transaction, if any.

        Parameters
        ----------
        changed : iterable of str, optional
            As for :meth:`plan_sync`.
        undoable : bool
            Put the sync on the undo history (``graph build`` does: an explicit
            user command; the app's automatic syncs do not).

        Raises
        ------
        FormatError
            A changed file cannot be read; nothing is applied.
        """
        tx = self.plan_sync(changed)
        if tx is None or not tx.edits or self.readonly:
            return None
        committed = self.apply(tx, undoable=undoable)
        self.events.synced.emit(committed)
        return committed

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
    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self.store is not None and self.store.closed

    def close(self) -> None:
        """Close the store (writing a snapshot when something changed); the history is forgotten."""
        self.history.clear()
        if self.store is not None and not self.store.closed:
            self.store.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["NoGraphError", "Session", "SessionEvents", "open_store"]
