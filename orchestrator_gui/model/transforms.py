"""The Graph-of-Thoughts transforms: one API for every operation on the thought graph.

``generate``, ``refine``, ``aggregate``, ``score`` and ``keep_best`` live here;
``prune``, ``expand`` and ``compress`` delegate to :mod:`.pruning`, and
``link``, ``unlink``, ``edit``, ``move``, ``delete`` and ``add_thought`` are
those of :mod:`.operations`.  Like the latter, every function *builds* one
:class:`~orchestrator_gui.model.transactions.Transaction` of primitive edits
against the graph's current state and changes nothing; commit it with
``graph.apply(tx)`` or, journaled, ``store.apply(tx)``::

    tx = transforms.generate(store.graph, "TODO.md::item/…", n=3)
    store.apply(tx)                     # all or nothing, journaled, undoable
    transforms.changes(tx)              # {"transaction": …, "created": […], …}

Content comes from a :class:`~orchestrator_gui.model.thinker.Thinker` (the
deterministic :class:`~orchestrator_gui.model.thinker.OfflineThinker` by
default).  The thinker is called while the transaction is built, so its time
is not part of the commit; it is recorded in ``params["cost"]``.

Provenance
----------
Each result node gets ``derived_from`` edges to its inputs (edge metadata
``{"operation", "tx"}``) and ``metadata["provenance"] = {"operation", "tx",
"from", "actor"}``; the transaction's provenance holds the operation, its
parameters and the actor (the thinker's name unless given).

Placement
---------
``generate`` puts the children on a cap of angular radius ``cap`` around the
parent's direction, one shell further out (goal -> navigation -> execution;
execution stays), taking the cap's sunflower slots after those of earlier
children.  ``refine`` (unless ``in_place``) puts the new version on a small cap
around the original, on its shell.  ``aggregate`` puts its result at the
spherical mean of its inputs' directions, on the innermost shell among them.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator_gui.model.coords import cap_points, spherical_mean, to_cartesian, to_spherical
from orchestrator_gui.model.nodes import (
    LAYERS,
    SHELL_RADII,
    Edge,
    EdgeType,
    Layer,
    Node,
    NodeKind,
    NodeStatus,
)
from orchestrator_gui.model.operations import add_thought, delete, edit, link, move, unlink
from orchestrator_gui.model.thinker import (
    OfflineThinker,
    Thinker,
    ThinkerContext,
    ThinkerError,
    ThinkerResult,
    call,
    node_text,
    split_text,
)
from orchestrator_gui.model.transactions import AddEdge, AddNode, Transaction, UpdateNode

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

__all__ = [
    "GENERATE_CAP",
    "REFINE_CAP",
    "add_thought",
    "aggregate",
    "changes",
    "completion",
    "compress",
    "delete",
    "edit",
    "expand",
    "generate",
    "keep_best",
    "link",
    "move",
    "prune",
    "refine",
    "score",
    "unlink",
]

#: Angular radius (radians) of the cap ``generate`` places children on.
GENERATE_CAP = 0.15
#: Angular radius of the cap a refined version is placed on around its original.
REFINE_CAP = 0.05
#: Kinds a derived node keeps from its input; other kinds (file-backed ones) give a ``thought``.
_KEPT_KINDS = frozenset({NodeKind.GOAL, NodeKind.PLAN, NodeKind.TASK, NodeKind.THOUGHT, NodeKind.QUESTION,
                         NodeKind.SUMMARY})


def _now(now: float | None) -> float:
    return time.time() if now is None else float(now)


def _thinker(thinker: Thinker | None) -> Thinker:
    return OfflineThinker() if thinker is None else thinker


def _actor(actor: str | None, thinker: Thinker) -> str:
    return actor if actor is not None else str(getattr(thinker, "name", type(thinker).__name__))


def _texts(result: ThinkerResult[Any], what: str) -> list[str]:
    value = result.value
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(t, str) for t in value):
        raise ThinkerError(f"thinker {result.thinker!r} returned {type(value).__name__} from {what}, not a list of str")
    return list(value)


def _unique_ids(node_ids: str | Iterable[str]) -> list[str]:
    return [node_ids] if isinstance(node_ids, str) else list(dict.fromkeys(node_ids))


def _direction(node: Node) -> np.ndarray:
    return to_cartesian((node.theta, node.phi, 1.0))


def _on_shell(direction: np.ndarray, layer: Layer) -> tuple[float, float, float]:
    theta, phi, _ = to_spherical(np.asarray(direction, dtype=np.float64))
    return float(theta), float(phi), SHELL_RADII[layer]


def _outer(layer: Layer) -> Layer:
    i = LAYERS.index(layer)
    return LAYERS[min(i + 1, len(LAYERS) - 1)]


def _neighbours(graph: ThoughtGraph, node_id: str, edge_type: EdgeType, direction: str) -> list[str]:
    """Ids at the other end of ``node_id``'s edges of one type (``direction`` "out" or "in")."""
    edges = graph.edges_of(node_id, direction)
    return [(e.dst if direction == "out" else e.src) for e in edges if e.type == edge_type]


