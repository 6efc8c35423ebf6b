"""Style helpers for the TODO.md editor: copying a sibling's look, re-indenting.

These functions only compute strings and indices from a :class:`TodoParse`;
:class:`orchestrator_gui.formats.todo.TodoDocument` applies them. Keeping the
"what would a person have typed here" rules in one place makes them easy to
test and to explain (docs/formats.md §2.4: copy the sibling's bullet or bare
style, indentation characters and blank-line separation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestrator_gui.formats.todo_parse import (
    ITEM_RE,
    ScannedItem,
    TodoParse,
    indent_width,
    is_blank,
    leading_ws,
    strip_terminator,
)
from orchestrator_gui.problems import FormatError


@dataclass(frozen=True)
class ItemStyle:
    """How a new item line is written: everything except the title."""

    indent: str = ""
    bullet: str | None = "-"
    bullet_sep: str = " "
    boxes: int = 1
    text_sep: str = " "

    def render(self, text: str) -> str:
        """Return the item line (without terminator) for title ``text``."""
        head = f"{self.bullet}{self.bullet_sep}" if self.bullet is not None else ""
        return f"{self.indent}{head}{'[ ]' * self.boxes}{self.text_sep}{text}"


DEFAULT_STYLE = ItemStyle()


def next_bullet(bullet: str | None) -> str | None:
    """Return the bullet for the item after one with ``bullet`` (``3.`` -> ``4.``)."""
    if bullet is None or bullet[-1] not in ".)":
        return bullet
    return f"{int(bullet[:-1]) + 1}{bullet[-1]}"


def style_of(parse: TodoParse, item: ScannedItem, *, follow: bool = True) -> ItemStyle:
    """Return the style of ``item``'s line; ``follow`` numbers an ordered bullet on."""
    m = ITEM_RE.fullmatch(strip_terminator(parse.line(item.line - 1)))
    assert m is not None, "scanner and editor disagree on an item line"
    bullet = next_bullet(m.group(2)) if follow else m.group(2)
    text_sep = m.group(5) if m.group(5) and m.group(6) else " "
    return ItemStyle(indent=m.group(1), bullet=bullet, bullet_sep=m.group(3) or "",
                     boxes=len(m.group(4)) // 3, text_sep=text_sep)


def child_indent(parse: TodoParse, parent: ScannedItem) -> str:
    """Return the indentation characters a new child of ``parent`` should use.

    The last existing child wins; otherwise the parent's own detail lines
    (tab in older origin items, two spaces in newer ones); otherwise the
    parent's indent plus the width of its bullet, or four spaces under a
    bare ``[x]`` line (the only nesting seen in that style, makeslide 1319823e).
    """
    if parent.children:
        return parse.items[parent.children[-1]].indent
    for content in parent.details:
        if not is_blank(content):
            ws = leading_ws(content)
            if indent_width(ws) > parent.width:
                return ws
            break
    m = ITEM_RE.fullmatch(strip_terminator(parse.line(parent.line - 1)))
    assert m is not None
    if m.group(2) is None:
        return parent.indent + "    "
    return parent.indent + " " * (len(m.group(2)) + len(m.group(3)))


def child_style(parse: TodoParse, parent: ScannedItem) -> ItemStyle:
    """Return the style for a new last child of ``parent``."""
    if parent.children:
        return style_of(parse, parse.items[parent.children[-1]])
    own = style_of(parse, parent, follow=False)
    bullet = own.bullet
    if bullet is not None and bullet[-1] in ".)":
        bullet = "1" + bullet[-1]
    return ItemStyle(indent=child_indent(parse, parent), bullet=bullet,
                     bullet_sep=own.bullet_sep, boxes=own.boxes, text_sep=own.text_sep)


def siblings(parse: TodoParse, item: ScannedItem) -> list[ScannedItem]:
    """Return the items at the same level as ``item`` (same parent, same section)."""
    if item.parent is not None:
        return [parse.items[k] for k in parse.items[item.parent].children]
    # Bounded by the headings around the item, not by section text: the same
    # heading text can occur twice (one "Done" per batch).
    lo = max((h.line for h in parse.headings if h.line < item.line), default=0)
    hi = min((h.line for h in parse.headings if h.line > item.line), default=parse.line_count + 1)
    return [parse.items[k] for k in _tops_between(parse, lo, hi).tolist()]


def _tops(parse: TodoParse) -> np.ndarray:
    """Indices of the top-level items, in file order."""
    return np.flatnonzero(np.frombuffer(parse.cols.parent, dtype=np.int32) < 0) if len(parse.cols) else \
        np.zeros(0, dtype=np.int64)


def _tops_between(parse: TodoParse, lo: int, hi: int) -> np.ndarray:
    """Indices of the top-level items on lines strictly between ``lo`` and ``hi``."""
    tops = _tops(parse)
    lines = np.frombuffer(parse.cols.line, dtype=np.int32)[tops] if len(tops) else np.zeros(0, dtype=np.int32)
    return tops[(lines > lo) & (lines < hi)]


def _pairs_separated(parse: TodoParse, group: np.ndarray) -> np.ndarray:
    """For consecutive items of ``group`` (indices): whether a blank line lies between one's range and the next."""
    if len(group) < 2:
        return np.zeros(0, dtype=bool)
    cols = parse.cols
    end = np.frombuffer(cols.end_line, dtype=np.int32)[group[:-1]]
    nxt = np.frombuffer(cols.line, dtype=np.int32)[group[1:]]
    # Lines end_line .. line - 2 (0-based) lie between them.
    return parse.blank_count(end, np.maximum(nxt - 1, end)) > 0


def _vote(pairs: np.ndarray) -> bool | None:
    if not len(pairs):
        return None
    yes = int(np.count_nonzero(pairs))
    if yes * 2 == len(pairs):
        return bool(pairs[-1])
    return yes * 2 > len(pairs)


def blank_separated(parse: TodoParse, group: list[ScannedItem]) -> bool | None:
    """Whether consecutive items of ``group`` are mostly separated by a blank line.

    Returns ``None`` when the group has fewer than two items (no evidence).
    A tie is decided by the last pair, the one nearest to where new items go.
    """
    return _vote(_pairs_separated(parse, np.array([it.index for it in group], dtype=np.int64)))


def document_blank_separated(parse: TodoParse) -> bool:
    """Blank-line habit of top-level items across all sections (fallback).

    Items are grouped by their section's heading text (two sections of the
    same title form one group, in file order).
    """
    tops = _tops(parse)
    if len(tops) < 2:
        return False
    names: dict[str | None, int] = {}
    heading_group = np.array([names.setdefault(h.text, len(names)) for h in parse.headings] + [-1], dtype=np.int64)
    section = np.frombuffer(parse.cols.section, dtype=np.int32)[tops]
    group = np.where(section >= 0, heading_group[section], -1)
    order = np.argsort(group, kind="stable")
    tops, group = tops[order], group[order]
    pairs = _pairs_separated(parse, tops)
    same = group[1:] == group[:-1]
    total = int(np.count_nonzero(same))
    votes = int(np.count_nonzero(pairs & same))
    return total > 0 and votes * 2 > total


def blank_after_heading(parse: TodoParse) -> bool:
    """Whether the file usually leaves a blank line between a heading and its first item."""
    if not parse.headings or not len(parse.cols):
        return True
    heads = np.array([h.line for h in parse.headings], dtype=np.int64)
    lines = np.frombuffer(parse.cols.line, dtype=np.int32)
    k = np.searchsorted(lines, heads, side="right")  # the first item after each heading
    has = k < len(lines)
    heads, first = heads[has], lines[k[has]].astype(np.int64)
    # Only blank lines between the heading and its first item count as evidence.
    clear = parse.blank_count(heads, first - 1) == np.maximum(first - 1 - heads, 0)
    no = int(np.count_nonzero(clear & (first == heads + 1)))
    yes = int(np.count_nonzero(clear & (first != heads + 1)))
    return yes >= no


def reindent(content: str, old: str, new: str) -> str:
    """Shift one line of an item's range from indent ``old`` to ``new``.

    Lines that start with ``old`` get it replaced by ``new``, which keeps each
    line's own tab/space characters below the shifted prefix. Lines indented
    with other characters are shifted by the width difference instead.
    """
    if is_blank(content):
        return content
    if content.startswith(old):
        return new + content[len(old):]
    delta = indent_width(new) - indent_width(old)
    if delta >= 0:
        pad = "\t" * (delta // 4) if new and set(new) == {"\t"} and delta % 4 == 0 else " " * delta
        return pad + content
    ws = leading_ws(content)
    cut = 0
    removed = 0
    while cut < len(ws) and removed < -delta:
        removed = indent_width(ws[: cut + 1])
        cut += 1
    return content[cut:]


Slot = tuple[int, ItemStyle, bool]  # insert after this line, with this style, blank line first?


def section_slot(parse: TodoParse, section: str, name: str) -> Slot:
    """Where a new top-level item of heading ``section`` goes (exact, else case-insensitive match).

    After the section's last top-level item, or after its last non-blank
    line when it has no item yet. Raises :class:`FormatError` naming file
    ``name`` when no heading matches.
    """
    heads = parse.headings
    match = next((h for h in heads if h.text == section), None)
    if match is None:
        folded = section.strip().casefold()
        match = next((h for h in heads if h.text.casefold() == folded), None)
    if match is None:
        raise FormatError(name, f"no heading {section!r} in the file")
    nxt = next((h.line for h in heads if h.line > match.line), parse.line_count + 1)
    filled = np.flatnonzero(~parse.blank[match.line:max(nxt - 1, match.line)])
    last = match.line + int(filled[-1]) + 1 if filled.size else match.line
    return slot_after(parse, last, (match.line, nxt))


def slot_after(parse: TodoParse, last: int, bounds: tuple[int, int] | None) -> Slot:
    """Where and how to add a top-level item, given the last content line ``last``.

    ``bounds`` limits the search for siblings to one section (heading
    line, next heading line); ``None`` means the section of the file's
    last item. The style comes from the last sibling, else the file's last
    top-level item, else ``- [ ]``. A blank line goes first when the
    siblings are blank-separated, when following a heading in a file that
    leaves one there, and when following other text.
    """
    tops = _tops(parse)
    if bounds is not None:
        group = _tops_between(parse, *bounds)
    elif len(tops):
        last_top = parse.cols.line[int(tops[-1])]
        head = max((h.line for h in parse.headings if h.line < last_top), default=0)
        group = _tops_between(parse, head, parse.line_count + 1)
    else:
        group = tops
    group_end = parse.cols.end_line[int(group[-1])] if len(group) else None
    if group_end is not None and bounds is not None:
        last = group_end
    model = int(group[-1]) if len(group) else (int(tops[-1]) if len(tops) else None)
    style = style_of(parse, parse.items[model]) if model is not None else DEFAULT_STYLE
    if last == 0:
        return 0, style, False
    if group_end is not None and last == group_end:
        sep = _vote(_pairs_separated(parse, group))
        blank = document_blank_separated(parse) if sep is None else sep
    elif any(h.line == last for h in parse.headings):
        blank = blank_after_heading(parse)
    else:
        blank = True
    return last, style, blank
