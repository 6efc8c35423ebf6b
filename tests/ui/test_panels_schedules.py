"""Schedules panel on the demo: the form writes only what changed, validates inline, previews runs, edits safely."""

from __future__ import annotations

import json

import pytest
from window_helpers import changed_lines, make_window

from orchestrator_gui.formats.schedules import ScheduleDocument, load_schedules
from orchestrator_gui.ui.panels.schedule_form import describe_delta
from orchestrator_gui.ui.panels.schedules import NOTICE_FLAG


def _panel(window):
    window.docks["Schedules"].raise_()
    return window.schedules


def _first_active(window):
    return next(s for s in load_schedules(window.session.workspace.schedules).schedules if s.active)


def test_changing_the_interval_changes_only_timeinterval_and_updatedat(window):
    panel = _panel(window)
    path = window.session.workspace.schedules
    s = _first_active(window)
    panel.select_schedule(s.id)
    before = path.read_bytes()
    assert not panel.btn_save.isEnabled()
    new = "15" if s.time_interval != "15" else "20"
    panel.form.interval.setText(new)
    panel.form.interval.textEdited.emit(new)
    assert panel.btn_save.isEnabled()
    assert panel.save()
    after = path.read_bytes()
    lines = changed_lines(before, after)
    assert len(lines) == 4, lines  # two lines out, two lines in
    assert sorted(ln.split(":")[0].strip(" +-") for ln in lines) == ['"timeInterval"', '"timeInterval"',
                                                                       '"updatedAt"', '"updatedAt"']
    assert f'"timeInterval": "{new}"' in after.decode()
    assert load_schedules(path).get(s.id).time_interval == new
    # the graph follows; undo writes the old bytes back
    node = window.session.graph.node(panel.node_of(s.id))
    assert node.metadata["interval"] == new
    window.acts["undo"].trigger()
    assert path.read_bytes() == before


def test_inline_validation_blocks_save_and_marks_the_field(window):
    panel = _panel(window)
    s = _first_active(window)
    panel.select_schedule(s.id)
    panel.form.interval.setText("0")
    panel.form.interval.textEdited.emit("0")
    assert not panel.btn_save.isEnabled()
    assert panel.form.interval.property("invalid") == "true"
    assert "Interval must be a positive whole number" in panel.form.problems.text()
    assert "timeInterval" not in panel.form.problems.text()  # the form's words, not the file's keys
    assert not panel.form.problems.isHidden()
    panel.form.start_date = panel.form.widgets["startDate"]
    panel.form.start_date.setText("2026-13-01")
    panel.form.start_date.textEdited.emit("2026-13-01")
    assert "Start date '2026-13-01' is not a date of the calendar" in panel.form.problems.text()
    assert "startDate" not in panel.form.problems.text() and "startHour" not in panel.form.problems.text()
    panel.revert()
    assert panel.form.interval.text() == s.time_interval
    assert panel.form.problems.isHidden()


def test_preview_lists_the_next_five_runs_and_the_list_counts_down(window):
    panel = _panel(window)
    s = _first_active(window)
    panel.select_schedule(s.id)
    lines = panel.form.preview.text().splitlines()
    assert len(lines) == 5
    assert all("(in " in ln or "(due now)" in ln for ln in lines)
    panel.tick()
    row = panel._item(s.id)
    assert row.text(4).startswith("in ") or row.text(4) == "due now"
    inactive = [x for x in load_schedules(window.session.workspace.schedules).schedules if not x.active]
    for x in inactive:
        assert panel._item(x.id).text(4) == "off"
    assert describe_delta(3725) == "in 1h 02m" and describe_delta(0) == "due now"


def test_the_forms_next_runs_count_down_and_say_who_fires_them(window, qtbot):
    panel = _panel(window)
    s = _first_active(window)
    panel.select_schedule(s.id)
    first = panel.form.preview.text()

    def ticked() -> bool:
        panel.tick()
        return panel.form.preview.text() != first

    qtbot.waitUntil(ticked, timeout=4000)  # the seconds in "(in 4m 12s)" move with the list's countdown
    assert len(panel.form.preview.text().splitlines()) == 5
    assert "VS Code" in panel.list.headerItem().toolTip(4)
    assert "VS Code" in panel._item(s.id).toolTip(4)


def test_enable_disable_changes_one_line_and_keeps_updatedat(window):
    panel = _panel(window)
    path = window.session.workspace.schedules
    s = _first_active(window)
    panel.select_schedule(s.id)
    before = path.read_bytes()
    assert panel.btn_toggle.text() == "Disable"
    panel.toggle_active()
    lines = changed_lines(before, path.read_bytes())
    assert lines == ['-      "active": true,', '+      "active": false,']
    assert panel.btn_toggle.text() == "Enable"
    assert panel._item(s.id).text(2) == "no"


