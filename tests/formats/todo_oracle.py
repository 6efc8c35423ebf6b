"""The TODO.md scanner as it was before it stored its items as columns: the oracle of test_todo_columns.

One object per item, built in one pass; kept verbatim (only renamed) so that
the columnar scanner can be checked against it on any input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator_gui.formats.fileio import split_lines, strip_terminator
from orchestrator_gui.formats.todo_parse import _CLOSING_HASHES_RE, FENCE_CLOSE_RE, FENCE_OPEN_RE, HEADING_RE, ITEM_RE


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
    """Mutable scan record of one checkbox item (internal)."""

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


@dataclass
class OracleParse:
    """Result of :func:`scan_todo`.

    Attributes
    ----------
    lines : list of str
        The text split into lines, each keeping its terminator.
    items : list of ScannedItem
        Checkbox items in file order.
    headings : list of ScannedHeading
        Headings in file order.
    notes : list of tuple
        ``(line, severity, message)`` findings of the scan itself
        (unclosed fences or comments, details that look misplaced).
    """

    lines: list[str]
    items: list[ScannedItem]
    headings: list[ScannedHeading]
    notes: list[tuple[int, str, str]]

    def item_index_at(self, line: int) -> int | None:
        """Return the index of the item whose line is ``line``, or ``None``."""
        lo, hi = 0, len(self.items)
        while lo < hi:  # items are in line order
            mid = (lo + hi) // 2
            if self.items[mid].line < line:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self.items) and self.items[lo].line == line:
            return lo
        return None


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


def _front_matter_end(lines: list[str]) -> int:
    """Return the 0-based index of the closing ``---`` of YAML front matter, or -1."""
    if not lines or strip_terminator(lines[0]).rstrip(" \t\r") != "---":
        return -1
    for j in range(1, len(lines)):
        if strip_terminator(lines[j]).rstrip(" \t\r") in ("---", "..."):
            return j
    return -1  # never closed: a thematic break, not front matter


@dataclass
class _Block:
    """An open fenced code block or multi-line HTML comment."""

    kind: str  # "fence" or "comment"
    line: int
    owner: ScannedItem | None
    char: str = ""
    length: int = 0


def oracle_scan(text: str) -> OracleParse:
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
    lines = split_lines(text)
    items: list[ScannedItem] = []
    headings: list[ScannedHeading] = []
    notes: list[tuple[int, str, str]] = []
    stack: list[ScannedItem] = []  # open items, innermost last
    pending: list[tuple[int, str]] = []  # blank lines not yet attributed
    section: str | None = None
    block: _Block | None = None
    # After a blank line, a further run of details attached to an item that
    # already had details is suspicious (docs/formats.md §2.3, e0af0f6f 62-64):
    # (item index, position of the run's first line in its details).
    runs: list[tuple[int, int]] = []

    def attach(owner: ScannedItem, ln: int, content: str) -> None:
        owner.details.append(content)
        owner.detail_lines.append(ln)
        owner.own_last = ln

    def attach_detail(ln: int, content: str, width: int) -> ScannedItem | None:
        while stack and stack[-1].width >= width:
            stack.pop()
        owner = stack[-1] if stack else None
        if owner is not None:
            suspicious = bool(pending) and owner.own_last > owner.line
            for bln, bcontent in pending:
                attach(owner, bln, bcontent)
            if suspicious:
                runs.append((owner.index, len(owner.details)))
            attach(owner, ln, content)
        pending.clear()
        return owner

    fm_end = _front_matter_end(lines)
    for i in range(fm_end + 1, len(lines)):
        ln = i + 1
        content = strip_terminator(lines[i])
        if block is not None:
            if block.owner is not None:
                attach(block.owner, ln, content)
            if block.kind == "fence":
                m = FENCE_CLOSE_RE.fullmatch(content)
                if m and m.group(1)[0] == block.char and len(m.group(1)) >= block.length:
                    block = None
            elif "-->" in content:
                block = None
            continue
        if is_blank(content):
            pending.append((ln, content))
            continue
        head = heading_of(content)
        if head is not None:
            headings.append(ScannedHeading(line=ln, level=head[0], text=head[1]))
            section = head[1]
            stack.clear()
            pending.clear()
            continue
        ws = leading_ws(content)
        width = indent_width(ws)
        m = ITEM_RE.fullmatch(content)
        if m is not None:
            while stack and stack[-1].width >= width:
                stack.pop()
            parent = stack[-1] if stack else None
            rest = m.group(6) or ""
            item = ScannedItem(
                index=len(items), line=ln, indent=m.group(1), width=width,
                bullet=m.group(2), boxes=m.group(4), text=rest.rstrip(" \t"),
                section=section, depth=len(stack),
                parent=parent.index if parent is not None else None, own_last=ln,
            )
            if parent is not None:
                parent.children.append(item.index)
            items.append(item)
            stack.append(item)
            pending.clear()
            continue
        fm = FENCE_OPEN_RE.fullmatch(content)
        if fm is not None and not (fm.group(1)[0] == "`" and "`" in fm.group(2)):
            # A fence right under an item's last line belongs to that item even
            # at column 0: robodog's ```knowledge blocks (docs/formats.md §6 case 12).
            if stack and not pending and width <= stack[-1].width:
                owner: ScannedItem | None = stack[-1]
                attach(stack[-1], ln, content)
            else:
                owner = attach_detail(ln, content, width)
            block = _Block("fence", ln, owner, fm.group(1)[0], len(fm.group(1)))
            continue
        stripped = content.lstrip(" \t")
        if stripped.startswith("<!--") and "-->" not in stripped[4:]:
            block = _Block("comment", ln, attach_detail(ln, content, width))
            continue
        attach_detail(ln, content, width)

    if block is not None:
        what = "code fence" if block.kind == "fence" else "HTML comment"
        notes.append((block.line, "warning",
                      f"{what} opened here is never closed; checkboxes after it are ignored"))
    # Range end = last line of the item or of any descendant; children come
    # after their parent, so one reverse pass settles it.
    for item in items:
        item.end_line = item.own_last
    for item in reversed(items):
        if item.parent is not None:
            par = items[item.parent]
            par.end_line = max(par.end_line, item.end_line)
    _describe_runs(items, runs, notes)
    notes.sort(key=lambda n: n[0])
    return OracleParse(lines=lines, items=items, headings=headings, notes=notes)


def _describe_runs(items: list[ScannedItem], runs: list[tuple[int, int]],
                   notes: list[tuple[int, str, str]]) -> None:
    """Add an info note for each run of details that follows a blank line."""
    for index, pos in runs:
        owner = items[index]
        start = end = owner.detail_lines[pos]
        k = pos + 1
        while k < len(owner.details) and not is_blank(owner.details[k]):
            end = owner.detail_lines[k]
            k += 1
        span = f"line {start}" if end == start else f"lines {start}-{end}"
        notes.append((start, "info",
                      f"detail {span} follow a blank line; by indentation they belong to "
                      f"item {owner.text!r} (line {owner.line}); check they are not meant "
                      "for another item"))
