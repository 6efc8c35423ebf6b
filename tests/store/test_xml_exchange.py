"""GraphML and GEXF export/import (issues 12 and 13): well-formed for any text, lossless, bounded, hostile-safe."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_gui.formats.xml_text import escape, unescape
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model import serialize
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import EDGE_TYPES, KINDS, LAYERS, STATUSES, NodeFlag
from orchestrator_gui.problems import FormatError
from orchestrator_gui.store.exchange import MAX_IMPORT_NODES, export_graph, import_graph, sniff
from orchestrator_gui.store.xml_fields import GraphBuilder
from orchestrator_gui.store.xml_gexf import gexf_bytes, read_gexf
from orchestrator_gui.store.xml_graphml import graphml_bytes, read_graphml

XML_FORMATS = ("graphml", "gexf")
ENCODE = {"graphml": graphml_bytes, "gexf": gexf_bytes}
NX_READ = {"graphml": nx.read_graphml, "gexf": nx.read_gexf}
# What XML 1.0 cannot hold, plus what XML and the escape itself treat specially.
SPECIAL = ["\x00", "\x01", "\x1b", "\x1b[31m", "\x08", "\x0b", "\x0c", "\x1f", "\x7f", "\x85", "\r", "\r\n", "\t",
           "\n", "\ufffe", "\uffff", "\ud800", "\udfff", "\\", "\\u{41}", "\\u{", "]]>", "&amp;", "<a>", '"', "'",
           " ", "\u2028", "😀"]
_SURROGATE = re.compile("[\ud800-\udfff]")


def _texts(*, surrogates: bool) -> st.SearchStrategy[str]:
    chars = st.characters(exclude_categories=() if surrogates else ("Cs",))
    pieces = st.one_of(st.text(chars, max_size=6), st.sampled_from([s for s in SPECIAL
                                                                     if surrogates or not _SURROGATE.search(s)]))
    return st.lists(pieces, max_size=4).map("".join)


@st.composite
def graph_dicts(draw, surrogates: bool) -> dict[str, Any]:
    """A JSON-schema graph with any text in every string: ids, titles, content, tags, metadata, sources, history.

    The node model refuses lone surrogates in its string fields, so with ``surrogates`` they go only where
    the model lets them in: the values of node and edge metadata.
    """
    text = _texts(surrogates=False)
    ids = draw(st.lists(text.filter(bool), min_size=1, max_size=5, unique=True))
    finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
    value_text = _texts(surrogates=surrogates)
    json_value = st.one_of(value_text, st.integers(-(2**53), 2**53), finite, st.booleans(), st.none(),
                           st.lists(value_text, max_size=2))
    metadata = st.dictionaries(text, json_value, max_size=3)
    nodes = []
    for nid in ids:
        nodes.append({
            "id": nid, "kind": draw(st.sampled_from(KINDS)).value, "title": draw(text), "content": draw(text),
            "metadata": draw(metadata), "tags": draw(st.lists(text, max_size=3)),
            "layer": draw(st.sampled_from(LAYERS)).value, "theta": draw(st.floats(0.0, 6.28)),
            "phi": draw(st.floats(-1.57, 1.57)), "r": draw(st.floats(0.5, 4.0)),
            "created": draw(finite), "updated": draw(finite), "access_count": draw(st.integers(0, 2**40)),
            "last_activated": draw(st.none() | finite), "score": draw(finite), "confidence": draw(finite),
            "status": draw(st.sampled_from(STATUSES)).value,
            "source": draw(st.none() | st.fixed_dictionaries({
                "file": text.filter(bool), "key": text.filter(bool), "line": st.none() | st.integers(1, 10**6)})),
            "history": draw(st.lists(st.fixed_dictionaries({"time": finite, "title": text, "content": text,
                                                            "actor": text}), max_size=2)),
            "state": {"activation": draw(finite), "attention": draw(finite), "flags": draw(st.integers(0, 2**32 - 1))},
        })
    pairs = [(a, b) for a in ids for b in ids if a != b]
    edges = []
    if pairs:
        keys = draw(st.lists(st.tuples(st.sampled_from(pairs), st.sampled_from(EDGE_TYPES)), max_size=8,
                             unique=True))
        edges = [{"src": a, "dst": b, "type": t.value, "weight": draw(finite), "metadata": draw(metadata)}
                 for (a, b), t in keys]
    return {"format": serialize.FORMAT, "schema_version": serialize.SCHEMA_VERSION, "nodes": nodes, "edges": edges}


def _replace_surrogates(value: Any) -> Any:
    """What an export keeps of ``value``: lone surrogates become U+FFFD (they cannot be written at all)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value



