"""Reading persistent-memory.md logs: round trip, entry detection, problems (docs/formats.md §3, §6 13-15)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from shared_fixtures import fixture, fixture_files

from orchestrator_gui.formats.memory import (
    MemoryDocument,
    format_timestamp,
    load_memory,
    parse_timestamp,
)
from orchestrator_gui.problems import FormatError

MEMORY_FIXTURES = fixture_files("memory")
ORIGIN_LOGS = [p for p in MEMORY_FIXTURES if "persistent-memory" in p.name]


def doc_of(text: str | bytes, name: str = "persistent-memory.md") -> MemoryDocument:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return MemoryDocument(name, data)


def fenced_lines(data: bytes) -> set[int]:
    """Line numbers inside ``` / ~~~ fences, computed independently of the reader."""
    inside, fence, out = False, "", set()
    for n, line in enumerate(data.decode("utf-8").split("\n"), 1):
        s = line.strip()
        if not inside and (s.startswith("```") or s.startswith("~~~")):
            inside, fence = True, s[:3]
            out.add(n)
        elif inside:
            out.add(n)
            if s.startswith(fence) and not s.strip("`~"):
                inside = False
    return out


def test_fixture_folder_is_walked():
    if not MEMORY_FIXTURES:
        pytest.skip("shared fixtures not available")
    assert len(MEMORY_FIXTURES) >= 12


# ---------------------------------------------------------------- whole folder


@pytest.mark.parametrize("path", MEMORY_FIXTURES, ids=lambda p: p.name)
def test_noop_round_trip_is_identical(path, tmp_path):
    raw = path.read_bytes()
    copy = tmp_path / path.name
    copy.write_bytes(raw)
    doc = load_memory(copy)
    assert doc.data == raw and not doc.dirty
    # Rewriting every entry with its own text must not move a single byte.
    for e in list(doc.entries):
        doc.replace_entry(e.line, doc.entry_text(e.line))
    assert doc.data == raw
    doc.save()
    assert copy.read_bytes() == raw


@pytest.mark.parametrize("path", MEMORY_FIXTURES, ids=lambda p: p.name)
def test_entries_have_parseable_timestamps_and_none_is_fenced(path):
    raw = path.read_bytes()
    doc = load_memory(path)
    fenced = fenced_lines(raw)
    lines = raw.decode("utf-8").split("\n")
    for e in doc.entries:
        assert e.timestamp.tzinfo is not None and e.timestamp.utcoffset() == timedelta(0)
        assert parse_timestamp(e.timestamp_raw) == e.timestamp
        assert e.line not in fenced
        assert e.timestamp_raw in lines[e.line - 1]
        assert e.line <= e.end_line
        assert e.body == [ln.rstrip("\r") for ln in lines[e.line:e.end_line]]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("b72d3d28", {"line": 42, "heading": 26}),
        ("c45ad2ca", {"heading": 36, "line": 8}),
        ("ecf29d9f", {"line": 38, "heading": 35}),
        ("e0af0f6f", {"heading": 13}),
        ("34367220", {"line": 4, "heading": 5}),
        ("8315b4a7", {"line": 1}),
        ("gehirn__memory-bank__decisionLog", {"membank": 2}),
        ("gehirn__memory-bank__progress", {"membank": 2}),
        ("resonance", {"date_heading": 10}),
        ("persistent_data", {}),
    ],
)
def test_entry_counts_on_real_files(name, expected):
    path = fixture("memory", name)
    doc = load_memory(path)
    assert dict(Counter(e.form for e in doc.entries)) == expected
    # Cross-check with a plain grep-style count of column-0 entry lines.
    text = path.read_text("utf-8")
    heads = len(re.findall(r"(?m)^#{2,3} \[\d{4}-\d\d-\d\dT", text))
    ones = len(re.findall(r"(?m)^\[\d{4}-\d\d-\d\dT[^\]]+\] \[[^\]]+\] - \[", text))
    assert (heads, ones) == (expected.get("heading", 0), expected.get("line", 0))


def test_fenced_template_is_not_an_entry_e0af0f6f():
    doc = load_memory(fixture("memory", "persistent-memory__e0af0f6f"))
    assert doc.entry_at(141) is None
    raw_line = fixture("memory", "persistent-memory__e0af0f6f").read_text("utf-8").split("\n")[140]
    assert raw_line == "## [timestamp] [mode] - [task_id]: [description]"
    # Inside a fence it is code: no "does not parse" finding either.
    assert [p for p in doc.problems() if p.line == 141] == []


