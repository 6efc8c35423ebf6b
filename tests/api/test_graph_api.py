"""The graph and run resources on a real server: reads equal the model's, transforms are undoable steps."""

from __future__ import annotations

import json
import subprocess
import sys

from polling import until as poll

from orchestrator_gui.model.queries import search


def test_nodes_page_filters_and_node_detail(served):
    c = served.client
    page = c.get("/graph/nodes", params={"kind": "todo", "limit": 5}).json()
    assert page["total"] > 5 and len(page["nodes"]) == 5 and all(n["kind"] == "todo" for n in page["nodes"])
    rest = c.get("/graph/nodes", params={"kind": "todo", "offset": 5, "limit": 1000}).json()["nodes"]
    assert len(rest) == page["total"] - 5
    node_id = page["nodes"][0]["id"]  # "TODO.md::item/…": '/' and '::' in a path
    detail = c.get(f"/graph/nodes/{node_id}", params={"depth": 2, "limit": 10}).json()
    assert detail["node"]["id"] == node_id and detail["node"]["source"]["file"] == "TODO.md"
    assert detail["edges"] and all(node_id in (e["src"], e["dst"]) for e in detail["edges"])
    assert node_id not in [n["id"] for n in detail["neighbours"]] and len(detail["neighbours"]) <= 10
    assert c.get("/graph/nodes/no-such-node").status_code == 404
    assert c.get("/graph/nodes", params={"kind": "nonsense"}).status_code == 422


def test_search_answers_as_the_model_does(served):
    graph = served.live.session.graph
    for q in ("tide", "TW-0", "memory consolidation", "zzz-nothing"):
        got = served.client.get("/graph/search", params={"q": q, "limit": 7}).json()["nodes"]
        assert [n["id"] for n in got] == search(graph, q, limit=7)


def test_stats_equal_the_cli(served, workspace):
    stats = served.client.get("/graph/stats").json()
    assert stats["nodes"] == sum(stats["kinds"].values()) == sum(stats["layers"].values())
    served.server.stop()  # the CLI opens the store itself: let go of it first (the fixture's stop is idempotent)
    served.host.close()
    served.host.close = lambda: None
    out = subprocess.run([sys.executable, "-m", "orchestrator_gui", "graph", "stats", "--json", "-w", str(workspace)],
                         capture_output=True, text=True, timeout=120, check=True)
    cli = json.loads(out.stdout)
    for key in ("nodes", "edges", "kinds", "layers", "statuses", "edge_types"):
        assert stats[key] == cli[key], key


def test_transform_link_undo_redo_restore(served):
    c = served.client
    parent = c.get("/graph/search", params={"q": "tide", "limit": 1}).json()["nodes"][0]["id"]
    before = c.get("/graph/stats").json()["nodes"]
    gen = c.post("/graph/transforms/generate", json={"ids": [parent], "n": 3})
    assert gen.status_code == 200
    created = gen.json()["created"]
    assert len(created) == 3 and c.get("/graph/stats").json()["nodes"] == before + 3
    link = c.post("/graph/link", json={"src": created[0], "dst": parent, "type": "evidence_for"})
    assert link.status_code == 200 and sorted(link.json()["changed"]) == sorted([created[0], parent])
    assert c.post("/graph/link", json={"src": created[0], "dst": parent, "type": "evidence_for"}).status_code == 422
    state = c.get("/history").json()
    assert state["can_undo"] and state["undo"].startswith("Link")
    assert c.post("/undo").json()["transaction"]
    assert c.post("/undo").json()["removed"]
    assert c.get("/graph/stats").json()["nodes"] == before
    redone = c.post("/redo").json()
    assert sorted(redone["created"]) == sorted(created)
    # Restore to before the generate: one more undoable step.
    tx = gen.json()["transaction"]
    entries = c.get("/history", params={"limit": 1000}).json()["entries"]
    seqs = [e["seq"] for e in entries if e["tx_id"] == tx]
    previous = next(e["tx_id"] for e in reversed(entries) if e["seq"] < seqs[0])
    restored = c.post("/restore", json={"tx_id": previous})
    assert restored.status_code == 200 and sorted(restored.json()["removed"]) == sorted(created)
    assert c.post("/undo").json()["created"]
    assert c.post("/restore", json={"tx_id": "no-such-tx"}).status_code == 404
    bad = c.post("/graph/transforms/generate", json={"ids": ["no-such-node"]})
    assert bad.status_code == 404


def test_dynamics_and_export(served):
    c = served.client
    assert isinstance(c.get("/graph/attention", params={"top": 5}).json(), list)
    assert isinstance(c.get("/graph/active").json(), list)
    assert isinstance(c.get("/graph/goals").json(), list)
    exported = c.get("/graph/export", params={"format": "json"})
    assert exported.status_code == 200 and len(exported.json()["nodes"]) == c.get("/graph/stats").json()["nodes"]
    assert c.get("/graph/export", params={"format": "graphml"}).text.lstrip().startswith("<?xml")


def test_run_now_is_a_dry_run_without_a_runner_and_is_listed(served):
    c = served.client
    sched = c.get("/schedules").json()["schedules"][0]
    started = c.post(f"/schedules/{sched['id']}/run")
    assert started.status_code == 200
    body = started.json()
    assert body["dry_run"] and "runner" in body["dry_run"]
    row = poll(lambda: next((r for r in c.get("/runs").json() if r["task_id"] == body["task_id"]
                             and r["state"] == "done"), None), what="the run in the list")
    assert row["subject_id"] == sched["id"] and row["dry_run"] is True

    def run_events() -> list[dict] | None:
        runs = [e.data for e in served.live.journal.missed(0)
                if e.type == "run" and e.data["task_id"] == body["task_id"]]
        return runs if len(runs) >= 2 else None

    runs = poll(run_events, what="the run's events")
    assert [r["event"] for r in runs] == ["started", "finished"] and runs[1]["dry_run"] is True
    assert c.get(f"/runs/{body['task_id']}/log").status_code in (200, 404)
    assert c.get("/runs/..%2F..%2Fetc%2Fpasswd/log").status_code == 404
    assert c.post(f"/runs/{body['task_id']}/cancel").status_code == 404  # it has ended
    assert c.post("/schedules/no-such/run").status_code == 404
