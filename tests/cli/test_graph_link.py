"""``graph link`` and ``graph unlink`` (issue 12): typed edges from the command line, one undoable step each."""

from __future__ import annotations

import json
import shutil

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.model.nodes import EdgeType
from orchestrator_gui.store import GraphStore

GOAL = ".roomodes::mode/orchestrator-loop"
OTHER = ".roomodes::mode/implementer"


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def edges(ws) -> dict[tuple[str, str, str], float]:
    with GraphStore.open_workspace(ws, readonly=True) as store:
        return {e.key: e.weight for e in store.graph.edges()}


@pytest.fixture
def ws(tmp_path, monkeypatch, capsys):
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    monkeypatch.chdir(root)
    run_json(capsys, "graph", "build")
    return root


def test_link_adds_one_typed_edge_as_one_undoable_transaction(ws, capsys):
    before = edges(ws)
    assert (GOAL, OTHER, "similar") not in before
    out = run_json(capsys, "graph", "link", GOAL, OTHER, "--type", "similar")
    assert out["src"] == GOAL and out["dst"] == OTHER and out["type"] == "similar"
    after = edges(ws)
    assert after == {**before, (GOAL, OTHER, "similar"): 1.0}
    last = run_json(capsys, "graph", "history")[-1]
    assert last["tx_id"] == out["transaction"] and last["operation"] == "link"
    run_json(capsys, "graph", "undo")
    assert edges(ws) == before
    run_json(capsys, "graph", "redo")
    assert edges(ws) == after


def test_link_takes_unique_id_prefixes_and_every_edge_type_the_model_knows(ws, capsys):
    for etype in EdgeType:
        if (GOAL, OTHER, etype.value) not in edges(ws):
            run_json(capsys, "graph", "link", ".roomodes::mode/orch", OTHER, "--type", etype.value)  # a prefix
    assert all((GOAL, OTHER, t.value) in edges(ws) for t in EdgeType)


@pytest.mark.parametrize("argv, message", [
    (("graph", "link", "nope", OTHER, "--type", "similar"), "no node 'nope'"),
    (("graph", "link", GOAL, "nope", "--type", "similar"), "no node 'nope'"),
    (("graph", "link", GOAL, GOAL, "--type", "similar"), "cannot link a node to itself"),
    (("graph", "link", ".roomodes::mode/", OTHER, "--type", "similar"), "matches 5 nodes"),
    (("graph", "unlink", GOAL, OTHER), f"no edge from {GOAL!r} to {OTHER!r}"),
    (("graph", "unlink", GOAL, OTHER, "--type", "mentions"), "of type mentions"),
    (("graph", "unlink", GOAL, GOAL), "cannot unlink a node from itself"),
])
def test_refusals_exit_1_and_change_nothing(ws, capsys, argv, message):
    before, history = edges(ws), run_json(capsys, "graph", "history")
    code, _, err = run(capsys, *argv)
    assert code == 1 and err.startswith("error: ") and message in err, err
    assert edges(ws) == before and run_json(capsys, "graph", "history") == history


def test_a_duplicate_link_is_refused(ws, capsys):
    run_json(capsys, "graph", "link", GOAL, OTHER, "--type", "depends_on")
    history = run_json(capsys, "graph", "history")
    code, _, err = run(capsys, "graph", "link", GOAL, OTHER, "--type", "depends_on")
    assert code == 1 and "exists already" in err
    assert run_json(capsys, "graph", "history") == history
    run_json(capsys, "graph", "link", OTHER, GOAL, "--type", "depends_on")  # the other direction is another edge


def test_an_unknown_type_is_a_usage_error_listing_the_types(ws, capsys):
    code, _, err = run(capsys, "graph", "link", GOAL, OTHER, "--type", "supports")
    assert code == 2 and "invalid choice: 'supports'" in err
    assert all(t.value in err for t in EdgeType)


def test_unlink_removes_one_type_or_every_edge_between_the_pair(ws, capsys):
    before = edges(ws)
    for etype in ("similar", "mentions", "evidence_for"):
        run_json(capsys, "graph", "link", GOAL, OTHER, "--type", etype)
    out = run_json(capsys, "graph", "unlink", GOAL, OTHER, "--type", "mentions")
    assert out["removed"] == ["mentions"]
    assert {k for k in edges(ws) if k[:2] == (GOAL, OTHER)} == {(GOAL, OTHER, "similar"), (GOAL, OTHER, "evidence_for")}
    out = run_json(capsys, "graph", "unlink", GOAL, OTHER)
    assert sorted(out["removed"]) == ["evidence_for", "similar"]
    assert edges(ws) == before
    run_json(capsys, "graph", "undo")  # one step brings both back
    assert {k for k in edges(ws) if k[:2] == (GOAL, OTHER)} == {(GOAL, OTHER, "similar"), (GOAL, OTHER, "evidence_for")}


def test_link_needs_a_built_graph(tmp_path, monkeypatch, capsys):
    root = tmp_path / "fresh"
    shutil.copytree(BUNDLED_DEMO, root)
    monkeypatch.chdir(root)
    code, _, err = run(capsys, "graph", "link", GOAL, OTHER, "--type", "similar")
    assert code == 1 and "graph build" in err
    assert not (root / ".orchestrator").exists()