def _earlier_writer(g, path, fmt: str) -> None:
    """What wave 1's model/serialize.py wrote (networkx's writers over the flat attributes), now removed."""
    import networkx as nx

    nxg = serialize.to_networkx(g, flat=True)
    if fmt == "graphml":
        nx.write_graphml(nxg, path, encoding="utf-8")
        return
    for _, attrs in nxg.nodes(data=True):
        attrs["viz"] = {"position": {"x": attrs["x"], "y": attrs["y"], "z": attrs["z"]}}
        attrs["label"] = attrs.get("title") or ""
    nx.write_gexf(nxg, path, encoding="utf-8")

def _import_bytes(data: bytes, fmt: str, name: str = "g.xml") -> ThoughtGraph:
    builder = GraphBuilder(name, max_nodes=MAX_IMPORT_NODES, max_edges=10_000)
    return (read_graphml if fmt == "graphml" else read_gexf)(data, builder)


# -- the escape --------------------------------------------------------------------------------------------
@given(_texts(surrogates=False))
def test_escape_is_reversible_and_leaves_nothing_xml_forbids(text):
    escaped = escape(text)
    assert unescape(escaped) == text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", escaped)


def test_escape_examples():
    assert escape("\x1b[31mred\x1b[0m") == "\\u{1b}[31mred\\u{1b}[0m"
    assert escape("a\x00b\x01") == "a\\u{0}b\\u{1}"
    assert escape("\ufffe") == "\\u{fffe}"
    assert escape("x\ud800y") == "x\ufffdy"  # a lone surrogate is no character: replaced, not escaped
    assert escape("C:\\Users\\u") == "C:\\Users\\u"  # a backslash stays unless it would start an escape
    assert escape("\\u{41}") == "\\u{5c}u{41}" and unescape("\\u{5c}u{41}") == "\\u{41}"
    assert escape("tab\tcr\rlf\n") == "tab\tcr\rlf\n"  # allowed: written as character references instead
    with pytest.raises(ValueError, match="not a character"):
        unescape("\\u{d800}")
    with pytest.raises(ValueError, match="not a character"):
        unescape("\\u{110000}")


# -- any text in every field -------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_dicts(surrogates=True))
def test_any_text_gives_well_formed_exports_that_read_back(data):
    g = serialize.graph_from_dict(data)
    expected = _replace_surrogates(serialize.graph_to_dict(g))
    for fmt in XML_FORMATS:
        blob = ENCODE[fmt](g)
        ET.fromstring(blob)  # well-formed XML 1.0
        assert NX_READ[fmt](io.BytesIO(blob)).number_of_nodes() == len(g)
        back = _import_bytes(blob, fmt)
        assert serialize.graph_to_dict(back) == expected
        assert ENCODE[fmt](back) == blob


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_dicts(surrogates=False))
def test_without_surrogates_the_round_trip_is_exact_in_every_format(data):
    g = serialize.graph_from_dict(data)
    want = serialize.json_bytes(g)
    for fmt in XML_FORMATS:
        back = _import_bytes(ENCODE[fmt](g), fmt)
        assert serialize.json_bytes(back) == want  # rows, every field, dynamic state: the same JSON bytes
        assert nx.read_graphml(io.BytesIO(graphml_bytes(back))).number_of_nodes() == len(g)


# -- files -------------------------------------------------------------------------------------------------
def _rich_graph(odd: str = "\x1b") -> ThoughtGraph:
    """Every kind of content; ``odd`` (a control character by default) goes into the goal's id, title and texts."""
    g = ThoughtGraph()
    goal = f"goal{odd}"
    g.apply(ops.add_thought(g, f"Goal {odd}[1m✓", f"line one\r\nline two{odd}", kind="goal", node_id=goal, now=1.5,
                            metadata={"k": [1, 2.5, {"x": None}], "ctl": odd}, tags=["a\tb", "β"]))
    for i in range(4):
        g.apply(ops.add_thought(g, f"step {i}", kind="todo", parent=goal, node_id=f"s{i}", now=2.0 + i))
    g.apply(ops.link(g, "s1", "s2", "depends_on", weight=0.25, metadata={"why": "order"}))
    g.apply(ops.link(g, "s1", "s2", "mentions"))  # two edges between one pair
    g.apply(ops.edit(g, "s2", title="step two", status="done", now=9.0))
    g.apply(ops.edit(g, "s3", source={"file": "TODO.md", "key": "t-3", "line": 12}, now=9.5))
    g.apply(ops.delete(g, "s0"))  # rows are no longer in insertion order
    g.set_activation([0.5], ["s1"])
    g.set_flags(["s3"], NodeFlag.PINNED)
    return g


