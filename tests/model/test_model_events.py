"""Events: one burst per transaction, net effect within a batch, emitted after the change is complete."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator_gui.model import ChangeSummary, ThoughtGraph
from orchestrator_gui.model import operations as ops

SIGNALS = ("node_added", "node_removed", "node_changed", "edge_added", "edge_removed", "positions_changed",
           "activation_changed", "attention_changed", "flags_changed", "selection_changed", "changed",
           "transaction_committed", "history_changed")


class Recorder:
    """Records every emission in order as (signal, args)."""

    def __init__(self, g: ThoughtGraph) -> None:
        self.log: list[tuple] = []
        for name in SIGNALS:
            getattr(g.events, name).connect(lambda *args, _n=name: self.log.append((_n, args)))

    def names(self) -> list[str]:
        return [n for n, _ in self.log]

    def count(self, name: str) -> int:
        return self.names().count(name)

    def summary(self) -> ChangeSummary:
        (s,) = [a[0] for n, a in self.log if n == "changed"]
        return s


def base() -> ThoughtGraph:
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Goal", kind="goal", node_id="g", now=1.0))
    for i in range(3):
        g.apply(ops.add_thought(g, f"Plan {i}", kind="plan", parent="g", node_id=f"p{i}", now=2.0))
    g.apply(ops.link(g, "p0", "p1", "depends_on", now=3.0))
    return g


def test_one_transaction_one_burst_in_order():
    g = base()
    rec = Recorder(g)
    g.apply(ops.add_thought(g, "Todo", kind="todo", parent="p0", node_id="t", now=4.0))
    assert rec.names() == ["node_added", "edge_added", "changed", "transaction_committed", "history_changed"]
    assert rec.log[0][1] == ("t",)
    assert rec.log[1][1] == (("p0", "t", "parent"),)
    s = rec.summary()
    assert s.nodes_added == ["t"] and s.edges_added == [("p0", "t", "parent")] and s.structure_changed


def test_listeners_see_the_committed_state():
    g = base()
    seen = []
    # When node_added fires, the whole transaction (including its edge) is already applied.
    g.events.node_added.connect(lambda nid: seen.append((nid in g, g.has_edge("p1", nid, "parent"))))
    g.apply(ops.add_thought(g, "Todo", kind="todo", parent="p1", node_id="t", now=4.0))
    assert seen == [(True, True)]


def test_delete_reports_the_node_its_edges_and_the_selection_once():
    g = base()
    g.select(["p0"])
    rec = Recorder(g)
    g.apply(ops.delete(g, "p0", now=5.0))
    assert rec.count("node_removed") == 1
    assert rec.count("edge_removed") == 2  # g -> p0 and p0 -> p1
    assert rec.count("selection_changed") == 1 and rec.log[rec.names().index("selection_changed")][1] == ((),)
    assert rec.count("changed") == 1 and rec.count("transaction_committed") == 1
    # Removals come before anything else.
    assert rec.names()[:3] == ["node_removed", "edge_removed", "edge_removed"]


def test_edit_and_move_report_fields_and_current_rows():
    g = base()
    rec = Recorder(g)
    g.apply(ops.edit(g, "p2", title="Renamed", status="done", now=6.0))
    changes = [a for n, a in rec.log if n == "node_changed"]
    assert len(changes) == 1
    nid, fields = changes[0]
    assert nid == "p2" and set(fields) == {"title", "status", "history", "updated"}
    rec.log.clear()
    g.apply(ops.move(g, {"p2": (0.5, 0.1), "g": (1.0, 0.0)}, now=7.0))
    (rows,) = [a[0] for n, a in rec.log if n == "positions_changed"]
    assert sorted(rows.tolist()) == sorted([g.row_of("p2"), g.row_of("g")])


def test_batch_coalesces_transactions_into_one_burst():
    g = base()
    rec = Recorder(g)
    with g.batch():
        g.apply(ops.add_thought(g, "A", kind="todo", parent="p0", node_id="a", now=8.0))
        g.apply(ops.add_thought(g, "B", kind="todo", parent="p0", node_id="b", now=8.0))
        g.apply(ops.delete(g, "b", now=8.0))  # created and destroyed in the batch: never reported
        assert rec.count("changed") == 0
        assert rec.count("transaction_committed") == 3  # commits are reported right away
    assert rec.count("changed") == 1
    assert [a for n, a in rec.log if n == "node_added"] == [("a",)]
    assert rec.count("node_removed") == 0 and rec.count("edge_removed") == 0
    assert rec.summary().edges_added == [("p0", "a", "parent")]


def test_failed_transaction_inside_a_batch_keeps_the_earlier_records():
    g = base()
    rec = Recorder(g)
    with g.batch():
        g.apply(ops.add_thought(g, "A", kind="todo", parent="p0", node_id="a", now=8.0))
        bad = ops.add_thought(g, "B", kind="todo", parent="p0", node_id="b", now=8.0)
        g.add_commit_hook(_boom)
        with pytest.raises(OSError):
            g.apply(bad)
        g.remove_commit_hook(_boom)
    assert [a for n, a in rec.log if n == "node_added"] == [("a",)]
    assert rec.count("changed") == 1


def _boom(_tx):
    raise OSError("no space left")


def test_dynamic_updates_emit_rows():
    g = base()
    rec = Recorder(g)
    g.set_activation(np.ones(len(g)))
    (rows,) = [a[0] for n, a in rec.log if n == "activation_changed"]
    assert rows.tolist() == list(range(len(g)))
    assert rec.summary().all_activation
    rec.log.clear()
    g.set_attention([0.5, 0.7], ["p1", "p2"])
    (rows,) = [a[0] for n, a in rec.log if n == "attention_changed"]
    assert sorted(rows.tolist()) == sorted([g.row_of("p1"), g.row_of("p2")])
    rec.log.clear()
    g.select(["p1"])
    assert rec.names() == ["flags_changed", "selection_changed", "changed"]
    assert rec.log[1][1] == (("p1",),)
    rec.log.clear()
    g.select(["p1"])  # no change, no event
    assert rec.log == []


def test_undo_is_one_burst_too():
    g = base()
    g.apply(ops.delete(g, ["p0", "p1"], now=9.0))
    rec = Recorder(g)
    g.undo()
    assert rec.count("changed") == 1
    assert sorted(a[0] for n, a in rec.log if n == "node_added") == ["p0", "p1"]
    assert rec.count("edge_added") == 3
    assert rec.count("transaction_committed") == 1
