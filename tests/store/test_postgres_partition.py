"""Partition: the fleet database goes away mid-session and comes back; nothing committed meanwhile is lost."""

from __future__ import annotations

import threading

import psycopg
from pg_wait import pulled_to
from pg_worker import content
from polling import until

from orchestrator_gui.model import operations
from orchestrator_gui.store.postgres import LOCAL_JOURNAL, PostgresGraphStore


def _add(store, nid: str) -> str:
    return store.graph.apply(operations.add_thought(store.graph, nid, node_id=nid)).id


def _online(store) -> bool:
    store.pull()
    return not store.offline


def test_commits_during_an_outage_go_to_the_local_journal_and_are_replayed_in_order(postgres, open_pg, fleet_db,
                                                                                        tmp_path):
    a, b = open_pg("m1"), open_pg("m2")
    went = []
    a.events.offline_changed.connect(went.append)
    before = [_add(a, f"thought-before-{i}") for i in range(3)]
    pulled_to(b, 3)
    postgres.stop()
    try:
        offline_a = [_add(a, f"thought-a-offline-{i}") for i in range(5)]
        offline_b = [_add(b, f"thought-b-offline-{i}") for i in range(2)]
        assert a.offline and b.offline and went == [True]
        assert a.waiting == 5 and b.waiting == 2
        assert (tmp_path / "m1" / LOCAL_JOURNAL).is_file()
        assert "thought-a-offline-4" in a.graph  # the app keeps working on its graph meanwhile
    finally:
        postgres.start()
    until(lambda: _online(a) and _online(b), timeout=30, what="both stores back online")
    assert went == [True, False]
    pulled_to(a, 10)
    pulled_to(b, 10)
    assert a.waiting == b.waiting == 0
    assert content(a.graph) == content(b.graph)
    assert len(a.graph.node_ids()) == 10
    with psycopg.connect(fleet_db) as conn:
        ids = [r[0] for r in conn.execute("SELECT tx_id FROM journal ORDER BY seq")]
    assert ids[:3] == before and len(ids) == 10 == len(set(ids))
    # Each machine's offline transactions reach the journal in the order they were made.
    assert [i for i in ids if i in offline_a] == offline_a
    assert [i for i in ids if i in offline_b] == offline_b


def test_a_process_that_closed_offline_replays_its_local_journal_on_the_next_open(postgres, open_pg, fleet_db,
                                                                                  tmp_path):
    a = open_pg("m1")
    _add(a, "thought-first")
    postgres.stop()
    try:
        lost = _add(a, "thought-made-offline")
        assert a.offline, (a.waiting, a.last_seq, a.problems)
        a.close()
    finally:
        postgres.start()
    again = PostgresGraphStore.open(fleet_db, local_path=tmp_path / "m1" / "graph.db", machine="m1")
    try:
        assert sorted(again.graph.node_ids()) == ["thought-first", "thought-made-offline"]
        assert again.waiting == 0 and not again.offline
        assert [e.tx_id for e in again.history()][-1] == lost
    finally:
        again.close()


def test_the_offline_event_reaches_a_listener_from_the_listener_thread_too(postgres, open_pg):
    a = open_pg("m1")
    changed = threading.Event()
    a.events.offline_changed.connect(lambda flag: flag and changed.set())
    postgres.stop()
    try:
        assert changed.wait(10), "an idle store did not notice the database going away"
        assert a.offline
    finally:
        postgres.start()
    until(lambda: _online(a), timeout=30, what="the store back online")


def test_the_same_field_changed_on_both_sides_of_an_outage_keeps_both_in_the_journal_and_says_so(postgres, open_pg):
    a, b = open_pg("m1"), open_pg("m2")
    _add(a, "thought-x")
    pulled_to(b, 1)
    postgres.stop()
    try:
        a.graph.apply(operations.edit(a.graph, "thought-x", title="offline m1"))
        assert a.offline
    finally:
        postgres.start()
    until(lambda: _online(b), timeout=30, what="m2 back online")
    b.graph.apply(operations.edit(b.graph, "thought-x", title="online m2"))  # m2 commits first
    until(lambda: _online(a), timeout=30, what="m1 back online")
    pulled_to(b, 3)
    assert a.graph.node("thought-x").title == b.graph.node("thought-x").title == "offline m1"
    history = a.history()
    assert [e.operation for e in history] == ["add_thought", "edit", "edit"]  # both edits kept, m2's first
    assert history[1].tx_id == b.own_history()[-1].tx_id and history[2].tx_id == a.own_history()[-1].tx_id
    assert any("offline change (the later one) won" in p.message for p in a.problems)
