"""Transactions: all-or-nothing under injected failures, exact undo/redo, provenance, JSON form."""

from __future__ import annotations

import json

import numpy as np
import pytest

from orchestrator_gui.model import (
    MoveNode,
    StaleEditError,
    ThoughtGraph,
    Transaction,
    UpdateNode,
    mutate,
)
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.layout import relayout

MIRRORS = ("ids", "positions", "spherical", "activation", "attention", "flags", "kind_index", "layer_index",
           "status_index", "created", "updated")


def snapshot(g: ThoughtGraph):
    """Everything observable: the JSON form, every mirror and the edge arrays."""
    ea = g.edge_arrays()
    return {
        "dict": g.to_dict(),
        **{name: getattr(g, name).copy() for name in MIRRORS},
        "edge_src": ea.src.copy(),
        "edge_dst": ea.dst.copy(),
        "edge_type": ea.type.copy(),
        "edge_weight": ea.weight.copy(),
        "edges_of": {i: sorted(e.key for e in g.edges_of(i)) for i in g.node_ids()},
    }


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert a[k].dtype == b[k].dtype, k
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        else:
            assert a[k] == b[k], k


def sample_graph() -> ThoughtGraph:
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Ship the release", kind="goal", node_id="g1", now=1.0))
    for p in ("p1", "p2"):
        g.apply(ops.add_thought(g, f"Plan {p}", kind="plan", parent="g1", node_id=p, now=2.0))
    for t in ("t1", "t2", "t3"):
        g.apply(ops.add_thought(g, f"Todo {t}", "details", kind="todo", parent="p1", node_id=t, now=3.0))
    g.apply(ops.link(g, "t1", "t2", "depends_on", now=4.0))
    g.apply(ops.link(g, "t1", "t2", "similar", weight=0.4, now=4.0))
    g.apply(ops.link(g, "t3", "p2", "mentions", metadata={"why": "named"}, now=4.0))
    g.set_activation(np.linspace(0.1, 0.6, len(g)))
    g.select(["t2", "p1"])
    g.history.clear()
    return g


OPERATIONS = {
    "edit": lambda g: ops.edit(g, "t1", title="Todo one", content="new", status="done", layer="navigation", now=9.0),
    "move": lambda g: ops.move(g, {"t1": (1.0, 0.2), "t2": (-0.5, -0.1, 3.5)}, now=9.0),
    "link": lambda g: ops.link(g, "t1", "t2", "similar", weight=0.9, now=9.0),
    "unlink": lambda g: ops.unlink(g, "t1", "t2", now=9.0),
    "delete": lambda g: ops.delete(g, ["p1", "t2"], now=9.0),
    "add_thought": lambda g: ops.add_thought(g, "New idea", parent="t3", node_id="n1", now=9.0),
    "relayout": lambda g: relayout(g, now=9.0),
}


def count_events(g: ThoughtGraph) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in ("node_added", "node_removed", "node_changed", "edge_added", "edge_removed", "positions_changed",
                 "selection_changed", "changed", "transaction_committed", "history_changed"):
        counts[name] = 0

        def bump(*_args, _name=name):
            counts[_name] += 1

        getattr(g.events, name).connect(bump)
    return counts


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operation_builds_one_transaction_with_provenance(name):
    g = sample_graph()
    before = snapshot(g)
    tx = OPERATIONS[name](g)
    assert_same(snapshot(g), before)  # building changes nothing
    assert tx.provenance.operation == name
    assert tx.provenance.actor == "user"
    assert tx.provenance.time == 9.0
    assert len(tx.id) == 32 and tx.description
    json.dumps(tx.provenance.params)  # JSON-able
    committed = g.apply(tx)
    assert committed.id == tx.id and committed.is_resolved()
    assert g.history.undo_description == tx.description


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_failure_at_every_step_leaves_the_graph_identical(name, monkeypatch):
    g = sample_graph()
    tx = OPERATIONS[name](g)
    before = snapshot(g)
    events = count_events(g)
    real = mutate.apply_edit
    # Step k fails (1-based); k = len + 1 means the commit hook vetoes after all steps succeeded.
    for k in range(1, len(tx.edits) + 2):
        calls = {"n": 0}

        def flaky(graph, edit, _k=k, _calls=calls):
            _calls["n"] += 1
            if _calls["n"] == _k <= len(tx.edits):
                raise RuntimeError(f"injected at step {_k}")
            return real(graph, edit)

        def veto(_tx, _k=k):
            if _k == len(tx.edits) + 1:
                raise OSError("journal write failed")

        monkeypatch.setattr(mutate, "apply_edit", flaky)
        g.add_commit_hook(veto)
        with pytest.raises((RuntimeError, OSError)):
            g.apply(tx)
        g.remove_commit_hook(veto)
        monkeypatch.setattr(mutate, "apply_edit", real)
        assert_same(snapshot(g), before)
    assert all(v == 0 for v in events.values()), events
    assert not g.history.can_undo
    g.apply(tx)  # and it still applies cleanly afterwards
    assert g.history.can_undo


