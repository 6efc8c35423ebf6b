"""Automatic suppression: idle nodes are marked only after staying idle long enough, and come back when used."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orchestrator_gui.model import Edge, Node, NodeFlag, ThoughtGraph, Transaction
from orchestrator_gui.model.activation import ActivationParams, touch
from orchestrator_gui.model.pruning import PRUNED_KEY, expand, prune
from orchestrator_gui.model.suppression import (
    SuppressionParams,
    plan_suppression,
    reactivate_transaction,
    suppress_transaction,
    suppressed_mask,
    suppressed_report,
)
from orchestrator_gui.model.transactions import AddEdge, AddNode, UpdateNode

DAY = 86_400.0
T0 = 1_800_000_000.0
#: Default activation: 2 ** (-age / 1 day) falls below 0.05 when age = log2(20) days.
CROSS = T0 + DAY * math.log2(20)
P = SuppressionParams(below=0.05, after_s=600.0)


def graph_of(nodes: list[dict], edges: list[tuple] = ()) -> ThoughtGraph:
    g = ThoughtGraph()
    edits = [AddNode(node=Node(**{"created": 0.0, "updated": T0, **n})) for n in nodes]
    edits += [AddEdge(edge=Edge(src=s, dst=d, type=t)) for s, d, t in edges]
    g.apply(Transaction.create("build", edits), record=False)
    return g


def ids(g: ThoughtGraph, rows) -> list[str]:
    return g.ids_of(np.asarray(rows, dtype=np.int64))


def test_a_node_is_suppressed_only_after_staying_idle_for_after_s():
    g = graph_of([{"id": "x", "kind": "todo"}, {"id": "goal", "kind": "goal"}])
    # Just below the threshold, and for less than after_s: nothing yet.
    assert ids(g, plan_suppression(g, CROSS + 1, P).suppress) == []
    assert ids(g, plan_suppression(g, CROSS + 599, P).suppress) == []
    plan = plan_suppression(g, CROSS + 601, P)
    assert ids(g, plan.suppress) == ["x"]  # the goal, as idle, is never suppressed
    tx = suppress_transaction(g, plan)
    g.apply(tx)
    assert suppressed_mask(g).tolist() == [True, False]
    mark = g.node("x").metadata[PRUNED_KEY]
    assert mark["by"] == "suppression" and mark["time"] == CROSS + 601 and mark["root"] == "x"
    assert [r["id"] for r in suppressed_report(g)] == ["x"]
    # Undo gives back the identical node.
    g.apply(tx.inverse())
    assert PRUNED_KEY not in g.node("x").metadata and not suppressed_mask(g).any()


def test_a_longer_after_s_waits_longer():
    g = graph_of([{"id": "x"}])
    slow = SuppressionParams(below=0.05, after_s=3 * 3600.0)
    assert len(plan_suppression(g, CROSS + 3 * 3600.0 - 5, slow).suppress) == 0
    assert ids(g, plan_suppression(g, CROSS + 3 * 3600.0 + 5, slow).suppress) == ["x"]


def _suppressed(g: ThoughtGraph, now: float) -> None:
    g.apply(suppress_transaction(g, plan_suppression(g, now, P)))
    assert suppressed_mask(g).all()


def test_touch_reactivates_and_the_reactivation_is_undoable():
    g = graph_of([{"id": "x"}])
    now = CROSS + 1000
    _suppressed(g, now)
    assert plan_suppression(g, now + 10, P).reactivate == {}  # still idle: stays suppressed
    g.apply(touch(g, "x", now=now + 20))
    plan = plan_suppression(g, now + 30, P)
    assert plan.reactivate == {0: "touched"} and len(plan.suppress) == 0
    tx = reactivate_transaction(g, plan)
    g.apply(tx)
    assert not suppressed_mask(g).any()
    g.apply(tx.inverse())
    assert suppressed_mask(g).all()


def test_an_edit_of_the_source_reactivates():
    g = graph_of([{"id": "x"}])
    now = CROSS + 1000
    _suppressed(g, now)
    g.apply(Transaction.create("sync", [UpdateNode(node_id="x", field="updated", old=T0, new=now + 5)]))
    assert plan_suppression(g, now + 6, P).reactivate == {0: "edited"}


def test_a_due_schedule_reactivates_what_it_reaches_and_touches_it():
    old = T0 - 3 * DAY  # linked nodes lend each other activation: these are well below the threshold
    g = graph_of([{"id": "s", "kind": "schedule", "title": "Nightly", "metadata": {"next_run": T0 + 30 * DAY},
                   "updated": old}, {"id": "plan", "kind": "plan", "updated": old},
                  {"id": "x", "kind": "todo", "updated": old}, {"id": "y", "kind": "todo"}],
                 [("s", "plan", "parent"), ("plan", "x", "parent")])
    calm = ActivationParams(epistemic_boost=0.0)  # an unsupported schedule would otherwise stay lit
    now = CROSS + 1000
    g.apply(suppress_transaction(g, plan_suppression(g, now, P, activation_params=calm)))
    assert suppressed_mask(g).all()
    assert plan_suppression(g, now + 10, P, activation_params=calm).reactivate == {}
    due = T0 + 30 * DAY  # the schedule's next run: its due window reaches the plan and x, not y
    plan = plan_suppression(g, due, P, activation_params=calm)
    assert set(ids(g, list(plan.reactivate))) == {"s", "plan", "x"}
    assert plan.reactivate[g.row_of("x")] == "schedule “Nightly” is due"
    g.apply(reactivate_transaction(g, plan))
    assert g.node("x").last_activated == due and g.node("x").access_count == 1
    assert suppressed_mask(g).tolist() == [False, False, False, True]
    # Touched: not suppressed again at the next ticks.
    assert ids(g, plan_suppression(g, due + 700, P, activation_params=calm).suppress) == []
    # The application layer may name due schedules itself.
    g2 = graph_of([{"id": "s", "kind": "schedule", "updated": old}, {"id": "x", "kind": "todo", "updated": old}],
                  [("s", "x", "parent")])
    g2.apply(suppress_transaction(g2, plan_suppression(g2, now, P, activation_params=calm)))
    reach = plan_suppression(g2, now + 5, P, activation_params=calm, due_ids=["s"]).reactivate
    assert set(ids(g2, list(reach))) == {"s", "x"}


def test_a_run_reactivates_its_subject():
    g = graph_of([{"id": "x", "kind": "todo"}])
    now = CROSS + 1000
    _suppressed(g, now)
    run = Node(id="run1", kind="run", status="active", created=now + 5, updated=now + 5)
    g.apply(Transaction.create("run", [AddNode(node=run),
                                       AddEdge(edge=Edge(src="run1", dst="x", type="scheduled_by"))]))
    plan = plan_suppression(g, now + 6, P)
    assert plan.reactivate == {g.row_of("x"): "run"} and g.row_of("x") in plan.touch.tolist()
    # Named by the application layer (a run starting now, before its node exists).
    g2 = graph_of([{"id": "x"}])
    _suppressed(g2, now)
    assert plan_suppression(g2, now + 6, P, run_ids=["x"]).reactivate == {0: "run"}


def test_pinned_escalated_goals_and_user_prunes_are_left_alone():
    g = graph_of([{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}, {"id": "e"}])
    g.set_flags(np.array([0]), NodeFlag.PINNED, on=True)
    g.set_flags(np.array([1]), NodeFlag.ESCALATED, on=True)
    g.apply(prune(g, "c", now=T0))
    now = CROSS + 1000
    plan = plan_suppression(g, now, P)
    assert ids(g, plan.suppress) == ["d", "e"]
    g.apply(suppress_transaction(g, plan))
    # The user's prune is not automatic: never re-activated here, even when touched.
    g.apply(touch(g, "c", now=now + 1))
    assert plan_suppression(g, now + 2, P).reactivate == {}
    # ``expand`` re-opens an automatically suppressed node like a user prune.
    g.apply(expand(g, "d", now=now + 3))
    assert suppressed_mask(g).tolist() == [False, False, False, False, True]


def test_the_least_active_go_first_at_most_batch_per_tick_and_below_zero_turns_it_off():
    g = graph_of([{"id": "a", "updated": T0 - 3 * DAY}, {"id": "b", "updated": T0 - 9 * DAY},
                  {"id": "c", "updated": T0 - 6 * DAY}])
    plan = plan_suppression(g, CROSS + 1000, SuppressionParams(after_s=600.0, batch=2))
    assert ids(g, plan.suppress) == ["b", "c"] and plan.waiting == 1
    g.apply(suppress_transaction(g, plan))
    off = plan_suppression(g, CROSS + 2000, SuppressionParams(below=0.0))
    assert len(off.suppress) == 0 and set(ids(g, list(off.reactivate))) == {"b", "c"}


@pytest.mark.parametrize("kwargs", [{"below": -0.1}, {"below": 1.5}, {"after_s": 0}, {"batch": 0},
                                    {"samples": 1}, {"below": math.nan}])
def test_params_have_ranges(kwargs):
    with pytest.raises(ValueError):
        SuppressionParams(**kwargs)
