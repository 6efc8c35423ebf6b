"""The six primitive edits, applied to a graph's internal stores.

Each function validates everything first and mutates only afterwards, so a
primitive either happens completely or not at all; :meth:`ThoughtGraph.apply`
builds transaction atomicity on that.  Each returns the *resolved* edit (see
:mod:`orchestrator_gui.model.transactions`).  Only ``ThoughtGraph.apply`` and
its rollback call into this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator_gui.model.arrays import pack_key
from orchestrator_gui.model.coords import check_spherical, to_cartesian
from orchestrator_gui.model.errors import DuplicateError, EdgeNotFound, NodeNotFound, StaleEditError
from orchestrator_gui.model.nodes import (
    EDGE_TYPE_INDEX,
    KIND_INDEX,
    LAYER_INDEX,
    STATUS_INDEX,
    Edge,
    Node,
    NodeFlag,
    NodeState,
)
from orchestrator_gui.model.transactions import (
    AddEdge,
    AddNode,
    EdgeRecord,
    MoveNode,
    RemoveEdge,
    RemoveNode,
    UpdateNode,
)

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: Node fields mirrored in a numpy column, with the encoder of their value.
_MIRRORED = {
    "kind": ("kind", lambda v: KIND_INDEX[v]),
    "layer": ("layer", lambda v: LAYER_INDEX[v]),
    "status": ("status", lambda v: STATUS_INDEX[v]),
    "created": ("created", float),
    "updated": ("updated", float),
}


def apply_edit(g: ThoughtGraph, edit: Any) -> Any:
    """Apply one primitive edit to ``g`` and return it resolved."""
    handler = _HANDLERS.get(type(edit))
    if handler is None:
        raise TypeError(f"not a primitive edit: {type(edit).__name__}")
    resolved = handler(g, edit)
    g.revision += 1
    return resolved


# -- helpers ---------------------------------------------------------------------------
def _row(g: ThoughtGraph, node_id: str) -> int:
    row = g._ns.row_of.get(node_id)
    if row is None:
        raise NodeNotFound(f"no node {node_id!r}")
    return row


def _handle(g: ThoughtGraph, node_id: str) -> int:
    return int(g._ns.cols["handle"][_row(g, node_id)])


def _write_node(g: ThoughtGraph, row: int, node: Node) -> None:
    c = g._ns.cols
    sph = (node.theta, node.phi, node.r)
    c["sph"][row] = sph
    c["xyz"][row] = to_cartesian(sph)
    c["kind"][row] = KIND_INDEX[node.kind.value]
    c["layer"][row] = LAYER_INDEX[node.layer.value]
    c["status"][row] = STATUS_INDEX[node.status.value]
    c["created"][row] = node.created
    c["updated"][row] = node.updated


def _fix_edge_rows(g: ThoughtGraph, handle: int) -> None:
    """After a node changed row, point its incident edges at the new row."""
    row = int(g._ns.row_of_handle[handle])
    out_k, in_k = g._adj.incident(handle)
    rok = g._es.row_of_key
    cols = g._es.cols
    for k in out_k.tolist():
        cols["src"][rok[k]] = row
    for k in in_k.tolist():
        cols["dst"][rok[k]] = row


def _current_edge(g: ThoughtGraph, key: int) -> Edge:
    return g._edge_at(g._es.row_of_key[key])


def _insert_edge(g: ThoughtGraph, edge: Edge, key: int, row_hint: int | None) -> int:
    """Add an (already validated) edge; return its row."""
    ns, es = g._ns, g._es
    row = es.append(key, ns.row_of[edge.src], ns.row_of[edge.dst], EDGE_TYPE_INDEX[edge.type.value], edge.weight)
    if edge.metadata:
        es.metadata[key] = dict(edge.metadata)
    g._adj.add(key)
    if row_hint is not None and row_hint < row:
        es.move_to_row(row, row_hint)
        row = row_hint
    g.structure_revision += 1
    g._batcher.record("edge_added", edge.key)
    return row


def _delete_edge(g: ThoughtGraph, key: int) -> tuple[Edge, int]:
    """Remove an existing edge; return it and the row it had."""
    es = g._es
    row = es.row_of_key[key]
    edge = g._edge_at(row)
    es.swap_remove(row)
    g._adj.remove(key)
    g.structure_revision += 1
    g._batcher.record("edge_removed", edge.key)
    return edge, row


def _edge_key(g: ThoughtGraph, edge: Edge, *, create: bool) -> int:
    """Packed key of ``edge``; checks that both ends exist."""
    key = pack_key(_handle(g, edge.src), _handle(g, edge.dst), EDGE_TYPE_INDEX[edge.type.value])
    exists = key in g._es.row_of_key
    if create and exists:
        raise DuplicateError(f"edge {edge.src!r} -[{edge.type.value}]-> {edge.dst!r} exists already")
    if not create and not exists:
        raise EdgeNotFound(f"no edge {edge.src!r} -[{edge.type.value}]-> {edge.dst!r}")
    return key


# -- the six primitives -----------------------------------------------------------------
def _add_node(g: ThoughtGraph, e: AddNode) -> AddNode:
    node = e.node
    if node.id in g._nodes:
        raise DuplicateError(f"node {node.id!r} exists already")
    # Validate the edges to restore before touching anything.
    seen: set[tuple[str, str, str]] = set()
    for rec in e.edges:
        ed = rec.edge
        other = ed.dst if ed.src == node.id else ed.src if ed.dst == node.id else None
        if other is None:
            raise ValueError(f"edge {ed.key} restored with node {node.id!r} does not touch it")
        _row(g, other)
        if ed.key in seen or g.has_edge(ed.src, ed.dst, ed.type):
            raise DuplicateError(f"edge {ed.key} exists already")
        seen.add(ed.key)
    ns = g._ns
    row, handle = ns.append_empty(node.id)
    g._nodes[node.id] = node
    _write_node(g, row, node)
    c = ns.cols
    c["activation"][row] = e.state.activation
    c["attention"][row] = e.state.attention
    c["flags"][row] = e.state.flags
    if e.row is not None and e.row < row:
        moved = ns.move_to_row(row, e.row)
        row = e.row
        if moved is not None:
            _fix_edge_rows(g, moved.ident)
    g.structure_revision += 1
    g._batcher.record("node_added", node.id)
    if e.state.flags & NodeFlag.SELECTED:
        g._batcher.record("selection")
    restored: list[EdgeRecord] = []
    try:
        for rec in e.edges:
            ed = rec.edge
            key = pack_key(_handle(g, ed.src), _handle(g, ed.dst), EDGE_TYPE_INDEX[ed.type.value])
            restored.append(EdgeRecord(edge=ed, row=_insert_edge(g, ed, key, rec.row)))
    except BaseException:
        # Keep the primitive atomic: take back the edges and the node, in reverse order.
        for rec in reversed(restored):
            _delete_edge(g, _edge_key(g, rec.edge, create=False))
        _drop_node(g, node.id)
        raise
    return AddNode(node=node, row=row, state=e.state, edges=tuple(restored))


def _drop_node(g: ThoughtGraph, node_id: str) -> int:
    """Remove a node that has no edges left; return the row it had."""
    ns = g._ns
    row = ns.row_of[node_id]
    moved = ns.swap_remove(row)
    if moved is not None:
        _fix_edge_rows(g, moved.ident)
    del g._nodes[node_id]
    g.structure_revision += 1
    return row


def _remove_node(g: ThoughtGraph, e: RemoveNode) -> RemoveNode:
    row = _row(g, e.node_id)
    node = g._nodes[e.node_id]
    if e.node is not None and e.node != node:
        raise StaleEditError(f"node {e.node_id!r} differs from the one recorded for its removal")
    ns = g._ns
    handle = int(ns.cols["handle"][row])
    out_k, in_k = g._adj.incident(handle)
    keys = out_k.tolist() + in_k.tolist()
    rok = g._es.row_of_key
    if e.edges is not None:
        wanted = {rec.edge.key: rec.edge for rec in e.edges}
        current = {_current_edge(g, k).key: _current_edge(g, k) for k in keys}
        if wanted != current:
            raise StaleEditError(f"edges of {e.node_id!r} differ from those recorded for its removal")
        by_ident = {_current_edge(g, k).key: k for k in keys}
        order = [by_ident[rec.edge.key] for rec in e.edges]
    else:
        # Highest rows first: each swap-remove then moves as little as possible.
        order = sorted(keys, key=lambda k: rok[k], reverse=True)
    c = ns.cols
    state = NodeState(activation=float(c["activation"][row]), attention=float(c["attention"][row]), flags=int(c["flags"][row]))
    removed: list[EdgeRecord] = []
    try:
        for k in order:
            edge, erow = _delete_edge(g, k)
            removed.append(EdgeRecord(edge=edge, row=erow))
    except BaseException:
        # Keep the primitive atomic: put the edges back where they were, in reverse order.
        for rec in reversed(removed):
            _insert_edge(g, rec.edge, _edge_key(g, rec.edge, create=True), rec.row)
        raise
    row = _drop_node(g, e.node_id)
    g._batcher.record("node_removed", e.node_id)
    if state.flags & NodeFlag.SELECTED:
        g._batcher.record("selection")
    return RemoveNode(node_id=e.node_id, node=node, row=row, state=state, edges=tuple(removed))


def _update_node(g: ThoughtGraph, e: UpdateNode) -> UpdateNode:
    row = _row(g, e.node_id)
    node = g._nodes[e.node_id]
    current = node.model_dump(mode="json", include={e.field})[e.field]
    if current != e.old:
        raise StaleEditError(f"{e.node_id!r}.{e.field} is {current!r}, the edit expected {e.old!r}")
    data = node.model_dump()
    data[e.field] = e.new
    new_node = Node.model_validate(data)
    new_value = new_node.model_dump(mode="json", include={e.field})[e.field]
    g._nodes[e.node_id] = new_node
    mirror = _MIRRORED.get(e.field)
    if mirror is not None:
        column, encode = mirror
        g._ns.cols[column][row] = encode(getattr(new_node, e.field))
    g._batcher.record("node_changed", e.node_id, (e.field,))
    return UpdateNode(node_id=e.node_id, field=e.field, old=current, new=new_value)


def _add_edge(g: ThoughtGraph, e: AddEdge) -> AddEdge:
    key = _edge_key(g, e.edge, create=True)
    return AddEdge(edge=e.edge, row=_insert_edge(g, e.edge, key, e.row))


def _remove_edge(g: ThoughtGraph, e: RemoveEdge) -> RemoveEdge:
    probe = Edge.model_construct(src=e.src, dst=e.dst, type=e.type)
    key = _edge_key(g, probe, create=False)
    current = _current_edge(g, key)
    if e.edge is not None and e.edge != current:
        raise StaleEditError(f"edge {current.key} differs from the one recorded for its removal")
    edge, row = _delete_edge(g, key)
    return RemoveEdge(src=e.src, dst=e.dst, type=e.type, edge=edge, row=row)


def _move_node(g: ThoughtGraph, e: MoveNode) -> MoveNode:
    if len(e.new) != len(e.node_ids) or (e.old is not None and len(e.old) != len(e.node_ids)):
        raise ValueError("MoveNode needs one position per node id")
    if len(set(e.node_ids)) != len(e.node_ids):
        raise ValueError("MoveNode lists a node twice")
    rows = np.fromiter((_row(g, i) for i in e.node_ids), dtype=np.int64, count=len(e.node_ids))
    sph = g._ns.cols["sph"]
    old = sph[rows].copy()
    old_t = tuple(tuple(float(v) for v in p) for p in old.tolist())
    if e.old is not None and old_t != tuple(tuple(float(v) for v in p) for p in e.old):
        raise StaleEditError("nodes are not where the move expected them")
    new = np.asarray(e.new, dtype=np.float64).reshape(len(rows), 3)
    for t, p, r in new.tolist():
        check_spherical(t, p, r)
    sph[rows] = new
    g._ns.cols["xyz"][rows] = to_cartesian(new)
    nodes = g._nodes
    for nid, (t, p, r) in zip(e.node_ids, new.tolist(), strict=True):
        nodes[nid] = nodes[nid].model_copy(update={"theta": t, "phi": p, "r": r})
    g._batcher.record("moved", list(e.node_ids))
    return MoveNode(node_ids=e.node_ids, new=tuple(tuple(p) for p in new.tolist()), old=old_t)


_HANDLERS = {
    AddNode: _add_node,
    RemoveNode: _remove_node,
    UpdateNode: _update_node,
    AddEdge: _add_edge,
    RemoveEdge: _remove_edge,
    MoveNode: _move_node,
}
