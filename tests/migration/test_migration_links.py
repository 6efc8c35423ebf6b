"""Mention detection and instruction sections, on small exact inputs."""

from __future__ import annotations

from orchestrator_gui.migration import build_graph
from orchestrator_gui.migration.links import (
    PhraseIndex,
    WordPositions,
    id_tokens,
    leading_ref,
    refs,
    strip_emphasis,
    words,
)
from orchestrator_gui.migration.sections import Section, split_sections


def test_reference_ids():
    text = "see `TW-012_parser`, STG-004 and TW-008a_json; not TW-0123xy, not tw-5, and UTF-8 is prose"
    assert refs(text) == ["TW-012", "STG-004", "TW-008a", "UTF-8"]
    assert refs("TW-012 then TW-012 again") == ["TW-012"]
    assert leading_ref("**TW-012 Parser rejects files**") == "TW-012"
    assert leading_ref("✅ STG-004: temporal vectors") == "STG-004"
    assert leading_ref("Fix TW-012 soon") is None
    assert leading_ref("Spherical Coordinates System Planning") is None


def test_words_and_phrases():
    assert words("Loop_heartbeat: fixing ISSUES, class") == ["loop", "heartbeat", "fixing", "issue", "class"]
    idx = PhraseIndex()
    assert idx.add("Loop heartbeat", "schedule")
    assert idx.add("Continue fixing current issues", "run")
    assert not idx.add("Tests", "too-short")
    assert not idx.add("test suite", "too-generic")  # under MIN_PHRASE_CHARS
    assert idx.find("## [ts] [orchestrator-loop] - [loop_heartbeat]") == ["schedule"]
    assert idx.find("we continue fixing current issue; loop heartbeat later") == ["run", "schedule"]
    assert idx.find("the heartbeat loop") == []
    wp = WordPositions("Review: continue fixing current issues or identify new ones for improvement")
    assert wp.contains(words("continue fixing current issues or identify new one"))
    assert not wp.contains(words("identify old ones"))


def test_id_tokens_and_emphasis():
    assert id_tokens("ran orch_session_20251101_032717. Then 3b9e1c07, implementation-core!") == [
        "ran", "orch_session_20251101_032717", "Then", "3b9e1c07", "implementation-core"]
    assert strip_emphasis("**Bold title**") == "Bold title"
    assert strip_emphasis("**a** and **b**") == "a** and **b"  # one surrounding pair only, as written
    assert strip_emphasis("plain") == "plain"


def test_sections_from_headings_nest_by_level_and_skip_the_title():
    text = "# Guide\n\nintro\n\n## A\na text\n### A1\n```\n## not a heading\n```\n## B\n\nb text\n"
    assert split_sections(text) == [
        Section(title="A", content="a text", parent=None),
        Section(title="A1", content="```\n## not a heading\n```", parent=0),
        Section(title="B", content="b text", parent=None),
    ]
    # two top-level headings: neither is a title
    assert [s.title for s in split_sections("# One\nx\n# Two\ny")] == ["One", "Two"]


def test_sections_from_numbered_steps_or_none():
    text = "# Title only\n\n1. Read the file\n   more about reading\n2) Write it back\n\n- not a step\n"
    assert split_sections(text) == [
        Section(title="Read the file", content="1. Read the file\n   more about reading", parent=None),
        Section(title="Write it back", content="2) Write it back\n\n- not a step", parent=None),
    ]
    assert split_sections("Just do the thing.\n  3. indented is not a step") == []
    long = split_sections("1. " + "x" * 300)[0]
    assert len(long.title) == 120 and long.title.endswith("…")


def test_mentions_link_only_defined_ids(tmp_path):
    (tmp_path / "TODO.md").write_text(
        "# Plan\n\n- [ ] STG-004 Temporal vector fix\n- [x] Spherical coordinates system planning\n"
        "  - **Note**: after STG-004\n", encoding="utf-8")
    (tmp_path / "persistent-memory.md").write_text(
        "# System Updates & Status\n\n"
        "[2025-10-28T15:11:57.555Z] [implementation-core] - [STG-004_temporal_vector_fix]: fixed UTF-8 paths "
        "in run orch_session_20251101_032717 while doing spherical coordinates system planning\n",
        encoding="utf-8")
    (tmp_path / "task_timing.tsv").write_text(
        "timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority\n"
        "2025-11-01T03:27:17.317Z\torchestrator\torch_session_20251101_032717\t2025-11-01T03:27:17.317Z\t"
        "\t\tSTG-004 Temporal vector fix\tstarted\t\n", encoding="utf-8")
    g = build_graph(tmp_path)
    [entry] = [n.id for n in g.nodes() if n.kind.value == "memory"]
    stg, planning = (n.id for n in g.nodes() if n.kind.value == "todo")
    run = "task_timing.tsv::run/orch_session_20251101_032717"
    got = {(e.dst, e.metadata["via"]) for e in g.edges_of(entry, "out")}
    assert got == {(stg, "ref:STG-004"), (planning, "title"), (run, "task_id")}  # UTF-8 defines nothing
    assert {(e.dst, e.type.value) for e in g.edges_of(run, "out")} == {(stg, "scheduled_by")}
    assert {(e.src, e.type.value) for e in g.edges_of(stg, "in")} >= {(planning, "mentions")}
