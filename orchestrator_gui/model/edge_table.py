"""EdgeTable: the edges of one graph -- numpy columns, sparse metadata and the incidence index.

Edges exist only as rows of numpy columns (src/dst node rows, type code,
weight, packed key; an :class:`~orchestrator_gui.model.arrays.EdgeStore`)
plus a metadata dict for the few edges that have any; :class:`Edge` models
are built on demand.  The table also owns the incidence index
(:class:`~orchestrator_gui.model.adjacency.Adjacency`), because every edge
insert or removal must update both together.

An edge is identified by its packed key (source handle, destination handle,
type code), which survives row moves.  The table reads node ids, rows and
handles from the :class:`~orchestrator_gui.model.node_table.NodeTable` it was
made for, through that table's public methods, and is told by
:meth:`EdgeTable.follow_node` when a node changed row.

As with the node table, only the primitive edits
(:mod:`orchestrator_gui.model.mutate`) and bulk loading call the changing
methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import numpy as np

from orchestrator_gui.model.adjacency import Adjacency
from orchestrator_gui.model.arrays import EdgeStore, pack_key
from orchestrator_gui.model.errors import DuplicateError
from orchestrator_gui.model.node_table import NodeTable
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, EDGE_TYPES, Edge, EdgeType


class EdgeTable:
    """Edge columns ``key`` (int64), ``src``/``dst`` node rows (int64), ``type`` (int8), ``weight`` (float64).

    Parameters
    ----------
    nodes : NodeTable
        The nodes the edges join.

    Attributes
    ----------
    structure_version : int
        Incremented whenever an edge is added or removed (and by :meth:`load`).
    """

    def __init__(self, nodes: NodeTable) -> None:
        self._nodes = nodes
        self._store = EdgeStore()
        self._adj = Adjacency()
        self.structure_version = 0

    @property
    def nodes(self) -> NodeTable:
        """The node table the edges refer to."""
        return self._nodes

    # -- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return self._store.m

    def __contains__(self, key: object) -> bool:
        return key in self._store.row_of_key

    def key(self, src: str, dst: str, type: EdgeType | str) -> int | None:
        """Packed key of ``(src, dst, type)``, or ``None`` when an end does not exist."""
        hs, hd = self._nodes.find_handle(src), self._nodes.find_handle(dst)
        if hs is None or hd is None:
            return None
        return pack_key(hs, hd, EDGE_TYPE_INDEX[EdgeType(type).value])

    def has(self, src: str, dst: str, type: EdgeType | str) -> bool:
        """True if the edge ``(src, dst, type)`` exists."""
        key = self.key(src, dst, type)
        return key is not None and key in self._store.row_of_key

    def key_of(self, edge: Edge) -> int:
        """Packed key of ``edge`` (which need not exist); raises :class:`NodeNotFound` for a missing end."""
        nodes = self._nodes
        return pack_key(nodes.handle(edge.src), nodes.handle(edge.dst), EDGE_TYPE_INDEX[edge.type.value])

    def find_row(self, key: int) -> int | None:
        """Row of the edge ``key``, or ``None``."""
        return self._store.row_of_key.get(key)

    def rows_of_keys(self, keys: Iterable[int]) -> list[int]:
        """Rows of existing edge ``keys``, in that order."""
        rok = self._store.row_of_key
        return [rok[k] for k in keys]

    @property
    def row_of_key(self) -> Mapping[int, int]:
        """Read-only ``packed key -> row`` map."""
        return MappingProxyType(self._store.row_of_key)

    @property
    def metadata(self) -> Mapping[int, dict]:
        """Read-only ``packed key -> metadata`` map of the edges that have metadata."""
        return MappingProxyType(self._store.metadata)

    def metadata_by_row(self) -> dict[int, dict]:
        """``{row: copy of metadata}`` for the edges that have metadata, in row order."""
        rok, meta = self._store.row_of_key, self._store.metadata
        return dict(sorted((rok[k], dict(md)) for k, md in meta.items() if md))

    def edge_at(self, row: int) -> Edge:
        """The edge in ``row`` as a model."""
        c = self._store.cols
        ids = self._nodes.column("ids")
        meta = self._store.metadata.get(int(c["key"][row]))
        return Edge.model_construct(
            src=ids[c["src"][row]],
            dst=ids[c["dst"][row]],
            type=EDGE_TYPES[c["type"][row]],
            weight=float(c["weight"][row]),
            metadata=dict(meta) if meta else {},
        )

    def edge(self, key: int) -> Edge:
        """The existing edge ``key`` as a model."""
        return self.edge_at(self._store.row_of_key[key])

    def column(self, name: str) -> np.ndarray:
        """View of column ``name`` over the live rows (do not write); re-fetch after a structural change."""
        return self._store.live(name)

    def incident(self, handle: int) -> tuple[np.ndarray, np.ndarray]:
        """``(out_keys, in_keys)``: packed keys of the edges leaving and entering the node ``handle``."""
        return self._adj.incident(handle)

    def adjacency(self) -> Adjacency:
        """The incidence index, rebuilt first if its overlay of recent changes has grown large."""
        if self._adj.needs_rebuild():
            self._adj.rebuild(self._store.live("key"), self._nodes.handle_space)
        return self._adj

    # -- changing ----------------------------------------------------------------------
    def insert(self, edge: Edge, key: int, row: int | None = None) -> int:
        """Add ``edge`` (validated, with packed ``key``); return its row.

        With ``row`` (the row a removed edge had, when undoing) it goes there
        and the occupant of that row moves to the end.
        """
        nodes, s = self._nodes, self._store
        new = s.append(key, nodes.row(edge.src), nodes.row(edge.dst), EDGE_TYPE_INDEX[edge.type.value], edge.weight)
        if edge.metadata:
            s.metadata[key] = dict(edge.metadata)
        self._adj.add(key)
        if row is not None and row < new:
            s.move_to_row(new, row)
            new = row
        self.structure_version += 1
        return new

    def remove(self, key: int) -> tuple[Edge, int]:
        """Remove the existing edge ``key``; return it and the row it had."""
        s = self._store
        row = s.row_of_key[key]
        edge = self.edge_at(row)
        s.swap_remove(row)
        self._adj.remove(key)
        self.structure_version += 1
        return edge, row

    def follow_node(self, handle: int) -> None:
        """Point the edges of the node ``handle`` at its current row after it moved."""
        row = int(self._nodes.rows_of_handles(handle))
        out_k, in_k = self._adj.incident(handle)
        rok = self._store.row_of_key
        cols = self._store.cols
        for k in out_k.tolist():
            cols["src"][rok[k]] = row
        for k in in_k.tolist():
            cols["dst"][rok[k]] = row

    def load(
        self, src: np.ndarray, dst: np.ndarray, type: np.ndarray, weight: np.ndarray, metadata: dict[int, dict]
    ) -> None:
        """Fill an empty table from columns of node rows, type codes and weights.

        ``metadata`` maps edge rows to their metadata.  Raises ``ValueError``
        for unequal lengths, rows out of range, self-loops or non-finite
        weights and :class:`DuplicateError` for a repeated ``(src, dst, type)``.
        """
        s = self._store
        if s.m:
            raise ValueError("load() needs an empty edge table")
        n, m = len(self._nodes), len(src)
        if m:
            if dst.shape != (m,) or type.shape != (m,) or weight.shape != (m,):
                raise ValueError("edge columns must have equal lengths")
            if src.min() < 0 or dst.min() < 0 or src.max() >= n or dst.max() >= n:
                raise ValueError("edge endpoint row out of range")
            if np.any(src == dst):
                raise ValueError("self-loops are not allowed")
            if not np.all(np.isfinite(weight)):
                raise ValueError("edge weights must be finite")
        handles = self._nodes.column("handle")
        keys = pack_key(handles[src], handles[dst], type) if m else np.zeros(0, np.int64)
        if m and len(np.unique(keys)) != m:
            raise DuplicateError("duplicate (src, dst, type) edges")
        s.reserve(m + 1)
        c = s.cols
        c["key"][:m] = keys
        c["src"][:m] = src
        c["dst"][:m] = dst
        c["type"][:m] = type
        c["weight"][:m] = weight
        s.m = m
        s.row_of_key = dict(zip(keys.tolist(), range(m), strict=True))
        s.metadata = {int(keys[r]): dict(meta) for r, meta in metadata.items() if meta}
        self._adj.rebuild(keys, self._nodes.handle_space)
        self.structure_version += 1
