"""Scrub the graph's history: a timeline of transactions and a read-only preview of the graph at any point.

The History panel (and anything else that wants to look into the past) uses
:class:`HistoryPreview`. It reads the store through its public API only
(``history``, ``graph_at``, ``transaction``, ``last_seq``), never writes it,
and never touches the live graph: a preview is a separate
:class:`~orchestrator_gui.model.graph.ThoughtGraph` with no commit hooks, so
nothing applied to it is journaled.

Stepping
--------
Rebuilding a past state with ``store.graph_at(seq)`` decodes the nearest
snapshot and replays the journal after it, which costs about as much as
opening the store. A slider moves a few records at a time, so the preview
keeps the state it built last and walks from there instead:

* forward, it applies the committed transactions ``seq+1 .. target``;
* backward, it applies their exact inverses, newest first (committed
  transactions hold resolved edits, so the inverse brings back the same
  nodes, edges, fields and rows);
* on the way it keeps *checkpoints*: in-memory copies of the state every
  :data:`CHECKPOINT_EVERY` records and wherever it rebuilt (the frozen node
  models are shared, only the numeric columns are copied: about 2 MB and
  1 ms at 10k nodes, 25 ms to turn back into a graph). A jump starts from
  whichever is cheapest: the state shown now, the nearest checkpoint on
  either side, or the store;
* it rebuilds from the store's nearest snapshot (``graph_at``) when every
  walk would be longer than :attr:`HistoryPreview.max_replay` records or
  costlier than a rebuild, when it would cross a ``reset`` record (an import
  or a fresh build: its state is only in a base snapshot), when a record
  does not apply, and always once the store reported damage (its replay
  then skips records, and an inverse walk would not know which).

The costs compared are measured as the preview goes (milliseconds per record
walked, per checkpoint restored, per rebuild). Decoded transactions are kept
in a small cache, so moving the slider back and forth over the same stretch
decodes each record once.

:func:`restore` commits "Restore this state" as ``graph restore`` does, as one
transaction on the session's undo history.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.loading import assemble
from orchestrator_gui.model.nodes import NodeFlag
from orchestrator_gui.model.transactions import Transaction

#: Walk at most this many records from a state held in memory; a longer jump rebuilds from the store.
MAX_REPLAY = 400
#: Decoded transactions kept for stepping back and forth (records, newest used kept).
TX_CACHE = 2048
#: Walks up to this many records are taken without comparing costs with a rebuild.
SHORT_WALK = 64
#: A checkpoint is kept every this many records walked past.
CHECKPOINT_EVERY = 50
#: Memory the checkpoints may hold together (bytes, estimated); the least recently used go first.
CHECKPOINT_BYTES = 256 * 2**20
#: Estimated bytes per node a checkpoint holds beyond its arrays (the list slot and id of a shared model).
_NODE_REF_BYTES = 16
#: Who made a change, as the timeline groups it.
ACTOR_GROUPS = ("user", "agent", "engine", "migration")
#: Actors that are the app's own machinery (scheduler, run records, recovery), not a person or an agent.
ENGINE_ACTORS = frozenset({"engine", "recover", "scheduler", "runner", "dynamics", "system"})


def actor_group(actor: str) -> str:
    """The timeline's *who* for a provenance actor: ``user``, ``agent``, ``engine`` or ``migration``.

    ``user`` (and an unknown, empty actor) is a person in the app or the CLI;
    ``migration`` is a build or sync from the workspace files; the engine's
    own components are ``engine``; everything else (the API, MCP clients,
    agent modes, thinkers, speculative runs) is an ``agent``.
    """
    name = (actor or "user").strip().lower()
    if name == "user":
        return "user"
    if name == "migration":
        return "migration"
    if name in ENGINE_ACTORS or name.startswith("engine"):
        return "engine"
    return "agent"


@dataclass(frozen=True)
class TimelineRow:
    """One journal record as the timeline lists it.

    Attributes
    ----------
    seq : int
        Journal seq (the slider's position).
    tx_id : str
    who : str
        One of :data:`ACTOR_GROUPS`.
    actor : str
        The provenance actor as recorded (``""`` for a damaged record).
    what : str
        The description (or the operation), with a mark for resets and damage.
    when : float
        Unix seconds.
    kind : str
        ``tx`` or ``reset``.
    valid : bool
        False for a damaged record.
    """

    seq: int
    tx_id: str
    who: str
    actor: str
    what: str
    when: float
    kind: str
    valid: bool


def timeline_row(entry: Any) -> TimelineRow:
    """A :class:`TimelineRow` from a store ``HistoryEntry``."""
    what = entry.description or entry.operation
    if not entry.valid:
        what = f"damaged record ({entry.error or 'unreadable'})"
    elif entry.kind == "reset":
        what = f"{what} (whole graph replaced)"
    return TimelineRow(entry.seq, entry.tx_id, actor_group(entry.actor), entry.actor, what, float(entry.time),
                       entry.kind, bool(entry.valid))


@dataclass
class StepInfo:
    """How the last :meth:`HistoryPreview.show` got its state (for the status line and the benchmark).

    Attributes
    ----------
    how : str
        ``"cached"`` (already there), ``"forward"`` or ``"backward"`` (walked from the state shown),
        ``"checkpoint"`` (from a checkpoint, then walked) or ``"snapshot"`` (rebuilt by ``graph_at``).
    records : int
        Records walked.
    new_graph : bool
        True when the preview is a new graph object; otherwise the same object changed in place.
    """

    how: str = "cached"
    records: int = 0
    new_graph: bool = False


class _Checkpoint:
    """A state held in memory: the (frozen, shared) node models and copies of every column, in row order."""

    __slots__ = ("nodes", "columns", "edge_metadata", "nbytes")

    def __init__(self, g: ThoughtGraph) -> None:
        ea = g.edge_arrays()
        self.nodes = list(g.nodes())
        self.columns = {
            "sph": g.spherical.copy(), "kind": g.kind_index.copy(), "layer": g.layer_index.copy(),
            "status": g.status_index.copy(), "created": g.created.copy(), "updated": g.updated.copy(),
            "activation": g.activation.copy(), "attention": g.attention.copy(), "flags": g.flags.copy(),
            "edge_src": ea.src.copy(), "edge_dst": ea.dst.copy(), "edge_type": ea.type.copy(),
            "edge_weight": ea.weight.copy(),
        }
        self.edge_metadata = g.edge_table.metadata_by_row()
        self.nbytes = sum(a.nbytes for a in self.columns.values()) + _NODE_REF_BYTES * len(self.nodes) + 256

    def graph(self) -> ThoughtGraph:
        """A new graph holding this state (row for row)."""
        cols = {k: np.array(v) for k, v in self.columns.items()}  # the new graph's own, writable columns
        meta = {r: dict(md) for r, md in self.edge_metadata.items()}
        nodes, edges = assemble(list(self.nodes), **cols, edge_metadata=meta)
        return ThoughtGraph(nodes=nodes, edges=edges)


def _ema(old: float | None, new: float) -> float:
    return new if old is None else 0.7 * old + 0.3 * new


class HistoryPreview:
    """The timeline of a store and the graph as it was after any of its records.

    Parameters
    ----------
    store : GraphStore
        Read through its public API only.
    max_replay : int
        See :data:`MAX_REPLAY` (1-100000).
    checkpoint_bytes : int
        See :data:`CHECKPOINT_BYTES` (0 keeps none).

    Attributes
    ----------
    rows : list of TimelineRow
        The journal, oldest first (:meth:`refresh` appends what is new).
    graph : ThoughtGraph or None
        The state shown last (``None`` before the first :meth:`show`).
    seq : int
        The record :attr:`graph` is the state after (0: none yet).
    problems : list of str
        Damage the store reported while rebuilding (one line each).
    last_step : StepInfo
    """

    def __init__(self, store: Any, *, max_replay: int = MAX_REPLAY, checkpoint_bytes: int = CHECKPOINT_BYTES) -> None:
        if not 1 <= max_replay <= 100_000:
            raise ValueError(f"max_replay must be 1-100000, not {max_replay}")
        if not 0 <= checkpoint_bytes <= 2**40:
            raise ValueError(f"checkpoint_bytes must be 0-2**40, not {checkpoint_bytes}")
        self.store = store
        self.max_replay = max_replay
        self.checkpoint_bytes = checkpoint_bytes
        self.rows: list[TimelineRow] = []
        self._index: dict[int, int] = {}
        self.graph: ThoughtGraph | None = None
        self.seq = 0
        self.problems: list[str] = []
        self.last_step = StepInfo()
        self._damaged = False
        self._txs: OrderedDict[int, Transaction] = OrderedDict()
        self._checkpoints: OrderedDict[int, _Checkpoint] = OrderedDict()
        # Measured costs (ms): one record walked, one checkpoint turned into a graph, one rebuild by the store.
        self._ms_record: float | None = None
        self._ms_restore: float | None = None
        self._ms_rebuild: float | None = None
        self.refresh()

    # -- the timeline --------------------------------------------------------------------
    @property
    def last_seq(self) -> int:
        """Seq of the newest record listed (0: empty journal)."""
        return self.rows[-1].seq if self.rows else 0

    def refresh(self) -> list[TimelineRow]:
        """List the records committed since the last call; returns the new rows.

        Only the new records are read (``history(limit=...)``), so calling
        this after every commit stays cheap on a long journal. When the
        journal shrank or was rewritten (``graph recover``), it is read again
        whole and every state held is dropped.
        """
        newest = int(self.store.last_seq)
        known = self.last_seq
        # A record listed before is gone: the journal shrank, or a transaction that a later commit hook
        # vetoed was dropped and its seq reused. Read it all again.
        if newest < known or (known and not self._still_there(self.rows[-1])):
            self._reset_all()
            entries = self.store.history()
        elif newest == known:
            return []
        else:
            entries = self.store.history(newest - known)
            if entries and known and entries[0].seq <= known:  # seqs were not contiguous: read it all
                self._reset_all()
                entries = self.store.history()
        new = [timeline_row(e) for e in entries if e.seq > self.last_seq]
        for row in new:
            self._index[row.seq] = len(self.rows)
            self.rows.append(row)
        return new

    def _still_there(self, row: TimelineRow) -> bool:
        try:
            return self.store.history_entry(row.seq).tx_id == row.tx_id
        except KeyError:
            return False

    def _reset_all(self) -> None:
        self.rows.clear()
        self._index.clear()
        self.close()

    def row(self, seq: int) -> TimelineRow:
        """The timeline row of record ``seq``; raises ``KeyError`` for an unknown one."""
        return self.rows[self._index[seq]]

    def position(self, seq: int) -> int:
        """Where record ``seq`` is in :attr:`rows` (the slider's value for it); raises ``KeyError``."""
        return self._index[seq]

    # -- previewing ------------------------------------------------------------------------
    def show(self, seq: int) -> ThoughtGraph:
        """The graph as it was right after record ``seq`` (the same as ``store.graph_at(seq)``).

        The result is the preview's own graph: read it, never apply to it.
        It is often the same object as the previous call's, changed in place
        (see :attr:`last_step`), so a view that listens to its change events
        updates by itself.

        Raises
        ------
        KeyError
            ``seq`` is not a record of the timeline.
        """
        if seq not in self._index:
            raise KeyError(f"no journal record {seq} in the timeline")
        if self.graph is not None and seq == self.seq:
            self.last_step = StepInfo("cached")
            return self.graph
        start = self._cheapest_start(seq)
        if start is not None:
            try:
                return self._walk_from(start, seq)
            except Exception:  # noqa: BLE001 - a record that does not apply: rebuild that state from the store
                pass
        return self._rebuild(seq)

    def _cheapest_start(self, target: int) -> int | None:
        """The held state to walk from (``self.seq`` for the one shown, else a checkpoint's seq), or None: rebuild."""
        per = self._ms_record if self._ms_record is not None else 0.5
        best: tuple[float, int] | None = None
        if self.graph is not None and self._walkable(self.seq, target):
            best = (abs(target - self.seq) * per, self.seq)
        restore = self._ms_restore if self._ms_restore is not None else 25.0
        for c in self._checkpoints:
            if c != self.seq and self._walkable(c, target):
                cost = restore + abs(target - c) * per
                if best is None or cost < best[0]:
                    best = (cost, c)
        if best is None:
            return None
        # A short walk is always taken (cheap whatever the graph); a long one only when cheaper than a rebuild.
        if abs(target - best[1]) > SHORT_WALK and self._ms_rebuild is not None and best[0] > self._ms_rebuild:
            return None
        return best[1]

    def _walkable(self, start: int, target: int) -> bool:
        if self._damaged or abs(target - start) > self.max_replay or start not in self._index:
            return False
        lo, hi = min(start, target), max(start, target)
        if self._index[hi] - self._index[lo] != hi - lo:  # the journal has a gap between them
            return False
        # Every record crossed must be a readable transaction (a reset's state is only in its base snapshot).
        return all(self.rows[i].valid and self.rows[i].kind == "tx"
                   for i in range(self._index[lo] + 1, self._index[hi] + 1))

    def _walk_from(self, start: int, target: int) -> ThoughtGraph:
        how, new_graph = ("forward" if target > start else "backward"), False
        if start != self.seq or self.graph is None:
            t = time.perf_counter()
            self.graph, self.seq = self._checkpoints[start].graph(), start
            self._checkpoints.move_to_end(start)
            self._ms_restore = _ema(self._ms_restore, (time.perf_counter() - t) * 1000)
            how, new_graph = "checkpoint", True
        g = self.graph
        forward = target > start
        seqs = range(start + 1, target + 1) if forward else range(start, target, -1)
        t = time.perf_counter()
        with g.batch():  # one change burst for the whole walk: a view redraws once
            for s in seqs:
                tx = self._tx(s)
                # apply() is all-or-nothing: if it raises, the graph is the state after self.seq, as recorded.
                g.apply(tx if forward else tx.inverse(), record=False)
                self.seq = s if forward else s - 1
                if self.seq % CHECKPOINT_EVERY == 0:
                    self._keep(self.seq, g)
        if seqs:
            self._ms_record = _ema(self._ms_record, (time.perf_counter() - t) * 1000 / len(seqs))
        self.last_step = StepInfo(how, len(seqs), new_graph)
        return g

    def _tx(self, seq: int) -> Transaction:
        tx = self._txs.get(seq)
        if tx is None:
            tx = self.store.transaction(self.row(seq).tx_id)
            self._txs[seq] = tx
            while len(self._txs) > TX_CACHE:
                self._txs.popitem(last=False)
        else:
            self._txs.move_to_end(seq)
        return tx

    def _keep(self, seq: int, g: ThoughtGraph) -> None:
        """Keep a checkpoint of ``g`` (the state after ``seq``), dropping the least recently used over the budget."""
        if seq in self._checkpoints or not self.checkpoint_bytes:
            return
        self._checkpoints[seq] = _Checkpoint(g)
        total = sum(c.nbytes for c in self._checkpoints.values())
        while total > self.checkpoint_bytes and self._checkpoints:
            total -= self._checkpoints.popitem(last=False)[1].nbytes

    def _rebuild(self, seq: int) -> ThoughtGraph:
        t = time.perf_counter()
        loaded = self.store.graph_at(seq)
        g = loaded.graph
        if loaded.problems:
            self._damaged = True
            self._checkpoints.clear()
            self.problems = [p.format() for p in loaded.problems]
        if len(g):
            # A snapshot keeps the selection of its day: a preview shows none (it is read-only).
            g.set_flags(None, NodeFlag.SELECTED, False)
        self._ms_rebuild = _ema(self._ms_rebuild, (time.perf_counter() - t) * 1000)
        self.graph = g
        self.seq = seq
        if not self._damaged:
            self._keep(seq, g)
        self.last_step = StepInfo("snapshot", 0, True)
        return g

    def close(self) -> None:
        """Drop every state held and the decoded transactions (the panel closed or went back to now)."""
        self.graph = None
        self.seq = 0
        self._txs.clear()
        self._checkpoints.clear()


def restore(session: Any, seq: int) -> Transaction | None:
    """Return the live graph to its state right after record ``seq``, as one undoable transaction.

    It is ``graph restore``: the store's :meth:`~orchestrator_gui.store.GraphStore.restore`
    journals a ``restore`` transaction, which is then put on the session's
    undo history (Edit ▸ Undo, ``graph undo`` and the API undo it).

    Parameters
    ----------
    session : workspace.Session
        A session with a store.
    seq : int
        The journal record whose state to restore.

    Returns
    -------
    Transaction or None
        The committed restore, or ``None`` when the graph already has that content.

    Raises
    ------
    ValueError
        The session has no store (the graph lives in memory), or it is read-only.
    KeyError
        No such record.
    """
    if session.store is None:
        raise ValueError("the graph is held in memory: there is no journal to restore from")
    if session.readonly:
        raise ValueError("the graph store is open read-only: nothing can be restored")
    committed = session.store.restore(int(seq))
    if committed is not None:
        session.history.record(committed)
        session.events.applied.emit(committed)
    return committed


__all__ = ["ACTOR_GROUPS", "CHECKPOINT_BYTES", "CHECKPOINT_EVERY", "HistoryPreview", "MAX_REPLAY", "SHORT_WALK",
           "StepInfo", "TimelineRow", "actor_group", "restore", "timeline_row"]
