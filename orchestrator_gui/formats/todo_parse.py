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
_CLOSING_HASHES_RE = re.compile(r"[ \t]+#+$")




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
    indent, bullet, boxes, text : list of str
        Per item (short repeated strings are shared).
    detail_owner, detail_line : array of int
        One entry per detail line, in file order: the owning item and the line.
    detail_text : list of str
        The detail lines' content, without terminators.
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
        self.text: list[str] = []
        self.detail_owner = array("i")
        self.detail_line = array("i")
        self.detail_text: list[str] = []
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

    def details_of(self, k: int) -> tuple[list[str], list[int]]:
        """The detail lines of item ``k`` (contents and line numbers), in file order."""
        if self._details is None:
            owner = np.frombuffer(self.detail_owner, dtype=np.int32) if len(self.detail_owner) else \
                np.zeros(0, dtype=np.int32)
            order = np.argsort(owner, kind="stable")
            self._details = (order, np.searchsorted(owner[order], np.arange(len(self) + 1)))
        order, bounds = self._details
        rows = order[bounds[k]:bounds[k + 1]].tolist()
        return [self.detail_text[r] for r in rows], [self.detail_line[r] for r in rows]

    def children_of(self, k: int) -> list[int]:
        """Indices of the items whose parent is item ``k``, in file order."""
        if self._children is None:
            parent = np.frombuffer(self.parent, dtype=np.int32) if len(self) else np.zeros(0, dtype=np.int32)
            order = np.argsort(parent, kind="stable")
            self._children = (order, np.searchsorted(parent[order], np.arange(-1, len(self) + 1)))
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
    """

    def __init__(self, text: str, cols: ItemColumns, headings: list[ScannedHeading],
                 notes: list[tuple[int, str, str]], line_count: int, lines: list[str] | None = None) -> None:
        self.text = text
        self.cols = cols
        self.headings = headings
        self.notes = notes
        self.line_count = line_count
        self.items = ScannedItems(cols, headings)
        self._lines = lines

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines_fast(self.text)
        return self._lines

    def item_index_at(self, line: int) -> int | None:
        """Return the index of the item whose line is ``line``, or ``None``."""
        lines = self.cols.line
        lo = bisect.bisect_left(lines, line)  # items are in line order
        if lo < len(lines) and lines[lo] == line:
            return lo
        return None

    def set_marker(self, k: int, marker: str) -> None:
        """Change the first box of item ``k`` to ``marker`` in the lines, the text and the columns."""
        line = self.cols.line[k]
        lines = self.lines
        raw = lines[line - 1]
        m = ITEM_RE.fullmatch(strip_terminator(raw))
        assert m is not None, "scanner and editor disagree on an item line"
        at = m.start(4) + 1
        lines[line - 1] = raw[:at] + marker + raw[at + 1:]
        offset = sum(map(len, lines[:line - 1])) + at
        self.text = self.text[:offset] + marker + self.text[offset + 1:]
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
        text = _CLOSING_HASHES_RE.sub("", text)
    return len(m.group(1)), text


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


def _front_matter_end(contents: list[str], count: int) -> int:
    """Return the 0-based index of the closing ``---`` of YAML front matter, or -1."""
    if not count or contents[0].rstrip(" \t\r") != "---":
        return -1
    for j in range(1, count):
        if contents[j].rstrip(" \t\r") in ("---", "..."):
            return j
    return -1  # never closed: a thematic break, not front matter


@dataclass
class _Block:
    """An open fenced code block or multi-line HTML comment."""

    kind: str  # "fence" or "comment"
    line: int
    owner: int  # item index, -1 for none
    char: str = ""
    length: int = 0


def line_contents(text: str) -> tuple[list[str], int]:
    """Every line without its terminator, and the number of lines (a final ``\n`` ends the last one)."""
    contents = text.split("\n")
    count = len(contents) - 1 if text.endswith("\n") or not text else len(contents)
    if "\r" in text:
        # strip_terminator removes a "\r" only as part of "\r\n": not at the end of an unterminated last line.
        terminated = len(contents) - 1
        contents = [c[:-1] if k < terminated and c.endswith("\r") else c for k, c in enumerate(contents)]
    return contents, count


def scan_todo(text: str) -> TodoParse:
    """Scan a TODO.md text (BOM already removed) in linear time.

    Parameters
    ----------
    text : str
        The decoded file content.

    Returns
    -------
    TodoParse
        Lines, items, headings and scan notes.
    """
    contents, count = line_contents(text)
    cols = ItemColumns()
    headings: list[ScannedHeading] = []
    notes: list[tuple[int, str, str]] = []
    # Open items, innermost last, and their widths (kept apart: compared on every line).
    stack: list[int] = []
    stack_w: list[int] = []
    pending: list[tuple[int, str]] = []  # blank lines not yet attributed
    section = -1
    block: _Block | None = None
    # After a blank line, a further run of details attached to an item that
    # already had details is suspicious (docs/formats.md §2.3, e0af0f6f 62-64):
    # (item index, position of the run's first line in its details).
    runs: list[tuple[int, int]] = []
    n_details: dict[int, int] = {}
    memo: dict[str | None, str | None] = {}
    item_match = ITEM_RE.fullmatch
    it_line, it_own_last = cols.line, cols.own_last
    # Bound once: the loop below runs once per line of files with a million lines.
    add_line, add_last, add_width = it_line.append, it_own_last.append, cols.width.append
    add_parent, add_depth, add_section = cols.parent.append, cols.depth.append, cols.section.append
    add_indent, add_bullet, add_boxes, add_text = (cols.indent.append, cols.bullet.append, cols.boxes.append,
                                                   cols.text.append)
    shared = memo.setdefault
    det_owner, det_line, det_text = cols.detail_owner, cols.detail_line, cols.detail_text

    def attach(owner: int, ln: int, content: str) -> None:
        det_owner.append(owner)
        det_line.append(ln)
        det_text.append(content)
        n_details[owner] = n_details.get(owner, 0) + 1
        it_own_last[owner] = ln

    def attach_detail(ln: int, content: str, width: int) -> int:
        while stack_w and stack_w[-1] >= width:
            stack.pop()
            stack_w.pop()
        owner = stack[-1] if stack else -1
        if owner >= 0:
            suspicious = bool(pending) and it_own_last[owner] > it_line[owner]
            for bln, bcontent in pending:
                attach(owner, bln, bcontent)
            if suspicious:
                runs.append((owner, n_details.get(owner, 0)))
            attach(owner, ln, content)
        pending.clear()
        return owner

    for i in range(_front_matter_end(contents, count) + 1, count):
        ln = i + 1
        content = contents[i]
        if block is not None:
            if block.owner >= 0:
                attach(block.owner, ln, content)
            if block.kind == "fence":
                m = FENCE_CLOSE_RE.fullmatch(content)
                if m and m.group(1)[0] == block.char and len(m.group(1)) >= block.length:
                    block = None
            elif "-->" in content:
                block = None
            continue
        stripped = content.lstrip(" \t")
        # Blank: only spaces, tabs and stray CRs (the second test runs only for a line starting with CR).
        if not stripped or (stripped[0] == "\r" and not stripped.strip(" \t\r")):
            pending.append((ln, content))
            continue
        if content[0] == "#":
            head = heading_of(content)
            if head is not None:
                headings.append(ScannedHeading(line=ln, level=head[0], text=head[1]))
                section = len(headings) - 1
                stack.clear()
                stack_w.clear()
                pending.clear()
                continue
        n_ws = len(content) - len(stripped)
        width = n_ws if n_ws == 0 or "\t" not in content[:n_ws] else indent_width(content[:n_ws])
        m = item_match(content)
        if m is not None:
            while stack_w and stack_w[-1] >= width:
                stack.pop()
                stack_w.pop()
            indent, bullet, _, boxes, _, rest = m.groups()
            k = len(it_line)
            add_line(ln)
            add_last(ln)
            add_width(width)
            add_parent(stack[-1] if stack else -1)
            add_depth(len(stack))
            add_section(section)
            add_indent(shared(indent, indent))
            add_bullet(shared(bullet, bullet))
            add_boxes(shared(boxes, boxes))
            add_text(rest.rstrip(" \t") if rest else "")
            stack.append(k)
            stack_w.append(width)
            pending.clear()
            continue
        if "`" in stripped or "~" in stripped:
            fm = FENCE_OPEN_RE.fullmatch(content)
            if fm is not None and not (fm.group(1)[0] == "`" and "`" in fm.group(2)):
                # A fence right under an item's last line belongs to that item even
                # at column 0: robodog's ```knowledge blocks (docs/formats.md §6 case 12).
                if stack and not pending and width <= stack_w[-1]:
                    owner = stack[-1]
                    attach(owner, ln, content)
                else:
                    owner = attach_detail(ln, content, width)
                block = _Block("fence", ln, owner, fm.group(1)[0], len(fm.group(1)))
                continue
        if stripped.startswith("<!--") and "-->" not in stripped[4:]:
            block = _Block("comment", ln, attach_detail(ln, content, width))
            continue
        attach_detail(ln, content, width)

    if block is not None:
        what = "code fence" if block.kind == "fence" else "HTML comment"
        notes.append((block.line, "warning",
                      f"{what} opened here is never closed; checkboxes after it are ignored"))
    _settle_ranges(cols)
    _describe_runs(cols, runs, notes)
    notes.sort(key=lambda n: n[0])
    return TodoParse(text, cols, headings, notes, count)


def _settle_ranges(cols: ItemColumns) -> None:
    """Range end = last line of the item or of any descendant (children come after their parent)."""
    n = len(cols)
    if not n:
        return
    end = np.frombuffer(cols.own_last, dtype=np.int32).copy()
    parent = np.frombuffer(cols.parent, dtype=np.int32)
    depth = np.frombuffer(cols.depth, dtype=np.int32)
    # Deepest level first: each level hands its (already final) ends up to its parents.
    order = np.argsort(-depth, kind="stable")
    levels = depth[order]
    cuts = np.flatnonzero(np.diff(levels)) + 1
    for rows in np.split(order, cuts):
        rows = rows[parent[rows] >= 0]
        if len(rows):
            np.maximum.at(end, parent[rows], end[rows])
    cols.end_line = array("i", end.astype(np.int32).tobytes())


def _describe_runs(cols: ItemColumns, runs: list[tuple[int, int]],
                   notes: list[tuple[int, str, str]]) -> None:
    """Add an info note for each run of details that follows a blank line."""
    for index, pos in runs:
        details, detail_lines = cols.details_of(index)
        start = end = detail_lines[pos]
        k = pos + 1
        while k < len(details) and not is_blank(details[k]):
            end = detail_lines[k]
            k += 1
        span = f"line {start}" if end == start else f"lines {start}-{end}"
        notes.append((start, "info",
                      f"detail {span} follow a blank line; by indentation they belong to "
                      f"item {cols.text[index]!r} (line {cols.line[index]}); check they are not meant "
                      "for another item"))
