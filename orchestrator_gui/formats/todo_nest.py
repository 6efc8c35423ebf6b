"""Pass 4 of the TODO.md scanner: which item each item and detail line belongs to, on whole arrays.

The line-by-line scanner kept a stack of open items: every item or detail
line popped the items at least as indented as itself, then a detail line
belonged to the item left on top and an item became the child of it (and
was pushed). A heading emptied the stack. The item left on top is found
here without a stack: it is given by the nearest earlier line that is
*less* indented (a heading counts as indented -1): if that line is an item,
it is the one; if it is a detail line, it is that line's own owner. The
"nearest earlier smaller" is computed for all lines at once, one array pass
per distinct indentation width, and owners through chains of detail lines
by pointer jumping.

Two exceptions of the old rules are kept: a fence right under a line (no
blank between) pops nothing, and blank lines belong to whatever comes after
them (a detail line's owner), or to nobody.
"""

from __future__ import annotations

from array import array

import numpy as np

from orchestrator_gui.formats.todo_parse import ItemColumns, is_blank

#: Distinct indentation widths handled by whole-array passes; more (a pathological file) take one Python pass.
_MAX_WIDTH_PASSES = 32

# Element kinds in the nesting pass.
_ITEM, _DETAIL, _HEAD = 1, 2, 3


class _Nesting:
    """What :func:`nest` finds: each item's parent, each detail line's owner, the suspicious runs."""

    def __init__(self, parent: np.ndarray, det_line: np.ndarray, det_owner: np.ndarray,
                 runs: list[tuple[int, int]]) -> None:
        self.parent = parent
        self.det_line = det_line
        self.det_owner = det_owner
        self.runs = runs


def nest(count: int, blocks: list[tuple[str, int, int | None, str, int]], element: np.ndarray,
          waiting: np.ndarray, is_head: np.ndarray, item_lines: np.ndarray, width: np.ndarray) -> _Nesting:
    """Parents, detail owners and suspicious runs, from the lines' kinds and widths (pass 4)."""
    pending = np.zeros(count, dtype=bool)
    pending[1:] = waiting[:-1]
    run_start = _run_starts(waiting)
    opener_line = np.array([b[1] for b in blocks], dtype=np.int64)
    opener_fence = np.array([b[0] == "fence" for b in blocks], dtype=bool)
    # A fence right under a line (no blank between) never pops the stack: it is not an element.
    transparent = np.zeros(count, dtype=bool)
    transparent[opener_line[opener_fence]] = True
    transparent &= ~pending
    kind = np.zeros(count, dtype=np.int8)
    kind[element & ~transparent] = _DETAIL
    kind[item_lines] = _ITEM
    kind[is_head] = _HEAD
    e_line = np.flatnonzero(kind).astype(np.int32)
    e_kind = kind[e_line]
    del kind
    e_width = np.where(e_kind == _HEAD, -1, width[e_line]).astype(np.int32)
    owner_el = _owners(e_width, e_kind)  # element index of each element's parent/owner item, or -1
    del e_width
    item_rank = (np.cumsum(e_kind == _ITEM) - 1).astype(np.int32)
    owner = np.where(owner_el >= 0, item_rank[np.maximum(owner_el, 0)], -1).astype(np.int32)  # as item index
    del owner_el
    parent = owner[e_kind == _ITEM]

    # Detail lines: details with their pending blanks, transparent fences, block interiors.
    spans_a, spans_b, spans_v = [], [], []
    det = np.flatnonzero((e_kind == _DETAIL) & (owner >= 0))
    dl = e_line[det]
    spans_a.append(np.where(pending[dl], run_start[dl], dl))
    spans_b.append(dl + 1)
    spans_v.append(owner[det])
    tr_lines = np.flatnonzero(transparent)
    before = np.searchsorted(e_line, tr_lines) - 1
    tr_owner = _top_after(before, e_kind, owner, item_rank)
    spans_a.append(tr_lines)
    spans_b.append(tr_lines + 1)
    spans_v.append(tr_owner)
    if blocks:
        line_owner = np.full(count, -1, dtype=np.int64)
        line_owner[dl] = owner[det]
        line_owner[tr_lines] = tr_owner
        bo = line_owner[opener_line]
        close = np.array([count - 1 if b[2] is None else b[2] for b in blocks], dtype=np.int64)
        keep = (bo >= 0) & (close > opener_line)
        spans_a.append(opener_line[keep] + 1)
        spans_b.append(close[keep] + 1)
        spans_v.append(bo[keep])
    del det, dl, item_rank
    det_line, det_owner = _fill(count, spans_a, spans_b, spans_v)
    del spans_a, spans_b, spans_v
    runs = _runs(e_line, e_kind, owner, pending, run_start, det_line, det_owner, len(item_lines))
    return _Nesting(parent, det_line, det_owner, runs)


def _run_starts(waiting: np.ndarray) -> np.ndarray:
    """For each line, the first line of the run of waiting blank lines just before it."""
    idx = np.arange(len(waiting), dtype=np.int64)
    last_other = np.where(waiting, -1, idx)
    np.maximum.accumulate(last_other, out=last_other)
    out = np.zeros(len(waiting), dtype=np.int64)
    out[1:] = last_other[:-1] + 1
    return out


