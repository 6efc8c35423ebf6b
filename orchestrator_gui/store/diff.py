"""Express the difference between two graphs as one transaction of primitive edits.

Used to *restore* an earlier state as a new, undoable transaction (and usable
to import a graph into an open one).  Applying ``diff_to_transaction(a, b)``
to ``a`` makes its content equal to ``b``: the same nodes (every field), the
same edges (type, weight, metadata).  Rows may end up in a different order and
the dynamic values (activation, attention, flags) of nodes present in both
graphs are left alone: they are not content and no transaction carries them.
Nodes that only ``b`` has are added with ``b``'s dynamic values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orchestrator_gui.model.transactions import (
    UPDATABLE_FIELDS,
    AddEdge,
    AddNode,
    MoveNode,
    RemoveEdge,
    RemoveNode,
    Transaction,
    UpdateNode,
)

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph
    from orchestrator_gui.model.nodes import Edge


def _edges_by_key(g: ThoughtGraph) -> dict[tuple[str, str, str], Edge]:
    return {e.key: e for e in g.edges()}


def diff_edits(current: ThoughtGraph, target: ThoughtGraph) -> list[Any]:
    """The primitive edits that turn ``current``'s content into ``target``'s.

    Order: edge removals (between surviving nodes), node removals (taking
    their remaining edges with them), node additions, field updates, one
    move of all repositioned nodes, edge additions.  Each step only relies
    on what the steps before it established, so the list applies cleanly.
    """
    cur_ids = set(current.node_ids())
    tgt_ids = target.node_ids()
    tgt_set = set(tgt_ids)
    cur_edges = _edges_by_key(current)
    tgt_edges = _edges_by_key(target)

    edits: list[Any] = []
    # Edges to drop or to replace (weight/metadata changed) whose ends both survive;
    # a removed node's edges go with its RemoveNode.
    for key, edge in cur_edges.items():
        want = tgt_edges.get(key)
        if want == edge:
            continue
        if edge.src in tgt_set and edge.dst in tgt_set:
            edits.append(RemoveEdge(src=edge.src, dst=edge.dst, type=edge.type))
    for nid in current.node_ids():
        if nid not in tgt_set:
            edits.append(RemoveNode(node_id=nid))
    for nid in tgt_ids:
        if nid not in cur_ids:
            edits.append(AddNode(node=target.node(nid), state=target.state(nid)))

    moved_ids: list[str] = []
    moved_to: list[tuple[float, float, float]] = []
    for nid in tgt_ids:
        if nid not in cur_ids:
            continue
        a, b = current.node(nid), target.node(nid)
        if a == b:
            continue
        da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
        for field in sorted(UPDATABLE_FIELDS):
            if da[field] != db[field]:
                edits.append(UpdateNode(node_id=nid, field=field, old=da[field], new=db[field]))
        if a.spherical != b.spherical:
            moved_ids.append(nid)
            moved_to.append(b.spherical)
    if moved_ids:
        edits.append(MoveNode(node_ids=tuple(moved_ids), new=tuple(moved_to)))

    for key, edge in tgt_edges.items():
        if cur_edges.get(key) != edge:
            edits.append(AddEdge(edge=edge))
    return edits


def diff_to_transaction(
    current: ThoughtGraph,
    target: ThoughtGraph,
    *,
    operation: str = "restore",
    params: dict[str, Any] | None = None,
    description: str | None = None,
    actor: str = "user",
    now: float | None = None,
) -> Transaction:
    """A transaction that, applied to ``current``, makes its content equal to ``target``'s.

    Parameters
    ----------
    current, target : ThoughtGraph
        Neither is changed.
    operation, params, description, actor, now
        Provenance of the transaction (see :meth:`Transaction.create`).

    Returns
    -------
    Transaction
        Unresolved edits; ``graph.apply`` resolves them, so the committed
        transaction has an exact inverse (the restore is undoable).  It has no
        edits when the contents are already equal.
    """
    return Transaction.create(
        operation, diff_edits(current, target), params=params, description=description, actor=actor, now=now
    )


def same_content(a: ThoughtGraph, b: ThoughtGraph) -> bool:
    """True when both graphs hold the same nodes (all fields) and edges, whatever their row order."""
    if a.number_of_nodes() != b.number_of_nodes() or a.number_of_edges() != b.number_of_edges():
        return False
    if any(nid not in b or b.node(nid) != a.node(nid) for nid in a.node_ids()):
        return False
    return _edges_by_key(a) == _edges_by_key(b)
