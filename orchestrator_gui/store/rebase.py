"""Replay a journaled transaction onto a graph it was not made on (for ``graph recover``).

A journaled transaction holds *resolved* edits: the rows things occupied and
the "before" values of every change, so that its inverse is exact.  Replayed
onto the graph it was committed on, it applies as it is.  After a recovery
the graph underneath is a fresh build of the workspace files, with other
positions, maybe other content, and without what lost transactions made; an
``UpdateNode`` whose ``old`` value differs, a ``MoveNode`` whose nodes are
elsewhere, an ``AddEdge`` to a node that is gone then make the whole
transaction fail.

:func:`adapt` keeps what the user meant and drops what no longer makes sense:

* ``AddNode``: kept (without its row) unless the node exists already; the
  edges it restored become ``AddEdge`` edits, kept when both ends exist;
* ``RemoveNode``: kept, unresolved (its edges are whatever it has now), if
  the node exists;
* ``UpdateNode``: kept with ``old`` set to the current value, if the node
  exists and the value differs from ``new``;
* ``MoveNode``: the nodes that exist, from wherever they are now;
* ``AddEdge`` / ``RemoveEdge``: kept (unresolved) when the edge is absent /
  present and both ends exist.

The transaction keeps its id and provenance, so undo, redo and the history
still refer to it.  Edits are checked against the graph *as the earlier
edits of the same transaction leave it* (an overlay of their effects), so
"add a node, then link it" survives.
"""

from __future__ import annotations

from typing import Any

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import Edge, Node
from orchestrator_gui.model.transactions import (
    AddEdge,
    AddNode,
    MoveNode,
    RemoveEdge,
    RemoveNode,
    Transaction,
    UpdateNode,
)

_EdgeKey = tuple[str, str, str]


class _Overlay:
    """``graph`` plus the effects of the edits adapted so far (nodes added, removed or changed; edges)."""

    def __init__(self, graph: ThoughtGraph) -> None:
        self.graph = graph
        self.nodes: dict[str, Node | None] = {}  # None: removed by an earlier edit
        self.edges: dict[_EdgeKey, bool] = {}

    def has_node(self, node_id: str) -> bool:
        if node_id in self.nodes:
            return self.nodes[node_id] is not None
        return node_id in self.graph

    def node(self, node_id: str) -> Node:
        found = self.nodes.get(node_id)
        return found if found is not None else self.graph.node(node_id)

    def has_edge(self, key: _EdgeKey) -> bool:
        if not (self.has_node(key[0]) and self.has_node(key[1])):
            return False
        if key in self.edges:
            return self.edges[key]
        # A node removed and added again within the transaction has lost its old edges.
        if key[0] in self.nodes or key[1] in self.nodes:
            return False
        return self.graph.has_edge(*key)


def _value(node: Node, field: str) -> Any:
    return node.model_dump(mode="json", include={field})[field]


def _add_edge(view: _Overlay, edge: Edge, out: list) -> None:
    if edge.src == edge.dst or view.has_edge(edge.key):
        return
    if view.has_node(edge.src) and view.has_node(edge.dst):
        out.append(AddEdge(edge=edge))
        view.edges[edge.key] = True


def _adapt_edit(view: _Overlay, e: Any, out: list) -> None:
    if isinstance(e, AddNode):
        if view.has_node(e.node.id):
            return
        out.append(AddNode(node=e.node, state=e.state))
        view.nodes[e.node.id] = e.node
        for rec in e.edges:
            _add_edge(view, rec.edge, out)
    elif isinstance(e, RemoveNode):
        if view.has_node(e.node_id):
            out.append(RemoveNode(node_id=e.node_id))
            view.nodes[e.node_id] = None
    elif isinstance(e, UpdateNode):
        if not view.has_node(e.node_id):
            return
        node = view.node(e.node_id)
        current = _value(node, e.field)
        if current == e.new:
            return
        edit = UpdateNode(node_id=e.node_id, field=e.field, old=current, new=e.new)
        data = node.model_dump()
        data[e.field] = e.new
        try:
            view.nodes[e.node_id] = Node.model_validate(data)
        except ValueError:
            return  # the new value does not fit this node any more
        out.append(edit)
    elif isinstance(e, MoveNode):
        keep = [(i, p) for i, p in zip(e.node_ids, e.new, strict=True) if view.has_node(i)]
        if keep:
            out.append(MoveNode(node_ids=tuple(i for i, _ in keep), new=tuple(p for _, p in keep)))
    elif isinstance(e, AddEdge):
        _add_edge(view, e.edge, out)
    elif isinstance(e, RemoveEdge):
        key = (e.src, e.dst, e.type.value)
        if view.has_edge(key):
            out.append(RemoveEdge(src=e.src, dst=e.dst, type=e.type))
            view.edges[key] = False


def adapt(tx: Transaction, graph: ThoughtGraph) -> Transaction | None:
    """``tx`` rewritten to apply to ``graph`` as far as its intent still makes sense (see the module docstring).

    Parameters
    ----------
    tx : Transaction
        A committed (resolved) transaction from a journal.
    graph : ThoughtGraph
        Only read.

    Returns
    -------
    Transaction or None
        Same id, description and provenance with the adapted edits; ``None``
        when nothing of it is left to do.
    """
    view = _Overlay(graph)
    out: list = []
    for edit in tx.edits:
        _adapt_edit(view, edit, out)
    return tx.model_copy(update={"edits": tuple(out)}) if out else None
