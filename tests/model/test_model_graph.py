"""ThoughtGraph storage: nodes, edges, numpy mirrors, row maps, bulk build, dynamic values."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator_gui.model import (
    AddEdge,
    AddNode,
    DuplicateError,
    Edge,
    EdgeNotFound,
    EdgeType,
    Node,
    NodeFlag,
    NodeNotFound,
    RemoveEdge,
    RemoveNode,
    ThoughtGraph,
    Transaction,
)
from orchestrator_gui.model.coords import to_cartesian
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, KIND_INDEX, LAYER_INDEX, SHELL_RADII, Layer


def tx(*edits):
    return Transaction.create("test", list(edits), now=0.0)


def chain(n: int) -> ThoughtGraph:
    """n todo nodes t0..t{n-1} with t{i} -depends_on-> t{i+1}."""
    g = ThoughtGraph()
    edits = [
        AddNode(node=Node(id=f"t{i}", kind="todo", title=f"task {i}", theta=0.1 * i, phi=0.0, created=float(i)))
        for i in range(n)
    ]
    edits += [AddEdge(edge=Edge(src=f"t{i}", dst=f"t{i + 1}", type="depends_on")) for i in range(n - 1)]
    g.apply(tx(*edits))
    return g


def assert_mirrors_consistent(g: ThoughtGraph) -> None:
    """Every mirror row agrees with the node models and every edge row with the edge models."""
    for row, node in enumerate(g.nodes()):
        assert g.row_of(node.id) == row
        assert g.id_of(row) == node.id
        assert tuple(g.spherical[row]) == node.spherical
        np.testing.assert_array_equal(g.positions[row], to_cartesian(node.spherical))
        assert g.kind_index[row] == KIND_INDEX[node.kind.value]
        assert g.layer_index[row] == LAYER_INDEX[node.layer.value]
        assert g.created[row] == node.created
    ea = g.edge_arrays()
    for row, edge in enumerate(g.edges()):
        assert g.id_of(int(ea.src[row])) == edge.src
        assert g.id_of(int(ea.dst[row])) == edge.dst
        assert ea.type[row] == EDGE_TYPE_INDEX[edge.type.value]
        assert g.edge_row(edge.src, edge.dst, edge.type) == row
    # The incidence index agrees with the edge list.
    for node in g.nodes():
        expected = {e.key for e in g.edges() if node.id in (e.src, e.dst)}
        assert {e.key for e in g.edges_of(node.id)} == expected


def test_add_nodes_fills_mirrors_and_defaults():
    g = chain(4)
    assert len(g) == 4 and g.number_of_edges() == 3
    assert g.node_ids() == ["t0", "t1", "t2", "t3"]
    assert g.node("t2").layer is Layer.EXECUTION
    assert g.node("t2").r == SHELL_RADII[Layer.EXECUTION]
    assert g.positions.shape == (4, 3) and g.positions.dtype == np.float64
    assert_mirrors_consistent(g)


def test_mirrors_are_read_only_views():
    g = chain(2)
    with pytest.raises(ValueError):
        g.positions[0, 0] = 1.0
    with pytest.raises(ValueError):
        g.edge_arrays().src[0] = 1


def test_delete_swaps_last_row_into_the_hole_and_fixes_edges():
    g = chain(5)
    g.apply(tx(RemoveNode(node_id="t1")))
    # t4 (last row) moved into row 1; its edge t3 -> t4 now points at row 1.
    assert g.node_ids() == ["t0", "t4", "t2", "t3"]
    assert g.row_of("t4") == 1
    assert g.number_of_edges() == 2
    ea = g.edge_arrays()
    pairs = {(g.id_of(int(s)), g.id_of(int(d))) for s, d in zip(ea.src, ea.dst)}
    assert pairs == {("t2", "t3"), ("t3", "t4")}
    assert_mirrors_consistent(g)
    with pytest.raises(NodeNotFound):
        g.row_of("t1")


def test_edges_of_different_types_may_join_the_same_pair_but_not_twice_the_same():
    g = chain(2)
    g.apply(tx(AddEdge(edge=Edge(src="t0", dst="t1", type="similar", weight=0.5))))
    assert g.has_edge("t0", "t1", "depends_on") and g.has_edge("t0", "t1", EdgeType.SIMILAR)
    assert not g.has_edge("t1", "t0", "similar")  # directed
    assert g.edge("t0", "t1", "similar").weight == 0.5
    with pytest.raises(DuplicateError):
        g.apply(tx(AddEdge(edge=Edge(src="t0", dst="t1", type="similar"))))
    assert g.number_of_edges() == 2


def test_invalid_edges_and_nodes_are_refused():
    g = chain(2)
    with pytest.raises(ValueError, match="self-loop"):
        Edge(src="t0", dst="t0", type="parent")
    with pytest.raises(NodeNotFound):
        g.apply(tx(AddEdge(edge=Edge(src="t0", dst="nope", type="parent"))))
    with pytest.raises(EdgeNotFound):
        g.apply(tx(RemoveEdge(src="t1", dst="t0", type="depends_on")))
    with pytest.raises(DuplicateError):
        g.apply(tx(AddNode(node=Node(id="t0"))))
    with pytest.raises(ValueError):
        Node(id="x", theta=7.0)  # not canonical
    with pytest.raises(ValueError):
        Node(id="x", metadata={"a": {1, 2}})  # not JSON
    with pytest.raises(ValueError):
        Node(id="x", score=float("nan"))
    assert len(g) == 2 and g.number_of_edges() == 1


def test_nodes_are_frozen():
    g = chain(1)
    with pytest.raises(ValueError):
        g.node("t0").title = "changed"  # type: ignore[misc]


def test_many_random_deletes_keep_everything_consistent():
    rng = np.random.default_rng(3)
    g = chain(40)
    extra = set()
    for _ in range(60):
        a, b = rng.integers(0, 40, 2)
        if a != b and (a, b) not in extra:
            extra.add((a, b))
            g.apply(tx(AddEdge(edge=Edge(src=f"t{a}", dst=f"t{b}", type="mentions"))))
    for i in rng.permutation(40)[:25]:
        g.apply(tx(RemoveNode(node_id=f"t{i}")))
        assert_mirrors_consistent(g)
    assert len(g) == 15


def test_from_arrays_builds_the_same_graph_as_transactions():
    ids = ["a", "b", "c"]
    g = ThoughtGraph.from_arrays(
        ids,
        ["goal", "plan", "todo"],
        titles=["A", "B", "C"],
        edge_src=[0, 1, 0],
        edge_dst=[1, 2, 2],
        edge_types=["parent", "parent", "mentions"],
        edge_weights=[1.0, 2.0, 0.5],
        now=10.0,
    )
    assert g.node_ids() == ids
    assert [n.layer.value for n in g.nodes()] == ["goal", "navigation", "execution"]
    assert g.spherical[:, 2].tolist() == [1.0, 2.0, 3.0]
    assert g.edge("b", "c", "parent").weight == 2.0
    assert g.node("a").created == 10.0
    assert_mirrors_consistent(g)
    # It keeps working incrementally afterwards.
    g.apply(tx(RemoveNode(node_id="a")))
    assert g.node_ids() == ["c", "b"]
    assert_mirrors_consistent(g)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"edge_src": [0], "edge_dst": [0], "edge_types": ["parent"]}, ValueError),
        ({"edge_src": [0], "edge_dst": [5], "edge_types": ["parent"]}, ValueError),
        ({"edge_src": [0, 0], "edge_dst": [1, 1], "edge_types": ["parent", "parent"]}, DuplicateError),
        ({"edge_src": [0], "edge_dst": [1], "edge_types": ["bogus"]}, ValueError),
        ({"spherical": [[7.0, 0, 1], [0, 0, 1]]}, ValueError),
    ],
)
def test_from_arrays_validates(kwargs, error):
    with pytest.raises(error):
        ThoughtGraph.from_arrays(["a", "b"], ["todo", "todo"], **kwargs)


def test_from_arrays_refuses_duplicate_ids():
    with pytest.raises(DuplicateError):
        ThoughtGraph.from_arrays(["a", "a"], ["todo", "todo"])


def test_dynamic_values_and_selection():
    g = chain(4)
    g.set_activation(np.array([0.1, 0.2, 0.3, 0.4]))
    g.set_activation([0.9], ["t2"])
    assert g.activation.tolist() == [0.1, 0.2, 0.9, 0.4]
    g.set_attention(1.0, np.array([0, 3]))
    assert g.attention.tolist() == [1.0, 0.0, 0.0, 1.0]
    with pytest.raises(ValueError):
        g.set_activation(np.array([np.nan] * 4))
    g.select(["t1", "t3"])
    assert g.selected_ids() == ("t1", "t3")
    g.select(["t3", "t0"], mode="toggle")
    assert g.selected_ids() == ("t0", "t1")
    g.select(["t2"], mode="replace")
    assert g.selected_ids() == ("t2",)
    g.set_flags(["t1"], NodeFlag.ESCALATED)
    assert g.state("t1").flags == NodeFlag.ESCALATED
    assert g.state("t2").flags == NodeFlag.SELECTED
