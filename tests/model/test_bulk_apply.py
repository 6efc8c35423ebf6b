"""Long runs of node additions are applied in one vectorised step, with exactly the one-by-one outcome."""

from __future__ import annotations

import numpy as np
import pytest
from test_model_transactions import assert_same, count_events, snapshot

from orchestrator_gui.model import ThoughtGraph, Transaction
from orchestrator_gui.model import graph as graph_module
from orchestrator_gui.model.errors import DuplicateError, NodeNotFound
from orchestrator_gui.model.nodes import Edge, EdgeType, Node, NodeFlag, NodeState
from orchestrator_gui.model.transactions import AddEdge, AddNode

KINDS = ("memory", "todo", "plan", "goal", "thought")
STATUSES = ("open", "done", "active")


def _adds(n: int, prefix: str = "n") -> list[AddNode]:
    rng = np.random.default_rng(3)
    out = []
    for k in range(n):
        node = Node(id=f"{prefix}{k}", kind=KINDS[k % 5], title=f"item {k}", status=STATUSES[k % 3],
                    theta=float(rng.uniform(0, 6.2)), phi=float(rng.uniform(-1.5, 1.5)), r=float(1 + k % 3),
                    created=1000.0 + k, updated=2000.0 + k)
        state = NodeState(activation=float(k % 7) / 7, attention=float(k % 5) / 5,
                          flags=int(NodeFlag.SELECTED) if k % 97 == 0 else 0)
        out.append(AddNode(node=node, state=state))
    return out


def _tx(edits) -> Transaction:
    return Transaction.create("build", edits, now=5.0, tx_id="t" * 32)


def _one_by_one(monkeypatch) -> None:
    monkeypatch.setattr(graph_module, "BULK_ADD_MIN", 10**9)


def _applied(edits, monkeypatch=None) -> tuple[ThoughtGraph, dict, Transaction]:
    g = ThoughtGraph()
    events = count_events(g)
    done = g.apply(_tx(edits))
    return g, events, done


def test_a_bulk_run_gives_exactly_the_graph_events_and_journal_of_one_by_one(monkeypatch):
    edits = [*_adds(1500), AddEdge(edge=Edge(src="n1", dst="n2", type=EdgeType.PARENT))]
    bulk, bulk_events, bulk_done = _applied(edits)
    with monkeypatch.context() as m:
        _one_by_one(m)
        single, single_events, single_done = _applied(edits)
    assert_same(snapshot(bulk), snapshot(single))
    assert bulk_events == single_events and bulk_events["node_added"] == 1500
    assert bulk_events["changed"] == 1  # one burst for the whole transaction
    assert bulk_done.to_dict() == single_done.to_dict()  # the same resolved edits: rows and all
    assert bulk.revision == single.revision
    assert bulk.selected_ids() == single.selected_ids() and len(bulk.selected_ids()) == 16


def test_undo_and_redo_of_a_bulk_run(monkeypatch):
    g = ThoughtGraph()
    g.apply(_tx(_adds(300, "a")))
    before = snapshot(g)
    g.apply(Transaction.create("more", _adds(700, "b"), now=6.0))
    after = snapshot(g)
    g.undo()
    assert_same(snapshot(g), before)
    g.redo()
    assert_same(snapshot(g), after)


@pytest.mark.parametrize("where", ["in the graph", "within the run"])
def test_a_duplicate_id_refuses_the_whole_transaction(where):
    g = ThoughtGraph()
    g.apply(_tx(_adds(1, "n")))
    before, revision = snapshot(g), g.revision
    edits = _adds(400, "m")
    if where == "in the graph":
        edits[200] = AddNode(node=Node(id="n0"))
    else:
        edits[300] = AddNode(node=Node(id="m7"))
    with pytest.raises(DuplicateError):
        g.apply(_tx(edits))
    assert_same(snapshot(g), before)
    assert g.revision == revision


def test_a_failure_after_the_run_rolls_every_added_node_back(monkeypatch):
    g = ThoughtGraph()
    events = count_events(g)
    bad = AddEdge(edge=Edge(src="n1", dst="missing", type=EdgeType.PARENT))
    with pytest.raises(NodeNotFound):
        g.apply(_tx([*_adds(500), bad]))
    assert len(g) == 0 and g.number_of_edges() == 0
    assert events["node_added"] == 0 and events["changed"] == 0
    # the revision counts every primitive, rollback included, as one-by-one does
    bulk_revision = g.revision
    with monkeypatch.context() as m:
        _one_by_one(m)
        single = ThoughtGraph()
        with pytest.raises(NodeNotFound):
            single.apply(_tx([*_adds(500), bad]))
    assert bulk_revision == single.revision
