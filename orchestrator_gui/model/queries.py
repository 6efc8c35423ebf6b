"""Read-only queries over a ThoughtGraph: traversals, paths, subgraphs, search and filters.

Traversals work frontier by frontier on the incidence index
(:mod:`orchestrator_gui.model.adjacency`), so each hop costs a handful of
numpy calls whatever the frontier size.  ``direction`` is ``"out"`` (follow
edges forwards), ``"in"`` (backwards) or ``"both"`` (the default: a thought
graph's edges point in mixed semantic directions, so exploring usually
ignores them).  ``edge_types`` restricts the edges followed.

Functions taking ids return ids; the ``*_rows`` variants take and return row
arrays for callers (renderer, engine) that work on the numpy mirrors.
Within one BFS level nodes come in row order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from orchestrator_gui.model.arrays import key_dst, key_src, key_type
from orchestrator_gui.model.bulk import build
from orchestrator_gui.model.nodes import (
    EDGE_TYPE_INDEX,
    EDGE_TYPES,
    KIND_INDEX,
    LAYER_INDEX,
    STATUS_INDEX,
    EdgeType,
    Layer,
    NodeKind,
    NodeStatus,
)

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

_DIRECTIONS = ("out", "in", "both")


def _type_mask(edge_types: Iterable[EdgeType | str] | None) -> np.ndarray | None:
    if edge_types is None:
        return None
    mask = np.zeros(256, dtype=bool)
    for t in edge_types:
        mask[EDGE_TYPE_INDEX[EdgeType(t).value]] = True
    return mask


def _step(
    g: ThoughtGraph, rows: np.ndarray, direction: str, mask: np.ndarray | None, *, sources: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Neighbour rows of ``rows`` (with repeats) and, aligned, the row each was reached from (if ``sources``)."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
    adj = g.adjacency()
    nodes = g.node_table
    handles = nodes.handles_at(rows)
    nbrs, froms = [], []
    if direction in ("out", "both"):
        k = adj.gather(handles, "out")
        if mask is not None:
            k = k[mask[key_type(k)]]
        nbrs.append(key_dst(k))
        if sources:
            froms.append(key_src(k))
    if direction in ("in", "both"):
        k = adj.gather(handles, "in")
        if mask is not None:
            k = k[mask[key_type(k)]]
        nbrs.append(key_src(k))
        if sources:
            froms.append(key_dst(k))
    rh = nodes.rows_of_handles
    nb = rh(nbrs[0]) if len(nbrs) == 1 else rh(np.concatenate(nbrs))
    if not sources:
        return nb, None
    return nb, rh(froms[0]) if len(froms) == 1 else rh(np.concatenate(froms))


def _new_unique(nb: np.ndarray, visited: np.ndarray) -> np.ndarray:
    """The distinct rows of ``nb`` not yet ``visited``, sorted; marks them visited."""
    nb = nb[~visited[nb]]
    if len(nb) * 32 < len(visited):
        nb = np.unique(nb)
        visited[nb] = True
        return nb
    # Large frontier: scatter into a mask instead of sorting (O(n) but no O(k log k) sort).
    fresh = np.zeros(len(visited), dtype=bool)
    fresh[nb] = True
    visited |= fresh
    return np.flatnonzero(fresh)


def bfs_layers_rows(
    g: ThoughtGraph,
    start: np.ndarray,
    depth: int | None = None,
    *,
    direction: str = "both",
    edge_types: Iterable[EdgeType | str] | None = None,
) -> list[np.ndarray]:
    """Rows at distance 0, 1, ... (up to ``depth`` hops, ``None``: all) from the ``start`` rows."""
    if depth is not None and depth < 0:
        raise ValueError("depth must be >= 0")
    mask = _type_mask(edge_types)
    start = np.unique(np.asarray(start, dtype=np.int64))
    visited = np.zeros(len(g), dtype=bool)
    visited[start] = True
    levels = [start]
    frontier = start
    while len(frontier) and (depth is None or len(levels) <= depth):
        nb, _ = _step(g, frontier, direction, mask, sources=False)
        nb = _new_unique(nb, visited)
        if not len(nb):
            break
        levels.append(nb)
        frontier = nb
    return levels


def neighbourhood_rows(
    g: ThoughtGraph,
    rows: np.ndarray,
    depth: int = 1,
    *,
    direction: str = "both",
    edge_types: Iterable[EdgeType | str] | None = None,
) -> np.ndarray:
    """All rows within ``depth`` hops of ``rows`` (the start rows included)."""
    levels = bfs_layers_rows(g, rows, depth, direction=direction, edge_types=edge_types)
    return np.concatenate(levels) if len(levels) > 1 else levels[0]


def neighbourhood(
    g: ThoughtGraph,
    node_id: str,
    depth: int = 1,
    *,
    direction: str = "both",
    edge_types: Iterable[EdgeType | str] | None = None,
    include_self: bool = True,
) -> list[str]:
    """Ids within ``depth`` hops of ``node_id``, nearest first."""
    rows = neighbourhood_rows(g, np.array([g.row_of(node_id)]), depth, direction=direction, edge_types=edge_types)
    ids = g.node_table.ids_at(rows)
    return ids if include_self else ids[1:]


def bfs(
    g: ThoughtGraph,
    source: str,
    *,
    depth: int | None = None,
    direction: str = "both",
    edge_types: Iterable[EdgeType | str] | None = None,
) -> list[str]:
    """Breadth-first order from ``source`` (level by level)."""
    levels = bfs_layers_rows(g, np.array([g.row_of(source)]), depth, direction=direction, edge_types=edge_types)
    return g.node_table.ids_at(np.concatenate(levels))


def dfs(
    g: ThoughtGraph,
    source: str,
    *,
    direction: str = "both",
    edge_types: Iterable[EdgeType | str] | None = None,
) -> list[str]:
    """Depth-first preorder from ``source``; neighbours are visited in row order."""
    mask = _type_mask(edge_types)
    start = g.row_of(source)
    visited = np.zeros(len(g), dtype=bool)
    order: list[int] = []
    stack = [start]
    while stack:
        r = stack.pop()
        if visited[r]:
            continue
        visited[r] = True
        order.append(r)
        nb, _ = _step(g, np.array([r]), direction, mask, sources=False)
        nb = np.unique(nb[~visited[nb]])
        # Reversed so the lowest row is popped (visited) first.
        stack.extend(nb[::-1].tolist())
    return g.node_table.ids_at(order)


def shortest_path(
    g: ThoughtGraph,
    src: str,
    dst: str,
    *,
    direction: str = "both",
    edge_types: Iterable[EdgeType | str] | None = None,
) -> list[str] | None:
    """Fewest-hops path from ``src`` to ``dst`` as a list of ids, or ``None`` if unreachable."""
    mask = _type_mask(edge_types)
    a, b = g.row_of(src), g.row_of(dst)
    parent = np.full(len(g), -1, dtype=np.int64)
    parent[a] = a
    frontier = np.array([a])
    while len(frontier) and parent[b] < 0:
        nb, frm = _step(g, frontier, direction, mask)
        fresh = parent[nb] < 0
        nb, frm = nb[fresh], frm[fresh]
        nb, first = np.unique(nb, return_index=True)
        parent[nb] = frm[first]
        frontier = nb
    if parent[b] < 0:
        return None
    path = [b]
    while path[-1] != a:
        path.append(int(parent[path[-1]]))
    return g.node_table.ids_at(path[::-1])


def subgraph(g: ThoughtGraph, ids: Iterable[str]) -> ThoughtGraph:
    """A new, independent graph holding ``ids`` (in that order) and the edges among them."""
    ids = list(dict.fromkeys(ids))
    rows = g.rows_of(ids)
    new_row = np.full(len(g), -1, dtype=np.int64)
    new_row[rows] = np.arange(len(rows))
    ea = g.edge_arrays()
    keep = np.flatnonzero((new_row[ea.src] >= 0) & (new_row[ea.dst] >= 0))
    new_edge_row = np.full(len(ea.src), -1, dtype=np.int64)
    new_edge_row[keep] = np.arange(len(keep))
    # Only the few edges with metadata are visited, not every kept edge.
    meta = {
        int(new_edge_row[r]): md for r, md in g.edge_table.metadata_by_row().items() if new_edge_row[r] >= 0
    }
    nodes = g.node_table
    return build(
        nodes.nodes_of(ids),
        **{name: nodes.column(col)[rows] for name, col in (
            ("sph", "sph"), ("kind", "kind"), ("layer", "layer"), ("status", "status"), ("created", "created"),
            ("updated", "updated"), ("activation", "activation"), ("attention", "attention"), ("flags", "flags"),
        )},
        edge_src=new_row[ea.src[keep]],
        edge_dst=new_row[ea.dst[keep]],
        edge_type=ea.type[keep].copy(),
        edge_weight=ea.weight[keep].copy(),
        edge_metadata=meta,
    )


def _codes(values, index: dict[str, int], enum_type) -> np.ndarray | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    return np.array([index[enum_type(v).value] for v in values], dtype=np.int8)


def filter_rows(
    g: ThoughtGraph,
    *,
    kind: NodeKind | str | Iterable[NodeKind | str] | None = None,
    layer: Layer | str | Iterable[Layer | str] | None = None,
    status: NodeStatus | str | Iterable[NodeStatus | str] | None = None,
    tag: str | None = None,
    created_after: float | None = None,
    created_before: float | None = None,
    updated_after: float | None = None,
    updated_before: float | None = None,
) -> np.ndarray:
    """Rows matching every given criterion (see :func:`filter_nodes`)."""
    mask = np.ones(len(g), dtype=bool)
    for values, index, enum_type, column in (
        (kind, KIND_INDEX, NodeKind, g.kind_index),
        (layer, LAYER_INDEX, Layer, g.layer_index),
        (status, STATUS_INDEX, NodeStatus, g.status_index),
    ):
        codes = _codes(values, index, enum_type)
        if codes is not None:
            mask &= np.isin(column, codes)
    for bound, column, lower in (
        (created_after, g.created, True),
        (created_before, g.created, False),
        (updated_after, g.updated, True),
        (updated_before, g.updated, False),
    ):
        if bound is not None:
            mask &= (column >= bound) if lower else (column < bound)
    rows = np.flatnonzero(mask)
    if tag is not None:
        models = g.node_table.nodes_of(g.ids[rows])
        rows = np.array([r for r, node in zip(rows.tolist(), models, strict=True) if tag in node.tags], dtype=np.int64)
    return rows


def filter_nodes(g: ThoughtGraph, **criteria) -> list[str]:
    """Ids (row order) matching every given criterion.

    Keyword arguments: ``kind``, ``layer``, ``status`` (one value or several,
    any of which matches), ``tag`` (exact tag), and the half-open time windows
    ``created_after <= created < created_before`` and likewise for ``updated``.
    """
    return g.node_table.ids_at(filter_rows(g, **criteria))


def search(
    g: ThoughtGraph,
    text: str,
    *,
    kind: NodeKind | str | Iterable[NodeKind | str] | None = None,
    layer: Layer | str | Iterable[Layer | str] | None = None,
    limit: int | None = None,
) -> list[str]:
    """Ids of nodes whose title, content or tags contain every word of ``text`` (case-insensitive).

    Ranked by where the words occur (title 3, tag 2, content 1 point per word),
    then by row.  An empty query matches nothing.
    """
    terms = text.lower().split()
    if not terms:
        return []
    ids = g.ids
    rows = filter_rows(g, kind=kind, layer=layer)
    scored = []
    for r, node in zip(rows.tolist(), g.node_table.nodes_of(ids[rows]), strict=True):
        title, content = node.title.lower(), node.content.lower()
        tags = " ".join(node.tags).lower()
        score = 0
        for t in terms:
            s = 3 * (t in title) + 2 * (t in tags) + (t in content)
            if not s:
                break
            score += s
        else:
            scored.append((-score, r))
    scored.sort()
    hits = [ids[r] for _, r in scored]
    return hits if limit is None else hits[:limit]


def active_region_rows(
    g: ThoughtGraph,
    threshold: float,
    depth: int = 1,
    *,
    direction: str = "both",
    edge_types: Iterable[EdgeType | str] | None = None,
) -> np.ndarray:
    """Rows with activation >= ``threshold`` plus everything within ``depth`` hops of them."""
    seeds = np.flatnonzero(g.activation >= threshold)
    if not len(seeds):
        return seeds
    return np.sort(neighbourhood_rows(g, seeds, depth, direction=direction, edge_types=edge_types))


def active_region(g: ThoughtGraph, threshold: float, depth: int = 1, **kwargs) -> list[str]:
    """Ids (row order) of the active region: see :func:`active_region_rows`."""
    return g.node_table.ids_at(active_region_rows(g, threshold, depth, **kwargs))


def edge_type_name(code: int) -> str:
    """Name of an edge type code from :meth:`ThoughtGraph.edge_arrays`."""
    return EDGE_TYPES[code].value


__all__ = [
    "active_region",
    "active_region_rows",
    "bfs",
    "bfs_layers_rows",
    "dfs",
    "edge_type_name",
    "filter_nodes",
    "filter_rows",
    "neighbourhood",
    "neighbourhood_rows",
    "search",
    "shortest_path",
    "subgraph",
]
