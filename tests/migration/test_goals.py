"""The migration links goals to what serves them; on a small workspace the goals' figures match a hand count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ws_helpers import demo_copy

from orchestrator_gui.migration import build_graph, update_graph
from orchestrator_gui.migration.goals import goal_heading, heading_phrases
from orchestrator_gui.model.epistemic import goal_report
from orchestrator_gui.model.graph import ThoughtGraph

MODES = """customModes:
  - slug: builder
    name: Builder
    roleDefinition: Builds the tool.
    groups:
      - read
  - slug: memory-keeper
    name: Memory Keeper
    roleDefinition: Keeps the memory file short.
    groups:
      - read
  - slug: checker
    name: Checker
    roleDefinition: Checks items.
    groups:
      - read
  - slug: idle
    name: Idle
    roleDefinition: Does nothing.
    groups:
      - read
"""

TODO = """# Project

## Milestone 1 — Basics

- [x] AB-001 Parser
- [ ] AB-002 Printer
  - [x] AB-002a Layout
  - [ ] AB-002b Colours
- [-] AB-003 Dropped idea

## Chores

- [x] AB-004 Trim the memory file
  - **Goal**: Tidy memory
- [ ] AB-005 Write docs
  - **Owner**: builder
- [ ] AB-006 Status page
"""

MEMORY = """# System Updates & Status

[2026-01-01T11:00:00.000Z] [builder] - [AB-001_parser]: Parser finished for AB-001

