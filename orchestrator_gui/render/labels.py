"""Label placement in screen space: readable labels that never overlap or leave the canvas (pure numpy).

:func:`place_labels` is greedy in priority order (the caller sorts: forced
labels -- hovered, selected -- first, then by importance). Each label tries
up to eight positions around its node, in cartographic preference order
(:data:`SIDES`: right, left, the four diagonals, above, below), always a
leader gap clear of its own disc; it takes the first that is inside the
canvas and overlaps no label kept so far and no labelled node's disc.
Positions beside the node slide vertically, and those above or below it
horizontally, to stay inside the canvas; a label that fits nowhere at full
length is elided with "…" to the room left at the canvas edge, and any
label wider than ``max_width`` is elided.

Collisions are tested on an occupancy bitmap of the canvas (one byte per
pixel, rectangles snapped to whole pixels so the text is drawn crisp):
each test is one slice, so the cost per label does not grow with the labels
already kept, and a label whose node is already under a kept label is
rejected with a single lookup. :func:`label_budget` sizes the candidate
list from the nodes' on-screen spread, so more labels come as the user
zooms in while the placement stays within a few milliseconds a frame.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: Approximate advance per character and line height, in pixels, of the 8 pt label font.
CHAR_W = 6.2
LINE_H = 14.0
#: Gap between the node centre and the text (:func:`label_boxes`, :func:`declutter`).
OFFSET = 9.0
#: Gap between a node's disc and its label (the leader offset), pixels.
GAP = 3.0
#: Space kept free around every label (x, y), pixels: neighbours never touch.
PAD = (5, 2)
#: Labels stay this far inside the canvas edge, pixels.
MARGIN = 2
#: Longest label, pixels; longer text is elided.
MAX_WIDTH = 240.0
#: Shortest elided label worth showing, in characters before the ellipsis.
MIN_CHARS = 3
#: One label "slot" of :func:`label_budget`, pixels (a short label with its spacing).
CELL = (110.0, 26.0)
#: Candidates per slot at density 1: some candidates always collide, so more are tried than slots exist.
PER_SLOT = 1.5
ELLIPSIS = "\u2026"

RIGHT, LEFT, UPPER_RIGHT, LOWER_RIGHT, UPPER_LEFT, LOWER_LEFT, ABOVE, BELOW = range(8)
_ALL_SIDES = list(range(8))
_PREFERRING = [[p] + [s for s in range(8) if s != p] for p in range(8)]
#: Position names, indexed by the codes in :attr:`Placement.sides`.
SIDES = ("right", "left", "upper right", "lower right", "upper left", "lower left", "above", "below")


@dataclass(frozen=True)
class Placement:
    """Result of :func:`place_labels`, one entry per input label.

    Attributes
    ----------
    keep : ndarray, shape (N,), bool
        Labels shown.
    rects : ndarray, shape (N, 4), float64
        ``(x0, y0, x1, y1)`` canvas pixels (y down) of each shown label's text box; NaN for the others.
    anchors : ndarray, shape (N, 2), float64
        Left end, vertical centre of each shown text (draw left/centre anchored); NaN for the others.
    sides : ndarray, shape (N,), int8
        Index into :data:`SIDES` of the position taken, -1 when not shown.
    texts : list of str
        Text shown (elided where it had to be); ``""`` when not shown.
    """

    keep: np.ndarray
    rects: np.ndarray
    anchors: np.ndarray
    sides: np.ndarray
    texts: list[str]

    @property
    def shown(self) -> np.ndarray:
        """Indices of the labels shown, ascending."""
        return np.flatnonzero(self.keep)


def approx_width(text: str) -> float:
    """Pixel width estimate of ``text`` in the label font (wide East Asian characters count double)."""
    if text.isascii():
        return CHAR_W * len(text)
    return CHAR_W * sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def elide(text: str, max_width: float, measure: Callable[[str], float] = approx_width) -> str:
    """``text`` cut to fit ``max_width`` pixels, ending in "…"; ``""`` when not even a few characters fit.

    Parameters
    ----------
    text : str
    max_width : float
        Room in pixels.
    measure : callable
        Pixel width of a string in the label font.

    Returns
    -------
    str
        ``text`` itself when it fits, else its longest prefix (trailing
        spaces dropped) plus "…" that fits, with at least :data:`MIN_CHARS`
        characters before the ellipsis (or all of a shorter text).
    """
    if measure(text) <= max_width:
        return text
    lo, hi = 0, len(text) - 1  # longest prefix length k with measure(prefix(k)) <= max_width
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid].rstrip() + ELLIPSIS) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    if lo < min(MIN_CHARS, len(text)):
        return ""
    return text[:lo].rstrip() + ELLIPSIS


@lru_cache(maxsize=8192)
def _elided(text: str, max_width: float, measure: Callable[[str], float]) -> tuple[str, int]:
    # Long titles are elided again on every new camera pose: remember the result (and its width).
    short = elide(text, max_width, measure)
    return short, math.ceil(measure(short)) if short else 0


def label_budget(xy: np.ndarray, canvas_size: tuple[float, float], density: float = 1.0,
                 cell: tuple[float, float] = CELL) -> int:
    """How many label candidates a view deserves: ``density`` x :data:`PER_SLOT` per label slot its nodes cover.

    The canvas is cut into label-sized cells; every cell holding at least one
    on-screen node is a slot. Zooming in spreads the nodes over more cells, so
    more labels are tried; a zoomed-out clump gets few.

    Parameters
    ----------
    xy : ndarray, shape (N, 2)
        Screen positions (NaN or outside the canvas: not counted).
    canvas_size : (width, height)
    density : float
        The user's label density (1 default).
    cell : (width, height)
        Slot size in pixels.

    Returns
    -------
    int
    """
    w, h = float(canvas_size[0]), float(canvas_size[1])
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(xy) == 0 or w <= 0 or h <= 0:
        return 0
    x, y = xy[:, 0], xy[:, 1]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)  # NaN compares false: behind the camera
    cols = int(math.ceil(w / cell[0]))
    idx = (y[inside] // cell[1]).astype(np.int64) * cols + (x[inside] // cell[0]).astype(np.int64)
    slots = int(np.count_nonzero(np.bincount(idx, minlength=1)))
    return int(math.ceil(max(density, 0.0) * PER_SLOT * slots))


#: Spare bitmaps of the last canvas size: a fresh 1.6 MB bytearray costs ~0.8 ms in page faults per frame,
#: clearing a warm one ~0.02 ms. A list, so a re-entrant call (another thread) just allocates its own.
_POOL: list[list[bytearray]] = []


def _take_bitmaps(size: int) -> list[bytearray]:
    """Four zeroed bitmaps of ``size`` bytes, reused from :data:`_POOL` when one of that size is spare."""
    while _POOL:
        bufs = _POOL.pop()
        if len(bufs[0]) == size:
            for b in bufs:
                np.frombuffer(b, dtype=np.uint8).fill(0)
            return bufs
    return [bytearray(size) for _ in range(4)]


def _origins(x: np.ndarray, y: np.ndarray, r: np.ndarray, w: np.ndarray, h: int, size: tuple[int, int],
             margin: int, gap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer top-left corners (N, 8) of the eight positions and whether each lies inside the canvas."""
    cw, ch = size
    c = r + gap                    # beside, above, below: a leader gap clear of the disc
    a = r + gap                    # diagonals: the box corner clear of the disc's bounding square
    x0 = np.stack([x + c, x - c - w, x + a, x + a, x - a - w, x - a - w, x - w / 2, x - w / 2], axis=1)
    y0 = np.stack([y - h / 2, y - h / 2, y - a - h, y + a, y - a - h, y + a, y - c - h, y + c], axis=1)
    x0, y0 = np.rint(x0), np.rint(y0)
    # Beside the node a label may slide vertically, above/below it horizontally: still clear of the disc.
    y0[:, :2] = np.clip(y0[:, :2], margin, ch - margin - h)
    x0[:, 6:] = np.clip(x0[:, 6:], margin, (cw - margin - w)[:, None])
    ok = (x0 >= margin) & (x0 + w[:, None] <= cw - margin) & (y0 >= margin) & (y0 + h <= ch - margin)
    return x0.astype(np.int64), y0.astype(np.int64), ok


