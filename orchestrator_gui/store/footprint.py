"""Which parts of the graph a transaction writes, and whether two transactions commute.

A fleet's machines commit concurrently. When a transaction reaches the
shared journal after others that its machine had not seen yet, it is
committed after them *unchanged* if its edits commute with all of theirs:
applied in either order, the two give the same graph, and every recorded
"before" value (an ``UpdateNode``'s ``old``, a ``MoveNode``'s ``old``, a
``RemoveNode``'s node and edges) still holds. That is the rebase. Otherwise
it is refused as a conflict.

Two transactions commute here when they touch disjoint parts:

* a node added or removed (``nodes``) may not be touched at all by the other
  (no field, no position, no incident edge, no add/remove);
* a node field (``fields``, positions are the field ``position``) may not be
  written by both;
* an edge (``edges``, by ``(src, dst, type)``) may not be written by both, and
  its ends must not be added or removed by the other (``reads``).

This is deliberately coarse (two edits that set a field to the same value
still conflict): a conflict is reported, never guessed away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator_gui.model.transactions import (
    AddEdge,
    AddNode,
    MoveNode,
    RemoveEdge,
    RemoveNode,
    Transaction,
    UpdateNode,
)


@dataclass
class Footprint:
    """What one transaction writes (and which nodes it needs to keep existing).

    Attributes
    ----------
    nodes : set of str
        Nodes added or removed.
    fields : set of (str, str)
        ``(node id, field)`` written; positions as ``"position"``.
    edges : set of (str, str, str)
        Edges added or removed.
    reads : set of str
        Nodes that must exist unchanged in identity (ends of written edges, updated or moved nodes).
    """

    nodes: set[str] = field(default_factory=set)
    fields: set[tuple[str, str]] = field(default_factory=set)
    edges: set[tuple[str, str, str]] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)

    def _edge(self, key: tuple[str, str, str]) -> None:
        self.edges.add(key)
        self.reads.update(key[:2])


def footprint(tx: Transaction) -> Footprint:
    """The :class:`Footprint` of ``tx`` (resolved or not).

    Parameters
    ----------
    tx : Transaction

    Returns
    -------
    Footprint
    """
    fp = Footprint()
    for e in tx.edits:
        if isinstance(e, AddNode):
            fp.nodes.add(e.node.id)
            for rec in e.edges:
                fp._edge(rec.edge.key)
        elif isinstance(e, RemoveNode):
            fp.nodes.add(e.node_id)
            for rec in e.edges or ():
                fp._edge(rec.edge.key)
        elif isinstance(e, UpdateNode):
            fp.fields.add((e.node_id, e.field))
            fp.reads.add(e.node_id)
        elif isinstance(e, MoveNode):
            fp.fields.update((i, "position") for i in e.node_ids)
            fp.reads.update(e.node_ids)
        elif isinstance(e, AddEdge):
            fp._edge(e.edge.key)
        elif isinstance(e, RemoveEdge):
            fp._edge((e.src, e.dst, e.type.value))
    return fp


def clash(a: Footprint, b: Footprint) -> str | None:
    """Why two footprints do not commute, in words (``None`` when they do).

    Parameters
    ----------
    a, b : Footprint

    Returns
    -------
    str or None
        The first overlap found, e.g. ``"field 'title' of node 'n1'"``.
    """
    for x, y in ((a, b), (b, a)):
        touched = x.nodes & (y.nodes | y.reads | {n for n, _ in y.fields})
        if touched:
            return f"node {sorted(touched)[0]!r} (added or removed)"
    both = a.fields & b.fields
    if both:
        node, name = sorted(both)[0]
        return f"field {name!r} of node {node!r}"
    edges = a.edges & b.edges
    if edges:
        src, dst, kind = sorted(edges)[0]
        return f"edge {src!r} -> {dst!r} ({kind})"
    return None


__all__ = ["Footprint", "clash", "footprint"]
