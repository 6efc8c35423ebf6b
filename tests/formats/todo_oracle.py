"""The TODO.md scanner as it was before it stored its items as columns: the oracle of test_todo_columns.

One object per item, built in one pass; kept verbatim (only renamed) so that
the columnar scanner can be checked against it on any input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from orchestrator_gui.formats.fileio import split_lines, strip_terminator
from orchestrator_gui.formats.todo_parse import FENCE_CLOSE_RE, FENCE_OPEN_RE, HEADING_RE, ITEM_RE


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
        text = re.sub(r"[ \t]+#+$", "", text)  # the rule as a regex (the reader avoids it: quadratic)
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


# ---------------------------------------------------------------------------------------------------------
# The editor as it was before it spliced text and computed slots on columns: the oracle of test_big_todo.
# add/edit/remove copied every line into rows and asked the style helpers below, which walked item records.

from orchestrator_gui.formats import todo_style as _style  # noqa: E402
from orchestrator_gui.formats.todo import TodoDocument  # noqa: E402
from orchestrator_gui.formats.todo_parse import terminator  # noqa: E402
from orchestrator_gui.problems import FormatError  # noqa: E402


def _separated(parse, a, b) -> bool:
    return any(is_blank(strip_terminator(parse.lines[k])) for k in range(a.end_line, b.line - 1))


def _blank_separated(parse, group):
    pairs = [_separated(parse, a, b) for a, b in zip(group, group[1:], strict=False)]
    if not pairs:
        return None
    yes = sum(pairs)
    if yes * 2 == len(pairs):
        return pairs[-1]
    return yes * 2 > len(pairs)


def _document_blank_separated(parse) -> bool:
    votes = total = 0
    groups: dict = {}
    for it in parse.items:
        if it.parent is None:
            groups.setdefault(it.section, []).append(it)
    for group in groups.values():
        for a, b in zip(group, group[1:], strict=False):
            votes += _separated(parse, a, b)
            total += 1
    return total > 0 and votes * 2 > total


def _blank_after_heading(parse) -> bool:
    yes = no = 0
    k = 0
    for h in parse.headings:
        while k < len(parse.items) and parse.items[k].line <= h.line:
            k += 1
        if k == len(parse.items):
            break
        first = parse.items[k]
        if all(is_blank(strip_terminator(parse.lines[j])) for j in range(h.line, first.line - 1)):
            if first.line == h.line + 1:
                no += 1
            else:
                yes += 1
    return yes >= no


def _section_slot(parse, section, name):
    heads = parse.headings
    match = next((h for h in heads if h.text == section), None)
    if match is None:
        folded = section.strip().casefold()
        match = next((h for h in heads if h.text.casefold() == folded), None)
    if match is None:
        raise FormatError(name, f"no heading {section!r} in the file")
    nxt = next((h.line for h in heads if h.line > match.line), len(parse.lines) + 1)
    last = match.line
    for k in range(match.line, nxt - 1):
        if not is_blank(strip_terminator(parse.lines[k])):
            last = k + 1
    return _slot_after(parse, last, (match.line, nxt))


def _slot_after(parse, last, bounds):
    tops = [it for it in parse.items if it.parent is None]
    if bounds is not None:
        group = [it for it in tops if bounds[0] < it.line < bounds[1]]
    elif tops:
        head = max((h.line for h in parse.headings if h.line < tops[-1].line), default=0)
        group = [it for it in tops if it.line > head]
    else:
        group = []
    if group and bounds is not None:
        last = group[-1].end_line
    model = group[-1] if group else (tops[-1] if tops else None)
    style = _style.style_of(parse, model) if model is not None else _style.DEFAULT_STYLE
    if last == 0:
        return 0, style, False
    if group and last == group[-1].end_line:
        sep = _blank_separated(parse, group)
        blank = _document_blank_separated(parse) if sep is None else sep
    elif any(h.line == last for h in parse.headings):
        blank = _blank_after_heading(parse)
    else:
        blank = True
    return last, style, blank


class OracleDocument(TodoDocument):
    """TodoDocument with add, edit and remove as they were (rows of every line, item-record style helpers)."""

    def add(self, text, *, section=None, under=None):
        self._check_title(text)
        if section is not None and under is not None:
            raise FormatError(self.name, "give either a section or a parent item, not both")
        parse = self._parse
        expect_parent = None
        if under is not None:
            parent = self._scanned(under)
            style = _style.child_style(parse, parent)
            kids = [parse.items[k] for k in parent.children]
            blank = bool(_blank_separated(parse, kids)) if len(kids) > 1 else False
            after = parent.end_line
            expect_parent = parent.line
        elif section is not None:
            after, style, blank = _section_slot(parse, section, self.name)
        else:
            after = max((k + 1 for k, ln in enumerate(parse.lines) if not is_blank(strip_terminator(ln))), default=0)
            after, style, blank = _slot_after(parse, after, None)
        rows = self._rows()
        new_rows = [self._new_row("")] if blank else []
        new_rows.append(self._new_row(style.render(text)))
        rows[after:after] = new_rows
        new_line = after + len(new_rows)

        def verify():
            k = self._parse.item_index_at(new_line)
            if k is None:
                return "the new item would not be recognised there (inside a code block or comment?)"
            if under is not None and self.items[k].parent_line != expect_parent:
                return f"the new item would not nest under line {under}"
            return None

        self._commit(rows, verify)
        return new_line

    def edit(self, line, text):
        self._scanned(line)
        self._check_title(text, line)
        raw = self._parse.lines[line - 1]
        content = strip_terminator(raw)
        m = ITEM_RE.fullmatch(content)
        rest = m.group(6) or ""
        if m.group(5) is None:
            new = content + " " + text
        else:
            title = rest.rstrip(" \t")
            new = content[: m.start(6)] + text + rest[len(title):]
        rows = self._rows()
        rows[line - 1][1] = new + terminator(raw)
        self._commit(rows, lambda: None if self._parse.item_index_at(line) is not None
                     else "the edited title would no longer be a TODO item")

    def remove(self, line):
        it = self._scanned(line)
        rows = self._rows()
        del rows[it.line - 1: it.end_line]
        self._close_gap(rows, it.line - 1)
        self._commit(rows)