def place_labels(
    xy: np.ndarray,
    texts: Sequence[str],
    canvas_size: tuple[float, float],
    *,
    widths: np.ndarray | None = None,
    forced: Sequence[bool] | np.ndarray | None = None,
    radius: float | np.ndarray = 4.0,
    line_h: float = LINE_H,
    measure: Callable[[str], float] = approx_width,
    max_width: float = MAX_WIDTH,
    forced_max_width: float | None = None,
    gap: float = GAP,
    pad: tuple[int, int] = PAD,
    margin: int = MARGIN,
    prefer: np.ndarray | None = None,
    obstacles: np.ndarray | None = None,
    reserved: np.ndarray | None = None,
) -> Placement:
    """Place labels greedily, in the given priority order, without overlap and inside the canvas.

    Parameters
    ----------
    xy : ndarray, shape (N, 2)
        Node centres in canvas pixels, y down. NaN (behind the camera) or
        outside the canvas: never labelled.
    texts : sequence of str
        Label texts, already cleaned for display.
    canvas_size : (width, height)
        Canvas size in pixels.
    widths : ndarray, shape (N,), optional
        Pixel width of each text (``measure`` of it when omitted); callers
        that place every frame pass cached widths.
    forced : sequence of bool, optional
        Labels placed before all others (hovered, selected): they may cover
        other nodes' discs when nothing else fits, never another label.
    radius : float or ndarray, shape (N,)
        On-screen radius of each node's disc (marker plus outline), pixels.
    line_h : float
        Height of a label's text box, pixels.
    measure : callable
        Pixel width of a string (for elision).
    max_width : float
        Longest label, pixels.
    forced_max_width : float, optional
        Longest forced label (default ``max_width``): the hovered or
        selected node may show more of its title.
    gap : float
        Leader gap between a disc and its label, pixels.
    pad : (int, int)
        Free space kept around every label, pixels (x, y).
    margin : int
        Distance kept from the canvas edge, pixels.
    prefer : ndarray, shape (N,), optional
        Position (index into :data:`SIDES`) to try first, -1 for none: the
        previous frame's choice, so labels do not jump between frames.
    obstacles : ndarray, shape (M, 2), optional
        Centres of other visible nodes: a label takes a position covering
        none of them when it has one (it never covers a labelled node's disc).
    reserved : ndarray, shape (K, 4), optional
        Boxes ``(x0, y0, x1, y1)`` no label may cover (other text drawn over the view, overlays).

    Returns
    -------
    Placement
        Shown rectangles never overlap (they are at least ``2 * pad`` apart)
        and lie within ``margin`` of the canvas.
    """
    n = len(texts)
    cw, ch = max(int(canvas_size[0]), 0), max(int(canvas_size[1]), 0)
    keep = np.zeros(n, dtype=bool)
    rects = np.full((n, 4), np.nan)
    anchors = np.full((n, 2), np.nan)
    sides = np.full(n, -1, dtype=np.int8)
    shown = [""] * n
    h = int(math.ceil(line_h))
    room = min(float(max_width), cw - 2.0 * margin)
    room_forced = min(float(max_width if forced_max_width is None else forced_max_width), cw - 2.0 * margin)
    if n == 0 or room < 1 or ch - 2 * margin < h:
        return Placement(keep, rects, anchors, sides, shown)
    xy = np.asarray(xy, dtype=np.float64).reshape(n, 2)
    x, y = xy[:, 0], xy[:, 1]
    with np.errstate(invalid="ignore"):
        on = np.isfinite(x) & np.isfinite(y) & (x >= 0) & (x < cw) & (y >= 0) & (y < ch)
    force = np.zeros(n, dtype=bool) if forced is None else np.asarray(forced, dtype=bool).reshape(n)
    r = np.broadcast_to(np.asarray(radius, dtype=np.float64), (n,)).copy()
    w = np.array([measure(t) for t in texts], dtype=np.float64) if widths is None else \
        np.asarray(widths, dtype=np.float64).reshape(n).copy()
    w = np.ceil(w)
    order = np.concatenate([np.flatnonzero(on & force), np.flatnonzero(on & ~force)])
    limit = np.where(force, room_forced, room)
    texts = list(texts)
    for i in np.flatnonzero(on & (w > limit)).tolist():
        texts[i], w[i] = _elided(texts[i], float(limit[i]), measure)
    ox, oy, ook = _origins(np.where(on, x, 0.0), np.where(on, y, 0.0), r, w, h, (cw, ch), margin, gap)
    pref = None if prefer is None else np.asarray(prefer, dtype=np.int64).reshape(n).tolist()
    px, py = int(pad[0]), int(pad[1])
    tall = h + 2 * py  # every test covers this many rows: a label's box with its vertical padding
    # Row bands: band[y, x] is set when something occupies column x in rows y .. y + tall - 1. Marking
    # a box is one slice assignment, and testing a padded label box is one search of one row, whatever
    # was kept before. ``things`` holds label boxes and labelled nodes' discs (never covered),
    # ``boxes`` label boxes only (what a forced label must still avoid), ``points`` the other nodes'
    # centres (avoided where another position allows). The bitmaps are bytearrays seen through
    # numpy: numpy marks boxes, ``bytearray.find`` tests a row ten times faster than ``ndarray.any``.
    bufs = _take_bitmaps(ch * cw)
    lab_buf, boxes_buf, things_buf, points_buf = bufs
    labels, band_boxes, band_things, band_points = (np.frombuffer(b, dtype=np.uint8).reshape(ch, cw) for b in bufs)
    use_points = obstacles is not None and len(obstacles) > 0
    if use_points:
        _mark_points(band_points, np.asarray(obstacles, dtype=np.float64).reshape(-1, 2), tall, py)
    # Python scalars: the loop below indexes them once per label, much cheaper than numpy items.
    xi, yi = np.where(on, x, 0).astype(np.int64).tolist(), np.where(on, y, 0).astype(np.int64).tolist()
    ri = np.ceil(r).astype(np.int64).tolist()
    xs, ys, wl = ox.tolist(), oy.tolist(), w.astype(np.int64).tolist()
    oks, flist = ook.tolist(), force.tolist()
    sts, ens = (a.tolist() for a in _spans(ox, oy, w, px, py, cw))

    def mark(x0: int, y0: int, x1: int, y1: int, is_label: bool) -> None:
        # Clip to the canvas: a box partly (or wholly) off-canvas -- a shell name above the top edge --
        # must not turn into a negative slice end, which would mark nearly every row.
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, cw), min(y1, ch)
        if x1 <= x0 or y1 <= y0:
            return
        b0 = max(y0 - tall + 1, 0)
        band_things[b0:y1, x0:x1] = 1
        if is_label:
            band_boxes[b0:y1, x0:x1] = 1
            labels[y0:y1, x0:x1] = 1

    def mark_disc(i: int) -> None:
        # The disc's bounding square: the diagonal positions keep their corner outside it.
        rr, cx, cy = ri[i], xi[i], yi[i]
        mark(cx - rr, cy - rr, cx + rr + 1, cy + rr + 1, False)

    def choose(st: list[int], en: list[int], ok: list[bool], tries: list[int], f: bool) -> int:
        """The first position clear of labels, labelled discs and other nodes; for a forced label, else the
        first clear of labels and labelled discs, else the first clear of labels. ``st``/``en``: each
        position's test span in the bitmaps."""
        alt = alt_forced = -1
        for s in tries:
            if not ok[s]:
                continue
            if things_buf.find(1, st[s], en[s]) < 0:
                if not use_points or points_buf.find(1, st[s], en[s]) < 0:
                    return s
                if f and alt < 0:
                    alt = s
            elif f and alt_forced < 0 and boxes_buf.find(1, st[s], en[s]) < 0:
                alt_forced = s
        return alt if alt >= 0 else alt_forced

    def origins_of(i: int, wi: int) -> tuple[list, ...]:
        wa = np.array([wi], float)
        ex, ey, eok = _origins(x[i:i + 1], y[i:i + 1], r[i:i + 1], wa, h, (cw, ch), margin, gap)
        st, en = _spans(ex, ey, wa, px, py, cw)
        return ex[0].tolist(), ey[0].tolist(), eok[0].tolist(), st[0].tolist(), en[0].tolist()

    for b in np.asarray([] if reserved is None else reserved, dtype=np.float64).reshape(-1, 4):
        if np.isfinite(b).all():
            mark(int(b[0]), int(b[1]), int(math.ceil(b[2])), int(math.ceil(b[3])), True)
    for i in order.tolist():
        if flist[i]:
            mark_disc(i)  # forced nodes first: no label of lower priority may cover them
    for i in order.tolist():
        f = flist[i]
        if not f and lab_buf[yi[i] * cw + xi[i]]:
            continue  # its node is under a label already: a label here would point at nothing visible
        text, wi = texts[i], wl[i]
        if not text:
            continue
        x0s, y0s, ok = xs[i], ys[i], oks[i]
        tries = _ALL_SIDES if pref is None or not 0 <= pref[i] < 8 else _PREFERRING[pref[i]]
        hit = choose(sts[i], ens[i], ok, tries, f)
        if hit < 0:
            # Nothing fits at full length: elide to the room beside the node up to the canvas edge.
            c = r[i] + gap
            for s, avail in ((RIGHT, cw - margin - (x[i] + c)), (LEFT, x[i] - c - margin)):
                short, sw = _elided(text, math.floor(avail), measure) if avail < wi else ("", 0)
                if short:
                    ex, ey, eok, est, een = origins_of(i, sw)
                    if choose(est, een, eok, [s], f) == s:
                        hit, text, wi, x0s, y0s = s, short, sw, ex, ey
                        break
        if hit < 0:
            continue
        x0, y0 = x0s[hit], y0s[hit]
        mark(x0, y0, x0 + wi, y0 + h, True)
        if not f:
            mark_disc(i)
        keep[i] = True
        rects[i] = (x0, y0, x0 + wi, y0 + h)
        anchors[i] = (x0, y0 + h / 2)
        sides[i] = hit
        shown[i] = text
    _POOL.append(bufs)
    return Placement(keep, rects, anchors, sides, shown)


