"""The JSON-able dict, columnar and networkx forms of a graph, and loading the first two into tables.

This module knows :class:`~orchestrator_gui.model.graph.ThoughtGraph` only as
a type: it reads a graph through its public interface and loads a form into
a fresh :class:`~orchestrator_gui.model.node_table.NodeTable` and
:class:`~orchestrator_gui.model.edge_table.EdgeTable`, which the graph (its
``from_dict``/``to_dict``/``to_networkx``) and
:mod:`orchestrator_gui.model.serialize` (files, GraphML, GEXF) build on.

JSON schema (``schema_version`` 1)
----------------------------------
::

    {
      "format": "orchestrator-gui.thought-graph",
      "schema_version": 1,
      "nodes": [                      # in row order
        {
          "id": str, "kind": str, "title": str, "content": str,
          "metadata": {...}, "tags": [str, ...],
          "layer": "goal" | "navigation" | "execution",
          "theta": float, "phi": float, "r": float,
          "created": float, "updated": float,          # Unix seconds
          "access_count": int, "last_activated": float | null,
          "score": float, "confidence": float, "status": str,
          "source": {"file": str, "key": str, "line": int | null} | null,
          "history": [{"time": float, "title": str, "content": str, "actor": str}, ...],
          "state": {"activation": float, "attention": float, "flags": int}
        }, ...
      ],
      "edges": [                      # in edge-row order
        {"src": str, "dst": str, "type": str, "weight": float, "metadata": {...}}, ...
      ]
    }

Enum values are listed in :mod:`orchestrator_gui.model.nodes`.  Because nodes
and edges are written in row order and loaded back in that order,
``graph_from_dict(graph_to_dict(g))`` reproduces ``g`` including every numpy
mirror row for row, and ``graph_to_dict`` of the copy equals the original
dict.  Floats survive JSON exactly (Python writes the shortest repr that
reads back to the same double).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import TypeAdapter

from orchestrator_gui.model.edge_table import EdgeTable
from orchestrator_gui.model.loading import assemble, check_spherical_array
from orchestrator_gui.model.node_table import NodeTable
from orchestrator_gui.model.nodes import (
    EDGE_TYPE_INDEX,
    EDGE_TYPES,
    KIND_INDEX,
    LAYER_INDEX,
    STATUS_INDEX,
    Node,
    check_json,
)

if TYPE_CHECKING:
    import networkx as nx

    from orchestrator_gui.model.graph import ThoughtGraph

FORMAT = "orchestrator-gui.thought-graph"
SCHEMA_VERSION = 1
_NODE_LIST = TypeAdapter(list[Node])
_EDGE_KEYS = frozenset({"src", "dst", "type", "weight", "metadata"})
_STATE_KEYS = frozenset({"activation", "attention", "flags"})


def _node_columns(nodes: list) -> dict[str, np.ndarray]:
    """The mirror columns that follow from the node models themselves (both loaders build them so)."""
    n = len(nodes)
    return {
        "sph": np.array([(nd.theta, nd.phi, nd.r) for nd in nodes], dtype=np.float64).reshape(n, 3),
        "kind": np.array([KIND_INDEX[nd.kind.value] for nd in nodes], dtype=np.int8),
        "layer": np.array([LAYER_INDEX[nd.layer.value] for nd in nodes], dtype=np.int8),
        "status": np.array([STATUS_INDEX[nd.status.value] for nd in nodes], dtype=np.int8),
        "created": np.array([nd.created for nd in nodes], dtype=np.float64),
        "updated": np.array([nd.updated for nd in nodes], dtype=np.float64),
    }


def graph_to_dict(g: ThoughtGraph) -> dict[str, Any]:
    """The JSON-able dict of ``g`` (see the module docstring for the schema)."""
    nodes, edges = g.node_table, g.edge_table
    out = _NODE_LIST.dump_python(list(nodes.iter_nodes()), mode="json")
    for d, a, t, f in zip(out, g.activation.tolist(), g.attention.tolist(), g.flags.tolist(), strict=True):
        d["state"] = {"activation": a, "attention": t, "flags": f}
    ids = nodes.column("ids")
    meta = edges.metadata_by_row()
    ea = g.edge_arrays()
    out_edges = [
        {
            "src": ids[s],
            "dst": ids[d],
            "type": EDGE_TYPES[t].value,
            "weight": w,
            "metadata": meta[r] if r in meta else {},
        }
        for r, (s, d, t, w) in enumerate(
            zip(ea.src.tolist(), ea.dst.tolist(), ea.type.tolist(), ea.weight.tolist(), strict=True)
        )
    ]
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, "nodes": out, "edges": out_edges}


def tables_from_dict(data: dict[str, Any]) -> tuple[NodeTable, EdgeTable]:
    """Load the dict written by :func:`graph_to_dict` into new tables.

    Raises
    ------
    ValueError
        For another format, a newer schema version, or malformed nodes/edges
        (``pydantic.ValidationError`` is a ``ValueError``).
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a thought graph: 'format' must be {FORMAT!r}")
    version = data.get("schema_version")
    if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        raise ValueError(f"unsupported schema_version {version!r} (this version reads 1..{SCHEMA_VERSION})")
    extra = set(data) - {"format", "schema_version", "nodes", "edges"}
    if extra:
        raise ValueError(f"unknown top-level keys: {sorted(extra)}")
    raw_nodes = data.get("nodes", [])
    raw_edges = data.get("edges", [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        raise ValueError("'nodes' and 'edges' must be lists")
    n = len(raw_nodes)
    if not all(type(d) is dict for d in raw_nodes):
        raise ValueError("every node must be an object")
    plain = [{k: v for k, v in d.items() if k != "state"} for d in raw_nodes]
    states = [d.get("state") or {} for d in raw_nodes]
    if not all(type(st) is dict and st.keys() <= _STATE_KEYS for st in states):
        raise ValueError(f"a node 'state' may only be an object with {sorted(_STATE_KEYS)}")
    activation = _numbers([st.get("activation", 0.0) for st in states], "node activation")
    attention = _numbers([st.get("attention", 0.0) for st in states], "node attention")
    raw_flags = [st.get("flags", 0) for st in states]
    if not all(type(f) is int and 0 <= f < 2**32 for f in raw_flags):
        raise ValueError("node flags must be ints in [0, 2**32)")
    flags = np.array(raw_flags, dtype=np.uint32)
    nodes = _NODE_LIST.validate_python(plain)
    ids = [nd.id for nd in nodes]
    row_of = dict(zip(ids, range(n), strict=True))
    if len(row_of) != n:
        raise ValueError("duplicate node ids")
    if not all(type(e) is dict and e.keys() <= _EDGE_KEYS for e in raw_edges):
        raise ValueError("every edge must be an object with src, dst, type and optional weight, metadata")
    try:
        src = np.array([row_of[e["src"]] for e in raw_edges], dtype=np.int64)
        dst = np.array([row_of[e["dst"]] for e in raw_edges], dtype=np.int64)
        etype = np.array([EDGE_TYPE_INDEX[e["type"]] for e in raw_edges], dtype=np.int8)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"an edge has a missing field, an unknown node or an unknown type: {exc}") from None
    weight = _numbers([e.get("weight", 1.0) for e in raw_edges], "edge weight")
    meta: dict[int, dict] = {}
    for j, e in enumerate(raw_edges):
        md = e.get("metadata")
        if md:
            if type(md) is not dict:
                raise ValueError(f"edge {j}: metadata must be an object")
            meta[j] = check_json(md, f"edge {j} metadata")
        elif md is not None and md != {}:
            raise ValueError(f"edge {j}: metadata must be an object")
    return assemble(
        nodes,
        **_node_columns(nodes),
        activation=activation,
        attention=attention,
        flags=flags,
        edge_src=src,
        edge_dst=dst,
        edge_type=etype,
        edge_weight=weight,
        edge_metadata=meta,
    )


def graph_to_columns(g: ThoughtGraph) -> dict[str, Any]:
    """A columnar copy of ``g`` for fast binary snapshots (e.g. ``numpy.savez`` plus JSON for ``nodes``).

    Keys: ``schema_version``; ``nodes`` (node JSON dicts in row order, without
    ``state``); ``activation``, ``attention`` (float64), ``flags`` (uint32);
    ``edge_src``, ``edge_dst`` (int64 node rows), ``edge_type`` (int8 codes of
    :data:`~orchestrator_gui.model.nodes.EDGE_TYPES`), ``edge_weight`` (float64);
    ``edge_metadata`` ({edge row: dict}, only non-empty ones).  Arrays are copies.
    """
    ea = g.edge_arrays()
    return {
        "schema_version": SCHEMA_VERSION,
        "nodes": _NODE_LIST.dump_python(list(g.node_table.iter_nodes()), mode="json"),
        "activation": g.activation.copy(),
        "attention": g.attention.copy(),
        "flags": g.flags.copy(),
        "edge_src": ea.src.copy(),
        "edge_dst": ea.dst.copy(),
        "edge_type": ea.type.copy(),
        "edge_weight": ea.weight.copy(),
        "edge_metadata": g.edge_table.metadata_by_row(),
    }


def tables_from_columns(cols: dict[str, Any]) -> tuple[NodeTable, EdgeTable]:
    """Load the form written by :func:`graph_to_columns` into new tables (row for row).

    Raises
    ------
    ValueError
        For an unsupported schema version or inconsistent columns.
    """
    if cols.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"unsupported schema_version {cols.get('schema_version')!r}")
    nodes = _NODE_LIST.validate_python(list(cols["nodes"]))
    n = len(nodes)
    if len({nd.id for nd in nodes}) != n:
        raise ValueError("duplicate node ids")
    node_cols = _node_columns(nodes)
    check_spherical_array(node_cols["sph"])

    def arr(name: str, dtype: Any, length: int) -> np.ndarray:
        a = np.asarray(cols[name], dtype=dtype)
        if a.shape != (length,):
            raise ValueError(f"column {name} has shape {a.shape}, expected ({length},)")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise ValueError(f"column {name} must be finite")
        return a.copy()

    m = len(cols["edge_src"])
    etype = arr("edge_type", np.int8, m)
    if m and (etype.min() < 0 or etype.max() >= len(EDGE_TYPES)):
        raise ValueError("edge type code out of range")
    meta = {int(r): check_json(dict(md), f"edge {r} metadata") for r, md in cols.get("edge_metadata", {}).items() if md}
    return assemble(
        nodes,
        **node_cols,
        activation=arr("activation", np.float64, n),
        attention=arr("attention", np.float64, n),
        flags=arr("flags", np.uint32, n),
        edge_src=arr("edge_src", np.int64, m),
        edge_dst=arr("edge_dst", np.int64, m),
        edge_type=etype,
        edge_weight=arr("edge_weight", np.float64, m),
        edge_metadata=meta,
    )


