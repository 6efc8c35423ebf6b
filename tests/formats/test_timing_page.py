"""``read_timing_page``: the newest rows of a timing log, read from its end, are the rows the full reader gives."""

from __future__ import annotations

import pytest
from shared_fixtures import fixture_files

from orchestrator_gui.formats import timing_read
from orchestrator_gui.formats.timing import load_timing, parse_timing
from orchestrator_gui.formats.timing_read import MAX_PAGE_ROWS, read_timing_page
from orchestrator_gui.problems import FormatError

ROW = "2026-01-0{d}T00:00:{s:02d}.000Z\tcode\tt{k}\t2026-01-0{d}T00:00:00.000Z\t\t\ttask {k}\tstarted\t\n"
HEADER = "timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority\n"


def dumps(rows):
    return [r.model_dump() for r in rows]


def check_pages(path, limits=(1, 2, 3, 7, 50, MAX_PAGE_ROWS), offsets=(0, 1, 2, 5, 40, 10_000)):
    doc = load_timing(path)
    data = doc.data_rows()
    n = len(data)
    for limit in limits:
        for offset in offsets:
            page = read_timing_page(path, limit=limit, offset=offset)
            assert dumps(page.rows) == dumps(data[max(n - offset - limit, 0):max(n - offset, 0)]), (limit, offset)
            assert page.more == (n - offset - limit > 0)
            assert (page.columns, page.header_columns) == (doc.columns, doc.header_columns)


@pytest.mark.parametrize("path", fixture_files("timing"), ids=lambda p: p.name[:60])
def test_fixture_pages_are_slices_of_the_full_read(path, monkeypatch):
    # Tiny reads from the end: chunk boundaries fall inside rows, CRLFs and UTF-16 fragments.
    monkeypatch.setattr(timing_read, "_PAGE_CHUNK", 7)
    try:
        load_timing(path)
    except FormatError as exc:
        with pytest.raises(FormatError) as got:
            read_timing_page(path)
        assert got.value.message == exc.message
        return
    check_pages(path)


def test_a_log_past_the_read_limit_is_paged(tmp_path, monkeypatch):
    monkeypatch.setattr(timing_read, "MAX_FILE_BYTES", 4096)  # the read limit, scaled down
    path = tmp_path / "task_timing.tsv"
    rows = [ROW.format(d=1 + k % 9, s=k % 60, k=k) for k in range(400)]
    path.write_text(HEADER + "".join(rows) + "\n", encoding="utf-8")  # a final blank line is not a row
    page = read_timing_page(path, limit=3, offset=1)
    assert [r.task_id for r in page.rows] == ["t396", "t397", "t398"] and page.more
    assert [r.line for r in page.rows] == [398, 399, 400]
    whole = parse_timing(path.read_bytes(), str(path)).data_rows()
    assert dumps(page.rows) == dumps(whole[-4:-1])
    with pytest.raises(FormatError, match="back from the end"):
        read_timing_page(path, limit=10, offset=300)  # would read more than the limit back


@pytest.mark.parametrize("content, message", [
    (bytes(4096), "mostly binary"),
    ("timestamp\tmode\n2026-01-01T00:00:00Z\tcode\n".encode("utf-16-le"), "UTF-16"),
    ("timestamp\tmode\n".encode("utf-16"), "UTF-16 encoded"),
])
def test_refuses_what_the_reader_refuses(tmp_path, content, message):
    path = tmp_path / "task_timing.tsv"
    path.write_bytes(content)
    with pytest.raises(FormatError) as full:
        load_timing(path)
    with pytest.raises(FormatError, match=message) as paged:
        read_timing_page(path)
    assert (paged.value.message, paged.value.line) == (full.value.message, full.value.line)


def test_empty_and_header_only_files_have_no_rows(tmp_path):
    path = tmp_path / "task_timing.tsv"
    for content in (b"", HEADER.encode(), HEADER.encode() + b"\n\n"):
        path.write_bytes(content)
        page = read_timing_page(path)
        assert page.rows == [] and not page.more


@pytest.mark.parametrize("limit, offset", [(0, 0), (MAX_PAGE_ROWS + 1, 0), (1, -1)])
def test_out_of_range_arguments_are_refused(tmp_path, limit, offset):
    path = tmp_path / "task_timing.tsv"
    path.write_bytes(HEADER.encode())
    with pytest.raises(ValueError):
        read_timing_page(path, limit=limit, offset=offset)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FormatError, match="file not found"):
        read_timing_page(tmp_path / "task_timing.tsv")
    with pytest.raises(FormatError, match="is a directory"):
        read_timing_page(tmp_path)


def test_a_deep_page_counts_blank_and_header_like_lines_as_the_reader_does(tmp_path):
    path = tmp_path / "task_timing.tsv"
    odd = ["\n", " \t\n", "\x1c\n", HEADER, "\x00x\x00\n", "TIMESTAMP\tmode\n"]  # blank, blank, blank, header, ...
    rows = [ROW.format(d=1 + k % 9, s=k % 60, k=k) + odd[k % len(odd)] for k in range(60)]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    check_pages(path, limits=(1, 3, 20), offsets=(0, 1, 5, 17, 33, 59, 80))
