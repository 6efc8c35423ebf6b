"""The thinker protocol and the built-in offline thinker, on real TODO and memory content."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from shared_fixtures import fixture

from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.model.thinker import (
    TITLE_CHARS,
    OfflineThinker,
    Thinker,
    ThinkerContext,
    ThinkerError,
    ThinkerResult,
    bullet_items,
    call,
    node_text,
    sentences,
    split_text,
)

CTX = ThinkerContext()


@pytest.fixture(scope="module")
def todo():
    return load_todo(fixture("todo", "TODO__e0af0f6f"))


@pytest.fixture(scope="module")
def memory():
    return load_memory(fixture("memory", "persistent-memory__e0af0f6f"))


def item_text(doc, title: str) -> str:
    """The thinker text of a TODO item, as the migration builds its node (title; dedented details)."""
    (item,) = [i for i in doc.items if i.text == title]
    return node_text(item.text, textwrap.dedent("\n".join(item.details)).strip("\n"))


def entry_text(doc, entry_id: str, nth: int = 0) -> str:
    entry = [e for e in doc.entries if e.id == entry_id][nth]
    return node_text(entry.id, "\n".join(p for p in (entry.summary, "\n".join(entry.body).strip("\n")) if p))


def test_generate_splits_a_todo_item_into_exactly_its_detail_bullets(todo):
    text = item_text(todo, "Time tracking enforcement implementation")
    assert OfflineThinker().generate(text, CTX, 10) == [
        'Coordination Context: System implemented with dual-priority tracking (schedule="TOP PRIORITY", '
        'todo="integrated")',
        "Action: Oversee time tracking enforcement across both systems. Schedule tasks use atomic operations, "
        "TODO tasks use 3600s enforcement",
        "Completion: Dual-priority system established with schedules.json as TOP PRIORITY authority",
    ]


def test_generate_takes_n_new_details_then_asks_follow_up_questions(todo):
    t = OfflineThinker()
    text = item_text(todo, "Strategic MCP server development planning")
    first = t.generate(text, CTX, 3)
    assert [f.split(":")[0] for f in first] == ["Planning Context", "Coordination", "Status"]
    second = t.generate(text, ThinkerContext(existing=tuple(first)), 3)
    assert [s.split(":")[0] for s in second] == ["Completion", "Test Results", "Next Planning Steps"]
    assert second[1] == ("Test Results: Unit tests 84.6% | Integration tests 75.0% | Enhanced tests 82.9% + 17.1% "
                         "robustness")
    # Every detail exists already: the standard questions, minus those asked before.
    asked = t.generate(text, ThinkerContext(existing=(*first, *second, "What blocks Strategic MCP server development "
                                                                       "planning?")), 4)
    assert asked == [
        "What is the goal of Strategic MCP server development planning?",
        "How do we verify Strategic MCP server development planning?",
        "What is the next step for Strategic MCP server development planning?",
    ]


def test_generate_asks_the_follow_up_questions_for_an_item_without_details(todo):
    assert OfflineThinker().generate(item_text(todo, "Automated CI check planning (optional enhancement)"), CTX, 4) == [
        "What is the goal of Automated CI check planning (optional enhancement)?",
        "What blocks Automated CI check planning (optional enhancement)?",
        "How do we verify Automated CI check planning (optional enhancement)?",
        "What is the next step for Automated CI check planning (optional enhancement)?",
    ]


def test_generate_on_memory_entries(memory):
    t = OfflineThinker()
    parts = t.generate(entry_text(memory, "SYSTEM_REFACTORING_COMPLETION"), CTX, 5)
    assert [p.split(":")[0] for p in parts] == ["Finding", "Implementation", "Achievement"]
    assert parts[0].startswith("Finding: Successfully implemented comprehensive system refactoring plan")
    # A labelled bullet with nested bullets keeps them as one part.
    parts = t.generate(entry_text(memory, "commit_integration_workflow_addition"), CTX, 5)
    assert len(parts) == 3
    lines = parts[2].split("\n")
    assert lines[0] == "Key Achievements" and len(lines) == 5
    assert lines[1] == '- Commit integration added to orchestrator.md under "Version Control Integration" section'
    # One bullet of one sentence cannot be split: questions about the entry.
    assert t.generate(entry_text(memory, "error_recovery"), CTX, 2) == [
        "What is the goal of error_recovery?", "What blocks error_recovery?"]


def test_sentences_do_not_split_abbreviations_or_version_numbers():
    assert sentences("Fix the loop. It stalls, e.g. at the 3.10 release.\nThen retry!  Done?") == [
        "Fix the loop.", "It stalls, e.g. at the 3.10 release.", "Then retry!", "Done?"]
    parts = OfflineThinker().generate("Loop stalls\nFix the loop. Then retry!", CTX, 5)
    assert parts == ["Fix the loop.", "Then retry!"]


def test_bullet_items_drop_checkboxes_and_ignore_paragraphs():
    text = ("Intro paragraph\n- [x] **Owner**: implementer\n1. second item\n   continued\n\n"
            "A closing paragraph\n  not an item")
    assert bullet_items(text) == ["Owner: implementer", "second item\ncontinued"]


def test_refine_applies_the_feedback_grammar_to_a_real_item(todo):
    text = item_text(todo, "Time tracking enforcement implementation")
    out = OfflineThinker().refine(
        text,
        "Rename to Time tracking\nadd: **Verification**: a test per enforcement path\n"
        "remove: coordination   CONTEXT\nreplace: 3600s => one hour\n\nWhy keep two priorities?",
        CTX,
    )
    assert out.split("\n") == [
        "Time tracking",
        "- **Action**: Oversee time tracking enforcement across both systems. Schedule tasks use atomic operations, "
        "TODO tasks use one hour enforcement",
        "- **Completion**: Dual-priority system established with schedules.json as TOP PRIORITY authority",
        "- **Verification**: a test per enforcement path",
        "Revision note: Why keep two priorities?",
    ]


def test_refine_refuses_what_it_cannot_apply():
    t = OfflineThinker()
    with pytest.raises(ThinkerError, match="no line contains 'ghost'"):
        t.refine("Title\nbody", "remove: ghost", CTX)
    with pytest.raises(ThinkerError, match="does not occur"):
        t.refine("Title\nbody", "replace: ghost -> x", CTX)
    with pytest.raises(ThinkerError, match="empty"):
        t.refine("Title", "  \n", CTX)
    assert t.refine("Title", "add: plain line", CTX) == "Title\nplain line"  # not a bullet list: no "- "
    assert t.refine("Title", "title: New", CTX) == "New"


def test_aggregate_merges_and_deduplicates_real_entries(memory):
    t = OfflineThinker()
    # The fixture logs error_recovery three times; two have the same finding line.
    a, b, c = (entry_text(memory, "error_recovery", k) for k in range(3))
    assert a == b != c
    assert t.aggregate([a, b, c], CTX).split("\n") == [
        "error_recovery",
        "- Finding: Error recovery initiated for operation 'test_operation': test_error",
        "- Finding: Error recovery initiated for operation 'test_operation': Test error for recovery",
    ]
    # Case and whitespace do not make a line new; the first spelling wins, order is kept.
    merged = t.aggregate(["A\n- One  thing\n- two", "B\n- one THING\n- three\nA"], CTX)
    assert merged == "A + B\n- One  thing\n- two\n- three"


def test_score_combines_attention_recency_and_completion():
    now = 1_000_000.0
    day = 86400.0
    ctx = ThinkerContext(now=now, attention=np.array([0.2, 0.1, 0.0]), attention_scale=0.2,
                         updated=np.array([now, now - 7 * day, now - 14 * day]), completion=np.array([0.0, 1.0, 0.5]))
    got = OfflineThinker().score(["a", "b", "c"], ctx)
    assert got == pytest.approx([0.4 * 1 + 0.3 * 1, 0.4 * 0.5 + 0.3 * 0.5 + 0.3, 0.3 * 0.25 + 0.3 * 0.5], abs=1e-12)
    with pytest.raises(ThinkerError, match="one value per item"):
        OfflineThinker().score(["a"], ctx)


def test_protocol_and_cost_record():
    t = OfflineThinker(name="offline-test")
    assert isinstance(t, Thinker)
    res = call(t, "generate", "A. B.", CTX, 2)
    assert res.value == ["A.", "B."] and res.tokens is None and res.thinker == "offline-test" and res.seconds >= 0
    assert res.cost() == {"thinker": "offline-test", "seconds": round(res.seconds, 6), "tokens": None}

    class Counting:
        name = "counting"

        def generate(self, text, context, n):
            return ThinkerResult(["x"], tokens=17)

    res = call(Counting(), "generate", "t", CTX, 1)
    assert res.value == ["x"] and res.tokens == 17 and res.thinker == "counting"


def test_text_convention_is_lossless():
    long = "word " * 40
    title, content = split_text(long.strip() + "\nsecond line")
    assert len(title) == TITLE_CHARS and title.endswith("…")
    assert content == long.strip() + "\nsecond line"
    assert node_text(title, content) == long.strip() + "\nsecond line"
    assert split_text("\n\n  Title  \nbody\n") == ("Title", "body")
    assert node_text("Title", "body") == "Title\nbody" and node_text("Title") == "Title"
