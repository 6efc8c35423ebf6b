"""The ``persistent-memory.md`` reader's line pass, over the lines that can matter only.

docs/formats.md §3.2: a line can start an entry only when it starts with
``#`` or ``[``, be a heading only with ``#`` after at most three spaces, and
open or close code only with a fence, ``<!--`` or ``-->``. numpy finds those
lines on the file's bytes (:class:`~orchestrator_gui.formats.todo_lines.LineTable`);
the line-by-line rules then run on them alone, in file order, exactly as
they ran on every line. A log of 300 000 one-line entries still visits each
entry, but the entries are stored as columns
(:class:`MemoryColumns`) and become :class:`~orchestrator_gui.formats.memory.MemoryEntry`
models only when they are read.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from orchestrator_gui.formats.memory_syntax import (
    LINE_LEVEL,
    CodeTracker,
    EntryMatch,
    Heading,
    match_entry,
    match_heading,
)
from orchestrator_gui.formats.todo_lines import LazyStrings, LineTable

#: Entry forms by code (the ``form`` column).
FORMS = ("heading", "line", "membank", "date_heading")
_FORM_CODE = {f: k for k, f in enumerate(FORMS)}


@dataclass
class MemoryColumns:
    """The entries of a memory log as columns, one entry per position, in file order.

    Attributes
    ----------
    line, end_line : array of int
        1-based first and last line (trailing blank lines not included).
    form : bytearray
        Index into :data:`FORMS`.
    level : bytearray
        Heading level of the entry (7 for one-line forms).
    timestamp_raw, summary : list of str
        As written.
    mode, id : list of str or None
        Shared strings (a log repeats them).
    section : list of str or None
        Title of the enclosing ``#`` section.
    stamp : array of float
        The parsed timestamp in Unix seconds (``MemoryEntry.timestamp.timestamp()``).
    """

    line: array = field(default_factory=lambda: array("i"))
    end_line: array = field(default_factory=lambda: array("i"))
    form: bytearray = field(default_factory=bytearray)
    level: bytearray = field(default_factory=bytearray)
    timestamp_raw: list[str] = field(default_factory=list)
    mode: list[str | None] = field(default_factory=list)
    id: list[str | None] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    section: list[str | None] = field(default_factory=list)
    stamp: array = field(default_factory=lambda: array("d"))

    def __len__(self) -> int:
        return len(self.line)


@dataclass
class MemoryScan:
    """Result of :func:`scan_memory`."""

    entries: MemoryColumns
    #: ``(line, end_line, title)`` of each top-level section.
    sections: list[tuple[int, int, str]]
    #: ``(line, message)`` of each line that looks like an entry but is not one.
    rejected: list[tuple[int, str]]
    #: ``"fence"``/``"comment"`` when the file ends inside one, with the line it opened on.
    open_code: str | None
    open_line: int | None
    line_count: int
    table: LineTable


def _candidates(t: LineTable) -> tuple[np.ndarray, np.ndarray]:
    """Lines that can start an entry or a heading, and lines that can open or close code (0-based)."""
    a, start, first, cend = t.a, t.start, t.first, t.content_end
    c0 = t.first_byte()
    indent = first - start
    # Entries start at column 0 with "#" or "["; headings have "#" after up to three spaces
    # (match_heading looks for "#" in the first four characters).
    lead = np.zeros(t.count, dtype=np.uint8)
    has = np.flatnonzero(cend > start)
    lead[has] = a[start[has]]
    entry = (lead == 35) | (lead == 91) | ((c0 == 35) & (indent <= 3) & (lead == 32))
    # Fences: the first non-blank bytes are three backticks or tildes. Comments: "<!--" after up to
    # three spaces. Closing a comment: "-->" anywhere.
    code = np.zeros(t.count, dtype=bool)
    f = np.flatnonzero(((c0 == 96) | (c0 == 126)) & (first + 3 <= cend))
    if f.size:
        s = first[f]
        code[f[(a[s + 1] == a[s]) & (a[s + 2] == a[s])]] = True
    c = np.flatnonzero((c0 == 60) & (indent <= 3) & (first + 4 <= cend))
    if c.size:
        s = first[c]
        code[c[(a[s + 1] == 33) & (a[s + 2] == 45) & (a[s + 3] == 45)]] = True
    if b"-->" in t.raw:
        dash = np.flatnonzero(a[:-2] == 45)
        hits = dash[(a[dash + 1] == 45) & (a[dash + 2] == 62)]
        code[np.searchsorted(start, hits, side="right") - 1] = True
    return entry, code


def scan_memory(text: str, raw: bytes | None = None) -> MemoryScan:
    """Run the §3.2 line rules over ``text`` (BOM removed); ``raw`` may give its UTF-8 bytes.

    Returns
    -------
    MemoryScan
        Entries as columns, sections, rejected look-alike lines and the code state at the end.
    """
    t = LineTable(text, raw)
    entry_cand, code_cand = _candidates(t)
    visit = np.flatnonzero(entry_cand | code_cand)
    cols = MemoryColumns()
    sections: list[tuple[int, int, str]] = []
    rejected: list[tuple[int, str]] = []
    code = CodeTracker()
    feed = code.feed
    shared: Any = {}.setdefault
    section_title: str | None = None
    section_start = 0
    # The entry being read: (index of its first line, level, match, section).
    open_entry: tuple[int, int, EntryMatch, str | None] | None = None
    add_line, add_form, add_level = cols.line.append, cols.form.append, cols.level.append
    add_ts, add_mode, add_id = cols.timestamp_raw.append, cols.mode.append, cols.id.append
    add_summary, add_section, add_stamp = cols.summary.append, cols.section.append, cols.stamp.append

    ends: list[int] = []  # (index of the line after the entry) per entry; trimmed at the end

    lines = LazyStrings(t, t.start[visit], t.content_end[visit])
    is_code = code_cand[visit].tolist()
    for i, s, maybe_code in zip(visit.tolist(), lines, is_code, strict=True):
        # The tracker sees every line that can change its state; any other line inside code is code.
        if code.kind is not None:
            if maybe_code:
                feed(s, i + 1)
            continue
        if maybe_code and ("`" in s or "~" in s or "<!--" in s[:7]) and feed(s, i + 1):
            continue
        if s[0] in "#[":
            em, why = match_entry(s)
            if em is not None:
                if open_entry is not None:
                    ends.append(i)
                open_entry = (i, em.level, em, section_title)
                # The entry's columns (written out here, not in a helper: once per entry of a log of 10^5).
                add_line(i + 1)
                add_form(_FORM_CODE[em.form])
                add_level(em.level)
                add_ts(em.timestamp_raw)
                add_mode(shared(em.mode, em.mode))
                add_id(shared(em.id, em.id))
                summary = em.summary
                add_summary(summary if len(summary) > 32 else shared(summary, summary))
                add_section(section_title)
                ts = em.timestamp  # match_entry returns an entry only when its timestamp parsed
                add_stamp(ts.timestamp() if ts is not None else math.nan)
                continue
            if why is not None:
                rejected.append((i + 1, why))
        h: Heading | None = match_heading(s)
        if h is None:
            continue
        if open_entry is not None and h.level <= open_entry[1]:
            ends.append(i)
            open_entry = None
        if h.level == 1:
            if section_title is not None:
                sections.append((section_start + 1, i, section_title))
            section_title, section_start = h.title, i
    if open_entry is not None:
        ends.append(t.count)
    if section_title is not None:
        sections.append((section_start + 1, t.count, section_title))
    cols.end_line = _trim(t, cols.line, ends)
    return MemoryScan(cols, sections, rejected, code.kind, code.open_line, t.count, t)


@dataclass
class MemoryTail:
    """What an appended entry depends on: the code state at the end of the file, and its last section."""

    open_code: str | None
    open_line: int | None
    section: str | None
    line_count: int


def scan_tail(text: str, raw: bytes | None = None) -> MemoryTail:
    """The state at the end of ``text`` (BOM removed) that decides how an entry appended to it reads.

    Only lines that can open or close code and level-1 headings are looked at
    (an entry line changes neither), so this is far cheaper than
    :func:`scan_memory` and gives the same code state and section.
    """
    t = LineTable(text, raw)
    _, code_cand = _candidates(t)
    c0 = t.first_byte()
    a, first, cend = t.a, t.first, t.content_end
    # A level-1 heading: one "#" after up to three spaces, then a blank or the end of the line.
    h = np.flatnonzero((c0 == 35) & (first - t.start <= 3))
    if h.size:
        nxt = np.minimum(first[h] + 1, len(a) - 1)
        h = h[(first[h] + 1 == cend[h]) | ((first[h] + 1 < cend[h]) & ((a[nxt] == 32) | (a[nxt] == 9)))]
    head = np.zeros(t.count, dtype=bool)
    head[h] = True
    visit = np.flatnonzero(code_cand | head)
    code = CodeTracker()
    feed = code.feed
    section: str | None = None
    lines = LazyStrings(t, t.start[visit], t.content_end[visit])
    for i, s, maybe_code in zip(visit.tolist(), lines, code_cand[visit].tolist(), strict=True):
        if code.kind is not None:
            if maybe_code:
                feed(s, i + 1)
            continue
        if maybe_code and ("`" in s or "~" in s or "<!--" in s[:7]) and feed(s, i + 1):
            continue
        heading = match_heading(s)
        if heading is not None and heading.level == 1:
            section = heading.title
    return MemoryTail(code.kind, code.open_line, section, t.count)


def _trim(t: LineTable, first: array, stops: list[int]) -> array:
    """Each entry's last line: the line before ``stop``, moved up over blank lines (not past the first)."""
    if not stops:
        return array("i")
    start = np.frombuffer(first, dtype=np.int32).astype(np.int64) - 1
    end = np.asarray(stops, dtype=np.int64) - 1
    # A line whose first non-blank byte is printable ASCII is not blank; the rest are judged by
    # str.strip's whitespace, as the line-by-line reader judged them.
    c0 = t.first_byte()
    solid = (c0 >= 0x21) & (c0 <= 0x7E)
    walk = np.flatnonzero(end > start)
    walk = walk[~solid[end[walk]]]
    for k in walk.tolist():
        s, e = int(start[k]), int(end[k])
        while e > s and not t.content(e).strip():
            e -= 1
        end[k] = e
    return array("i", (end + 1).astype(np.int32).tobytes())


def iter_contents(t: LineTable, lo: int, hi: int) -> Iterator[str]:
    """Lines ``lo`` to ``hi - 1`` (0-based) without terminators."""
    return iter(LazyStrings(t, t.start[lo:hi], t.content_end[lo:hi]))


__all__ = [
    "FORMS", "LINE_LEVEL", "MemoryColumns", "MemoryScan", "MemoryTail", "iter_contents", "scan_memory", "scan_tail",
]
