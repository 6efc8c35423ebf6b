"""``orchestrator-gui graph transform …``, ``graph undo/redo`` (and active/attention/goals) on a copy of the demo."""

from __future__ import annotations

import json
import shutil

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.model.nodes import EdgeType
from orchestrator_gui.store import GraphStore

STATION_ITEM = "TW-002 Station catalogue loader"


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def run_fail(capsys, *argv) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 1, out
    return err


def graph_state(ws) -> dict:
    with GraphStore.open_workspace(ws, readonly=True) as store:
        return store.graph.to_dict()


def node(ws, node_id):
    with GraphStore.open_workspace(ws, readonly=True) as store:
        return store.graph.node(node_id)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def built(ws, capsys):
    run_json(capsys, "graph", "build")
    return ws


def item_id(capsys, title_start: str) -> str:
    hits = run_json(capsys, "graph", "query", title_start, "--kind", "todo")
    hits = [h for h in hits if h["title"].startswith(title_start)]
    assert len(hits) == 1
    return hits[0]["id"]


def test_commands_need_a_built_graph(ws, capsys):
    for argv in (("graph", "transform", "generate", "x"), ("graph", "undo"), ("graph", "redo"), ("graph", "active"),
                 ("graph", "attention"), ("graph", "goals")):
        err = run_fail(capsys, *argv)
        assert "run 'orchestrator-gui graph build' first" in err, argv
    assert not (ws / ".orchestrator" / "graph.db").exists()


