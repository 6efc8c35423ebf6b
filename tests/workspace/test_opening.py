"""Opening a folder looks before it writes: a workspace or not, a graph store or not."""

from __future__ import annotations

import pytest

from orchestrator_gui.problems import FormatError
from orchestrator_gui.workspace.opening import plan_open


def test_a_plain_folder_is_not_a_workspace_and_needs_consent(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    plan = plan_open(tmp_path)
    assert not plan.is_workspace and plan.needs_consent and not plan.has_store
    text, detail = plan.question()
    assert "not an agent-loop workspace" in text and "nothing is written" in detail
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # looking wrote nothing


def test_a_workspace_without_our_folder_lists_its_files_and_asks(tmp_path):
    (tmp_path / "TODO.md").write_text("- [ ] a\n")
    (tmp_path / ".roo").mkdir()
    (tmp_path / ".roo" / "schedules.json").write_text('{"schedules": []}')
    plan = plan_open(tmp_path)
    assert plan.is_workspace and plan.needs_consent
    assert {str(p) for p in plan.files} == {"TODO.md", ".roo/schedules.json"}
    assert "TODO.md" in plan.question()[1]


def test_a_folder_set_up_before_needs_no_question(tmp_path):
    (tmp_path / ".orchestrator").mkdir()
    plan = plan_open(tmp_path)
    assert plan.is_workspace and not plan.needs_consent and not plan.has_store


def test_a_missing_folder_raises_like_opening_it(tmp_path):
    with pytest.raises(FormatError, match="does not exist"):
        plan_open(tmp_path / "missing")
