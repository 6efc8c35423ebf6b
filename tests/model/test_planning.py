"""Hierarchical planning: progress rolls up execution -> navigation -> goal along parent edges."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator_gui.migration import build_graph
from orchestrator_gui.model import Edge, Node, ThoughtGraph, Transaction
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.planning import decompose, goal_rows, progress_of, rollup_progress
from orchestrator_gui.model.transactions import AddEdge, AddNode


def graph_of(nodes: list[tuple], parents: list[tuple[str, str]]) -> ThoughtGraph:
    """Nodes ``(id, kind, status)`` and ``parent`` edges ``(parent, child)``."""
    g = ThoughtGraph()
    edits = [AddNode(node=Node(id=i, kind=k, status=s)) for i, k, s in nodes]
    edits += [AddEdge(edge=Edge(src=p, dst=c, type="parent")) for p, c in parents]
    g.apply(Transaction.create("build", edits), record=False)
    return g


@pytest.fixture
def plan() -> ThoughtGraph:
    return graph_of(
        [("G", "goal", "open"), ("N1", "plan", "open"), ("N2", "plan", "open"),
         ("E1", "todo", "done"), ("E2", "todo", "open"), ("E3", "todo", "done"), ("E4", "todo", "cancelled"),
         ("E5", "task", "active")],
        [("G", "N1"), ("G", "N2"), ("N1", "E1"), ("N1", "E2"), ("N2", "E3"), ("N2", "E4"), ("N2", "E5")],
    )


def test_rollup_on_a_hand_built_hierarchy(plan: ThoughtGraph):
    p = rollup_progress(plan)
    got = {i: p.of(plan, i) for i in plan.node_ids()}
    # N1: E1 done, E2 open -> 1/2.  N2: E3 done, E4 cancelled (not counted), E5 active -> 1/2.  G: mean -> 1/2.
    assert got == {"G": 0.5, "N1": 0.5, "N2": 0.5, "E1": 1.0, "E2": 0.0, "E3": 1.0, "E4": 0.0, "E5": 0.0}
    assert p.children[plan.row_of("N2")] == 2 and p.done_children[plan.row_of("N2")] == 1
    assert not p.counted[plan.row_of("E4")]
    assert len(p.cyclic) == 0


def test_done_execution_raises_navigation_then_goal(plan: ThoughtGraph):
    plan.apply(ops.edit(plan, "E2", status="done"))
    assert progress_of(plan, "N1") == 1.0
    assert progress_of(plan, "G") == 0.75
    plan.apply(ops.edit(plan, "E5", status="done"))
    assert progress_of(plan, "G") == 1.0
    plan.undo()
    assert progress_of(plan, "G") == 0.75


def test_a_done_parent_is_complete_and_dropped_children_do_not_count(plan: ThoughtGraph):
    plan.apply(ops.edit(plan, "N2", status="done"))
    assert progress_of(plan, "N2") == 1.0 and progress_of(plan, "G") == 0.75
    plan.apply(ops.edit(plan, "N1", status="archived"))  # G now only has N2
    assert progress_of(plan, "G") == 1.0


def test_multiple_parents_depth_summaries_and_cycles():
    g = graph_of(
        [("G", "goal", "open"), ("A", "plan", "open"), ("B", "plan", "open"), ("X", "todo", "done"),
         ("Y", "todo", "open"), ("S", "summary", "open"), ("C1", "plan", "open"), ("C2", "todo", "done")],
        [("G", "A"), ("G", "B"), ("A", "X"), ("B", "X"), ("B", "Y"), ("G", "S"), ("C1", "C2"), ("C2", "C1")],
    )
    p = rollup_progress(g)
    assert p.of(g, "A") == 1.0 and p.of(g, "B") == 0.5
    assert p.of(g, "G") == 0.75  # the summary S is not a work item
    assert set(g.ids_of(p.cyclic)) == {"C1", "C2"}
    assert p.of(g, "C2") == 1.0  # done is done


def test_decompose_groups_the_subtree_by_shell(plan: ThoughtGraph):
    d = decompose(plan, "G")
    assert d.navigation == ("N1", "N2")
    assert set(d.execution) == {"E1", "E2", "E3", "E4", "E5"}
    assert d.other_goals == () and d.progress == 0.5


def test_demo_graph_rollup():
    g = build_graph("resources/demo")
    by_title = {n.title: n.id for n in g.nodes() if n.kind.value == "plan" and n.source.file == "TODO.md"}
    p = rollup_progress(g)
    # Foundations: TW-001..005 all ticked.
    assert p.of(g, by_title["Foundations"]) == 1.0
    # Command line: 006, 007, 010, 011 done; 008 half (008a done, 008b open); 009 open -> 4.5 / 6.
    cmd = by_title["Command line"]
    assert p.of(g, cmd) == 0.75 and p.children[g.row_of(cmd)] == 6 and p.done_children[g.row_of(cmd)] == 4
    # Milestone 0.1 = mean(Foundations, Command line, Parsing & data quality = 0).
    assert p.of(g, by_title["Milestone 0.1 — Core CLI"]) == pytest.approx((1.0 + 0.75 + 0.0) / 3)
    # Ticking TW-012 raises "Parsing & data quality" and the milestone above it.
    tw012 = next(n.id for n in g.nodes() if "TW-012" in n.title and n.kind.value == "todo")
    g.apply(ops.edit(g, tw012, status="done"))
    assert progress_of(g, by_title["Parsing & data quality"]) == pytest.approx(1 / 3)
    assert progress_of(g, by_title["Milestone 0.1 — Core CLI"]) == pytest.approx((1.0 + 0.75 + 1 / 3) / 3)
    # Goals are the schedules and the modes that own work (a schedule in that mode, or items).
    assert sorted(g.node(i).title for i in g.ids_of(goal_rows(g))) == [
        "Daily memory consolidation", "Hourly architecture check", "Loop heartbeat", "Weekly release-notes draft",
        "🔁 Loop Orchestrator", "🔍 Reviewer", "🔧 Implementer", "🗺️ Planner", "🧠 Memory Keeper"]
    assert np.all((p.progress >= 0) & (p.progress <= 1))
