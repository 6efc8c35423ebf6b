"""Queries on small hand-made graphs, cross-checked against networkx on random ones."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from orchestrator_gui.model import AddEdge, Edge, RemoveEdge, RemoveNode, ThoughtGraph, Transaction
from orchestrator_gui.model import queries as q
from orchestrator_gui.model.adjacency import Adjacency


def small() -> ThoughtGraph:
    r"""
    a -parent-> b -parent-> d -mentions-> e        f (alone)
    a -parent-> c -depends_on-> d
    """
    return ThoughtGraph.from_arrays(
        ["a", "b", "c", "d", "e", "f"],
        ["goal", "plan", "plan", "todo", "memory", "thought"],
        titles=["Release plan", "Write tests", "Fix the build", "Run the loop", "Notes", "Loose idea"],
        contents=["", "unit and property tests", "", "retry on plan failure", "", "maybe"],
        statuses=["open", "done", "open", "active", "open", "open"],
        created=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        edge_src=[0, 1, 0, 2, 3],
        edge_dst=[1, 3, 2, 3, 4],
        edge_types=["parent", "parent", "parent", "depends_on", "mentions"],
        now=0.0,
    )


def test_neighbourhood():
    g = small()
    assert q.neighbourhood(g, "a", 1) == ["a", "b", "c"]
    assert q.neighbourhood(g, "a", 2) == ["a", "b", "c", "d"]
    assert q.neighbourhood(g, "a", 3) == ["a", "b", "c", "d", "e"]
    assert q.neighbourhood(g, "a", 0) == ["a"]
    assert q.neighbourhood(g, "d", 1, include_self=False) == ["b", "c", "e"]
    assert q.neighbourhood(g, "d", 1, direction="out") == ["d", "e"]
    assert q.neighbourhood(g, "d", 1, direction="in") == ["d", "b", "c"]
    assert q.neighbourhood(g, "a", 5, edge_types=["parent"]) == ["a", "b", "c", "d"]
    assert q.neighbourhood(g, "f", 3) == ["f"]
    with pytest.raises(ValueError):
        q.neighbourhood(g, "a", 1, direction="sideways")


def test_bfs_and_dfs():
    g = small()
    assert q.bfs(g, "a") == ["a", "b", "c", "d", "e"]
    assert q.bfs(g, "e", direction="in") == ["e", "d", "b", "c", "a"]
    assert q.bfs(g, "a", depth=1) == ["a", "b", "c"]
    assert q.dfs(g, "a") == ["a", "b", "d", "c", "e"]
    assert q.dfs(g, "a", direction="out") == ["a", "b", "d", "e", "c"]


def test_shortest_path():
    g = small()
    assert q.shortest_path(g, "a", "e") == ["a", "b", "d", "e"]
    assert q.shortest_path(g, "e", "a", direction="in") == ["e", "d", "b", "a"]
    assert q.shortest_path(g, "e", "a", direction="out") is None
    assert q.shortest_path(g, "c", "e", edge_types=["parent"]) is None
    assert q.shortest_path(g, "a", "a") == ["a"]
    assert q.shortest_path(g, "a", "f") is None


def test_subgraph_is_independent():
    g = small()
    g.set_activation([0.7], ["b"])
    sub = q.subgraph(g, ["d", "b", "a"])
    assert sub.node_ids() == ["d", "b", "a"]
    assert sorted(e.key for e in sub.edges()) == [("a", "b", "parent"), ("b", "d", "parent")]
    assert sub.state("b").activation == 0.7
    np.testing.assert_array_equal(sub.positions[sub.row_of("a")], g.positions[g.row_of("a")])
    sub.apply(Transaction.create("x", [RemoveNode(node_id="b")]))
    assert "b" in g and g.number_of_edges() == 5


def test_search_ranks_title_before_content():
    g = small()
    assert q.search(g, "plan") == ["a", "d"]  # title hit first, then content
    assert q.search(g, "TESTS") == ["b"]
    assert q.search(g, "run loop") == ["d"]  # every word must match
    assert q.search(g, "run banana") == []
    assert q.search(g, "") == []
    assert q.search(g, "plan", kind="todo") == ["d"]
    assert q.search(g, "e", limit=2) == q.search(g, "e")[:2]


def test_filters():
    g = small()
    assert q.filter_nodes(g, kind="plan") == ["b", "c"]
    assert q.filter_nodes(g, kind=["plan", "goal"]) == ["a", "b", "c"]
    assert q.filter_nodes(g, layer="execution") == ["d"]
    assert q.filter_nodes(g, status="open", layer="navigation") == ["c", "e", "f"]  # b is done
    assert q.filter_nodes(g, created_after=2.0, created_before=4.0) == ["b", "c"]
    assert q.filter_nodes(g, updated_before=0.5) == ["a", "b", "c", "d", "e", "f"]
    assert q.filter_nodes(g, tag="x") == []
    with pytest.raises(ValueError):
        q.filter_nodes(g, kind="banana")


def test_active_region():
    g = small()
    assert q.active_region(g, 0.5) == []
    g.set_activation([0.9, 0.5], ["d", "f"])
    assert q.active_region(g, 0.5, 0) == ["d", "f"]
    assert q.active_region(g, 0.5, 1) == ["b", "c", "d", "e", "f"]
    assert q.active_region(g, 0.6, 2) == ["a", "b", "c", "d", "e"]
    rows = q.active_region_rows(g, 0.6, 1, direction="out")
    assert g.ids_of(rows) == ["d", "e"]


@pytest.mark.parametrize("rebuild_min", [0, 10**9])
def test_traversals_match_networkx_under_random_edits(rebuild_min, monkeypatch):
    """Both the CSR base (frequent rebuilds) and the overlay (no rebuild) give networkx's answers."""
    monkeypatch.setattr(Adjacency, "REBUILD_MIN", rebuild_min)
    monkeypatch.setattr(Adjacency, "REBUILD_FRACTION", 0.0 if rebuild_min == 0 else 1.0)
    rng = np.random.default_rng(11)
    n = 60
    src = rng.integers(0, n, 150)
    dst = rng.integers(0, n, 150)
    ok = src != dst
    types = rng.choice(["parent", "mentions", "similar"], 150)
    keys = {}
    for s, d, t in zip(src[ok], dst[ok], types[ok]):
        keys.setdefault((int(s), int(d), str(t)), None)
    es, ed, et = zip(*keys)
    g = ThoughtGraph.from_arrays([f"n{i}" for i in range(n)], ["thought"] * n, edge_src=es, edge_dst=ed, edge_types=et)
    for step in range(40):
        ids = g.node_ids()
        if step % 3 == 0:
            g.apply(Transaction.create("x", [RemoveNode(node_id=ids[int(rng.integers(len(ids)))])]))
        elif step % 3 == 1 and g.number_of_edges():
            e = list(g.edges())[int(rng.integers(g.number_of_edges()))]
            g.apply(Transaction.create("x", [RemoveEdge(src=e.src, dst=e.dst, type=e.type)]))
        else:
            a, b = rng.choice(ids, 2, replace=False)
            if not g.has_edge(a, b, "mentions"):
                g.apply(Transaction.create("x", [AddEdge(edge=Edge(src=a, dst=b, type="mentions"))]))
        nxg = g.to_networkx()
        und = nx.Graph(nxg)
        for source in g.node_ids()[:10]:
            want = nx.single_source_shortest_path_length(und, source, cutoff=2)
            assert set(q.neighbourhood(g, source, 2)) == set(want)
            want_out = nx.single_source_shortest_path_length(nxg, source)
            assert set(q.bfs(g, source, direction="out")) == set(want_out)
            target = g.node_ids()[-1]
            path = q.shortest_path(g, source, target)
            if nx.has_path(und, source, target):
                assert len(path) - 1 == nx.shortest_path_length(und, source, target)
                assert all(und.has_edge(u, v) for u, v in zip(path, path[1:]))
            else:
                assert path is None


def test_overlay_handles_removing_and_restoring_bulk_built_edges():
    """Undoing an unlink of a bulk-built edge re-adds the very same key to the CSR base."""
    from orchestrator_gui.model import operations as ops

    g = small()
    before = {i: q.neighbourhood(g, i, 2) for i in g.node_ids()}
    g.apply(ops.unlink(g, "b", "d"))
    assert q.neighbourhood(g, "b", 1) == ["b", "a"]
    g.undo()
    assert g.adjacency().overlay_size() == 0  # the removal was cancelled, not listed twice
    g.apply(ops.delete(g, "d"))
    assert q.neighbourhood(g, "e", 1) == ["e"]
    g.undo()
    assert {i: q.neighbourhood(g, i, 2) for i in g.node_ids()} == before
    assert sorted(e.key for e in g.edges_of("d")) == [("b", "d", "parent"), ("c", "d", "depends_on"),
                                                      ("d", "e", "mentions")]
