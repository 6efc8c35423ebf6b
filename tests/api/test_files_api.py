"""The file resources on a real server: minimal edits, versions (ETag / If-Match), events, undo."""

from __future__ import annotations

from api_helpers import TOKEN, recv_json
from websockets.sync.client import connect

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _first_open(served) -> dict:
    items = served.client.get("/todo", params={"state": "open"}).json()["items"]
    return items[0]


def _diff(a: bytes, b: bytes) -> list[int]:
    assert len(a) == len(b)
    return [k for k in range(len(a)) if a[k] != b[k]]


def test_todo_check_changes_one_byte_and_emits_one_event(served):
    todo = served.root / "TODO.md"
    before = todo.read_bytes()
    item = _first_open(served)
    with connect(served.ws_url, additional_headers=AUTH, open_timeout=10) as ws:
        hello = recv_json(ws)
        assert hello["type"] == "hello"
        r = served.client.post(f"/todo/{item['id']}/check")
        assert r.status_code == 200
        body = r.json()
        assert body["changed"] and body["result"]["state"] == "done" and body["result"]["id"] == item["id"]
        after = todo.read_bytes()
        changed = _diff(before, after)
        assert len(changed) == 1 and after[changed[0]:changed[0] + 1] in (b"x", b"X")
        assert r.headers["etag"].strip('"') == body["etag"]
        event = recv_json(ws)
        assert event["seq"] == hello["seq"] + 1 and event["type"] == "files"
        assert [f["file"] for f in event["data"]["files"]] == ["TODO.md"]
        assert event["data"]["files"][0]["etag"] == body["etag"]
        # The graph followed the file in the same event: the item's node is done now.
        synced = event["data"]["transactions"]
        assert len(synced) == 1 and any(item["id"] in i for i in synced[0]["changed"])
        # A marker: the next event must be the memory append's, so the check made no second event
        # (neither a separate graph event nor the file watch seeing the write again).
        assert served.client.post("/memory", json={"mode": "code", "id": "t-1", "text": "marker"}).status_code == 201
        marker = recv_json(ws)
        assert marker["seq"] == event["seq"] + 1
        assert [f["file"] for f in marker["data"]["files"]] == ["persistent-memory.md"]
    node = served.client.get(f"/graph/nodes/TODO.md::{item['id']}").json()["node"]
    assert node["status"] == "done"


def test_stale_if_match_is_409_and_the_file_is_unchanged(served):
    todo = served.root / "TODO.md"
    listing = served.client.get("/todo")
    seen = listing.headers["etag"]
    item = _first_open(served)
    # Someone else changes the file after we read it.
    todo.write_bytes(todo.read_bytes() + b"\n- [ ] written by an agent\n")
    current = todo.read_bytes()
    with connect(served.ws_url, additional_headers=AUTH, open_timeout=10) as ws:
        recv_json(ws)
        r = served.client.post(f"/todo/{item['id']}/check", headers={"If-Match": seen})
        assert r.status_code == 409
        problem = r.json()
        assert problem["file"] == "TODO.md" and problem["etag"] == r.headers["etag"].strip('"')
        assert problem["etag"] != seen.strip('"')
        assert todo.read_bytes() == current
        while True:  # the file watch may report the agent's write first; then the conflict follows
            event = recv_json(ws)
            if event["type"] == "conflict":
                break
        assert event["data"] == {"file": "TODO.md", "etag": problem["etag"]}
    # With the current version the edit goes through.
    r = served.client.post(f"/todo/{item['id']}/check", headers={"If-Match": f'"{problem["etag"]}"'})
    assert r.status_code == 200 and r.json()["changed"]


def test_items_by_id_survive_other_edits(served):
    c = served.client
    added = c.post("/todo", json={"text": "API item one", "section": "Foundations"})
    assert added.status_code == 201
    key = added.json()["result"]["id"]
    line = added.json()["result"]["line"]
    c.post("/todo", json={"text": "API item above", "section": "Foundations"})
    first = c.get("/todo").json()["items"][0]
    c.post(f"/todo/{first['id']}/move", json={"before": None})
    edited = c.patch(f"/todo/{key}", json={"text": "API item one, edited"})
    assert edited.status_code == 200 and edited.json()["result"]["text"] == "API item one, edited"
    new_key = edited.json()["result"]["id"]
    by_line = c.post(f"/todo/{edited.json()['result']['line']}/check")
    assert by_line.json()["result"]["id"] == new_key
    gone = c.delete(f"/todo/{new_key}")
    assert gone.status_code == 200 and gone.json()["result"]["text"] == "API item one, edited"
    missing = c.post(f"/todo/{new_key}/check")
    assert missing.status_code == 404 and missing.json()["file"] == "TODO.md"
    assert line > 0
    assert c.post("/todo/not-an-id/check").status_code == 422


def test_file_edit_is_undone_through_the_one_history(served):
    todo = served.root / "TODO.md"
    before = todo.read_bytes()
    item = _first_open(served)
    served.client.post(f"/todo/{item['id']}/check")
    assert todo.read_bytes() != before
    undone = served.client.post("/undo")
    assert undone.status_code == 200 and undone.json()["files"] == ["TODO.md"]
    assert todo.read_bytes() == before


def test_schedule_enable_changes_only_its_value(served):
    path = served.root / ".roo" / "schedules.json"
    listing = served.client.get("/schedules").json()
    active = next(s for s in listing["schedules"] if s["active"])
    before = path.read_bytes()
    r = served.client.post(f"/schedules/{active['id']}/disable", headers={"If-Match": listing["etag"]})
    assert r.status_code == 200 and r.json()["changed"]
    after = path.read_bytes()
    head = next(k for k in range(len(before)) if before[k] != after[k])
    tail = next(k for k in range(1, len(before)) if before[-k] != after[-k]) - 1
    assert (before[head:len(before) - tail], after[head:len(after) - tail]) == (b"tru", b"fals")  # true -> false
    assert before[:head].endswith(b'"active": ')
    row = served.client.get(f"/schedules/{active['id']}").json()
    assert row["active"] is False and row["next_run"] is None and row["fields"]["active"] is False
    bad = served.client.patch(f"/schedules/{active['id']}", json={"fields": {"timeInterval": "0"}})
    assert bad.status_code == 422 and bad.json()["file"] == ".roo/schedules.json" and bad.json()["line"]
    assert path.read_bytes() == after
    assert served.client.get("/schedules/nope").status_code == 404
    assert served.client.post("/schedules/nope/enable").status_code == 404


def test_memory_timing_and_modes(served):
    c = served.client
    n = len(c.get("/memory").json()["entries"])
    assert c.post("/memory", json={"mode": "code", "id": "api-1", "text": "Found it"}).status_code == 201
    entries = c.get("/memory").json()["entries"]
    assert len(entries) == n + 1 and entries[-1]["id"] == "api-1"
    row = {"mode": "code", "task_id": "api-task", "task": "Test", "start": "2026-01-01T10:00:00Z",
           "end": "2026-01-01T10:05:00Z", "result": "completed", "priority": "todo"}
    assert c.post("/timing", json=row).status_code == 201
    page = c.get("/timing", params={"limit": 2}).json()
    assert page["rows"][-1]["task_id"] == "api-task" and page["more"]
    assert c.post("/timing", json={**row, "end": "2025-01-01T00:00:00Z"}).status_code == 422
    modes = c.get("/modes").json()
    assert any(mo["slug"] == "orchestrator-loop" for mo in modes["modes"]) and modes["etag"]
