"""Reading a live graph as plain values: nodes (paged, filtered), a node with its neighbourhood, search, stats.

Also the thought dynamics reports (attention, active nodes, goals) and the
journal's history, as the CLI's ``graph`` commands print them. Every function
reads the graph it is given and returns JSON-ready dicts and lists; call them
on the graph's own thread. Sizes are bounded by the caller's ``limit`` and by
:data:`MAX_LIMIT`, so no answer grows with the graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from orchestrator_gui.formats.nextrun import iso_ms
from orchestrator_gui.model.nodes import EDGE_TYPES, KIND_INDEX, LAYER_INDEX, STATUS_INDEX, Layer, NodeKind, NodeStatus
from orchestrator_gui.model.queries import filter_rows, neighbourhood_rows

#: Most nodes, edges or entries one answer lists.
MAX_LIMIT = 1000
#: Deepest neighbourhood a node's answer walks.
MAX_DEPTH = 3


def _value(v: Any) -> Any:
    return getattr(v, "value", v)


def summary(graph: Any, node_id: str) -> dict[str, Any]:
    """A node in brief.

    Returns
    -------
    dict
        ``{"id", "kind", "layer", "status", "title", "score", "activation", "attention", "file", "line"}``.
    """
    node = graph.node(node_id)
    row = graph.row_of(node_id)
    src = node.source
    return {"id": node.id, "kind": _value(node.kind), "layer": _value(node.layer), "status": _value(node.status),
            "title": node.title, "score": node.score, "activation": float(graph.activation[row]),
            "attention": float(graph.attention[row]), "file": getattr(src, "file", None),
            "line": getattr(src, "line", None)}


def summaries(graph: Any, ids: Iterable[str]) -> list[dict[str, Any]]:
    """:func:`summary` of each of ``ids``."""
    return [summary(graph, i) for i in ids]


def node_detail(graph: Any, node_id: str, *, depth: int = 1, limit: int = 100) -> dict[str, Any]:
    """A node with every field, its dynamic state, its edges and its neighbourhood (``depth`` hops).

    Returns
    -------
    dict
        ``{"node", "state", "edges", "neighbours", "truncated"}``: ``edges``
        are the incident edges (``{"src", "dst", "type", "weight"}``), at most
        ``limit``; ``neighbours`` the nearest ``limit`` other nodes within
        ``depth`` hops, nearest first, in brief; ``truncated`` says whether
        either list was cut.

    Raises
    ------
    NodeNotFound
        No such node.
    ValueError
        ``depth`` outside 0..MAX_DEPTH or ``limit`` outside 1..MAX_LIMIT.
    """
    if not 0 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 0 and {MAX_DEPTH}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    node = graph.node(node_id)
    row = graph.row_of(node_id)
    state = {"activation": float(graph.activation[row]), "attention": float(graph.attention[row]),
             "flags": int(graph.flags[row])}
    edges = []
    truncated = False
    for e in graph.edges_of(node_id):
        if len(edges) >= limit:
            truncated = True
            break
        edges.append({"src": e.src, "dst": e.dst, "type": _value(e.type), "weight": e.weight})
    neighbours: list[dict[str, Any]] = []
    if depth:
        rows = neighbourhood_rows(graph, np.array([row]), depth)
        rows = rows[rows != row]
        truncated = truncated or len(rows) > limit
        neighbours = summaries(graph, graph.ids_of(rows[:limit]))
    return {"node": node.model_dump(mode="json"), "state": state, "edges": edges, "neighbours": neighbours,
            "truncated": truncated}


def nodes_page(graph: Any, *, kind: str | None = None, layer: str | None = None, status: str | None = None,
               offset: int = 0, limit: int = 100) -> dict[str, Any]:
    """Nodes in row order, filtered by kind, layer and status: ``{"total", "offset", "limit", "nodes"}``.

    Raises
    ------
    ValueError
        An unknown kind, layer or status, or ``offset``/``limit`` out of range.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise ValueError("offset must not be negative")
    rows = filter_rows(graph, kind=kind, layer=layer, status=status)
    page = rows[offset: offset + limit]
    return {"total": int(len(rows)), "offset": offset, "limit": limit, "nodes": summaries(graph, graph.ids_of(page))}


