"""The local journal of a shared store: transactions committed while the fleet database was unreachable.

An SQLite file beside ``graph.db`` (``.orchestrator/fleet-journal.db``).
Each offline commit is written here, durably, before the graph counts it
as committed, in commit order; when the database is back the store replays
the rows to it in that order and deletes each one after its journal row is
committed there. A row whose transaction id is already in the shared
journal (the connection dropped after the server committed it) is only
deleted, so a replay never writes a transaction twice.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.problems import FormatError
from orchestrator_gui.store.records import Row, decode_tx, tx_row

#: Most transactions kept offline (a week of a busy loop); more are refused rather than risk the disk.
MAX_PENDING = 1_000_000

_TABLE = """
CREATE TABLE IF NOT EXISTS outbox (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    tx_id    TEXT NOT NULL,
    base_seq INTEGER NOT NULL,
    time     REAL NOT NULL,
    operation TEXT NOT NULL,
    codec    TEXT NOT NULL,
    payload  BLOB NOT NULL,
    checksum TEXT NOT NULL
)
"""


class Outbox:
    """The local journal file.

    Parameters
    ----------
    path : path-like
        The SQLite file (created with its folder when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn: sqlite3.Connection | None = sqlite3.connect(self.path, isolation_level=None,
                                                                    check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute(_TABLE)
        except (OSError, sqlite3.Error) as exc:
            raise FormatError(str(self.path), f"cannot open the local journal: {exc}") from None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError(f"local journal {self.path} is closed")
        return self._conn

    def add(self, tx: Transaction, base_seq: int) -> None:
        """Append ``tx`` (committed on top of shared journal seq ``base_seq``); durable on return."""
        if len(self) >= MAX_PENDING:
            raise FormatError(str(self.path), f"more than {MAX_PENDING} transactions waiting for the fleet "
                                              "database; reconnect it before making more changes")
        row = tx_row(0, tx)
        self._db().execute(
            "INSERT INTO outbox (tx_id, base_seq, time, operation, codec, payload, checksum) VALUES (?,?,?,?,?,?,?)",
            (row.tx_id, base_seq, row.time, row.operation, row.codec, row.payload, row.checksum),
        )

    def pending(self) -> list[tuple[int, Transaction]]:
        """``(row id, transaction)`` of every waiting transaction, oldest first.

        Raises
        ------
        RecordError
            A row is damaged (its checksum does not match).
        """
        rows = self._db().execute(
            "SELECT id, tx_id, time, operation, codec, payload, checksum FROM outbox ORDER BY id"
        ).fetchall()
        return [(i, decode_tx(Row(0, "tx", tx_id, t, op, codec, payload, digest)))
                for i, tx_id, t, op, codec, payload, digest in rows]

    def remove(self, row_id: int) -> None:
        """Forget row ``row_id`` (its transaction is in the shared journal now)."""
        self._db().execute("DELETE FROM outbox WHERE id = ?", (row_id,))

    def __len__(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


__all__ = ["MAX_PENDING", "Outbox"]
