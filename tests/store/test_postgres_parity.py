"""The store interface behaves alike on the embedded SQLite store and the fleet's PostgreSQL store.

Each test runs on both (``kind``): what the layers above ``store/`` rely on
(journal, reopen, history, graph_at, restore, replace_graph, snapshots,
stats) may not depend on which store they were given.
"""

from __future__ import annotations

import pytest

from orchestrator_gui.model import operations
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.store import GraphStore, GraphStoreAPI, same_content


@pytest.fixture(params=["sqlite", "postgres"])
def reopen(request, tmp_path):
    """``reopen()``: open (again) one store of the parametrized kind; every store is closed at the end."""
    opened = []
    if request.param == "postgres":
        from orchestrator_gui.store.postgres import PostgresGraphStore

        dsn = request.getfixturevalue("fleet_db")

        def factory():
            opened.append(PostgresGraphStore.open(dsn, local_path=tmp_path / "graph.db", machine="m1"))
            return opened[-1]
    else:
        def factory():
            opened.append(GraphStore.open(tmp_path / "graph.db", durable=False))
            return opened[-1]
    yield factory
    for store in opened:
        store.close()


def _three(store) -> list:
    g = store.graph
    a = g.apply(operations.add_thought(g, "Alpha", node_id="thought-a"))
    b = g.apply(operations.add_thought(g, "Beta", node_id="thought-b", parent="thought-a"))
    c = g.apply(operations.edit(g, "thought-a", title="Alpha 2"))
    return [a, b, c]


def test_both_stores_implement_the_interface(reopen):
    assert isinstance(reopen(), GraphStoreAPI)


def test_commits_survive_reopening_with_their_history(reopen):
    store = reopen()
    txs = _three(store)
    dump = store.graph.to_dict()
    store.close()
    again = reopen()
    assert again.last_seq == 3
    assert same_content(again.graph, ThoughtGraph.from_dict(dump))
    assert [e.tx_id for e in again.history()] == [t.id for t in txs]
    assert [e.description for e in again.history(limit=1)] == [txs[-1].description]
    assert again.transaction(txs[1].id).edits == txs[1].edits
    assert not again.offline and again.pull() == 0


def test_graph_at_and_restore_return_to_an_earlier_state(reopen):
    store = reopen()
    txs = _three(store)
    past = store.graph_at(txs[0].id)
    assert past.last_seq == 1 and past.graph.node_ids() == ["thought-a"]
    assert past.graph.node("thought-a").title == "Alpha"
    restored = store.restore(1)
    assert restored is not None and store.graph.node_ids() == ["thought-a"]
    assert store.history()[-1].operation == "restore"
    assert store.graph_at(store.last_seq).graph.node_ids() == ["thought-a"]


def test_replace_graph_is_a_reset_with_a_base_snapshot(reopen):
    store = reopen()
    _three(store)
    fresh = ThoughtGraph()
    fresh.apply(operations.add_thought(fresh, "Only", node_id="thought-only"))
    store.replace_graph(fresh, operation="import", description="Import one")
    assert store.graph is fresh
    store.graph.apply(operations.edit(store.graph, "thought-only", title="Only 2"))
    store.close()
    again = reopen()
    assert again.graph.node_ids() == ["thought-only"] and again.graph.node("thought-only").title == "Only 2"
    kinds = [(e.kind, e.operation) for e in again.history()]
    assert kinds[-2] == ("reset", "import") and kinds[-1][0] == "tx"
    assert again.graph_at(3).graph.node("thought-a").title == "Alpha 2"  # the state before the reset stays reachable


def test_snapshots_are_written_and_counted(reopen):
    store = reopen()
    _three(store)
    store.snapshot(kind="manual")
    store.graph.apply(operations.add_thought(store.graph, "Gamma", node_id="thought-c"))
    stats = store.stats()
    assert stats["journal_records"] == 4 and stats["snapshots"] == 1 and stats["snapshot_bytes"] > 0
    assert stats["last_seq"] == 4 and stats["store_bytes"] > 0
    store.close()
    again = reopen()
    assert sorted(again.graph.node_ids()) == ["thought-a", "thought-b", "thought-c"]
    assert again.stats()["snapshots"] == 2  # the close snapshot joined the manual one


def test_undo_of_a_journaled_transaction_is_journaled_too(reopen):
    store = reopen()
    _three(store)
    store.graph.undo()
    assert store.graph.node("thought-a").title == "Alpha"
    assert store.history()[-1].operation == "undo"
    assert [e.tx_id for e in store.own_history()] == [e.tx_id for e in store.history()]
