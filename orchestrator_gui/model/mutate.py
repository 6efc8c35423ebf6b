"""The six primitive edits, applied to a node table and an edge table.

Each primitive validates everything first and changes the tables only
afterwards, so it either happens completely or not at all;
:meth:`ThoughtGraph.apply` builds transaction atomicity on that.  Each
returns the *resolved* edit (see :mod:`orchestrator_gui.model.transactions`).
Only ``ThoughtGraph.apply`` and its rollback call :func:`apply_edit`, always
through this module's namespace so that tests can inject failures there.

The tables keep themselves consistent (a node's model and mirrors, an edge's
columns and incidence); this module keeps them consistent with each other --
edges follow a node that changed row, a node is removed only after its
edges -- and records the events of each change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator_gui.model.coords import check_spherical
from orchestrator_gui.model.edge_table import EdgeTable
from orchestrator_gui.model.errors import DuplicateError, EdgeNotFound, StaleEditError
from orchestrator_gui.model.events import EventBatcher
from orchestrator_gui.model.node_table import NodeTable
from orchestrator_gui.model.nodes import Edge, Node, NodeFlag
from orchestrator_gui.model.transactions import (
    AddEdge,
    AddNode,
    EdgeRecord,
    MoveNode,
    RemoveEdge,
    RemoveNode,
    UpdateNode,
)


@dataclass(frozen=True)
class EditContext:
    """What the primitives change: a node table, its edge table, and the batcher recording the changes.

    Attributes
    ----------
    nodes : NodeTable
    edges : EdgeTable
        Made for ``nodes``.
    batcher : EventBatcher
        Receives one record per change (emitted by the graph after commit).
    """

    nodes: NodeTable
    edges: EdgeTable
    batcher: EventBatcher


def apply_edit(t: EditContext, edit: Any) -> Any:
    """Apply one primitive edit to ``t`` and return it resolved."""
    handler = _HANDLERS.get(type(edit))
    if handler is None:
        raise TypeError(f"not a primitive edit: {type(edit).__name__}")
    return handler(t, edit)


# -- helpers ---------------------------------------------------------------------------
def _insert_edge(t: EditContext, edge: Edge, key: int, row_hint: int | None) -> int:
    """Add an (already validated) edge; return its row."""
    row = t.edges.insert(edge, key, row_hint)
    t.batcher.record("edge_added", edge.key)
    return row


def _delete_edge(t: EditContext, key: int) -> tuple[Edge, int]:
    """Remove an existing edge; return it and the row it had."""
    edge, row = t.edges.remove(key)
    t.batcher.record("edge_removed", edge.key)
    return edge, row


def _edge_key(t: EditContext, edge: Edge, *, create: bool) -> int:
    """Packed key of ``edge``; checks that both ends exist and that the edge does (not) exist."""
    key = t.edges.key_of(edge)
    exists = key in t.edges
    if create and exists:
        raise DuplicateError(f"edge {edge.src!r} -[{edge.type.value}]-> {edge.dst!r} exists already")
    if not create and not exists:
        raise EdgeNotFound(f"no edge {edge.src!r} -[{edge.type.value}]-> {edge.dst!r}")
    return key


def _drop_node(t: EditContext, node_id: str) -> int:
    """Remove a node that has no edges left; return the row it had."""
    row, moved = t.nodes.remove(node_id)
    if moved is not None:
        t.edges.follow_node(moved)
    return row


# -- the six primitives -----------------------------------------------------------------
def _add_node(t: EditContext, e: AddNode) -> AddNode:
    nodes, edges = t.nodes, t.edges
    node = e.node
    if node.id in nodes:
        raise DuplicateError(f"node {node.id!r} exists already")
    # Validate the edges to restore before touching anything.
    seen: set[tuple[str, str, str]] = set()
    for rec in e.edges:
        ed = rec.edge
        other = ed.dst if ed.src == node.id else ed.src if ed.dst == node.id else None
        if other is None:
            raise ValueError(f"edge {ed.key} restored with node {node.id!r} does not touch it")
        nodes.row(other)
        if ed.key in seen:
            raise DuplicateError(f"edge {ed.key} exists already")
        seen.add(ed.key)
    row, moved = nodes.insert(node, e.state, e.row)
    if moved is not None:
        edges.follow_node(moved)
    t.batcher.record("node_added", node.id)
    if e.state.flags & NodeFlag.SELECTED:
        t.batcher.record("selection")
    restored: list[EdgeRecord] = []
    try:
        for rec in e.edges:
            ed = rec.edge
            restored.append(EdgeRecord(edge=ed, row=_insert_edge(t, ed, edges.key_of(ed), rec.row)))
    except BaseException:
        # Keep the primitive atomic: take back the edges and the node, in reverse order.
        for rec in reversed(restored):
            _delete_edge(t, _edge_key(t, rec.edge, create=False))
        _drop_node(t, node.id)
        raise
    return AddNode(node=node, row=row, state=e.state, edges=tuple(restored))


def is_plain_add(edit: Any) -> bool:
    """An ``AddNode`` with no row to restore and no edges: one that :func:`add_plain_nodes` can take."""
    return type(edit) is AddNode and edit.row is None and not edit.edges


def add_plain_nodes(t: EditContext, edits: list[AddNode]) -> list[AddNode]:
    """Apply a run of plain ``AddNode`` edits (see :func:`is_plain_add`) at once; return them resolved.

    The same outcome as applying them one by one -- rows appended in order,
    one ``node_added`` record each -- but the columns are written as arrays.
    All or nothing: a duplicate id (in the graph or within the run) raises
    before anything changes.
    """
    nodes = [e.node for e in edits]
    first = t.nodes.insert_many(nodes, [e.state for e in edits])
    record = t.batcher.record
    selection = False
    for e in edits:
        record("node_added", e.node.id)
        selection = selection or bool(e.state.flags & NodeFlag.SELECTED)
    if selection:
        record("selection")
    # model_construct: the node and state were validated when the edits were made; only the row is new.
    return [AddNode.model_construct(op="add_node", node=e.node, row=first + k, state=e.state, edges=())
            for k, e in enumerate(edits)]


def _remove_node(t: EditContext, e: RemoveNode) -> RemoveNode:
    nodes, edges = t.nodes, t.edges
    row = nodes.row(e.node_id)
    node = nodes.node(e.node_id)
    if e.node is not None and e.node != node:
        raise StaleEditError(f"node {e.node_id!r} differs from the one recorded for its removal")
    out_k, in_k = edges.incident(nodes.handle(e.node_id))
    keys = out_k.tolist() + in_k.tolist()
    if e.edges is not None:
        current = {k: edges.edge(k) for k in keys}
        wanted = {rec.edge.key: rec.edge for rec in e.edges}
        if wanted != {ed.key: ed for ed in current.values()}:
            raise StaleEditError(f"edges of {e.node_id!r} differ from those recorded for its removal")
        by_ident = {ed.key: k for k, ed in current.items()}
        order = [by_ident[rec.edge.key] for rec in e.edges]
    else:
        # Highest rows first: each swap-remove then moves as little as possible.
        order = [k for _, k in sorted(zip(edges.rows_of_keys(keys), keys, strict=True), reverse=True)]
    state = nodes.state(row)
    removed: list[EdgeRecord] = []
    try:
        for k in order:
            edge, erow = _delete_edge(t, k)
            removed.append(EdgeRecord(edge=edge, row=erow))
    except BaseException:
        # Keep the primitive atomic: put the edges back where they were, in reverse order.
        for rec in reversed(removed):
            _insert_edge(t, rec.edge, _edge_key(t, rec.edge, create=True), rec.row)
        raise
    row = _drop_node(t, e.node_id)
    t.batcher.record("node_removed", e.node_id)
    if state.flags & NodeFlag.SELECTED:
        t.batcher.record("selection")
    return RemoveNode(node_id=e.node_id, node=node, row=row, state=state, edges=tuple(removed))


def _update_node(t: EditContext, e: UpdateNode) -> UpdateNode:
    node = t.nodes.node(e.node_id)
    current = node.model_dump(mode="json", include={e.field})[e.field]
    if current != e.old:
        raise StaleEditError(f"{e.node_id!r}.{e.field} is {current!r}, the edit expected {e.old!r}")
    data = node.model_dump()
    data[e.field] = e.new
    new_node = Node.model_validate(data)
    new_value = new_node.model_dump(mode="json", include={e.field})[e.field]
    t.nodes.replace(new_node, e.field)
    t.batcher.record("node_changed", e.node_id, (e.field,))
    return UpdateNode(node_id=e.node_id, field=e.field, old=current, new=new_value)


def _add_edge(t: EditContext, e: AddEdge) -> AddEdge:
    key = _edge_key(t, e.edge, create=True)
    return AddEdge(edge=e.edge, row=_insert_edge(t, e.edge, key, e.row))


def _remove_edge(t: EditContext, e: RemoveEdge) -> RemoveEdge:
    probe = Edge.model_construct(src=e.src, dst=e.dst, type=e.type)
    key = _edge_key(t, probe, create=False)
    current = t.edges.edge(key)
    if e.edge is not None and e.edge != current:
        raise StaleEditError(f"edge {current.key} differs from the one recorded for its removal")
    edge, row = _delete_edge(t, key)
    return RemoveEdge(src=e.src, dst=e.dst, type=e.type, edge=edge, row=row)


def _move_node(t: EditContext, e: MoveNode) -> MoveNode:
    if len(e.new) != len(e.node_ids) or (e.old is not None and len(e.old) != len(e.node_ids)):
        raise ValueError("MoveNode needs one position per node id")
    if len(set(e.node_ids)) != len(e.node_ids):
        raise ValueError("MoveNode lists a node twice")
    rows = t.nodes.rows(e.node_ids)
    old = t.nodes.column("sph")[rows]
    old_t = tuple(tuple(float(v) for v in p) for p in old.tolist())
    if e.old is not None and old_t != tuple(tuple(float(v) for v in p) for p in e.old):
        raise StaleEditError("nodes are not where the move expected them")
    new = np.asarray(e.new, dtype=np.float64).reshape(len(rows), 3)
    for th, ph, r in new.tolist():
        check_spherical(th, ph, r)
    t.nodes.move(e.node_ids, rows, new)
    t.batcher.record("moved", list(e.node_ids))
    return MoveNode(node_ids=e.node_ids, new=tuple(tuple(p) for p in new.tolist()), old=old_t)


_HANDLERS = {
    AddNode: _add_node,
    RemoveNode: _remove_node,
    UpdateNode: _update_node,
    AddEdge: _add_edge,
    RemoveEdge: _remove_edge,
    MoveNode: _move_node,
}
