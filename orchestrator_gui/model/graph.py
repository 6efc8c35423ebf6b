"""ThoughtGraph: typed nodes and edges with numpy mirrors, changed only through transactions.

Storage
-------
Nodes are frozen :class:`~orchestrator_gui.model.nodes.Node` models in a dict;
their hot values are mirrored column-wise in numpy (:mod:`.arrays`) with dense
rows, O(1) id<->row lookup and swap-remove on delete.  Edges live only in
numpy columns (src row, dst row, type code, weight) plus a key->row dict and
an incrementally maintained incidence index (:mod:`.adjacency`), so a renderer
reads ``positions`` and :meth:`ThoughtGraph.edge_arrays` without any Python
loop.

The networkx view is built on demand by :meth:`ThoughtGraph.to_networkx`
rather than maintained alongside: on the 2-core reference machine an eager
``MultiDiGraph`` costs about 4 s and several hundred MB for 100k nodes /
500k edges, which alone would break the 5 s bulk-build budget, while nothing
in the hot paths needs it.

Changing
--------
Every change is a :class:`~orchestrator_gui.model.transactions.Transaction`
passed to :meth:`ThoughtGraph.apply`, which is all-or-nothing.  Only the
dynamic per-node values (activation, attention, flags/selection), which the
engine and the view rewrite many times a second, are set directly
(:mod:`orchestrator_gui.model.dynamic`); they are not content and are not
undoable.

The graph is not thread-safe: use it from one thread (the GUI thread).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator_gui.model import mutate
from orchestrator_gui.model.adjacency import Adjacency
from orchestrator_gui.model.arrays import EdgeStore, NodeStore, pack_key
from orchestrator_gui.model.dynamic import DynamicValues
from orchestrator_gui.model.errors import EdgeNotFound, GraphError, NodeNotFound, RollbackError
from orchestrator_gui.model.events import EventBatcher, GraphEvents
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, EDGE_TYPES, Edge, EdgeType, Node, NodeState
from orchestrator_gui.model.transactions import Transaction, UndoStack


def _readonly(arr: np.ndarray) -> np.ndarray:
    view = arr.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True)
class EdgeArrays:
    """Read-only views of the edge columns, row-aligned: ``src``/``dst`` are node rows."""

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    type: np.ndarray


class ThoughtGraph(DynamicValues):
    """A directed multigraph of typed thoughts placed on concentric spherical shells.

    Attributes
    ----------
    events : GraphEvents
        psygnal signals; see :mod:`orchestrator_gui.model.events` for batching.
    history : UndoStack
        Undo/redo of the transactions applied with ``record=True``.
    """

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._ns = NodeStore()
        self._es = EdgeStore()
        self._adj = Adjacency()
        self.events = GraphEvents()
        self._batcher = EventBatcher(self.events, self._current_rows, self.selected_ids)
        self.history = UndoStack()
        self._commit_hooks: list[Callable[[Transaction], None]] = []
        self._applying = False
        #: Incremented by every applied edit; caches compare against it.
        self.revision = 0
        #: Incremented when nodes or edges are added or removed.
        self.structure_revision = 0

    # -- construction shortcuts (implemented in sibling modules) ----------------------
    @classmethod
    def from_arrays(cls, ids: Any, kinds: Any, **kwargs: Any) -> ThoughtGraph:
        """Bulk-build a graph; see :func:`orchestrator_gui.model.bulk.graph_from_arrays`."""
        from orchestrator_gui.model.bulk import graph_from_arrays

        return graph_from_arrays(ids, kinds, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThoughtGraph:
        """Load the JSON form; see :func:`orchestrator_gui.model.serialize.graph_from_dict`."""
        from orchestrator_gui.model.serialize import graph_from_dict

        return graph_from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; see :func:`orchestrator_gui.model.serialize.graph_to_dict`."""
        from orchestrator_gui.model.serialize import graph_to_dict

        return graph_to_dict(self)

    def to_networkx(self, *, flat: bool = False) -> Any:
        """A fresh ``networkx.MultiDiGraph`` copy; see :func:`orchestrator_gui.model.serialize.to_networkx`."""
        from orchestrator_gui.model.serialize import to_networkx

        return to_networkx(self, flat=flat)

    # -- nodes ------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._ns.n

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __repr__(self) -> str:
        return f"<ThoughtGraph {self.number_of_nodes()} nodes, {self.number_of_edges()} edges>"

    def number_of_nodes(self) -> int:
        """Number of nodes."""
        return self._ns.n

    def number_of_edges(self) -> int:
        """Number of edges."""
        return self._es.m

    def node(self, node_id: str) -> Node:
        """The node ``node_id``; raises :class:`NodeNotFound`."""
        try:
            return self._nodes[node_id]
        except KeyError:
            raise NodeNotFound(f"no node {node_id!r}") from None

    __getitem__ = node

    def node_ids(self) -> list[str]:
        """All node ids in row order."""
        return self._ns.live("ids").tolist()

    def nodes(self) -> Iterator[Node]:
        """All nodes in row order."""
        nodes = self._nodes
        return (nodes[i] for i in self._ns.live("ids"))

    def row_of(self, node_id: str) -> int:
        """Current row of ``node_id`` in the mirrors (rows move when nodes are deleted)."""
        try:
            return self._ns.row_of[node_id]
        except KeyError:
            raise NodeNotFound(f"no node {node_id!r}") from None

    def id_of(self, row: int) -> str:
        """Id of the node in ``row``."""
        if not 0 <= row < self._ns.n:
            raise IndexError(f"row {row} out of range")
        return self._ns.cols["ids"][row]

    def rows_of(self, ids: Iterable[str]) -> np.ndarray:
        """Rows of several ids as an int64 array; raises :class:`NodeNotFound` for an unknown id."""
        row_of = self._ns.row_of
        try:
            return np.fromiter((row_of[i] for i in ids), dtype=np.int64)
        except KeyError as exc:
            raise NodeNotFound(f"no node {exc.args[0]!r}") from None

    def ids_of(self, rows: np.ndarray | Iterable[int]) -> list[str]:
        """Ids of several rows."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= self._ns.n):
            raise IndexError("row out of range")
        return self._ns.cols["ids"][rows].tolist()

    def state(self, node_id: str) -> NodeState:
        """The dynamic values (activation, attention, flags) of one node."""
        r = self.row_of(node_id)
        c = self._ns.cols
        return NodeState(activation=float(c["activation"][r]), attention=float(c["attention"][r]), flags=int(c["flags"][r]))

    # -- numpy mirrors (read-only views; re-fetch after structural changes) ------------
    @property
    def ids(self) -> np.ndarray:
        """Node ids by row (object array)."""
        return _readonly(self._ns.live("ids"))

    @property
    def positions(self) -> np.ndarray:
        """Cartesian positions, (N, 3) float64."""
        return _readonly(self._ns.live("xyz"))

    @property
    def spherical(self) -> np.ndarray:
        """``(theta, phi, r)`` per row, (N, 3) float64."""
        return _readonly(self._ns.live("sph"))

    @property
    def activation(self) -> np.ndarray:
        """Activation per row (float64)."""
        return _readonly(self._ns.live("activation"))

    @property
    def attention(self) -> np.ndarray:
        """Attention per row (float64)."""
        return _readonly(self._ns.live("attention"))

    @property
    def flags(self) -> np.ndarray:
        """:class:`NodeFlag` bits per row (uint32)."""
        return _readonly(self._ns.live("flags"))

    @property
    def kind_index(self) -> np.ndarray:
        """Index into :data:`~orchestrator_gui.model.nodes.KINDS` per row (int8)."""
        return _readonly(self._ns.live("kind"))

    @property
    def layer_index(self) -> np.ndarray:
        """Index into :data:`~orchestrator_gui.model.nodes.LAYERS` per row (int8)."""
        return _readonly(self._ns.live("layer"))

    @property
    def status_index(self) -> np.ndarray:
        """Index into :data:`~orchestrator_gui.model.nodes.STATUSES` per row (int8)."""
        return _readonly(self._ns.live("status"))

    @property
    def created(self) -> np.ndarray:
        """Creation time per row (Unix seconds)."""
        return _readonly(self._ns.live("created"))

    @property
    def updated(self) -> np.ndarray:
        """Last update time per row (Unix seconds)."""
        return _readonly(self._ns.live("updated"))

    def edge_arrays(self) -> EdgeArrays:
        """Edge columns for the renderer: src/dst node rows (int64), weight (float64), type code (int8)."""
        es = self._es
        return EdgeArrays(
            _readonly(es.live("src")), _readonly(es.live("dst")), _readonly(es.live("weight")), _readonly(es.live("type"))
        )

    # -- edges ------------------------------------------------------------------------
    def _edge_key(self, src: str, dst: str, type: EdgeType | str) -> int | None:
        rs, rd = self._ns.row_of.get(src), self._ns.row_of.get(dst)
        if rs is None or rd is None:
            return None
        h = self._ns.cols["handle"]
        return pack_key(int(h[rs]), int(h[rd]), EDGE_TYPE_INDEX[EdgeType(type).value])

    def _edge_at(self, row: int) -> Edge:
        c = self._es.cols
        ids = self._ns.cols["ids"]
        meta = self._es.metadata.get(int(c["key"][row]))
        return Edge.model_construct(
            src=ids[c["src"][row]],
            dst=ids[c["dst"][row]],
            type=EDGE_TYPES[c["type"][row]],
            weight=float(c["weight"][row]),
            metadata=dict(meta) if meta else {},
        )

    def has_edge(self, src: str, dst: str, type: EdgeType | str) -> bool:
        """True if the edge ``(src, dst, type)`` exists."""
        key = self._edge_key(src, dst, type)
        return key is not None and key in self._es.row_of_key

    def edge(self, src: str, dst: str, type: EdgeType | str) -> Edge:
        """The edge ``(src, dst, type)``; raises :class:`EdgeNotFound`."""
        key = self._edge_key(src, dst, type)
        row = None if key is None else self._es.row_of_key.get(key)
        if row is None:
            raise EdgeNotFound(f"no edge {src!r} -[{EdgeType(type).value}]-> {dst!r}")
        return self._edge_at(row)

    def edge_row(self, src: str, dst: str, type: EdgeType | str) -> int:
        """Row of the edge ``(src, dst, type)`` in :meth:`edge_arrays`."""
        key = self._edge_key(src, dst, type)
        row = None if key is None else self._es.row_of_key.get(key)
        if row is None:
            raise EdgeNotFound(f"no edge {src!r} -[{EdgeType(type).value}]-> {dst!r}")
        return row

    def edges(self) -> Iterator[Edge]:
        """All edges in edge-row order."""
        return (self._edge_at(r) for r in range(self._es.m))

    def edges_of(self, node_id: str, direction: str = "both") -> list[Edge]:
        """Edges leaving (``"out"``), entering (``"in"``) or touching (``"both"``) a node, by edge row."""
        h = int(self._ns.cols["handle"][self.row_of(node_id)])
        out_k, in_k = self._adj.incident(h)
        keys = {"out": [out_k], "in": [in_k], "both": [out_k, in_k]}[direction]
        rok = self._es.row_of_key
        rows = sorted(rok[k] for part in keys for k in part.tolist())
        return [self._edge_at(r) for r in rows]

    def adjacency(self) -> Adjacency:
        """The incidence index, rebuilt first if its overlay of recent changes has grown large."""
        if self._adj.needs_rebuild():
            self._adj.rebuild(self._es.live("key"), self._ns.next_handle)
        return self._adj

    def _current_rows(self, ids: list[str] | None) -> np.ndarray:
        if ids is None:
            return np.arange(self._ns.n, dtype=np.int64)
        row_of = self._ns.row_of
        return np.fromiter((row_of[i] for i in ids if i in row_of), dtype=np.int64)

    # -- transactions -----------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Defer all events until the block ends, then emit one burst."""
        self._batcher.begin()
        try:
            yield
        finally:
            self._batcher.end()

    def add_commit_hook(self, hook: Callable[[Transaction], None]) -> None:
        """Call ``hook(tx)`` for every transaction after its edits succeed and before it counts as committed.

        A hook that raises makes :meth:`apply` roll the transaction back and
        re-raise, so a store whose journal write fails never diverges from the
        graph.  Hooks must not change the graph.
        """
        self._commit_hooks.append(hook)

    def remove_commit_hook(self, hook: Callable[[Transaction], None]) -> None:
        """Remove a hook added with :meth:`add_commit_hook`."""
        self._commit_hooks.remove(hook)

    def apply(self, tx: Transaction, *, record: bool = True) -> Transaction:
        """Apply ``tx`` atomically and return the committed (resolved) transaction.

        If any edit or commit hook raises, the edits already applied are undone
        in reverse order, no event is emitted, and the exception propagates:
        the graph is exactly as before.  ``record=False`` keeps the transaction
        off the undo stack (used by undo/redo themselves and by replay).

        Events are emitted after the commit; an exception raised by an event
        listener propagates to the caller but does not undo the committed change.
        """
        if self._applying:
            raise GraphError("apply() called while another transaction is being applied")
        mark = self._batcher.mark()
        done: list[Any] = []
        self._batcher.begin()
        try:
            self._applying = True
            try:
                for edit in tx.edits:
                    done.append(mutate.apply_edit(self, edit))
                committed = tx.model_copy(update={"edits": tuple(done)})
                for hook in list(self._commit_hooks):
                    hook(committed)
            except BaseException as exc:
                self._rollback(done, exc)
                self._batcher.truncate(mark)
                raise
            finally:
                self._applying = False
            if record:
                self.history.push(committed)
        finally:
            self._batcher.end()
        self.events.transaction_committed.emit(committed)
        if record:
            self.events.history_changed.emit()
        return committed

    def _rollback(self, done: list[Any], cause: BaseException) -> None:
        for edit in reversed(done):
            try:
                mutate.apply_edit(self, edit.inverse())
            except Exception as exc:  # pragma: no cover - only a bug gets here
                raise RollbackError(f"rollback of {type(edit).__name__} failed after {cause!r}") from exc

    def undo(self, *, actor: str | None = None) -> Transaction:
        """Undo the latest recorded transaction; return the committed undo transaction."""
        done = self.history.undo(self, actor=actor)
        self.events.history_changed.emit()
        return done

    def redo(self, *, actor: str | None = None) -> Transaction:
        """Redo the latest undone transaction; return the committed redo transaction."""
        done = self.history.redo(self, actor=actor)
        self.events.history_changed.emit()
        return done
