"""Serialisation: exact JSON round trip, columnar form, GraphML and GEXF that networkx reads back."""

from __future__ import annotations

import copy
import json

import networkx as nx
import numpy as np
import pytest

from orchestrator_gui.model import ThoughtGraph
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.nodes import NodeFlag
from orchestrator_gui.model.serialize import (
    SCHEMA_VERSION,
    graph_from_columns,
    graph_to_columns,
    read_json,
    write_json,
)
from orchestrator_gui.store.xml_gexf import gexf_bytes
from orchestrator_gui.store.xml_graphml import graphml_bytes

MIRRORS = ("ids", "positions", "spherical", "activation", "attention", "flags", "kind_index", "layer_index",
           "status_index", "created", "updated")


def rich() -> ThoughtGraph:
    """A graph using every field: source, history, tags, metadata, states, edge metadata, deleted rows."""
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Nightly build", kind="schedule", node_id="s1", now=1.5,
                            metadata={"cron": "0 3 * * *", "nested": {"a": [1, 2.5, None]}}))
    g.apply(ops.add_thought(g, "Fix flaky test ✓", "Details\nwith two lines", kind="todo", parent="s1",
                            tags=["ci", "flaky"], node_id="t1", now=2.25))
    g.apply(ops.add_thought(g, "Temp", kind="thought", parent="t1", node_id="tmp", now=3.0))
    g.apply(ops.add_thought(g, "Memory entry", kind="memory", node_id="m1", now=4.0))
    g.apply(ops.edit(g, "t1", title="Fix the flaky test", status="done", source={"file": "TODO.md", "key": "x1",
                                                                                "line": 12}, now=5.0))
    g.apply(ops.edit(g, "m1", last_activated=1.7e9 + 0.1, access_count=3, score=0.1 + 0.2, now=6.0))
    g.apply(ops.link(g, "m1", "t1", "mentions", weight=1 / 3, metadata={"text": "STG-019"}))
    g.apply(ops.link(g, "m1", "t1", "evidence_for", weight=0.75))
    g.apply(ops.delete(g, "tmp"))  # leaves a swapped row behind
    g.set_activation(np.array([0.1, 1e-300, 0.7]))
    g.set_attention([2.0 / 3.0], ["t1"])
    g.set_flags(["m1"], NodeFlag.ESCALATED | NodeFlag.PINNED)
    return g


def assert_same_mirrors(a: ThoughtGraph, b: ThoughtGraph) -> None:
    for name in MIRRORS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    ea, eb = a.edge_arrays(), b.edge_arrays()
    for field in ("src", "dst", "weight", "type"):
        np.testing.assert_array_equal(getattr(ea, field), getattr(eb, field), err_msg=field)


def test_json_round_trip_is_exact():
    g = rich()
    d = g.to_dict()
    assert d["schema_version"] == SCHEMA_VERSION and d["format"] == "orchestrator-gui.thought-graph"
    text = json.dumps(d, allow_nan=False)
    back = ThoughtGraph.from_dict(json.loads(text))
    assert back.to_dict() == d
    assert json.dumps(back.to_dict(), allow_nan=False) == text
    assert_same_mirrors(g, back)
    assert back.node("t1").source.line == 12
    assert back.node("t1").history[0].title == "Fix flaky test ✓"
    assert back.edge("m1", "t1", "mentions").metadata == {"text": "STG-019"}
    assert back.state("m1").flags == NodeFlag.ESCALATED | NodeFlag.PINNED


def test_loaded_graph_keeps_working_like_the_original():
    g = rich()
    back = ThoughtGraph.from_dict(g.to_dict())
    for graph in (g, back):
        graph.apply(ops.delete(graph, "s1", now=9.0))
        graph.apply(ops.add_thought(graph, "after", parent="m1", node_id="z", now=9.0))
    assert back.to_dict() == g.to_dict()
    assert_same_mirrors(g, back)