def _numbers(values: list[Any], what: str) -> np.ndarray:
    """Float array of ``values``, refusing booleans, strings and non-finite numbers."""
    if not all(type(v) is float or type(v) is int for v in values):
        raise ValueError(f"every {what} must be a number")
    arr = np.array(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"every {what} must be finite")
    return arr


def _flat(value: Any) -> Any:
    """A value GraphML/GEXF can store: scalars as they are, lists/dicts as JSON text."""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def to_networkx(g: ThoughtGraph, *, flat: bool = False) -> nx.MultiDiGraph:
    """A new ``MultiDiGraph`` with every node and edge of ``g`` and their attributes.

    Node attributes are the node's JSON fields (without ``id``) plus
    ``activation``, ``attention``, ``flags`` and cartesian ``x``, ``y``, ``z``;
    edges are keyed by type and carry ``type``, ``weight`` and ``metadata``.
    With ``flat=True`` lists and dicts become JSON strings and ``None`` values
    are dropped, as GraphML and GEXF require.  Building it is O(N + M) Python
    work (seconds at 100k/500k): use the graph's own queries for hot paths.
    """
    # networkx takes a noticeable time to import and only exports need it.
    import networkx as nx

    data = graph_to_dict(g)
    xyz = g.positions.tolist()
    out = nx.MultiDiGraph()
    for d, (x, y, z) in zip(data["nodes"], xyz, strict=True):
        attrs = {k: v for k, v in d.items() if k not in ("id", "state")}
        attrs.update(d["state"])
        attrs.update(x=x, y=y, z=z)
        if flat:
            attrs = {k: _flat(v) for k, v in attrs.items() if v is not None}
        out.add_node(d["id"], **attrs)
    for e in data["edges"]:
        attrs = {"type": e["type"], "weight": e["weight"], "metadata": e["metadata"]}
        if flat:
            attrs = {k: _flat(v) for k, v in attrs.items()}
        out.add_edge(e["src"], e["dst"], key=e["type"], **attrs)
    return out
