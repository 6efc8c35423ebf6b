"""NodeTable: the nodes of one graph -- frozen models plus their numpy mirror columns.

One object owns everything that describes nodes: the ``id -> Node`` dict,
the mirror columns with their dense rows, permanent handles and id/row maps
(a :class:`~orchestrator_gui.model.arrays.NodeStore`), and a structure
version.  Keeping the models and the mirrors behind one interface is what
keeps them consistent: every change goes through a method here that updates
both.

Readers (the graph's properties, queries, serialisation) use the read
methods and :meth:`NodeTable.column`.  The changing methods are called only
by the primitive edits (:mod:`orchestrator_gui.model.mutate`), bulk loading
(:mod:`orchestrator_gui.model.loading`) and the dynamic-value setters
(:mod:`orchestrator_gui.model.dynamic`); a node table reached through
``ThoughtGraph.node_table`` must be changed only through ``ThoughtGraph.apply``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from orchestrator_gui.model.arrays import NodeStore
from orchestrator_gui.model.coords import to_cartesian
from orchestrator_gui.model.errors import DuplicateError, NodeNotFound
from orchestrator_gui.model.nodes import KIND_INDEX, LAYER_INDEX, STATUS_INDEX, Node, NodeState

#: Node fields mirrored in a numpy column of the same name, with the encoder of their value.
MIRRORED = {
    "kind": lambda v: KIND_INDEX[v],
    "layer": lambda v: LAYER_INDEX[v],
    "status": lambda v: STATUS_INDEX[v],
    "created": float,
    "updated": float,
}


class NodeTable:
    """Node models by id plus their per-row numpy columns.

    Columns (see :class:`~orchestrator_gui.model.arrays.NodeStore`): ``ids``
    (object), ``handle`` (int64), ``sph`` and ``xyz`` (float64, (N, 3)),
    ``activation``, ``attention``, ``created``, ``updated`` (float64),
    ``kind``, ``layer``, ``status`` (int8), ``flags`` (uint32).

    Attributes
    ----------
    structure_version : int
        Incremented whenever a node is added or removed (and by :meth:`load`).
    """

    def __init__(self) -> None:
        self._models: dict[str, Node] = {}
        self._store = NodeStore()
        self.structure_version = 0

    # -- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return self._store.n

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._models

    def node(self, node_id: str) -> Node:
        """The model of ``node_id``; raises :class:`NodeNotFound`."""
        try:
            return self._models[node_id]
        except KeyError:
            raise NodeNotFound(f"no node {node_id!r}") from None

    def nodes_of(self, ids: Iterable[str]) -> list[Node]:
        """The models of ``ids`` (which must exist), in that order."""
        models = self._models
        return [models[i] for i in ids]

    def iter_nodes(self) -> Iterator[Node]:
        """All models in row order."""
        models = self._models
        return (models[i] for i in self.column("ids"))

    def ids_at(self, rows: np.ndarray | list[int]) -> list[str]:
        """Ids of the nodes in ``rows`` (which must be live rows), as a list."""
        return self._store.cols["ids"][rows].tolist()

    def handles_at(self, rows: np.ndarray) -> np.ndarray:
        """Handles of the nodes in ``rows`` (which must be live rows), int64."""
        return self._store.cols["handle"][rows]

    def find_row(self, node_id: str) -> int | None:
        """Row of ``node_id``, or ``None`` when there is no such node."""
        return self._store.row_of.get(node_id)

    def row(self, node_id: str) -> int:
        """Row of ``node_id``; raises :class:`NodeNotFound`."""
        try:
            return self._store.row_of[node_id]
        except KeyError:
            raise NodeNotFound(f"no node {node_id!r}") from None

    def rows(self, ids: Iterable[str]) -> np.ndarray:
        """Rows of ``ids`` as an int64 array; raises :class:`NodeNotFound` for an unknown id."""
        row_of = self._store.row_of
        try:
            return np.fromiter((row_of[i] for i in ids), dtype=np.int64)
        except KeyError as exc:
            raise NodeNotFound(f"no node {exc.args[0]!r}") from None

    def present_rows(self, ids: list[str] | None) -> np.ndarray:
        """Rows of those ``ids`` that still exist (int64); ``None`` means all rows."""
        if ids is None:
            return np.arange(self._store.n, dtype=np.int64)
        row_of = self._store.row_of
        return np.fromiter((row_of[i] for i in ids if i in row_of), dtype=np.int64)

    def find_handle(self, node_id: str) -> int | None:
        """Handle of ``node_id``, or ``None`` when there is no such node."""
        s = self._store
        row = s.row_of.get(node_id)
        return None if row is None else int(s.cols["handle"][row])

    def handle(self, node_id: str) -> int:
        """Permanent handle of ``node_id`` (unchanged while it exists); raises :class:`NodeNotFound`."""
        return int(self._store.cols["handle"][self.row(node_id)])

    def rows_of_handles(self, handles: np.ndarray) -> np.ndarray:
        """Current rows of node ``handles`` (-1 for a removed node)."""
        return self._store.row_of_handle[handles]

    @property
    def handle_space(self) -> int:
        """Number of handles allocated so far: every handle is below it."""
        return self._store.next_handle

    def column(self, name: str) -> np.ndarray:
        """Writeable view of column ``name`` over the live rows; re-fetch after a structural change.

        Writing is for the dynamic columns (``activation``, ``attention``,
        ``flags``) only; the others must stay equal to the models.
        """
        return self._store.live(name)

    def state(self, row: int) -> NodeState:
        """The dynamic values of the node in ``row``."""
        c = self._store.cols
        return NodeState(
            activation=float(c["activation"][row]), attention=float(c["attention"][row]), flags=int(c["flags"][row])
        )

    def ids_flagged(self, mask: int) -> tuple[str, ...]:
        """Ids, in row order, of the nodes having any of the flag bits ``mask``."""
        rows = np.flatnonzero(self.column("flags") & np.uint32(mask))
        return tuple(self._store.cols["ids"][rows].tolist())

    # -- changing ----------------------------------------------------------------------
    def _write(self, row: int, node: Node) -> None:
        c = self._store.cols
        sph = (node.theta, node.phi, node.r)
        c["sph"][row] = sph
        c["xyz"][row] = to_cartesian(sph)
        c["kind"][row] = KIND_INDEX[node.kind.value]
        c["layer"][row] = LAYER_INDEX[node.layer.value]
        c["status"][row] = STATUS_INDEX[node.status.value]
        c["created"][row] = node.created
        c["updated"][row] = node.updated

    def insert(self, node: Node, state: NodeState, row: int | None = None) -> tuple[int, int | None]:
        """Add ``node`` with the dynamic values ``state``; return ``(row, moved)``.

        With ``row`` (the row a deleted node had, when undoing) the node goes
        there and the occupant of that row moves to the end; ``moved`` is the
        occupant's handle then, so the edge table can follow it, else ``None``.
        """
        if node.id in self._models:
            raise DuplicateError(f"node {node.id!r} exists already")
        s = self._store
        new, _ = s.append_empty(node.id)
        self._models[node.id] = node
        self._write(new, node)
        c = s.cols
        c["activation"][new] = state.activation
        c["attention"][new] = state.attention
        c["flags"][new] = state.flags
        moved = None
        if row is not None and row < new:
            m = s.move_to_row(new, row)
            new = row
            moved = None if m is None else m.ident
        self.structure_version += 1
        return new, moved

    def insert_many(self, nodes: list[Node], states: list[NodeState]) -> int:
        """Append ``nodes`` (new, distinct ids) with their ``states`` in one pass; return the first new row.

        The columns are filled as arrays: per node this costs a few attribute
        reads instead of :meth:`insert`'s row writes and coordinate conversion.
        """
        seen: set[str] = set()
        for n in nodes:
            if n.id in self._models or n.id in seen:
                raise DuplicateError(f"node {n.id!r} exists already")
            seen.add(n.id)
        s = self._store
        first = s.append_many([n.id for n in nodes])
        stop = first + len(nodes)
        c = s.cols
        sph = np.array([(n.theta, n.phi, n.r) for n in nodes], dtype=np.float64).reshape(-1, 3)
        c["sph"][first:stop] = sph
        c["xyz"][first:stop] = to_cartesian(sph) if len(nodes) else np.zeros((0, 3))
        c["kind"][first:stop] = [KIND_INDEX[n.kind.value] for n in nodes]
        c["layer"][first:stop] = [LAYER_INDEX[n.layer.value] for n in nodes]
        c["status"][first:stop] = [STATUS_INDEX[n.status.value] for n in nodes]
        c["created"][first:stop] = [n.created for n in nodes]
        c["updated"][first:stop] = [n.updated for n in nodes]
        c["activation"][first:stop] = [st.activation for st in states]
        c["attention"][first:stop] = [st.attention for st in states]
        c["flags"][first:stop] = [st.flags for st in states]
        self._models.update((n.id, n) for n in nodes)
        self.structure_version += 1
        return first

    def remove(self, node_id: str) -> tuple[int, int | None]:
        """Remove ``node_id``; return ``(row it had, handle of the node moved into that row or None)``."""
        s = self._store
        row = self.row(node_id)
        m = s.swap_remove(row)
        del self._models[node_id]
        self.structure_version += 1
        return row, None if m is None else m.ident

    def replace(self, node: Node, field: str) -> None:
        """Replace the model of ``node.id`` by ``node``, whose ``field`` changed, and update its mirror."""
        row = self.row(node.id)
        self._models[node.id] = node
        encode = MIRRORED.get(field)
        if encode is not None:
            self._store.cols[field][row] = encode(getattr(node, field))

    def move(self, node_ids: Iterable[str], rows: np.ndarray, spherical: np.ndarray) -> None:
        """Put the nodes ``node_ids`` (in ``rows``) at the canonical ``(theta, phi, r)`` rows of ``spherical``."""
        c = self._store.cols
        c["sph"][rows] = spherical
        c["xyz"][rows] = to_cartesian(spherical)
        models = self._models
        for nid, (t, p, r) in zip(node_ids, spherical.tolist(), strict=True):
            models[nid] = models[nid].model_copy(update={"theta": t, "phi": p, "r": r})

    def load(self, nodes: list[Node], columns: dict[str, np.ndarray]) -> None:
        """Fill an empty table with ``nodes`` in row order and their matching, already validated columns.

        ``columns`` holds ``sph``, ``kind``, ``layer``, ``status``, ``created``,
        ``updated``, ``activation``, ``attention`` and ``flags``; handles are
        the rows.
        """
        s = self._store
        if s.n or s.next_handle:
            raise ValueError("load() needs an empty node table")
        n = len(nodes)
        s.reserve(n + 1)
        c = s.cols
        ids = [node.id for node in nodes]
        c["ids"][:n] = ids
        c["handle"][:n] = np.arange(n)
        c["xyz"][:n] = to_cartesian(columns["sph"]) if n else np.zeros((0, 3))
        for name in ("sph", "kind", "layer", "status", "created", "updated", "activation", "attention", "flags"):
            c[name][:n] = columns[name]
        s.n = n
        s.row_of = dict(zip(ids, range(n), strict=True))
        s.next_handle = n
        s.row_of_handle = np.arange(max(n, 1), dtype=np.int64)
        if n == 0:
            s.row_of_handle[:] = -1
        self._models = dict(zip(ids, nodes, strict=True))
        self.structure_version += 1
