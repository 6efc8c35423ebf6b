"""The basic operations: each builds one :class:`Transaction` against the graph's current state.

Building does not change the graph; commit with ``graph.apply(tx)``::

    tx = operations.add_thought(graph, "Why does the loop stall?", parent="plan-1")
    graph.apply(tx)
    graph.undo()

Building validates the request (unknown ids, bad values) and raises
``ValueError``/``NodeNotFound`` straight away, so a UI can report the problem
before anything is applied.  Every transaction's provenance records the
operation name, its parameters (JSON), the actor and the time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orchestrator_gui.model.coords import check_spherical, wrap_theta
from orchestrator_gui.model.errors import DuplicateError, EdgeNotFound
from orchestrator_gui.model.layout import Placer
from orchestrator_gui.model.nodes import (
    DEFAULT_LAYER,
    EDGE_TYPES,
    SHELL_RADII,
    ContentVersion,
    Edge,
    EdgeType,
    Layer,
    Node,
    NodeKind,
)
from orchestrator_gui.model.transactions import (
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

#: Fields :func:`edit` may change.
EDITABLE_FIELDS = frozenset(
    {"title", "content", "tags", "metadata", "kind", "layer", "status", "score", "confidence", "source",
     "access_count", "last_activated"}
)


def _now(now: float | None) -> float:
    return time.time() if now is None else float(now)


def add_thought(
    graph: ThoughtGraph,
    title: str,
    content: str = "",
    *,
    kind: NodeKind | str = NodeKind.THOUGHT,
    layer: Layer | str | None = None,
    parent: str | None = None,
    tags: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
    node_id: str | None = None,
    actor: str = "user",
    now: float | None = None,
    placer: Placer | None = None,
) -> Transaction:
    """Create a node placed by the layout rules, linked ``parent -[parent]-> node`` if a parent is given.

    Parameters
    ----------
    graph : ThoughtGraph
    title, content : str
    kind : NodeKind or str
        Default ``thought``.
    layer : Layer or str, optional
        Default from ``kind``.
    parent : str, optional
        Id of an existing node.
    tags, metadata : optional
    node_id : str, optional
        Default ``"<kind>-<12 hex digits>"``.
    actor : str
        Recorded in the provenance.
    now : float, optional
        Creation time (Unix seconds); default the current time.
    placer : Placer, optional
        Pass one placer to several calls whose transactions are applied
        together, so their nodes do not take the same spot.
    """
    kind = NodeKind(kind)
    layer = DEFAULT_LAYER[kind] if layer is None else Layer(layer)
    if parent is not None:
        graph.node(parent)
    node_id = node_id or f"{kind.value}-{uuid.uuid4().hex[:12]}"
    if node_id in graph:
        raise DuplicateError(f"node {node_id!r} exists already")
    stamp = _now(now)
    theta, phi, r = (placer or Placer(graph)).place(layer, parent=parent, text=f"{title} {content}")
    node = Node(
        id=node_id, kind=kind, title=title, content=content, tags=tuple(tags), metadata=dict(metadata or {}),
        layer=layer, theta=theta, phi=phi, r=r, created=stamp, updated=stamp,
    )
    edits: list[Any] = [AddNode(node=node)]
    if parent is not None:
        edits.append(AddEdge(edge=Edge(src=parent, dst=node_id, type=EdgeType.PARENT)))
    return Transaction.create(
        "add_thought",
        edits,
        params={"node_id": node_id, "title": title, "kind": kind.value, "layer": layer.value, "parent": parent},
        description=f"Add {kind.value} {title!r}",
        actor=actor,
        now=stamp,
    )


def edit(graph: ThoughtGraph, node_id: str, *, actor: str = "user", now: float | None = None,
         **changes: Any) -> Transaction:
    """Change fields of a node (see :data:`EDITABLE_FIELDS`).

    A change of title or content appends the previous version to the node's
    ``history``; every edit sets ``updated``.  Changing ``layer`` also moves the
    node radially to the new shell (same direction).

    Raises
    ------
    ValueError
        For an unknown field, an invalid value, or when nothing would change.
    """
    node = graph.node(node_id)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"cannot edit {', '.join(sorted(unknown))} (editable: {', '.join(sorted(EDITABLE_FIELDS))})")
    stamp = _now(now)
    proposed = Node.model_validate({**node.model_dump(), **changes})  # validates the new values
    old_json = node.model_dump(mode="json")
    new_json = proposed.model_dump(mode="json")
    fields = [f for f in changes if new_json[f] != old_json[f]]
    if not fields:
        raise ValueError(f"edit of {node_id!r} changes nothing")
    edits: list[Any] = [UpdateNode(node_id=node_id, field=f, old=old_json[f], new=new_json[f]) for f in fields]
    if "title" in fields or "content" in fields:
        previous = ContentVersion(time=node.updated, title=node.title, content=node.content, actor=actor)
        history = [*old_json["history"], previous.model_dump(mode="json")]
        edits.append(UpdateNode(node_id=node_id, field="history", old=old_json["history"], new=history))
    if stamp != node.updated:
        edits.append(UpdateNode(node_id=node_id, field="updated", old=node.updated, new=stamp))
    if "layer" in fields:
        radius = SHELL_RADII[proposed.layer]
        if radius != node.r:
            edits.append(MoveNode(node_ids=(node_id,), new=((node.theta, node.phi, radius),), old=(node.spherical,)))
    return Transaction.create(
        "edit",
        edits,
        params={"node_id": node_id, "changes": {f: new_json[f] for f in fields}},
        description=f"Edit {node.title or node_id!r} ({', '.join(fields)})",
        actor=actor,
        now=stamp,
    )


def move(
    graph: ThoughtGraph,
    positions: Mapping[str, Sequence[float]],
    *,
    actor: str = "user",
    now: float | None = None,
) -> Transaction:
    """Move nodes to ``{id: (theta, phi)}`` or ``{id: (theta, phi, r)}``.

    Theta is wrapped; r defaults to the current one.
    """
    if not positions:
        raise ValueError("nothing to move")
    ids, new, old = [], [], []
    for node_id, pos in positions.items():
        node = graph.node(node_id)
        if len(pos) not in (2, 3):
            raise ValueError(f"position of {node_id!r} must be (theta, phi) or (theta, phi, r)")
        theta = float(wrap_theta(float(pos[0])))
        phi = float(pos[1])
        r = float(pos[2]) if len(pos) == 3 else node.r
        check_spherical(theta, phi, r)
        ids.append(node_id)
        new.append((theta, phi, r))
        old.append(node.spherical)
    what = ids[0] if len(ids) == 1 else f"{len(ids)} nodes"
    return Transaction.create(
        "move",
        [MoveNode(node_ids=tuple(ids), new=tuple(new), old=tuple(old))],
        params={"positions": {i: list(p) for i, p in zip(ids, new, strict=True)}},
        description=f"Move {what}",
        actor=actor,
        now=now,
    )


def link(
    graph: ThoughtGraph,
    src: str,
    dst: str,
    type: EdgeType | str,
    *,
    weight: float = 1.0,
    metadata: Mapping[str, Any] | None = None,
    actor: str = "user",
    now: float | None = None,
) -> Transaction:
    """Add the edge ``src -[type]-> dst``; if it exists with another weight or metadata, replace it.

    Raises
    ------
    ValueError
        If the identical edge exists already (nothing to do) or it would be a self-loop.
    """
    graph.node(src)
    graph.node(dst)
    edge = Edge(src=src, dst=dst, type=EdgeType(type), weight=weight, metadata=dict(metadata or {}))
    edits: list[Any] = []
    if graph.has_edge(src, dst, edge.type):
        if graph.edge(src, dst, edge.type) == edge:
            raise ValueError(f"{src!r} -[{edge.type.value}]-> {dst!r} exists already")
        edits.append(RemoveEdge(src=src, dst=dst, type=edge.type))
    edits.append(AddEdge(edge=edge))
    return Transaction.create(
        "link",
        edits,
        params={"src": src, "dst": dst, "type": edge.type.value, "weight": edge.weight},
        description=f"Link {src} -[{edge.type.value}]-> {dst}",
        actor=actor,
        now=now,
    )


def unlink(
    graph: ThoughtGraph,
    src: str,
    dst: str,
    type: EdgeType | str | None = None,
    *,
    actor: str = "user",
    now: float | None = None,
) -> Transaction:
    """Remove the edge ``src -[type]-> dst``, or every edge from ``src`` to ``dst`` when ``type`` is None."""
    graph.node(src)
    graph.node(dst)
    types = list(EDGE_TYPES) if type is None else [EdgeType(type)]
    present = [t for t in types if graph.has_edge(src, dst, t)]
    if not present:
        kind = "" if type is None else f" of type {EdgeType(type).value}"
        raise EdgeNotFound(f"no edge from {src!r} to {dst!r}{kind}")
    return Transaction.create(
        "unlink",
        [RemoveEdge(src=src, dst=dst, type=t) for t in present],
        params={"src": src, "dst": dst, "type": None if type is None else EdgeType(type).value},
        description=f"Unlink {src} -> {dst}",
        actor=actor,
        now=now,
    )


def delete(graph: ThoughtGraph, node_ids: str | Iterable[str], *, actor: str = "user",
           now: float | None = None) -> Transaction:
    """Remove nodes together with all their edges (undo restores both exactly)."""
    ids = [node_ids] if isinstance(node_ids, str) else list(dict.fromkeys(node_ids))
    if not ids:
        raise ValueError("nothing to delete")
    titles = [graph.node(i).title for i in ids]
    what = repr(titles[0] or ids[0]) if len(ids) == 1 else f"{len(ids)} nodes"
    return Transaction.create(
        "delete",
        [RemoveNode(node_id=i) for i in ids],
        params={"node_ids": ids},
        description=f"Delete {what}",
        actor=actor,
        now=now,
    )
