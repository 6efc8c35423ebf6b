"""The TODO.md scanner (docs/formats.md §2.3), vectorised: whole-file passes instead of a loop per line.

It finds exactly what the line-by-line scanner found (the oracle kept in
``tests/formats/todo_oracle.py``; ``test_todo_columns.py`` and
``test_big_todo.py`` hold the two equal on the fixtures and on random
inputs), in four passes:

1. **Lines** (:class:`~orchestrator_gui.formats.todo_lines.LineTable`):
   offsets, first non-blank byte, blank lines, indentation width.
2. **Blocks**: fenced code and multi-line HTML comments swallow the lines
   up to their end. Only lines that can open or close one are looked at, in
   order, in Python (a few in a real file).
3. **Kinds**: headings (decoded and matched, few), checkbox items (matched
   on the bytes for ``-``/``*``/``+``/bare bullets, by the regex for numbered
   ones), block openers, and detail lines (everything else).
4. **Nesting** (:mod:`orchestrator_gui.formats.todo_nest`): each item's
   parent and each detail line's owner, without the line-by-line stack.
"""

from __future__ import annotations

from array import array

import numpy as np

from orchestrator_gui.formats.todo_lines import LazyStrings, LineTable, rskip_ws, skip_ws
from orchestrator_gui.formats.todo_nest import depths, describe_runs, nest, settle_ranges
from orchestrator_gui.formats.todo_parse import (
    FENCE_CLOSE_RE,
    FENCE_OPEN_RE,
    ITEM_RE,
    ItemColumns,
    ScannedHeading,
    TodoParse,
    heading_of,
    indent_width,
)

_BOXES = 8  # boxes checked by whole-array steps; longer runs go through the regex

_BOX_CHAR = np.zeros(256, dtype=bool)
_BOX_CHAR[list(b" xX*~-")] = True
_BLANK = np.zeros(256, dtype=bool)
_BLANK[list(b" \t")] = True
# By byte: the one-box string with that mark, the bullet string (None: a bare "[x]" line).
_ONE_BOXES = np.array([f"[{chr(c)}]" if c in b" xX*~-" else "" for c in range(256)], dtype=object)
_BULLETS = np.array([chr(c) if c in b"-*+" else None for c in range(256)], dtype=object)


def scan(text: str, raw: bytes | None = None) -> TodoParse:
    """Scan TODO.md ``text`` (BOM removed); ``raw`` may give its UTF-8 bytes (saves encoding them)."""
    t = LineTable(text, raw)
    c0 = t.first_byte()
    blank = c0 == 0
    for i in np.flatnonzero(c0 == 13).tolist():  # a stray CR first: blank if only blanks and CRs follow
        blank[i] = not t.content(i).strip(" \t\r")
    live = np.ones(t.count, dtype=bool)
    live[:_front_matter_end(t, c0) + 1] = False
    blocks, interior = _blocks(t, c0, live)
    element = live & ~blank & ~interior
    headings, head_lines = _headings(t, c0, element)
    is_head = np.zeros(t.count, dtype=bool)
    is_head[head_lines] = True
    items = _items(t, c0, element & ~is_head)
    del c0
    width = t.first - t.start
    for i in np.flatnonzero(t.tabbed & element).tolist():
        width[i] = indent_width(t.slice(int(t.start[i]), int(t.first[i])))
    # Blank lines wait ("pending") for the next line to decide whom they belong to.
    waiting = live & blank & ~interior
    del live, interior
    found = nest(t.count, blocks, element, waiting, is_head, items.lines, width)
    del element, waiting, is_head

    item_line = items.lines
    own_last = item_line + 1
    if len(found.det_line):
        np.maximum.at(own_last, found.det_owner, found.det_line + 1)
    cols = ItemColumns()
    cols.line = _ints(item_line + 1)
    cols.width = _ints(width[item_line])
    del width
    cols.parent = _ints(found.parent)
    cols.depth = _ints(depths(found.parent))
    cols.own_last = _ints(own_last)
    del own_last
    cols.section = _ints(np.searchsorted(np.asarray(head_lines, dtype=np.int64), item_line) - 1)
    cols.indent = items.indent
    cols.bullet = items.bullet
    cols.boxes = items.boxes
    cols.text = LazyStrings(t, items.text_start, items.text_end)
    cols.detail_owner = _ints(found.det_owner)
    cols.detail_line = _ints(found.det_line + 1)
    cols.detail_text = LazyStrings(t, t.start[found.det_line], t.content_end[found.det_line])
    del items, found.det_line, found.det_owner
    settle_ranges(cols)

    notes: list[tuple[int, str, str]] = []
    if blocks and blocks[-1][2] is None:
        what = "code fence" if blocks[-1][0] == "fence" else "HTML comment"
        notes.append((blocks[-1][1] + 1, "warning",
                      f"{what} opened here is never closed; checkboxes after it are ignored"))
    describe_runs(cols, found.runs, notes)
    notes.sort(key=lambda n: n[0])
    return TodoParse(cols, headings, notes, t.count, t, blank)