def test_generate_makes_the_items_details_its_children(built, capsys):
    item = item_id(capsys, STATION_ITEM)
    out = run_json(capsys, "graph", "transform", "generate", item, "--n", "5")
    assert set(out) == {"transaction", "created", "changed", "removed"}
    assert out["changed"] == [item] and out["removed"] == [] and len(out["created"]) == 3
    # TODO.md: "- [x] TW-002 Station catalogue loader …" with three "- **Label**: text" details.
    assert [node(built, c).title for c in out["created"]] == [
        "Owner: implementer",
        "Acceptance: all 412 sample stations load; duplicate station ids are an error",
        "Completed: 2026-10-16",
    ]
    with GraphStore.open_workspace(built, readonly=True) as store:
        g = store.graph
        assert all(g.has_edge(c, item, EdgeType.DERIVED_FROM) and g.has_edge(item, c, EdgeType.PARENT)
                   for c in out["created"])
        last = store.history()[-1]
        assert (last.tx_id, last.operation, last.actor) == (out["transaction"], "generate", "offline")
    # Text mode prints the ids too; an id prefix is enough.
    assert main(["graph", "transform", "generate", item[:-3], "--n", "1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("generate: Generate 1 from 'TW-002") and "created  question-" in text and item in text


def test_undo_twice_then_redo_across_invocations(built, capsys):
    item = item_id(capsys, STATION_ITEM)
    s0 = graph_state(built)
    gen = run_json(capsys, "graph", "transform", "generate", item)
    s1 = graph_state(built)
    ref = run_json(capsys, "graph", "transform", "refine", gen["created"][0], "--feedback", "rename to Owner: Ada")
    s2 = graph_state(built)
    assert node(built, ref["created"][0]).title == "Owner: Ada"

    undo1 = run_json(capsys, "graph", "undo")
    assert undo1["undone"] == ref["transaction"] and undo1["removed"] == ref["created"]
    assert graph_state(built) == s1
    undo2 = run_json(capsys, "graph", "undo")
    assert undo2["undone"] == gen["transaction"] and sorted(undo2["removed"]) == sorted(gen["created"])
    assert graph_state(built) == s0
    assert run_json(capsys, "graph", "redo")["redone"] == gen["transaction"]
    assert graph_state(built) == s1
    assert run_json(capsys, "graph", "redo")["redone"] == ref["transaction"]
    assert graph_state(built) == s2
    assert "nothing to redo" in run_fail(capsys, "graph", "redo")
    # Undo the redo, then a new transaction clears what could be redone.
    run_json(capsys, "graph", "undo")
    assert graph_state(built) == s1
    run_json(capsys, "graph", "transform", "score", item)
    assert "nothing to redo" in run_fail(capsys, "graph", "redo")
    ops = [e["operation"] for e in run_json(capsys, "graph", "history")]
    assert ops == ["build_graph", "generate", "refine", "undo", "undo", "redo", "redo", "undo", "score"]


def test_undo_reaches_a_workspace_sync_like_an_editor(built, capsys):
    s_built = graph_state(built)
    line = run_json(capsys, "todo", "list", "--state", "open")[0]["line"]
    assert main(["todo", "check", str(line)]) == 0
    capsys.readouterr()
    sync = run_json(capsys, "graph", "build")
    assert sync["changes"]["nodes_updated"] == 1
    out = run_json(capsys, "graph", "undo")
    assert out["created"] == [] and out["removed"] == [] and len(out["changed"]) == 1
    assert graph_state(built) == s_built
    # The next build brings the graph back in step with the files.
    assert run_json(capsys, "graph", "build")["changes"]["nodes_updated"] == 1


def test_aggregate_score_keep_best_prune_expand_compress(built, capsys):
    ids = [item_id(capsys, t) for t in ("TW-002", "TW-003", "TW-004")]
    agg = run_json(capsys, "graph", "transform", "aggregate", *ids)
    (merged,) = agg["created"]
    assert agg["changed"] == ids
    title = node(built, merged).title
    assert title.startswith("TW-002 Station catalogue loader") and " + TW-003" in title

    scored = run_json(capsys, "graph", "transform", "score", *ids)
    assert sorted(scored["scores"]) == sorted(ids) and all(0 < v <= 1 for v in scored["scores"].values())
    assert all(node(built, i).score == scored["scores"][i] for i in ids)
    ranked = sorted(ids, key=lambda i: -scored["scores"][i])

    before_keep = graph_state(built)
    kept = run_json(capsys, "graph", "transform", "keep-best", *ids, "--n", "1")
    assert set(kept["changed"]) == set(ranked[1:]) and kept["created"] == []
    assert all("pruned" in node(built, i).metadata for i in ranked[1:])
    assert "pruned" not in node(built, ranked[0]).metadata
    run_json(capsys, "graph", "undo")
    assert graph_state(built) == before_keep

    before = graph_state(built)
    pruned = run_json(capsys, "graph", "transform", "prune", ids[0])
    assert pruned["changed"] == [ids[0]]
    run_json(capsys, "graph", "transform", "expand", ids[0])
    after = graph_state(built)
    assert after["nodes"] == before["nodes"] and after["edges"] == before["edges"]

    section = node(built, ids[0])
    with GraphStore.open_workspace(built, readonly=True) as store:
        (heading,) = [e.src for e in store.graph.edges_of(section.id, "in") if e.type == EdgeType.PARENT]
    comp = run_json(capsys, "graph", "transform", "compress", heading)
    (summary,) = comp["created"]
    assert node(built, summary).kind.value == "summary"
    run_json(capsys, "graph", "transform", "expand", summary)
    assert graph_state(built)["nodes"] == before["nodes"]


def test_bad_requests_are_refused_without_a_change(built, capsys):
    before = graph_state(built)
    assert "no node 'nope'" in run_fail(capsys, "graph", "transform", "generate", "nope")
    assert "matches" in run_fail(capsys, "graph", "transform", "generate", "TODO.md::item/")
    item = item_id(capsys, STATION_ITEM)
    assert "at least two" in run_fail(capsys, "graph", "transform", "aggregate", item)
    assert "no line contains" in run_fail(capsys, "graph", "transform", "refine", item, "--feedback", "remove: zebra")
    assert "prunes nothing" in run_fail(capsys, "graph", "transform", "keep-best", item, "--n", "1")
    assert main(["graph", "transform", "refine", item]) == 2  # --feedback is required: a usage error
    capsys.readouterr()
    assert graph_state(built) == before


HEARTBEAT = ".roo/schedules.json::schedule/1791792843512"  # "Loop heartbeat", every 10 minutes in the demo


def test_active_lists_active_nodes_with_reasons_and_fades_with_time(built, capsys):
    soon = run_json(capsys, "graph", "active", "--now", "2026-11-06T15:00:00Z", "--limit", "1000")
    later = run_json(capsys, "graph", "active", "--now", "2036-01-01T00:00:00Z", "--limit", "1000")
    for rows in (soon, later):
        assert rows and all(set(r) == {"id", "title", "kind", "activation", "reasons"} and r["reasons"] for r in rows)
        values = [r["activation"] for r in rows]
        assert values == sorted(values, reverse=True)
    # Nine years on, whatever nobody touched has faded; the recurring heartbeat is still due.
    assert len(later) < len(soon)
    (beat,) = [r for r in later if r["id"] == HEARTBEAT]
    assert any(reason.startswith("schedule due") for reason in beat["reasons"])
    assert len(run_json(capsys, "graph", "active", "--limit", "3")) <= 3
    assert "not an ISO 8601 time" in run_fail(capsys, "graph", "active", "--now", "yesterday")


def test_attention_ranks_the_top_nodes(built, capsys):
    rows = run_json(capsys, "graph", "attention", "--top", "5")
    assert len(rows) == 5 and all(set(r) == {"id", "title", "kind", "attention", "activation"} for r in rows)
    values = [r["attention"] for r in rows]
    assert values == sorted(values, reverse=True) and values[-1] > 0 and sum(values) < 1
    assert "--top must be at least 1" in run_fail(capsys, "graph", "attention", "--top", "0")


def test_goals_show_progress_confidence_and_the_questions_generate_asked(built, capsys):
    before = {g["id"]: g for g in run_json(capsys, "graph", "goals")}
    assert before[HEARTBEAT]["open_questions"] == [] and before[HEARTBEAT]["unsupported"] is False
    assert all(0 <= g["progress"] <= 1 and 0 <= g["confidence"] <= 1 for g in before.values())
    run_json(capsys, "graph", "transform", "generate", HEARTBEAT, "--n", "20")  # every part of its prompt
    asked = run_json(capsys, "graph", "transform", "generate", HEARTBEAT, "--n", "2")  # then the questions
    goals = {g["id"]: g for g in run_json(capsys, "graph", "goals")}
    assert goals[HEARTBEAT]["open_questions"] == [
        {"id": asked["created"][0], "title": "What is the goal of Loop heartbeat?"},
        {"id": asked["created"][1], "title": "What blocks Loop heartbeat?"},
    ]
    assert main(["graph", "goals"]) == 0
    text = capsys.readouterr().out
    assert "schedule: Loop heartbeat\n" in text and "? What blocks Loop heartbeat?" in text
