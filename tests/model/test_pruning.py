"""Prune, expand and compress: recoverable, exact round trips, all-or-nothing under injected failures, journaled."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import numpy as np
import pytest

from orchestrator_gui.migration import build_graph
from orchestrator_gui.model import Edge, Node, NodeFlag, ThoughtGraph, Transaction, mutate
from orchestrator_gui.model.activation import ActivationParams, update_activation
from orchestrator_gui.model.attention import update_attention
from orchestrator_gui.model.planning import rollup_progress
from orchestrator_gui.model.pruning import (
    PRUNED_KEY,
    blocked_mask,
    cold_branches,
    compress,
    expand,
    folded_mask,
    prune,
    prune_cold,
    pruned_mask,
    subtree,
)
from orchestrator_gui.model.transactions import AddEdge, AddNode
from orchestrator_gui.store import GraphStore

NOW = 1_800_000_000.0


def snapshot(g: ThoughtGraph) -> dict:
    """Everything observable: JSON form (rows, state) plus the mirrors and edge arrays."""
    ea = g.edge_arrays()
    return {"dict": g.to_dict(), "xyz": g.positions.tolist(), "flags": g.flags.tolist(),
            "edges": (ea.src.tolist(), ea.dst.tolist(), ea.type.tolist(), ea.weight.tolist())}


@pytest.fixture
def tree() -> ThoughtGraph:
    """goal -> a -> (a1 -> a11, a2);  goal -> b -> b1;  x -mentions-> a1."""
    g = ThoughtGraph()
    nodes = [("goal", "goal"), ("a", "plan"), ("a1", "todo"), ("a11", "todo"), ("a2", "todo"), ("b", "plan"),
             ("b1", "todo"), ("x", "memory")]
    edits = [AddNode(node=Node(id=i, kind=k, title=f"T {i}", metadata={"k": i}, updated=NOW,
                               theta=0.1 * n, phi=0.05 * n, status="done" if i == "a11" else "open"))
             for n, (i, k) in enumerate(nodes)]
    edits += [AddEdge(edge=Edge(src=s, dst=d, type="parent"))
              for s, d in [("goal", "a"), ("a", "a1"), ("a1", "a11"), ("a", "a2"), ("goal", "b"), ("b", "b1")]]
    edits.append(AddEdge(edge=Edge(src="x", dst="a1", type="mentions", weight=0.5)))
    g.apply(Transaction.create("build", edits), record=False)
    return g


def test_prune_marks_the_branch_and_expand_restores_the_exact_graph(tree: ThoughtGraph):
    before = snapshot(tree)
    tx = tree.apply(prune(tree, "a", now=NOW))
    assert tx.provenance.operation == "prune" and len(tx.edits) == 4
    assert subtree(tree, "a") == ["a", "a1", "a2", "a11"]
    assert [i for i, m in zip(tree.node_ids(), pruned_mask(tree), strict=True) if m] == ["a", "a1", "a11", "a2"]
    assert tree.node("a11").metadata == {"k": "a11", PRUNED_KEY: {"root": "a", "time": NOW}}
    assert tree.node("a11").updated == NOW  # pruning is not an edit of content
    tree.apply(expand(tree, "a11"))  # any pruned node of the branch re-opens the whole branch
    assert snapshot(tree) == before
    tree.undo()
    tree.undo()
    assert snapshot(tree) == before


def test_undo_of_prune_is_exact_and_redo_reprunes(tree: ThoughtGraph):
    before = snapshot(tree)
    tree.apply(prune(tree, ["a", "b"], now=NOW))
    pruned = snapshot(tree)
    tree.undo()
    assert snapshot(tree) == before
    tree.redo()
    assert snapshot(tree) == pruned


def test_nested_prunes_keep_their_own_root(tree: ThoughtGraph):
    tree.apply(prune(tree, "a1", now=NOW))
    inner = snapshot(tree)
    tree.apply(prune(tree, "a", now=NOW + 1))
    assert tree.node("a11").metadata[PRUNED_KEY]["root"] == "a1"
    assert tree.node("a2").metadata[PRUNED_KEY]["root"] == "a"
    tree.apply(expand(tree, "a"))
    assert snapshot(tree) == inner  # a1's branch stays pruned
    with pytest.raises(ValueError, match="already pruned"):
        prune(tree, "a11")
    with pytest.raises(ValueError, match="nothing to expand"):
        expand(tree, "b")


def test_activation_suppresses_pruned_and_folded_nodes_and_releases_them(tree: ThoughtGraph):
    p = ActivationParams(spread_steps=2)
    update_activation(tree, NOW, p, tz=UTC)
    assert tree.state("a1").flags & NodeFlag.ACTIVE
    tree.apply(prune(tree, "a1", now=NOW))
    r = update_activation(tree, NOW, p, tz=UTC)
    for i in ("a1", "a11"):
        assert tree.state(i).flags == NodeFlag.SUPPRESSED and tree.state(i).activation == 0.0
        assert r.reasons(tree.row_of(i)) == ["pruned or folded: suppressed"]
    assert tree.state("a2").flags == NodeFlag.ACTIVE
    tree.undo()
    update_activation(tree, NOW, p, tz=UTC)
    assert tree.state("a1").flags == NodeFlag.ACTIVE
    tree.apply(compress(tree, "b", summary_id="sum-b", now=NOW))
    update_activation(tree, NOW, p, tz=UTC)
    assert tree.state("b1").flags == NodeFlag.SUPPRESSED and tree.state("sum-b").flags & NodeFlag.ACTIVE


def test_compress_folds_a_subtree_into_one_summary_and_expand_restores_it_exactly(tree: ThoughtGraph):
    before = snapshot(tree)
    progress = rollup_progress(tree).of(tree, "goal")
    tx = tree.apply(compress(tree, "a", summary_id="sum-a", now=NOW))
    assert tx.provenance.operation == "compress" and tx.provenance.params["members"] == 4
    s = tree.node("sum-a")
    assert s.kind.value == "summary" and s.layer == tree.node("a").layer and s.r == tree.node("a").r
    assert s.content == "- [ ] T a\n  - [ ] T a1\n    - [x] T a11\n  - [ ] T a2"
    assert s.metadata == {"summary_of": "a", "members": 4}
    assert sorted(e.dst for e in tree.edges_of("sum-a", "out")) == ["a", "a1", "a11", "a2"]
    assert [e.src for e in tree.edges_of("sum-a", "in")] == ["goal"]
    assert [i for i, m in zip(tree.node_ids(), folded_mask(tree), strict=True) if m] == ["a", "a1", "a11", "a2"]
    assert blocked_mask(tree).sum() == 4
    assert rollup_progress(tree).of(tree, "goal") == progress  # the summary is not counted twice
    # Folded nodes are untouched: content, metadata, edges.
    assert tree.node("a1").metadata == {"k": "a1"} and tree.has_edge("x", "a1", "mentions")
    tree.apply(expand(tree, "sum-a"))
    assert snapshot(tree) == before
    tree.undo()
    tree.undo()
    assert snapshot(tree) == before


def test_compress_refuses_leaves_folded_subtrees_and_taken_ids(tree: ThoughtGraph):
    with pytest.raises(ValueError, match="no children"):
        compress(tree, "a2")
    tree.apply(compress(tree, "a1", summary_id="s1", now=NOW))
    with pytest.raises(ValueError, match="already folded"):
        compress(tree, "a")
    with pytest.raises(Exception, match="exists already"):
        compress(tree, "b", summary_id="s1")


@pytest.mark.parametrize("build", ["prune", "expand-prune", "compress", "expand-compress"])
@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_injected_failure_halfway_leaves_the_graph_identical(tree, monkeypatch, build, fail_at):
    if build == "expand-prune":
        tree.apply(prune(tree, "a", now=NOW))
        tx = expand(tree, "a")
    elif build == "expand-compress":
        tree.apply(compress(tree, "a", summary_id="s", now=NOW))
        tx = expand(tree, "s")
        fail_at = 1  # one edit: the removal of the summary with its edges
    elif build == "prune":
        tx = prune(tree, "a", now=NOW)
    else:
        tx = compress(tree, "a", summary_id="s2", now=NOW)
    before = snapshot(tree)
    history = list(tree.history.undo_items)
    real = mutate.apply_edit
    calls = {"n": 0}

    def flaky(g, edit):
        calls["n"] += 1
        if calls["n"] == fail_at:
            if build == "expand-compress":
                # Fail inside the primitive, after the first incident edge is gone.
                monkeypatch.setattr(mutate, "_delete_edge", _fail_second(mutate._delete_edge))
                return real(g, edit)
            raise RuntimeError("injected")
        return real(g, edit)

    monkeypatch.setattr(mutate, "apply_edit", flaky)
    with pytest.raises(RuntimeError, match="injected"):
        tree.apply(tx)
    monkeypatch.undo()
    assert snapshot(tree) == before
    assert tree.history.undo_items == history


def _fail_second(delete):
    calls = {"n": 0}

    def wrapped(g, key):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected")
        return delete(g, key)

    return wrapped


def test_store_journals_prune_and_compress_and_a_failed_journal_write_rolls_back(tmp_path: Path, tree):
    store = GraphStore.open(tmp_path / "g.db")
    store.replace_graph(tree)
    g = store.graph
    g.apply(prune(g, "b", now=NOW))
    g.apply(compress(g, "a", summary_id="sum-a", now=NOW))
    state = snapshot(g)
    assert [e.operation for e in store.history()][-2:] == ["prune", "compress"]

    def broken(tx):
        raise OSError("disk full")

    g.add_commit_hook(broken)
    with pytest.raises(OSError):
        g.apply(expand(g, "sum-a"))
    g.remove_commit_hook(broken)
    assert snapshot(g) == state
    store.close()
    reopened = GraphStore.open(tmp_path / "g.db")
    assert reopened.graph.to_dict()["nodes"] == state["dict"]["nodes"]
    assert reopened.graph.to_dict()["edges"] == state["dict"]["edges"]
    reopened.close()


def test_cold_branches_follow_attention(tree: ThoughtGraph):
    with pytest.raises(ValueError, match="no attention"):
        cold_branches(tree)
    scores = np.full(len(tree), 0.2)
    scores[tree.rows_of(["b", "b1", "a1", "a11", "x"])] = 0.001
    # b's branch is all cold; a1 is cold but a is hot; x has no parent.
    assert cold_branches(tree, 0.01, scores=scores) == ["a1", "b", "x"]
    tree.set_flags(["a11"], NodeFlag.PINNED)
    assert cold_branches(tree, 0.01, scores=scores) == ["b", "x"]  # a pinned node keeps its ancestors
    tree.apply(prune_cold(tree, 0.01, scores=scores, now=NOW))
    assert [i for i, m in zip(tree.node_ids(), pruned_mask(tree), strict=True) if m] == ["b", "b1", "x"]
    assert cold_branches(tree, 0.01, scores=scores) == []
    with pytest.raises(ValueError, match="no cold branch"):
        prune_cold(tree, 0.01, scores=scores)


def test_demo_graph_round_trips(tmp_path: Path):
    g = build_graph("resources/demo")
    update_activation(g, g.updated.max(), tz=UTC)
    update_attention(g)
    before = snapshot(g)
    milestone = next(n.id for n in g.nodes() if n.title.startswith("Milestone 0.2"))
    tx = g.apply(compress(g, milestone, now=NOW))
    members = tx.provenance.params["members"]
    assert members == len(subtree(g, milestone)) > 5
    summary = tx.provenance.params["summary_id"]
    assert "TW-016 Property tests" in g.node(summary).content
    g.apply(expand(g, summary))
    assert snapshot(g) == before
    roots = cold_branches(g)
    assert roots  # the demo has quiet corners
    g.apply(prune(g, roots, now=NOW))
    for root in roots:
        if g.node(root).metadata[PRUNED_KEY]["root"] == root:
            g.apply(expand(g, root))
    assert snapshot(g) == before
