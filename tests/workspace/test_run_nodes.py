"""Runs as graph nodes: run node + scheduled_by edge, status/duration/log, activation, journaled in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.tasks import RunResult
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.timing import NewTimingRow, append_row
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.migration import build_graph, update_graph
from orchestrator_gui.model.nodes import EdgeType, NodeFlag, NodeKind, NodeStatus
from orchestrator_gui.store import GraphStore
from orchestrator_gui.workspace import NoGraphError, Session
from orchestrator_gui.workspace.run_nodes import (
    ACTOR,
    GraphSync,
    run_node_id,
    schedule_node_id,
    todo_item_key,
    todo_node_id,
)

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    assert main(["init", str(root)]) == 0
    return root


def schedule_id(root) -> str:
    return load_schedules(root / ".roo" / "schedules.json").schedules[0].id


def result(task_id, kind, subject, status, *, exit_code=0, log=None, seconds=12.5, timeout_s=None):
    return RunResult(task_id=task_id, kind=kind, subject_id=subject, title="Work through TODO.md", mode="code",
                     status=status, exit_code=exit_code, started_at=T0, ended_at=T0 + timedelta(seconds=seconds),
                     duration_s=seconds, log_path=log, timeout_s=timeout_s)


def flags(g, node_id) -> int:
    return int(g.flags[g.row_of(node_id)])


def test_run_node_is_linked_to_its_schedule_with_status_duration_and_log(ws):
    g = build_graph(ws)
    sync = GraphSync(g, workspace=ws)
    sid = schedule_id(ws)
    snode = schedule_node_id(sid)
    assert snode in g

    sync.subject_due("schedule", sid)
    assert flags(g, snode) & NodeFlag.ACTIVE and g.activation[g.row_of(snode)] == 1.0

    log = ws / ".orchestrator" / "runs" / "t-1.log"
    rid = sync.run_started(task_id="t-1", kind="schedule", subject_id=sid, title="Work through TODO.md",
                           mode="code", started_at=T0, log_path=str(log))
    assert rid == run_node_id("t-1") == "task_timing.tsv::run/t-1"
    node = g.node(rid)
    assert (node.kind, node.status, node.metadata["log"]) == (NodeKind.RUN, NodeStatus.ACTIVE,
                                                              ".orchestrator/runs/t-1.log")
    edge = g.edge(rid, snode, EdgeType.SCHEDULED_BY)
    assert edge.metadata == {"by": ACTOR, "via": "run"}
    assert flags(g, rid) & NodeFlag.ACTIVE

    sync.run_finished(result("t-1", "schedule", sid, "completed", log=str(log)))
    node = g.node(rid)
    assert node.status is NodeStatus.DONE
    assert node.metadata["duration_s"] == 12.5 and node.metadata["exit_code"] == 0
    assert node.metadata["result"] == "completed - exit 0"
    assert node.updated == (T0 + timedelta(seconds=12.5)).timestamp()
    assert not flags(g, rid) & (NodeFlag.ACTIVE | NodeFlag.ESCALATED)
    assert not flags(g, snode) & NodeFlag.ACTIVE
    assert sync.problems == []
    # the structural changes are two undoable transactions by the engine
    assert [g.undo().provenance.actor for _ in range(2)] == [ACTOR, ACTOR]
    assert rid not in g


def test_a_failed_run_glows_red_and_a_rerun_clears_it(ws):
    g = build_graph(ws)
    sync = GraphSync(g, workspace=ws)
    sid = schedule_id(ws)
    sync.run_finished(result("t-2", "schedule", sid, "timeout", exit_code=-9, timeout_s=10))  # finished without a start event
    rid = run_node_id("t-2")
    assert g.node(rid).status is NodeStatus.FAILED
    assert flags(g, rid) & NodeFlag.ESCALATED and g.activation[g.row_of(rid)] == 1.0
    assert g.has_edge(rid, schedule_node_id(sid), EdgeType.SCHEDULED_BY)
    sync.set_escalated("schedule", sid)
    assert flags(g, schedule_node_id(sid)) & NodeFlag.ESCALATED
    sync.set_escalated("schedule", sid, on=False)
    assert not flags(g, schedule_node_id(sid)) & NodeFlag.ESCALATED


def test_todo_run_links_to_the_migrations_todo_node(ws):
    doc = load_todo(ws / "TODO.md")
    item = doc.items[1]
    key = todo_item_key(doc.items, item.line)
    g = build_graph(ws)
    assert todo_node_id(key) in g and g.node(todo_node_id(key)).title == item.text
    sync = GraphSync(g, workspace=ws)
    sync.run_started(task_id="t-3", kind="todo", subject_id=key, title=item.text, mode="code", started_at=T0)
    assert g.has_edge(run_node_id("t-3"), todo_node_id(key), EdgeType.SCHEDULED_BY)


def test_duplicate_titles_get_the_migrations_repeat_keys(tmp_path):
    path = tmp_path / "TODO.md"
    path.write_text("- [ ] same\n- [ ] other\n- [ ] same\n")
    items = load_todo(path).items
    keys = [todo_item_key(items, it.line) for it in items]
    assert keys[0] != keys[2] and keys[2] == keys[0] + "~1"
    with pytest.raises(KeyError):
        todo_item_key(items, 99)


def test_store_journals_runs_and_a_rebuild_does_not_duplicate_them(ws):
    assert main(["graph", "build", "-w", str(ws)]) == 0
    sid = schedule_id(ws)
    session = Session.open(ws, create=False, sync=False)
    sync = GraphSync.for_session(session)
    assert sync.enabled
    steps = len(session.history.undo_steps)
    sync.run_started(task_id="t-4", kind="schedule", subject_id=sid, title="Work through TODO.md", mode="code",
                     started_at=T0)
    sync.run_finished(result("t-4", "schedule", sid, "failed", exit_code=2))
    assert len(session.history.undo_steps) == steps  # run records are journaled but never undo steps
    session.close()
    # the timing rows the engine writes for the same run
    for res, end in (("started", None), ("failed - exit 2", T0 + timedelta(seconds=12))):
        append_row(ws / "task_timing.tsv", NewTimingRow(mode="code", task_id="t-4", start_time=T0, end_time=end,
                                                        task="Work through TODO.md", result=res,
                                                        priority="schedule"))
    with GraphStore.open_workspace(ws) as store:
        g = store.graph
        rid = run_node_id("t-4")
        assert g.node(rid).status is NodeStatus.FAILED
        assert flags(g, rid) & NodeFlag.ESCALATED  # dynamic flags survive in the close snapshot
        store.apply(update_graph(g, ws))
        runs = [n for n in g.nodes() if n.kind is NodeKind.RUN]
        assert [n.id for n in runs] == [rid]  # one node for the run, not a twin
        assert g.has_edge(rid, schedule_node_id(sid), EdgeType.SCHEDULED_BY)
        assert g.node(rid).status is NodeStatus.FAILED


def test_no_store_means_a_disabled_sync_that_does_nothing(ws):
    with pytest.raises(NoGraphError):
        Session.open(ws, create=False)
    sync = GraphSync.for_session(None)
    assert not sync.enabled
    assert sync.run_started(task_id="t-5", kind="schedule", subject_id="x", title="", mode="code") is None
    sync.run_finished(result("t-5", "schedule", "x", "completed"))
    sync.close()
    assert not (ws / ".orchestrator" / "graph.db").exists()


def test_graph_errors_are_recorded_not_raised(ws):
    g = build_graph(ws)

    def refuse(tx):
        raise RuntimeError("store is read-only")

    sync = GraphSync(g, apply=refuse, workspace=ws)
    assert sync.run_started(task_id="t-6", kind="schedule", subject_id=schedule_id(ws), title="x",
                            mode="code") is None
    assert run_node_id("t-6") not in g
    assert "store is read-only" in sync.problems[0]
    assert np.all(g.flags == 0)


class FakeEngine:
    """Just what GraphSync.attach needs: listeners and handle look-ups."""

    def __init__(self, tasks):
        self.tasks = tasks
        self.listeners = []

    def add_listener(self, fn):
        self.listeners.append(fn)
        return lambda: self.listeners.remove(fn)

    def handle(self, task_id):
        from types import SimpleNamespace
        return SimpleNamespace(task=self.tasks[task_id]) if task_id in self.tasks else None

    def emit(self, event):
        for fn in self.listeners:
            fn(event)


def test_engine_events_are_queued_and_applied_on_the_owning_thread(ws):
    import threading

    from orchestrator_gui.engine.executor import EngineEvent
    from orchestrator_gui.engine.tasks import schedule_task

    g = build_graph(ws)
    sync = GraphSync(g, workspace=ws)
    sid = schedule_id(ws)
    task = schedule_task(sid, "Work through TODO.md", "code", "x", task_id="t-7")
    eng = FakeEngine({"t-7": task})
    sync.attach(eng)
    finished = result("t-7", "schedule", sid, "failed", exit_code=1)
    events = [EngineEvent("started", "t-7", "schedule", sid, {"timeout_s": 10}),
              EngineEvent("output", "t-7", "schedule", sid, {"stream": "stdout", "text": "x"}),
              EngineEvent("finished", "t-7", "schedule", sid, finished.model_dump(mode="json")),
              EngineEvent("escalated", "t-7", "schedule", sid, {})]
    worker = threading.Thread(target=lambda: [eng.emit(e) for e in events])
    worker.start()
    worker.join()
    assert run_node_id("t-7") not in g  # nothing touched the graph from the worker thread
    assert sync.process() == 3          # output events are not queued
    node = g.node(run_node_id("t-7"))
    assert (node.title, node.status, node.metadata["exit_code"]) == ("Work through TODO.md", NodeStatus.FAILED, 1)
    assert node.metadata["log"] == ".orchestrator/runs/t-7.log"
    assert flags(g, schedule_node_id(sid)) & NodeFlag.ESCALATED
