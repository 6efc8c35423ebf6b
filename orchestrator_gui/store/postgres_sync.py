"""The owner-thread side of :class:`~orchestrator_gui.store.postgres.PostgresGraphStore`: pull and replay.

:meth:`PgSyncSide.pull` applies other machines' journal records to the
graph in seq order and, when the database is back after an outage, first
moves the local journal (:mod:`.outbox`) to the shared one; see the
``Offline`` section of :mod:`.postgres` for the order of things.
"""

from __future__ import annotations

import threading
from typing import Any

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.problems import ConflictError, Problem
from orchestrator_gui.store.base import StoreEvents
from orchestrator_gui.store.diff import diff_to_transaction
from orchestrator_gui.store.outbox import Outbox
from orchestrator_gui.store.pg_io import UNREACHABLE, first_line
from orchestrator_gui.store.rebase import adapt
from orchestrator_gui.store.records import Row, decode_tx

_COLUMNS = "seq, kind, tx_id, time, operation, codec, payload, checksum"


class PgSyncSide:
    """Pull and replay methods of the shared store (a base class).

    The store supplies the attributes below and ``_conn``, ``_apply_quietly``,
    ``_insert``, ``_go_offline`` and ``graph_at``.
    """

    name: str
    process: str
    graph: ThoughtGraph
    last_seq: int
    problems: list[Problem]
    events: StoreEvents
    _pool: Any
    _offline: bool
    _back: threading.Event
    _woken: threading.Event
    _retracted: set[str]
    _outbox: Outbox

    # -- remote records and the local journal (owner thread) -------------------------------
    def pull(self) -> int:
        """Replay the local journal if the database is back, then apply others' new records; return how many.

        Call it on the thread that owns :attr:`graph` (after ``events.remote_pending``).
        Never raises for an unreachable database (the store stays offline and retries later).
        """
        if self._pool is None:
            return 0
        self._woken.clear()  # before reading: a commit noticed from now on wakes the owner again
        if self._offline:
            if not self._back.is_set():
                return 0
            try:
                return self._replay_outbox()
            except UNREACHABLE:
                return 0
        try:
            return self._apply_remote()
        except UNREACHABLE as exc:
            self._go_offline(first_line(exc))
            return 0

    def _apply_remote(self) -> int:
        with self._conn() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS}, origin_process FROM journal WHERE seq > %s ORDER BY seq",
                                (self.last_seq,)).fetchall()
        applied = 0
        for values in rows:
            row = Row(*values[:8])
            if values[8] != self.process or row.tx_id in self._retracted:  # ours are in the graph already
                self._apply_record(row)
                applied += 1
            self.last_seq = row.seq
        return applied

    def _apply_record(self, row: Row) -> None:
        if row.kind == "reset":
            target = self.graph_at(row.seq).graph
            change = diff_to_transaction(self.graph, target, operation="pull", description="Graph replaced")
            if change.edits:
                self._apply_quietly(change)
            return
        try:
            tx = decode_tx(row)
            try:
                done = self._apply_quietly(tx)
            except Exception:  # noqa: BLE001 - replay what it meant onto what this graph is
                fixed = adapt(tx, self.graph)
                done = self._apply_quietly(fixed) if fixed is not None else None
        except Exception as exc:  # noqa: BLE001 - reported: the graph here then differs from the fleet's
            self.problems.append(Problem(file=self.name, severity="error",
                                         message=f"journal record #{row.seq} from another machine does not apply "
                                                 f"here ({first_line(exc)}); reopen the workspace"))
            return
        if done is not None:
            self.events.remote_applied.emit(done)

    def _replay_outbox(self, *, in_graph: bool = True) -> int:
        """Move the local journal to the shared one (see the module docstring); go online when it is empty.

        ``in_graph``: the waiting transactions are in :attr:`graph` already (this process made them
        offline), not only in the file (an earlier process did).
        """
        pending = self._outbox.pending()
        if pending:
            with self._conn() as conn:
                newest = int(conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])
            if in_graph and newest > self.last_seq:
                # Others wrote meanwhile: take ours back, apply theirs, then ours again on top of them.
                self._retracted = {tx.id for _, tx in pending}
                try:
                    for _, tx in reversed(pending):
                        self._apply_quietly(tx.inverse(operation="pull"))
                    self._apply_remote()
                finally:
                    self._retracted = set()
                in_graph = False
            done = 0
            try:
                for row_id, tx in pending:
                    self._replay_one(tx, in_graph=in_graph)
                    self._outbox.remove(row_id)
                    done += 1
            except UNREACHABLE:
                if not in_graph:  # keep the graph showing what still waits in the file
                    for _, tx in pending[done:]:
                        fixed = adapt(tx, self.graph)
                        if fixed is not None:
                            self._apply_quietly(fixed)
                raise
        applied = self._apply_remote()
        if self._offline:
            self._offline = False
            self._back.clear()
            self.events.offline_changed.emit(False)
        return applied + len(pending)

    def _replay_one(self, tx: Transaction, *, in_graph: bool) -> None:
        """Commit one waiting transaction to the shared journal (re-applied with ``adapt`` unless ``in_graph``)."""
        with self._conn() as conn:
            if conn.execute("SELECT 1 FROM journal WHERE tx_id = %s", (tx.id,)).fetchone() is not None:
                return  # the server committed it before the connection dropped; the graph has it
        committed: Transaction | None = tx if in_graph else None
        for _attempt in range(10):
            if committed is None:
                fixed = adapt(tx, self.graph)
                if fixed is None:
                    self.problems.append(Problem(
                        file=self.name, severity="warning",
                        message=f"offline transaction {tx.id} ({tx.description or tx.provenance.operation}) had "
                                "nothing left to do after other machines' changes; not replayed"))
                    return
                committed = self._apply_quietly(fixed)
                if fixed.edits != tx.edits:
                    # Said, not silent: this later change overrides what another machine did meanwhile.
                    self.problems.append(Problem(
                        file=self.name, severity="warning",
                        message=f"offline transaction {tx.id} ({tx.description or tx.provenance.operation}) was "
                                "replayed on top of other machines' changes to the same nodes; where both changed "
                                "something, the offline change (the later one) won"))
            try:
                self._insert(committed)
                return
            except ConflictError:
                # Yet another machine wrote in between: take it back, catch up, try again.
                self._apply_quietly(committed.inverse(operation="pull"))
                committed = None
                self._apply_remote()
        raise ConflictError(self.name, f"offline transaction {tx.id} kept conflicting with other machines; "
                                       f"it stays in {self._outbox.path}")


__all__ = ["PgSyncSide"]
