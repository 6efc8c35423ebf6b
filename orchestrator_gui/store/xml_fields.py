"""What a GraphML or GEXF export carries per node and edge, and turning it back into a graph.

Both XML formats carry the fields of the JSON schema
(:mod:`orchestrator_gui.model.forms`) as typed attributes, in schema order:
strings as they are, numbers in Python's shortest exact form (``repr``), and
lists, dicts and the ``source``/``history`` records as JSON text.  A ``None``
(``last_activated``, ``source``) is left out.  The dynamic state
(``activation``, ``attention``, ``flags``) follows, then cartesian ``x``,
``y``, ``z`` for tools that lay out by coordinates; those three are derived
from ``theta``/``phi``/``r`` and ignored on import.  Every text goes through
:func:`orchestrator_gui.formats.xml_text.escape`.

:class:`GraphBuilder` collects what a reader found, checks it as it comes
(duplicate ids, unknown edge types, self-links, the import caps), and builds
the graph with the JSON loader, so both formats are validated exactly like a
JSON import and an XML import reproduces the exported graph row for row.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

from orchestrator_gui.formats.limits import MAX_NUMBER_CHARS, load_json
from orchestrator_gui.formats.xml_text import escape, unescape
from orchestrator_gui.model import serialize
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, Edge, Node
from orchestrator_gui.problems import FormatError

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: Node fields in schema order, with how each is written ("json": a JSON text in a string attribute).
NODE_FIELDS: tuple[tuple[str, str], ...] = (
    ("kind", "string"), ("title", "string"), ("content", "string"), ("metadata", "json"), ("tags", "json"),
    ("layer", "string"), ("theta", "double"), ("phi", "double"), ("r", "double"), ("created", "double"),
    ("updated", "double"), ("access_count", "long"), ("last_activated", "double"), ("score", "double"),
    ("confidence", "double"), ("status", "string"), ("source", "json"), ("history", "json"),
)
#: The dynamic per-node values (the JSON schema's ``state``).
STATE_FIELDS: tuple[tuple[str, str], ...] = (("activation", "double"), ("attention", "double"), ("flags", "long"))
#: Written for other tools, ignored on import (positions come from theta, phi and r).
DERIVED_FIELDS: tuple[tuple[str, str], ...] = (("x", "double"), ("y", "double"), ("z", "double"))
ALL_NODE_FIELDS = NODE_FIELDS + STATE_FIELDS + DERIVED_FIELDS
EDGE_FIELDS: tuple[tuple[str, str], ...] = (("type", "string"), ("weight", "double"), ("metadata", "json"))
#: The XML type of each way of writing.
XML_TYPE = {"string": "string", "json": "string", "double": "double", "long": "long"}

_NODE_KIND = dict(ALL_NODE_FIELDS)
_EDGE_KIND = dict(EDGE_FIELDS)
_STATE = {name for name, _ in STATE_FIELDS}
_DERIVED = {name for name, _ in DERIVED_FIELDS}
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")


def _text(kind: str, value: Any) -> str:
    """The escaped (not yet XML-quoted) text of a field value."""
    if kind == "string":
        return escape(value)
    if kind == "json":
        return escape(json.dumps(value, ensure_ascii=False, allow_nan=False))
    if kind == "double":
        return repr(float(value))
    return str(int(value))


NodeRow = tuple[str, list[tuple[str, str]]]
EdgeRow = tuple[str, str, str, list[tuple[str, str]]]


def export_rows(g: ThoughtGraph) -> tuple[list[NodeRow], list[EdgeRow]]:
    """What an XML export writes, escaped but not yet XML-quoted.

    Returns
    -------
    nodes : list of (id, [(field, text), ...])
        In row order; ``None`` values are left out.
    edges : list of (src, dst, type, [(field, text), ...])
        In edge-row order.
    """
    data = serialize.graph_to_dict(g)
    nodes: list[NodeRow] = []
    for d, xyz in zip(data["nodes"], g.positions.tolist(), strict=True):
        values = [(name, _text(kind, d[name])) for name, kind in NODE_FIELDS if d.get(name) is not None]
        values += [(name, _text(kind, d["state"][name])) for name, kind in STATE_FIELDS]
        values += [(name, _text(kind, v)) for (name, kind), v in zip(DERIVED_FIELDS, xyz, strict=True)]
        nodes.append((escape(d["id"]), values))
    edges = [(escape(e["src"]), escape(e["dst"]), e["type"], [(n, _text(k, e[n])) for n, k in EDGE_FIELDS])
             for e in data["edges"]]
    return nodes, edges


def is_node_field(name: str) -> bool:
    """Whether an import knows the node attribute ``name``."""
    return name in _NODE_KIND


def is_edge_field(name: str) -> bool:
    """Whether an import knows the edge attribute ``name``."""
    return name in _EDGE_KIND


class GraphBuilder:
    """Collects the nodes and edges a reader finds and builds the graph, with ``FILE:LINE`` errors.

    Parameters
    ----------
    name : str
        The file, for messages.
    max_nodes, max_edges : int
        The import caps; one more is refused at the line where it appears.
    """

    def __init__(self, name: str, *, max_nodes: int, max_edges: int) -> None:
        self.name = name
        self.max_nodes = max_nodes
        self.max_edges = max_edges
        #: Whether texts are escaped (the file says it was written by this program); set before the first node.
        self.escaped = False
        self._nodes: list[dict[str, Any]] = []
        self._node_lines: list[int] = []
        self._edges: list[dict[str, Any]] = []
        self._edge_lines: list[int] = []
        self._ids: set[str] = set()
        self._edge_keys: set[tuple[str, str, str]] = set()
        self._flat: dict[str, dict | list] = {}

    def error(self, message: str, line: int | None) -> FormatError:
        """A :class:`FormatError` for this file."""
        return FormatError(self.name, message, line=line)

    # -- values ---------------------------------------------------------------------------
    def string(self, text: str, what: str, line: int) -> str:
        """A text as written, with the escape undone when the file uses it."""
        if not self.escaped:
            return text
        try:
            return unescape(text)
        except ValueError as exc:
            raise self.error(f"{what}: {exc}", line) from None

    def value(self, kind: str, text: str, what: str, line: int) -> Any:
        """The value of a field written as ``kind`` (see :data:`NODE_FIELDS`)."""
        if kind == "string":
            return self.string(text, what, line)
        if kind == "json":
            return self._json(text, what, line)
        stripped = text.strip()
        pattern = _FLOAT if kind == "double" else _INT
        if len(stripped) > MAX_NUMBER_CHARS or not pattern.fullmatch(stripped):
            raise self.error(f"{what}: {text[:40]!r} is not {'a number' if kind == 'double' else 'an integer'}",
                             line)
        if kind == "long":
            return int(stripped)
        number = float(stripped)
        if not math.isfinite(number):
            raise self.error(f"{what}: {stripped} is out of range", line)
        return number

    def _json(self, text: str, what: str, line: int) -> Any:
        """A JSON-valued field; the same small flat value (``{}``, ``{"by": "migration"}``) is parsed once."""
        cached = self._flat.get(text)
        if cached is not None:
            return cached.copy()  # flat: a shallow copy is a full copy
        try:
            value = load_json(self.string(text, what, line), self.name)
        except FormatError as exc:
            raise self.error(f"{what}: {exc.message}", line) from None
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if items is not None and len(text) <= 200 and len(self._flat) < 10_000 and not any(
                isinstance(v, dict | list) for v in items):
            self._flat[text] = value
            return value.copy()
        return value

    # -- nodes and edges -----------------------------------------------------------------------
    def add_node(self, node_id: str, fields: dict[str, tuple[str, int]], line: int) -> None:
        """Add a node from its raw id and ``{field: (text, line)}``; unknown fields are the reader's to refuse."""
        nid = self.string(node_id, "node id", line)
        if not nid:
            raise self.error("a node has an empty id", line)
        if nid in self._ids:
            raise self.error(f"node {_q(nid)} appears twice", line)
        if len(self._nodes) >= self.max_nodes:
            raise self.error(f"too large to import: more than {self.max_nodes:,} nodes (the limit); "
                             "nothing was changed", line)
        d: dict[str, Any] = {"id": nid}
        state: dict[str, Any] = {}
        for name, (text, at) in fields.items():
            if name in _DERIVED:
                continue
            value = self.value(_NODE_KIND[name], text, f"node {_q(nid)} {name}", at)
            if name in _STATE:
                if name == "flags" and not 0 <= value < 2**32:
                    raise self.error(f"node {_q(nid)} flags: {value} is not in 0..2**32-1", at)
                state[name] = value
            else:
                d[name] = value
        if state:
            d["state"] = state
        self._ids.add(nid)
        self._nodes.append(d)
        self._node_lines.append(line)

    def add_edge(self, src: str, dst: str, fields: dict[str, tuple[str, int]], line: int) -> None:
        """Add an edge from raw ``src``/``dst`` and ``{field: (text, line)}`` (its ``type`` required)."""
        s = self.string(src, "edge source", line)
        t = self.string(dst, "edge target", line)
        if "type" not in fields:
            raise self.error(f"edge {_q(s)} -> {_q(t)} has no type", line)
        etype = self.string(fields["type"][0], "edge type", fields["type"][1])
        if etype not in EDGE_TYPE_INDEX:
            raise self.error(f"edge {_q(s)} -> {_q(t)}: unknown type {etype[:40]!r} "
                             f"(known: {', '.join(EDGE_TYPE_INDEX)})", fields["type"][1])
        if s == t:
            raise self.error(f"edge {_q(s)} -[{etype}]-> itself: a node cannot be linked to itself", line)
        key = (s, t, etype)
        if key in self._edge_keys:
            raise self.error(f"edge {_q(s)} -[{etype}]-> {_q(t)} appears twice", line)
        if len(self._edges) >= self.max_edges:
            raise self.error(f"too large to import: more than {self.max_edges:,} edges (the limit); "
                             "nothing was changed", line)
        e: dict[str, Any] = {"src": s, "dst": t, "type": etype}
        for name, (text, at) in fields.items():
            if name != "type":
                e[name] = self.value(_EDGE_KIND[name], text, f"edge {_q(s)} -[{etype}]-> {_q(t)} {name}", at)
        self._edge_keys.add(key)
        self._edges.append(e)
        self._edge_lines.append(line)

    # -- the graph -------------------------------------------------------------------------------
    def build(self) -> ThoughtGraph:
        """The graph, validated like a JSON import.

        Raises
        ------
        FormatError
            With the line of the first node or edge that is not valid.
        """
        for e, line in zip(self._edges, self._edge_lines, strict=True):
            for end in ("src", "dst"):
                if e[end] not in self._ids:
                    raise self.error(f"edge {_q(e['src'])} -[{e['type']}]-> {_q(e['dst'])}: no node {_q(e[end])}", line)
        data = {"format": serialize.FORMAT, "schema_version": serialize.SCHEMA_VERSION,
                "nodes": self._nodes, "edges": self._edges}
        try:
            return serialize.graph_from_dict(data)
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            raise self._culprit(exc) from None

    def _culprit(self, exc: ValueError) -> FormatError:
        """The error naming the first invalid node or edge (validated one by one only now, on the error path)."""
        for d, line in zip(self._nodes, self._node_lines, strict=True):
            try:
                Node.model_validate({k: v for k, v in d.items() if k != "state"})
            except ValueError as bad:
                return self.error(f"node {_q(d['id'])} is not valid: {_short(bad)}", line)
        for e, line in zip(self._edges, self._edge_lines, strict=True):
            try:
                Edge.model_validate(e)
            except ValueError as bad:
                return self.error(f"edge {_q(e['src'])} -[{e['type']}]-> {_q(e['dst'])} is not valid: {_short(bad)}",
                                  line)
        return self.error(f"not a valid thought graph: {_short(exc)}", None)


def _q(text: str) -> str:
    """``repr`` of an id for a message, cut short (an id may be megabytes long)."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _short(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return " / ".join(lines[:3])


__all__ = ["ALL_NODE_FIELDS", "DERIVED_FIELDS", "EDGE_FIELDS", "GraphBuilder", "NODE_FIELDS", "STATE_FIELDS",
           "XML_TYPE", "export_rows", "is_edge_field", "is_node_field"]
