"""History listing, the graph at any earlier transaction, and restore as an undoable transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_store_crash import make_tx

from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.store import GraphStore, diff_to_transaction, same_content


def _reference_states(count: int) -> list[dict]:
    """``states[k]`` is the graph's JSON form after the first ``k`` transactions of the sequence."""
    g = ThoughtGraph()
    states = [g.to_dict()]
    for i in range(count):
        g.apply(make_tx(i, g), record=False)
        states.append(g.to_dict())
    return states


@pytest.fixture(params=["sqlite", "postgres"])
def store_30(request, tmp_path: Path):
    """30 journaled transactions, in the embedded store and in the fleet's shared one (same interface)."""
    if request.param == "postgres":
        from orchestrator_gui.store.postgres import PostgresGraphStore

        store = PostgresGraphStore.open(request.getfixturevalue("fleet_db"), local_path=tmp_path / "graph.db",
                                        machine="m1", snapshot_every=7, keep_snapshots=2)
    else:
        store = GraphStore.open(tmp_path / "graph.db", snapshot_every=7, keep_snapshots=2)
    g = store.graph
    for i in range(30):
        g.apply(make_tx(i, g))
    yield store
    store.close()


def test_history_lists_every_transaction_with_its_provenance(store_30: GraphStore):
    h = store_30.history()
    assert [e.seq for e in h] == list(range(1, 31))
    assert [e.tx_id for e in h] == [f"tx{i}" for i in range(30)]
    assert [e.operation for e in h[:5]] == ["step0", "step1", "step2", "step3", "step4"]
    assert h[12].time == 1012.0 and h[12].params == {"i": 12} and h[12].actor == "user"
    assert h[12].description == "step2" and h[12].edits == 1 and h[12].valid
    assert h[0].edits == 1 and h[5].edits == 2  # an added node plus its parent edge
    assert [e.seq for e in store_30.history(limit=3)] == [28, 29, 30]
    assert h[3].to_dict()["tx_id"] == "tx3"


def test_graph_at_every_transaction_equals_the_reference(store_30: GraphStore):
    states = _reference_states(30)
    # Periodic snapshots at 7, 14, 21, 28 are pruned to the newest two: older states replay from empty.
    for k in range(1, 31):
        loaded = store_30.graph_at(f"tx{k - 1}")
        assert loaded.problems == []
        assert loaded.last_seq == k
        assert loaded.graph.to_dict() == states[k], k
    assert store_30.graph_at(30).snapshot_id is not None  # by seq, from the snapshot at 28
    assert store_30.graph_at(5).snapshot_id is None


def test_graph_at_accepts_a_unique_prefix_and_rejects_unknown_or_ambiguous_ids(store_30: GraphStore):
    g = store_30.graph
    for tx_id in ("abcd-one", "abcd-two"):
        g.apply(ops.add_thought(g, tx_id, node_id=tx_id).model_copy(update={"id": tx_id}))
    assert store_30.graph_at("abcd-t").last_seq == 32
    assert store_30.graph_at("tx1").last_seq == 2  # an exact id wins over the prefix of tx10..tx19
    with pytest.raises(ValueError, match="ambiguous"):
        store_30.graph_at("abcd")
    with pytest.raises(KeyError):
        store_30.graph_at("no-such-transaction")
    with pytest.raises(KeyError):
        store_30.graph_at(99)


def test_restore_is_a_new_journaled_transaction_that_undo_reverts(tmp_path: Path):
    db = tmp_path / "graph.db"
    store = GraphStore.open(db, snapshot_every=5)
    g = store.graph
    for i in range(12):
        g.apply(make_tx(i, g))
    now = g.to_dict()
    states = _reference_states(12)
    done = store.restore("tx3")
    assert done is not None and done.provenance.operation == "restore"
    assert done.provenance.params == {"tx_id": "tx3", "seq": 4}
    assert same_content(g, ThoughtGraph.from_dict(states[4]))
    assert store.history()[-1].operation == "restore" and store.last_seq == 13
    assert store.restore("tx3") is None  # already there: nothing to do
    g.undo()
    assert g.to_dict() == now
    assert [e.operation for e in store.history()[-2:]] == ["restore", "undo"]
    after_undo = g.to_dict()
    store.close()
    again = GraphStore.open(db)
    assert again.graph.to_dict() == after_undo
    again.close()


def test_graph_at_before_a_replacement_uses_the_older_state(tmp_path: Path):
    store = GraphStore.open(tmp_path / "graph.db", keep_snapshots=1)
    g = store.graph
    g.apply(ops.add_thought(g, "old", node_id="old"))
    first = store.history()[-1].tx_id
    new = ThoughtGraph()
    new.apply(ops.add_thought(new, "imported", node_id="imp"))
    store.replace_graph(new)
    new.apply(ops.add_thought(new, "later", node_id="later"))
    assert store.graph_at(first).graph.node_ids() == ["old"]
    assert store.graph_at(2).graph.node_ids() == ["imp"]
    assert store.graph_at(3).graph.node_ids() == ["imp", "later"]
    store.restore(first)
    assert store.graph.node_ids() == ["old"]
    store.close()


# -- diff_to_transaction --------------------------------------------------------------------
_ids = st.sampled_from([f"n{i}" for i in range(8)])


@st.composite
def graphs(draw) -> ThoughtGraph:
    g = ThoughtGraph()
    for nid in sorted(draw(st.sets(_ids, max_size=8))):
        g.apply(ops.add_thought(
            g, draw(st.sampled_from(["a", "b", "c"])), node_id=nid,
            kind=draw(st.sampled_from(["thought", "todo", "plan"])), tags=draw(st.lists(st.sampled_from("xyz"), max_size=2)),
            now=1.0,
        ), record=False)
    ids = g.node_ids()
    if len(ids) >= 2:
        for _ in range(draw(st.integers(0, 10))):
            a, b = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
            t = draw(st.sampled_from(["parent", "mentions"]))
            if a != b and not g.has_edge(a, b, t):
                g.apply(ops.link(g, a, b, t, weight=draw(st.sampled_from([0.5, 1.0]))), record=False)
        for nid in draw(st.lists(st.sampled_from(ids), max_size=3, unique=True)):
            g.apply(ops.move(g, {nid: (draw(st.floats(0, 6.28)), draw(st.floats(-1.5, 1.5)), 2.0)}), record=False)
    return g


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), graphs())
def test_diff_turns_one_graph_into_the_other_and_undoes_exactly(a: ThoughtGraph, b: ThoughtGraph):
    before, target = a.to_dict(), b.to_dict()
    tx = diff_to_transaction(a, b, now=5.0)
    assert a.to_dict() == before and b.to_dict() == target  # building the diff touches neither graph
    assert (len(tx.edits) == 0) == same_content(a, b)
    a.apply(tx)
    assert same_content(a, b)
    a.undo()
    assert a.to_dict() == before
