"""The read side of :class:`~orchestrator_gui.store.postgres.PostgresGraphStore`: history, past states, sizes.

All of it is :mod:`.recovery` run on the shared database through
:class:`~orchestrator_gui.store.pg_io.SqliteLike`, so the SQLite and the
PostgreSQL stores read records exactly alike.
"""

from __future__ import annotations

from typing import Any

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.store import recovery
from orchestrator_gui.store.diff import diff_to_transaction
from orchestrator_gui.store.pg_io import SqliteLike
from orchestrator_gui.store.records import Row, decode_tx

_COLUMNS = "seq, kind, tx_id, time, operation, codec, payload, checksum"


class PgReadSide:
    """Read methods of the shared store (a base class; the store supplies the attributes below and ``_conn``).

    Attributes
    ----------
    name : str
    machine : str
    graph : ThoughtGraph
    last_seq : int
    """

    name: str
    machine: str
    graph: ThoughtGraph
    last_seq: int

    def _read(self) -> Any:
        return self._conn()

    def history(self, limit: int | None = None) -> list[recovery.HistoryEntry]:
        """All machines' journal records, oldest first (the newest ``limit``)."""
        with self._read() as conn:
            return recovery.history(SqliteLike(conn), limit)

    def own_history(self) -> list[recovery.HistoryEntry]:
        """This machine's journal records, oldest first: what its undo history may undo."""
        with self._read() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM journal WHERE origin_machine = %s ORDER BY seq",
                                (self.machine,)).fetchall()
        return [recovery._entry(Row(*values)) for values in rows]

    def graph_at(self, tx: str | int) -> recovery.Loaded:
        """The fleet's graph right after transaction ``tx`` (id, unique id prefix or seq)."""
        with self._read() as conn:
            db = SqliteLike(conn)
            return recovery.load(db, self.name, recovery.resolve_seq(db, tx))

    def restore(self, tx: str | int, *, actor: str = "user") -> Transaction | None:
        """Return the content to what it was after ``tx``, as a new undoable (journaled) transaction."""
        with self._read() as conn:
            seq = recovery.resolve_seq(SqliteLike(conn), tx)
        target = self.graph_at(seq)
        entry = self.history_entry(seq)
        change = diff_to_transaction(
            self.graph, target.graph, operation="restore", actor=actor, params={"tx_id": entry.tx_id, "seq": seq},
            description=f"Restore to after #{seq} {entry.description or entry.operation}".rstrip(),
        )
        return self.graph.apply(change) if change.edits else None

    def history_entry(self, seq: int) -> recovery.HistoryEntry:
        """The history entry of journal record ``seq``."""
        with self._read() as conn:
            return recovery.entry(SqliteLike(conn), seq)

    def transaction(self, tx_id: str) -> Transaction:
        """The committed transaction ``tx_id`` as journaled (its newest record); ``KeyError`` if unknown."""
        with self._read() as conn:
            values = conn.execute(f"SELECT {_COLUMNS} FROM journal WHERE tx_id = %s AND kind = 'tx' "
                                  "ORDER BY seq DESC LIMIT 1", (tx_id,)).fetchone()
        if values is None:
            raise KeyError(f"transaction {tx_id} is not in the journal")
        return decode_tx(Row(*values))

    def stats(self) -> dict[str, Any]:
        """Sizes for ``graph stats`` (``store_bytes``: both tables on the server) plus ``waiting`` offline."""
        with self._read() as conn:
            journal = conn.execute("SELECT count(*) FROM journal").fetchone()[0]
            snaps = conn.execute("SELECT count(*), coalesce(sum(length(data)), 0) FROM snapshot").fetchone()
            size = conn.execute("SELECT pg_total_relation_size('journal') + pg_total_relation_size('snapshot')"
                                ).fetchone()[0]
        return {"journal_records": int(journal), "snapshots": int(snaps[0]), "snapshot_bytes": int(snaps[1]),
                "store_bytes": int(size), "last_seq": self.last_seq, "waiting": self.waiting}


__all__ = ["PgReadSide"]
