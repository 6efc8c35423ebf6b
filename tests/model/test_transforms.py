"""Graph-of-Thoughts transforms: atomic (injected failures roll back), undoable, journaled, with provenance."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from shared_fixtures import fixture

from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.model import ThoughtGraph, mutate
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model import transforms as tf
from orchestrator_gui.model.coords import angular_distance, spherical_mean, to_cartesian
from orchestrator_gui.model.nodes import SHELL_RADII, EdgeType, Layer, NodeKind
from orchestrator_gui.model.thinker import OfflineThinker, ThinkerError, node_text
from orchestrator_gui.store import GraphStore

T0 = 1_700_000_000.0
DAY = 86400.0


def _details(item) -> str:
    return textwrap.dedent("\n".join(item.details)).strip("\n")


@pytest.fixture(scope="module")
def todo_item():
    doc = load_todo(fixture("todo", "TODO__e0af0f6f"))
    (item,) = [i for i in doc.items if i.text == "Time tracking enforcement implementation"]
    return item


def setup_edits(todo_item) -> list:
    """Transactions that build the test graph: a goal, the real TODO item under it, three plans."""
    g = ThoughtGraph()
    txs = []

    def add(*args, **kwargs):
        tx = ops.add_thought(g, *args, now=T0, **kwargs)
        g.apply(tx)
        txs.append(tx)

    add("Ship the release", "Everything the release needs.", kind="goal", node_id="goal")
    add(todo_item.text, _details(todo_item), kind="todo", parent="goal", node_id="todo")
    add("Plan A", "- write the notes\n- tag the commit", kind="plan", parent="goal", node_id="a")
    add("Plan B", "- Write the notes\n- publish", kind="plan", parent="goal", node_id="b")
    add("Plan C", "Ask the team.", kind="plan", parent="goal", node_id="c")
    return txs


@pytest.fixture
def graph(todo_item):
    g = ThoughtGraph()
    for tx in setup_edits(todo_item):
        g.apply(tx, record=False)
    return g


# Every operation of the one transform API, built against the test graph.
CASES = {
    "generate": lambda g: tf.generate(g, "todo", 3, now=T0 + 10),
    "refine": lambda g: tf.refine(g, "a", "rename to Plan A2\nadd: announce it", now=T0 + 10),
    "refine_in_place": lambda g: tf.refine(g, "a", "remove: tag", in_place=True, now=T0 + 10),
    "aggregate": lambda g: tf.aggregate(g, ["a", "b", "c"], now=T0 + 10),
    "score": lambda g: tf.score(g, ["a", "b", "c", "todo"], now=T0 + 10),
    "link": lambda g: tf.link(g, "a", "b", EdgeType.DEPENDS_ON),
    "unlink": lambda g: tf.unlink(g, "goal", "b"),
    "edit": lambda g: tf.edit(g, "c", title="Plan C'", status="done", now=T0 + 10),
    "move": lambda g: tf.move(g, {"a": (0.5, 0.25), "b": (1.0, -0.5)}),
    "delete": lambda g: tf.delete(g, ["b", "c"]),
    "keep_best": lambda g: tf.keep_best(g, ["a", "b", "c"], 1, now=T0 + 10),
    "prune": lambda g: tf.prune(g, "goal", now=T0 + 10),
    "expand": lambda g: tf.expand(g, "goal", now=T0 + 10),
    "compress": lambda g: tf.compress(g, "goal", now=T0 + 10),
}
#: State some operations need first (applied without undo history, before the "before" snapshot).
PREP = {
    "expand": lambda g: g.apply(tf.prune(g, "goal", now=T0 + 5), record=False),
    "keep_best": lambda g: [g.apply(tf.edit(g, i, score=v, now=T0), record=False)
                            for i, v in (("a", 0.2), ("b", 0.7), ("c", 0.4))],
}


def inject_failure_halfway(monkeypatch, tx) -> dict:
    """Make the graph's primitive-edit application raise once, after half of ``tx``'s edits succeeded."""
    real = mutate.apply_edit
    state = {"calls": 0, "fail_at": len(tx.edits) // 2 + 1, "raised": False}

    def flaky(g, edit):
        state["calls"] += 1
        if state["calls"] == state["fail_at"]:
            state["raised"] = True
            raise RuntimeError("injected failure")
        return real(g, edit)

    monkeypatch.setattr(mutate, "apply_edit", flaky)
    return state


@pytest.mark.parametrize("name", sorted(CASES))
def test_failure_halfway_leaves_the_graph_identical_and_undo_redo_restore_exactly(graph, monkeypatch, name):
    PREP.get(name, lambda g: None)(graph)
    before = graph.to_dict()
    tx = CASES[name](graph)
    assert graph.to_dict() == before, "building a transaction must not change the graph"
    if name not in ("link", "move", "refine_in_place", "unlink"):
        assert len(tx.edits) >= 2, "a single-edit transaction cannot fail halfway"
    with monkeypatch.context() as m:
        state = inject_failure_halfway(m, tx)
        with pytest.raises(RuntimeError, match="injected"):
            graph.apply(tx)
    assert state["raised"] and state["calls"] >= state["fail_at"]
    assert graph.to_dict() == before
    graph.apply(tx)
    after = graph.to_dict()
    assert after != before
    graph.undo()
    assert graph.to_dict() == before
    graph.redo()
    assert graph.to_dict() == after


@pytest.mark.parametrize("name", ["generate", "aggregate", "refine", "score", "delete"])
def test_through_the_store_a_failed_transform_journals_nothing_and_a_good_one_survives_reopening(
        tmp_path, todo_item, monkeypatch, name):
    path = tmp_path / "graph.db"
    with GraphStore.open(path, durable=False) as store:
        for tx in setup_edits(todo_item):
            store.apply(tx)
        before, seq = store.graph.to_dict(), store.last_seq
        tx = CASES[name](store.graph)
        with monkeypatch.context() as m:
            inject_failure_halfway(m, tx)
            with pytest.raises(RuntimeError):
                store.apply(tx)
        assert store.graph.to_dict() == before and store.last_seq == seq and len(store.history()) == seq
        committed = store.apply(tx)
        after = store.graph.to_dict()
        entry = store.history()[-1]
        assert (entry.tx_id, entry.operation) == (committed.id, tx.provenance.operation)
    with GraphStore.open(path, durable=False) as store:
        assert store.graph.to_dict() == after


def test_generate_children_are_the_item_details_with_provenance_on_a_cap(graph, todo_item):
    tx = graph.apply(tf.generate(graph, "todo", 3, now=T0 + 10))
    created = tf.changes(tx)["created"]
    children = [graph.node(i) for i in created]
    assert [node_text(c.title, c.content) for c in children] == [
        'Coordination Context: System implemented with dual-priority tracking (schedule="TOP PRIORITY", '
        'todo="integrated")',
        "Action: Oversee time tracking enforcement across both systems. Schedule tasks use atomic operations, "
        "TODO tasks use 3600s enforcement",
        "Completion: Dual-priority system established with schedules.json as TOP PRIORITY authority",
    ]
    assert len(todo_item.details) == 3
    p = tx.provenance
    assert (p.operation, p.actor, p.time) == ("generate", "offline", T0 + 10)
    assert p.params["node_id"] == "todo" and p.params["n"] == 3 and p.params["created"] == created
    assert p.params["cost"]["thinker"] == "offline" and p.params["cost"]["tokens"] is None
    parent = graph.node("todo")
    for c in children:
        assert c.kind == NodeKind.THOUGHT and c.layer == Layer.EXECUTION and c.r == SHELL_RADII[Layer.EXECUTION]
        assert c.created == c.updated == T0 + 10
        assert c.metadata["provenance"] == {"operation": "generate", "tx": tx.id, "from": ["todo"], "actor": "offline"}
        assert graph.edge(c.id, "todo", EdgeType.DERIVED_FROM).metadata == {"operation": "generate", "tx": tx.id}
        assert graph.has_edge("todo", c.id, EdgeType.PARENT)
        angle = angular_distance(to_cartesian(c.spherical), to_cartesian(parent.spherical))
        assert 0 < angle <= tf.GENERATE_CAP + 1e-12
    assert tf.changes(tx) == {"transaction": tx.id, "created": created, "changed": ["todo"], "removed": []}


def test_generate_again_asks_questions_on_free_cap_slots_and_goal_children_go_outward(graph):
    first = tf.changes(graph.apply(tf.generate(graph, "todo", 3, now=T0)))["created"]
    second = tf.changes(graph.apply(tf.generate(graph, "todo", 2, now=T0)))["created"]
    nodes = [graph.node(i) for i in second]
    assert [n.kind for n in nodes] == [NodeKind.QUESTION, NodeKind.QUESTION]
    assert nodes[0].title == "What is the goal of Time tracking enforcement implementation?"
    spots = {graph.node(i).spherical for i in first + second}
    assert len(spots) == 5  # no child lands on an earlier child's spot
    goal_child = graph.node(tf.changes(graph.apply(tf.generate(graph, "goal", 1)))["created"][0])
    # "Ship the release / Everything the release needs." is one sentence: a question, one shell out.
    assert goal_child.layer == Layer.NAVIGATION and goal_child.title == "What is the goal of Ship the release?"


def test_aggregate_sits_at_the_spherical_mean_with_merged_text(graph):
    tx = graph.apply(tf.aggregate(graph, ["a", "b", "todo"], now=T0))
    (new_id,) = tf.changes(tx)["created"]
    node = graph.node(new_id)
    inputs = [graph.node(i) for i in ("a", "b", "todo")]
    mean = spherical_mean(np.array([to_cartesian(n.spherical) for n in inputs]))
    assert np.allclose(to_cartesian(node.spherical) / node.r, mean, atol=1e-9, rtol=0)
    assert node.layer == Layer.NAVIGATION  # innermost of navigation (plans) and execution (todo)
    assert node.title == "Plan A + Plan B + Time tracking enforcement implementation"
    assert node.content.split("\n")[:3] == ["- write the notes", "- tag the commit", "- publish"]
    assert {e.dst for e in graph.edges_of(new_id, "out") if e.type == EdgeType.DERIVED_FROM} == {"a", "b", "todo"}
    assert tx.provenance.params["node_ids"] == ["a", "b", "todo"]
    with pytest.raises(ValueError, match="at least two"):
        tf.aggregate(graph, ["a", "a"])


def test_refine_makes_a_derived_version_or_edits_in_place(graph):
    tx = graph.apply(tf.refine(graph, "a", "rename to Plan A2\nadd: announce it", now=T0 + 5))
    (new_id,) = tf.changes(tx)["created"]
    new = graph.node(new_id)
    assert (new.title, new.content, new.kind, new.layer) == (
        "Plan A2", "- write the notes\n- tag the commit\n- announce it", NodeKind.PLAN, Layer.NAVIGATION)
    assert graph.node("a").title == "Plan A"
    assert graph.edge(new_id, "a", EdgeType.DERIVED_FROM).metadata["operation"] == "refine"
    assert angular_distance(to_cartesian(new.spherical), to_cartesian(graph.node("a").spherical)) <= tf.REFINE_CAP
    assert tx.provenance.params["feedback"] == "rename to Plan A2\nadd: announce it"
    # A refined TODO (file-backed) becomes a thought.
    todo_new = graph.node(tf.changes(graph.apply(tf.refine(graph, "todo", "a note")))["created"][0])
    assert todo_new.kind == NodeKind.THOUGHT and todo_new.content.endswith("Revision note: a note")

    tx = graph.apply(tf.refine(graph, "b", "remove: publish", in_place=True, now=T0 + 6))
    b = graph.node("b")
    assert b.content == "- Write the notes" and b.history[-1].content == "- Write the notes\n- publish"
    assert b.history[-1].actor == "offline" and tf.changes(tx)["changed"] == ["b"]
    with pytest.raises(ThinkerError, match="changes nothing"):
        tf.refine(graph, "b", "replace: notes => notes")


def test_score_writes_attention_recency_and_completion(graph):
    rows = graph.rows_of(["a", "b", "c"])
    graph.set_attention([0.5, 0.25, 0.0], rows)
    graph.apply(ops.edit(graph, "b", status="done", now=T0 - 7 * DAY))
    now = T0 + 7 * DAY  # a and c were updated at T0: one half-life ago; b two half-lives ago
    tx = graph.apply(tf.score(graph, ["a", "b", "c", "goal"], now=now))
    assert graph.node("a").score == pytest.approx(0.4 * 1.0 + 0.3 * 0.5, abs=1e-12)
    assert graph.node("b").score == pytest.approx(0.4 * 0.5 + 0.3 * 0.25 + 0.3 * 1.0, abs=1e-12)
    assert graph.node("c").score == pytest.approx(0.3 * 0.5, abs=1e-12)
    # The goal has four children, one of them done: completion 1/4.
    assert graph.node("goal").score == pytest.approx(0.3 * 0.5 + 0.3 * 0.25, abs=1e-12)
    assert tx.provenance.params["scores"]["a"] == graph.node("a").score
    again = tf.score(graph, ["a", "b", "c", "goal"], now=now)
    assert again.edits == ()  # nothing changes: an empty transaction


def test_thinker_misbehaviour_is_refused_before_anything_changes(graph):
    class Chatty(OfflineThinker):
        def generate(self, text, context, n):
            return ["one", "two", "three", "four"]

    before = graph.to_dict()
    with pytest.raises(ThinkerError, match="more than n=2"):
        tf.generate(graph, "a", 2, thinker=Chatty(name="chatty"))

    class Blank(OfflineThinker):
        def generate(self, text, context, n):
            return []

    with pytest.raises(ThinkerError, match="nothing new"):
        tf.generate(graph, "a", 2, thinker=Blank())
    assert graph.to_dict() == before
    tx = tf.generate(graph, "a", 2, thinker=OfflineThinker(name="custom"), actor="agent-7")
    assert tx.provenance.actor == "agent-7" and tx.provenance.params["cost"]["thinker"] == "custom"


def test_changes_reports_created_changed_removed(graph):
    tx = graph.apply(tf.delete(graph, ["c"]))
    assert tf.changes(tx) == {"transaction": tx.id, "created": [], "changed": ["goal"], "removed": ["c"]}
    undo = graph.undo()
    assert tf.changes(undo) == {"transaction": undo.id, "created": ["c"], "changed": ["goal"], "removed": []}


def test_keep_best_keeps_the_n_best_and_prunes_the_rest_recoverably(graph):
    for node_id, value in (("a", 0.2), ("b", 0.7), ("c", 0.4)):
        graph.apply(tf.edit(graph, node_id, score=value, now=T0))
    before = graph.to_dict()
    tx = graph.apply(tf.keep_best(graph, ["a", "b", "c"], 2, actor="agent"))
    p = tx.provenance
    assert (p.operation, p.actor) == ("keep_best", "agent")
    assert p.params["kept"] == ["b", "c"] and p.params["pruned"] == ["a"]
    assert "pruned" in graph.node("a").metadata
    assert all("pruned" not in graph.node(i).metadata for i in ("b", "c", "goal"))
    assert tf.changes(tx)["changed"] == ["a"]
    graph.apply(tf.expand(graph, "a"))
    assert graph.to_dict()["nodes"] == before["nodes"]
    # Ties keep the earlier node; n must leave something to prune.
    assert tf.keep_best(graph, ["todo", "goal"], 1).provenance.params["kept"] == ["todo"]  # both score 0
    assert tf.keep_best(graph, ["goal", "todo"], 1).provenance.params["kept"] == ["goal"]
    with pytest.raises(ValueError, match="prunes nothing"):
        tf.keep_best(graph, ["a", "b"], 2)
