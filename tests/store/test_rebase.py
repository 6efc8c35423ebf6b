"""Journaled transactions replayed onto a graph they were not made on (``graph recover``'s replay)."""

from __future__ import annotations

import pytest

from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.errors import GraphError
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.store.rebase import adapt


def graph_with(*ids: str) -> ThoughtGraph:
    g = ThoughtGraph()
    for i, node_id in enumerate(ids):
        g.apply(ops.add_thought(g, node_id.upper(), node_id=node_id, now=float(i)))
    return g


def committed(g: ThoughtGraph, tx: Transaction) -> Transaction:
    return g.apply(tx, record=False)


def test_a_move_from_elsewhere_moves_the_nodes_that_exist():
    made_on = graph_with("a", "b")
    tx = committed(made_on, ops.move(made_on, {"a": (1.0, 0.5), "b": (2.0, 0.7)}))
    other = graph_with("a")
    other.apply(ops.move(other, {"a": (0.3, 0.3)}), record=False)  # "a" is somewhere else here
    with pytest.raises(GraphError):
        other.apply(tx, record=False)
    fixed = adapt(tx, other)
    assert fixed is not None and fixed.id == tx.id and fixed.provenance == tx.provenance
    other.apply(fixed, record=False)
    assert other.spherical[other.row_of("a")][:2].tolist() == pytest.approx([1.0, 0.5])


def test_an_edit_of_a_changed_node_sets_the_new_value_from_the_current_one():
    made_on = graph_with("a")
    tx = committed(made_on, ops.edit(made_on, "a", title="Renamed"))
    other = graph_with("a")
    other.apply(ops.edit(other, "a", title="Something else"), record=False)
    fixed = adapt(tx, other)
    other.apply(fixed, record=False)
    assert other.node("a").title == "Renamed"


def test_links_to_nodes_that_are_gone_are_dropped_and_links_to_new_nodes_kept():
    made_on = graph_with("a", "gone")
    tx = committed(made_on, ops.add_thought(made_on, "child", node_id="c", parent="gone"))
    linked = committed(made_on, ops.link(made_on, "c", "a", "mentions"))
    other = graph_with("a")
    other.apply(adapt(tx, other), record=False)  # the node comes, its link to "gone" does not
    assert "c" in other and other.edges_of("c") == []
    assert adapt(tx, other) is None  # replayed twice: nothing left to do
    other.apply(adapt(linked, other) or linked, record=False)
    assert other.has_edge("c", "a", "mentions")


def test_a_removal_of_what_is_not_there_is_nothing():
    made_on = graph_with("a", "b")
    tx = committed(made_on, ops.delete(made_on, "b"))
    assert adapt(tx, graph_with("a")) is None
    there = graph_with("a", "b")
    there.apply(ops.move(there, {"b": (0.2, 0.2)}), record=False)
    there.apply(adapt(tx, there), record=False)  # removed from wherever it is now
    assert there.node_ids() == ["a"]