def test_unfenced_template_heading_is_rejected_resonance():
    path = fixture("memory", "resonance")
    doc = load_memory(path)
    assert doc.entry_at(302) is None
    infos = [p for p in doc.problems() if p.severity == "info"]
    assert [(p.line, "'Date' does not parse" in p.message) for p in infos] == [(302, True)]
    # The date heading just before the template ends at the template's section.
    last = doc.entries[-1]
    assert (last.line, last.form, last.timestamp_raw) == (273, "date_heading", "2025-03-09")
    assert last.end_line < 300
    future = [e for e in doc.entries if e.timestamp.year == 2026]
    assert [e.line for e in future] == [118, 141]
    assert future[0].timestamp == datetime(2026, 2, 26, tzinfo=UTC)
    assert future[0].summary == "Job ID Type Change from String to UUID"


def test_duplicate_ts_mode_id_both_present_ecf29d9f():
    doc = load_memory(fixture("memory", "persistent-memory__ecf29d9f"))
    dup = [e for e in doc.entries if e.id == "STG-004_temporal_vector_fix"]
    assert [e.line for e in dup] == [54, 250]
    assert len({(e.timestamp_raw, e.mode, e.id) for e in dup}) == 1
    assert dup[0].summary != dup[1].summary
    assert dup[0].summary.startswith("Fixed critical TemporalVector")
    # Line 54 is one of four stacked heading-with-summary entries, no bodies.
    stacked = [doc.entry_at(n) for n in (53, 54, 55, 56)]
    assert all(e is not None and e.body == [] and e.end_line == e.line and e.summary for e in stacked)
    assert dup[0].section == "Development & Debug Commands"
    assert dup[1].section == "System Updates & Status"
    assert dup[1].body[0].startswith("- Finding: TemporalVector dataclass")
    assert dup[1].end_line == 254


def test_entry_outside_log_section_b72d3d28():
    doc = load_memory(fixture("memory", "persistent-memory__b72d3d28"))
    e = doc.entry_at(51)
    assert e is not None and e.form == "heading" and e.id == "CommandFailureTracker_tests"
    assert e.section == "Development & Debug Commands"
    # gap_assessment is a one-liner here (a heading in c45ad2ca).
    gap = [x for x in doc.entries if x.id == "gap_assessment"]
    assert [(x.line, x.form) for x in gap] == [(70, "line")]
    assert gap[0].summary.startswith("Completed comprehensive gap assessment")
    old = load_memory(fixture("memory", "persistent-memory__c45ad2ca"))
    assert [x.form for x in old.entries if x.id == "gap_assessment"] == ["heading"]


def test_displaced_body_attached_by_position_e0af0f6f():
    doc = load_memory(fixture("memory", "persistent-memory__e0af0f6f"))
    opt = doc.entry_at(186)
    assert opt.id == "PERSISTENT_MEMORY_OPTIMIZATION" and opt.body == [] and opt.end_line == 186
    nxt = doc.entry_at(187)
    assert nxt.id == "MCP_SERVER_IMPLEMENTATION_COMPLETION"
    assert any("approaching 300-line constraint" in b for b in nxt.body)
    # Newest-first mcp-server entries near the top, with 6-digit fractions.
    mcp = [e for e in doc.entries if e.mode == "mcp-server"]
    assert [e.line for e in mcp] == [99, 102, 105]
    assert mcp[0].timestamp_raw == "2025-11-01T15:13:07.748530Z"
    assert mcp[0].timestamp.microsecond == 748530
    assert mcp[0].timestamp > mcp[1].timestamp > mcp[2].timestamp
    assert doc.entry_at(129).end_line == 135  # stops before '## Universal Logging Format…'


def test_one_line_entry_with_unbolded_bullets_34367220():
    doc = load_memory(fixture("memory", "persistent-memory__34367220"))
    e = doc.entry_at(56)
    assert (e.form, e.mode, e.id, e.end_line) == ("line", "integration-commit", "commit", 60)
    assert [b.split(":")[0] for b in e.body] == ["- Finding", "- Command", "- Achievement", "- Insight"]
    assert doc.entry_at(61).form == "heading"  # heading right after, no blank line


