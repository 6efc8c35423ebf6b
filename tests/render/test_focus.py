"""Which nodes stand out: neighbourhood, focus and kind masks (pure, no GL), checked against networkx."""

from __future__ import annotations

import shutil

import networkx as nx
import numpy as np
import pytest

from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.migration import build_graph
from orchestrator_gui.render import arrays
from orchestrator_gui.render.focus import FocusState, context_mask, focus_mask, hop_mask, kind_mask


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    ws = tmp_path_factory.mktemp("demo") / "ws"
    shutil.copytree(BUNDLED_DEMO, ws)
    return build_graph(ws)


def _hops(graph, node_id, depth):
    und = nx.Graph()
    und.add_nodes_from(graph.node_ids())
    und.add_edges_from((e.src, e.dst) for e in graph.edges())
    return set(nx.single_source_shortest_path_length(und, node_id, cutoff=depth))


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_focus_is_exactly_the_k_hop_set(graph, depth):
    for node_id in graph.node_ids()[::17]:
        mask = focus_mask(graph, node_id, depth)
        assert set(graph.ids_of(np.flatnonzero(mask))) == _hops(graph, node_id, depth)


def test_context_is_the_hovered_and_selected_nodes_with_their_neighbours(graph):
    ids = graph.node_ids()
    graph.select([], "replace")
    assert context_mask(graph, None) is None
    hovered, picked = ids[5], ids[40]
    assert set(graph.ids_of(np.flatnonzero(context_mask(graph, hovered)))) == _hops(graph, hovered, 1)
    graph.select([picked], "replace")
    both = _hops(graph, hovered, 1) | _hops(graph, picked, 1)
    assert set(graph.ids_of(np.flatnonzero(context_mask(graph, hovered)))) == both
    assert set(graph.ids_of(np.flatnonzero(context_mask(graph, None)))) == _hops(graph, picked, 1)
    graph.select([], "replace")


def test_presence_dims_outside_the_context_and_hides_outside_focus_and_filter(graph):
    graph.select([], "replace")
    state = FocusState()
    hovered = graph.node_ids()[5]
    state.refresh(graph, hovered)
    pres = arrays.node_presence(graph, context=state.context, only=state.only)
    inside = state.context
    assert (pres[inside] == 1.0).all() and (pres[~inside] == arrays.DIM).all()
    state.target = (hovered, 2)
    state.kinds = frozenset({"todo", "plan"})
    state.refresh(graph, None)
    pres = arrays.node_presence(graph, context=state.context, only=state.only)
    shown = set(graph.ids_of(np.flatnonzero(pres > 0)))
    expected = {i for i in _hops(graph, hovered, 2) if graph.node(i).kind.value in ("todo", "plan")}
    assert shown == expected
    # edges fade with their ends: an edge to a hidden node is invisible
    ea = graph.edge_arrays()
    col = arrays.edge_colors(graph, presence=pres)
    hidden_end = (pres[ea.src] == 0) | (pres[ea.dst] == 0)
    assert (col[hidden_end, 3] == 0).all() and (col[~hidden_end, 3] > 0).all()


def test_a_deleted_focus_node_ends_focus_mode_and_bad_depths_are_refused(graph):
    state = FocusState()
    state.target = ("gone::node", 1)
    state.refresh(graph, None)
    assert state.target is None and state.only is None
    with pytest.raises(ValueError):
        focus_mask(graph, graph.node_ids()[0], 4)
    with pytest.raises(KeyError):
        focus_mask(graph, "nope", 1)
    assert not hop_mask(graph, [], 1).any()
    todo = kind_mask(graph, ["todo"])
    assert all(graph.node(i).kind.value == "todo" for i in graph.ids_of(np.flatnonzero(todo)))
