"""Export and import of whole graphs: our JSON schema, GraphML and GEXF (docs/exchange.md).

The JSON schema is :func:`orchestrator_gui.model.serialize.graph_to_dict`
(``format`` ``orchestrator-gui.thought-graph``, ``schema_version`` 1; nodes in
row order with their dynamic ``state``, edges in edge-row order).  GraphML
(:mod:`.xml_graphml`) and GEXF (:mod:`.xml_gexf`) carry the same fields as
typed attributes (lists and dicts as JSON text), with every character that
XML 1.0 forbids escaped (:mod:`orchestrator_gui.formats.xml_text`).  An
import of any of the three reproduces the exported graph row for row, so
exporting it again gives the same bytes.

Every import is bounded: at most :data:`MAX_IMPORT_BYTES` bytes,
:data:`MAX_IMPORT_NODES` nodes and :data:`MAX_IMPORT_EDGES` edges, nesting
limited (JSON: :data:`~orchestrator_gui.formats.limits.MAX_DEPTH` levels,
XML: 16 elements), and XML with a ``DOCTYPE`` or entities is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator_gui.formats.fileio import UTF8_BOM, atomic_write, decode_text, read_bytes
from orchestrator_gui.formats.limits import load_json
from orchestrator_gui.model import serialize
from orchestrator_gui.problems import FormatError
from orchestrator_gui.store.xml_fields import GraphBuilder
from orchestrator_gui.store.xml_gexf import gexf_bytes, read_gexf
from orchestrator_gui.store.xml_graphml import graphml_bytes, read_graphml

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: Export formats by name, as the CLI's ``--format`` accepts them.
EXPORT_FORMATS = ("json", "graphml", "gexf")
#: Import formats: the export formats, told apart by the content when not given.
IMPORT_FORMATS = EXPORT_FORMATS
_ENCODERS = {"json": serialize.json_bytes, "graphml": graphml_bytes, "gexf": gexf_bytes}
_XML_READERS = {"graphml": read_graphml, "gexf": read_gexf}
# The first element of an XML document, after the declaration, comments and processing instructions.
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)
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
        encode = _ENCODERS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})") from None
    data = encode(graph)
    p = Path(path)
    # Exports may replace an older export; the conflict check still guards against a concurrent writer.
    expected = p.read_bytes() if p.is_file() else None
    atomic_write(p, data, expected=expected, create=True)


def import_graph(path: str | os.PathLike[str], fmt: str | None = None) -> ThoughtGraph:
    """Read and validate a graph written by :func:`export_graph` in any of its formats.

    Parameters
    ----------
    path : path-like
    fmt : {"json", "graphml", "gexf"}, optional
        The format; by default told from the content (``<graphml``, ``<gexf``, else JSON).

    Raises
    ------
    ValueError, FormatError
        As for :func:`read_graph`.
    """
    return read_graph(path, fmt)[0]


def read_graph(path: str | os.PathLike[str], fmt: str | None = None) -> tuple[ThoughtGraph, str]:
    """:func:`import_graph`, also returning the format the file was read as.

    Raises
    ------
    ValueError
        For an unknown ``fmt``.
    FormatError
        ``FILE:LINE`` (where known) when the file cannot be read, is not
        well-formed, breaks a limit (bytes, nodes, edges, nesting, a
        ``DOCTYPE``), is not the given format, or does not hold a valid graph.
    """
    if fmt is not None and fmt not in IMPORT_FORMATS:
        raise ValueError(f"unknown import format {fmt!r} (choose from {', '.join(IMPORT_FORMATS)})")
    name = str(path)
    data = read_bytes(path, max_bytes=MAX_IMPORT_BYTES)
    found = sniff(data)
    if fmt is not None and found != fmt:
        raise FormatError(name, f"not a {fmt} file (it looks like {found})", line=1)
    try:
        if found == "json":
            return _graph_from_json(data, name), found
        builder = GraphBuilder(name, max_nodes=MAX_IMPORT_NODES, max_edges=MAX_IMPORT_EDGES)
        return _XML_READERS[found](data, builder), found
    except MemoryError:
        # The caps keep real imports far from this; a smaller machine still gets a message.
        raise FormatError(name, "not enough memory to import this graph; nothing was changed") from None


def sniff(data: bytes) -> str:
    """``"graphml"``, ``"gexf"`` or ``"json"``: the format of an export, from its first element or character."""
    head = data[:65536].removeprefix(UTF8_BOM)
    pos = 0
    while (m := _SKIP.match(head, pos)) is not None and m.end() > pos:
        pos = m.end()
    head = head[pos:].lstrip()
    if not head.startswith(b"<"):
        return "json"
    root = _ROOT.match(head)
    local = root.group(2).decode("ascii").lower() if root else ""
    return local if local in _XML_READERS else "graphml"  # the GraphML reader names the unexpected root


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
        return _graph_from_json(read_bytes(path, max_bytes=MAX_IMPORT_BYTES), name)
    except MemoryError:
        # The caps above keep real imports far from this; a smaller machine still gets a message.
        raise FormatError(name, "not enough memory to import this graph; nothing was changed") from None


def _graph_from_json(raw: bytes, name: str) -> ThoughtGraph:
    text, _ = decode_text(raw, name)
    # Depth, number and surrogate limits are checked before json.loads sees the text.
    data = load_json(text, name)
    _check_counts(data, name)
    try:
        return serialize.graph_from_dict(data)
    except ValueError as exc:  # pydantic.ValidationError and the model's DuplicateError are ValueErrors
        lines = str(exc).strip().splitlines()
        raise FormatError(name, f"not a valid thought graph: {' / '.join(lines[:3])}") from None


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
