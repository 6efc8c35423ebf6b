"""Epistemic goals: confidence from evidence_for edges, unsupported goals, open questions and their boost."""

from __future__ import annotations

from datetime import UTC

import numpy as np
import pytest

from orchestrator_gui.migration import build_graph
from orchestrator_gui.model import Edge, Node, ThoughtGraph, Transaction
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.activation import ActivationParams, update_activation
from orchestrator_gui.model.epistemic import epistemic_state, evidence_confidence, goal_report
from orchestrator_gui.model.transactions import AddEdge, AddNode

NOW = 1_800_000_000.0


def graph_of(nodes: list[dict], edges: list[tuple]) -> ThoughtGraph:
    g = ThoughtGraph()
    edits = [AddNode(node=Node(**n)) for n in nodes]
    edits += [AddEdge(edge=Edge(src=s, dst=d, type=t, weight=w)) for s, d, t, w in edges]
    g.apply(Transaction.create("build", edits), record=False)
    return g


@pytest.fixture
def goals() -> ThoughtGraph:
    return graph_of(
        [
            {"id": "g1", "kind": "goal"}, {"id": "g2", "kind": "goal"}, {"id": "g3", "kind": "goal"},
            {"id": "done-goal", "kind": "goal", "status": "done"},
            {"id": "e1", "kind": "memory", "confidence": 1.0}, {"id": "e2", "kind": "run", "confidence": 0.4},
            {"id": "e3", "kind": "run", "status": "failed"}, {"id": "e4", "kind": "thought"},
            {"id": "plan", "kind": "plan"},
            {"id": "q-open", "kind": "question"}, {"id": "q-linked", "kind": "question", "status": "blocked"},
            {"id": "q-done", "kind": "question", "status": "done"},
        ],
        [
            ("e1", "g1", "evidence_for", 0.5), ("e2", "g1", "evidence_for", 1.0),  # 1 - (1 - .5)(1 - .4) = .7
            ("e3", "g2", "evidence_for", 1.0),  # failed evidence does not count
            ("e4", "g3", "evidence_for", 7.0),  # weight clipped to 1: certain
            ("g1", "plan", "parent", 1.0), ("plan", "q-open", "parent", 1.0),
            ("q-linked", "g1", "mentions", 1.0), ("g1", "q-done", "parent", 1.0),
        ],
    )


def test_confidence_is_noisy_or_of_the_evidence(goals: ThoughtGraph):
    conf, count = evidence_confidence(goals)
    got = dict(zip(goals.node_ids(), conf.tolist(), strict=True))
    assert got["g1"] == pytest.approx(0.7, abs=1e-15)
    assert got["g2"] == 0.0 and got["g3"] == 1.0 and got["e1"] == 0.0
    assert count[goals.row_of("g1")] == 2 and count[goals.row_of("g2")] == 0
    assert not np.signbit(conf).any()


def test_unsupported_goals_and_open_questions(goals: ThoughtGraph):
    s = epistemic_state(goals)
    assert s.unsupported_goals(goals) == ["g2"]  # g1, g3 have evidence; done-goal is settled
    assert s.open_questions(goals) == ["q-open", "q-linked"]
    assert epistemic_state(goals, unsupported_below=0.8).unsupported_goals(goals) == ["g1", "g2"]
    # New evidence makes g2 supported (the cached state follows the change).
    goals.apply(ops.link(goals, "e1", "g2", "evidence_for", weight=0.25))
    s = epistemic_state(goals)
    assert s.unsupported_goals(goals) == [] and s.confidence[goals.row_of("g2")] == pytest.approx(0.25, abs=1e-15)


def test_unsupported_goals_and_open_questions_get_the_activation_boost(goals: ThoughtGraph):
    p = ActivationParams(epistemic_boost=0.6, spread_steps=0)
    r = update_activation(goals, NOW, p, tz=UTC)  # every node is ancient: only the boost remains
    boosted = {i for i, a in zip(goals.node_ids(), r.activation.tolist(), strict=True) if a > 0}
    assert boosted == {"g2", "q-open", "q-linked"}
    assert r.activation[goals.row_of("g2")] == 0.6 and r.active[goals.row_of("g2")]
    assert any("unsupported goal or open question" in s for s in r.reasons(goals.row_of("q-open")))


def test_goal_report(goals: ThoughtGraph):
    report = {gi.id: gi for gi in goal_report(goals)}
    assert list(report) == ["g1", "g2", "g3", "done-goal"]
    g1 = report["g1"]
    assert g1.confidence == pytest.approx(0.7) and g1.evidence == 2 and not g1.unsupported
    assert g1.open_questions == ("q-open", "q-linked")  # below it, and linked to it; not the done one
    assert report["g2"].unsupported and report["g2"].open_questions == ()
    assert g1.to_dict()["open_questions"] == ["q-open", "q-linked"]
    assert report["done-goal"].progress == 1.0


def test_demo_graph_goals_are_supported_and_a_contradiction_lowers_confidence():
    g = build_graph("resources/demo")
    report = {gi.title: gi for gi in goal_report(g)}
    # Completed runs of linked items and memory entries mentioning them support every demo goal.
    assert report and not [t for t, gi in report.items() if gi.unsupported]
    assert all(gi.confidence > 0 and gi.evidence > 0 for gi in report.values())
    # A user's contradicts link lowers the heartbeat's confidence; undoing it restores the figure.
    heartbeat = report["Loop heartbeat"]
    entry = next(n.id for n in g.nodes() if n.kind.value == "memory")
    g.apply(ops.link(g, entry, heartbeat.id, "contradicts", weight=0.9))
    assert epistemic_state(g).confidence[g.row_of(heartbeat.id)] < heartbeat.confidence
    g.undo()
    assert epistemic_state(g).confidence[g.row_of(heartbeat.id)] == pytest.approx(heartbeat.confidence)
