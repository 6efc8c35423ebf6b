"""The Runs panel's Pending approval section: what it lists, and Approve / Skip / Edit & approve / Ask before running.

The window is the real one on a fresh workspace; the waiting runs are made by
the real approval gate's store (as a scheduler in another process would), and
every check reads the workspace files afterwards.
"""

from __future__ import annotations

import contextlib
import io
import json
import tomllib
from pathlib import Path

from PySide6.QtCore import Qt
from window_helpers import make_window

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.approvals import request
from orchestrator_gui.engine.scheduler import skipped_updates
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.timezones import local_zone
from orchestrator_gui.model.identity import schedule_node_id
from orchestrator_gui.model.nodes import NodeFlag
from orchestrator_gui.workspace import approvals as desk

T = parse_js_iso("2026-03-02T09:00:30.000Z")
WAIT = 5000


def _workspace(tmp_path: Path) -> tuple[Path, str]:
    ws = tmp_path / "ws"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["init", str(ws)]) == 0
        assert main(["graph", "build", "-w", str(ws)]) == 0
    (ws / ".orchestrator").mkdir(exist_ok=True)
    return ws, load_schedules(ws / ".roo" / "schedules.json").schedules[0].id


def _wait_for(ws: Path, sid: str) -> str:
    entry, _ = request(ws, kind="schedule", subject_id=sid, name="Work through TODO.md", mode="code",
                       instructions="Read TODO.md and do the first item", reasons=["approve = true", "due at 09:00"],
                       due="2026-03-02T09:00:00.000Z", now_ms=T)
    return entry.id


def _open(qtbot, tmp_path, ws):
    win = make_window(qtbot, tmp_path)
    assert win.open_workspace(ws)
    return win, win.runs.approvals


def test_pending_runs_are_listed_and_approve_and_edit_and_approve_work(qtbot, tmp_path):
    ws, sid = _workspace(tmp_path)
    win, box = _open(qtbot, tmp_path, ws)
    assert box.pending_area.isHidden()  # nothing waits: no section
    aid = _wait_for(ws, sid)  # written as a scheduler in another process would
    qtbot.waitUntil(lambda: len(box.entries) == 1, timeout=WAIT)
    assert not box.pending_area.isHidden() and box.title.text() == "Pending approval (1)"
    assert box.status_text() == "1 run waits for approval"
    g, nid = win.session.graph, schedule_node_id(sid)
    assert int(g.flags[g.row_of(nid)]) & NodeFlag.ESCALATED  # the node shows it waits for a person
    label = box.list.item(0).text()
    assert "Work through TODO.md (schedule · code)" in label and "approve = true; due at 09:00" in label
    assert box.editor.toPlainText() == "Read TODO.md and do the first item"
    assert not box.edit_button.isEnabled()  # nothing edited yet
    approved: list[str] = []
    box.approved.connect(approved.append)
    box.editor.setPlainText("Only fix the failing test")
    assert box.edit_button.isEnabled()
    qtbot.mouseClick(box.edit_button, Qt.MouseButton.LeftButton)
    [entry] = desk.pending(ws)
    assert (entry.id, entry.state, entry.edited) == (aid, "approved", "Only fix the failing test")
    assert approved == [aid]
    assert json.loads((ws / ".roo" / "schedules.json").read_text())["schedules"][0]["taskInstructions"] != \
        "Only fix the failing test"
    assert not box.approve_button.isEnabled() and "approved, starts at the next turn" in box.list.item(0).text()


def test_plain_approve_and_skip_from_the_panel(qtbot, tmp_path):
    ws, sid = _workspace(tmp_path)
    win, box = _open(qtbot, tmp_path, ws)
    aid = _wait_for(ws, sid)
    qtbot.waitUntil(lambda: len(box.entries) == 1, timeout=WAIT)
    qtbot.mouseClick(box.approve_button, Qt.MouseButton.LeftButton)
    [entry] = desk.pending(ws)
    assert (entry.id, entry.state, entry.edited) == (aid, "approved", None)

    before = dict(load_schedules(ws / ".roo" / "schedules.json").get(sid).raw)
    qtbot.mouseClick(box.skip_button, Qt.MouseButton.LeftButton)
    assert desk.pending(ws) == []
    after = dict(load_schedules(ws / ".roo" / "schedules.json").get(sid).raw)
    changed = {k: after[k] for k in after if before.get(k) != after[k]}
    assert set(changed) <= {"lastSkippedTime", "nextExecutionTime", "active"} and changed["lastSkippedTime"]
    # the skip wrote what Roo writes for a skip at that instant
    assert changed == skipped_updates(before, parse_js_iso(changed["lastSkippedTime"]), local_zone())
    qtbot.waitUntil(lambda: box.pending_area.isHidden(), timeout=WAIT)
    g, nid = win.session.graph, schedule_node_id(sid)
    assert not int(g.flags[g.row_of(nid)]) & NodeFlag.ESCALATED and box.status_text() == ""


def test_ask_before_running_writes_approve_for_the_selected_schedule(qtbot, tmp_path):
    ws, sid = _workspace(tmp_path)
    win, box = _open(qtbot, tmp_path, ws)
    assert not box.ask.isEnabled()  # nothing selected
    node = win.session.graph.node(schedule_node_id(sid))
    win.runs.mirror_selection([node])
    assert box.ask.isEnabled() and not box.ask.isChecked()
    box.ask.setChecked(True)
    cfg = tomllib.loads((ws / ".orchestrator" / "config.toml").read_text())
    assert cfg["schedules"][sid]["approve"] is True
    assert desk.asks_approval(ws, "schedule", sid)
    box.ask.setChecked(False)
    assert tomllib.loads((ws / ".orchestrator" / "config.toml").read_text())["schedules"][sid]["approve"] is False
    win.runs.mirror_selection([])
    assert not box.ask.isEnabled()


def test_a_bad_approvals_file_is_reported_with_file_and_line(qtbot, tmp_path):
    ws, sid = _workspace(tmp_path)
    win, box = _open(qtbot, tmp_path, ws)
    seen: list[str] = []
    win.reporter.message.connect(lambda text, _ms: seen.append(text))
    (ws / ".orchestrator" / "approvals.json").write_text('{\n  "pending": 7\n}\n')
    path = ws / ".orchestrator" / "approvals.json"
    qtbot.waitUntil(lambda: any(f"{path}:2" in s for s in seen), timeout=WAIT)
    assert box.entries == []