@pytest.mark.parametrize("fmt", ["json", *XML_FORMATS])
def test_export_import_export_gives_the_same_graph_and_bytes(tmp_path: Path, fmt):
    g = _rich_graph()
    first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    export_graph(g, first, fmt)
    back = import_graph(first)
    assert sniff(first.read_bytes()) == fmt
    assert back.to_dict() == g.to_dict()
    assert back.node("goal\x1b").content == "line one\r\nline two\x1b"
    export_graph(back, second, fmt)
    assert second.read_bytes() == first.read_bytes()


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_xml_forbidden_characters_used_to_break_the_export(tmp_path: Path, fmt):
    g = _rich_graph("\x01")
    old, new = tmp_path / f"old.{fmt}", tmp_path / f"new.{fmt}"
    _earlier_writer(g, old, fmt)  # the earlier writer
    with pytest.raises(ET.ParseError):
        ET.parse(old)
    export_graph(g, new, fmt)
    ET.parse(new)
    assert "goal\\u{1}" in NX_READ[fmt](new).nodes  # other tools show the escape
    assert import_graph(new).to_dict() == g.to_dict()  # and the import undoes it


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_files_of_the_earlier_networkx_export_still_import(tmp_path: Path, fmt):
    g = _rich_graph(odd="!")
    old = tmp_path / f"old.{fmt}"
    _earlier_writer(g, old, fmt)
    back = import_graph(old)
    want = g.to_dict()["nodes"]
    if fmt == "graphml":  # the earlier writer lost carriage returns in element text
        want[0]["content"] = want[0]["content"].replace("\r\n", "\n")
    assert back.to_dict()["nodes"] == want  # node rows, every field and the dynamic state
    assert sorted(e.key for e in back.edges()) == sorted(e.key for e in g.edges())
    assert back.edge("s1", "s2", "depends_on").weight == 0.25


def _graphml(body: str, *, header: bool = True, keys: str = "") -> bytes:
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
            '  <key id="t" for="node" attr.name="title" attr.type="string"/>\n'
            '  <key id="th" for="node" attr.name="theta" attr.type="double"/>\n'
            '  <key id="et" for="edge" attr.name="type" attr.type="string"/>\n'
            '  <key id="g.format" for="graph" attr.name="format" attr.type="string"/>\n'
            '  <key id="g.v" for="graph" attr.name="schema_version" attr.type="int"/>\n'
            '  <key id="g.e" for="graph" attr.name="text_escape" attr.type="string"/>\n'
            + keys + '  <graph edgedefault="directed">\n')
    if header:
        head += ('    <data key="g.format">orchestrator-gui.thought-graph</data>\n'
                 '    <data key="g.v">1</data>\n    <data key="g.e">backslash-u-brace</data>\n')
    return (head + body + "  </graph>\n</graphml>\n").encode()


def _line_of(content: bytes, marker: bytes) -> int:
    return next(i for i, ln in enumerate(content.split(b"\n"), 1) if marker in ln)


