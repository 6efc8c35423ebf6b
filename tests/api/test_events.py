"""The /events WebSocket: numbered events, resuming with ?since=SEQ without a loss, resync when that cannot be."""

from __future__ import annotations

from api_helpers import TOKEN, recv_json
from polling import until as poll
from websockets.sync.client import connect

from orchestrator_gui.workspace.live_events import EventJournal

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _changes(served, n: int) -> None:
    for k in range(n):
        assert served.client.post("/memory", json={"mode": "code", "id": f"ev-{k}", "text": f"entry {k}"}
                                  ).status_code == 201


def test_reconnect_with_since_loses_nothing(served):
    with connect(served.ws_url, additional_headers=AUTH, open_timeout=10) as ws:
        hello = recv_json(ws)
        epoch, start = hello["epoch"], hello["seq"]
        _changes(served, 3)
        first = recv_json(ws)
        assert first["seq"] == start + 1
    # Disconnected after one event; more happen meanwhile.
    _changes(served, 4)
    poll(lambda: served.live.journal.last_seq >= start + 7, what="seven events")
    url = f"{served.ws_url}?since={first['seq']}&epoch={epoch}"
    with connect(url, additional_headers=AUTH, open_timeout=10) as ws:
        assert recv_json(ws)["type"] == "hello"
        got = [recv_json(ws) for _ in range(6)]
        assert [e["seq"] for e in got] == list(range(start + 2, start + 8))
        texts = [e["data"]["files"][0]["file"] for e in got]
        assert texts == ["persistent-memory.md"] * 6
        # ... and the live stream goes on after the missed ones.
        _changes(served, 1)
        assert recv_json(ws)["seq"] == start + 8
    entries = served.client.get("/memory").json()["entries"]
    assert [e["id"] for e in entries[-8:]] == [f"ev-{k}" for k in (0, 1, 2, 0, 1, 2, 3, 0)]


def test_lost_or_foreign_history_is_told_to_resync(served):
    _changes(served, 1)
    last = served.live.journal.last_seq
    for query in (f"since={last}&epoch=someoneelse", f"since={last + 100}"):
        with connect(f"{served.ws_url}?{query}", additional_headers=AUTH, open_timeout=10) as ws:
            assert recv_json(ws)["type"] == "hello"
            resync = recv_json(ws)
            assert resync["type"] == "resync" and resync["seq"] == last


def test_journal_keeps_a_window_and_resyncs_beyond_it():
    journal = EventJournal(capacity=5)
    for k in range(12):
        journal.publish("t", {"k": k})
    assert [e.seq for e in journal.missed(8)] == [9, 10, 11, 12]
    assert journal.missed(7) == [e for e in journal.missed(7)] and len(journal.missed(7)) == 5
    assert journal.missed(6) is None  # event 7 is no longer kept
    assert journal.missed(12) == [] and journal.missed(13) is None
    seen: list[int] = []
    missed, detach = journal.attach(lambda e: seen.append(e.seq), since=10)
    journal.publish("t", {})
    detach()
    journal.publish("t", {})
    assert [e.seq for e in missed] == [11, 12] and seen == [13]
