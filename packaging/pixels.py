"""What a picture of the app must show, shared by the start-time measurement and the bare-machine test.

Both look at the middle of the window, where the 3D view sits: the graph's
nodes are the only strongly coloured things there. Panels, text, the empty
view and the "3D view unavailable" message are grey.
"""

from __future__ import annotations

import numpy as np

#: A pixel is strongly coloured when its channels differ by this much (0-255) ...
MIN_CHROMA = 80
#: ... and its brightest channel reaches this.
MIN_VALUE = 110
#: Coloured pixels (of every 4th pixel each way) in the view that mean the graph is drawn.
MIN_GRAPH_PIXELS = 8
#: Distinct colours a real window has at least (menus, panels, text, nodes).
MIN_COLOURS = 64


def view_region(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The middle of a ``width`` x ``height`` window at the top left of ``rgb``, every 4th pixel.

    Every 4th pixel each way keeps a screen poll far under a millisecond; a node
    is larger than that.
    """
    return rgb[height * 15 // 100: height * 85 // 100: 4, width * 25 // 100: width * 75 // 100: 4, :3]


def graph_pixels(rgb: np.ndarray, width: int, height: int) -> int:
    """Strongly coloured pixels in the 3D view's part of the window (see :func:`view_region`)."""
    region = view_region(rgb, width, height).astype(np.int16)
    hi, lo = region.max(axis=2), region.min(axis=2)
    return int(np.count_nonzero((hi - lo >= MIN_CHROMA) & (hi >= MIN_VALUE)))


def distinct_colours(rgb: np.ndarray) -> int:
    """Number of distinct RGB colours in the picture."""
    flat = rgb[..., :3].reshape(-1, 3).astype(np.uint32)
    return int(np.unique((flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]).size)
