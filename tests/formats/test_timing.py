"""Reader tests for task_timing.tsv / .csv (docs/formats.md §4.2-4.3, §6 cases 16-19, §7)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_fixtures import LOCAL_DATA, fixture_files

from orchestrator_gui.formats.timing import TimingRow, load_timing, parse_timing
from orchestrator_gui.problems import FormatError

LOCAL_TIMING = LOCAL_DATA / "timing"


def all_fixtures() -> list[Path]:
    """Every shared timing fixture (.tsv and .csv), else the local copies."""
    return fixture_files("timing") or sorted(p for p in LOCAL_TIMING.glob("*.*sv"))


def fx(part: str) -> Path:
    """The one fixture whose name contains ``part`` (shared first, then the local copy)."""
    for p in all_fixtures() + sorted(LOCAL_TIMING.glob("*.*sv")):
        if part in p.name:
            return p
    pytest.skip(f"timing fixture *{part}* not available")


def physical_lines(data: bytes) -> list[bytes]:
    """Lines split after every \\n byte, computed independently of the reader."""
    return re.findall(rb"[^\n]*\n|[^\n]+\Z", data)


FIXTURES = all_fixtures()
TSV_FIXTURES = [p for p in FIXTURES if p.suffix == ".tsv"]


def test_fixture_folder_is_there():
    # 13 committed versions of the .tsv plus the .csv sibling (docs/formats.md §4.2).
    assert len(TSV_FIXTURES) >= 4
    if fixture_files("timing"):
        assert len(TSV_FIXTURES) == 13 and len(FIXTURES) == 14


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name[-14:])
def test_round_trip_and_nothing_dropped(path: Path):
    data = path.read_bytes()
    doc = load_timing(path)
    assert doc.to_bytes() == data == doc.data
    # Every physical line without NUL bytes is its own row, at its own line number;
    # lines holding NULs all belong to the (single) UTF-16 corrupt row.
    lines = physical_lines(data)
    by_line = {r.line: r for r in doc.rows}
    covered = 0
    for number, raw in enumerate(lines, start=1):
        if b"\x00" in raw:
            continue
        assert by_line[number].raw == raw, number
        covered += 1
    corrupt = [r for r in doc.rows if r.layout == "corrupt"]
    nul_lines = [n for n, raw in enumerate(lines, start=1) if b"\x00" in raw]
    if nul_lines:
        assert len(corrupt) == 1
        assert corrupt[0].line == nul_lines[0]
        assert corrupt[0].raw.count(b"\n") + 1 >= len(nul_lines)
    assert len(doc.rows) == covered + len(corrupt)
    if b"\x00" not in data:
        assert len(doc.rows) == len(lines)
    # Line numbers are terminators before the row + 1, over the raw bytes.
    offset = 0
    for r in doc.rows:
        assert r.line == data.count(b"\n", 0, offset) + 1
        offset += len(r.raw)


@pytest.mark.parametrize("path", TSV_FIXTURES, ids=lambda p: p.name[-14:])
def test_every_tsv_row_is_classified(path: Path):
    doc = load_timing(path)
    layouts = [r.layout for r in doc.rows]
    assert "unknown" not in layouts
    assert layouts[0] == "header"
    assert doc.header_columns in (8, 9)
    assert all(r.task_id for r in doc.rows if r.layout in ("standard", "legacy", "shifted"))


def test_total_rows_over_all_tsv_fixtures():
    if not fixture_files("timing"):
        pytest.skip("needs all 13 shared versions")
    counts = {"unknown": 0, "corrupt": 0}
    for p in TSV_FIXTURES:
        for r in load_timing(p).rows:
            counts[r.layout] = counts.get(r.layout, 0) + 1
    assert counts["unknown"] == 0
    # The UTF-16 fragment is in 5d7a55d0 and the 7 CRLF versions after it, up to a1a74f8f.
    assert counts["corrupt"] == 8 == sum(1 for p in TSV_FIXTURES if b"\x00" in p.read_bytes())


def test_utf16_fragment_at_end_of_5d7a55d0():
    path = fx("5d7a55d0.tsv")
    data = path.read_bytes()
    doc = load_timing(path)
    last = doc.rows[-1]
    assert last.layout == "corrupt" and last.line == 19
    assert last.raw == data[data.index(b"2\x000\x002\x005\x00"):]
    assert last.raw.endswith(b"d\x00\r\x00\n\x00") and last.terminator == b""
    assert last.fields == [] and last.task_id is None
    assert last.text.startswith("2025-10-27T23:19:00.000Zimplementation-performanceperf_opt_final")
    assert last.text.endswith("error rate 0%)completed")
    # The "one LF among CRLFs" is the fragment's own \n\0: the file is CRLF.
    assert doc.newline == "\r\n" and not doc.ends_with_newline
    assert doc.header_columns == 8


def test_utf16_fragment_mid_file_in_a1a74f8f():
    path = fx("a1a74f8f.tsv")
    data = path.read_bytes()
    doc = load_timing(path)
    corrupt = [r for r in doc.rows if r.layout == "corrupt"]
    assert len(corrupt) == 1
    row = corrupt[0]
    start = data.index(b"2\x000\x002\x005\x00")
    assert row.line == 19
    assert row.raw == data[start:data.index(b"2025-10-27T23:32:49.817Z")]
    assert row.raw.count(b"\x00") == data.count(b"\x00") == 278
    assert row.raw.endswith(b"d\x00\r\n\x00\r\n\x00\r\n")
    assert "CommandFailureTracker performance optimizations completed" in row.text
    nxt = doc.rows[doc.rows.index(row) + 1]
    assert (nxt.line, nxt.layout, nxt.task_id) == (22, "shifted", "continue_fix_issues_session")
    assert len(doc.rows) == 28 and len(physical_lines(data)) == 30


def rows_by_line(name: str) -> dict[int, TimingRow]:
    return {r.line: r for r in load_timing(fx(name)).rows}


def test_head_e0af0f6f_classifications():
    rows = rows_by_line("e0af0f6f.tsv")
    # Rows 2 and 4: task and result swapped, status read from the task column.
    for n, result_start in ((2, "Task completed successfully"), (4, "All subtasks completed")):
        r = rows[n]
        assert r.layout == "standard" and r.task == "completed"
        assert r.result.startswith(result_start) and r.status == "completed"
    assert (rows[2].duration, rows[2].computed_duration_s) == ("856", 856.4)
    # Row 7: unix float timestamp, empty start.
    r7 = rows[7]
    assert (r7.layout, r7.timestamp, r7.start_time) == ("standard", "1761600947.7243145", None)
    assert r7.end_time == "2025-10-27T21:35:47.724314Z" and r7.task_id == "perf_opt_001"
    assert "O(n\ufffd)" in r7.task and r7.status == "completed"
    # Rows 8-9: padded legacy duplicates.
    for n in (8, 9):
        r = rows[n]
        assert r.layout == "legacy" and r.timestamp is None and r.mode is None
        assert (r.task_id, r.start_time) == ("fix_issues_2025_10_27", "2025-10-27T21:45:16.736Z")
        assert r.task.startswith("continue fixing current issues") and r.status == "started"
    assert rows[8].raw == rows[9].raw
    # Row 12: mode column missing, read shifted.
    r12 = rows[12]
    assert r12.layout == "shifted" and r12.mode is None
    assert (r12.task_id, r12.start_time, r12.end_time, r12.duration) == (
        "continue_fix_issues_session", "2025-10-27T23:24:33.815Z", "2025-10-27T23:32:49.817Z", "492")
    assert (r12.task, r12.result, r12.status) == (None, "completed", "completed")
    # Row 21: 13-digit epoch-ms task id stays a task id; 6-digit fractions.
    r21 = rows[21]
    assert (r21.layout, r21.task_id, r21.priority) == ("standard", "1761981872582", "normal")
    assert r21.timestamp == "2025-11-01T07:24:32.582617Z"
    # Row 26: duration written without an end time, never recomputed.
    assert (rows[26].duration, rows[26].end_time, rows[26].computed_duration_s) == ("19", None, None)
    # Row 27: empty task -> "started" in the task column, "high" in result, priority empty.
    r27 = rows[27]
    assert (r27.task, r27.result, r27.status, r27.priority) == ("started", "high", "started", None)
    assert r27.fields[-1] == ""


def test_head_groups_and_counts():
    doc = load_timing(fx("e0af0f6f.tsv"))
    assert doc.header_columns == 9 and doc.columns[-1] == "priority"
    assert doc.newline == "\n" and not doc.ends_with_newline
    assert len(doc.data_rows()) == 29
    tasks = doc.tasks()
    assert [r.line for r in tasks["perf_opt_001"]] == [6, 7]
    assert [r.line for r in tasks["fix_issues_2025_10_27"]] == [8, 9, 10]
    # Rows out of chronological order stay in file order.
    assert rows_by_line("e0af0f6f.tsv")[19].timestamp > rows_by_line("e0af0f6f.tsv")[20].timestamp


def test_legacy_rows_of_first_version():
    doc = load_timing(fx("34367220.tsv")) if any("34367220" in p.name for p in FIXTURES) else None
    if doc is None:
        pytest.skip("34367220 not available")
    r2, r3 = doc.rows[1], doc.rows[2]
    assert (r2.layout, r2.task_id, r2.duration, r2.task, r2.status) == (
        "legacy", "c25e8085", "81", "orchestrator analysis session", "completed")
    # A "started" legacy row has 5 fields: no duration column.
    assert (r3.layout, len(r3.fields), r3.end_time, r3.duration, r3.task, r3.status) == (
        "legacy", 5, None, None, "system initialization implementation", "started")


def test_csv_sibling_maps_columns_by_header():
    doc = load_timing(fx("a1a74f8f.csv"))
    assert doc.delimiter == "," and doc.header_columns == 8
    assert doc.columns[:2] == ["task_id", "start_timestamp"]
    row = doc.rows[1]
    assert (row.layout, row.task_id, row.start_time, row.mode) == (
        "standard", "orchestrator_session_start", "2025-11-01T06:19:02.355Z", "time-tracking")
    assert row.task == "Initialize orchestrator workflow time tracking framework"
    # priority=orchestrator is a mode slug, not a priority word: kept in fields only.
    assert row.priority is None and row.fields[-1] == "orchestrator"
    assert doc.to_bytes() == fx("a1a74f8f.csv").read_bytes()


def test_problems_report_without_fixing():
    doc = load_timing(fx("a1a74f8f.tsv"))
    found = {(p.line, p.severity, p.message.split(" ")[0]) for p in doc.problems()}
    assert (19, "warning", "UTF-16") in found
    assert {(n, "info", "legacy") for n in (2, 3, 13, 14, 24)} <= found
    assert (22, "info", "mode") in found
    durations = sorted(p.line for p in doc.problems() if p.message.startswith("duration"))
    assert durations == [22, 27]  # 492 vs 496.0 s, 1088 vs 1094.6 s
    assert not [p for p in doc.problems() if p.severity == "error"]
    assert doc.to_bytes() == fx("a1a74f8f.tsv").read_bytes()
    msg = next(p for p in doc.problems() if p.line == 27).message
    assert "1088" in msg and "1094.63" in msg


def test_blank_lines_kept():
    doc = load_timing(fx("a1a74f8f.tsv"))
    blanks = [r for r in doc.rows if r.layout == "blank"]
    assert [r.line for r in blanks] == [7, 9, 12, 15, 17]
    assert all(r.raw == b"\r\n" and r.fields == [] for r in blanks)


def test_crlf_fields_do_not_carry_cr():
    doc = load_timing(fx("a1a74f8f.tsv"))
    assert doc.newline == "\r\n"
    assert all("\r" not in f for r in doc.rows for f in r.fields)


def test_utf8_bom_header_is_recognised_and_kept():
    data = b"\xef\xbb\xbftimestamp\tmode\ttask_id\n2025-01-01T00:00:00Z\tcode\tt1\t\t\t\tx\tstarted"
    doc = parse_timing(data)
    assert doc.rows[0].layout == "header" and doc.header_columns == 3
    assert doc.rows[1].layout == "standard" and doc.to_bytes() == data


def test_unknown_row_is_kept_and_reported():
    data = b"timestamp\tmode\n\tjust\ttext\n"
    doc = parse_timing(data, "x.tsv")
    row = doc.rows[1]
    assert (row.layout, row.fields, row.task_id, row.status) == ("unknown", ["", "just", "text"], None, None)
    assert [(p.line, p.severity) for p in doc.problems()] == [(2, "warning")]


def test_invalid_utf8_line_is_warned_not_fatal():
    data = b"timestamp\tmode\ttask_id\n2025-01-01T00:00:00Z\tcode\tt1\t\t\t\tcaf\xe9\tstarted\n"
    doc = parse_timing(data, "x.tsv")
    assert doc.rows[1].task == "caf\ufffd" and doc.to_bytes() == data
    assert [(p.line, p.severity) for p in doc.problems()] == [(2, "warning")]


@pytest.mark.parametrize("data, line", [
    (b"\xff\xfet\x00i\x00m\x00e\x00", 1),                                        # UTF-16 with BOM
    ("timestamp\tmode\n".encode("utf-16-le"), 1),                                # UTF-16 without BOM
    (b"timestamp\tmode\n" + bytes(range(0x80, 0x100)) * 4, 2),                   # binary garbage
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00", 1),
])
def test_undecodable_files_raise_with_line(data: bytes, line: int):
    with pytest.raises(FormatError) as err:
        parse_timing(data, "w/task_timing.tsv")
    assert err.value.file == "w/task_timing.tsv" and err.value.line == line


def test_load_errors(tmp_path: Path):
    with pytest.raises(FormatError, match="not found"):
        load_timing(tmp_path / "task_timing.tsv")
    with pytest.raises(FormatError, match="directory"):
        load_timing(tmp_path)


def test_empty_file():
    doc = parse_timing(b"")
    assert doc.rows == [] and doc.header_columns == 0 and doc.to_bytes() == b""


def test_large_file_parses_in_linear_time():
    head = b"timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority\r\n"
    row = (b"2025-11-01T07:24:32.582Z\tcode\tt%d\t2025-11-01T07:24:32.582Z\t\t\t"
           + b"x" * 5000 + b"\tstarted\t\r\n")
    data = head + b"".join(row.replace(b"%d", str(i).encode()) for i in range(400))  # ~2 MB
    started = time.perf_counter()
    doc = parse_timing(data)
    elapsed = time.perf_counter() - started
    assert len(doc.rows) == 401 and doc.to_bytes() == data
    assert elapsed < 5.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    b"timestamp\tmode\ttask_id", b"2025-10-27T18:27:25.305Z", b"\t", b"\r\n", b"\n", b"\r", b"x", b"c25e8085",
    b"1761600947.7243145", "é".encode(), b"\x00", "ab\n".encode("utf-16-le"), b"completed",
    b",", b"\xe9", b'"',
]), max_size=40), st.sampled_from(["task_timing.tsv", "task_timing.csv"]))
def test_any_input_round_trips_or_raises(chunks: list[bytes], name: str):
    data = b"".join(chunks)
    try:
        doc = parse_timing(data, name)
    except FormatError as exc:
        assert exc.line is not None
        return
    assert doc.to_bytes() == data
    offset = 0
    for r in doc.rows:
        assert r.line == data.count(b"\n", 0, offset) + 1
        assert r.raw  # no empty rows
        offset += len(r.raw)