def test_membank_entries_gehirn():
    doc = load_memory(fixture("memory", "gehirn__memory-bank__decisionLog"))
    a, b = doc.entries
    assert (a.line, a.timestamp_raw, a.mode, a.id) == (23, "2025-08-04 20:46:00", None, None)
    assert a.timestamp == datetime(2025, 8, 4, 20, 46, tzinfo=UTC)
    assert b.summary.startswith("UMB Update:") and len(b.body) == 5 and b.end_line == 30
    assert [s.title for s in doc.sections] == ["Decision Log"]


def test_persistent_data_unbracketed_ids_are_reported_not_counted():
    doc = load_memory(fixture("memory", "persistent_data"))
    assert doc.entries == []
    infos = [p.line for p in doc.problems() if p.severity == "info"]
    assert infos == [147, 148, 166, 168, 170, 172, 174, 176, 178, 180, 189]


@pytest.mark.parametrize("path", ORIGIN_LOGS, ids=lambda p: p.name)
def test_origin_logs_have_three_sections_in_order_and_no_problems(path):
    doc = load_memory(path)
    assert [s.title for s in doc.sections] == [
        "Non-Obvious Implementation Patterns", "Development & Debug Commands", "System Updates & Status",
    ]
    assert doc.sections[-1].end_line == doc.line_count
    assert doc.problems() == []


# ------------------------------------------------------------------ problems


def _three(log: str = "") -> str:
    return ("# Non-Obvious Implementation Patterns\n\n# Development & Debug Commands\n\n"
            "# System Updates & Status\n" + log)


def test_over_300_lines_warns_and_300_does_not():
    base = _three()
    pad = 300 - base.count("\n")
    ok = doc_of(base + "x\n" * pad)
    assert ok.line_count == 300 and ok.problems() == []
    big = doc_of(base + "x\n" * (pad + 1))
    [p] = big.problems()
    assert (p.severity, p.line) == ("warning", None) and "301 lines" in p.message
    assert big.data == (base + "x\n" * (pad + 1)).encode()  # never fixed


def test_resonance_over_budget_warning():
    doc = load_memory(fixture("memory", "resonance"))
    warn = [p.message for p in doc.problems() if p.severity == "warning"]
    assert any("307 lines" in m for m in warn)
    assert sum("is missing" in m for m in warn) == 3


def test_section_order_missing_duplicate_and_case():
    swapped = doc_of("# Development & Debug Commands\n# Non-Obvious Implementation Patterns\n"
                     "# System Updates & Status\n")
    [p] = swapped.problems()
    assert (p.line, p.severity) == (2, "warning") and "required order" in p.message
    missing = doc_of("# Non-Obvious Implementation Patterns\n# System updates & status\n")
    msgs = sorted((p.line, p.message) for p in missing.problems() if p.line is not None)
    assert msgs == [(2, "required section '# System Updates & Status' is missing; "
                        "line 2 has '# System updates & status', which differs in case")]
    assert any("'# Development & Debug Commands' is missing" in p.message for p in missing.problems())
    dup = doc_of(_three() + "# System Updates & Status\n")
    assert [(p.line, "appears again" in p.message) for p in dup.problems()] == [(6, True)]


def test_section_heading_inside_fence_is_not_a_section():
    doc = doc_of("# Non-Obvious Implementation Patterns\n```\n# Development & Debug Commands\n```\n")
    assert [s.title for s in doc.sections] == ["Non-Obvious Implementation Patterns"]
    assert doc.sections[0].end_line == 4


# ------------------------------------------------------------ syntax corners


def test_fences_tildes_longer_closers_and_inline_triple_backticks():
    text = (
        "# System Updates & Status\n"
        "~~~~\n[2025-01-01T00:00:00.000Z] [m] - [a]: in tilde fence\n~~~\n"  # ~~~ too short to close
        "~~~~~\n"                                                              # closes
        "```x```\n"                                                            # inline code, no fence
        "[2025-01-02T00:00:00.000Z] [m] - [b]: real\n"
        "<!--\n## [2025-01-03T00:00:00.000Z] [m] - [c]\n-->\n"
        "## [2025-01-04T00:00:00.000Z] [m] - [d]\n"
    )
    doc = doc_of(text)
    assert [(e.line, e.id) for e in doc.entries] == [(7, "b"), (11, "d")]
    assert doc.entry_at(7).body == ["<!--", "## [2025-01-03T00:00:00.000Z] [m] - [c]", "-->"]


def test_unclosed_fence_warns():
    doc = doc_of(_three("```\n## [2025-01-04T00:00:00.000Z] [m] - [d]\n"))
    assert doc.entries == []
    [p] = doc.problems()
    assert (p.line, p.severity) == (6, "warning") and "never closed" in p.message


