"""Line-based scanner for ``TODO.md`` checklists (docs/formats.md §2.3).

The scanner reads a Markdown checklist line by line, in one pass, and finds
checkbox items, headings and the detail lines that belong to each item. It
is deliberately *not* a CommonMark parser: real TODO files contain bare
``[x] text`` lines, multi-box ``- [x][x][-]`` items and fenced blocks glued to
an item, which a CommonMark AST would merge into paragraphs or cut off.

Nothing here changes text; :mod:`orchestrator_gui.formats.todo` builds the
editor on top of the line numbers reported here.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np

from orchestrator_gui.formats.fileio import split_lines, strip_terminator, terminator  # noqa: F401 - re-exported
from orchestrator_gui.formats.todo_lines import LineTable

#: ``indent, bullet, bullet_sep, boxes, text_sep, rest`` of an item line.
ITEM_RE = re.compile(
    r"([ \t]*)(?:([-*+]|\d{1,9}[.)])([ \t]+))?((?:\[[ xX*~\-]\])+)(?:([ \t]+)(.*))?",
    re.DOTALL,
)
HEADING_RE = re.compile(r"(#{1,6})(?:[ \t]+(.*))?", re.DOTALL)
# docs/formats.md §2.3 allows 0-3 spaces before a fence; a fence inside an item's
# details is indented further (relative to the item it is at 0-3), so any
# indentation opens one here.
FENCE_OPEN_RE = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)", re.DOTALL)
FENCE_CLOSE_RE = re.compile(r"[ \t]*(`{3,}|~{3,})[ \t]*")




def leading_ws(content: str) -> str:
    """Return the run of spaces and tabs at the start of ``content``."""
    return content[: len(content) - len(content.lstrip(" \t"))]


def indent_width(ws: str) -> int:
    """Return the column width of leading whitespace (tab stops every 4 columns)."""
    col = 0
    for ch in ws:
        col = col + 4 - col % 4 if ch == "\t" else col + 1
    return col


def is_blank(content: str) -> bool:
    """Whether a line (without terminator) holds only spaces, tabs or a stray CR."""
    return not content.strip(" \t\r")


@dataclass
class ScannedItem:
    """Scan record of one checkbox item (internal; built on demand from :class:`TodoParse` columns)."""

    index: int
    line: int
    indent: str
    width: int
    bullet: str | None
    boxes: str
    text: str
    section: str | None
    depth: int
    parent: int | None
    details: list[str] = field(default_factory=list)
    detail_lines: list[int] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    own_last: int = 0
    end_line: int = 0

    @property
    def marker(self) -> str:
        return self.boxes[1]


@dataclass
class ScannedHeading:
    """A heading outside code, comments and front matter (internal)."""

    line: int
    level: int
    text: str


class ItemColumns:
    """The scanner's items as columns: one entry per item, in file order.

    A million-line checklist holds close to a million items; one Python
    object per item (with its lists) costs some 300 bytes and a microsecond
    or two to build, so the scanner stores plain columns and
    :class:`ScannedItem` records are made only for the items asked for.

    Attributes
    ----------
    line, width, parent, depth, own_last, end_line, section : array of int
        Per item; ``parent`` and ``section`` are -1 for none (``section``
        indexes :attr:`TodoParse.headings`).
    indent, bullet, boxes : list of str
        Per item (short repeated strings are shared).
    text : sequence of str
        Per item; the scanner gives a :class:`~orchestrator_gui.formats.todo_lines.LazyStrings`
        (each title is cut from the file's text when it is read).
    detail_owner, detail_line : array of int
        One entry per detail line, in file order: the owning item and the line.
    detail_text : sequence of str
        The detail lines' content, without terminators (lazy too).
    """

    def __init__(self) -> None:
        self.line = array("i")
        self.width = array("i")
        self.parent = array("i")
        self.depth = array("i")
        self.own_last = array("i")
        self.end_line = array("i")
        self.section = array("i")
        self.indent: list[str] = []
        self.bullet: list[str | None] = []
        self.boxes: list[str] = []
        self.text: Sequence[str] = []
        self.detail_owner = array("i")
        self.detail_line = array("i")
        self.detail_text: Sequence[str] = []
        self._details: tuple[np.ndarray, np.ndarray] | None = None
        self._children: tuple[np.ndarray, np.ndarray] | None = None
        self._owners: set[int] | None = None

    def __len__(self) -> int:
        return len(self.line)

    def owners(self) -> set[int]:
        """Indices of the items that have detail lines."""
        if self._owners is None:
            self._owners = set(self.detail_owner)
        return self._owners

    def detail_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Detail rows grouped by item: item ``k``'s rows are ``order[bounds[k]:bounds[k + 1]]``, in file order."""
        if self._details is None:
            owner = np.frombuffer(self.detail_owner, dtype=np.int32) if len(self.detail_owner) else \
                np.zeros(0, dtype=np.int32)
            order = np.argsort(owner, kind="stable").astype(np.int32)
            self._details = (order, np.searchsorted(owner[order], np.arange(len(self) + 1, dtype=np.int32))
                             .astype(np.int32))
        return self._details

    def details_of(self, k: int) -> tuple[list[str], list[int]]:
        """The detail lines of item ``k`` (contents and line numbers), in file order."""
        order, bounds = self.detail_order()
        rows = order[bounds[k]:bounds[k + 1]].tolist()
        return [self.detail_text[r] for r in rows], [self.detail_line[r] for r in rows]

    def children_of(self, k: int) -> list[int]:
        """Indices of the items whose parent is item ``k``, in file order."""
        if self._children is None:
            parent = np.frombuffer(self.parent, dtype=np.int32) if len(self) else np.zeros(0, dtype=np.int32)
            order = np.argsort(parent, kind="stable").astype(np.int32)
            self._children = (order, np.searchsorted(parent[order], np.arange(-1, len(self) + 1, dtype=np.int32))
                              .astype(np.int32))
        order, bounds = self._children
        return order[bounds[k + 1]:bounds[k + 2]].tolist()


class ScannedItems(Sequence[ScannedItem]):
    """A read-only sequence of :class:`ScannedItem` made from :class:`ItemColumns` on access."""

    def __init__(self, cols: ItemColumns, headings: list[ScannedHeading]) -> None:
        self._cols = cols
        self._headings = headings

    def __len__(self) -> int:
        return len(self._cols)

    @overload
    def __getitem__(self, k: int) -> ScannedItem: ...

    @overload
    def __getitem__(self, k: slice) -> list[ScannedItem]: ...

    def __getitem__(self, k: int | slice) -> ScannedItem | list[ScannedItem]:
        if isinstance(k, slice):
            return [self._make(i) for i in range(*k.indices(len(self)))]
        n = len(self._cols)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError("item index out of range")
        return self._make(k)

    def __iter__(self) -> Iterator[ScannedItem]:
        for k in range(len(self._cols)):
            yield self._make(k)

    def _make(self, k: int) -> ScannedItem:
        c = self._cols
        parent, section = c.parent[k], c.section[k]
        details, detail_lines = c.details_of(k)
        return ScannedItem(
            index=k, line=c.line[k], indent=c.indent[k], width=c.width[k], bullet=c.bullet[k],
            boxes=c.boxes[k], text=c.text[k], section=self._headings[section].text if section >= 0 else None,
            depth=c.depth[k], parent=parent if parent >= 0 else None, details=details,
            detail_lines=detail_lines, children=c.children_of(k), own_last=c.own_last[k],
            end_line=c.end_line[k],
        )


class TodoParse:
    """Result of :func:`scan_todo`.

    Attributes
    ----------
    text : str
        The scanned text.
    lines : list of str
        The text split into lines, each keeping its terminator (made on first use).
    items : sequence of ScannedItem
        Checkbox items in file order (records made on access from :attr:`cols`).
    cols : ItemColumns
        The items as columns, for whole-file passes.
    headings : list of ScannedHeading
        Headings in file order.
    notes : list of tuple
        ``(line, severity, message)`` findings of the scan itself
        (unclosed fences or comments, details that look misplaced).
    line_count : int
        Number of lines.
    table : LineTable
        Byte offsets of the lines (:mod:`orchestrator_gui.formats.todo_lines`).
    blank : ndarray of bool
        Whether each line is blank (only spaces, tabs or stray CRs).
    """

    def __init__(self, cols: ItemColumns, headings: list[ScannedHeading], notes: list[tuple[int, str, str]],
                 line_count: int, table: LineTable, blank: np.ndarray) -> None:
        self.cols = cols
        self.headings = headings
        self.notes = notes
        self.line_count = line_count
        self.items = ScannedItems(cols, headings)
        self.table = table
        self.blank = blank
        self._lines: list[str] | None = None
        self._blank_sum: np.ndarray | None = None

    @property
    def text(self) -> str:
        """The scanned text (as edited by :meth:`set_marker`)."""
        return self.table.text

    @property
    def lines(self) -> list[str]:
        """Every line with its terminator (a list made on first use: a million lines cost 100 MB)."""
        if self._lines is None:
            self._lines = split_lines_fast(self.text)
        return self._lines

    def line(self, k: int) -> str:
        """Line ``k`` (0-based) with its terminator, without making :attr:`lines`."""
        if self._lines is not None:
            return self._lines[k]
        return self.table.line(k)

    def blank_count(self, lo: np.ndarray | int, hi: np.ndarray | int) -> np.ndarray:
        """How many of the 0-based lines ``lo`` to ``hi - 1`` are blank (element-wise for arrays)."""
        if self._blank_sum is None:
            self._blank_sum = np.zeros(self.line_count + 1, dtype=np.int32)
            np.cumsum(self.blank, out=self._blank_sum[1:])
        return self._blank_sum[np.asarray(hi)] - self._blank_sum[np.asarray(lo)]

    def last_nonblank(self) -> int:
        """The 1-based number of the last line that is not blank, 0 if there is none."""
        rows = np.flatnonzero(~self.blank)
        return int(rows[-1]) + 1 if rows.size else 0

    def item_index_at(self, line: int) -> int | None:
        """Return the index of the item whose line is ``line``, or ``None``."""
        lines = self.cols.line
        lo = bisect.bisect_left(lines, line)  # items are in line order
        if lo < len(lines) and lines[lo] == line:
            return lo
        return None

    def set_marker(self, k: int, marker: str) -> None:
        """Change the first box of item ``k`` to ``marker`` (one ASCII character) in the text and the columns.

        One byte changes, so every offset stays valid: nothing is scanned again.
        """
        assert len(marker) == 1 and marker.isascii()
        line = self.cols.line[k]
        raw = self.line(line - 1)
        m = ITEM_RE.fullmatch(strip_terminator(raw))
        assert m is not None, "scanner and editor disagree on an item line"
        at = m.start(4) + 1  # everything before the box is ASCII: a byte offset in the line too
        if self._lines is not None:
            self._lines[line - 1] = raw[:at] + marker + raw[at + 1:]
        offset = int(self.table.start[line - 1]) + at
        self.table.replace_byte(offset, marker)
        boxes = self.cols.boxes[k]
        self.cols.boxes[k] = boxes[0] + marker + boxes[2:]


def heading_of(content: str) -> tuple[int, str] | None:
    """Return ``(level, text)`` if ``content`` is an ATX heading at column 0."""
    if not content.startswith("#"):
        return None
    m = HEADING_RE.fullmatch(content)
    if m is None:
        return None
    text = (m.group(2) or "").strip(" \t\r")
    if text.strip("#") == "":
        text = ""
    else:
        text = _without_closing_hashes(text)
    return len(m.group(1)), text


def _without_closing_hashes(text: str) -> str:
    # "## Title ##" -> "Title". Not a regex: r"[ \t]+#+$" retries at every blank of a long run of
    # blanks followed by text, quadratic (500k tabs inside a heading took 21 minutes; found by fuzz.py).
    body = text.rstrip("#")
    if len(body) < len(text) and body[-1:] in (" ", "\t"):
        return body.rstrip(" \t")
    return text


#: Characters other than "\n" that ``str.splitlines`` also splits on.
_OTHER_BREAKS = re.compile("\r(?!\n)|[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def split_lines_fast(text: str) -> list[str]:
    """:func:`~orchestrator_gui.formats.fileio.split_lines` at C speed.

    ``str.splitlines(keepends=True)`` splits exactly like it when the text
    has no line break other than ``\n`` and ``\r\n``, which is the rule
    for workspace files; the rare text that has one takes the slow path.
    """
    if _OTHER_BREAKS.search(text) is None:
        return text.splitlines(keepends=True)
    return split_lines(text)


def line_contents(text: str) -> tuple[list[str], int]:
    """Every line without its terminator, and the number of lines (a final ``\n`` ends the last one)."""
    contents = text.split("\n")
    count = len(contents) - 1 if text.endswith("\n") or not text else len(contents)
    if "\r" in text:
        # strip_terminator removes a "\r" only as part of "\r\n": not at the end of an unterminated last line.
        terminated = len(contents) - 1
        contents = [c[:-1] if k < terminated and c.endswith("\r") else c for k, c in enumerate(contents)]
    return contents, count


def scan_todo(text: str, raw: bytes | None = None) -> TodoParse:
    """Scan a TODO.md text (BOM already removed) in linear time.

    Parameters
    ----------
    text : str
        The decoded file content.
    raw : bytes, optional
        ``text`` encoded as UTF-8, when the caller has it (saves encoding it again).

    Returns
    -------
    TodoParse
        Lines, items, headings and scan notes.
    """
    # Imported here: the scanner builds the classes of this module (a top-level import would be circular).
    from orchestrator_gui.formats.todo_scan import scan

    return scan(text, raw)
