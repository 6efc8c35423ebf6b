"""Pruning, expansion and compression: shrink what the orchestrator looks at, never lose a node.

Each operation builds one :class:`~orchestrator_gui.model.transactions.Transaction`
(like :mod:`orchestrator_gui.model.operations`): apply it with
``graph.apply(tx)`` or ``store.apply(tx)``, and ``undo`` restores the graph
exactly.  Building never changes the graph and raises ``ValueError`` /
``NodeNotFound`` for a request that makes no sense.

Prune
    Marks a branch (a node and everything below it along ``parent`` edges)
    with ``metadata["pruned"] = {"root": <branch root>, "time": t}`` --
    one ``UpdateNode`` per node.  Nodes already pruned keep their own mark.
    The next activation update (:func:`~orchestrator_gui.model.activation.update_activation`)
    gives pruned nodes zero activation and the ``SUPPRESSED`` flag (flags are
    view state, not content, so they follow the marks instead of being
    journaled).  :func:`cold_branches` finds the branches whose every node has
    less attention than a threshold.
Expand
    On a pruned node: removes the marks of every node pruned together with it
    (same ``root``), so ``prune`` then ``expand`` gives back the identical
    graph.  On a summary node: undoes the compression (removes the summary
    with its edges).
Compress
    Folds a subtree into one ``summary`` node: the summary (content: an
    outline of the folded titles; metadata ``{"summary_of": root, "members": k}``),
    a ``summary -[derived_from]-> member`` edge per folded node and a
    ``parent`` edge from each parent of the root.  The folded nodes stay in
    the graph untouched -- so file-backed nodes stay in step with their files
    and progress still counts them -- but they are *folded*: the activation
    update suppresses them and views hide them (:func:`folded_mask`).
    Expanding the summary removes exactly what compress added.

Public API
----------
``PRUNED_KEY``, ``SUMMARY_KEY``
``is_pruned(node)``, ``is_summary(node)``
``pruned_mask(graph)``, ``folded_mask(graph)``, ``blocked_mask(graph)`` (per-row bool, cached)
``subtree(graph, node_id) -> list[str]``
``cold_branches(graph, threshold=None, *, scores=None) -> list[str]``
``prune(graph, node_ids, *, actor="user", now=None) -> Transaction``
``prune_cold(graph, threshold=None, *, scores=None, actor="user", now=None) -> Transaction``
``expand(graph, node_id, *, actor="user", now=None) -> Transaction``
``compress(graph, node_id, *, title=None, summary_id=None, actor="user", now=None) -> Transaction``
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator_gui.model.attention import graph_cache
from orchestrator_gui.model.coords import spherical_mean, to_spherical
from orchestrator_gui.model.errors import DuplicateError
from orchestrator_gui.model.nodes import (
    EDGE_TYPE_INDEX,
    KIND_INDEX,
    SHELL_RADII,
    Edge,
    EdgeType,
    Node,
    NodeFlag,
    NodeKind,
)
from orchestrator_gui.model.planning import descendant_rows, goal_rows, parent_edges
from orchestrator_gui.model.queries import bfs_layers_rows
from orchestrator_gui.model.transactions import AddEdge, AddNode, RemoveNode, Transaction, UpdateNode

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: Metadata key of the prune mark: ``{"root": str, "time": float}``.
PRUNED_KEY = "pruned"
#: Metadata key of a compression summary: the id of the folded subtree's root.
SUMMARY_KEY = "summary_of"
_DERIVED = EDGE_TYPE_INDEX[EdgeType.DERIVED_FROM.value]
_SUMMARY = KIND_INDEX[NodeKind.SUMMARY.value]


def _now(now: float | None) -> float:
    return time.time() if now is None else float(now)


def is_pruned(node: Node) -> bool:
    """True when ``node`` carries a prune mark."""
    return isinstance(node.metadata.get(PRUNED_KEY), dict)


def is_summary(node: Node) -> bool:
    """True when ``node`` is a summary made by :func:`compress`."""
    return node.kind == NodeKind.SUMMARY and isinstance(node.metadata.get(SUMMARY_KEY), str)


def _key(graph: ThoughtGraph) -> tuple:
    return (graph.revision, graph.structure_revision, len(graph))


def pruned_mask(graph: ThoughtGraph) -> np.ndarray:
    """Per-row bool: the node carries a prune mark (cached until the graph changes)."""

    def build() -> np.ndarray:
        # One pass over the models, only when the graph changed.
        nodes = list(graph.nodes())
        mask = np.array([PRUNED_KEY in x.metadata for x in nodes], dtype=bool).reshape(len(nodes))
        for r in np.flatnonzero(mask).tolist():
            mask[r] = is_pruned(nodes[r])
        return mask

    return graph_cache(graph, "pruned_mask", _key(graph), build)


def summary_rows(graph: ThoughtGraph) -> np.ndarray:
    """Rows of the summaries made by :func:`compress`."""
    rows = np.flatnonzero(graph.kind_index == _SUMMARY)
    keep = [is_summary(graph.node(i)) for i in graph.ids_of(rows)]
    return rows[np.array(keep, dtype=bool)] if len(rows) else rows


def folded_mask(graph: ThoughtGraph) -> np.ndarray:
    """Per-row bool: the node is folded into a summary (a ``derived_from`` target of one; cached)."""

    def build() -> np.ndarray:
        mask = np.zeros(len(graph), dtype=bool)
        summaries = np.zeros(len(graph), dtype=bool)
        summaries[summary_rows(graph)] = True
        ea = graph.edge_arrays()
        sel = (ea.type == _DERIVED) & summaries[ea.src]
        mask[ea.dst[sel]] = True
        return mask

    return graph_cache(graph, "folded_mask", _key(graph), build)


def blocked_mask(graph: ThoughtGraph) -> np.ndarray:
    """Per-row bool: pruned or folded (what the activation update suppresses)."""
    return pruned_mask(graph) | folded_mask(graph)


def subtree(graph: ThoughtGraph, node_id: str) -> list[str]:
    """``node_id`` and every node below it along ``parent`` edges, in BFS order."""
    return graph.ids_of(descendant_rows(graph, np.array([graph.row_of(node_id)])))


def cold_branches(graph: ThoughtGraph, threshold: float | None = None, *, scores: Any = None) -> list[str]:
    """Roots of the maximal branches in which every node has attention below ``threshold``.

    Parameters
    ----------
    threshold : float, optional
        Attention (PageRank share) below which a node is cold; default
        ``0.5 / N``, half of an even share.
    scores : array_like, optional
        Attention per row; default the graph's attention mirror.

    Goals, ``PINNED`` nodes and nodes with enough attention are hot, and so
    is every ancestor of a hot node.  Nodes already pruned or folded are not
    offered again.  A cold node whose parents are all hot (or that has no
    parent) is the root of a cold branch.

    Raises
    ------
    ValueError
        When no attention has been computed yet (all scores zero).
    """
    n = len(graph)
    att = graph.attention if scores is None else np.asarray(scores, dtype=np.float64)
    if att.shape != (n,):
        raise ValueError(f"scores must have one value per node ({n})")
    if n == 0:
        return []
    if not np.any(att):
        raise ValueError("no attention computed yet: run update_attention first")
    limit = 0.5 / n if threshold is None else float(threshold)
    hot = (att >= limit) | ((graph.flags & np.uint32(NodeFlag.PINNED)) != 0)
    hot[goal_rows(graph)] = True
    levels = bfs_layers_rows(graph, np.flatnonzero(hot), direction="in", edge_types=[EdgeType.PARENT])
    warm = np.zeros(n, dtype=bool)
    for level in levels:
        warm[level] = True
    cold = ~warm & ~blocked_mask(graph)
    par, chi = parent_edges(graph)
    has_cold_parent = np.zeros(n, dtype=bool)
    has_cold_parent[chi[cold[par]]] = True
    return graph.ids_of(np.flatnonzero(cold & ~has_cold_parent))


def _metadata_edit(node: Node, new: dict) -> UpdateNode:
    return UpdateNode(node_id=node.id, field="metadata", old=dict(node.metadata), new=new)


def prune(
    graph: ThoughtGraph, node_ids: str | Iterable[str], *, actor: str = "user", now: float | None = None
) -> Transaction:
    """Mark the branches rooted at ``node_ids`` as pruned (one ``UpdateNode`` of ``metadata`` per node).

    Raises
    ------
    NodeNotFound
        For an unknown id.
    ValueError
        When every node of the branches is pruned already.
    """
    roots = [node_ids] if isinstance(node_ids, str) else list(dict.fromkeys(node_ids))
    if not roots:
        raise ValueError("nothing to prune")
    stamp = _now(now)
    edits: list[UpdateNode] = []
    seen: set[str] = set()
    for root in roots:
        for nid in subtree(graph, root):
            node = graph.node(nid)
            if nid in seen or is_pruned(node):
                continue
            seen.add(nid)
            edits.append(_metadata_edit(node, {**node.metadata, PRUNED_KEY: {"root": root, "time": stamp}}))
    if not edits:
        raise ValueError(f"{', '.join(roots)}: already pruned")
    what = repr(graph.node(roots[0]).title or roots[0]) if len(roots) == 1 else f"{len(roots)} branches"
    return Transaction.create(
        "prune", edits, params={"node_ids": roots, "pruned": len(edits)},
        description=f"Prune {what} ({len(edits)} nodes)", actor=actor, now=stamp,
    )


def prune_cold(
    graph: ThoughtGraph, threshold: float | None = None, *, scores: Any = None, actor: str = "user",
    now: float | None = None,
) -> Transaction:
    """:func:`prune` every branch :func:`cold_branches` finds; ``ValueError`` when there is none."""
    roots = cold_branches(graph, threshold, scores=scores)
    if not roots:
        raise ValueError("no cold branch to prune")
    return prune(graph, roots, actor=actor, now=now)


def expand(graph: ThoughtGraph, node_id: str, *, actor: str = "user", now: float | None = None) -> Transaction:
    """Re-open what :func:`prune` or :func:`compress` closed (see the module docstring).

    Raises
    ------
    ValueError
        When ``node_id`` is neither pruned nor a summary.
    """
    node = graph.node(node_id)
    stamp = _now(now)
    if is_summary(node):
        return Transaction.create(
            "expand", [RemoveNode(node_id=node_id)],
            params={"node_id": node_id, "unfolded": node.metadata.get("members")},
            description=f"Expand {node.title or node_id!r}", actor=actor, now=stamp,
        )
    if not is_pruned(node):
        raise ValueError(f"{node_id!r} is neither pruned nor a summary: nothing to expand")
    root = node.metadata[PRUNED_KEY].get("root")
    start = root if isinstance(root, str) and root in graph else node_id
    edits = []
    for nid in subtree(graph, start):
        other = graph.node(nid)
        mark = other.metadata.get(PRUNED_KEY)
        if isinstance(mark, dict) and mark.get("root") == root:
            edits.append(_metadata_edit(other, {k: v for k, v in other.metadata.items() if k != PRUNED_KEY}))
    return Transaction.create(
        "expand", edits, params={"node_id": node_id, "root": root, "reopened": len(edits)},
        description=f"Expand {graph.node(start).title or start!r} ({len(edits)} nodes)", actor=actor, now=stamp,
    )


def _outline(graph: ThoughtGraph, rows: np.ndarray) -> str:
    """Indented titles of the subtree in depth-first order (children in row order)."""
    members = set(rows.tolist())
    par, chi = parent_edges(graph)
    children: dict[int, list[int]] = {}
    for p, c in zip(par.tolist(), chi.tolist(), strict=True):
        if p in members and c in members:
            children.setdefault(p, []).append(c)
    lines: list[str] = []
    seen: set[int] = set()
    stack = [(int(rows[0]), 0)]
    while stack:
        row, depth = stack.pop()
        if row in seen:
            continue
        seen.add(row)
        node = graph.node(graph.id_of(row))
        mark = "x" if node.status.value == "done" else " "
        lines.append(f"{'  ' * depth}- [{mark}] {node.title or node.id}")
        stack.extend((c, depth + 1) for c in sorted(children.get(row, ()), reverse=True))
    return "\n".join(lines)


def compress(
    graph: ThoughtGraph,
    node_id: str,
    *,
    title: str | None = None,
    summary_id: str | None = None,
    actor: str = "user",
    now: float | None = None,
) -> Transaction:
    """Fold ``node_id`` and its subtree into one new summary node (see the module docstring).

    Raises
    ------
    ValueError
        When the node has no children, or part of the subtree is folded
        already or is a summary (expand that first).
    DuplicateError
        When ``summary_id`` exists.
    """
    root = graph.node(node_id)
    rows = descendant_rows(graph, np.array([graph.row_of(node_id)]))
    if len(rows) < 2:
        raise ValueError(f"{node_id!r} has no children: nothing to fold")
    folded = folded_mask(graph)
    ids = graph.ids_of(rows)
    for row, nid in zip(rows.tolist(), ids, strict=True):
        if folded[row] or is_summary(graph.node(nid)):
            raise ValueError(f"{nid!r} in the subtree of {node_id!r} is already folded or a summary: expand it first")
    sid = summary_id or f"summary-{uuid.uuid4().hex[:12]}"
    if sid in graph:
        raise DuplicateError(f"node {sid!r} exists already")
    stamp = _now(now)
    radius = SHELL_RADII[root.layer]
    try:
        direction = spherical_mean(graph.positions[rows])
    except ValueError:  # directions cancel out: sit where the root is
        direction = graph.positions[rows[0]]
    theta, phi, _ = to_spherical(direction)
    summary = Node(
        id=sid, kind=NodeKind.SUMMARY, title=title or f"{root.title or node_id} (folded, {len(rows)} nodes)",
        content=_outline(graph, rows), metadata={SUMMARY_KEY: node_id, "members": len(rows)},
        layer=root.layer, theta=float(theta), phi=float(phi), r=radius, created=stamp, updated=stamp,
    )
    member_set = set(ids)
    edits: list[Any] = [AddNode(node=summary)]
    edits += [AddEdge(edge=Edge(src=sid, dst=m, type=EdgeType.DERIVED_FROM)) for m in ids]
    parents = [e.src for e in graph.edges_of(node_id, "in") if e.type == EdgeType.PARENT and e.src not in member_set]
    edits += [AddEdge(edge=Edge(src=p, dst=sid, type=EdgeType.PARENT)) for p in parents]
    return Transaction.create(
        "compress", edits, params={"node_id": node_id, "summary_id": sid, "members": len(rows)},
        description=f"Compress {root.title or node_id!r} ({len(rows)} nodes)", actor=actor, now=stamp,
    )
