"""Run now without a runner (asked first, a distinct dry run), paused schedules with Resume, and the 80 % warning.

Each test drives the window as a user would and checks what the user sees
(panels, status bar, the graph) and what the workspace files hold afterwards.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import tomllib
from pathlib import Path

from PySide6.QtWidgets import QMessageBox
from window_helpers import make_window

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.failures import FailureTracker
from orchestrator_gui.engine.tasks import RunResult, utcnow
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.model.identity import run_node_id, schedule_node_id
from orchestrator_gui.model.nodes import NodeStatus
from orchestrator_gui.ui.panels.runs import DRY_RUN_COLOR
from orchestrator_gui.ui.prompts import Prompter

WORKSPACE_FILES = (".roo/schedules.json", "TODO.md", "task_timing.tsv", "persistent-memory.md")
WAIT = 20000


def _workspace(tmp_path: Path, config: str = "") -> tuple[Path, str]:
    ws = tmp_path / "ws"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["init", str(ws)]) == 0
        assert main(["graph", "build", "-w", str(ws)]) == 0
    if config:
        (ws / ".orchestrator" / "config.toml").write_text(config, encoding="utf-8")
    return ws, load_schedules(ws / ".roo" / "schedules.json").schedules[0].id


def _files(ws: Path) -> dict[str, bytes]:
    return {name: (ws / name).read_bytes() for name in WORKSPACE_FILES}


def _messages(win) -> list[str]:
    seen: list[str] = []
    win.reporter.message.connect(lambda text, _ms: seen.append(text))
    return seen


def test_run_now_without_a_runner_asks_first_and_a_dry_run_writes_nothing(qtbot, tmp_path):
    ws, sid = _workspace(tmp_path)
    before = _files(ws)
    win = make_window(qtbot, tmp_path)
    assert win.open_workspace(ws)
    undo_before = win.session.undo.undo_text if win.session.undo.can_undo else None
    assert win.schedules.select_schedule(sid)

    # Declined: nothing happens at all, and the status bar says so.
    win.prompter.confirm_answer = False
    win.schedules.btn_run.click()
    kind, question = win.prompter.asked[-1]
    assert kind == "confirm" and "cannot really run: no runner is configured for mode “code”" in question
    assert "runner = [" in question and ".orchestrator/config.toml" in question
    assert win.statusBar().currentMessage() == "Run now cancelled: nothing was started"
    assert not (ws / ".orchestrator" / "runs.jsonl").exists()

    # Accepted: a dry run, shown as such in the Runs panel (never "completed"), nothing in the workspace.
    said: list[str] = []
    win.reporter.message.connect(lambda text, _ms: said.append(text))
    win.prompter.confirm_answer = True
    win.schedules.btn_run.click()
    qtbot.waitUntil(lambda: any(r.status == "dry run" for r in win.runs.runs), timeout=WAIT)
    [run] = [r for r in win.runs.runs if r.status == "dry run"]
    row = win.runs.row_of(run.task_id)
    assert row["Status"] == "dry run" and "nothing was started" in row["Result"] and "completed" not in row["Result"]
    # Every row's start reads the same way (local time to the second), the dry run's as the timing rows'.
    starts = [win.runs.table.model.item(i, 0).text() for i in range(win.runs.table.model.rowCount())]
    assert starts and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in starts), starts
    status_item = next(win.runs.table.model.item(i, 5) for i in range(win.runs.table.model.rowCount())
                       if win.runs.table.model.item(i, 2).text() == run.task_id)
    assert status_item.foreground().color().name() == DRY_RUN_COLOR
    assert _files(ws) == before
    assert run_node_id(run.task_id) not in win.session.graph  # a rehearsal is no run of the loop
    assert (win.session.undo.undo_text if win.session.undo.can_undo else None) == undo_before

    # The explanation is what the status bar keeps, well past the "finished" line of the work tracker.
    qtbot.waitUntil(lambda: win.statusBar().currentMessage().startswith("Dry run of"), timeout=WAIT)
    text = win.statusBar().currentMessage()
    assert "no workspace file was written" in text and "runner = [" in text
    qtbot.wait(1500)  # the claim under test is that it stays: it must still be there after a second
    assert win.statusBar().currentMessage() == text
    assert said and not any("completed" in t for t in said), said  # not even for a moment
    win.close()


def test_the_run_now_question_is_a_message_box_with_run_as_dry_run_and_cancel(qtbot, tmp_path, monkeypatch):
    ws, sid = _workspace(tmp_path)
    win = make_window(qtbot, tmp_path)
    win.prompter = Prompter(win)  # the real one: a QMessageBox
    assert win.open_workspace(ws)
    assert win.schedules.select_schedule(sid)
    boxes: list[tuple[str, list[str]]] = []

    def answer(label: str):
        def exec_(box: QMessageBox) -> int:
            boxes.append((box.text(), [b.text() for b in box.buttons()]))
            next(b for b in box.buttons() if b.text() == label).click()
            return 0
        return exec_

    monkeypatch.setattr(QMessageBox, "exec", answer("Cancel"))
    win.schedules.btn_run.click()
    assert sorted(boxes[-1][1]) == ["Cancel", "Run as dry run"]
    assert not (ws / ".orchestrator" / "runs.jsonl").exists()
    monkeypatch.setattr(QMessageBox, "exec", answer("Run as dry run"))
    win.schedules.btn_run.click()
    qtbot.waitUntil(lambda: (ws / ".orchestrator" / "runs.jsonl").exists(), timeout=WAIT)
    assert json.loads((ws / ".orchestrator" / "runs.jsonl").read_text())["dry_run"] is True
    win.close()


def _fail(tracker: FailureTracker, sid: str, k: int) -> None:
    now = utcnow()
    tracker.record(RunResult(task_id=f"fail-{k}", kind="schedule", subject_id=sid, title="Work", status="failed",
                             exit_code=1, started_at=now, ended_at=now, duration_s=1.0))


def test_a_paused_schedule_reads_paused_everywhere_and_resume_clears_it(qtbot, tmp_path):
    ws, sid = _workspace(tmp_path)
    tracker = FailureTracker(ws)
    for k in range(3):  # three failed runs (in other processes, say): escalated and paused
        _fail(tracker, sid, k)
    win = make_window(qtbot, tmp_path)
    assert win.open_workspace(ws)
    assert win.schedules.select_schedule(sid)
    item = win.schedules._item(sid)
    assert item.text(2) == "paused"
    assert item.toolTip(2).startswith("paused since ") and "failed 3 times in a row (last: exit 1)" in item.toolTip(2)
    assert "1 paused" in win.schedules.status.text() and "failed 3 times in a row" in win.schedules.status.text()
    node = win.session.graph.node(schedule_node_id(sid))
    assert node.status is NodeStatus.BLOCKED and "failed 3 times" in node.metadata["paused"]["reason"]
    assert win.executor.engine.is_paused("schedule", sid)
    assert win.schedules.btn_resume.isEnabled()

    win.schedules.btn_resume.click()
    qtbot.waitUntil(lambda: win.schedules._item(sid).text(2) == "yes", timeout=WAIT)
    assert not win.schedules.btn_resume.isEnabled()
    config = tomllib.loads((ws / ".orchestrator" / "config.toml").read_text())
    assert config["schedules"][sid]["paused"] is False
    node = win.session.graph.node(schedule_node_id(sid))
    assert node.status is NodeStatus.ACTIVE and "paused" not in node.metadata
    assert not win.executor.engine.is_paused("schedule", sid)  # the running engine sees the resume
    assert tracker.count("schedule", sid) == 0
    win.close()


def test_a_run_past_80_percent_of_its_limit_warns_in_status_bar_runs_panel_and_graph(qtbot, tmp_path):
    slow = "import time; time.sleep(60)"
    ws, sid = _workspace(tmp_path, "")
    (ws / ".orchestrator" / "config.toml").write_text(
        f'runner = [{json.dumps(sys.executable)}, "-c", {json.dumps(slow)}]\ngrace_s = 1\n\n'
        f'[schedules."{sid}"]\ntimeout_s = 2\n', encoding="utf-8")
    win = make_window(qtbot, tmp_path)
    seen = _messages(win)
    assert win.open_workspace(ws)
    assert win.schedules.select_schedule(sid)
    win.schedules.btn_run.click()  # a runner is configured: no question
    assert win.prompter.asked == []
    qtbot.waitUntil(lambda: any("of the 2 s time limit used" in m for m in seen), timeout=WAIT)
    [warning] = [m for m in seen if "time limit used" in m]
    assert warning.startswith("“") and warning.endswith("it is stopped at the limit")
    task_id = next(iter(win.executor.engine.records.refresh().warnings))
    qtbot.waitUntil(lambda: (win.runs.row_of(task_id) or {}).get("Result", "").startswith("⚠"), timeout=WAIT)
    assert "of the 2 s time limit used after" in win.runs.row_of(task_id)["Result"]
    g = win.session.graph
    qtbot.waitUntil(lambda: "warning" in g.node(run_node_id(task_id)).metadata, timeout=WAIT)
    assert "of the 2 s time limit used" in g.node(run_node_id(task_id)).metadata["warning"]
    log = (ws / ".orchestrator" / "runs" / f"{task_id}.log").read_text()
    assert "# warning: " in log
    win.close()
