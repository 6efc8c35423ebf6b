"""Approval use cases beyond the scheduler: TODO runs, the graph's outline, the status bar's words."""

from __future__ import annotations

import contextlib
import io
import sys

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.approvals import load_approvals
from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.todo_runs import prepare_todo_run
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.model.identity import schedule_node_id
from orchestrator_gui.model.nodes import NodeFlag
from orchestrator_gui.workspace import Session
from orchestrator_gui.workspace import approvals as desk

PY = sys.executable
T = parse_js_iso("2026-03-02T09:00:30.000Z")
RECORD = "import sys; open(sys.argv[1], 'a', encoding='utf-8').write(sys.argv[2] + '\\n')"


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(root)]) == 0
    (root / ".orchestrator").mkdir(exist_ok=True)
    return root


def todo_line(root) -> int:
    lines = (root / "TODO.md").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith("- [ ] Describe"))


def test_todo_runs_wait_when_todo_approve_is_set_and_run_the_edited_text(ws, tmp_path):
    (ws / ".orchestrator" / "config.toml").write_text("[todo]\napprove = true\n")
    run = prepare_todo_run(ws, todo_line(ws))
    entry = desk.gate_todo(ws, run, now=T)
    assert entry is not None and (entry.kind, entry.subject_id, entry.mode) == ("todo", run.key, "code")
    assert entry.instructions.startswith("Describe the project goal in this file")
    assert entry.reasons[0] == "[todo] approve = true in .orchestrator/config.toml"
    assert desk.gate_todo(ws, run, now=T + 1000) == entry  # asked again: the same entry, not a second one
    desk.approve(ws, entry.id, "Write one sentence about the goal")
    assert desk.gate_todo(ws, run, now=T + 2000) is None  # approved: may start, with the edit
    got = tmp_path / "received.txt"
    engine = ThreadExecutor(ws, EngineConfig.model_validate({"runner": [PY, "-c", RECORD, str(got),
                                                                        "{instructions}"]}))
    try:
        assert engine.submit(run.task).result(20).status == "completed"
    finally:
        engine.shutdown(wait=True, cancel=True)
    assert got.read_text() == "Write one sentence about the goal\n"
    assert "- [ ] Describe the project goal in this file" in (ws / "TODO.md").read_text()  # TODO.md untouched
    again = desk.gate_todo(ws, prepare_todo_run(ws, todo_line(ws)), now=T + 3000)
    assert again is not None and again.id != entry.id  # one approval, one run


def test_todo_runs_start_without_a_wait_when_nothing_asks_for_approval(ws):
    run = prepare_todo_run(ws, todo_line(ws))
    cfg = EngineConfig.model_validate({"todos": {run.key: {"approve": False}}, "todo": {"approve": True}})
    assert desk.gate_todo(ws, run, config=cfg, now=T) is None  # the item's own key wins over [todo]
    assert desk.gate_todo(ws, run, config=EngineConfig(), now=T) is None
    assert not (ws / ".orchestrator" / "approvals.json").exists()


def test_skip_of_a_todo_run_only_drops_the_entry(ws):
    (ws / ".orchestrator" / "config.toml").write_text("[todo]\napprove = true\n")
    todo_before = (ws / "TODO.md").read_bytes()
    sched_before = (ws / ".roo" / "schedules.json").read_bytes()
    entry = desk.gate_todo(ws, prepare_todo_run(ws, todo_line(ws)), now=T)
    assert desk.skip(ws, entry.id, now=T).id == entry.id
    assert desk.pending(ws) == []
    assert (ws / "TODO.md").read_bytes() == todo_before and (ws / ".roo" / "schedules.json").read_bytes() == sched_before


def test_a_waiting_schedule_is_outlined_on_its_node_and_counted_in_the_status_bar(ws):
    from orchestrator_gui.engine.approvals import request

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["graph", "build", "-w", str(ws)]) == 0
    sid = load_schedules(ws / ".roo" / "schedules.json").schedules[0].id
    assert desk.status_text(ws) == ""
    request(ws, kind="schedule", subject_id=sid, name="n", mode="code", instructions="i", reasons=["r"],
            due=None, now_ms=T)
    assert desk.status_text(ws) == "1 run waits for approval"
    session = Session.open(ws, create=False, sync=False)
    try:
        g = session.graph
        nid = schedule_node_id(sid)
        marked = desk.flag_nodes(g, desk.pending_by_subject(ws))
        assert marked == [nid] and int(g.flags[g.row_of(nid)]) & NodeFlag.ESCALATED
        [entry] = load_approvals(ws).pending
        desk.approve(ws, entry.id)  # approved but not started yet: still waits, still outlined
        assert desk.flag_nodes(g, desk.pending_by_subject(ws), marked) == [nid]
        desk.skip(ws, entry.id, now=T)
        assert desk.flag_nodes(g, desk.pending_by_subject(ws), marked) == []
        assert not int(g.flags[g.row_of(nid)]) & NodeFlag.ESCALATED
    finally:
        session.close()
    assert desk.status_text(ws) == ""


def test_the_status_bar_never_raises_on_a_bad_file(ws):
    (ws / ".orchestrator" / "approvals.json").write_text("{not json")
    seen: list[Exception] = []
    assert desk.status_text(ws, on_error=seen.append) == ""
    assert len(seen) == 1 and str(seen[0]).startswith(str(ws / ".orchestrator" / "approvals.json") + ":1:")
