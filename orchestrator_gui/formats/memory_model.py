"""Typed views of ``persistent-memory.md``: :class:`MemoryEntry`, :class:`MemorySection`, :class:`MemoryEntries`.

They are snapshots: :class:`orchestrator_gui.formats.memory.MemoryDocument`
re-reads the file after every edit, so line numbers are always fresh.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Literal, overload

from pydantic import BaseModel, ConfigDict

from orchestrator_gui.formats.memory_scan import FORMS, MemoryColumns, iter_contents
from orchestrator_gui.formats.memory_syntax import parse_timestamp
from orchestrator_gui.formats.todo_lines import LineTable
from orchestrator_gui.formats.todo_model import construct_unchecked


class MemoryEntry(BaseModel):
    """One log entry, with its exact line range.

    Attributes
    ----------
    line : int
        1-based first line (the heading or the one-line entry).
    end_line : int
        Last line of its body; equals ``line`` when the body is empty.
        Trailing blank separator lines are not part of the body.
    form : {"heading", "line", "membank", "date_heading"}
        ``## [ts] [mode] - [id]`` heading, ``[ts] [mode] - [id]: text`` line,
        memory-bank ``[YYYY-MM-DD HH:MM:SS] - text`` line, or memory-bank
        decision-log ``## YYYY-MM-DD - Title`` heading.
    timestamp_raw : str
        The timestamp as written; show this, never a re-formatted value.
    timestamp : datetime
        The parsed instant, timezone-aware UTC.
    mode, id : str or None
        Mode slug and task id / category (``None`` for memory-bank forms).
    summary : str
        Inline text after ``:`` (or the memory-bank text / date-heading
        title), ``''`` if none.
    body : list of str
        Body lines as written, without terminators.
    section : str or None
        Title of the enclosing ``# `` section, ``None`` before the first one.
    """

    model_config = ConfigDict(frozen=True)

    line: int
    end_line: int
    form: Literal["heading", "line", "membank", "date_heading"]
    timestamp_raw: str
    timestamp: datetime
    mode: str | None
    id: str | None
    summary: str
    body: list[str]
    section: str | None


class MemorySection(BaseModel):
    """A top-level ``# `` section: its heading line, last line and title."""

    model_config = ConfigDict(frozen=True)

    line: int
    end_line: int
    title: str


class MemoryEntries(Sequence[MemoryEntry]):
    """The entries of a memory log, made from :class:`~orchestrator_gui.formats.memory_scan.MemoryColumns` on access.

    Behaves as a read-only list. A log of 300 000 entries would hold some
    250 MB of models; here an entry is made when it is read. An entry got by
    index (or :meth:`at_line`) is kept, so asking again gives the same
    object; iterating makes fresh ones and keeps none.
    """

    def __init__(self, cols: MemoryColumns, table: LineTable) -> None:
        self._cols = cols
        self._table = table
        self._kept: dict[int, MemoryEntry] = {}

    def __len__(self) -> int:
        return len(self._cols)

    @overload
    def __getitem__(self, k: int) -> MemoryEntry: ...

    @overload
    def __getitem__(self, k: slice) -> list[MemoryEntry]: ...

    def __getitem__(self, k: int | slice) -> MemoryEntry | list[MemoryEntry]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError("entry index out of range")
        e = self._kept.get(k)
        if e is None:
            e = self._kept[k] = self._make(k)
        return e

    def __iter__(self) -> Iterator[MemoryEntry]:
        kept = self._kept
        for k in range(len(self)):
            e = kept.get(k)
            yield e if e is not None else self._make(k)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (MemoryEntries, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MemoryEntries({len(self)} entries)"

    def index_at(self, line: int) -> int | None:
        """Index of the entry whose first line is ``line``, or None."""
        lines = self._cols.line
        k = bisect.bisect_left(lines, line)
        return k if k < len(lines) and lines[k] == line else None

    def count_after(self, line: int) -> int:
        """How many entries start after ``line``."""
        return len(self._cols.line) - bisect.bisect_right(self._cols.line, line)

    def body(self, k: int) -> list[str]:
        """``self[k].body`` without making the entry: the body lines of entry ``k`` (no terminators)."""
        line, end = self._cols.line[k], self._cols.end_line[k]
        return list(iter_contents(self._table, line, end)) if end > line else []

    def _make(self, k: int) -> MemoryEntry:
        c = self._cols
        line, end = c.line[k], c.end_line[k]
        raw = c.timestamp_raw[k]
        # Built without validation: every value was typed by the scanner, which also
        # checked that the timestamp parses.
        return construct_unchecked(MemoryEntry, {
            "line": line, "end_line": end, "form": FORMS[c.form[k]], "timestamp_raw": raw,
            "timestamp": parse_timestamp(raw), "mode": c.mode[k], "id": c.id[k], "summary": c.summary[k],
            "body": self.body(k), "section": c.section[k],
        })