def _previous_smaller(w: np.ndarray) -> np.ndarray:
    """For each position, the nearest earlier position with a smaller value, or -1."""
    n = len(w)
    out = np.full(n, -1, dtype=np.int32)
    values = np.unique(w[w >= 0])
    if len(values) <= _MAX_WIDTH_PASSES:
        idx = np.arange(n, dtype=np.int32)
        for v in values.tolist():
            sel = np.flatnonzero(w == v)
            lt = np.where(w < v, idx, -1)
            np.maximum.accumulate(lt, out=lt)
            sel = sel[sel > 0]
            out[sel] = lt[sel - 1]
        return out
    stack: list[int] = []
    ws: list[int] = []
    for j, x in enumerate(w.tolist()):  # pathological indentation: one pass with a stack
        while ws and ws[-1] >= x:
            ws.pop()
            stack.pop()
        if stack:
            out[j] = stack[-1]
        stack.append(j)
        ws.append(x)
    return out


def _owners(width: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """The item on top of the stack after each element's pops (its parent or owner), as element index.

    It is the nearest earlier less indented element, if that is an item; if
    it is a detail line, that line's own owner; a heading or nothing: none.
    """
    ref = _previous_smaller(width)
    while True:
        hit = np.flatnonzero(ref >= 0)
        hit = hit[kind[ref[hit]] == _DETAIL]
        if not hit.size:
            break
        ref[hit] = ref[ref[hit]]  # pointer jumping: chains of detail lines halve each round
    ok = ref >= 0
    ok[ok] = kind[ref[ok]] == _ITEM
    return np.where(ok, ref, -1)


def _top_after(el: np.ndarray, kind: np.ndarray, owner: np.ndarray, item_rank: np.ndarray) -> np.ndarray:
    """The item on top of the stack after element ``el`` (-1: none or no element), as item index."""
    out = np.full(len(el), -1, dtype=np.int64)
    has = np.flatnonzero(el >= 0)
    e = el[has]
    k = kind[e]
    out[has] = np.where(k == _ITEM, item_rank[e], np.where(k == _DETAIL, owner[e], -1))
    return out


def _fill(count: int, a: list[np.ndarray], b: list[np.ndarray],
          v: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Lines of the disjoint ranges ``[a, b)`` and the owner each range gives them, in line order."""
    starts, stops, vals = np.concatenate(a), np.concatenate(b), np.concatenate(v)
    keep = vals >= 0
    starts, stops, vals = starts[keep], stops[keep], vals[keep].astype(np.int64) + 1
    delta = np.zeros(count + 1, dtype=np.int64)
    np.add.at(delta, starts, vals)
    np.add.at(delta, stops, -vals)
    fill = np.cumsum(delta[:-1])
    lines = np.flatnonzero(fill > 0)
    return lines, fill[lines] - 1


def depths(parent: np.ndarray) -> np.ndarray:
    """Number of ancestors of each item (list ranking by pointer jumping)."""
    nxt = parent.astype(np.int64)
    dist = (nxt >= 0).astype(np.int64)
    while True:
        has = np.flatnonzero(nxt >= 0)
        if not has.size:
            return dist
        up = nxt[has]
        dist[has] += dist[up]
        nxt[has] = nxt[up]


def _runs(e_line: np.ndarray, e_kind: np.ndarray, owner: np.ndarray, pending: np.ndarray,
          run_start: np.ndarray, det_line: np.ndarray, det_owner: np.ndarray,
          n_items: int) -> list[tuple[int, int]]:
    """``(item, position in its details)`` of each run of details that follows a blank line.

    Such a run is suspicious when the item already had details before the
    blank line (docs/formats.md §2.3, e0af0f6f 62-64).
    """
    sel = np.flatnonzero((e_kind == _DETAIL) & (owner >= 0) & pending[e_line])
    if not sel.size or not len(det_line):
        return []
    first = np.full(n_items, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, det_owner, det_line)
    lines, own = e_line[sel], owner[sel]
    sus = first[own] < run_start[lines]
    lines, own = lines[sus], own[sus]
    if not lines.size:
        return []
    order = np.argsort(det_owner, kind="stable")
    rank = np.empty(len(det_owner), dtype=np.int64)
    grouped = det_owner[order]
    group_start = np.searchsorted(grouped, grouped)
    rank[order] = np.arange(len(order)) - group_start
    at = np.searchsorted(det_line, lines)
    return list(zip(own.tolist(), rank[at].tolist(), strict=True))


def settle_ranges(cols: ItemColumns) -> None:
    """Range end = last line of the item or of any descendant (children come after their parent)."""
    n = len(cols)
    if not n:
        cols.end_line = array("i")
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


def describe_runs(cols: ItemColumns, runs: list[tuple[int, int]], notes: list[tuple[int, str, str]]) -> None:
    """Add an info note for each run of details that follows a blank line."""
    if not runs:
        return
    order, bounds = cols.detail_order()
    for index, pos in runs:
        rows = order[bounds[index] + pos:bounds[index + 1]]
        start = end = cols.detail_line[int(rows[0])]
        for r in rows[1:].tolist():  # the run goes on up to its first blank line
            if is_blank(cols.detail_text[r]):
                break
            end = cols.detail_line[r]
        span = f"line {start}" if end == start else f"lines {start}-{end}"
        notes.append((start, "info",
                      f"detail {span} follow a blank line; by indentation they belong to "
                      f"item {cols.text[index]!r} (line {cols.line[index]}); check they are not meant "
                      "for another item"))