def test_body_rules_levels_and_blank_trimming():
    text = (
        "## [2025-01-01T00:00:00.000Z] [m] - [a]\n- one\n### sub (kept in body)\n- two\n\n\n"
        "## Topic\nfree\n"
        "### [2025-01-02T00:00:00Z] [m] - [b]: sum  \n- x\n#### deeper kept\n### next topic\n"
        "[2025-01-03T00:00:00.000Z] [m] - [c]: t\nfollowing text\n\nmore\n## H\n"
    )
    doc = doc_of(text)
    a, b, c = doc.entries
    assert (a.line, a.end_line, a.body) == (1, 4, ["- one", "### sub (kept in body)", "- two"])
    assert (b.line, b.end_line, b.summary, b.body) == (9, 11, "sum", ["- x", "#### deeper kept"])
    assert (c.line, c.end_line, c.body) == (13, 16, ["following text", "", "more"])
    assert a.section is None


def test_crlf_and_bom_are_read():
    text = "\ufeff# System Updates & Status\r\n[2025-01-01T00:00:00.000Z] [m] - [a]: t\r\n- b\r\n"
    doc = doc_of(text)
    [e] = doc.entries
    assert (e.summary, e.body, e.section) == ("t", ["- b"], "System Updates & Status")


def test_bad_timestamps_are_plain_text_with_info():
    doc = doc_of("## [2025-13-01T00:00:00Z] [m] - [a]\n[2025-02-30T00:00:00Z] [m] - [b]: x\n")
    assert doc.entries == []
    assert [p.line for p in doc.problems() if p.severity == "info"] == [1, 2]


def test_binary_file_raises_format_error():
    with pytest.raises(FormatError) as exc:
        doc_of(b"# ok\n\xff\xfe oops\n", "pm.md")
    assert exc.value.line == 2 and exc.value.file == "pm.md"


def test_missing_file_raises_format_error(tmp_path):
    with pytest.raises(FormatError, match="not found"):
        load_memory(tmp_path / "persistent-memory.md")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-10-27T18:54:09.633Z", datetime(2025, 10, 27, 18, 54, 9, 633000)),
        ("2025-11-01T15:13:07.748530Z", datetime(2025, 11, 1, 15, 13, 7, 748530)),
        ("2025-11-01T03:34:02.000Z", datetime(2025, 11, 1, 3, 34, 2)),
        ("2025-11-01T07:03:00Z", datetime(2025, 11, 1, 7, 3)),
        ("2025-08-04 20:46:00", datetime(2025, 8, 4, 20, 46)),
        ("2025-03-09", datetime(2025, 3, 9)),
        ("2025-03-09T10:00:00+02:00", datetime(2025, 3, 9, 8)),
        ("2025-03-09T10:00:00.1234567Z", datetime(2025, 3, 9, 10, 0, 0, 123456)),
        ("Date", None), ("timestamp", None), ("2025-13-01T00:00:00Z", None), ("2025-10-27T25:00:00Z", None),
    ],
)
def test_parse_timestamp_lenient(raw, expected):
    got = parse_timestamp(raw)
    assert got == (expected.replace(tzinfo=UTC) if expected else None)


def test_format_timestamp_is_js_to_iso_string():
    assert format_timestamp(datetime(2025, 10, 27, 18, 54, 9, 633999, tzinfo=UTC)) == \
        "2025-10-27T18:54:09.633Z"
    assert format_timestamp(datetime(2025, 1, 2, 3, 4, 5)) == "2025-01-02T03:04:05.000Z"
    cet = timezone(timedelta(hours=1))
    assert format_timestamp(datetime(2025, 1, 1, 0, 30, tzinfo=cet)) == "2024-12-31T23:30:00.000Z"


def test_large_file_with_long_lines_parses():
    # Real files reach 827 KB with 5 KB lines; a quadratic regex would hang here.
    long = "x]" * 2500
    text = _three("".join(
        f"## [2025-01-01T00:00:{i % 60:02d}.000Z] [m] - [id{i}]: {long}\n- [{long}\n"
        f"[2025-01-01T00:00:00.000Z] [m] - [l{i}]: ]{long}\n## [{long}\n"
        for i in range(80)
    ))
    doc = doc_of(text)
    assert len(doc.data) > 800_000
    assert Counter(e.form for e in doc.entries) == {"heading": 80, "line": 80}