def test_add_duplicate_delete_each_undoable(window):
    panel = _panel(window)
    prompter = panel.ctx.prompter
    path = window.session.workspace.schedules
    original = path.read_bytes()
    n = len(load_schedules(path).schedules)

    prompter.texts = ["Nightly digest", "Summarise the day's runs in persistent-memory.md."]
    panel.add_schedule()
    doc = load_schedules(path)
    assert len(doc.schedules) == n + 1
    added = doc.schedules[-1]
    assert (added.name, added.time_interval, added.time_unit, added.active) == ("Nightly digest", "1", "hour", True)
    assert panel.current_id() == added.id
    assert doc.canonical  # still byte-identical to what Roo Scheduler writes

    panel.duplicate()
    doc = load_schedules(path)
    assert len(doc.schedules) == n + 2 and doc.schedules[-1].name == "Nightly digest (copy)"

    prompter.confirm_answer = False
    panel.delete()
    assert len(load_schedules(path).schedules) == n + 2  # declined: nothing happens
    prompter.confirm_answer = True
    panel.delete()
    assert len(load_schedules(path).schedules) == n + 1

    history = window.session.undo
    for _ in range(3):
        assert history.undo() is not None
    assert path.read_bytes() == original


def test_reload_window_notice_is_shown_once(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    panel = _panel(win)
    assert not win.settings.flag(NOTICE_FLAG)
    panel.select_schedule(_first_active(win).id)
    panel.toggle_active()
    assert not panel.banner.isHidden()
    assert "Developer: Reload Window" in panel.banner_text.text()
    assert win.settings.flag(NOTICE_FLAG)
    win.close()
    win2 = make_window(qtbot, tmp_path, settings=win.settings)
    assert win2.open_demo()
    panel2 = _panel(win2)
    panel2.select_schedule(_first_active(win2).id)
    panel2.toggle_active()
    assert panel2.banner.isHidden()
    win2.close()


def test_a_change_to_another_field_merges_silently_never_overwrites(window):
    panel = _panel(window)
    prompter = panel.ctx.prompter
    path = window.session.workspace.schedules
    s = _first_active(window)
    panel.select_schedule(s.id)
    # the extension writes lastExecutionTime while the form is open
    outside = ScheduleDocument(path, path.read_bytes())
    outside.set_values(s.id, {"lastExecutionTime": "2030-01-01T00:00:00.000Z"})
    path.write_bytes(outside.data)
    panel.form.name.setText("Renamed heartbeat")
    panel.form.name.textEdited.emit("Renamed heartbeat")
    asked = len(prompter.asked)
    assert panel.save()
    assert len(prompter.asked) == asked  # different fields: nothing to ask
    data = json.loads(path.read_bytes())
    mine = next(x for x in data["schedules"] if x["id"] == s.id)
    assert mine["lastExecutionTime"] == "2030-01-01T00:00:00.000Z"  # their write is never lost
    assert mine["name"] == "Renamed heartbeat"
    lines = changed_lines(outside.data, path.read_bytes())
    assert sorted(ln.split(":")[0].strip(" +-") for ln in lines) == ['"name"', '"name"', '"updatedAt"',
                                                                       '"updatedAt"']


@pytest.mark.parametrize("choice", ["Keep mine", "Keep theirs", None])
def test_the_same_field_changed_by_an_agent_asks_with_both_values(window, qtbot, choice):
    """The issue's steps: Interval 3 typed, not saved; an agent sets timeInterval 5; Save must not write 3 silently."""
    panel = _panel(window)
    prompter = panel.ctx.prompter
    path = window.session.workspace.schedules
    s = _first_active(window)
    panel.select_schedule(s.id)
    panel.form.interval.setText("3")
    panel.form.interval.textEdited.emit("3")
    panel.form.name.setText("Renamed too")
    panel.form.name.textEdited.emit("Renamed too")
    outside = ScheduleDocument(path, path.read_bytes())
    outside.set_values(s.id, {"timeInterval": "5"})
    path.write_bytes(outside.data)
    qtbot.waitUntil(lambda: panel.doc.get(s.id).raw.get("timeInterval") == "5", timeout=10000)  # the list shows 5
    assert panel.form.interval.text() == "3"  # the form still shows mine
    prompter.choice = choice
    saved = panel.save()
    question = prompter.asked[-1][1]
    assert "changed schedule" in question
    mine = next(x for x in json.loads(path.read_bytes())["schedules"] if x["id"] == s.id)
    if choice is None:
        assert not saved and path.read_bytes() == outside.data and panel.form.dirty
    elif choice == "Keep mine":
        assert saved and mine["timeInterval"] == "3" and mine["name"] == "Renamed too"
    else:
        assert saved and mine["timeInterval"] == "5" and mine["name"] == "Renamed too"


def test_run_now_is_wired_to_the_engine_or_explains_why_not(qtbot, tmp_path, window):
    panel = _panel(window)
    panel.select_schedule(_first_active(window).id)
    assert panel.btn_run.isEnabled()
    no_engine = make_window(qtbot, tmp_path, executor_factory=None)
    assert no_engine.open_demo()
    p2 = _panel(no_engine)
    p2.select_schedule(_first_active(no_engine).id)
    assert not p2.btn_run.isEnabled()
    assert "execution engine" in p2.btn_run.toolTip()
    no_engine.close()


def test_run_now_starts_a_task_whose_rows_reach_the_runs_panel(window, qtbot):
    panel = _panel(window)
    s = _first_active(window)
    panel.select_schedule(s.id)
    runs_before = window.runs.table.model.rowCount()
    with qtbot.waitSignal(window.executor.finished, timeout=20_000):
        panel.run_now()
    # no runner is configured in the demo: a recorded dry run, with its started/finished timing rows
    qtbot.waitUntil(lambda: window.runs.table.model.rowCount() == runs_before + 1, timeout=3000)
    last = window.runs.runs[-1]
    assert last.task == s.name and last.mode == s.mode