def test_files_round_trip(tmp_path):
    g = rich()
    path = tmp_path / "graph.json"
    write_json(g, path)
    assert read_json(path).to_dict() == g.to_dict()
    write_json(g, path)  # replacing an earlier export is fine
    assert path.read_bytes().endswith(b"\n")


def test_columns_round_trip_is_exact():
    g = rich()
    back = graph_from_columns(graph_to_columns(g))
    assert back.to_dict() == g.to_dict()
    assert_same_mirrors(g, back)


def _broken(mutator):
    d = rich().to_dict()
    mutator(d)
    return d


@pytest.mark.parametrize(
    ("mutator", "message"),
    [
        (lambda d: d.update(format="something else"), "format"),
        (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "schema_version"),
        (lambda d: d.update(extra=1), "unknown top-level"),
        (lambda d: d["edges"][0].update(type="likes"), "edge"),
        (lambda d: d["edges"][0].update(dst="nobody"), "edge"),
        (lambda d: d["edges"][0].update(weight="heavy"), "weight"),
        (lambda d: d["edges"][0].update(weight=True), "weight"),
        (lambda d: d["nodes"][0].update(state={"activation": float("inf")}), "finite"),
        (lambda d: d["nodes"][0].update(state={"mood": 1}), "state"),
        (lambda d: d["nodes"][0].update(state={"flags": -1}), "flags"),
        (lambda d: d["nodes"][0].update(state={"flags": 1.5}), "flags"),
        (lambda d: d["nodes"][0].update(colour="red"), "colour"),
        (lambda d: d["nodes"][1].update(id=d["nodes"][0]["id"]), "duplicate"),
        (lambda d: d["nodes"][0].update(theta=7.0), "theta"),
    ],
)
def test_from_dict_rejects_malformed_input(mutator, message):
    with pytest.raises(ValueError, match=message):
        ThoughtGraph.from_dict(_broken(mutator))


def test_from_dict_does_not_modify_its_input():
    d = rich().to_dict()
    original = copy.deepcopy(d)
    ThoughtGraph.from_dict(d)
    assert d == original


def test_to_networkx_keeps_full_attributes():
    g = rich()
    nxg = g.to_networkx()
    assert nxg.nodes["t1"]["tags"] == ["ci", "flaky"]
    assert nxg.edges["m1", "t1", "mentions"]["weight"] == 1 / 3
    assert nxg.nodes["m1"]["flags"] == int(NodeFlag.ESCALATED | NodeFlag.PINNED)


# The XML writers live in the store layer now (store/xml_*.py); networkx must still read what they write.
def test_graphml_export_loads_back_in_networkx(tmp_path):
    g = rich()
    path = tmp_path / "graph.graphml"
    path.write_bytes(graphml_bytes(g))
    back = nx.read_graphml(path, force_multigraph=True)
    assert back.number_of_nodes() == len(g) == 3
    assert back.number_of_edges() == g.number_of_edges() == 3
    t1 = back.nodes["t1"]
    assert t1["title"] == "Fix the flaky test"
    assert json.loads(t1["tags"]) == ["ci", "flaky"]
    assert json.loads(t1["source"]) == {"file": "TODO.md", "key": "x1", "line": 12}
    assert "last_activated" not in t1  # None is left out
    assert back.nodes["m1"]["last_activated"] == 1.7e9 + 0.1
    assert {d["type"] for _, _, d in back.edges(data=True)} >= {"mentions", "evidence_for"}


def test_gexf_export_loads_back_in_networkx(tmp_path):
    g = rich()
    path = tmp_path / "graph.gexf"
    path.write_bytes(gexf_bytes(g))
    back = nx.read_gexf(path)
    assert back.number_of_nodes() == len(g)
    assert back.number_of_edges() == g.number_of_edges()
    assert back.nodes["m1"]["label"] == "Memory entry"
    x = back.nodes["m1"]["viz"]["position"]["x"]
    assert x == pytest.approx(g.positions[g.row_of("m1"), 0], abs=1e-6)
    assert b"<gexf" in path.read_bytes()[:400]
