"""Reading and writing whole graphs: JSON (exact round trip), the columnar form, GraphML and GEXF.

The forms themselves -- the JSON schema, the columnar snapshot form and the
networkx view -- are defined in :mod:`orchestrator_gui.model.forms`, which
the graph builds on without importing this module; this module turns them
into :class:`ThoughtGraph` objects, bytes and files.

GraphML and GEXF cannot hold lists, dicts or nulls, so exports flatten them:
lists and dicts become JSON strings and nulls are left out.  Edges are keyed
by their type; cartesian ``x``/``y``/``z`` are added for tools that lay out by
coordinates (GEXF also gets a ``viz`` position).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from orchestrator_gui.formats.fileio import atomic_write
from orchestrator_gui.model.forms import (
    FORMAT,
    SCHEMA_VERSION,
    graph_to_columns,
    graph_to_dict,
    tables_from_columns,
    to_networkx,
)
from orchestrator_gui.model.graph import ThoughtGraph

__all__ = [
    "FORMAT",
    "SCHEMA_VERSION",
    "graph_from_columns",
    "graph_from_dict",
    "graph_to_columns",
    "graph_to_dict",
    "json_bytes",
    "read_json",
    "to_networkx",
    "write_json",
]


def graph_from_dict(data: dict[str, Any]) -> ThoughtGraph:
    """Load the dict written by :func:`graph_to_dict`; the same as :meth:`ThoughtGraph.from_dict`.

    Raises
    ------
    ValueError
        For another format, a newer schema version, or malformed nodes/edges.
    """
    return ThoughtGraph.from_dict(data)


def graph_from_columns(cols: dict[str, Any]) -> ThoughtGraph:
    """Inverse of :func:`graph_to_columns` (row for row).

    Raises
    ------
    ValueError
        For an unsupported schema version or inconsistent columns.
    """
    node_table, edge_table = tables_from_columns(cols)
    return ThoughtGraph(nodes=node_table, edges=edge_table)


def json_bytes(g: ThoughtGraph) -> bytes:
    """The JSON form as UTF-8 bytes (compact, newline-terminated)."""
    return (json.dumps(graph_to_dict(g), ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n").encode()


def _write(path: str | os.PathLike[str], data: bytes) -> None:
    p = Path(path)
    # Exports may replace an older export; the conflict check still guards against a concurrent writer.
    expected = p.read_bytes() if p.is_file() else None
    atomic_write(p, data, expected=expected, create=True)


def write_json(g: ThoughtGraph, path: str | os.PathLike[str]) -> None:
    """Write the JSON form to ``path`` atomically."""
    _write(path, json_bytes(g))


def read_json(path: str | os.PathLike[str]) -> ThoughtGraph:
    """Load a graph written by :func:`write_json`."""
    return graph_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


