"""GEXF 1.2 export (for Gephi) and import of a thought graph.

Layout of an export (fields: :mod:`orchestrator_gui.store.xml_fields`)::

    <gexf xmlns="http://www.gexf.net/1.2draft" xmlns:viz="http://www.gexf.net/1.2draft/viz" version="1.2">
      <meta>
        <creator>orchestrator-gui</creator>
        <keywords>orchestrator-gui.thought-graph schema_version=1 text_escape=backslash-u-brace</keywords>
      </meta>
      <graph defaultedgetype="directed" mode="static">
        <attributes class="node" mode="static"><attribute id="kind" title="kind" type="string"/>...</attributes>
        <attributes class="edge" mode="static">(type, metadata)</attributes>
        <nodes>
          <node id="..." label="TITLE">                                   (row order)
            <attvalues><attvalue for="kind" value="todo"/>...</attvalues>
            <viz:position x="..." y="..." z="..."/>                      (cartesian x, y, z)
          </node>
        </nodes>
        <edges>
          <edge id="0" source="..." target="..." label="parent" weight="1.0">   (edge-row order)
            <attvalues><attvalue for="type" value="parent"/>...</attvalues>
          </edge>
        </edges>
      </graph>
    </gexf>

The edge type is an attribute (and the edge's label): GEXF's own edge
``type`` means directed/undirected.  No modification date is written, so the
same graph gives the same bytes.  The import reads these files and the GEXF
that earlier versions wrote with networkx (edge type in the edge's ``type``
or the ``networkx_key`` attribute, texts not escaped); ``label`` and ``viz``
elements are derived data and ignored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator_gui.formats.xml_text import ESCAPE_NAME, parse_xml, quote_attr
from orchestrator_gui.model import serialize
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX
from orchestrator_gui.store.xml_fields import (
    DERIVED_FIELDS,
    EDGE_FIELDS,
    NODE_FIELDS,
    STATE_FIELDS,
    XML_TYPE,
    GraphBuilder,
    export_rows,
    is_edge_field,
    is_node_field,
)

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

NAMESPACE = "http://www.gexf.net/1.2draft"
VIZ_NAMESPACE = "http://www.gexf.net/1.2draft/viz"
#: The keywords that mark a file as this program's export (texts escaped).
KEYWORDS = f"{serialize.FORMAT} schema_version={serialize.SCHEMA_VERSION} text_escape={ESCAPE_NAME}"
_EDGE_ATTRIBUTES = tuple((n, k) for n, k in EDGE_FIELDS if n != "weight")  # weight is GEXF's own
_NODE_ATTRIBUTES = NODE_FIELDS + STATE_FIELDS  # x, y, z are the viz:position
_XYZ = {name for name, _ in DERIVED_FIELDS}
_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<gexf xmlns="{NAMESPACE}" xmlns:viz="{VIZ_NAMESPACE}" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    f'xsi:schemaLocation="{NAMESPACE} {NAMESPACE}/gexf.xsd" version="1.2">\n'
    "  <meta>\n    <creator>orchestrator-gui</creator>\n"
    f"    <keywords>{KEYWORDS}</keywords>\n"
    "    <description>A Loop Orchestrator thought graph (docs/exchange.md)</description>\n  </meta>\n"
    '  <graph defaultedgetype="directed" mode="static">\n'
)
# Elements that hold what the reader needs; everything else is refused, viz is skipped.
_CHILDREN = {
    "gexf": {"meta", "graph"},
    "graph": {"attributes", "nodes", "edges"},
    "attributes": {"attribute"},
    "attribute": {"default", "options"},
    "nodes": {"node"},
    "node": {"attvalues"},
    "edges": {"edge"},
    "edge": {"attvalues"},
    "attvalues": {"attvalue"},
}


def gexf_bytes(g: ThoughtGraph) -> bytes:
    """The graph as GEXF 1.2 (UTF-8) with ``viz`` positions, every text escaped (well-formed XML 1.0)."""
    out = [_HEAD, '    <attributes class="node" mode="static">\n']
    out += [f'      <attribute id="{n}" title="{n}" type="{XML_TYPE[k]}"/>\n' for n, k in _NODE_ATTRIBUTES]
    out.append('    </attributes>\n    <attributes class="edge" mode="static">\n')
    out += [f'      <attribute id="{n}" title="{n}" type="{XML_TYPE[k]}"/>\n' for n, k in _EDGE_ATTRIBUTES]
    out.append("    </attributes>\n    <nodes>\n")
    nodes, edges = export_rows(g)
    for node_id, values in nodes:
        v = dict(values)
        out.append(f'      <node id="{quote_attr(node_id)}" label="{quote_attr(v["title"])}">\n        <attvalues>\n')
        out += [f'          <attvalue for="{name}" value="{quote_attr(text)}"/>\n' for name, text in values
                if name not in _XYZ]
        out.append(f'        </attvalues>\n        <viz:position x="{v["x"]}" y="{v["y"]}" z="{v["z"]}"/>\n'
                   "      </node>\n")
    out.append("    </nodes>\n    <edges>\n")
    for row, (src, dst, etype, values) in enumerate(edges):
        v = dict(values)
        out.append(f'      <edge id="{row}" source="{quote_attr(src)}" target="{quote_attr(dst)}" label="{etype}" '
                   f'weight="{v["weight"]}">\n        <attvalues>\n')
        out += [f'          <attvalue for="{name}" value="{quote_attr(v[name])}"/>\n' for name, _ in _EDGE_ATTRIBUTES]
        out.append("        </attvalues>\n      </edge>\n")
    out.append("    </edges>\n  </graph>\n</gexf>\n")
    return "".join(out).encode("utf-8")


#: The end of a refusal of something an export never writes.
_ONLY = "(this importer reads what 'graph export' writes)"


class _Reader:
    """The :class:`~orchestrator_gui.formats.xml_text.XmlHandler` of a GEXF import."""

    def __init__(self, builder: GraphBuilder) -> None:
        self.b = builder
        self.path: list[str] = []
        self.skip = 0                                   # depth inside a viz (or meta) element being skipped
        self.keywords = ""
        self.graphs = 0
        self.started = False
        self.klass = ""                                 # class of the open <attributes>
        self.attrs: dict[tuple[str, str], str] = {}     # (class, id) -> title
        self.defaults: dict[tuple[str, str], str] = {}  # (class, title) -> default text
        self.attribute: tuple[str, str] | None = None   # the open <attribute>
        self.item: tuple[str, dict[str, str], int] | None = None
        self.fields: dict[str, tuple[str, int]] = {}
        self.nx_key: tuple[str, int] | None = None      # networkx_key of an old export's edge

    def start(self, ns: str, tag: str, attrs: dict[str, str], line: int) -> None:
        b = self.b
        parent = self.path[-1] if self.path else None
        self.path.append(tag)
        if self.skip:
            self.skip += 1
            return
        if tag == "attvalue" and parent == "attvalues" and "gexf" in ns:
            self._attvalue(attrs, line)  # the bulk of a file, so first
            return
        if parent is None:
            if tag != "gexf":
                raise b.error(f"not a GEXF file: the root element is <{tag[:80]}>, not <gexf>", line)
            return
        if tag == "meta" and parent == "gexf":
            return
        if parent == "meta" or ns.endswith("/viz"):
            # Of the meta data only the keywords matter; positions, colours and sizes are derived.
            self.skip = 0 if parent == "meta" and tag == "keywords" else 1
            return
        if ns and "gexf" not in ns:
            raise b.error(f"unexpected element <{tag[:80]}> from {ns[:80]} {_ONLY}", line)
        if tag not in _CHILDREN.get(parent, ()):
            raise b.error(f"unexpected <{tag[:80]}> inside <{parent[:80]}> {_ONLY}", line)
        if tag == "graph":
            self._graph(attrs, line)
        elif tag == "attributes":
            self.klass = attrs.get("class", "")
            if self.klass not in ("node", "edge"):
                raise b.error(f"attributes of class {self.klass!r} are not supported", line)
        elif tag == "attribute":
            if "id" not in attrs:
                raise b.error("an <attribute> has no id", line)
            title = attrs.get("title", attrs["id"])
            self.attrs[(self.klass, attrs["id"])] = title
            self.attribute = (self.klass, title)
        elif tag in ("node", "edge"):
            if not self.started:
                self._begin()
            self.item = (tag, attrs, line)
            self.fields = {}
            self.nx_key = None
        elif tag == "attvalue":
            self._attvalue(attrs, line)

    def end(self, ns: str, tag: str, text: str, line: int) -> None:
        self.path.pop()
        if self.skip:
            self.skip -= 1
            return
        if tag == "keywords" and self.path[-1:] == ["meta"]:
            self.keywords = text
        elif tag == "default" and self.attribute is not None:
            self.defaults[self.attribute] = text
        elif tag == "attribute":
            self.attribute = None
        elif tag in ("node", "edge") and self.item is not None:
            self._item()
        elif tag == "graph" and not self.started:
            self._begin()

    def _graph(self, attrs: dict[str, str], line: int) -> None:
        self.graphs += 1
        if self.graphs > 1:
            raise self.b.error("more than one <graph>: an import reads one graph", line)
        if attrs.get("defaultedgetype") != "directed":
            raise self.b.error('only directed graphs are supported (defaultedgetype="directed")', line)
        if attrs.get("mode", "static") != "static":
            raise self.b.error("dynamic graphs are not supported", line)

    def _attvalue(self, attrs: dict[str, str], line: int) -> None:
        kind = self.item[0] if self.item else ""
        title = self.attrs.get((kind, attrs.get("for", "")))
        if title is None:
            raise self.b.error(f"<attvalue> refers to the undeclared {kind} attribute {attrs.get('for')!r}", line)
        if "value" not in attrs:
            raise self.b.error(f"<attvalue> for {title[:80]!r} has no value", line)
        if kind == "edge" and title == "networkx_key":
            self.nx_key = (attrs["value"], line)
            return
        if not (is_node_field(title) if kind == "node" else is_edge_field(title)):
            raise self.b.error(f"unknown {kind} attribute {title[:80]!r} (an import reads the attributes "
                               "'graph export' writes)", line)
        if title in self.fields:
            raise self.b.error(f"{kind} attribute {title[:80]!r} is given twice", line)
        self.fields[title] = (attrs["value"], line)

    def _item(self) -> None:
        tag, attrs, line = self.item
        self.item = None
        fields = self.fields
        for (klass, title), text in self.defaults.items():
            known = is_node_field(title) if tag == "node" else is_edge_field(title)
            if klass == tag and known and title not in fields:
                fields[title] = (text, line)
        if tag == "node":
            if "id" not in attrs:
                raise self.b.error("a <node> has no id", line)
            if "title" not in fields and "label" in attrs:
                fields["title"] = (attrs["label"], line)
            self.b.add_node(attrs["id"], fields, line)
            return
        if "source" not in attrs or "target" not in attrs:
            raise self.b.error("an <edge> needs a source and a target", line)
        gexf_type = attrs.get("type", "directed")
        if gexf_type in ("undirected", "mutual"):
            raise self.b.error("undirected edges are not supported: every thought-graph edge has a direction", line)
        if "type" not in fields:
            # Earlier exports (networkx) put the edge type into GEXF's own type and into networkx_key.
            if self.nx_key is not None:
                fields["type"] = self.nx_key
            elif gexf_type in EDGE_TYPE_INDEX:
                fields["type"] = (gexf_type, line)
        if "weight" in attrs and "weight" not in fields:
            fields["weight"] = (attrs["weight"], line)
        self.b.add_edge(attrs["source"], attrs["target"], fields, line)

    def _begin(self) -> None:
        """Before the first node or edge: is this our own (escaped) format?"""
        self.started = True
        words = self.keywords.replace(",", " ").split()
        if serialize.FORMAT not in words:
            return
        settings = dict(w.split("=", 1) for w in words if "=" in w)
        if settings.get("schema_version") != str(serialize.SCHEMA_VERSION):
            raise self.b.error(f"unsupported schema_version {settings.get('schema_version', '')[:20]!r} "
                               f"(this version reads {serialize.SCHEMA_VERSION})", None)
        if settings.get("text_escape") != ESCAPE_NAME:
            raise self.b.error(f"unknown text_escape {settings.get('text_escape', '')[:40]!r} "
                               f"(this version reads {ESCAPE_NAME!r})", None)
        self.b.escaped = True


def read_gexf(data: bytes, builder: GraphBuilder) -> ThoughtGraph:
    """The graph of a GEXF document.

    Raises
    ------
    FormatError
        ``FILE:LINE`` for XML that is not well-formed or not safe (see
        :func:`~orchestrator_gui.formats.xml_text.parse_xml`), for GEXF this
        importer does not read, and for an invalid graph.
    """
    reader = _Reader(builder)
    parse_xml(data, builder.name, reader, max_depth=16)
    if reader.graphs == 0:
        raise builder.error("no <graph> in this GEXF file", None)
    return builder.build()


__all__ = ["KEYWORDS", "NAMESPACE", "gexf_bytes", "read_gexf"]
