"""Read side of the store: load the latest valid snapshot, replay the journal, list the history.

Recovery rules
--------------
1. Snapshots with ``last_seq <= upto`` are tried newest first.  One whose
   checksum does not match, whose codec is unknown or whose content does not
   decode is reported (``warning``: the journal still has everything) and the
   next older one is tried; with none usable the replay starts from an empty
   graph at seq 0.
2. Journal rows after the chosen snapshot are replayed in ``seq`` order with
   ``graph.apply(tx, record=False)``.  A row that fails its checksum or does
   not decode is reported (``error``: that transaction is lost) and skipped;
   a transaction that no longer applies (it depended on a skipped one) is
   reported and skipped too, and ``apply`` leaves the graph untouched.
3. A ``reset`` row (the graph was replaced by an import or a build) cannot be
   replayed: its state is only in the ``base`` snapshot of the same seq.  A
   replay reaching one means that snapshot was unusable, which is reported.

Nothing here raises for damaged content; problems are returned.  A damaged
*file* is another matter: ``sqlite3.DatabaseError`` from SQLite itself (a page
it cannot read) propagates, and the store turns it into a ``FormatError``
that names ``graph recover`` (see :func:`~orchestrator_gui.store.schema.reading`).
A graph loaded up to the first unreadable page would look complete but is
not, and writing on top of it would bury the damage deeper.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.problems import Problem
from orchestrator_gui.store.records import RecordError, Row, decode, decode_tx
from orchestrator_gui.store.snapshot import CODEC, SnapshotError, decode_graph, no_gc, snapshot_checksum

_ROW_COLUMNS = "seq, kind, tx_id, time, operation, codec, payload, checksum"


@dataclass
class Loaded:
    """A graph rebuilt from the store.

    Attributes
    ----------
    graph : ThoughtGraph
        The state after journal record ``last_seq``.
    last_seq : int
        The last journal seq covered (0: empty store).
    snapshot_id : int or None
        The snapshot the replay started from (``None``: from an empty graph).
    replayed : int
        Journal records applied on top of the snapshot.
    problems : list of Problem
        What was damaged and skipped (empty when everything was intact).
    """

    graph: ThoughtGraph
    last_seq: int
    snapshot_id: int | None
    replayed: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryEntry:
    """One journal record as listed by :meth:`GraphStore.history`.

    ``kind`` is ``"tx"`` for a transaction and ``"reset"`` for a replacement
    of the whole graph (import, fresh build).  ``valid`` is false for a damaged
    record, whose ``error`` says why; its description and params are then
    unknown (empty).
    """

    seq: int
    tx_id: str
    kind: str
    time: float
    operation: str
    description: str
    params: dict[str, Any]
    actor: str
    edits: int
    valid: bool
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for ``graph history --json``)."""
        return dict(self.__dict__)


def _row(values: tuple) -> Row:
    return Row(*values)


def _problem(name: str, message: str, severity: str = "error") -> Problem:
    return Problem(file=name, line=None, severity=severity, message=message)


def load(conn: sqlite3.Connection, name: str, upto: int | None = None) -> Loaded:
    """Rebuild the graph as of journal seq ``upto`` (``None``: the latest), following the recovery rules.

    Parameters
    ----------
    conn : sqlite3.Connection
        An open store connection (autocommit mode).
    name : str
        The store path, used as the ``file`` of reported problems.
    upto : int, optional
        Last journal seq to include.
    """
    limit = 2**62 if upto is None else upto
    problems: list[Problem] = []
    # One read transaction: snapshot and journal come from the same database state.
    conn.execute("BEGIN")
    try:
        # Loading creates millions of long-lived objects; pausing the cyclic GC meanwhile saves ~30 %.
        with no_gc():
            graph, start, snap_id = _best_snapshot(conn, name, limit, problems)
            loaded = Loaded(graph, start, snap_id, problems=problems)
            # One event burst for the whole replay instead of one per record (nobody listens yet anyway).
            with graph.batch():
                _replay(conn, name, loaded, limit)
    finally:
        conn.execute("COMMIT")
    return loaded


def _best_snapshot(
    conn: sqlite3.Connection, name: str, limit: int, problems: list[Problem]
) -> tuple[ThoughtGraph, int, int | None]:
    cur = conn.execute(
        "SELECT id, last_seq, codec, data, checksum FROM snapshot WHERE last_seq <= ? "
        "ORDER BY last_seq DESC, id DESC",
        (limit,),
    )
    for snap_id, last_seq, codec, data, digest in cur:
        what = f"snapshot {snap_id} (after journal record {last_seq})"
        if not isinstance(data, bytes) or snapshot_checksum(last_seq, data) != digest:
            problems.append(_problem(name, f"{what}: checksum mismatch; falling back to an older state", "warning"))
            continue
        if codec != CODEC:
            problems.append(_problem(name, f"{what}: unknown codec {codec!r}; falling back", "warning"))
            continue
        try:
            return decode_graph(data), last_seq, snap_id
        except SnapshotError as exc:
            problems.append(_problem(name, f"{what}: {exc}; falling back to an older state", "warning"))
    return ThoughtGraph(), 0, None


