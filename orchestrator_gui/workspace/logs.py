"""The agents' logs and modes as use cases: memory entries, timing rows (paged), custom modes.

``persistent-memory.md`` and ``task_timing.tsv`` are append-only logs that
agents write while we read them: an append is one locked ``O_APPEND`` write
that never rewrites the bytes already there (``formats.memory_append``,
``formats.timing_write``), so it is not an undo step (undoing would have to
cut lines that agents may have appended after it). The timing log is read
from its end a page at a time, so a file past the 20 MB read limit still
lists.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestrator_gui.formats.memory import MemoryDocument
from orchestrator_gui.formats.memory_append import append_entry
from orchestrator_gui.formats.roomodes import ModesDocument
from orchestrator_gui.formats.timing import NewTimingRow, TimingRow, append_row
from orchestrator_gui.formats.timing_read import MAX_PAGE_OFFSET, MAX_PAGE_ROWS, read_timing_page
from orchestrator_gui.formats.workspace import MEMORY, ROOMODES, TIMING
from orchestrator_gui.workspace.file_edits import etag_of, read_version

MEMORY_FILE, TIMING_FILE, MODES_FILE = MEMORY.as_posix(), TIMING.as_posix(), ROOMODES.as_posix()
#: Rows of a timing page when none is asked for.
DEFAULT_PAGE = 100
#: Priorities a timing row may have.
PRIORITIES = ("schedule", "todo")


def memory_entries(root: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], str | None]:
    """The entries of ``persistent-memory.md`` (none when it does not exist) and the file's version.

    Each entry is ``{"line", "end_line", "form", "timestamp", "mode", "id", "summary", "section"}``.
    """
    path = Path(root) / MEMORY_FILE
    data = read_version(path)
    if data is None:
        return [], None
    doc = MemoryDocument(path, data)  # the very bytes the version names
    rows = [{"line": e.line, "end_line": e.end_line, "form": e.form, "timestamp": e.timestamp_raw,
             "mode": e.mode, "id": e.id, "summary": e.summary, "section": e.section} for e in doc.entries]
    return rows, etag_of(data)


def append_memory(root: str | os.PathLike[str], mode: str, entry_id: str, text: str, *,
                  now: datetime | None = None) -> dict[str, Any]:
    """Append an entry to ``persistent-memory.md`` (the file must exist); returns ``{"line", "timestamp"}``."""
    entry = append_entry(Path(root) / MEMORY_FILE, mode, entry_id, text, now=now or datetime.now(UTC))
    return {"line": entry.line, "timestamp": entry.timestamp_raw}


def timing_row(r: TimingRow) -> dict[str, Any]:
    """A timing row as plain values."""
    return {"line": r.line, "layout": r.layout, "timestamp": r.timestamp, "mode": r.mode, "task_id": r.task_id,
            "start_time": r.start_time, "end_time": r.end_time, "duration": r.duration, "task": r.task,
            "result": r.result, "status": r.status, "priority": r.priority}


def timing_page(root: str | os.PathLike[str], *, limit: int = DEFAULT_PAGE, offset: int = 0) -> dict[str, Any]:
    """A page of the newest timing rows: ``{"rows", "more", "offset", "limit"}`` (oldest first within the page).

    ``offset`` skips that many of the newest rows; ``more`` says whether older rows come before the page.

    Raises
    ------
    ValueError
        ``limit`` outside 1..MAX_PAGE_ROWS or ``offset`` outside 0..MAX_PAGE_OFFSET.
    """
    if not 1 <= limit <= MAX_PAGE_ROWS:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_ROWS}")
    if not 0 <= offset <= MAX_PAGE_OFFSET:
        raise ValueError(f"offset must be between 0 and {MAX_PAGE_OFFSET}")
    path = Path(root) / TIMING_FILE
    if not os.path.lexists(path):
        return {"rows": [], "more": False, "offset": offset, "limit": limit}
    page = read_timing_page(path, limit=limit, offset=offset)
    return {"rows": [timing_row(r) for r in page.rows], "more": page.more, "offset": offset, "limit": limit}


def append_timing(root: str | os.PathLike[str], *, mode: str, task_id: str, task: str, start: datetime,
                  end: datetime | None, result: str, priority: str) -> dict[str, Any]:
    """Append a row to ``task_timing.tsv`` (created with its header when missing); returns ``{"line"}``.

    Raises
    ------
    ValueError
        ``end`` before ``start``, or an unknown priority.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
    if end is not None and end < start:
        raise ValueError("end is before start")
    row = append_row(Path(root) / TIMING_FILE, NewTimingRow(
        mode=mode, task_id=task_id, task=task, start_time=start, end_time=end, result=result, priority=priority))
    return {"line": row.line}


def mode_rows(root: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], str | None]:
    """The custom modes of ``.roomodes`` (``{"slug", "name", "groups", "source", "line"}``) and the file's version."""
    path = Path(root) / MODES_FILE
    data = read_version(path)
    if data is None:
        return [], None
    modes = ModesDocument(path, data).modes
    rows = [{"slug": m.slug, "name": m.name, "groups": [g.name for g in m.groups], "source": m.source,
             "line": m.line} for m in modes]
    return rows, etag_of(data)


__all__ = ["DEFAULT_PAGE", "MEMORY_FILE", "MODES_FILE", "PRIORITIES", "TIMING_FILE", "append_memory", "append_timing",
           "memory_entries", "mode_rows", "timing_page", "timing_row"]
