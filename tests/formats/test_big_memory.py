"""The memory-log reader for big files (issue 13) reads and appends exactly as before.

The reader now visits only the lines that can start an entry or a heading or
open or close code, stores entries as columns and makes models on access;
appending reads only the end state of the file (code, last section). Each is
held equal to the line-by-line reader (kept here as ``oracle``) and to
:meth:`MemoryDocument.append_entry` on the real fixtures and on random logs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared_fixtures import fixture_files

from orchestrator_gui.formats.memory import MemoryDocument, MemoryEntry, MemorySection
from orchestrator_gui.formats.memory_append import append_entry
from orchestrator_gui.formats.memory_scan import scan_memory, scan_tail
from orchestrator_gui.formats.memory_syntax import CodeTracker, match_entry, match_heading
from orchestrator_gui.formats.todo_parse import line_contents
from orchestrator_gui.problems import FormatError, Problem


def oracle(text: str, name: str = "m") -> tuple[list, list, list, str | None]:
    """The reader's line loop as it was: every line, in order (entries, sections, findings, open code)."""
    contents, count = line_contents(text)
    entries, sections, notes = [], [], []
    code = CodeTracker()
    section_title, section_start, open_entry = None, 0, None

    def close(entry, stop):
        start, _level, em, sec = entry
        end = stop - 1
        while end > start and not contents[end].strip():
            end -= 1
        entries.append(MemoryEntry(line=start + 1, end_line=end + 1, form=em.form, timestamp_raw=em.timestamp_raw,
                                   timestamp=em.timestamp, mode=em.mode, id=em.id, summary=em.summary,
                                   body=contents[start + 1:end + 1], section=sec))

    for i in range(count):
        s = contents[i]
        if (code.kind is not None or "`" in s or "~" in s or "<!--" in s[:7]) and code.feed(s, i + 1):
            continue
        if not s:
            continue
        if s[0] in "#[":
            em, rejected = match_entry(s)
            if em is not None:
                if open_entry is not None:
                    close(open_entry, i)
                open_entry = (i, em.level, em, section_title)
                continue
            if rejected is not None:
                notes.append(Problem(file=name, line=i + 1, severity="info", message=rejected))
        h = match_heading(s)
        if h is None:
            continue
        if open_entry is not None and h.level <= open_entry[1]:
            close(open_entry, i)
            open_entry = None
        if h.level == 1:
            if section_title is not None:
                sections.append(MemorySection(line=section_start + 1, end_line=i, title=section_title))
            section_title, section_start = h.title, i
    if open_entry is not None:
        close(open_entry, count)
    if section_title is not None:
        sections.append(MemorySection(line=section_start + 1, end_line=count, title=section_title))
    return entries, sections, notes, code.kind


LINES = [
    "", " ", "\t", "# Non-Obvious Implementation Patterns", "# Development & Debug Commands", "# System Updates & Status",
    "## [2025-01-02T03:04:05.678Z] [code] - [t1]", "## [2025-01-02T03:04:05Z] [code] - [t1]: summary here  ",
    "### [2025-13-02T03:04:05Z] [code] - [bad]", "[2025-01-02T03:04:05.000Z] [architect] - [t2]: line entry",
    "[2025-01-02 10:11:12] - membank text", "## 2025-01-02 - Decision title", "## [Date] - [Decision Topic]",
    "[xx] [m] - id: no", "- **Finding**: x", "  - nested", "```", "~~~", "  ```py", "````", "```x`", "<!--",
    "<!-- one -->", "-->", "a --> b", "   <!-- x", "    <!-- four", "\t<!--", "text", "#", "####### seven",
    "   # spaced h1", "    # four", "\t# tab", "# C#", "## Sub #", "x\r", "\r", "\u00a0", "\u3000", "ü text",
    "## [2025-01-02T03:04:05Z] [co de] - [i d]: ü", "\x0c", " \x85 ", "# a --> b",
]


def log(lines: list[str], nl: str, final: bool) -> str:
    return nl.join(lines) + (nl if final else "")


def assert_reads_as_before(text: str) -> None:
    doc = MemoryDocument("m", text.encode())
    entries, sections, notes, open_code = oracle(text.removeprefix("\ufeff"))
    assert [e.model_dump() for e in doc.entries] == [e.model_dump() for e in entries]
    assert doc.sections == sections and doc._open_code == open_code
    assert [p for p in doc.problems() if p.severity == "info"] == notes
    tail = scan_tail(text.removeprefix("\ufeff"))
    assert (tail.open_code, tail.section) == (open_code, sections[-1].title if sections else None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LINES), max_size=40), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_random_logs_read_as_the_line_by_line_reader(lines, nl, final):
    assert_reads_as_before(log(lines, nl, final))


@pytest.mark.parametrize("path", fixture_files("memory"), ids=lambda p: p.name[:50])
def test_fixtures_read_as_before(path):
    assert_reads_as_before(path.read_bytes().decode("utf-8"))


def test_entries_are_made_on_access_and_kept_when_got_by_index():
    text = "# System Updates & Status\n\n" + "".join(
        f"## [2025-01-02T03:04:{k:02d}Z] [code] - [t{k}]\n- **Finding**: f{k}\n\n" for k in range(20))
    doc = MemoryDocument("m", text.encode())
    entries = doc.entries
    assert len(entries) == 20 and entries[3] is entries[3] and doc.entry_at(entries[3].line) is entries[3]
    assert entries[-1] is entries[19] and entries[19].body == ["- **Finding**: f19"]
    assert list(entries) == [entries[k] for k in range(20)] == entries[:]
    assert [e.line for e in entries] == list(doc.columns.line) and entries[0].section == "System Updates & Status"
    with pytest.raises(IndexError):
        entries[20]


NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(LINES), max_size=25), st.sampled_from(["\n", "\r\n"]), st.booleans(), st.booleans())
def test_appending_writes_and_returns_what_the_document_editor_does(tmp_path, lines, nl, final, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + log(lines, nl, final).encode()
    path = tmp_path / "persistent-memory.md"
    path.write_bytes(data)
    doc = MemoryDocument(path, data)
    try:
        want = doc.append_entry("code", "t9", "found it\n- and this", now=NOW)
    except FormatError as exc:
        with pytest.raises(FormatError) as got:
            append_entry(path, "code", "t9", "found it\n- and this", now=NOW)
        assert str(got.value) == str(exc) and path.read_bytes() == data  # refused, nothing written
        return
    got = append_entry(path, "code", "t9", "found it\n- and this", now=NOW)
    assert path.read_bytes() == doc.data and got == want


def test_an_appended_entry_belongs_to_the_last_section_outside_code():
    text = "# One\n\n```\n# Not a section\n```\n\n# Two\n[2025-01-02T03:04:05Z] [c] - [i]: x\n"
    assert scan_tail(text).section == "Two"
    assert scan_memory(text).entries.section == ["Two"]
