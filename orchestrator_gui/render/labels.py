"""Label placement: keep the few labels that fit on screen without overlapping (pure numpy).

Labels are few (hovered, selected, top attention), so a greedy pass in
priority order is enough: each label claims a box to the right of its node;
a later label whose box overlaps a kept one is dropped, unless it is forced
(hovered or selected labels always show).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Approximate advance per character and line height, in pixels, of the 8 pt label font.
CHAR_W = 6.2
LINE_H = 14.0
#: Gap between the node centre and the text.
OFFSET = 9.0


def label_boxes(xy: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """Boxes ``(x0, y0, x1, y1)`` of left-anchored, vertically centred labels at screen points ``xy``."""
    widths = np.array([CHAR_W * len(t) for t in texts], dtype=np.float64)
    x0 = xy[:, 0] + OFFSET
    return np.column_stack([x0, xy[:, 1] - LINE_H / 2, x0 + widths, xy[:, 1] + LINE_H / 2])


def declutter(xy: np.ndarray, texts: Sequence[str], forced: Sequence[bool] | None = None) -> np.ndarray:
    """Boolean mask of the labels to show, in the given priority order.

    Labels off screen (NaN positions: behind the camera) are dropped; forced
    ones are kept first, then the others if their box overlaps none kept.
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