def _ints(values: np.ndarray) -> array:
    return array("i", np.asarray(values, dtype=np.int32).tobytes())


def _front_matter_end(t: LineTable, c0: np.ndarray) -> int:
    """The 0-based line of the closing ``---``/``...`` of YAML front matter, or -1."""
    if not t.count or t.content(0).rstrip(" \t\r") != "---":
        return -1
    a, start = t.a, t.start
    # Only a line starting with three dashes or dots can close it.
    cand = np.flatnonzero((t.content_end - start >= 3) & ((c0 == 45) | (c0 == 46)) & (t.first == start))
    cand = cand[cand > 0]
    if cand.size:
        s = start[cand]
        cand = cand[(a[s + 1] == a[s]) & (a[s + 2] == a[s])]
    for j in cand.tolist():
        if t.content(j).rstrip(" \t\r") in ("---", "..."):
            return j
    return -1  # never closed: a thematic break, not front matter


def _blocks(t: LineTable, c0: np.ndarray, live: np.ndarray) -> tuple[list[tuple[str, int, int | None, str, int]],
                                                                       np.ndarray]:
    """Fenced code blocks and multi-line comments: ``(kind, opening line, closing line or None, char, length)``."""
    a, first, cend = t.a, t.first, t.content_end
    fenceish = live & ((c0 == 96) | (c0 == 126)) & (first + 3 <= cend)
    f = np.flatnonzero(fenceish)
    if f.size:
        s = first[f]
        fenceish[f[~((a[s + 1] == a[s]) & (a[s + 2] == a[s]))]] = False
    comment = live & (c0 == 60) & (first + 4 <= cend)
    c = np.flatnonzero(comment)
    if c.size:
        s = first[c]
        comment[c[~((a[s + 1] == 33) & (a[s + 2] == 45) & (a[s + 3] == 45))]] = False
    arrow = np.zeros(t.count, dtype=bool)
    if b"-->" in t.raw:
        dash = np.flatnonzero(a[:-2] == 45)
        hits = dash[(a[dash + 1] == 45) & (a[dash + 2] == 62)]
        arrow[np.searchsorted(t.start, hits, side="right") - 1] = True
        arrow &= live
    blocks: list[tuple[str, int, int | None, str, int]] = []
    interior = np.zeros(t.count, dtype=bool)
    cand = np.flatnonzero(fenceish | comment | arrow)
    if not cand.size:
        return blocks, interior
    state: tuple[str, int, str, int] | None = None
    for i in cand.tolist():
        if state is None:
            if fenceish[i]:
                fm = FENCE_OPEN_RE.fullmatch(t.content(i))
                if fm is not None and not (fm.group(1)[0] == "`" and "`" in fm.group(2)):
                    state = ("fence", i, fm.group(1)[0], len(fm.group(1)))
            elif comment[i] and "-->" not in t.content(i).lstrip(" \t")[4:]:
                state = ("comment", i, "", 0)
        elif state[0] == "fence":
            if fenceish[i]:
                m = FENCE_CLOSE_RE.fullmatch(t.content(i))
                if m and m.group(1)[0] == state[2] and len(m.group(1)) >= state[3]:
                    blocks.append((state[0], state[1], i, state[2], state[3]))
                    state = None
        elif arrow[i]:
            blocks.append((state[0], state[1], i, state[2], state[3]))
            state = None
    if state is not None:
        blocks.append((state[0], state[1], None, state[2], state[3]))
    mark = np.zeros(t.count + 1, dtype=np.int32)
    for _, o, cl, _, _ in blocks:
        mark[o + 1] += 1
        mark[(t.count - 1 if cl is None else cl) + 1] -= 1
    interior = np.cumsum(mark[:-1]) > 0
    return blocks, interior


def _headings(t: LineTable, c0: np.ndarray, element: np.ndarray) -> tuple[list[ScannedHeading], list[int]]:
    headings: list[ScannedHeading] = []
    lines: list[int] = []
    for i in np.flatnonzero(element & (c0 == 35) & (t.first == t.start)).tolist():
        head = heading_of(t.content(i))
        if head is not None:
            headings.append(ScannedHeading(line=i + 1, level=head[0], text=head[1]))
            lines.append(i)
    return headings, lines


class _Items:
    """The checkbox item lines found by :func:`_items`, in file order."""

    def __init__(self) -> None:
        self.lines = np.zeros(0, dtype=np.int64)
        self.text_start = np.zeros(0, dtype=np.int64)
        self.text_end = np.zeros(0, dtype=np.int64)
        self.indent: list[str] = []
        self.bullet: list[str | None] = []
        self.boxes: list[str] = []