# case: (file content, a text on the line the error must name, what the message must say)
BAD = {
    "billion laughs": (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                       b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
                       b"<graphml><graph>&lol2;</graph></graphml>\n", b"<!DOCTYPE", "DOCTYPE is not accepted"),
    "external entity": (b'<?xml version="1.0"?>\n<!DOCTYPE g SYSTEM "file:///etc/passwd">\n<graphml/>\n',
                        b"<!DOCTYPE", "DOCTYPE"),
    "undefined entity": (_graphml('    <node id="a">&nbsp;</node>\n'), b"&nbsp;", "undefined entity"),
    "not well-formed": (_graphml('    <node id="a">\n    </nod>\n'), b"</nod>", "mismatched tag"),
    "raw control character": (_graphml('    <node id="a\x01"/>\n'), b"\x01", "not well-formed"),
    "unknown attribute": (_graphml('    <node id="a"><data key="c">red</data></node>\n',
                                   keys='  <key id="c" for="node" attr.name="colour" attr.type="string"/>\n'),
                          b"red", "unknown node attribute 'colour'"),
    "undeclared key": (_graphml('    <node id="a"><data key="nope">x</data></node>\n'), b"nope", "undeclared key"),
    "duplicate node": (_graphml('    <node id="b"/>\n    <node id="a"/>\n    <node id="a" />\n'), b'"a" />',
                       "node 'a' appears twice"),
    "edge to a missing node": (_graphml('    <node id="a"/>\n    <edge source="a" target="b">'
                                        '<data key="et">parent</data></edge>\n'), b"<edge", "no node 'b'"),
    "unknown edge type": (_graphml('    <node id="a"/><node id="b"/>\n    <edge source="a" target="b">\n'
                                   '      <data key="et">supports</data></edge>\n'), b"supports",
                          "unknown type 'supports'"),
    "self-link": (_graphml('    <node id="a"/>\n    <edge source="a" target="a"><data key="et">parent</data>'
                           '</edge>\n'), b"<edge", "linked to itself"),
    "not a number": (_graphml('    <node id="a"><data key="th">1.5e</data></node>\n'), b"1.5e", "is not a number"),
    "position out of range": (_graphml('    <node id="a">\n      <data key="th">7.5</data>\n    </node>\n'),
                              b'<node id="a">', "node 'a' is not valid: 1 validation error for Node"),
    "escape of a surrogate": (_graphml('    <node id="a">\n      <data key="t">x\\u{d800}</data>\n    </node>\n'),
                              b"d800", "is not a character"),
    "undirected": (_graphml("").replace(b'edgedefault="directed"', b'edgedefault="undirected"'),
                   b"edgedefault", "undirected graphs are not supported"),
    "deep nesting": (b"<graphml>" + b"<desc>" * 40 + b"</desc>" * 40 + b"</graphml>", b"<graphml>",
                     "deeper than 16"),
    "wrong root": (b"<html><body/></html>", b"<html>", "not a GraphML file"),
    "utf-16": ('<?xml version="1.0" encoding="UTF-16"?>\n<graphml/>\n'.encode("utf-16"), b"\xff\xfe",
               "UTF-16 encoded"),
    "a codec named by the file": (b'<?xml version="1.0" encoding="U"?>\n<graphml>\n<key></graphml>\n',
                                  b"<key>", "a <key> has no id"),  # read as UTF-8: no codec is looked up
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_xml_is_refused_naming_file_and_line(tmp_path: Path, case):
    content, marker, message = BAD[case]
    path = tmp_path / "bad.graphml"
    path.write_bytes(content)
    with pytest.raises(FormatError) as info:
        import_graph(path)
    assert info.value.file == str(path)
    assert message in info.value.message
    assert info.value.line == _line_of(content, marker), info.value


def test_gexf_errors_name_the_line_too(tmp_path: Path):
    good = gexf_bytes(_rich_graph())
    path = tmp_path / "bad.gexf"
    bad = good.replace(b'<attvalue for="kind" value="todo"/>', b'<attvalue for="colour" value="red"/>', 1)
    path.write_bytes(bad)
    with pytest.raises(FormatError, match="undeclared node attribute 'colour'") as info:
        import_graph(path)
    assert info.value.line == _line_of(bad, b"colour")
    path.write_bytes(good.replace(b'defaultedgetype="directed"', b'defaultedgetype="undirected"'))
    with pytest.raises(FormatError, match="only directed graphs"):
        import_graph(path)


def test_the_node_cap_applies_to_xml(tmp_path: Path):
    path = tmp_path / "many.graphml"
    content = _graphml("".join(f'<node id="n{i}"/>\n' for i in range(MAX_IMPORT_NODES + 1)), header=False)
    path.write_bytes(content)
    with pytest.raises(FormatError, match="more than 250,000 nodes") as info:
        import_graph(path)
    assert info.value.line == _line_of(content, f'"n{MAX_IMPORT_NODES}"'.encode())  # the node past the cap


def test_the_edge_cap_applies_to_xml():
    content = _graphml('<node id="a"/><node id="b"/><node id="c"/>\n' + "".join(
        f'<edge source="{s}" target="{d}"><data key="et">parent</data></edge>\n' for s, d in (("a", "b"), ("b", "c"))))
    with pytest.raises(FormatError, match="more than 1 edges") as info:
        read_graphml(content, GraphBuilder("g.graphml", max_nodes=10, max_edges=1))
    assert info.value.line == _line_of(content, b'source="b"')


def test_the_byte_cap_applies_to_xml(tmp_path: Path):
    from orchestrator_gui.store.exchange import MAX_IMPORT_BYTES

    big = tmp_path / "big.graphml"
    with open(big, "wb") as fh:
        fh.truncate(MAX_IMPORT_BYTES + 1)  # sparse: the size alone decides
    with pytest.raises(FormatError, match="too large"):
        import_graph(big)


def test_a_given_format_must_match_the_content(tmp_path: Path):
    path = tmp_path / "g.json"
    export_graph(_rich_graph(), path, "json")
    with pytest.raises(FormatError, match="not a graphml file"):
        import_graph(path, "graphml")
    with pytest.raises(ValueError, match="unknown import format"):
        import_graph(path, "dot")
