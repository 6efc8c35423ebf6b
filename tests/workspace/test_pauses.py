"""Paused items: where a pause comes from, the graph's mark (kept across a file sync), resuming, dry runs unmirrored."""

from __future__ import annotations

import contextlib
import io
import sys
from datetime import UTC, datetime

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.failures import FailureTracker
from orchestrator_gui.engine.tasks import RunResult, schedule_task
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.model.identity import run_node_id, schedule_node_id
from orchestrator_gui.model.nodes import NodeFlag, NodeStatus
from orchestrator_gui.workspace import Session
from orchestrator_gui.workspace.pauses import BY_HAND, PauseWatch, resume
from orchestrator_gui.workspace.runs import Runs

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WAIT = 20


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(root)]) == 0
        assert main(["graph", "build", "-w", str(root)]) == 0
    return root


def sid_of(root) -> str:
    return load_schedules(root / ".roo" / "schedules.json").schedules[0].id


def escalate(root, sid: str) -> None:
    tracker = FailureTracker(root)
    for k in range(3):
        tracker.record(RunResult(task_id=f"f{k}", kind="schedule", subject_id=sid, title="t", status="timeout",
                                 started_at=T0, ended_at=T0, duration_s=1.0, timeout_s=5))


def test_a_pause_comes_from_the_escalation_record_or_the_config_and_resume_clears_both(ws):
    sid = sid_of(ws)
    watch = PauseWatch(ws)
    assert watch.of() == {}
    (ws / ".orchestrator" / "config.toml").write_text('[todos."item/abc"]\npaused = true\n')
    escalate(ws, sid)
    pauses = watch.all()
    assert set(pauses) == {("schedule", sid), ("todo", "item/abc")}
    p = pauses[("schedule", sid)]
    assert (p.by, p.reason, p.task_id) == ("escalation", "failed 3 times in a row (last: timeout)", "f2")
    assert p.since is not None and p.describe().startswith("paused since 20")
    assert pauses[("todo", "item/abc")].reason == BY_HAND and pauses[("todo", "item/abc")].since is None
    assert watch.all() == pauses  # nothing changed: nothing re-read

    assert resume(ws, sid) is True
    assert resume(ws, sid) is False  # nothing left to clear
    assert resume(ws, "item/abc", "todo") is True
    assert watch.all() == {}


def test_the_graph_marks_a_paused_schedule_and_keeps_the_mark_across_a_file_sync(ws):
    sid = sid_of(ws)
    escalate(ws, sid)
    nid = schedule_node_id(sid)
    session = Session.open(ws, create=False, sync=False)
    engine = ThreadExecutor(ws, EngineConfig())
    runs = Runs(ws, engine, session=session)  # marks what is paused when it starts
    try:
        g = session.graph
        assert g.node(nid).status is NodeStatus.BLOCKED
        assert g.node(nid).metadata["paused"]["reason"] == "failed 3 times in a row (last: timeout)"
        assert int(g.flags[g.row_of(nid)]) & NodeFlag.ESCALATED
        assert engine.is_paused("schedule", sid)

        # A sync from schedules.json sets the status from the file again; sync_pauses marks it anew.
        doc = load_schedules(ws / ".roo" / "schedules.json")
        doc.set_values(sid, {"name": "Renamed"})
        doc.save()
        session.sync([".roo/schedules.json"])
        assert g.node(nid).title == "Renamed"
        runs.sync_pauses()
        assert g.node(nid).status is NodeStatus.BLOCKED

        assert runs.resume(sid) is True
        assert g.node(nid).status is NodeStatus.ACTIVE and "paused" not in g.node(nid).metadata
        assert not engine.is_paused("schedule", sid)
    finally:
        runs.close()
        engine.shutdown()
        session.close()


def test_a_resume_in_another_process_unpauses_a_running_engine(ws):
    sid = sid_of(ws)
    (ws / ".orchestrator" / "config.toml").write_text(f'[schedules."{sid}"]\npaused = true\n')
    from orchestrator_gui.engine.config import load_config

    engine = ThreadExecutor(ws, load_config(ws))  # its config says paused
    try:
        assert engine.is_paused("schedule", sid)
        resume(ws, sid)  # no engine given: what `schedules resume` does in its own process
        assert not engine.is_paused("schedule", sid)
    finally:
        engine.shutdown()


def test_a_dry_run_gets_no_run_node_and_its_subject_is_lit_only_while_it_lasts(ws):
    sid = sid_of(ws)
    session = Session.open(ws, create=False, sync=False)
    engine = ThreadExecutor(ws, EngineConfig())
    runs = Runs(ws, engine, session=session)
    try:
        before = session.graph.number_of_nodes()
        handle = runs.run_now(sid)
        result = handle.result(WAIT)
        assert result.dry_run
        runs.process()
        g = session.graph
        assert run_node_id(handle.task_id) not in g and g.number_of_nodes() == before
        assert not int(g.flags[g.row_of(schedule_node_id(sid))]) & NodeFlag.ACTIVE
        assert runs.dry_run_reason(sid) == "no runner is configured for mode “code” in .orchestrator/config.toml"
    finally:
        runs.close()
        engine.shutdown()
        session.close()
    engine = ThreadExecutor(ws, EngineConfig(runner=[sys.executable, "-c", "pass"]))
    try:
        assert Runs(ws, engine).dry_run_reason(sid) is None
        assert engine.dry_run_for(schedule_task(sid, "n", "code", "x")) is False
    finally:
        engine.shutdown()