## [2026-01-04T09:00:00.000Z] [memory-keeper] - [trim]
- **Goal**: Tidy memory
- **Finding**: trimmed to 80 lines
"""

TIMING = "\n".join([
    "timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority",
    "2026-01-01T10:10:00.000Z\tbuilder\ttask-aaa111\t2026-01-01T10:00:00.000Z\t2026-01-01T10:10:00.000Z\t600"
    "\tRelease loop\tcompleted\tschedule",
    "2026-01-02T10:10:00.000Z\tbuilder\ttask-bbb222\t2026-01-02T10:00:00.000Z\t2026-01-02T10:10:00.000Z\t600"
    "\tRelease loop\tfailed - tests red\tschedule",
    "2026-01-03T10:10:00.000Z\tchecker\ttask-ccc333\t2026-01-03T10:00:00.000Z\t2026-01-03T10:10:00.000Z\t600"
    "\tAB-006 Status page\tcompleted\ttodo",
]) + "\n"


def schedule(sid: str, name: str, mode: str, instructions: str) -> dict:
    return {"id": sid, "name": name, "mode": mode, "taskInstructions": instructions, "scheduleType": "time",
            "timeInterval": "1", "timeUnit": "day", "active": True, "createdAt": "2026-01-01T00:00:00.000Z",
            "updatedAt": "2026-01-01T00:00:00.000Z"}


SCHEDULES = [
    schedule("1", "Release loop", "builder",
             "# Release loop\n\n## Work\nPick the first open item of **Milestone 1**.\n\n## Report\nSay what you did."),
    schedule("2", "Tidy memory", "memory-keeper", "Keep persistent-memory.md short."),
    schedule("3", "Sweep", "code", "Go through `TODO.md` and tick what is finished."),
]


def write_workspace(root: Path, *, todo: str = TODO, schedules: list[dict] = SCHEDULES, modes: str = MODES,
                    memory: str = MEMORY, timing: str = TIMING) -> Path:
    (root / ".roo").mkdir(parents=True)
    (root / ".roo" / "schedules.json").write_text(json.dumps({"schedules": schedules}, indent=2), encoding="utf-8")
    for name, text in (("TODO.md", todo), (".roomodes", modes), ("persistent-memory.md", memory),
                       ("task_timing.tsv", timing)):
        (root / name).write_text(text, encoding="utf-8")
    return root


def titled(g: ThoughtGraph, title: str) -> str:
    (node_id,) = [n.id for n in g.nodes() if n.title == title or n.title.startswith(title + " ")]
    return node_id


def serves(g: ThoughtGraph) -> set[tuple[str, str, str]]:
    """``(src title, dst title, via)`` of every derived ``serves`` edge."""
    return {(g.node(e.src).title, g.node(e.dst).title, e.metadata["via"]) for e in g.edges()
            if e.type.value == "serves"}


@pytest.fixture
def small(tmp_path: Path) -> ThoughtGraph:
    return build_graph(write_workspace(tmp_path / "ws"), now=1.7e9)


def test_the_rules_link_each_goal_to_what_serves_it(small: ThoughtGraph):
    assert serves(small) == {
        ("AB-004 Trim the memory file", "Tidy memory", "goal"),         # its Goal: line
        ("Milestone 1 — Basics", "Release loop", "instructions"),       # the schedule names the heading's label
        ("AB-005 Write docs", "Builder", "owner"),                      # Owner: builder
        ("AB-006 Status page", "Checker", "run"),                       # a checker run worked on it
        ("Release loop", "Builder", "mode"),                            # schedules serve their mode
        ("Tidy memory", "Memory Keeper", "mode"),
        ("Project", "Sweep", "file"),                                   # linked to nothing else, names TODO.md
    }
    (entry,) = [e for e in small.edges() if e.type.value == "evidence_for"]
    assert small.node(entry.src).title == "trim" and small.node(entry.dst).title == "Tidy memory"
    assert entry.weight == 0.5 and entry.metadata == {"by": "migration", "via": "goal"}


def test_goal_progress_and_confidence_match_a_hand_count(small: ThoughtGraph):
    report = {gi.title: gi for gi in goal_report(small)}
    # Idle owns nothing and is no goal; "code" is a built-in mode without a node.
    assert set(report) == {"Release loop", "Tidy memory", "Sweep", "Builder", "Memory Keeper", "Checker"}
    # Milestone 1: AB-001 done, AB-002 half (002a of 002a/002b), AB-003 declined -> 3/4, 2 of 3 items.
    # The schedule's own steps ("Work", "Report") are instructions, not work: they do not count.
    loop = report["Release loop"]
    assert (loop.progress, loop.done_items, loop.items) == (0.75, 2, 3)
    # For: the completed run (0.5), the memory entry on AB-001 (0.25); against: the failed run (0.5).
    # support = 1 - 0.5 * 0.75 = 0.625; confidence = 0.625 * 0.75 / 1.25 = 0.375 -> low: it asks.
    assert loop.confidence == pytest.approx(0.375) and (loop.evidence, len(loop.contradicts)) == (2, 1)
    assert loop.questions == (
        "“Release loop” (failed run, on the goal itself) speaks against “Release loop”: what would settle it?",)
    tidy = report["Tidy memory"]
    assert (tidy.progress, tidy.done_items, tidy.items, tidy.confidence) == (1.0, 1, 1, 0.5)  # the Goal: entry
    # Sweep works the whole list: Project = mean(Milestone 1 = 3/4, Chores = 1/3), 3 of 6 items done.
    sweep = report["Sweep"]
    assert sweep.progress == pytest.approx((0.75 + 1 / 3) / 2) and (sweep.done_items, sweep.items) == (3, 6)
    # Its closure is the whole list: the checker's completed run on AB-006 (0.5) and the entry on AB-001 (0.25).
    assert sweep.confidence == pytest.approx(1 - 0.5 * 0.75) and sweep.evidence == 2 and not sweep.unsupported
    # Builder: Release loop (3 items at 3/4) and AB-005 (1 item, open): (3 * 0.75 + 0) / 4.
    builder = report["Builder"]
    assert builder.progress == pytest.approx(0.5625) and (builder.done_items, builder.items) == (2, 4)
    # The builder runs are ran_as builder and scheduled_by the loop: each counted once. Its memory entry
    # mentions both builder and AB-001: once, at 0.25. Same figures as the loop's.
    assert builder.confidence == pytest.approx(0.375)
    checker = report["Checker"]
    assert (checker.progress, checker.items, checker.confidence) == (0.0, 1, 0.5)
    # Memory Keeper: the Tidy memory schedule (done), and its entry: by memory-keeper (0.25) and
    # evidence for Tidy memory (0.5): one entry, strongest piece.
    keeper = report["Memory Keeper"]
    assert (keeper.progress, keeper.confidence, keeper.evidence) == (1.0, 0.5, 1)


def test_ticking_an_item_and_rebuilding_moves_the_goal(tmp_path: Path, small: ThoughtGraph):
    ws = write_workspace(tmp_path / "again", todo=TODO.replace("- [ ] AB-002b Colours", "- [x] AB-002b Colours"))
    g = build_graph(ws, now=1.7e9)
    assert {gi.title: gi for gi in goal_report(g)}["Release loop"].progress == 1.0
    # An incremental update derives the same edges as a fresh build.
    tx = update_graph(small, ws, now=1.7e9)
    small.apply(tx)
    assert serves(small) == serves(g)
    assert {gi.title: gi.progress for gi in goal_report(small)}["Release loop"] == 1.0


def test_examples_inside_a_named_section_are_not_linked_twice(tmp_path: Path):
    loop = schedule("1", "Release loop", "builder",
                    "Work through **Milestone 1**, for example AB-001 or AB-002b; then AB-005.")
    g = build_graph(write_workspace(tmp_path / "ws", schedules=[loop]), now=1.7e9)
    got = {(s, via) for s, d, via in serves(g) if d == "Release loop"}
    # AB-001 and AB-002b already count through Milestone 1; AB-005 is outside it.
    assert got == {("Milestone 1 — Basics", "instructions"), ("AB-005 Write docs", "ref:AB-005")}


def test_names_slugs_and_goal_references(tmp_path: Path):
    todo = TODO + (
        "- [ ] AB-007 Make the Release loop faster\n"           # names the schedule
        "- [ ] AB-008 Ask @checker to verify\n"                 # @slug
        "- [ ] AB-009 Shorten the memory-keeper prompt\n"      # hyphenated slug as a token
        "- [ ] AB-010 Builder chores, test code and debug\n"   # one-word slugs in prose: nothing
        "- [ ] AB-011 Colour table\n  - Goal: AB-002 Printer; Sweep\n"  # by reference id, and a second target
        "- [ ] AB-012 Layout for AB-002a\n  - Goal: AB-002\n"  # not its own ancestor... AB-002 is no ancestor: kept
        "  - [ ] AB-012a Sub\n    - Goal: AB-012\n"            # its own parent: ignored
    )
    g = build_graph(write_workspace(tmp_path / "ws", todo=todo), now=1.7e9)
    got = serves(g)
    assert ("AB-007 Make the Release loop faster", "Release loop", "name") in got
    assert ("AB-008 Ask @checker to verify", "Checker", "slug") in got
    assert ("AB-009 Shorten the memory-keeper prompt", "Memory Keeper", "slug") in got
    assert not [t for t in got if t[0].startswith("AB-010")]
    assert {(s, d) for s, d, _ in got if s.startswith("AB-011")} == {("AB-011 Colour table", "AB-002 Printer"),
                                                                   ("AB-011 Colour table", "Sweep")}
    assert ("AB-012 Layout for AB-002a", "AB-002 Printer", "goal") in got
    assert not [t for t in got if t[0].startswith("AB-012a")]
    # The item something serves is a goal now.
    assert "AB-002 Printer" in {gi.title for gi in goal_report(g)}


def test_goal_headings_and_labels():
    assert goal_heading("Goal: Ship 0.1") and goal_heading("🎯 Goals — Q3") and goal_heading("**Goal:** ship")
    assert not goal_heading("Goalkeeper training") and not goal_heading("Milestone 0.1 — Core CLI")
    assert heading_phrases("Milestone 0.1 — Core CLI") == ["Milestone 0.1 — Core CLI", "Milestone 0.1"]
    assert heading_phrases("Goal: Ship 0.1 - fast") == ["Goal: Ship 0.1 - fast", "Ship 0.1 - fast", "Goal",
                                                        "Ship 0.1"]


def test_long_and_hostile_goal_lines_are_cut_not_trusted(tmp_path: Path):
    todo = TODO + "- [ ] AB-020 Odd\n  - Goal: " + ";".join(["Tidy memory"] * 5000) + "\n"
    g = build_graph(write_workspace(tmp_path / "ws", todo=todo), now=1.7e9)
    assert {(s, d) for s, d, _ in serves(g) if s.startswith("AB-020")} == {("AB-020 Odd", "Tidy memory")}


def test_the_demo_goals_show_progress_and_confidence_out_of_the_box(tmp_path: Path):
    g = build_graph(demo_copy(tmp_path), now=1.7e9)
    report = goal_report(g)
    by_title = {gi.title: gi for gi in report}
    assert {gi.kind for gi in report} == {"schedule", "mode"} and len(report) == 9
    assert all(gi.progress > 0 and gi.items > 0 and gi.confidence > 0 and not gi.unsupported for gi in report)
    heartbeat = by_title["Loop heartbeat"]
    # Milestone 0.1 (named in its instructions: 10 of 15 items, its sections 100 %, 75 %, 0 %) and TW-028
    # (its Goal: line, open): (15 * 7/12 + 0) / 16.
    assert [(c.title, c.via, c.done_items, c.items) for c in heartbeat.contributions] == [
        ("Milestone 0.1 — Core CLI", "instructions", 10, 15),
        ("TW-028 Every loop run writes a started/completed pair to `task_timing.tsv`", "goal", 0, 1)]
    assert heartbeat.progress == pytest.approx(15 * (1.0 + 0.75 + 0.0) / 3 / 16)
    # TW-012 failed twice: evidence against, named.
    assert sorted(e.title for e in heartbeat.contradicts) == [
        "Review: TW-012 Parser rejects constituent files with Windows line endings",
        "TW-012 Parser rejects constituent files with Windows line endings"]
    assert by_title["Daily memory consolidation"].progress == 1.0  # TW-027, ticked
