"""TODO items as tasks: instructions, and the opt-in check-off that survives agents editing TODO.md meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator_gui.engine import todo_runs
from orchestrator_gui.engine.tasks import RunResult
from orchestrator_gui.engine.todo_runs import check_off, finish, prepare_todo_run, todo_instructions
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.problems import FormatError

TODO = "# T\n\n- [ ] same title\n- [ ] Build it\n    first detail\n\n    second detail\n  - [ ] nested\n- [ ] same title\n"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def result(status: str, *, dry: bool = False) -> RunResult:
    return RunResult(task_id="t", kind="todo", subject_id="k", status=status, started_at=T0, ended_at=T0,
                     duration_s=1.0, dry_run=dry)


@pytest.fixture
def root(tmp_path):
    (tmp_path / "TODO.md").write_text(TODO)
    return tmp_path


def test_instructions_are_the_text_and_dedented_details(root):
    run = prepare_todo_run(root, 4, mode="architect")
    assert run.task.instructions == "Build it\nfirst detail\n\nsecond detail"
    assert (run.task.kind, run.task.mode, run.task.title, run.task.subject_id) == ("todo", "architect", "Build it", run.key)
    assert todo_instructions("x", []) == "x"
    with pytest.raises(FormatError):
        prepare_todo_run(root, 2)


def test_check_off_finds_the_item_again_after_agents_edited_the_file(root):
    second = prepare_todo_run(root, 9)  # the *second* "same title"
    text = (root / "TODO.md").read_text()
    (root / "TODO.md").write_text(text.replace("# T\n", "# T\n\n- [ ] added by an agent\n"))
    assert check_off(root, second.key) == (True, None)
    items = load_todo(root / "TODO.md").items
    assert [(it.text, it.state) for it in items if it.text == "same title"] == [("same title", "open"),
                                                                                 ("same title", "done")]


def test_a_reworded_item_is_not_checked_off(root):
    run = prepare_todo_run(root, 4)
    (root / "TODO.md").write_text(TODO.replace("Build it", "Build it properly"))
    done, why = check_off(root, run.key)
    assert not done and "reworded" in why
    assert (root / "TODO.md").read_text() == TODO.replace("Build it", "Build it properly")


def test_check_off_retries_when_the_file_changes_under_it(root, monkeypatch):
    run = prepare_todo_run(root, 4)
    real = todo_runs.load_todo
    state = {"n": 0}

    def load_then_edit(path):
        doc = real(path)
        if state["n"] == 0:  # an agent appends a line between our read and our save
            state["n"] += 1
            path.write_text(path.read_text() + "- [ ] appended meanwhile\n")
        return doc

    monkeypatch.setattr(todo_runs, "load_todo", load_then_edit)
    assert check_off(root, run.key) == (True, None)
    text = (root / "TODO.md").read_text()
    assert "- [x] Build it\n" in text and text.endswith("- [ ] appended meanwhile\n")


@pytest.mark.parametrize("wanted, status, dry, checked", [
    (False, "completed", False, None), (True, "completed", False, True), (True, "failed", False, False),
    (True, "timeout", False, False), (True, "completed", True, False)])
def test_finish_checks_off_only_real_completed_runs_when_wanted(root, wanted, status, dry, checked):
    run = prepare_todo_run(root, 4, check_off=wanted)
    finish(run, root, result(status, dry=dry))
    assert run.checked is checked
    assert ("- [x] Build it" in (root / "TODO.md").read_text()) is bool(checked)
