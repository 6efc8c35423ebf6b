"""``orchestrator-gui next``: what an agent should work on now, read from the files, writing nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO

SCHEDULES = {"schedules": [{
    "id": "s1", "name": "Parser fixes", "mode": "code", "taskType": "custom", "scheduleType": "time",
    "timeInterval": "1", "timeUnit": "hour", "active": True, "startDate": "2026-01-01", "startHour": "00",
    "startMinute": "00", "nextExecutionTime": "2026-03-01T10:00:00.000Z",
    "taskInstructions": "Fix TW-003 first.", "createdAt": "2026-01-01T00:00:00.000Z",
    "updatedAt": "2026-01-01T00:00:00.000Z"}]}
TODO = "# Work\n\n- [ ] TW-001 Write the docs\n- [ ] TW-002 Tidy the README\n- [ ] TW-003 Parser rejects CRLF\n"


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _next(capsys, root: Path, *args: str) -> dict:
    code = main(["next", "-w", str(root), "--json", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    (root / ".roo").mkdir(parents=True)
    (root / ".roo" / "schedules.json").write_text(json.dumps(SCHEDULES, indent=2))
    (root / "TODO.md").write_text(TODO)
    return root


def test_the_item_a_due_schedule_names_comes_first_and_nothing_is_written(ws, capsys):
    before = _digest(ws)
    due = _next(capsys, ws, "--now", "2026-03-01T10:05:00Z")
    assert due["next"]["title"] == "TW-003 Parser rejects CRLF" and due["next"]["line"] == 5
    assert "schedule “Parser fixes” is due now" in due["next"]["reasons"]
    assert [r["title"][:6] for r in due["then"]] == ["TW-001", "TW-002"]
    # An hour and a half before, the schedule is not due: what it names ranks only as its active goal's item.
    early = _next(capsys, ws, "--now", "2026-03-01T08:30:00Z")
    assert early["next"]["parts"]["due"] == 0 and not any("is due" in r for r in early["next"]["reasons"])
    assert early["next"]["parts"]["goal"] < due["next"]["parts"]["due"]
    assert _digest(ws) == before  # no graph store was made, no file touched


def test_a_paused_schedule_lends_its_items_nothing(ws, capsys):
    (ws / ".orchestrator").mkdir()
    (ws / ".orchestrator" / "config.toml").write_text('[schedules."s1"]\npaused = true\n')
    out = _next(capsys, ws, "--now", "2026-03-01T10:05:00Z")
    for row in [out["next"], *out["then"]]:
        assert row["parts"]["due"] == 0 and row["parts"]["goal"] == 0, row


def test_human_output_and_bad_limits(ws, capsys):
    assert main(["next", "-w", str(ws), "--now", "2026-03-01T10:05:00Z"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("next: TW-003 Parser rejects CRLF  (TODO.md:5)\n  - schedule “Parser fixes” is due now")
    assert "then:" in out
    assert main(["next", "-w", str(ws), "--limit", "0"]) == 1
    assert "--limit must be between 1 and 1000" in capsys.readouterr().err


def test_on_the_demo_with_its_graph(tmp_path, capsys):
    root = tmp_path / "demo"
    shutil.copytree(BUNDLED_DEMO, root)
    assert main(["graph", "build", "-w", str(root)]) == 0
    capsys.readouterr()
    out = _next(capsys, root, "--limit", "3")
    assert out["next"] is not None and len(out["then"]) == 2
    assert all(r["reasons"] for r in [out["next"], *out["then"]])


def test_run_todo_next_runs_the_item_next_ranks_first(ws, tmp_path, capsys):
    """The loop picks work with the same ranking: ``run --todo next`` starts the top item of ``next``."""
    import sys

    rec = tmp_path / "rec.py"
    rec.write_text("import sys, pathlib\npathlib.Path(sys.argv[1]).write_text(sys.argv[2])\n")
    (ws / ".orchestrator").mkdir()
    (ws / ".orchestrator" / "config.toml").write_text(
        "runner = [" + ", ".join(json.dumps(a) for a in [sys.executable, str(rec), str(tmp_path / "got.txt"),
                                                           "{instructions}"]) + "]\n")
    now = "2026-03-01T10:05:00Z"
    top = _next(capsys, ws, "--now", now)["next"]
    assert main(["run", "--todo", "next", "--now", now, "--json", "-w", str(ws)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["todo"]["line"] == top["line"] == 5
    assert (tmp_path / "got.txt").read_text() == "TW-003 Parser rejects CRLF"
    assert main(["run", "--todo", "soon", "-w", str(ws)]) == 2  # neither a line nor "next": a usage error
    assert "a line number or 'next'" in capsys.readouterr().err
