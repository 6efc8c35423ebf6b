"""Export and import of whole graphs: our JSON schema, GraphML and GEXF.

The JSON schema is :func:`orchestrator_gui.model.serialize.graph_to_dict`
(``format`` ``orchestrator-gui.thought-graph``, ``schema_version`` 1; nodes in
row order with their dynamic ``state``, edges in edge-row order).  An import
reproduces the graph row for row, so exporting it again gives the same bytes.
GraphML and GEXF are export-only: they cannot hold lists, dicts or nulls, so
those are flattened to JSON strings (see :mod:`orchestrator_gui.model.serialize`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from orchestrator_gui.formats.fileio import decode_text, read_bytes
from orchestrator_gui.formats.limits import load_json
from orchestrator_gui.model import serialize
from orchestrator_gui.problems import FormatError

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: Export formats by name, as the CLI's ``--format`` accepts them.
EXPORT_FORMATS = ("json", "graphml", "gexf")
_WRITERS = {"json": serialize.write_json, "graphml": serialize.write_graphml, "gexf": serialize.write_gexf}
#: Graph JSON files may be far larger than workspace text files (100k nodes and 500k edges are
#: 85 MB and take about 1 GB of memory to import). The caps keep an import within a few GB;
#: the README's "Limits" lists them.
MAX_IMPORT_BYTES = 256 * 1024**2
MAX_IMPORT_NODES = 250_000
MAX_IMPORT_EDGES = 1_250_000


def export_graph(graph: ThoughtGraph, path: str | os.PathLike[str], fmt: str = "json") -> None:
    """Write ``graph`` to ``path`` atomically as ``json``, ``graphml`` or ``gexf``.

    Raises
    ------
    ValueError
        For an unknown format.
    FormatError
        When the file cannot be written (its folder cannot be created, ...).
    """
    try:
        writer = _WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})") from None
    writer(graph, path)


def import_json(path: str | os.PathLike[str]) -> ThoughtGraph:
    """Read and validate a graph written by :func:`export_graph` (``json``).

    Raises
    ------
    FormatError
        Naming the file (and the line, for JSON syntax errors) when the file
        cannot be read, is not UTF-8 JSON, or does not follow the schema
        (wrong ``format``, newer ``schema_version``, invalid node or edge,
        unknown node in an edge, duplicate id or edge, ...).
    """
    name = str(path)
    try:
        text, _ = decode_text(read_bytes(path, max_bytes=MAX_IMPORT_BYTES), name)
        # Depth, number and surrogate limits are checked before json.loads sees the text.
        data = load_json(text, name)
        _check_counts(data, name)
        try:
            return serialize.graph_from_dict(data)
        except ValueError as exc:  # pydantic.ValidationError and the model's DuplicateError are ValueErrors
            lines = str(exc).strip().splitlines()
            raise FormatError(name, f"not a valid thought graph: {' / '.join(lines[:3])}") from None
    except MemoryError:
        # The caps above keep real imports far from this; a smaller machine still gets a message.
        raise FormatError(name, "not enough memory to import this graph; nothing was changed") from None


def _check_counts(data: object, name: str) -> None:
    """Refuse a graph with more nodes or edges than the caps before building anything from it."""
    if not isinstance(data, dict):
        return  # graph_from_dict says what is wrong with the shape
    for key, cap in (("nodes", MAX_IMPORT_NODES), ("edges", MAX_IMPORT_EDGES)):
        items = data.get(key)
        if isinstance(items, list) and len(items) > cap:
            raise FormatError(name, f"too large to import: {len(items):,} {key} (the limit is {cap:,} {key}, "
                                    f"{MAX_IMPORT_NODES:,} nodes and {MAX_IMPORT_EDGES:,} edges in all); "
                                    "nothing was changed")