def _counts(column: np.ndarray, names: list[str]) -> dict[str, int]:
    counts = np.bincount(np.asarray(column, dtype=np.int64), minlength=len(names)) if len(column) else []
    return dict(sorted((names[k], int(n)) for k, n in enumerate(counts) if n))


def stats(graph: Any, store: Any = None) -> dict[str, Any]:
    """Node and edge counts by kind, layer, status and edge type (as ``graph stats``), and the store's figures."""
    kinds = sorted(KIND_INDEX, key=KIND_INDEX.get)
    layers = sorted(LAYER_INDEX, key=LAYER_INDEX.get)
    statuses = sorted(STATUS_INDEX, key=STATUS_INDEX.get)
    result: dict[str, Any] = {
        "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
        "kinds": _counts(graph.kind_index, kinds), "layers": _counts(graph.layer_index, layers),
        "statuses": _counts(graph.status_index, statuses),
        "edge_types": _counts(graph.edge_arrays().type, [t.value for t in EDGE_TYPES]),
        "revision": int(graph.revision),
    }
    if store is not None:
        result["transactions"] = int(store.last_seq)
        result["store_bytes"] = int(store.stats()["store_bytes"])
    return result


def counts(graph: Any) -> dict[str, Any]:
    """``{"nodes", "edges", "kinds"}``: the summary ``graph build``, ``stats``, ``export`` and ``import`` print."""
    kinds = sorted(KIND_INDEX, key=KIND_INDEX.get)
    return {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
            "kinds": _counts(graph.kind_index, kinds)}


def _check_limit(name: str, value: int | None, cap: int | None) -> None:
    """Refuse ``value`` outside 1..``cap``; ``cap=None`` is a face that prints all it was asked for (the CLI)."""
    if cap is not None and (value is None or not 1 <= value <= cap):
        raise ValueError(f"{name} must be between 1 and {cap}")


def attention(graph: Any, top: int = 20, *, cap: int | None = MAX_LIMIT) -> list[dict[str, Any]]:
    """The ``top`` nodes by attention (as the graph holds it now), best first, in brief.

    ``cap`` bounds ``top`` (``None``: any, for a face that streams what its user asked for).
    """
    from orchestrator_gui.model.attention import top_attention

    _check_limit("top", top, cap)
    return [{**summary(graph, node_id), "attention": value} for node_id, value in top_attention(graph, top)]


def active(graph: Any, result: Any, limit: int = 50, *, cap: int | None = MAX_LIMIT) -> list[dict[str, Any]]:
    """The active nodes of an activation ``result``, most active first, with why (``reasons``)."""
    from orchestrator_gui.model.activation import active_report

    _check_limit("limit", limit, cap)
    return active_report(graph, result, limit)


def goals(graph: Any) -> list[dict[str, Any]]:
    """Every goal with progress, confidence, evidence and open questions (as ``graph goals --json``)."""
    from orchestrator_gui.model.epistemic import goal_report

    out = [info.to_dict() for info in goal_report(graph)]
    for goal in out:
        goal["open_questions"] = [{"id": q, "title": graph.node(q).title} for q in goal["open_questions"]]
    return out


def history(store: Any, limit: int | None = 50, *, cap: int | None = MAX_LIMIT) -> list[dict[str, Any]]:
    """The newest ``limit`` journal entries, oldest first (as ``graph history --json``; ``None``: all, if uncapped)."""
    _check_limit("limit", limit, cap)
    if store is None:
        return []
    return [{**e.to_dict(), "time_iso": iso_ms(int(e.time * 1000))} for e in store.history(limit)]


def check_filters(kind: str | None = None, layer: str | None = None, status: str | None = None) -> None:
    """Raise ``ValueError`` naming the allowed values when a filter value is unknown."""
    for value, enum_type, what in ((kind, NodeKind, "kind"), (layer, Layer, "layer"), (status, NodeStatus, "status")):
        if value is not None and value not in {m.value for m in enum_type}:
            raise ValueError(f"unknown {what} {value[:40]!r} (known: {', '.join(m.value for m in enum_type)})")


__all__ = ["MAX_DEPTH", "MAX_LIMIT", "active", "attention", "check_filters", "counts", "goals", "history",
           "node_detail", "nodes_page", "stats", "summaries", "summary"]
