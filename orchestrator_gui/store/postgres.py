"""PostgresGraphStore: one thought graph shared by a fleet of machines through PostgreSQL.

Usage::

    store = PostgresGraphStore.open_workspace(workspace, conninfo="postgresql://host/db", machine="box-2")
    store.graph.apply(tx)          # committed to the shared journal (or the local one, offline)
    store.events.remote_pending.connect(wake_owner_thread)   # emitted on the listener thread
    store.pull()                   # on the owner thread: apply other machines' transactions
    store.close()

It implements :class:`~orchestrator_gui.store.base.GraphStoreAPI` with the
SQLite store's records: the shared database has the same ``journal`` and
``snapshot`` tables (``pg_schema/0001_graph.sql``, created by
:func:`~orchestrator_gui.store.postgres_schema.migrate`), plus each record's
origin (machine and process). Loading, history and ``graph_at`` reuse
:mod:`.recovery` as they are.

Committing
----------
The commit hook (see :class:`~orchestrator_gui.store.store.GraphStore`) takes
an advisory transaction lock, so journal seqs are assigned one at a time,
and looks at the records other writers committed since the last one applied
here. When this transaction commutes with all of them (:mod:`.footprint`)
it is committed after them unchanged (the rebase); otherwise it is refused
with :class:`~orchestrator_gui.problems.ConflictError` and the graph rolls
it back. The same database transaction sends ``NOTIFY orchestrator_graph``
with ``"<seq> <machine> <process>"``; the payload stays small, the record is
read from the table.

Remote transactions
-------------------
A listener thread (:mod:`.pg_listener`) LISTENs and emits
``events.remote_pending``. :meth:`pull`, on the thread that owns the graph,
applies the new records in seq order with ``graph.apply`` (so the graph
emits the events a local commit emits) and emits ``remote_applied`` for each.

Offline
-------
When the database cannot be reached, commits go to the local journal
(:mod:`.outbox`) and :attr:`offline` is true (``offline_changed`` says so).
When the listener reconnects, the next :meth:`pull` replays the local journal
in order: directly if nobody else wrote meanwhile; otherwise the offline
transactions are taken back locally, the others' records applied, and each
offline transaction re-applied on top with :func:`~orchestrator_gui.store.rebase.adapt`
(what it meant to do still applies; the later writer wins a field both
changed) and committed. Nothing is dropped unless nothing of it still makes
sense, and that is reported in :attr:`problems`.

Undo
----
:meth:`own_history` lists only this machine's records, so the undo history
of a session undoes this machine's transactions, never another's.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from psycopg_pool import ConnectionPool

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.problems import ConflictError, FormatError, Problem, ReadOnlyError
from orchestrator_gui.store import recovery
from orchestrator_gui.store.base import StoreEvents
from orchestrator_gui.store.footprint import clash, footprint
from orchestrator_gui.store.outbox import Outbox
from orchestrator_gui.store.pg_io import CHANNEL, GRAPH_LOCK, UNREACHABLE, SqliteLike, describe, first_line
from orchestrator_gui.store.pg_listener import Listener
from orchestrator_gui.store.postgres_read import PgReadSide
from orchestrator_gui.store.postgres_schema import schema_version
from orchestrator_gui.store.postgres_sync import PgSyncSide
from orchestrator_gui.store.records import Row, decode_tx, reset_row, tx_row
from orchestrator_gui.store.schema import store_path
from orchestrator_gui.store.snapshot import CODEC, encode_graph, snapshot_checksum

_COLUMNS = "seq, kind, tx_id, time, operation, codec, payload, checksum"
_INSERT_ROW = (f"INSERT INTO journal ({_COLUMNS}, origin_machine, origin_process, base_seq) "
               "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
_INSERT_SNAPSHOT = ("INSERT INTO snapshot (last_seq, kind, time, nodes, edges, codec, raw_size, data, checksum) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id")
#: File name of the local journal beside ``graph.db``.
LOCAL_JOURNAL = "fleet-journal.db"
#: Seconds a commit waits for a pooled connection before the store goes offline.
POOL_WAIT_S = 2.0


class PostgresGraphStore(PgSyncSide, PgReadSide):
    """A thought graph in a fleet's PostgreSQL database, kept live across machines.

    Open it with :meth:`open` or :meth:`open_workspace`. Attributes as
    :class:`~orchestrator_gui.store.base.GraphStoreAPI`, plus:

    Attributes
    ----------
    name : str
        The database as shown to people (``postgresql://host:port/db``, never a password).
    machine : str
        This machine's name, recorded with every journal record.
    process : str
        This store's origin id (machine, pid and a random part).
    """

    #: Every machine of the fleet commits to this graph (see GraphStoreAPI.shared).
    shared = True

    def __init__(self, pool: ConnectionPool, conninfo: str, path: Path, loaded: recovery.Loaded, *,
                 machine: str, readonly: bool, snapshot_every: int, keep_snapshots: int) -> None:
        if snapshot_every < 1 or keep_snapshots < 1:
            raise ValueError("snapshot_every and keep_snapshots must be >= 1")
        self._pool: ConnectionPool | None = pool
        self.name = describe(conninfo)
        self.path = path
        self.machine = machine
        self.process = f"{machine}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.readonly = readonly
        self.snapshot_every = snapshot_every
        self.keep_snapshots = keep_snapshots
        self.problems: list[Problem] = list(loaded.problems)
        self.last_seq = loaded.last_seq
        self.events = StoreEvents()
        self.graph = loaded.graph
        self._since_snapshot = loaded.replayed
        self._ahead_until = 0  # own records committed beyond last_seq (others' records in between not applied yet)
        self._mute = 0  # > 0 while the store itself changes the graph (remote records): nothing to journal
        self._offline = False
        self._back = threading.Event()  # the listener reconnected after an outage: pull() replays the outbox
        self._woken = threading.Event()  # remote_pending was emitted and no pull() has started since
        self._retracted: set[str] = set()  # own transactions taken out of the graph while replaying the outbox
        self._outbox = Outbox(path.with_name(LOCAL_JOURNAL) if path.suffix == ".db" else path)
        self._attach(self.graph)
        self._listener = Listener(conninfo, self.process, on_remote=self._on_remote,
                                  on_connected=self._on_connected, on_lost=self._on_lost, on_tick=self._on_tick)

    # -- opening and closing -------------------------------------------------------------
    @classmethod
    def open(cls, conninfo: str, *, local_path: str | os.PathLike[str], machine: str | None = None,
             readonly: bool = False, snapshot_every: int = 200, keep_snapshots: int = 3,
             connect_timeout_s: float = 10.0) -> PostgresGraphStore:
        """Connect to the fleet database, load the graph and start listening.

        Parameters
        ----------
        conninfo : str
            libpq connection string; passwords come from ``passfile``/``PGPASSWORD``.
        local_path : path-like
            The workspace's ``graph.db`` path; the local journal lives beside it.
        machine : str, optional
            This machine's name (default: the host name).
        readonly, snapshot_every, keep_snapshots
            As for :meth:`GraphStore.open <orchestrator_gui.store.store.GraphStore.open>`.
        connect_timeout_s : float
            How long to wait for the database (0.5..300).

        Raises
        ------
        FormatError
            The database cannot be reached, or has no graph schema (run ``orchestrator-gui fleet init``).
        """
        if not 0.5 <= connect_timeout_s <= 300:
            raise ValueError("connect_timeout_s must be in 0.5..300")
        name = describe(conninfo)
        pool = ConnectionPool(conninfo, min_size=1, max_size=4, open=False, name="orchestrator-graph",
                              kwargs={"autocommit": True, "connect_timeout": max(1, int(connect_timeout_s))},
                              check=ConnectionPool.check_connection, reconnect_timeout=3600.0)
        try:
            pool.open(wait=True, timeout=connect_timeout_s)
            with pool.connection() as conn:
                if schema_version(conn) < 1:
                    raise FormatError(name, "the fleet database has no graph tables yet: run "
                                            "'orchestrator-gui fleet init' first")
                loaded = recovery.load(SqliteLike(conn), name)
        except UNREACHABLE as exc:
            pool.close()
            raise FormatError(name, f"cannot reach the fleet database: {first_line(exc)}") from None
        except BaseException:
            pool.close()
            raise
        store = cls(pool, conninfo, Path(local_path), loaded, machine=machine or _host(), readonly=readonly,
                    snapshot_every=snapshot_every, keep_snapshots=keep_snapshots)
        store._listener.start()
        store._listener.ready.wait(timeout=connect_timeout_s)
        # LISTEN is in place: records committed from now on wake the owner. A wake-up sent before anyone
        # could connect to remote_pending would stay unanswered (and silence the next ones): drop it and
        # catch up here with what was committed between loading and listening.
        store._woken.clear()
        try:
            store._apply_remote()
        except UNREACHABLE:
            pass  # the listener reports the outage; pull() catches up later
        if not readonly:
            store._replay_outbox(in_graph=False)  # left by an earlier process that closed (or died) offline
        return store

    @classmethod
    def open_workspace(cls, workspace: str | os.PathLike[str], *, conninfo: str, **kwargs: Any) -> PostgresGraphStore:
        """Open the fleet graph for ``workspace`` (local journal in its ``.orchestrator/``); see :meth:`open`."""
        return cls.open(conninfo, local_path=store_path(workspace), **kwargs)

    def close(self, *, snapshot: bool | None = None) -> None:
        """Stop listening, write a final snapshot when useful (online, up to date), release the connections.

        Parameters
        ----------
        snapshot : bool, optional
            ``True`` always tries one, ``False`` never; ``None`` when this store committed since the last.
        """
        if self._pool is None:
            return
        try:
            self._listener.stop()
            if not self.readonly and not self._offline and self.last_seq >= self._ahead_until:
                if snapshot or (snapshot is None and self._since_snapshot > 0):
                    try:
                        self.snapshot(kind="close")
                    except UNREACHABLE:
                        pass  # the journal has everything; a snapshot only speeds up the next open
        finally:
            self._detach(self.graph)
            self._pool.close()
            self._pool = None
            self._outbox.close()

    def __enter__(self) -> PostgresGraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._pool is None

    @property
    def offline(self) -> bool:
        """True while commits go to the local journal only."""
        return self._offline

    @property
    def waiting(self) -> int:
        """Transactions in the local journal, not yet in the shared one."""
        return len(self._outbox)

    def _conn(self) -> Any:
        if self._pool is None:
            raise ValueError(f"store {self.name} is closed")
        return self._pool.connection(timeout=POOL_WAIT_S)

    # -- graph wiring --------------------------------------------------------------------
    def _attach(self, g: ThoughtGraph) -> None:
        g.add_commit_hook(self._journal)
        g.events.transaction_committed.connect(self._on_committed)

    def _detach(self, g: ThoughtGraph) -> None:
        try:
            g.remove_commit_hook(self._journal)
        except ValueError:
            pass
        g.events.transaction_committed.disconnect(self._on_committed)

    def apply(self, tx: Transaction, *, record: bool = True) -> Transaction:
        """Apply ``tx`` to :attr:`graph`, journaled like any ``graph.apply``; return the committed transaction."""
        return self.graph.apply(tx, record=record)

    def _apply_quietly(self, tx: Transaction) -> Transaction:
        """Apply a change that is already journaled (or must not be): the graph's events, no journal row."""
        self._mute += 1
        try:
            return self.graph.apply(tx, record=False)
        finally:
            self._mute -= 1

    # -- listener callbacks (listener thread) ----------------------------------------------
    def _wake(self) -> None:
        # One wake-up per pull: a burst of 500 commits elsewhere queues one pull on the owner, not 500.
        if not self._woken.is_set():
            self._woken.set()
            self.events.remote_pending.emit()

    def _on_remote(self, seq: int) -> None:
        if seq > self.last_seq:
            self._wake()

    def _on_connected(self, first: bool) -> None:
        if not first or self._offline:
            self._back.set()
        # Records committed while nobody listened (startup, outage) have sent no notification we saw.
        self._wake()

    def _on_tick(self) -> None:
        if self._offline:  # the listener is connected, so the database is reachable: pull() replays now
            self._back.set()
            self._wake()

    def _on_lost(self, reason: str) -> None:
        self._back.clear()
        self._go_offline(reason)

    def _go_offline(self, reason: str) -> None:
        if not self._offline:
            self._offline = True
            self.problems.append(Problem(file=self.name, severity="warning",
                                         message=f"fleet database unreachable ({reason}); committing to the "
                                                 f"local journal {self._outbox.path} until it is back"))
            self.events.offline_changed.emit(True)

    # -- write side ------------------------------------------------------------------------
    def _journal(self, tx: Transaction) -> None:
        """Commit hook: the shared journal when reachable, else the local one; raises on a conflict."""
        if self._mute:
            return
        if self.readonly:
            raise ReadOnlyError(self.name, "store opened read-only; the change was not applied")
        if not self._offline:
            try:
                self._insert(tx)
                return
            except UNREACHABLE as exc:
                self._go_offline(first_line(exc))
        self._outbox.add(tx, self.last_seq)

    def _insert(self, tx: Transaction) -> int:
        """Write ``tx``'s journal record after every other one, if it commutes with those not applied here."""
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (GRAPH_LOCK,))
            newest = int(conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])
            if newest > self.last_seq:
                self._check_commutes(conn, tx)
            seq = newest + 1
            row = tx_row(seq, tx)
            conn.execute(_INSERT_ROW, (*row.as_params(), self.machine, self.process, self.last_seq))
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{seq} {self.machine} {self.process}"))
        if seq == self.last_seq + 1:
            self.last_seq = seq
        else:
            self._ahead_until = seq
        return seq

    def _check_commutes(self, conn: Any, tx: Transaction) -> None:
        mine = footprint(tx)
        rows = conn.execute(
            f"SELECT {_COLUMNS}, origin_machine FROM journal WHERE seq > %s AND origin_process <> %s ORDER BY seq",
            (self.last_seq, self.process),
        ).fetchall()
        for values in rows:
            row, machine = Row(*values[:8]), values[8]
            what = f"journal record #{row.seq} ({row.operation}) from machine {machine!r}"
            if row.kind != "tx":
                why = "the whole graph, which it replaced"
            else:
                try:
                    why = clash(mine, footprint(decode_tx(row)))
                except ValueError as exc:
                    why = f"a record that cannot be read ({exc})"
            if why is not None:
                raise ConflictError(
                    self.name, f"conflict: {tx.description or tx.provenance.operation!r} changes {why}, which "
                    f"{what} changed meanwhile; nothing was saved. The other change is shown after the next "
                    "refresh; make the edit again on top of it")

    def _on_committed(self, tx: Transaction) -> None:
        if self._mute:
            return
        self._since_snapshot += 1
        if self._since_snapshot >= self.snapshot_every and not self._offline and self.last_seq >= self._ahead_until:
            try:
                self.snapshot()
            except Exception as exc:  # noqa: BLE001 - the journal has the data; report, never break apply()
                self.problems.append(Problem(file=self.name, severity="warning",
                                             message=f"periodic snapshot failed ({first_line(exc)}); will retry"))

    def snapshot(self, *, kind: str = "periodic") -> int:
        """Write a snapshot of the graph at :attr:`last_seq` to the shared database; return its id.

        Raises
        ------
        ValueError
            Offline, or this store has records of its own beyond others' not applied yet
            (call :meth:`pull` first): the graph is not the state at any one seq.
        """
        if self.readonly:
            raise ReadOnlyError(self.name, "store opened read-only")
        if kind not in ("periodic", "close", "manual"):
            raise ValueError(f"unknown snapshot kind {kind!r}")
        if self._offline or self.last_seq < self._ahead_until:
            raise ValueError("the graph is not the shared state at one journal seq yet; pull() first")
        g = self.graph
        blob, raw_size = encode_graph(g)
        params = (self.last_seq, kind, time.time(), g.number_of_nodes(), g.number_of_edges(), CODEC, raw_size,
                  blob, snapshot_checksum(self.last_seq, blob))
        with self._conn() as conn, conn.transaction():
            snap_id = int(conn.execute(_INSERT_SNAPSHOT, params).fetchone()[0])
            conn.execute("DELETE FROM snapshot WHERE kind <> 'base' AND id NOT IN (SELECT id FROM snapshot "
                         "WHERE kind <> 'base' ORDER BY last_seq DESC, id DESC LIMIT %s)", (self.keep_snapshots,))
        self._since_snapshot = 0
        return snap_id

    def replace_graph(self, graph: ThoughtGraph, *, operation: str = "import", description: str = "",
                      params: dict[str, Any] | None = None, actor: str = "user") -> None:
        """Make ``graph`` the fleet's graph wholesale: a ``reset`` record and a ``base`` snapshot, after all others.

        Every machine's next :meth:`pull` takes its graph to this content. Refused offline
        (:class:`ConflictError`): a wholesale replacement cannot be merged later.
        """
        if self.readonly:
            raise ReadOnlyError(self.name, "store opened read-only")
        if self._offline:
            raise ConflictError(self.name, "the fleet database is unreachable: the graph cannot be replaced "
                                           "while offline; nothing was changed")
        now = time.time()
        blob, raw_size = encode_graph(graph)
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (GRAPH_LOCK,))
            seq = int(conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]) + 1
            row = reset_row(seq, uuid.uuid4().hex, operation=operation, description=description or operation,
                            params=params or {}, actor=actor, time=now)
            conn.execute(_INSERT_ROW, (*row.as_params(), self.machine, self.process, self.last_seq))
            conn.execute(_INSERT_SNAPSHOT, (seq, "base", now, graph.number_of_nodes(), graph.number_of_edges(),
                                            CODEC, raw_size, blob, snapshot_checksum(seq, blob)))
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{seq} {self.machine} {self.process}"))
        self._detach(self.graph)
        self.graph = graph
        self._attach(graph)
        self.last_seq = seq
        self._ahead_until = 0
        self._since_snapshot = 0

def _host() -> str:
    import socket

    return socket.gethostname() or "localhost"


__all__ = ["LOCAL_JOURNAL", "PostgresGraphStore"]
