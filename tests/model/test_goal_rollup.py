"""Goal progress over ``serves`` links (weighted by items) and goal confidence from evidence, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator_gui.model import Edge, Node, ThoughtGraph, Transaction
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.epistemic import epistemic_state, goal_report
from orchestrator_gui.model.planning import closure_rows, decompose, goal_rows, rollup_progress
from orchestrator_gui.model.transactions import AddEdge, AddNode


def graph_of(nodes: list[dict], edges: list[tuple]) -> ThoughtGraph:
    """Nodes as ``Node`` keyword dicts; edges ``(src, dst, type)`` or ``(src, dst, type, weight)``."""
    g = ThoughtGraph()
    edits = [AddNode(node=Node(**n)) for n in nodes]
    edits += [AddEdge(edge=Edge(src=e[0], dst=e[1], type=e[2], weight=e[3] if len(e) > 3 else 1.0)) for e in edges]
    g.apply(Transaction.create("build", edits), record=False)
    return g


@pytest.fixture
def work() -> ThoughtGraph:
    """G (goal) served by M (a 3-item plan), x (a done item), y (cancelled), E (an empty plan);
    S (schedule) with an instruction step and served by M; idle (a mode nothing serves)."""
    return graph_of(
        [{"id": "G", "kind": "goal"}, {"id": "S", "kind": "schedule", "status": "active"},
         {"id": "step", "kind": "plan"}, {"id": "M", "kind": "plan"},
         {"id": "a", "kind": "todo", "status": "done"}, {"id": "b", "kind": "todo"},
         {"id": "c", "kind": "todo", "status": "done"}, {"id": "x", "kind": "todo", "status": "done"},
         {"id": "y", "kind": "todo", "status": "cancelled"}, {"id": "E", "kind": "plan"},
         {"id": "idle", "kind": "mode"}, {"id": "busy", "kind": "mode"}],
        [("M", "a", "parent"), ("M", "b", "parent"), ("M", "c", "parent"), ("S", "step", "parent"),
         ("M", "G", "serves"), ("x", "G", "serves"), ("y", "G", "serves"), ("E", "G", "serves"),
         ("M", "S", "serves"), ("S", "busy", "serves")],
    )


def test_goal_progress_is_the_item_weighted_mean_of_what_serves_it(work: ThoughtGraph):
    p = rollup_progress(work)

    def row(i: str) -> int:
        return work.row_of(i)

    # M: mean of a, b, c = 2/3, standing for 3 items of which 2 are done.
    assert p.of(work, "M") == pytest.approx(2 / 3) and (p.items[row("M")], p.done_items[row("M")]) == (3, 2)
    # G: M weighs its 3 items, x one; the cancelled y and the empty plan E do not count: (3 * 2/3 + 1) / 4.
    assert p.of(work, "G") == pytest.approx(0.75)
    assert (p.items[row("G")], p.done_items[row("G")]) == (4, 3)
    assert (p.children[row("G")], p.done_children[row("G")]) == (2, 1)
    assert not p.counted[row("E")] and not p.counted[row("y")]
    # S: its instruction step is an empty container, so S is M's progress alone (it used to read 0 %).
    assert p.of(work, "S") == pytest.approx(2 / 3) and p.items[row("S")] == 3
    # A goal served by a goal: the mode follows the schedule.
    assert p.of(work, "busy") == pytest.approx(2 / 3)
    assert len(p.cyclic) == 0


def test_edge_weights_scale_a_contribution_and_changes_follow(work: ThoughtGraph):
    work.apply(ops.link(work, "x", "G", "serves", weight=2.0))
    assert rollup_progress(work).of(work, "G") == pytest.approx((3 * 2 / 3 + 2 * 1.0) / 5)
    work.apply(ops.edit(work, "b", status="done"))  # M complete, and with it G
    assert rollup_progress(work).of(work, "G") == 1.0
    work.apply(ops.link(work, "x", "G", "serves", weight=0.0))  # a zero weight does not count
    p = rollup_progress(work)
    assert p.of(work, "G") == 1.0 and p.items[work.row_of("G")] == 3


def test_parent_children_stay_equal_parts_and_serving_work_counts_by_size():
    g = graph_of(
        [{"id": "H", "kind": "goal"}, {"id": "P", "kind": "plan"}, {"id": "p1", "kind": "todo", "status": "done"},
         {"id": "Q", "kind": "plan"}] + [{"id": f"q{i}", "kind": "todo", "status": "done" if i == 0 else "open"}
                                         for i in range(4)],
        [("H", "P", "parent"), ("P", "p1", "parent"), ("Q", "H", "serves")] + [("Q", f"q{i}", "parent")
                                                                               for i in range(4)],
    )
    # P (parent child, weight 1) is done; Q serves with its 4 items at 1/4: (1 * 1 + 4 * 0.25) / (1 + 4).
    assert rollup_progress(g).of(g, "H") == pytest.approx(0.4)


def test_goals_are_goal_kinds_and_whatever_something_serves(work: ThoughtGraph):
    assert set(work.ids_of(goal_rows(work))) == {"G", "S", "busy"}  # not the idle mode
    assert set(work.ids_of(closure_rows(work, np.array([work.row_of("G")])))) == {"G", "M", "a", "b", "c", "x", "y", "E"}
    counted = work.ids_of(closure_rows(work, np.array([work.row_of("G")]), counted_only=True))
    assert "y" not in counted and counted[0] == "G"
    d = decompose(work, "S")
    assert set(d.navigation) == {"step", "M"} and set(d.execution) == {"a", "b", "c"}


def test_a_serves_cycle_is_reported_not_looped():
    g = graph_of([{"id": "A", "kind": "goal"}, {"id": "B", "kind": "plan"}, {"id": "t", "kind": "todo"}],
                 [("A", "B", "parent"), ("A", "B", "serves"), ("B", "t", "parent")])  # A is in B and B in A
    p = rollup_progress(g)
    assert set(g.ids_of(p.cyclic)) == {"A", "B"} and np.all((p.progress >= 0) & (p.progress <= 1))


@pytest.fixture
def evidence() -> ThoughtGraph:
    """G served by item a; runs and a memory entry on a, user links on G.  H: only evidence against it."""
    return graph_of(
        [{"id": "G", "kind": "goal"}, {"id": "a", "kind": "todo"},
         {"id": "r1", "kind": "run", "status": "done"}, {"id": "r2", "kind": "run", "status": "failed"},
         {"id": "r3", "kind": "run", "status": "active"}, {"id": "m", "kind": "memory", "status": "done"},
         {"id": "e", "kind": "thought"}, {"id": "k", "kind": "thought"},
         {"id": "H", "kind": "goal"}, {"id": "bad", "kind": "thought"}],
        [("a", "G", "serves"), ("r1", "a", "scheduled_by"), ("r2", "a", "scheduled_by"),
         ("r3", "a", "scheduled_by"), ("m", "a", "mentions"), ("m", "G", "mentions"),
         ("e", "G", "evidence_for", 0.6), ("k", "G", "contradicts", 0.4), ("bad", "H", "contradicts", 0.9)],
    )


def test_goal_confidence_from_runs_memory_and_user_links(evidence: ThoughtGraph):
    s = epistemic_state(evidence)
    g = evidence.row_of("G")
    # For: r1 completed (0.5), m mentions a and G (counted once: 0.25), e supports (0.6); r3 is still running.
    # Against: r2 failed (0.5), k contradicts (0.4).
    # support = 1 - 0.5 * 0.75 * 0.4 = 0.85; share = 1.35 / (1.35 + 0.9) = 0.6; confidence = 0.51.
    assert s.confidence[g] == pytest.approx(0.51)
    assert (s.evidence[g], s.contradictions[g]) == (3, 2) and not s.unsupported[g]
    # H has evidence only against it: confidence 0 and unsupported (boosted), like a goal with none.
    assert s.confidence[evidence.row_of("H")] == 0.0 and s.unsupported_goals(evidence) == ["H"]
    # The node a itself is judged by its own evidence only: (1 - 0.5 * 0.75) * 0.75 / 1.25.
    assert s.confidence[evidence.row_of("a")] == pytest.approx(0.375)


def test_goal_report_explains_the_figures(evidence: ThoughtGraph):
    report = {gi.id: gi for gi in goal_report(evidence)}
    g = report["G"]
    assert (g.items, g.done_items, g.progress) == (1, 0, 0.0)
    assert [(c.id, c.via, c.items, c.weight) for c in g.contributions] == [("a", "user", 1, 1.0)]
    assert [(e.id, e.why, e.strength, e.about) for e in g.supports] == [
        ("e", "supports", 0.6, "G"), ("r1", "completed run", 0.5, "a"), ("m", "memory entry", 0.25, "G")]
    assert [(e.id, e.why, e.strength) for e in g.contradicts] == [("r2", "failed run", 0.5), ("k", "contradicts", 0.4)]
    assert g.support == pytest.approx(0.85) and g.confidence == pytest.approx(0.51)
    assert g.questions == ()  # 0.51 is not low
    h = report["H"]
    assert h.questions == (
        "What work serves “H”? Nothing is linked to it yet.",
        "What shows that “H” is on track? No completed run, memory entry or supports link speaks for it or "
        "for its linked work.",
        "“bad” (contradicts, on the goal itself) speaks against “H”: what would settle it?",
    )
    d = g.to_dict()
    assert d["contributions"][0]["id"] == "a" and d["contradicts"][0]["why"] == "failed run"
    # Marking G done settles it: no questions even with the evidence against it.
    evidence.apply(ops.edit(evidence, "H", status="done"))
    assert {gi.id: gi for gi in goal_report(evidence)}["H"].questions == ()