def _spans(x0: np.ndarray, y0: np.ndarray, w: np.ndarray, px: int, py: int, cw: int) -> tuple[np.ndarray, ...]:
    """Flat bitmap offsets ``[start, end)`` of each position's test: its padded box's top row in the bands."""
    row = np.maximum(y0 - py, 0) * cw
    wi = np.asarray(w, dtype=np.int64)[:, None]
    return row + np.maximum(x0 - px, 0), row + np.minimum(x0 + wi + px, cw)


def _mark_points(band: np.ndarray, pts: np.ndarray, tall: int, py: int) -> None:
    """Set ``band`` for every point: rows ``y - tall + 1 .. y`` of its column (the row-band encoding)."""
    ch, cw = band.shape
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(pts).all(axis=1) & (pts[:, 0] >= 0) & (pts[:, 0] < cw) & (pts[:, 1] >= 0) & \
            (pts[:, 1] < ch)
    p = pts[inside].astype(np.int64)
    flat = band.reshape(-1)
    idx = (p[:, 1] * cw + p[:, 0])[:, None] - cw * np.arange(tall, dtype=np.int64)[None, :]
    flat[idx[idx >= 0]] = 1


# -- the first, right-of-node-only declutter (kept for its callers) -------------------------------
def label_boxes(xy: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """Boxes ``(x0, y0, x1, y1)`` of left-anchored, vertically centred labels at screen points ``xy``."""
    widths = np.array([CHAR_W * len(t) for t in texts], dtype=np.float64)
    x0 = xy[:, 0] + OFFSET
    return np.column_stack([x0, xy[:, 1] - LINE_H / 2, x0 + widths, xy[:, 1] + LINE_H / 2])


def declutter(xy: np.ndarray, texts: Sequence[str], forced: Sequence[bool] | None = None) -> np.ndarray:
    """Boolean mask of the labels to show, in the given priority order (right of the node only).

    Labels off screen (NaN positions: behind the camera) are dropped; forced
    ones are kept first, then the others if their box overlaps none kept.
    The view uses :func:`place_labels`, which also moves labels around their node.
    """
    n = len(texts)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    boxes = label_boxes(np.asarray(xy, dtype=np.float64), texts)
    finite = np.isfinite(boxes).all(axis=1)
    forced_a = np.zeros(n, dtype=bool) if forced is None else np.asarray(forced, dtype=bool)
    kept: list[np.ndarray] = []
    for pass_forced in (True, False):
        for i in range(n):
            if keep[i] or not finite[i] or forced_a[i] != pass_forced:
                continue
            b = boxes[i]
            if not pass_forced and any(
                b[0] < k[2] and k[0] < b[2] and b[1] < k[3] and k[1] < b[3] for k in kept
            ):
                continue
            keep[i] = True
            kept.append(b)
    return keep