def _items(t: LineTable, c0: np.ndarray, cand_mask: np.ndarray) -> _Items:
    """Match ``ITEM_RE`` on the candidate lines: on the bytes where it can be, by the regex elsewhere."""
    a, raw = t.a, t.raw
    last = len(a) - 1  # reads past a line's end are clipped here and masked by a length test
    cand = np.flatnonzero(cand_mask & ((c0 == 91) | (c0 == 45) | (c0 == 42) | (c0 == 43)
                                       | ((c0 >= 48) & (c0 <= 57)))).astype(np.int32)
    end = t.content_end[cand]
    p = t.first[cand]
    c = c0[cand]
    slow = (c >= 48) & (c <= 57)  # numbered bullets: the regex decides
    ok = ~slow
    # "-", "*" or "+" needs a blank after it, then the boxes after the blanks.
    b = np.flatnonzero((c != 91) & ok)
    sep_ok = (p[b] + 1 < end[b]) & _BLANK[a[np.minimum(p[b] + 1, last)]]
    ok[b[~sep_ok]] = False
    b = b[sep_ok]
    q = p.copy()
    q[b] = skip_ws(a, p[b] + 1, end[b], raw)
    del b, sep_ok
    n_boxes = np.zeros(len(cand), dtype=np.int32)
    act = np.flatnonzero(ok)
    cur = q.copy()
    for _ in range(_BOXES):
        if not act.size:
            break
        s = cur[act]
        good = ((s + 3 <= end[act]) & (a[np.minimum(s, last)] == 91) & _BOX_CHAR[a[np.minimum(s + 1, last)]]
                & (a[np.minimum(s + 2, last)] == 93))
        act = act[good]
        n_boxes[act] += 1
        cur[act] += 3
    slow[act] = True  # more boxes than the whole-array steps check
    del act
    ok &= ~slow & (n_boxes > 0) & ((cur == end) | ((cur < end) & _BLANK[a[np.minimum(cur, last)]]))
    fast_i = np.flatnonzero(ok)
    del ok
    ts = skip_ws(a, cur[fast_i], end[fast_i], raw)
    te = rskip_ws(a, end[fast_i], ts, raw)
    del cur, end
    lines = cand[fast_i]

    # Per-item strings come from small tables by fancy indexing (C speed), the rare odd ones are patched in.
    out = _Items()
    nws = p[fast_i] - t.start[lines]
    spaces = np.array([" " * n for n in range(int(nws.max()) + 1 if nws.size else 1)], dtype=object)
    indent: list[str] = spaces[nws].tolist()
    del nws
    for j in np.flatnonzero(t.tabbed[lines]).tolist():
        i = int(lines[j])
        indent[j] = t.slice(int(t.start[i]), int(t.first[i]))
    bullet: list[str | None] = _BULLETS[c[fast_i]].tolist()
    qf = q[fast_i]
    boxes: list[str] = _ONE_BOXES[a[np.minimum(qf + 1, last)]].tolist()
    nb = n_boxes[fast_i]
    for j in np.flatnonzero(nb != 1).tolist():
        s = int(qf[j])
        boxes[j] = t.slice(s, s + 3 * int(nb[j]))
    del q, qf, nb, n_boxes, p, c
    slow_i = np.flatnonzero(slow)
    extra = [(int(cand[k]), m) for k in slow_i.tolist() if (m := ITEM_RE.fullmatch(t.content(int(cand[k]))))]
    if not extra:  # the usual case: no numbered bullets, no long box runs; already in file order
        out.lines, out.text_start, out.text_end = lines, ts, te
        out.indent, out.bullet, out.boxes = indent, bullet, boxes
        return out
    extra_ts, extra_te = [], []
    shared: dict[str | None, str | None] = {}
    for i, m in extra:
        base = int(t.start[i])
        rest = m.group(6) or ""
        # Everything before the title is ASCII, so character and byte offsets agree up to it.
        start = base + (m.start(6) if m.group(6) else len(m.group(0)))
        extra_ts.append(start)
        extra_te.append(start + len(rest.rstrip(" \t").encode("utf-8", "surrogatepass")) if rest else start)
        indent.append(shared.setdefault(m.group(1), m.group(1)))  # type: ignore[arg-type]
        bullet.append(shared.setdefault(m.group(2), m.group(2)))
        boxes.append(shared.setdefault(m.group(4), m.group(4)))  # type: ignore[arg-type]
    all_lines = np.concatenate([lines, np.array([i for i, _ in extra], dtype=lines.dtype)])
    order = np.argsort(all_lines, kind="stable")
    out.lines = all_lines[order]
    out.text_start = np.concatenate([ts, np.array(extra_ts, dtype=ts.dtype)])[order]
    out.text_end = np.concatenate([te, np.array(extra_te, dtype=te.dtype)])[order]
    out.indent = np.array(indent, dtype=object)[order].tolist()
    out.bullet = np.array(bullet, dtype=object)[order].tolist()
    out.boxes = np.array(boxes, dtype=object)[order].tolist()
    return out