def _replay(conn: sqlite3.Connection, name: str, loaded: Loaded, limit: int) -> None:
    g = loaded.graph
    cur = conn.execute(
        f"SELECT {_ROW_COLUMNS} FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq", (loaded.last_seq, limit)
    )
    for values in cur:
        row = _row(values)
        what = f"journal record {row.seq} (transaction {row.tx_id!r})"
        loaded.last_seq = row.seq
        if row.kind == "reset":
            problems_msg = (
                f"{what}: the graph was replaced here ({row.operation}) but the base snapshot holding the new "
                "state is unusable; the records after it are applied to the earlier state"
            )
            loaded.problems.append(_problem(name, problems_msg))
            continue
        if row.kind != "tx":
            loaded.problems.append(_problem(name, f"{what}: unknown record kind {row.kind!r}; skipped"))
            continue
        try:
            tx = decode_tx(row)
        except RecordError as exc:
            loaded.problems.append(_problem(name, f"{what}: {exc}; skipped, this transaction is lost"))
            continue
        try:
            g.apply(tx, record=False)
        except Exception as exc:  # noqa: BLE001 - any failure to apply is reported, never raised
            loaded.problems.append(
                _problem(name, f"{what} no longer applies ({type(exc).__name__}: {exc}); skipped")
            )
            continue
        loaded.replayed += 1


def history(conn: sqlite3.Connection, limit: int | None = None) -> list[HistoryEntry]:
    """The journal records, oldest first (the newest ``limit`` of them when given)."""
    if limit is None:
        rows = conn.execute(f"SELECT {_ROW_COLUMNS} FROM journal ORDER BY seq").fetchall()
    else:
        rows = conn.execute(f"SELECT {_ROW_COLUMNS} FROM journal ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
        rows.reverse()
    return [_entry(_row(values)) for values in rows]


def entry(conn: sqlite3.Connection, seq: int) -> HistoryEntry:
    """The history entry of journal record ``seq``; raises ``KeyError`` if there is none."""
    values = conn.execute(f"SELECT {_ROW_COLUMNS} FROM journal WHERE seq = ?", (seq,)).fetchone()
    if values is None:
        raise KeyError(f"no journal record {seq}")
    return _entry(_row(values))


def _entry(row: Row) -> HistoryEntry:
    try:
        data = decode(row)
    except RecordError as exc:
        return HistoryEntry(row.seq, row.tx_id, row.kind, row.time, row.operation, "", {}, "", 0, False, str(exc))
    if row.kind == "reset":
        return HistoryEntry(
            row.seq, row.tx_id, row.kind, float(data.get("time", row.time)), str(data.get("operation", row.operation)),
            str(data.get("description", "")), dict(data.get("params") or {}), str(data.get("actor", "")), 0, True,
        )
    prov = data.get("provenance") if isinstance(data.get("provenance"), dict) else {}
    edits = data.get("edits")
    return HistoryEntry(
        row.seq,
        row.tx_id,
        row.kind,
        float(prov.get("time", row.time)),
        str(prov.get("operation", row.operation)),
        str(data.get("description", "")),
        dict(prov.get("params") or {}),
        str(prov.get("actor", "")),
        len(edits) if isinstance(edits, list) else 0,
        True,
    )


def resolve_seq(conn: sqlite3.Connection, tx: str | int) -> int:
    """The journal seq of a transaction given by id, unique id prefix (>= 4 characters) or seq number.

    Raises
    ------
    KeyError
        No such transaction.
    ValueError
        The prefix matches several transactions.
    """
    if isinstance(tx, int) and not isinstance(tx, bool):
        if conn.execute("SELECT 1 FROM journal WHERE seq = ?", (tx,)).fetchone() is None:
            raise KeyError(f"no journal record {tx}")
        return tx
    found = conn.execute("SELECT max(seq) FROM journal WHERE tx_id = ?", (tx,)).fetchone()[0]
    if found is not None:
        return int(found)
    if len(tx) >= 4:
        pattern = tx.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        hits = conn.execute(
            "SELECT tx_id, max(seq) FROM journal WHERE tx_id LIKE ? ESCAPE '\\' GROUP BY tx_id LIMIT 2", (pattern,)
        ).fetchall()
        if len(hits) == 1:
            return int(hits[0][1])
        if len(hits) > 1:
            raise ValueError(f"transaction id prefix {tx!r} is ambiguous")
    raise KeyError(f"no transaction {tx!r} in the journal")
