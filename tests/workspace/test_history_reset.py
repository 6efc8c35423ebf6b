"""An import replaces the whole graph (a ``reset`` journal record); the history offers it as one undo step."""

from __future__ import annotations

from types import SimpleNamespace

from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.store import GraphStore, same_content
from orchestrator_gui.workspace.history import UndoHistory, store_reset_change, undo_position


def e(tx_id, operation="edit", of=None, kind="tx", undoable=None):
    params = {} if of is None else {"of": of}
    if undoable is not None:
        params["undoable"] = undoable
    return SimpleNamespace(tx_id=tx_id, operation=operation, params=params, kind=kind, valid=True)


def test_an_import_is_a_step_only_where_the_history_can_undo_resets():
    log = [e("t1"), e("i1", "import", kind="reset")]
    assert undo_position(log) == ([], [])  # a history without reset_change: a barrier, as before
    assert undo_position(log, resets=True) == (["t1", "i1"], [])  # the steps before it stay reachable
    assert undo_position([*log, e("u1", "undo", "i1")], resets=True) == (["t1"], ["i1"])
    assert undo_position([*log, e("u1", "undo", "i1"), e("r1", "redo", "i1")], resets=True) == (["t1", "r1"], [])
    # A fresh build and a reset marked not undoable stay barriers.
    assert undo_position([e("t1"), e("b", "build_graph", kind="reset"), e("t2")], resets=True) == (["t2"], [])
    assert undo_position([e("t1"), e("i2", "import", kind="reset", undoable=False)], resets=True) == ([], [])


def _thoughts(g: ThoughtGraph, prefix: str, n: int) -> None:
    for i in range(n):
        parent = f"{prefix}0" if i else None
        g.apply(ops.add_thought(g, f"{prefix} title {i}", kind="plan" if i else "goal", node_id=f"{prefix}{i}",
                                parent=parent, now=float(i)), record=False)


def _history(store: GraphStore) -> UndoHistory:
    """The history a session on ``store`` keeps (seeded from the journal, as a new process does)."""
    history = UndoHistory(lambda tx: store.graph.apply(tx, record=False), store.transaction,
                          reset_change=store_reset_change(store))
    history.seed(store.history())
    return history


def _look(g: ThoughtGraph) -> dict:
    """Ids, titles and positions of every node, and the edges."""
    return {"nodes": {n.id: (n.title, n.spherical) for n in g.nodes()}, "edges": sorted(e.key for e in g.edges())}


def test_undo_of_an_import_brings_back_the_graph_before_it_and_redo_the_import(tmp_path):
    path = tmp_path / "graph.db"
    with GraphStore.open(path, durable=False) as store:
        _thoughts(store.graph, "old", 4)
        store.graph.apply(ops.move(store.graph, {"old2": (1.0, 0.5)}), record=False)
        before = ThoughtGraph.from_dict(store.graph.to_dict())
        imported = ThoughtGraph()
        _thoughts(imported, "new", 3)
        imported.apply(ops.add_thought(imported, "shares an id", node_id="old1", now=9.0), record=False)
        store.replace_graph(imported, operation="import", description="Import g.graphml", params={"file": "g"})
        after = ThoughtGraph.from_dict(store.graph.to_dict())
    # Each step in a new process, as `graph undo` and `graph redo` run.
    with GraphStore.open(path, durable=False) as store:
        history = _history(store)
        assert history.undo_text == "Import g.graphml"
        done = history.undo()
        assert done.committed.provenance.operation == "undo" and done.committed.provenance.params == {
            "of": done.step.tx_id}
        assert _look(store.graph) == _look(before) and same_content(store.graph, before)
    with GraphStore.open(path, durable=False) as store:
        history = _history(store)
        assert history.redo_text == "Import g.graphml"
        history.redo()
        assert _look(store.graph) == _look(after) and same_content(store.graph, after)
    with GraphStore.open(path, durable=False) as store:
        history = _history(store)
        history.undo()  # the redo is an ordinary transaction now: its inverse
        assert same_content(store.graph, before)
        history.undo()  # and the steps before the import are still there: the move
        assert store.graph.node("old2").spherical != before.node("old2").spherical
        assert _look(store.graph)["nodes"].keys() == _look(before)["nodes"].keys()


def test_an_import_into_an_empty_store_undoes_to_an_empty_graph(tmp_path):
    with GraphStore.open(tmp_path / "graph.db", durable=False) as store:
        imported = ThoughtGraph()
        _thoughts(imported, "n", 3)
        store.replace_graph(imported, operation="import", description="Import g.json")
        history = _history(store)
        history.undo()
        assert store.graph.number_of_nodes() == 0 and not history.can_undo
        history.redo()
        assert same_content(store.graph, imported)


def test_a_fresh_build_stays_a_barrier(tmp_path):
    with GraphStore.open(tmp_path / "graph.db", durable=False) as store:
        built = ThoughtGraph()
        _thoughts(built, "b", 2)
        store.replace_graph(built, operation="build_graph", description="Build from the workspace files")
        assert not _history(store).can_undo


def test_undoing_an_import_that_changed_nothing_still_moves_the_history(tmp_path):
    path = tmp_path / "graph.db"
    with GraphStore.open(path, durable=False) as store:
        _thoughts(store.graph, "n", 2)
        store.replace_graph(ThoughtGraph.from_dict(store.graph.to_dict()), operation="import", description="Import")
        done = _history(store).undo()
        assert done.committed.edits == ()  # nothing to change, but journaled: the next process knows
    with GraphStore.open(path, durable=False) as store:
        history = _history(store)
        assert history.redo_text == "Import" and history.undo_text != "Import"
