"""Editing persistent-memory.md logs: append, replace, delete, conflicts (docs/formats.md §3.4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from shared_fixtures import fixture, fixture_files

from orchestrator_gui.formats.memory import MemoryDocument, load_memory
from orchestrator_gui.problems import ConflictError, FormatError

NOW = datetime(2025, 11, 2, 9, 8, 7, 654321, tzinfo=UTC)
HEAD = "## [2025-11-02T09:08:07.654Z] [code] - [task_1]"


def doc_of(text: str | bytes, name: str = "persistent-memory.md") -> MemoryDocument:
    return MemoryDocument(name, text.encode("utf-8") if isinstance(text, str) else text)


# ------------------------------------------------------------------- append


@pytest.mark.parametrize("path", fixture_files("memory"), ids=lambda p: p.name)
def test_append_changes_only_the_tail(path, tmp_path):
    raw = path.read_bytes()
    copy = tmp_path / "persistent-memory.md"
    copy.write_bytes(raw)
    doc = load_memory(copy)
    n_before = len(doc.entries)
    e = doc.append_entry("code", "task_1", "Found it", now=NOW)
    assert doc.data.startswith(raw)
    tail = doc.data[len(raw):]
    body = f"{HEAD}\n- **Finding**: Found it".encode()
    if raw.endswith(b"\n\n"):
        assert tail == body + b"\n"
    elif raw.endswith(b"\n"):
        assert tail == b"\n" + body + b"\n"
    else:  # no final newline: terminate the last line, blank separator, and still no final newline
        assert tail == b"\n\n" + body
    assert len(doc.entries) == n_before + 1 and doc.entries[-1] == e
    assert (e.form, e.mode, e.id, e.timestamp_raw) == ("heading", "code", "task_1", "2025-11-02T09:08:07.654Z")
    assert e.body == ["- **Finding**: Found it"] and e.line == doc.line_count - 1
    doc.save()
    assert copy.read_bytes() == doc.data
    assert load_memory(copy).entries[-1].id == "task_1"


def test_append_to_file_without_final_newline_8315b4a7():
    raw = fixture("memory", "8315b4a7").read_bytes()
    assert not raw.endswith(b"\n")
    doc = doc_of(raw)
    e = doc.append_entry("code", "task_1", "x", now=NOW)
    assert doc.data == raw + f"\n\n{HEAD}\n- **Finding**: x".encode()
    assert (e.line, e.end_line, e.section) == (57, 58, "System Updates & Status")
    # The old last entry keeps its text and gets no body from the new one.
    assert doc.entry_at(55).end_line == 55


def test_append_keeps_crlf_and_bom():
    raw = "\ufeff# System Updates & Status\r\n[2025-01-01T00:00:00.000Z] [m] - [a]: t\r\n".encode()
    doc = doc_of(raw)
    doc.append_entry("code", "task_1", "first\nsecond", now=NOW, label="Insight")
    assert doc.data == raw + (f"\r\n{HEAD}\r\n- **Insight**: first\r\n  - second\r\n").encode()
    assert b"\n" not in doc.data.replace(b"\r\n", b"")


def test_append_after_blank_line_adds_no_separator_and_to_empty_file():
    doc = doc_of("# System Updates & Status\n\n")
    e = doc.append_entry("code", "task_1", "x", now=NOW)
    assert doc.data == f"# System Updates & Status\n\n{HEAD}\n- **Finding**: x\n".encode()
    assert e.line == 3
    empty = doc_of("")
    e = empty.append_entry("code", "task_1", "x", now=NOW)
    assert empty.data == f"{HEAD}\n- **Finding**: x\n".encode() and e.line == 1


def test_append_multiline_text_cannot_break_the_format():
    doc = doc_of("# Log\n")
    text = "summary line\r\n\n- already a bullet\n## [2025-01-01T00:00:00Z] [x] - [y]\r[2025-01-01T00:00:00.000Z] [m] - [z]: q"
    e = doc.append_entry("code", "task_1", text, now=NOW)
    assert e.body == [
        "- **Finding**: summary line",
        "  - already a bullet",
        "  - ## [2025-01-01T00:00:00Z] [x] - [y]",
        "  - [2025-01-01T00:00:00.000Z] [m] - [z]: q",
    ]
    assert len(doc.entries) == 1


def test_append_default_now_is_current_utc():
    doc = doc_of("")
    before = datetime.now(UTC).replace(microsecond=0)
    e = doc.append_entry("code", "t", "x")
    assert before <= e.timestamp.replace(microsecond=0) <= datetime.now(UTC)
    assert e.timestamp_raw.endswith("Z") and len(e.timestamp_raw) == 24


@pytest.mark.parametrize(
    ("mode", "entry_id", "text", "label", "needle"),
    [
        ("", "t", "x", "Finding", "mode is empty"),
        ("code", "a]b", "x", "Finding", "must not contain ']'"),
        ("co\nde", "t", "x", "Finding", "must not contain '\\n'"),
        ("code", "[t", "x", "Finding", "must not contain '['"),
        ("code ", "t", "x", "Finding", "blanks"),
        ("code", "t", " \n\t", "Finding", "text is empty"),
        ("code", "t", "x", "Fin**ding", "'**'"),
    ],
)
def test_append_rejects_bad_input_and_changes_nothing(mode, entry_id, text, label, needle):
    raw = b"# Log\nabc"
    doc = doc_of(raw)
    with pytest.raises(FormatError) as exc:
        doc.append_entry(mode, entry_id, text, now=NOW, label=label)
    assert needle in exc.value.message
    assert doc.data == raw and not doc.dirty


def test_append_into_unclosed_fence_is_refused():
    raw = b"# Log\n```\ncode\n"
    doc = doc_of(raw)
    with pytest.raises(FormatError, match="unclosed code fence"):
        doc.append_entry("code", "t", "x", now=NOW)
    assert doc.data == raw


# ------------------------------------------------------------ replace/delete

LOG = (
    "# System Updates & Status\n"                   # 1
    "[2025-01-01T00:00:00.000Z] [m] - [a]: one\n"   # 2
    "- Finding: a1\n"                               # 3
    "\n"                                            # 4
    "## [2025-01-02T00:00:00.000Z] [m] - [b]\n"     # 5
    "- **Finding**: b1\n"                           # 6
    "- **Status**: b2\n"                            # 7
    "\n"                                            # 8
    "## [2025-01-03T00:00:00.000Z] [m] - [c]\n"     # 9
    "- **Finding**: c1"                             # 10, no final newline
)


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def test_replace_rewrites_only_the_range():
    doc = doc_of(LOG)
    e = doc.replace_entry(5, "## [2025-01-02T00:00:00.000Z] [m] - [b]: now inline\n- **Finding**: new\n")
    old, new = _lines(LOG.encode()), _lines(doc.data)
    assert new[:4] == old[:4] and new[6:] == old[7:]
    assert new[4:6] == [b"## [2025-01-02T00:00:00.000Z] [m] - [b]: now inline", b"- **Finding**: new"]
    assert (e.line, e.end_line, e.summary) == (5, 6, "now inline")
    assert [x.line for x in doc.entries] == [2, 5, 8]


def test_replace_last_entry_keeps_missing_final_newline_and_crlf():
    doc = doc_of(LOG)
    doc.replace_entry(9, "## [2025-01-03T00:00:00.000Z] [m] - [c]\n- **Finding**: c2\n")
    assert doc.data == LOG.replace("c1", "c2").encode()
    crlf = LOG.replace("\n", "\r\n")
    doc = doc_of(crlf)
    doc.replace_entry(2, "[2025-01-01T00:00:00.000Z] [m] - [a]: uno\n- Finding: x\n- Command: y")
    assert doc.data == crlf.replace("one\r\n- Finding: a1", "uno\r\n- Finding: x\r\n- Command: y").encode()


@pytest.mark.parametrize(
    ("new_text", "needle"),
    [
        ("just text, no entry", "does not start with a log entry"),
        ("", "empty"),
        ("## [2025-01-02T00:00:00.000Z] [m] - [b]\n```", "unclosed code fence"),
    ],
)
def test_replace_refuses_and_changes_nothing(new_text, needle):
    doc = doc_of(LOG)
    with pytest.raises(FormatError, match=needle.replace("(", r"\(")):
        doc.replace_entry(5, new_text)
    assert doc.data == LOG.encode() and [x.line for x in doc.entries] == [2, 5, 9]


def test_replace_or_delete_unknown_line_raises():
    doc = doc_of(LOG)
    for op in (lambda: doc.replace_entry(3, "x"), lambda: doc.delete_entry(4)):
        with pytest.raises(FormatError, match="no log entry starts at line"):
            op()
    assert doc.data == LOG.encode()


def test_delete_middle_entry_removes_range_and_one_separator():
    doc = doc_of(LOG)
    doc.delete_entry(5)
    old = _lines(LOG.encode())
    assert _lines(doc.data) == old[:4] + old[8:]
    assert [(x.line, x.id) for x in doc.entries] == [(2, "a"), (5, "c")]


def test_delete_first_entry_without_blank_before_keeps_separator():
    doc = doc_of(LOG)
    doc.delete_entry(2)
    old = _lines(LOG.encode())
    assert _lines(doc.data) == old[:1] + old[3:]


def test_delete_last_entry_keeps_final_newline_state():
    doc = doc_of(LOG)
    doc.delete_entry(9)
    assert doc.data == LOG.split("\n\n## [2025-01-03")[0].encode()
    assert not doc.data.endswith(b"\n")
    with_nl = doc_of(LOG + "\n")
    with_nl.delete_entry(9)
    assert with_nl.data == LOG.split("\n\n## [2025-01-03")[0].encode() + b"\n"


def test_delete_duplicate_removes_only_the_addressed_copy_ecf29d9f():
    raw = fixture("memory", "persistent-memory__ecf29d9f").read_bytes()
    doc = doc_of(raw)
    doc.delete_entry(54)
    old = raw.split(b"\n")
    assert doc.data.split(b"\n") == old[:53] + old[54:]
    dup = [e.line for e in doc.entries if e.id == "STG-004_temporal_vector_fix"]
    assert dup == [249]


# ----------------------------------------------------------------- conflicts


def test_save_refuses_when_file_changed_on_disk(tmp_path):
    path = tmp_path / "persistent-memory.md"
    path.write_bytes(LOG.encode())
    doc = load_memory(path)
    doc.append_entry("code", "t", "x", now=NOW)
    path.write_bytes(b"someone else\n")
    assert doc.changed_on_disk()
    with pytest.raises(ConflictError):
        doc.save()
    assert path.read_bytes() == b"someone else\n"
    assert doc.dirty


def test_save_after_replace_and_delete_writes_exact_bytes(tmp_path):
    path = tmp_path / "persistent-memory.md"
    path.write_bytes(LOG.encode())
    doc = load_memory(path)
    doc.replace_entry(2, "[2025-01-01T00:00:00.000Z] [m] - [a]: edited")
    assert doc.entry_at(9) is None and doc.entry_at(8).id == "c"  # re-parsed: lines moved up
    doc.delete_entry(8)
    doc.save()
    assert not doc.dirty
    assert path.read_bytes() == (
        b"# System Updates & Status\n[2025-01-01T00:00:00.000Z] [m] - [a]: edited\n\n"
        b"## [2025-01-02T00:00:00.000Z] [m] - [b]\n- **Finding**: b1\n- **Status**: b2"
    )
