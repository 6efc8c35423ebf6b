"""ThoughtGraph: typed nodes and edges with numpy mirrors, changed only through transactions.

Storage
-------
The graph composes small objects that each own their state:

* :class:`~orchestrator_gui.model.node_table.NodeTable` -- the frozen
  :class:`~orchestrator_gui.model.nodes.Node` models and their numpy mirror
  columns (dense rows, O(1) id<->row lookup, swap-remove on delete);
* :class:`~orchestrator_gui.model.edge_table.EdgeTable` -- the edge columns
  (src row, dst row, type code, weight), sparse edge metadata and the
  incrementally maintained incidence index;
* :class:`~orchestrator_gui.model.events.EventBatcher` -- pending change
  records, emitted as one burst per transaction;
* :class:`~orchestrator_gui.model.dynamic.DynamicValues` -- the setters of
  activation, attention and flags;
* :mod:`~orchestrator_gui.model.mutate` -- the six primitive edits, applied
  to the two tables and the batcher (an ``EditContext``);
* :class:`~orchestrator_gui.model.transactions.UndoStack` -- undo/redo.

The graph itself owns only the commit hooks, the apply-in-progress flag and
the revision counter.  A
renderer reads ``positions`` and :meth:`ThoughtGraph.edge_arrays` without any
Python loop; code that needs more than the graph's methods (queries,
serialisation) reads :attr:`ThoughtGraph.node_table` and
:attr:`ThoughtGraph.edge_table`.

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

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator_gui.model import forms, loading, mutate
from orchestrator_gui.model.adjacency import Adjacency
from orchestrator_gui.model.dynamic import DynamicValues
from orchestrator_gui.model.edge_table import EdgeTable
from orchestrator_gui.model.errors import EdgeNotFound, GraphError, RollbackError
from orchestrator_gui.model.events import EventBatcher, GraphEvents
from orchestrator_gui.model.node_table import NodeTable
from orchestrator_gui.model.nodes import Edge, EdgeType, Node, NodeFlag, NodeState
from orchestrator_gui.model.transactions import Transaction, UndoStack

#: Fewest consecutive plain node additions that :meth:`ThoughtGraph.apply` inserts in one vectorised step.
BULK_ADD_MIN = 256


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


class ThoughtGraph:
    """A directed multigraph of typed thoughts placed on concentric spherical shells.

    Parameters
    ----------
    nodes, edges : NodeTable, EdgeTable, optional
        Tables to wrap (bulk loaders pass filled ones; ``edges`` must have
        been made for ``nodes``).  Default: empty.

    Attributes
    ----------
    events : GraphEvents
        psygnal signals; see :mod:`orchestrator_gui.model.events` for batching.
    history : UndoStack
        Undo/redo of the transactions applied with ``record=True``.
    revision : int
        Incremented by every applied primitive edit; caches compare against it.
    """

    def __init__(self, *, nodes: NodeTable | None = None, edges: EdgeTable | None = None) -> None:
        if nodes is None:
            nodes = NodeTable() if edges is None else edges.nodes
        if edges is None:
            edges = EdgeTable(nodes)
        if edges.nodes is not nodes:
            raise ValueError("the edge table was made for another node table")
        self._nodes = nodes
        self._edges = edges
        self.events = GraphEvents()
        self._batcher = EventBatcher(self.events, nodes.present_rows, self.selected_ids)
        self._dynamic = DynamicValues(nodes, self._batcher)
        self._target = mutate.EditContext(nodes, edges, self._batcher)
        self.history = UndoStack()
        self._commit_hooks: list[Callable[[Transaction], None]] = []
        self._applying = False
        self.revision = 0

    # -- construction shortcuts -------------------------------------------------------
    @classmethod
    def from_arrays(cls, ids: Any, kinds: Any, **kwargs: Any) -> ThoughtGraph:
        """Bulk-build a graph; see :func:`orchestrator_gui.model.loading.tables_from_arrays`."""
        nodes, edges = loading.tables_from_arrays(ids, kinds, **kwargs)
        return cls(nodes=nodes, edges=edges)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThoughtGraph:
        """Load the JSON form; see :func:`orchestrator_gui.model.forms.tables_from_dict`."""
        nodes, edges = forms.tables_from_dict(data)
        return cls(nodes=nodes, edges=edges)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; see :func:`orchestrator_gui.model.forms.graph_to_dict`."""
        return forms.graph_to_dict(self)

    def to_networkx(self, *, flat: bool = False) -> Any:
        """A fresh ``networkx.MultiDiGraph`` copy; see :func:`orchestrator_gui.model.forms.to_networkx`."""
        return forms.to_networkx(self, flat=flat)

    # -- the tables ---------------------------------------------------------------------
    @property
    def node_table(self) -> NodeTable:
        """The node models and mirror columns; read freely, change only through :meth:`apply`."""
        return self._nodes

    @property
    def edge_table(self) -> EdgeTable:
        """The edge columns, metadata and incidence; read freely, change only through :meth:`apply`."""
        return self._edges

    @property
    def structure_revision(self) -> int:
        """Incremented when nodes or edges are added or removed."""
        return self._nodes.structure_version + self._edges.structure_version

    # -- nodes ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __repr__(self) -> str:
        return f"<ThoughtGraph {self.number_of_nodes()} nodes, {self.number_of_edges()} edges>"

    def number_of_nodes(self) -> int:
        """Number of nodes."""
        return len(self._nodes)

    def number_of_edges(self) -> int:
        """Number of edges."""
        return len(self._edges)

    def node(self, node_id: str) -> Node:
        """The node ``node_id``; raises :class:`NodeNotFound`."""
        return self._nodes.node(node_id)

    __getitem__ = node

    def node_ids(self) -> list[str]:
        """All node ids in row order."""
        return self._nodes.column("ids").tolist()

    def nodes(self) -> Iterator[Node]:
        """All nodes in row order."""
        return self._nodes.iter_nodes()

    def row_of(self, node_id: str) -> int:
        """Current row of ``node_id`` in the mirrors (rows move when nodes are deleted)."""
        return self._nodes.row(node_id)

    def id_of(self, row: int) -> str:
        """Id of the node in ``row``."""
        if not 0 <= row < len(self._nodes):
            raise IndexError(f"row {row} out of range")
        return self._nodes.column("ids")[row]

    def rows_of(self, ids: Iterable[str]) -> np.ndarray:
        """Rows of several ids as an int64 array; raises :class:`NodeNotFound` for an unknown id."""
        return self._nodes.rows(ids)

    def ids_of(self, rows: np.ndarray | Iterable[int]) -> list[str]:
        """Ids of several rows."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self._nodes)):
            raise IndexError("row out of range")
        return self._nodes.column("ids")[rows].tolist()

    def state(self, node_id: str) -> NodeState:
        """The dynamic values (activation, attention, flags) of one node."""
        return self._nodes.state(self._nodes.row(node_id))

    def incident_keys(self, node_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Packed keys (:func:`~orchestrator_gui.model.arrays.pack_key`) of the edges leaving and entering a node.

        Returns
        -------
        out_keys, in_keys : ndarray of int64
            Keys of the outgoing and of the incoming edges; ``key & 0xFF`` is the type code.
        """
        return self._edges.incident(self._nodes.handle(node_id))

    # -- numpy mirrors (read-only views; re-fetch after structural changes) ------------
    @property
    def ids(self) -> np.ndarray:
        """Node ids by row (object array)."""
        return _readonly(self._nodes.column("ids"))

    @property
    def positions(self) -> np.ndarray:
        """Cartesian positions, (N, 3) float64."""
        return _readonly(self._nodes.column("xyz"))

    @property
    def spherical(self) -> np.ndarray:
        """``(theta, phi, r)`` per row, (N, 3) float64."""
        return _readonly(self._nodes.column("sph"))

    @property
    def activation(self) -> np.ndarray:
        """Activation per row (float64)."""
        return _readonly(self._nodes.column("activation"))

    @property
    def attention(self) -> np.ndarray:
        """Attention per row (float64)."""
        return _readonly(self._nodes.column("attention"))

    @property
    def flags(self) -> np.ndarray:
        """:class:`NodeFlag` bits per row (uint32)."""
        return _readonly(self._nodes.column("flags"))

    @property
    def kind_index(self) -> np.ndarray:
        """Index into :data:`~orchestrator_gui.model.nodes.KINDS` per row (int8)."""
        return _readonly(self._nodes.column("kind"))

    @property
    def layer_index(self) -> np.ndarray:
        """Index into :data:`~orchestrator_gui.model.nodes.LAYERS` per row (int8)."""
        return _readonly(self._nodes.column("layer"))

    @property
    def status_index(self) -> np.ndarray:
        """Index into :data:`~orchestrator_gui.model.nodes.STATUSES` per row (int8)."""
        return _readonly(self._nodes.column("status"))

    @property
    def created(self) -> np.ndarray:
        """Creation time per row (Unix seconds)."""
        return _readonly(self._nodes.column("created"))

    @property
    def updated(self) -> np.ndarray:
        """Last update time per row (Unix seconds)."""
        return _readonly(self._nodes.column("updated"))

    def edge_arrays(self) -> EdgeArrays:
        """Edge columns for the renderer: src/dst node rows (int64), weight (float64), type code (int8)."""
        col = self._edges.column
        return EdgeArrays(
            _readonly(col("src")), _readonly(col("dst")), _readonly(col("weight")), _readonly(col("type"))
        )

    # -- dynamic values (set directly, not undoable; see orchestrator_gui.model.dynamic) --
    def set_activation(self, values: Any, where: Any = None) -> None:
        """Set activation of all rows (``where=None``), of given rows (int array) or of given ids."""
        self._dynamic.set_activation(values, where)

    def set_attention(self, values: Any, where: Any = None) -> None:
        """Set attention of all rows, given rows or given ids (like :meth:`set_activation`)."""
        self._dynamic.set_attention(values, where)

    def set_flags(self, where: Any, mask: int | NodeFlag, on: bool = True) -> None:
        """Set (``on``) or clear the bits ``mask`` on the given rows or ids (``None``: all)."""
        self._dynamic.set_flags(where, mask, on)

    def select(self, ids: Iterable[str], mode: str = "replace") -> None:
        """Change the selection: ``replace``, ``add``, ``remove`` or ``toggle`` the given ids."""
        self._dynamic.select(ids, mode)

    def selected_ids(self) -> tuple[str, ...]:
        """Ids of the selected nodes, in row order."""
        return self._dynamic.selected_ids()

    # -- edges ------------------------------------------------------------------------
    def has_edge(self, src: str, dst: str, type: EdgeType | str) -> bool:
        """True if the edge ``(src, dst, type)`` exists."""
        return self._edges.has(src, dst, type)

    def edge_row(self, src: str, dst: str, type: EdgeType | str) -> int:
        """Row of the edge ``(src, dst, type)`` in :meth:`edge_arrays`."""
        key = self._edges.key(src, dst, type)
        row = None if key is None else self._edges.find_row(key)
        if row is None:
            raise EdgeNotFound(f"no edge {src!r} -[{EdgeType(type).value}]-> {dst!r}")
        return row

    def edge(self, src: str, dst: str, type: EdgeType | str) -> Edge:
        """The edge ``(src, dst, type)``; raises :class:`EdgeNotFound`."""
        return self._edges.edge_at(self.edge_row(src, dst, type))

    def edges(self) -> Iterator[Edge]:
        """All edges in edge-row order."""
        edge_at = self._edges.edge_at
        return (edge_at(r) for r in range(len(self._edges)))

    def edges_of(self, node_id: str, direction: str = "both") -> list[Edge]:
        """Edges leaving (``"out"``), entering (``"in"``) or touching (``"both"``) a node, by edge row."""
        out_k, in_k = self.incident_keys(node_id)
        keys = {"out": [out_k], "in": [in_k], "both": [out_k, in_k]}[direction]
        rows = sorted(self._edges.rows_of_keys(k for part in keys for k in part.tolist()))
        return [self._edges.edge_at(r) for r in rows]

    def adjacency(self) -> Adjacency:
        """The incidence index, rebuilt first if its overlay of recent changes has grown large."""
        return self._edges.adjacency()

    # -- transactions -----------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Defer all events until the block ends, then emit one burst."""
        with self._batcher.batch():
            yield

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

    def _apply_edit(self, edit: Any) -> Any:
        # Looked up in the module at each call: tests inject failures by replacing it.
        resolved = mutate.apply_edit(self._target, edit)
        # Counted per primitive, rollback included: the store checks revision arithmetic.
        self.revision += 1
        return resolved

    def _apply_edits(self, edits: Sequence[Any], done: list[Any]) -> None:
        """Apply ``edits`` in order, appending each resolved edit to ``done`` as it succeeds.

        Long runs of plain node additions (a fresh build, an import) go in one
        vectorised step: per node, Python work of a few attribute reads instead
        of a primitive's checks and row writes (300k nodes: seconds saved).
        """
        i, n = 0, len(edits)
        while i < n:
            if mutate.is_plain_add(edits[i]):
                j = i
                while j < n and mutate.is_plain_add(edits[j]):
                    j += 1
                if j - i >= BULK_ADD_MIN:
                    done.extend(mutate.add_plain_nodes(self._target, list(edits[i:j])))
                    self.revision += j - i  # one per primitive, as _apply_edit counts
                    i = j
                    continue
            done.append(self._apply_edit(edits[i]))
            i += 1

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
                self._apply_edits(tx.edits, done)
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
                self._apply_edit(edit.inverse())
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