def _provenance(operation: str, tx_id: str, inputs: list[str], actor: str) -> dict[str, Any]:
    return {"provenance": {"operation": operation, "tx": tx_id, "from": inputs, "actor": actor}}


def _derived_edge(result: str, source: str, operation: str, tx_id: str) -> AddEdge:
    return AddEdge(edge=Edge(src=result, dst=source, type=EdgeType.DERIVED_FROM,
                             metadata={"operation": operation, "tx": tx_id}))


def _new_node(kind: NodeKind, text: str, layer: Layer, position: tuple[float, float, float], stamp: float,
              metadata: dict[str, Any]) -> Node:
    title, content = split_text(text)
    if not title:
        raise ThinkerError("the thinker returned an empty text")
    theta, phi, r = position
    return Node(id=f"{kind.value}-{uuid.uuid4().hex[:12]}", kind=kind, title=title, content=content, layer=layer,
                theta=theta, phi=phi, r=r, created=stamp, updated=stamp, metadata=metadata)


# -- generate ----------------------------------------------------------------------------------
def generate(graph: ThoughtGraph, node_id: str, n: int = 3, *, thinker: Thinker | None = None,
             actor: str | None = None, now: float | None = None, cap: float = GENERATE_CAP) -> Transaction:
    """Up to ``n`` children of ``node_id`` from the thinker, in one transaction.

    Each child is a ``question`` node when its text ends with ``?``, a
    ``thought`` otherwise, linked ``parent -[parent]-> child`` and
    ``child -[derived_from]-> parent``, on a cap of radius ``cap`` around the
    parent one shell further out.  The parent's current children are passed
    to the thinker as ``context.existing`` so it does not repeat them.

    Raises
    ------
    NodeNotFound
        Unknown ``node_id``.
    ThinkerError
        The thinker had nothing new, or returned something that is not a list
        of at most ``n`` non-empty texts.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if not 0.0 < cap <= math.pi:
        raise ValueError("cap must lie in (0, pi]")
    thinker = _thinker(thinker)
    actor = _actor(actor, thinker)
    parent = graph.node(node_id)
    stamp = _now(now)
    children = _neighbours(graph, node_id, EdgeType.PARENT, "out")
    existing = tuple(node_text(c.title, c.content) for c in map(graph.node, children))
    ctx = ThinkerContext(node_ids=(node_id,), existing=existing, now=stamp)
    result = call(thinker, "generate", node_text(parent.title, parent.content), ctx, n)
    texts = _texts(result, "generate")
    if not texts:
        raise ThinkerError(f"thinker {result.thinker!r} has nothing new to generate from {node_id!r}")
    if len(texts) > n:
        raise ThinkerError(f"thinker {result.thinker!r} returned {len(texts)} texts, more than n={n}")
    tx_id = uuid.uuid4().hex
    layer = _outer(parent.layer)
    slots = cap_points(_direction(parent), len(children) + len(texts), cap)[len(children):]
    meta = _provenance("generate", tx_id, [node_id], actor)
    edits: list[Any] = []
    created = []
    for text, direction in zip(texts, slots, strict=True):
        kind = NodeKind.QUESTION if text.rstrip().endswith("?") else NodeKind.THOUGHT
        child = _new_node(kind, text, layer, _on_shell(direction, layer), stamp, meta)
        created.append(child.id)
        edits += [AddNode(node=child), AddEdge(edge=Edge(src=node_id, dst=child.id, type=EdgeType.PARENT)),
                  _derived_edge(child.id, node_id, "generate", tx_id)]
    return Transaction.create(
        "generate", edits, tx_id=tx_id, actor=actor, now=stamp,
        params={"node_id": node_id, "n": n, "created": created, "cost": result.cost()},
        description=f"Generate {len(created)} from {parent.title or node_id!r}",
    )


# -- refine ------------------------------------------------------------------------------------
def refine(graph: ThoughtGraph, node_id: str, feedback: str, *, thinker: Thinker | None = None,
           in_place: bool = False, actor: str | None = None, now: float | None = None) -> Transaction:
    """Apply ``feedback`` to a thought through the thinker.

    By default the refined text becomes a new node next to the original (same
    layer; same kind unless that is a file-backed kind, then ``thought``),
    linked ``new -[derived_from]-> original``, so the original -- which may
    mirror a workspace file -- stays as it is.  ``in_place=True`` edits the
    node itself instead (title/content, with the old version kept in its
    ``history``, like :func:`~orchestrator_gui.model.operations.edit`).

    Raises
    ------
    ThinkerError
        The feedback cannot be applied, or changes nothing.
    """
    thinker = _thinker(thinker)
    actor = _actor(actor, thinker)
    node = graph.node(node_id)
    stamp = _now(now)
    ctx = ThinkerContext(node_ids=(node_id,), now=stamp)
    result = call(thinker, "refine", node_text(node.title, node.content), feedback, ctx)
    if not isinstance(result.value, str):
        raise ThinkerError(f"thinker {result.thinker!r} returned {type(result.value).__name__} from refine, not str")
    title, content = split_text(result.value)
    if not title:
        raise ThinkerError("the refined text is empty")
    if (title, content) == (node.title, node.content):
        raise ThinkerError(f"the feedback changes nothing in {node_id!r}")
    params = {"node_id": node_id, "feedback": feedback, "in_place": in_place, "cost": result.cost()}
    if in_place:
        changed = {k: v for k, v in (("title", title), ("content", content)) if v != getattr(node, k)}
        tx = edit(graph, node_id, actor=actor, now=stamp, **changed)
        return Transaction.create("refine", tx.edits, params={**params, "created": []}, actor=actor, now=stamp,
                                  description=f"Refine {node.title or node_id!r} in place")
    tx_id = uuid.uuid4().hex
    earlier = len(_neighbours(graph, node_id, EdgeType.DERIVED_FROM, "in"))
    direction = cap_points(_direction(node), earlier + 1, REFINE_CAP)[earlier]
    kind = node.kind if node.kind in _KEPT_KINDS else NodeKind.THOUGHT
    new = _new_node(kind, result.value, node.layer, _on_shell(direction, node.layer), stamp,
                    _provenance("refine", tx_id, [node_id], actor))
    edits = [AddNode(node=new), _derived_edge(new.id, node_id, "refine", tx_id)]
    return Transaction.create("refine", edits, tx_id=tx_id, actor=actor, now=stamp,
                              params={**params, "created": [new.id]},
                              description=f"Refine {node.title or node_id!r}")


# -- aggregate ---------------------------------------------------------------------------------
def aggregate(graph: ThoughtGraph, node_ids: Iterable[str], *, thinker: Thinker | None = None,
              actor: str | None = None, now: float | None = None) -> Transaction:
    """Merge two or more thoughts into a new one at the spherical mean of their directions.

    The result is a ``thought`` on the innermost shell among the inputs, with a
    ``derived_from`` edge to each input.

    Raises
    ------
    ValueError
        Fewer than two distinct inputs, or inputs whose directions cancel out
        (no spherical mean exists).
    """
    ids = _unique_ids(node_ids)
    if len(ids) < 2:
        raise ValueError("aggregate needs at least two distinct nodes")
    thinker = _thinker(thinker)
    actor = _actor(actor, thinker)
    nodes = [graph.node(i) for i in ids]
    stamp = _now(now)
    mean = spherical_mean(np.array([_direction(nd) for nd in nodes]))
    layer = min((nd.layer for nd in nodes), key=LAYERS.index)
    ctx = ThinkerContext(node_ids=tuple(ids), now=stamp)
    result = call(thinker, "aggregate", [node_text(nd.title, nd.content) for nd in nodes], ctx)
    if not isinstance(result.value, str):
        raise ThinkerError(f"thinker {result.thinker!r} returned {type(result.value).__name__} from aggregate")
    tx_id = uuid.uuid4().hex
    new = _new_node(NodeKind.THOUGHT, result.value, layer, _on_shell(mean, layer), stamp,
                    _provenance("aggregate", tx_id, ids, actor))
    edits: list[Any] = [AddNode(node=new)] + [_derived_edge(new.id, i, "aggregate", tx_id) for i in ids]
    return Transaction.create("aggregate", edits, tx_id=tx_id, actor=actor, now=stamp,
                              params={"node_ids": ids, "created": [new.id], "cost": result.cost()},
                              description=f"Aggregate {len(ids)} thoughts into {new.title!r}")


# -- score and keep_best -----------------------------------------------------------------------
def completion(graph: ThoughtGraph, node_ids: Sequence[str]) -> np.ndarray:
    """Completion in ``[0, 1]`` per node: 1 when done, else the share of its ``parent``-children that are done."""
    out = np.zeros(len(node_ids))
    for k, node_id in enumerate(node_ids):
        if graph.node(node_id).status == NodeStatus.DONE:
            out[k] = 1.0
            continue
        children = _neighbours(graph, node_id, EdgeType.PARENT, "out")
        if children:
            out[k] = sum(graph.node(c).status == NodeStatus.DONE for c in children) / len(children)
    return out


def score(graph: ThoughtGraph, node_ids: Iterable[str], *, thinker: Thinker | None = None,
          actor: str | None = None, now: float | None = None, half_life: float | None = None,
          attention_scale: float | None = None) -> Transaction:
    """Write the thinker's score of each node into its ``score`` field.

    The context carries each node's attention, last update and
    :func:`completion`, and the graph's largest attention (``attention_scale``
    when given: the largest attention of the whole graph when ``graph`` is a
    snapshot of the inputs only).  Nodes whose score does not change get no
    edit (the transaction may then be empty).
    """
    ids = _unique_ids(node_ids)
    if not ids:
        raise ValueError("nothing to score")
    thinker = _thinker(thinker)
    actor = _actor(actor, thinker)
    nodes = [graph.node(i) for i in ids]
    stamp = _now(now)
    rows = graph.rows_of(ids)
    att = graph.attention
    extra = {} if half_life is None else {"half_life": float(half_life)}
    ctx = ThinkerContext(node_ids=tuple(ids), now=stamp, attention=att[rows].copy(), updated=graph.updated[rows].copy(),
                         completion=completion(graph, ids),
                         attention_scale=(float(attention_scale) if attention_scale is not None
                                          else float(att.max()) if len(att) else 0.0),
                         **extra)
    result = call(thinker, "score", [node_text(nd.title, nd.content) for nd in nodes], ctx)
    values = result.value
    if not isinstance(values, Sequence | np.ndarray) or len(values) != len(ids):
        raise ThinkerError(f"thinker {result.thinker!r} must return one score per node")
    scores = [float(v) for v in values]
    if not all(math.isfinite(v) for v in scores):
        raise ThinkerError(f"thinker {result.thinker!r} returned a score that is not finite")
    edits = [UpdateNode(node_id=nd.id, field="score", old=nd.score, new=v) for nd, v in zip(nodes, scores, strict=True)
             if v != nd.score]
    return Transaction.create("score", edits, actor=actor, now=stamp,
                              params={"node_ids": ids, "scores": dict(zip(ids, scores, strict=True)),
                                      "cost": result.cost()},
                              description=f"Score {len(ids)} thoughts")


def keep_best(graph: ThoughtGraph, node_ids: Iterable[str], n: int, *, actor: str = "user",
              now: float | None = None) -> Transaction:
    """Keep the ``n`` nodes with the highest ``score`` and prune the others (suppressed, recoverable).

    Ties keep the earlier node in ``node_ids``.  Pruning is
    :func:`orchestrator_gui.model.pruning.prune`, so :func:`expand` brings
    the others back.

    Raises
    ------
    ValueError
        ``n < 1`` or nothing would be pruned (``n >= len(node_ids)``).
    """
    ids = _unique_ids(node_ids)
    if n < 1:
        raise ValueError("n must be at least 1")
    if n >= len(ids):
        raise ValueError(f"keep_best of {len(ids)} nodes with n={n} prunes nothing")
    scores = {i: graph.node(i).score for i in ids}
    ranked = sorted(ids, key=lambda i: -scores[i])  # stable: ties keep input order
    kept, pruned = ranked[:n], [i for i in ids if i not in set(ranked[:n])]
    inner = prune(graph, pruned, actor=actor, now=now)
    return Transaction.create("keep_best", inner.edits, actor=actor, now=inner.provenance.time,
                              params={"node_ids": ids, "n": n, "kept": kept, "pruned": pruned,
                                      "scores": {i: scores[i] for i in ids}},
                              description=f"Keep the best {n} of {len(ids)}")


# -- delegated to pruning.py -----------------------------------------------------------------
def prune(graph: ThoughtGraph, node_ids: str | Iterable[str], **kwargs: Any) -> Transaction:
    """Suppress the branches under ``node_ids``, recoverably; see :func:`orchestrator_gui.model.pruning.prune`."""
    from orchestrator_gui.model import pruning

    return pruning.prune(graph, node_ids, **kwargs)


def expand(graph: ThoughtGraph, node_id: str, **kwargs: Any) -> Transaction:
    """Re-open a pruned branch or a compressed summary; see :func:`orchestrator_gui.model.pruning.expand`."""
    from orchestrator_gui.model import pruning

    return pruning.expand(graph, node_id, **kwargs)


def compress(graph: ThoughtGraph, node_id: str, **kwargs: Any) -> Transaction:
    """Fold a cold subtree into one summary node, reversibly; see :func:`orchestrator_gui.model.pruning.compress`."""
    from orchestrator_gui.model import pruning

    return pruning.compress(graph, node_id, **kwargs)


# -- reporting ---------------------------------------------------------------------------------
def changes(tx: Transaction) -> dict[str, Any]:
    """What a transaction did, for the CLI: ``{"transaction", "created", "changed", "removed"}``.

    ``created``/``removed``: nodes added/removed.  ``changed``: other nodes
    whose fields or position changed or that gained or lost an edge.  Ids in
    order of first appearance.
    """
    created: dict[str, None] = {}
    removed: dict[str, None] = {}
    touched: dict[str, None] = {}
    for e in tx.edits:
        if e.op in ("add_node", "remove_node"):
            (created if e.op == "add_node" else removed)[e.node.id if e.op == "add_node" else e.node_id] = None
            for rec in e.edges or ():  # incident edges re-added by an undo, or removed with the node
                touched.update(dict.fromkeys((rec.edge.src, rec.edge.dst)))
        elif e.op == "update_node":
            touched[e.node_id] = None
        elif e.op == "move_node":
            touched.update(dict.fromkeys(e.node_ids))
        else:
            edge = e.edge if e.op == "add_edge" else e
            touched.update(dict.fromkeys((edge.src, edge.dst)))
    both = created.keys() & removed.keys()  # added and removed again: nothing to report
    return {
        "transaction": tx.id,
        "created": [i for i in created if i not in both],
        "changed": [i for i in touched if i not in created and i not in removed],
        "removed": [i for i in removed if i not in both],
    }
