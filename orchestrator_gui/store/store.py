"""GraphStore: a ThoughtGraph kept crash-safe in SQLite (journal + periodic snapshots).

Usage::

    store = GraphStore.open_workspace(workspace)      # <workspace>/.orchestrator/graph.db
    for p in store.problems:                          # damage found and skipped while loading
        print(p.format())
    store.graph.apply(operations.add_thought(store.graph, "Why?"))   # journaled before apply returns
    store.history()                                   # list of HistoryEntry
    store.restore(tx_id)                              # back to that state, as a new undoable transaction
    store.close()                                     # writes a final snapshot

How a commit is made durable
----------------------------
The store registers a *commit hook* on its graph
(:meth:`ThoughtGraph.add_commit_hook`).  The graph calls it after all edits of
a transaction succeeded and before ``apply`` returns; the hook writes the
transaction's journal row in one SQLite transaction and returns only after
``COMMIT`` (WAL + ``synchronous=FULL``, see :mod:`.schema`) has made it
durable.  If the write fails the hook raises and the graph rolls the
transaction back, so graph and journal never disagree.  Snapshots are written
after the graph announces the commit (``transaction_committed``), never from
inside the hook, so a snapshot can never capture a transaction that a later
hook vetoes.

A hook registered *after* the store's may still veto a transaction the store
has journaled.  The store notices at its next write (the graph's ``revision``
shows the rollback) and deletes that journal row before writing anything
else.  A crash in between would replay the vetoed transaction.

Every confirmed commit also rewrites ``graph.db.seq`` beside the database
(:mod:`.sidecar`): a deleted ``-wal`` file silently takes the newest commits
with it, and only a number kept outside the WAL tells on open that they are
missing.

Only one store may write a database at a time.  Journal seqs are assigned by
the writer, so a second writer's insert collides on the primary key and is
refused with :class:`ConflictError` (the graph rolls back) instead of
interleaving two histories.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.problems import ConflictError, Problem, ReadOnlyError
from orchestrator_gui.store import recovery, sidecar
from orchestrator_gui.store.base import StoreEvents
from orchestrator_gui.store.diff import diff_to_transaction
from orchestrator_gui.store.records import Row, decode_tx, reset_row, tx_row
from orchestrator_gui.store.schema import connect, reading, store_error, store_path
from orchestrator_gui.store.snapshot import CODEC, encode_graph, snapshot_checksum

_INSERT_ROW = ("INSERT INTO journal (seq, kind, tx_id, time, operation, codec, payload, checksum) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_SNAPSHOT = (
    "INSERT INTO snapshot (last_seq, kind, time, nodes, edges, codec, raw_size, data, checksum) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class GraphStore:
    """A thought graph persisted in an SQLite journal with periodic snapshots.

    Implements :class:`~orchestrator_gui.store.base.GraphStoreAPI` (the embedded
    default: never offline, never any remote transactions).  Open it with
    :meth:`open` or :meth:`open_workspace`, not the constructor.

    Attributes
    ----------
    path : pathlib.Path
        The database file.
    graph : ThoughtGraph
        The live graph; every transaction applied to it is journaled.
    problems : list of Problem
        What was damaged and skipped while opening (and snapshot failures
        since; a failed snapshot loses nothing, the journal has it all).
    last_seq : int
        Seq of the newest journal record.
    readonly : bool
        True when opened read-only: applying a transaction raises
        :class:`ReadOnlyError` (from the commit hook, so the graph rolls back).
    snapshot_every : int
        A snapshot is written after this many journaled transactions.
    keep_snapshots : int
        Periodic snapshots kept (newest first); ``base`` snapshots are always kept.
    events : StoreEvents
        Never emitted by this store (it has no remote writers and no database to lose).
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, loaded: recovery.Loaded, *, readonly: bool,
                 snapshot_every: int, keep_snapshots: int) -> None:
        if snapshot_every < 1 or keep_snapshots < 1:
            raise ValueError("snapshot_every and keep_snapshots must be >= 1")
        self._conn = conn
        self.path = path
        self.readonly = readonly
        self.snapshot_every = snapshot_every
        self.keep_snapshots = keep_snapshots
        self.problems: list[Problem] = list(loaded.problems)
        self.last_seq = loaded.last_seq
        #: Journal records replayed on top of the snapshot when the store was opened.
        self.replayed = loaded.replayed
        self._snapshot_seq = loaded.last_seq if loaded.snapshot_id is not None and not loaded.replayed else -1
        self._since_snapshot = loaded.replayed
        self._dirty = bool(loaded.problems)
        # (seq, transaction, graph revision right after its edits) of the newest row, until the graph confirms it.
        self._pending: tuple[int, Transaction, int] | None = None
        self._seq_file = sidecar.SeqFile(path)
        self.events = StoreEvents()
        self.graph = loaded.graph
        self._attach(self.graph)

    # -- opening and closing -------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False, snapshot_every: int = 200,
             keep_snapshots: int = 3, durable: bool = True) -> GraphStore:
        """Open (or create) the store at ``path`` and load its graph.

        Loading never raises for damaged records or snapshots: they are
        skipped and listed in :attr:`problems` (see :mod:`.recovery`).

        Parameters
        ----------
        path : path-like
            The database file; its folder is created if needed.
        readonly : bool
            Load only; every write (and every ``graph.apply``) is refused.
        snapshot_every : int
            Write a snapshot after this many journaled transactions.
        keep_snapshots : int
            Periodic/close/manual snapshots kept, newest first.
        durable : bool
            ``False`` selects ``synchronous=NORMAL``: a killed process still
            loses nothing, a power cut may lose the last commits (see
            :func:`~orchestrator_gui.store.schema.connect`).

        Returns
        -------
        GraphStore

        Committed transactions missing because the ``-wal`` file was lost
        (see :mod:`.sidecar`) are reported in :attr:`problems` as warnings.

        Raises
        ------
        FormatError
            When ``path`` is not a graph store at all, (``readonly``) does not
            exist, or its file is damaged (the message names ``graph recover``).
        """
        existed = Path(path).is_file()
        conn = connect(path, readonly=readonly, durable=durable)
        try:
            if not existed:
                sidecar.remove_seq(path)  # left by a database that was deleted: it says nothing about this one
            with reading(str(path)):
                loaded = recovery.load(conn, str(path))
                if existed:
                    loaded.problems.extend(sidecar.check(conn, path, readonly=readonly))
            return cls(conn, Path(path), loaded, readonly=readonly, snapshot_every=snapshot_every,
                       keep_snapshots=keep_snapshots)
        except BaseException:
            conn.close()
            raise

    @classmethod
    def open_workspace(cls, workspace: str | os.PathLike[str], **kwargs: Any) -> GraphStore:
        """Open the default store of ``workspace`` (``.orchestrator/graph.db``); see :meth:`open`."""
        return cls.open(store_path(workspace), **kwargs)

    def close(self, *, snapshot: bool | None = None) -> None:
        """Write a final snapshot (by default only if something changed since the last one) and close.

        Parameters
        ----------
        snapshot : bool, optional
            ``True`` always writes one, ``False`` never; ``None`` writes one
            when transactions, dynamic values (activation, attention, flags)
            or a recovery from damage are not covered by a snapshot yet.
        """
        if self._conn is None:
            return
        try:
            if not self.readonly:
                self._settle(0)
                changed = self._dirty or self._since_snapshot > 0 or self._snapshot_seq != self.last_seq
                if snapshot or (snapshot is None and changed and (self.last_seq > 0 or self.graph.number_of_nodes())):
                    self.snapshot(kind="close")
        finally:
            self._detach(self.graph)
            self._conn.close()
            self._conn = None
            self._seq_file.close()

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    #: Other processes (a fleet's machines) commit to the same graph: False, this file is one machine's.
    shared = False

    @property
    def name(self) -> str:
        """Where the store is, as shown to people (the database file; the shared store names its database)."""
        return str(self.path)

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._conn is None

    @property
    def offline(self) -> bool:
        """Always False: the database is a local file."""
        return False

    def pull(self) -> int:
        """Nothing to pull: only this process writes the file (see the module docstring); returns 0."""
        return 0

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"store {self.path} is closed")
        return self._conn

    # -- graph wiring --------------------------------------------------------------------
    def _attach(self, g: ThoughtGraph) -> None:
        g.add_commit_hook(self._journal)
        ev = g.events
        ev.transaction_committed.connect(self._on_committed)
        for sig in (ev.activation_changed, ev.attention_changed, ev.flags_changed):
            sig.connect(self._on_dynamic)

    def _detach(self, g: ThoughtGraph) -> None:
        try:
            g.remove_commit_hook(self._journal)
        except ValueError:  # already detached
            pass
        ev = g.events
        ev.transaction_committed.disconnect(self._on_committed)
        for sig in (ev.activation_changed, ev.attention_changed, ev.flags_changed):
            sig.disconnect(self._on_dynamic)

    def _on_dynamic(self, *_: Any) -> None:
        self._dirty = True

    def apply(self, tx: Transaction, *, record: bool = True) -> Transaction:
        """Apply ``tx`` to :attr:`graph`, journaled like any ``graph.apply``.

        Parameters
        ----------
        tx : Transaction
        record : bool
            Put it on the graph's undo stack.

        Returns
        -------
        Transaction
            The committed (resolved) transaction.
        """
        return self.graph.apply(tx, record=record)

    # -- write side ------------------------------------------------------------------------
    def _write(self, rows: list[Row], snapshot: tuple | None = None) -> int | None:
        """Insert journal rows and/or one snapshot in a single SQLite transaction; return the snapshot id."""
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            newest = conn.execute("SELECT max(seq) FROM journal").fetchone()[0] or 0
            if newest != self.last_seq:
                raise ConflictError(
                    str(self.path), f"another process wrote to the store (journal at {newest}, expected "
                    f"{self.last_seq}); nothing was written. Reopen the store"
                )
            for row in rows:
                conn.execute(_INSERT_ROW, row.as_params())
            snap_id = None
            if snapshot is not None:
                snap_id = conn.execute(_INSERT_SNAPSHOT, snapshot).lastrowid
                conn.execute(
                    "DELETE FROM snapshot WHERE kind != 'base' AND id NOT IN "
                    "(SELECT id FROM snapshot WHERE kind != 'base' ORDER BY last_seq DESC, id DESC LIMIT ?)",
                    (self.keep_snapshots,),
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return snap_id

    def _journal(self, tx: Transaction) -> None:
        """Commit hook: make ``tx`` durable before the graph counts it as committed."""
        if self.readonly:
            raise ReadOnlyError(str(self.path), "store opened read-only; the change was not applied")
        self._settle(len(tx.edits))
        seq = self.last_seq + 1
        try:
            self._write([tx_row(seq, tx)])
        except sqlite3.IntegrityError:
            raise ConflictError(str(self.path), "another process wrote to the store; nothing was written") from None
        except sqlite3.Error as exc:
            raise store_error(str(self.path), "cannot write the journal", exc) from None
        self.last_seq = seq
        self._pending = (seq, tx, self.graph.revision)

    def _settle(self, in_flight_edits: int) -> None:
        """Drop the newest journal row if the graph rolled its transaction back after the hook ran.

        Only :func:`orchestrator_gui.model.mutate.apply_edit` changes ``revision``,
        by one per edit, rollbacks included.  After the hook of a transaction
        with ``k`` edits the revision was ``r``; if the graph kept it, the
        revision is now ``r + in_flight_edits``, if it rolled it back
        ``r + k + in_flight_edits``.
        """
        if self._pending is None:
            return
        seq, tx, rev = self._pending
        self._pending = None
        k = len(tx.edits)
        if k and self.graph.revision == rev + k + in_flight_edits:
            conn = self._db()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM journal WHERE seq = ? AND tx_id = ?", (seq, tx.id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self.last_seq = seq - 1
            self._record_seq()

    def _record_seq(self) -> None:
        """Write the newest *confirmed* seq to the sidecar (a row the graph may still roll back is left out)."""
        problem = self._seq_file.record(self.last_seq if self._pending is None else self._pending[0] - 1)
        if problem is not None:
            self.problems.append(problem)

    def _on_committed(self, tx: Transaction) -> None:
        if self._pending is not None and self._pending[1].id == tx.id:
            self._pending = None
        self._record_seq()
        self._since_snapshot += 1
        if self._since_snapshot >= self.snapshot_every:
            try:
                self.snapshot()
            except Exception as exc:  # noqa: BLE001 - the journal has the data; report, never break apply()
                self.problems.append(Problem(file=str(self.path), severity="warning",
                                             message=f"periodic snapshot failed ({exc}); will retry"))

    def snapshot(self, *, kind: str = "periodic") -> int:
        """Write a snapshot of the current graph now; return its id.

        Parameters
        ----------
        kind : {"periodic", "close", "manual"}
            Recorded with the snapshot; all three are pruned alike, keeping
            the newest :attr:`keep_snapshots`.
        """
        if self.readonly:
            raise ReadOnlyError(str(self.path), "store opened read-only")
        if kind not in ("periodic", "close", "manual"):
            raise ValueError(f"unknown snapshot kind {kind!r}")
        self._settle(0)
        g = self.graph
        blob, raw_size = encode_graph(g)
        params = (self.last_seq, kind, time.time(), g.number_of_nodes(), g.number_of_edges(), CODEC, raw_size, blob,
                  snapshot_checksum(self.last_seq, blob))
        with reading(str(self.path), "cannot write a snapshot"):
            snap_id = self._write([], params)
        self._since_snapshot = 0
        self._snapshot_seq = self.last_seq
        self._dirty = False
        return snap_id

    def replace_graph(self, graph: ThoughtGraph, *, operation: str = "import", description: str = "",
                      params: dict[str, Any] | None = None, actor: str = "user") -> None:
        """Make ``graph`` the store's graph wholesale (an import or a fresh build), recorded in the history.

        Parameters
        ----------
        graph : ThoughtGraph
            The new graph (not attached to another store).
        operation, description, params, actor
            Provenance of the ``reset`` journal record.

        Writes, in one SQLite transaction, a ``reset`` journal record and a
        ``base`` snapshot of ``graph`` at the same seq (base snapshots are
        never pruned, so earlier states stay restorable).  :attr:`graph` then
        is ``graph``; the old graph object is detached from the store.  For
        an undoable change of an open graph use
        :func:`~orchestrator_gui.store.diff.diff_to_transaction` instead.
        ``graph`` must not be attached to another store.
        """
        if self.readonly:
            raise ReadOnlyError(str(self.path), "store opened read-only")
        self._settle(0)
        now = time.time()
        seq = self.last_seq + 1
        row = reset_row(seq, uuid.uuid4().hex, operation=operation, description=description or operation,
                        params=params or {}, actor=actor, time=now)
        blob, raw_size = encode_graph(graph)
        snap = (seq, "base", now, graph.number_of_nodes(), graph.number_of_edges(), CODEC, raw_size, blob,
                snapshot_checksum(seq, blob))
        self._write([row], snap)
        self._detach(self.graph)
        self.graph = graph
        self._attach(graph)
        self.last_seq = seq
        self._snapshot_seq = seq
        self._since_snapshot = 0
        self._dirty = False
        self._record_seq()

    # -- read side -------------------------------------------------------------------------
    def history(self, limit: int | None = None) -> list[recovery.HistoryEntry]:
        """Journal records, oldest first, damaged ones flagged (``valid`` false).

        Parameters
        ----------
        limit : int, optional
            Return only the newest ``limit`` records (still oldest first).

        Returns
        -------
        list of HistoryEntry
        """
        with reading(str(self.path)):
            return recovery.history(self._db(), limit)

    def own_history(self) -> list[recovery.HistoryEntry]:
        """The records the undo history is built from: all of them (one writer owns the file)."""
        return self.history()

    def graph_at(self, tx: str | int) -> recovery.Loaded:
        """The graph as it was right after transaction ``tx``.

        Replays from the newest usable snapshot at or before it (or from an
        empty graph); damage met on the way is in the result's ``problems``.

        Parameters
        ----------
        tx : str or int
            A transaction id, a unique id prefix (at least 4 characters) or a journal seq.

        Returns
        -------
        Loaded
            A new graph, independent of :attr:`graph`.

        Raises
        ------
        KeyError
            Unknown transaction.
        ValueError
            Ambiguous id prefix.
        """
        conn = self._db()
        with reading(str(self.path)):
            return recovery.load(conn, str(self.path), recovery.resolve_seq(conn, tx))

    def restore(self, tx: str | int, *, actor: str = "user") -> Transaction | None:
        """Return the graph's content to what it was right after ``tx``, as a new undoable transaction.

        Parameters
        ----------
        tx : str or int
            As for :meth:`graph_at`.
        actor : str
            Provenance actor of the restore transaction.

        Returns
        -------
        Transaction or None
            The committed ``restore`` transaction (journaled; ``graph.undo()``
            reverts it), or ``None`` when the content already equals that state.
        """
        with reading(str(self.path)):
            seq = recovery.resolve_seq(self._db(), tx)
        target = self.graph_at(seq)
        entry = self.history_entry(seq)
        change = diff_to_transaction(
            self.graph, target.graph, operation="restore", actor=actor,
            params={"tx_id": entry.tx_id, "seq": seq},
            description=f"Restore to after #{seq} {entry.description or entry.operation}".rstrip(),
        )
        if not change.edits:
            return None
        return self.graph.apply(change)

    def history_entry(self, seq: int) -> recovery.HistoryEntry:
        """The history entry of journal record ``seq``."""
        with reading(str(self.path)):
            return recovery.entry(self._db(), seq)

    def transaction(self, tx_id: str) -> Transaction:
        """The committed transaction ``tx_id`` as journaled (its newest record).

        Raises
        ------
        KeyError
            No transaction record has that id.
        RecordError
            The record is damaged.
        """
        with reading(str(self.path)):
            values = self._db().execute(
                "SELECT seq, kind, tx_id, time, operation, codec, payload, checksum FROM journal "
                "WHERE tx_id = ? AND kind = 'tx' ORDER BY seq DESC LIMIT 1", (tx_id,)
            ).fetchone()
        if values is None:
            raise KeyError(f"transaction {tx_id} is not in the journal")
        return decode_tx(Row(*values))

    def stats(self) -> dict[str, Any]:
        """Sizes for ``graph stats``.

        Returns
        -------
        dict
            ``journal_records``, ``snapshots``, ``snapshot_bytes``,
            ``store_bytes`` (database plus WAL file) and ``last_seq``.
        """
        conn = self._db()
        with reading(str(self.path)):
            journal = conn.execute("SELECT count(*) FROM journal").fetchone()[0]
            snaps = conn.execute("SELECT count(*), coalesce(sum(length(data)), 0) FROM snapshot").fetchone()
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {"journal_records": journal, "snapshots": snaps[0], "snapshot_bytes": snaps[1], "store_bytes": size,
                "last_seq": self.last_seq}
