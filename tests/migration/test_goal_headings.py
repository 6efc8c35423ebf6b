"""A TODO heading that names a goal (``## Goal: Ship the parser``) becomes a goal node its work rolls up into."""

from __future__ import annotations

from pathlib import Path

from ws_helpers import cli_json

from orchestrator_gui.migration import build_graph, update_graph
from orchestrator_gui.model.epistemic import goal_report
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import Layer, NodeKind

TODO = """# Project

## Goal: Ship the parser

- [ ] Write the lexer
- [ ] Write the grammar

### Tests

- [ ] Parser tests
  - **Goal**: Ship the parser

## Backlog

- [x] Unrelated chore
"""


def workspace(root: Path, todo: str = TODO) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "TODO.md").write_text(todo, encoding="utf-8")
    return root


def titled(g: ThoughtGraph, title: str) -> str:
    (node_id,) = [n.id for n in g.nodes() if n.title == title]
    return node_id


def goal_of(g: ThoughtGraph, title: str = "Goal: Ship the parser"):
    (info,) = [gi for gi in goal_report(g) if gi.title == title]
    return info


def test_a_goal_heading_is_a_goal_node_on_the_goal_shell(tmp_path: Path):
    g = build_graph(workspace(tmp_path), now=1.7e9)
    goal = g.node(titled(g, "Goal: Ship the parser"))
    assert goal.kind is NodeKind.GOAL and goal.layer is Layer.GOAL
    assert g.node(titled(g, "Tests")).kind is NodeKind.PLAN  # other headings stay plans
    assert g.node(titled(g, "Backlog")).kind is NodeKind.PLAN
    assert [gi.title for gi in goal_report(g)] == ["Goal: Ship the parser"]


def test_its_items_roll_up_into_it_once_each(tmp_path: Path):
    g = build_graph(workspace(tmp_path), now=1.7e9)
    goal = titled(g, "Goal: Ship the parser")
    # The items below it are its children (and the section's), as under any heading.
    assert {g.node(e.dst).title for e in g.edges() if e.src == goal and e.type.value == "parent"} == {
        "Write the lexer", "Write the grammar", "Tests"}
    # No serves edge from its own work: with the parent edge beside it each item would count twice
    # (the item's own "Goal:" line names an ancestor, which is ignored).
    assert not [e for e in g.edges() if e.dst == goal and e.type.value == "serves"]
    info = goal_of(g)
    assert (info.progress, info.done_items, info.items) == (0.0, 0, 3)
    assert [(c.title, c.via) for c in info.contributions] == [
        ("Write the lexer", "parent"), ("Write the grammar", "parent"), ("Tests", "parent")]


def test_checking_one_item_moves_the_goal(tmp_path: Path):
    todo = TODO.replace("- [ ] Write the lexer", "- [x] Write the lexer")
    g = build_graph(workspace(tmp_path, todo), now=1.7e9)
    info = goal_of(g)
    # Three equal parts (lexer done, grammar open, Tests at 0 of 1): a third; 1 of 3 items.
    assert info.progress > 0 and abs(info.progress - 1 / 3) < 1e-12
    assert (info.done_items, info.items) == (1, 3)


def test_the_cli_lists_the_goal_heading_with_its_progress(tmp_path: Path, capsys):
    root = workspace(tmp_path / "ws", TODO.replace("- [ ] Parser tests", "- [x] Parser tests"))
    cli_json(capsys, "-w", str(root), "graph", "build")
    goals = cli_json(capsys, "-w", str(root), "graph", "goals")
    (goal,) = [x for x in goals if x["title"] == "Goal: Ship the parser"]
    assert goal["kind"] == "goal" and goal["progress"] > 0 and (goal["done_items"], goal["items"]) == (1, 3)


def test_an_update_turns_a_renamed_heading_into_a_goal_and_back(tmp_path: Path):
    plain = TODO.replace("## Goal: Ship the parser", "## Ship the parser")
    g = build_graph(workspace(tmp_path / "a", plain), now=1.7e9)
    heading = titled(g, "Ship the parser")
    assert g.node(heading).kind is NodeKind.PLAN and not goal_report(g)
    g.apply(update_graph(g, workspace(tmp_path / "a"), now=1.7e9))
    assert g.node(heading).kind is NodeKind.GOAL  # the same node (its id, links and history kept)
    assert g.node(heading).title == "Goal: Ship the parser" and goal_of(g).items == 3
    assert g.number_of_nodes() == build_graph(tmp_path / "a", now=1.7e9).number_of_nodes()
    g.apply(update_graph(g, workspace(tmp_path / "a", plain), now=1.7e9))
    assert g.node(heading).kind is NodeKind.PLAN and not goal_report(g)


def test_an_item_elsewhere_may_still_name_the_goal_heading(tmp_path: Path):
    todo = TODO + "- [ ] Release notes\n  - Goal: Ship the parser\n"
    g = build_graph(workspace(tmp_path, todo), now=1.7e9)
    goal = titled(g, "Goal: Ship the parser")
    assert {(g.node(e.src).title, e.metadata["via"]) for e in g.edges()
            if e.dst == goal and e.type.value == "serves"} == {("Release notes", "goal")}
    assert goal_of(g).items == 4
