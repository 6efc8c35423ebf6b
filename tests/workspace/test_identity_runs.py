"""An edited TODO item keeps its node for the application layer: syncs, the store, runs (issue 12.4)."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.tasks import RunResult
from orchestrator_gui.engine.todo_runs import prepare_todo_run
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.migration import build_graph, update_graph
from orchestrator_gui.model.identity import run_node_id, subject_node
from orchestrator_gui.model.nodes import EdgeType, NodeKind
from orchestrator_gui.store import GraphStore
from orchestrator_gui.workspace import Session
from orchestrator_gui.workspace.run_nodes import DONE_ACTIVATION, GraphSync

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
REWORDED = "Describe the project goal here, in two sentences at most"


@pytest.fixture
def ws(tmp_path) -> Path:
    root = tmp_path / "ws"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(root)]) == 0
    return root


def first_item(root: Path):
    return load_todo(root / "TODO.md").items[0]


def reword_first_item(root: Path) -> int:
    """Another program rewords the first item in place; its line."""
    doc = load_todo(root / "TODO.md")
    line = doc.items[0].line
    doc.edit(line, REWORDED)
    doc.save()
    return line


def item_node(g, line: int) -> str:
    [nid] = [n.id for n in g.nodes() if n.kind is NodeKind.TODO and n.source.line == line]
    return nid


def test_a_sync_of_an_edited_item_is_one_change_and_the_store_keeps_the_id(ws):
    with Session.open(ws) as s:
        line = first_item(ws).line
        nid = item_node(s.graph, line)
        s.graph.select([nid])
        reword_first_item(ws)
        tx = s.sync(["TODO.md"])
        assert tx.description == "Update from workspace files (1 nodes updated)"
        assert s.graph.node(nid).title == REWORDED and s.graph.selected_ids() == (nid,)
        key = prepare_todo_run(ws, line).key  # what the engine names the item by now
        assert s.node_for("TODO.md", key=key) == nid
    with Session.open(ws) as s:  # another process, from the store
        assert s.graph.node(nid).title == REWORDED
        assert s.node_for("TODO.md", key=key) == s.node_for("TODO.md", line=line) == nid
        assert s.sync() is None  # nothing left to do


def test_run_of_an_item_edited_before_the_graph_synced_attaches_to_its_node(ws):
    g = build_graph(ws)
    line = first_item(ws).line
    nid = item_node(g, line)
    reword_first_item(ws)  # the graph has not seen the edit yet
    run = prepare_todo_run(ws, line)
    assert subject_node(g, "todo", run.key) is None  # no node has the new text's key yet ...
    assert subject_node(g, "todo", run.key, line=run.line) == nid  # ... the line finds it
    sync = GraphSync(g, workspace=ws)
    rid = sync.run_started(task_id="t-edit", kind="todo", subject_id=run.key, title=run.text, mode="code",
                           started_at=T0, subject_line=run.line)
    assert g.has_edge(rid, nid, EdgeType.SCHEDULED_BY)
    sync.run_finished(RunResult(task_id="t-edit", kind="todo", subject_id=run.key, title=run.text, mode="code",
                                status="completed", exit_code=0, started_at=T0, ended_at=T0 + timedelta(seconds=3),
                                duration_s=3.0))
    assert g.activation[g.row_of(nid)] == pytest.approx(DONE_ACTIVATION)
    assert sync.problems == []
    # the sync that follows keeps the node (and what the run left on it)
    g.apply(update_graph(g, ws))
    assert g.node(nid).title == REWORDED and g.activation[g.row_of(nid)] == pytest.approx(DONE_ACTIVATION)
    assert subject_node(g, "todo", run.key) == nid


def test_cli_run_of_an_edited_item_links_the_run_to_the_items_node(ws, capsys):
    cfg = ws / ".orchestrator" / "config.toml"
    cfg.parent.mkdir(exist_ok=True)
    cfg.write_text(f"runner = [{json.dumps(sys.executable)}, \"-c\", \"pass\"]\n", encoding="utf-8")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["graph", "build", "-w", str(ws)]) == 0
    with GraphStore.open_workspace(ws, readonly=True) as store:
        nid = item_node(store.graph, first_item(ws).line)
    line = reword_first_item(ws)
    capsys.readouterr()
    assert main(["run", "--todo", str(line), "--json", "-w", str(ws)]) == 0
    todo = json.loads(capsys.readouterr().out)["todo"]
    with GraphStore.open_workspace(ws, readonly=True) as store:
        g = store.graph
        assert g.has_edge(run_node_id(todo["task_id"]), nid, EdgeType.SCHEDULED_BY)


def test_pauses_and_escalations_recorded_under_the_old_text_reach_the_edited_items_node(ws):
    g = build_graph(ws)
    line = first_item(ws).line
    nid = item_node(g, line)
    old_key = prepare_todo_run(ws, line).key  # what the engine recorded before the edit
    reword_first_item(ws)
    g.apply(update_graph(g, ws))
    assert g.node(nid).title == REWORDED
    sync = GraphSync(g, workspace=ws)
    assert sync.mark_paused("todo", old_key, {"reason": "3 failures in a row", "by": "escalation"})
    assert g.node(nid).status.value == "blocked" and g.node(nid).metadata["paused"]["by"] == "escalation"
    assert sync.mark_paused("todo", old_key, None)
    assert g.node(nid).status.value == "open"
