"""GraphML export and import of a thought graph.

Layout of an export (fields: :mod:`orchestrator_gui.store.xml_fields`)::

    <graphml xmlns="http://graphml.graphdrawing.org/xmlns" ...>
      <key id="g.format" for="graph" attr.name="format" attr.type="string"/>   (also schema_version, text_escape)
      <key id="n.kind" for="node" attr.name="kind" attr.type="string"/>        (one per node field)
      <key id="e.type" for="edge" attr.name="type" attr.type="string"/>        (type, weight, metadata)
      <graph id="G" edgedefault="directed">
        <data key="g.format">orchestrator-gui.thought-graph</data>
        <data key="g.schema_version">1</data>
        <data key="g.text_escape">backslash-u-brace</data>
        <node id="..."><data key="n.kind">todo</data>...</node>             (row order)
        <edge source="..." target="..."><data key="e.type">parent</data>...</edge>   (edge-row order)
      </graph>
    </graphml>

The output is deterministic: the same graph gives the same bytes.  The
import reads these files and the GraphML that earlier versions wrote with
networkx (keys are matched by ``attr.name``; without the ``g.format`` header
texts are taken as they are, since those files were not escaped).  It
refuses undirected edges, nested graphs, hyperedges, ports and attributes it
does not know, naming the line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator_gui.formats.xml_text import ESCAPE_NAME, parse_xml, quote_attr, quote_text
from orchestrator_gui.model import serialize
from orchestrator_gui.store.xml_fields import (
    ALL_NODE_FIELDS,
    EDGE_FIELDS,
    XML_TYPE,
    GraphBuilder,
    export_rows,
    is_edge_field,
    is_node_field,
)

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

NAMESPACE = "http://graphml.graphdrawing.org/xmlns"
_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<graphml xmlns="{NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    f'xsi:schemaLocation="{NAMESPACE} {NAMESPACE}/1.0/graphml.xsd">\n'
)
_GRAPH_KEYS = (("format", "string"), ("schema_version", "int"), ("text_escape", "string"))
#: Elements that only wrap what this importer reads, or that it skips.
_IGNORED = {"desc"}
_UNSUPPORTED = {"hyperedge", "port", "endpoint", "locator"}


def graphml_bytes(g: ThoughtGraph) -> bytes:
    """The graph as GraphML (UTF-8), every text escaped so that the file is well-formed XML 1.0."""
    out = [_HEAD]
    out += [f'  <key id="g.{n}" for="graph" attr.name="{n}" attr.type="{t}"/>\n' for n, t in _GRAPH_KEYS]
    out += [f'  <key id="n.{n}" for="node" attr.name="{n}" attr.type="{XML_TYPE[k]}"/>\n' for n, k in ALL_NODE_FIELDS]
    out += [f'  <key id="e.{n}" for="edge" attr.name="{n}" attr.type="{XML_TYPE[k]}"/>\n' for n, k in EDGE_FIELDS]
    out.append('  <graph id="G" edgedefault="directed">\n')
    out.append(f'    <data key="g.format">{serialize.FORMAT}</data>\n')
    out.append(f'    <data key="g.schema_version">{serialize.SCHEMA_VERSION}</data>\n')
    out.append(f'    <data key="g.text_escape">{ESCAPE_NAME}</data>\n')
    nodes, edges = export_rows(g)
    for node_id, values in nodes:
        out.append(f'    <node id="{quote_attr(node_id)}">\n')
        out += [f'      <data key="n.{name}">{quote_text(text)}</data>\n' for name, text in values]
        out.append("    </node>\n")
    for src, dst, _, values in edges:
        out.append(f'    <edge source="{quote_attr(src)}" target="{quote_attr(dst)}">\n')
        out += [f'      <data key="e.{name}">{quote_text(text)}</data>\n' for name, text in values]
        out.append("    </edge>\n")
    out.append("  </graph>\n</graphml>\n")
    return "".join(out).encode("utf-8")


#: The end of a refusal of something an export never writes.
_ONLY = "(this importer reads what 'graph export' writes)"


class _Reader:
    """The :class:`~orchestrator_gui.formats.xml_text.XmlHandler` of a GraphML import."""

    def __init__(self, builder: GraphBuilder) -> None:
        self.b = builder
        self.keys: dict[str, tuple[str, str]] = {}      # key id -> (for, attr.name)
        self.defaults: dict[str, str] = {}              # key id -> default text
        self.path: list[str] = []
        self.graphs = 0
        self.header: dict[str, tuple[str, int]] = {}   # graph data: name -> (text, line)
        self.started = False                            # a node or edge was seen
        self.item: tuple[str, dict[str, str], int] | None = None   # the node or edge being read
        self.fields: dict[str, tuple[str, int]] = {}
        self.data: tuple[str, int] | None = None        # key id and line of the open <data>
        self.key: str | None = None                     # the open <key>
        self.usable: dict[tuple[str, str], str] = {}    # (key id, "node"/"edge") -> field, once checked

    def start(self, ns: str, tag: str, attrs: dict[str, str], line: int) -> None:
        b = self.b
        parent = self.path[-1] if self.path else None
        self.path.append(tag)
        if tag == "data" and parent == (self.item[0] if self.item else None) and (ns == NAMESPACE or not ns):
            # The bulk of a file, so first: a node's or an edge's <data>.
            key_id = attrs.get("key", "")
            if key_id not in self.keys:
                raise b.error(f"<data> refers to the undeclared key {key_id[:80]!r}", line)
            self.data = (key_id, line)
            return
        if parent is None:
            if tag != "graphml":
                raise b.error(f"not a GraphML file: the root element is <{tag[:80]}>, not <graphml>", line)
            return
        if ns not in ("", NAMESPACE):
            raise b.error(f"unexpected element <{tag[:80]}> from {ns[:80]} {_ONLY}", line)
        if tag in _IGNORED or parent in _IGNORED:
            return
        if tag in _UNSUPPORTED:
            raise b.error(f"<{tag}> is not supported: a thought graph has plain directed edges between nodes", line)
        if parent == "graphml" and tag == "key":
            key_id = attrs.get("id")
            if not key_id:
                raise b.error("a <key> has no id", line)
            self.keys[key_id] = (attrs.get("for", "all"), attrs.get("attr.name", key_id))
            self.key = key_id
        elif parent == "key" and tag == "default":
            pass
        elif parent == "graphml" and tag == "graph":
            self.graphs += 1
            if self.graphs > 1:
                raise b.error("more than one <graph>: an import reads one graph", line)
            if attrs.get("edgedefault", "directed") != "directed":
                raise b.error("undirected graphs are not supported: every thought-graph edge has a direction", line)
        elif parent == "graph" and tag in ("node", "edge"):
            if not self.started:
                self._begin()
            if tag == "edge" and attrs.get("directed", "true") != "true":
                raise b.error("undirected edges are not supported: every thought-graph edge has a direction", line)
            self.item = (tag, attrs, line)
            self.fields = {}
        elif tag == "data" and parent in ("graph", "node", "edge"):
            key_id = attrs.get("key", "")
            if key_id not in self.keys:
                raise b.error(f"<data> refers to the undeclared key {key_id[:80]!r}", line)
            self.data = (key_id, line)
        elif tag == "graph" and parent == "node":
            raise b.error("nested graphs are not supported", line)
        else:
            raise b.error(f"unexpected <{tag[:80]}> inside <{parent[:80]}>", line)

    def end(self, ns: str, tag: str, text: str, line: int) -> None:
        self.path.pop()
        parent = self.path[-1] if self.path else None
        if tag == "data" and self.data is not None:
            self._data(parent, text)
            return
        if tag in _IGNORED or parent in _IGNORED or ns not in ("", NAMESPACE):
            return
        if tag == "default" and parent == "key" and self.key is not None:
            self.defaults[self.key] = text
        elif tag == "key":
            self.key = None
        elif tag in ("node", "edge") and parent == "graph" and self.item is not None:
            self._item()
        elif tag == "graph" and not self.started:
            self._begin()

    def _data(self, parent: str | None, text: str) -> None:
        key_id, line = self.data
        self.data = None
        name = self.usable.get((key_id, parent))
        if name is not None:
            if name in self.fields:
                raise self.b.error(f"{parent} attribute {name[:80]!r} is given twice", line)
            self.fields[name] = (text, line)
            return
        applies, name = self.keys[key_id]
        if parent == "graph":
            if self.started:
                raise self.b.error(f"graph data {name[:80]!r} after the first node: the header must come first", line)
            self.header[name] = (text, line)
            return
        if applies not in (parent, "all"):
            raise self.b.error(f"key {key_id[:80]!r} is declared for {applies}s, used on <{parent[:80]}>", line)
        known = is_node_field(name) if parent == "node" else is_edge_field(name)
        if not known:
            raise self.b.error(f"unknown {parent} attribute {name[:80]!r} (an import reads the attributes "
                               "'graph export' writes)", line)
        self.usable[(key_id, parent)] = name
        if name in self.fields:
            raise self.b.error(f"{parent} attribute {name[:80]!r} is given twice", line)
        self.fields[name] = (text, line)

    def _item(self) -> None:
        tag, attrs, line = self.item
        self.item = None
        fields = self.fields
        for key_id, text in self.defaults.items():
            applies, name = self.keys[key_id]
            known = is_node_field(name) if tag == "node" else is_edge_field(name)
            if applies in (tag, "all") and known and name not in fields:
                fields[name] = (text, line)
        if tag == "node":
            if "id" not in attrs:
                raise self.b.error("a <node> has no id", line)
            self.b.add_node(attrs["id"], fields, line)
        else:
            if "source" not in attrs or "target" not in attrs:
                raise self.b.error("an <edge> needs a source and a target", line)
            self.b.add_edge(attrs["source"], attrs["target"], fields, line)

    def _begin(self) -> None:
        """The header is complete: is this our own (escaped) format, and which version?"""
        self.started = True
        fmt, line = self.header.get("format", ("", None))
        if fmt != serialize.FORMAT:
            return
        version, line = self.header.get("schema_version", ("", line))
        if version.strip() != str(serialize.SCHEMA_VERSION):
            raise self.b.error(f"unsupported schema_version {version.strip()[:20]!r} "
                               f"(this version reads {serialize.SCHEMA_VERSION})", line)
        escaping, line = self.header.get("text_escape", ("", line))
        if escaping != ESCAPE_NAME:
            raise self.b.error(f"unknown text_escape {escaping[:40]!r} (this version reads {ESCAPE_NAME!r})", line)
        self.b.escaped = True


def read_graphml(data: bytes, builder: GraphBuilder) -> ThoughtGraph:
    """The graph of a GraphML document.

    Raises
    ------
    FormatError
        ``FILE:LINE`` for XML that is not well-formed or not safe (see
        :func:`~orchestrator_gui.formats.xml_text.parse_xml`), for GraphML
        this importer does not read, and for an invalid graph.
    """
    reader = _Reader(builder)
    parse_xml(data, builder.name, reader, max_depth=16)
    if reader.graphs == 0:
        raise builder.error("no <graph> in this GraphML file", None)
    return builder.build()


__all__ = ["NAMESPACE", "graphml_bytes", "read_graphml"]
