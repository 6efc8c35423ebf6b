"""``orchestrator-gui graph goals``: progress with counts and what it is made of, confidence with its evidence."""

from __future__ import annotations

import json
import shutil

import pytest
from shared_fixtures import fixture

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO

HEARTBEAT = ".roo/schedules.json::schedule/1791792843512"  # "Loop heartbeat"


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def run_text(capsys, *argv) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture
def built(tmp_path, monkeypatch, capsys):
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    monkeypatch.chdir(root)
    run_json(capsys, "graph", "build")
    return root


def goals(capsys) -> dict[str, dict]:
    return {g["id"]: g for g in run_json(capsys, "graph", "goals")}


def test_the_demo_goals_read_progress_and_confidence_with_their_reasons(built, capsys):
    report = goals(capsys)
    assert len(report) == 9 and {g["kind"] for g in report.values()} == {"schedule", "mode"}
    assert all(g["progress"] > 0 and g["confidence"] > 0 and not g["unsupported"] for g in report.values())
    beat = report[HEARTBEAT]
    assert (beat["done_items"], beat["items"]) == (10, 16)
    assert [(c["title"], c["via"], c["done_items"], c["items"], c["weight"]) for c in beat["contributions"]] == [
        ("Milestone 0.1 — Core CLI", "instructions", 10, 15, 15.0),
        ("TW-028 Every loop run writes a started/completed pair to `task_timing.tsv`", "goal", 0, 1, 1.0)]
    assert {e["why"] for e in beat["supports"]} == {"completed run", "memory entry"}
    assert [e["why"] for e in beat["contradicts"]] == ["failed run", "failed run"]
    assert beat["evidence"] == len(beat["supports"]) == 35 and beat["contradictions"] == 2 and beat["parts"] == 2
    assert beat["questions"] == []
    text = run_text(capsys, "graph", "goals")
    assert " 55% done  confidence 0.92 (35 evidence)  schedule: Loop heartbeat\n" in text
    assert "      progress: 10 of 16 linked items done; weighted mean of 2 parts:\n" in text
    assert "         58%   10/15 items  weight 15    Milestone 0.1 — Core CLI  (instructions)\n" in text
    assert "        - failed run “TW-012 Parser rejects constituent files with Wind…” on “TW-012 Parser" in text
    assert "        + … and 30 more (--json lists the strongest)\n" in text
    assert "UNSUPPORTED" not in text


def test_a_user_link_moves_progress_and_a_contradiction_lowers_confidence(built, capsys):
    before = goals(capsys)[HEARTBEAT]
    tw016 = next(h["id"] for h in run_json(capsys, "graph", "query", "TW-016", "--kind", "todo"))
    run_json(capsys, "graph", "link", tw016, HEARTBEAT, "--type", "serves")
    after = goals(capsys)[HEARTBEAT]
    # Milestone 0.1 (15 items at 7/12), TW-028 and TW-016 (open, one item each): 8.75 / 17.
    assert after["progress"] == pytest.approx(15 * 7 / 12 / 17) and (after["done_items"], after["items"]) == (10, 17)
    assert ("TW-016 Property tests: highs and lows always alternate", "user") in {
        (c["title"], c["via"]) for c in after["contributions"]}
    # TW-016's failed run (a timeout) now speaks against the heartbeat too.
    assert len(after["contradicts"]) == len(before["contradicts"]) + 1
    entry = next(h["id"] for h in run_json(capsys, "graph", "query", "TW-012_parser", "--kind", "memory"))
    run_json(capsys, "graph", "link", entry, HEARTBEAT, "--type", "contradicts")
    marked = goals(capsys)[HEARTBEAT]
    assert marked["confidence"] < after["confidence"]
    assert ("TW-012_parser", "contradicts", 1.0) in {(e["title"], e["why"], e["strength"]) for e in marked["contradicts"]}
    run_json(capsys, "graph", "undo")
    run_json(capsys, "graph", "undo")
    assert goals(capsys)[HEARTBEAT]["progress"] == before["progress"]


def test_a_goal_nothing_serves_asks_what_does(tmp_path, monkeypatch, capsys):
    root = tmp_path / "origin"
    (root / ".roo").mkdir(parents=True)
    shutil.copyfile(fixture("schedules", "a1a74f8f"), root / ".roo" / "schedules.json")
    shutil.copyfile(fixture("todo", "TODO__e0af0f6f"), root / "TODO.md")
    shutil.copyfile(fixture("timing", "task_timing__e0af0f6f"), root / "task_timing.tsv")
    monkeypatch.chdir(root)
    run_json(capsys, "graph", "build")
    (goal,) = run_json(capsys, "graph", "goals")
    assert goal["title"] == "Project Orchestration Workflow" and goal["items"] == 0 and goal["progress"] == 0.0
    assert goal["questions"] == ["What work serves “Project Orchestration Workflow”? Nothing is linked to it yet."]
    text = run_text(capsys, "graph", "goals")
    assert "      progress: nothing is linked to it\n" in text
    assert "      ? What work serves “Project Orchestration Workflow”? Nothing is linked to it yet.\n" in text
