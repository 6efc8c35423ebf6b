"""The interface every thought-graph store implements, and the events stores emit.

Everything above ``store/`` (the application layer, the faces) holds a store
through this interface only, so it never knows whether the graph lives in the
embedded SQLite file (:class:`~orchestrator_gui.store.store.GraphStore`, the
default) or in a fleet's PostgreSQL database
(:class:`~orchestrator_gui.store.postgres.PostgresGraphStore`).

Local and shared stores differ in two ways the interface makes explicit, with
harmless answers for a local store:

* **Remote transactions.** A shared store learns of transactions committed by
  other machines on a background thread, emits :attr:`StoreEvents.remote_pending`
  there, and applies them to :attr:`GraphStore.graph` when the thread that
  owns the graph calls :meth:`GraphStoreAPI.pull`. The graph then emits the
  same events a local commit emits. A local store never has any (``pull``
  returns 0).
* **Offline.** A shared store whose database is unreachable keeps committing
  to a local journal and says so (:attr:`GraphStoreAPI.offline`,
  :attr:`StoreEvents.offline_changed`); it replays that journal when the
  database is back. A local store is never offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from psygnal import Signal, SignalGroup

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.problems import Problem
from orchestrator_gui.store.recovery import HistoryEntry, Loaded


class StoreEvents(SignalGroup):
    """Events of a store (psygnal; emitted on the thread named below).

    remote_pending()
        Transactions from other machines are waiting: call :meth:`GraphStoreAPI.pull`
        on the thread that owns the graph. Emitted on the store's listener thread.
    remote_applied(Transaction)
        :meth:`GraphStoreAPI.pull` applied this remote transaction (on the caller's thread).
    offline_changed(bool)
        The database became unreachable (``True``) or reachable again (``False``).
        Emitted on whichever thread noticed (the listener thread or a committing one).
    """

    remote_pending = Signal()
    remote_applied = Signal(object)
    offline_changed = Signal(bool)


@runtime_checkable
class GraphStoreAPI(Protocol):
    """What a thought-graph store offers to the layers above it.

    Attributes
    ----------
    path : pathlib.Path
        Where the store keeps its local files (the SQLite database, or a
        shared store's local journal beside it).
    graph : ThoughtGraph
        The live graph; every transaction applied to it is journaled.
    problems : list of Problem
        Damage skipped while opening, and later non-fatal failures.
    last_seq : int
        Seq of the newest journal record reflected in :attr:`graph`.
    readonly : bool
        Applying a transaction is refused (:class:`~orchestrator_gui.problems.ReadOnlyError`).
    shared : bool
        Other processes (a fleet's machines, each with its own copy of the workspace files) commit
        to the same graph.
    events : StoreEvents
    """

    path: Path
    graph: ThoughtGraph
    problems: list[Problem]
    last_seq: int
    readonly: bool
    shared: bool
    events: StoreEvents

    @property
    def name(self) -> str:
        """Where the graph lives, as shown to people (a file, or ``postgresql://host:port/db``; never a password)."""

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""

    @property
    def offline(self) -> bool:
        """True while the store commits to its local journal only (the shared database is unreachable)."""

    def close(self, *, snapshot: bool | None = None) -> None:
        """Write a final snapshot when useful and release the store."""

    def apply(self, tx: Transaction, *, record: bool = True) -> Transaction:
        """Apply ``tx`` to :attr:`graph`, journaled; return the committed transaction."""

    def pull(self) -> int:
        """Apply waiting remote transactions (and replay the local journal when back online); return how many."""

    def snapshot(self, *, kind: str = "periodic") -> int:
        """Write a snapshot of the current graph; return its id."""

    def replace_graph(self, graph: ThoughtGraph, *, operation: str = "import", description: str = "",
                      params: dict[str, Any] | None = None, actor: str = "user") -> None:
        """Make ``graph`` the store's graph wholesale, recorded as a ``reset`` with a base snapshot."""

    def history(self, limit: int | None = None) -> list[HistoryEntry]:
        """Journal records, oldest first (the newest ``limit``)."""

    def own_history(self) -> list[HistoryEntry]:
        """The journal records this writer may undo (its own), oldest first: the undo history's seed."""

    def graph_at(self, tx: str | int) -> Loaded:
        """The graph as it was right after transaction ``tx`` (id, id prefix or seq)."""

    def restore(self, tx: str | int, *, actor: str = "user") -> Transaction | None:
        """Return the content to what it was after ``tx``, as a new undoable transaction."""

    def history_entry(self, seq: int) -> HistoryEntry:
        """The history entry of journal record ``seq``."""

    def transaction(self, tx_id: str) -> Transaction:
        """The committed transaction ``tx_id`` as journaled."""

    def stats(self) -> dict[str, Any]:
        """Sizes for ``graph stats`` (``journal_records``, ``snapshots``, ``snapshot_bytes``, ``store_bytes``,
        ``last_seq``)."""


__all__ = ["GraphStoreAPI", "StoreEvents"]
