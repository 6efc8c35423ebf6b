"""What next: the ranking of open TODO items and its reasons, on small hand-made graphs."""

from __future__ import annotations

import numpy as np

from orchestrator_gui.model import ThoughtGraph
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.next_work import NextContext, rank_next
from orchestrator_gui.model.nodes import NodeFlag


def _graph() -> ThoughtGraph:
    """Two schedules (goal shell), a plain goal, and six open TODO items in file order i1..i6."""
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Nightly tests", kind="schedule", node_id="s1", now=1.0))
    g.apply(ops.add_thought(g, "Ship 1.0", kind="goal", node_id="goal", now=1.0))
    g.apply(ops.add_thought(g, "Docs", kind="goal", node_id="idle-goal", now=1.0))
    for k in range(1, 7):
        g.apply(ops.add_thought(g, f"item {k}", kind="todo", node_id=f"i{k}", now=2.0))
    g.apply(ops.link(g, "s1", "i4", "mentions", now=3.0))  # the schedule's instructions name i4
    g.apply(ops.link(g, "goal", "i5", "parent", now=3.0))
    g.apply(ops.link(g, "idle-goal", "i2", "parent", now=3.0))
    g.history.clear()
    return g


def _order(g, ctx=None, **kw) -> list[str]:
    return [r.node_id for r in rank_next(g, ctx, **kw)]


def test_without_signals_the_open_items_come_in_file_order():
    g = _graph()
    assert _order(g) == ["i1", "i2", "i3", "i4", "i5", "i6"]
    assert rank_next(g)[0].reasons == ("open, in file order",)


def test_an_item_of_a_due_schedule_ranks_above_an_idle_one_and_says_why():
    g = _graph()
    ranked = rank_next(g, NextContext(due_in_s={"s1": -30.0}))
    assert ranked[0].node_id == "i4"
    assert "schedule “Nightly tests” is due now" in ranked[0].reasons
    # Due in 40 minutes still counts, less than due now; not due at all (beyond an hour) does not.
    soon = rank_next(g, NextContext(due_in_s={"s1": 2400.0}))
    assert soon[0].node_id == "i4" and 0 < soon[0].parts["due"] < ranked[0].parts["due"]
    assert "due in 40 min" in soon[0].reasons[0]
    assert _order(g, NextContext(due_in_s={"s1": 7200.0}))[0] == "i1"


def test_an_item_serving_an_active_goal_ranks_above_an_unlinked_one():
    g = _graph()
    assert _order(g)[0] == "i1"  # no goal is active yet
    g.set_activation([0.9], ["goal"])
    ranked = rank_next(g)
    assert ranked[0].node_id == "i5"
    assert "serves the active goal “Ship 1.0”" in ranked[0].reasons
    # A goal flagged active by the dynamics counts too; an inactive goal's items gain nothing.
    g2 = _graph()
    g2.set_flags(["idle-goal"], NodeFlag.ACTIVE)
    assert _order(g2)[0] == "i2"


def test_a_blocked_item_sinks_and_names_what_it_waits_for_and_its_blocker_rises():
    g = _graph()
    g.apply(ops.link(g, "i1", "i6", "depends_on", now=4.0))  # i1 waits for i6
    ranked = rank_next(g)
    assert [r.node_id for r in ranked][0] == "i6" and "1 open item depends on it" in ranked[0].reasons
    last = ranked[-1]
    assert last.node_id == "i1" and "waits for “item 6” (still open)" in last.reasons
    g.apply(ops.edit(g, "i6", status="done", now=5.0))
    assert _order(g)[0] == "i1"  # unblocked: back in file order, first


def test_failures_lower_an_item_and_paused_items_are_never_proposed():
    g = _graph()
    ranked = rank_next(g, NextContext(failures={"i1": 2}, paused=frozenset({"i2"})))
    ids = [r.node_id for r in ranked]
    assert "i2" not in ids and ids[-1] == "i1"
    assert "failed 2 times in a row" in ranked[-1].reasons
    g.set_flags(["i3"], NodeFlag.ESCALATED)
    assert "i3" not in _order(g)


def test_done_items_and_other_kinds_are_not_ranked_and_limit_is_clamped():
    g = _graph()
    g.apply(ops.edit(g, "i1", status="done", now=5.0))
    assert _order(g, limit=2) == ["i2", "i3"]
    assert len(rank_next(g, limit=0)) == 1 and len(rank_next(g, limit=10**9)) == 5
    assert rank_next(ThoughtGraph()) == []


def test_mode_restricts_to_what_the_mode_reaches():
    g = _graph()
    g.apply(ops.add_thought(g, "reviewer", kind="mode", node_id="m", now=1.0))
    g.apply(ops.link(g, "m", "i3", "mentions", now=3.0))
    assert _order(g, NextContext(mode="m")) == ["i3"]
    # A mode that reaches no open item does not empty the list.
    g.apply(ops.add_thought(g, "idle", kind="mode", node_id="m2", now=1.0))
    assert len(_order(g, NextContext(mode="m2"))) == 6


def test_activation_orders_otherwise_equal_items():
    g = ThoughtGraph()
    for k in range(5):
        g.apply(ops.add_thought(g, f"t{k}", kind="todo", node_id=f"t{k}", now=1.0))
    g.set_activation(np.array([0.1, 0.5, 0.3, 0.0, 0.9]), [f"t{k}" for k in range(5)])
    assert _order(g) == ["t4", "t1", "t2", "t0", "t3"]


def test_work_that_serves_an_active_goal_counts_with_what_lies_below_it():
    """``serves`` points from the work to the goal: followed backwards, then down to the plan's items."""
    g = _graph()
    g.apply(ops.add_thought(g, "Release plan", kind="plan", node_id="p", now=1.0))
    g.apply(ops.link(g, "p", "i6", "parent", now=3.0))
    g.apply(ops.link(g, "p", "idle-goal", "serves", now=3.0))
    g.apply(ops.link(g, "i3", "idle-goal", "serves", now=3.0))
    assert _order(g)[:2] == ["i1", "i2"]  # the goal is not active yet
    g.set_activation([0.9], ["idle-goal"])
    top = rank_next(g)[:3]
    assert {r.node_id for r in top} == {"i2", "i3", "i6"}
    assert all("serves the active goal “Docs”" in r.reasons for r in top)
