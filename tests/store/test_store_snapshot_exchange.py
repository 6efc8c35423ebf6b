"""The snapshot codec is exact; JSON export/import round-trips byte for byte; GraphML/GEXF load in networkx."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import NodeFlag
from orchestrator_gui.problems import FormatError
from orchestrator_gui.store import EXPORT_FORMATS, GraphStore, export_graph, import_json
from orchestrator_gui.store.snapshot import SnapshotError, decode_graph, encode_graph


def _rich_graph() -> ThoughtGraph:
    """Every kind of content the snapshot must carry: metadata, tags, sources, history, dynamic state, row moves."""
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Goal: ship ✓", "résumé\nline two", kind="goal", node_id="goal", now=1.5,
                            metadata={"k": [1, 2, {"x": None}]}, tags=["alpha", "β"]))
    for i in range(6):
        g.apply(ops.add_thought(g, f"step {i}", kind="todo", parent="goal", node_id=f"s{i}", now=2.0 + i))
    g.apply(ops.link(g, "s1", "s2", "depends_on", weight=0.25, metadata={"why": "order"}))
    g.apply(ops.link(g, "s3", "s1", "mentions"))
    g.apply(ops.edit(g, "s2", title="step two", status="done", now=9.0))  # adds a history version
    g.apply(ops.edit(g, "s4", source={"file": "TODO.md", "key": "t-4", "line": 12}, now=9.5))
    g.apply(ops.delete(g, "s0"))  # swap-remove: rows are no longer in insertion order
    g.set_activation([0.5, 0.125], ["s1", "s3"])
    g.set_attention([2.0], ["goal"])
    g.select(["s2"])
    g.set_flags(["s5"], NodeFlag.PINNED)
    return g


def test_snapshot_round_trip_is_exact():
    g = _rich_graph()
    blob, raw_size = encode_graph(g)
    assert raw_size > len(blob)
    back = decode_graph(blob)
    assert back.to_dict() == g.to_dict()
    assert np.array_equal(back.positions, g.positions)
    assert back.edge("s1", "s2", "depends_on").metadata == {"why": "order"}
    assert back.selected_ids() == ("s2",)


def test_snapshot_of_an_empty_graph():
    assert decode_graph(encode_graph(ThoughtGraph())[0]).to_dict() == ThoughtGraph().to_dict()


def test_snapshot_with_inconsistent_sections_is_refused():
    g = _rich_graph()
    blob, _ = encode_graph(g)
    raw = zlib.decompress(blob)
    with pytest.raises(SnapshotError, match="truncated"):
        decode_graph(zlib.compress(raw[:-7]))
    with pytest.raises(SnapshotError, match="trailing bytes"):
        decode_graph(zlib.compress(raw + b"x"))


def test_store_round_trip_keeps_rows_and_dynamic_state(tmp_path: Path):
    g = _rich_graph()
    store = GraphStore.open(tmp_path / "graph.db")
    store.replace_graph(g)
    store.close()
    again = GraphStore.open(tmp_path / "graph.db")
    assert again.graph.to_dict() == g.to_dict()
    again.close()


def test_json_export_import_export_is_byte_identical(tmp_path: Path):
    g = _rich_graph()
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    export_graph(g, first)
    back = import_json(first)
    assert back.to_dict() == g.to_dict()
    export_graph(back, second)
    assert second.read_bytes() == first.read_bytes()
    data = json.loads(first.read_text(encoding="utf-8"))
    assert (data["format"], data["schema_version"]) == ("orchestrator-gui.thought-graph", 1)
    assert len(data["nodes"]) == 6 and len(data["edges"]) == 7
    export_graph(_rich_graph(), first)  # replacing an earlier export is allowed
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        ('{"format": "orchestrator-gui.thought-graph",\n "schema_version": 1,\n "nodes": [,]}', "invalid JSON", 3),
        ('{"format": "something-else", "schema_version": 1}', "not a valid thought graph", None),
        ('{"format": "orchestrator-gui.thought-graph", "schema_version": 2, "nodes": [], "edges": []}',
         "unsupported schema_version 2", None),
        ('{"format": "orchestrator-gui.thought-graph", "schema_version": 1, "nodes": [{"id": "a", "kind": "nope"}],'
         ' "edges": []}', "not a valid thought graph", None),
        ('{"format": "orchestrator-gui.thought-graph", "schema_version": 1, "nodes": [{"id": "a"}],'
         ' "edges": [{"src": "a", "dst": "b", "type": "parent"}]}', "unknown node", None),
    ],
)
def test_import_rejects_invalid_files_naming_file_and_line(tmp_path: Path, content: str, message: str, line):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError, match=message) as info:
        import_json(path)
    assert info.value.file == str(path)
    assert info.value.line == line


def test_import_of_a_missing_file_is_a_format_error(tmp_path: Path):
    with pytest.raises(FormatError, match="file not found"):
        import_json(tmp_path / "missing.json")


def test_graphml_and_gexf_exports_load_back_in_networkx(tmp_path: Path):
    g = _rich_graph()
    gml, gexf = tmp_path / "g.graphml", tmp_path / "g.gexf"
    export_graph(g, gml, "graphml")
    export_graph(g, gexf, "gexf")
    for loaded in (nx.read_graphml(gml), nx.read_gexf(gexf)):
        assert sorted(loaded.nodes) == sorted(g.node_ids())
        assert loaded.number_of_edges() == g.number_of_edges()
    back = nx.read_graphml(gml)
    assert back.nodes["s2"]["title"] == "step two"
    assert back.nodes["s2"]["status"] == "done"
    with pytest.raises(ValueError, match="unknown export format"):
        export_graph(g, tmp_path / "g.dot", "dot")
    assert EXPORT_FORMATS == ("json", "graphml", "gexf")


def test_snapshot_keeps_layers_and_radii_that_differ_from_their_defaults():
    # The snapshot leaves default-valued fields out; layer and r have defaults that depend on the
    # kind and the layer, so a node moved off its kind's shell must come back where it was.
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "todo on the inner shell", kind="todo", layer="navigation", node_id="t", now=1.0))
    g.apply(ops.add_thought(g, "goal on the middle shell", kind="goal", layer="navigation", node_id="p", now=1.0))
    g.apply(ops.add_thought(g, "thought off its shell", node_id="r", now=1.0))
    g.apply(ops.move(g, {"r": (0.5, 1.0, 2.75), "p": (1.0, -0.5, 2.0)}))
    g.apply(ops.add_thought(g, "plain", node_id="d", now=0.0))
    before = {n.id: (n.kind, n.layer, n.r) for n in g.nodes()}
    assert before["t"][1] == "navigation" and before["p"][2] == 2.0  # really off their defaults
    back = decode_graph(encode_graph(g)[0])
    assert {n.id: (n.kind, n.layer, n.r) for n in back.nodes()} == before
    assert back.to_dict() == g.to_dict()
    assert np.array_equal(back.layer_index, g.layer_index)


def test_a_snapshot_written_with_every_field_still_loads():
    # Snapshots written before defaults were left out hold every field; they load unchanged.
    import orchestrator_gui.store.snapshot as codec

    g = _rich_graph()
    _, parts = codec._split(zlib.decompress(encode_graph(g)[0]))
    sections = {**{k: bytes(b) for k, (_, b) in parts.items()},
                "nodes": codec._NODES.dump_json(list(g.nodes()))}
    specs = [[k, parts[k][0], len(b)] for k, b in sections.items()]
    header = json.dumps({"n": g.number_of_nodes(), "m": g.number_of_edges(), "sections": specs}).encode()
    v1 = zlib.compress(codec.MAGIC + len(header).to_bytes(4, "little") + header + b"".join(sections.values()))
    assert decode_graph(v1).to_dict() == g.to_dict()