def test_failure_inside_a_node_removal_restores_its_edges(monkeypatch):
    g = sample_graph()
    before = snapshot(g)
    real = mutate._delete_edge
    calls = {"n": 0}

    def flaky(graph, key):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(graph, key)

    monkeypatch.setattr(mutate, "_delete_edge", flaky)
    with pytest.raises(RuntimeError):
        g.apply(ops.delete(g, ["t1"]))  # t1 has 4 edges: the 3rd removal fails
    assert_same(snapshot(g), before)


def test_undo_and_redo_restore_exactly():
    g = sample_graph()
    states = [snapshot(g)]
    for name in ("add_thought", "edit", "link", "move", "unlink", "delete", "relayout"):
        tx = OPERATIONS[name](g)
        g.apply(tx)
        states.append(snapshot(g))
    n = len(states) - 1
    for i in range(n, 0, -1):
        undone = g.undo()
        assert undone.provenance.operation == "undo"
        assert_same(snapshot(g), states[i - 1])
    assert not g.history.can_undo
    for i in range(1, n + 1):
        redone = g.redo()
        assert redone.provenance.operation == "redo"
        assert_same(snapshot(g), states[i])
    # Undo after redo still works, and a new change clears the redo stack.
    g.undo()
    assert_same(snapshot(g), states[n - 1])
    g.apply(ops.edit(g, "g1", score=0.5, now=20.0))
    assert not g.history.can_redo
    with pytest.raises(IndexError):
        g.redo()


def test_undo_descriptions():
    g = sample_graph()
    g.apply(ops.edit(g, "t1", title="Renamed", now=5.0))
    g.apply(ops.delete(g, "t3", now=6.0))
    assert g.history.undo_description == "Delete 'Todo t3'"
    g.undo()
    assert g.history.undo_description.startswith("Edit 'Todo t1'")
    assert g.history.redo_description == "Delete 'Todo t3'"


def test_stale_edits_are_refused_without_change():
    g = sample_graph()
    before = snapshot(g)
    stale = Transaction.create("x", [UpdateNode(node_id="t1", field="title", old="not the title", new="y")])
    with pytest.raises(StaleEditError):
        g.apply(stale)
    wrong_pos = Transaction.create("x", [MoveNode(node_ids=("t1",), new=((1.0, 0.0, 3.0),), old=((0.0, 0.0, 3.0),))])
    with pytest.raises(StaleEditError):
        g.apply(wrong_pos)
    with pytest.raises(ValueError):
        UpdateNode(node_id="t1", field="id", old="t1", new="t9")
    assert_same(snapshot(g), before)


def test_edit_records_history_and_moves_between_shells():
    g = sample_graph()
    g.apply(ops.edit(g, "t1", title="Todo one", layer="navigation", actor="agent", now=8.0))
    node = g.node("t1")
    assert node.title == "Todo one" and node.updated == 8.0
    assert [(v.title, v.content, v.actor, v.time) for v in node.history] == [("Todo t1", "details", "agent", 3.0)]
    assert node.r == 2.0 and g.spherical[g.row_of("t1"), 2] == 2.0
    with pytest.raises(ValueError, match="changes nothing"):
        ops.edit(g, "t1", title="Todo one")
    with pytest.raises(ValueError, match="cannot edit"):
        ops.edit(g, "t1", created=0.0)


def test_committed_transaction_survives_json_and_replays_identically():
    """What a store does: journal tx.to_dict(), later replay it onto the earlier snapshot."""
    g = sample_graph()
    base = g.to_dict()
    journal = []
    g.add_commit_hook(lambda tx: journal.append(json.dumps(tx.to_dict())))
    for name in ("add_thought", "edit", "link", "move", "delete"):
        g.apply(OPERATIONS[name](g))
    g.undo()
    replica = ThoughtGraph.from_dict(base)
    for record in journal:
        replica.apply(Transaction.from_dict(json.loads(record)), record=False)
    assert replica.to_dict() == g.to_dict()
    assert_same(snapshot(replica), snapshot(g))


def test_apply_is_not_reentrant():
    g = sample_graph()

    def sneaky(_tx):
        g.apply(ops.edit(g, "g1", score=1.0, now=1.0))

    g.add_commit_hook(sneaky)
    before = snapshot(g)
    with pytest.raises(Exception, match="another transaction"):
        g.apply(ops.edit(g, "t1", title="x", now=1.0))
    g.remove_commit_hook(sneaky)
    assert_same(snapshot(g), before)
