"""Edge level of detail by *pixel* budget (pure numpy).

Under software OpenGL the cost of an edge is the number of pixels it
covers: a long chord costs 7-16x a short link (RENDERING-NOTES), so a fixed
edge *count* is the wrong budget -- 12k long chords are as slow as 100k
short links.  Edges are therefore ranked once per structural change by
``weight / (length + eps)`` (heavy, short first), and a budget of screen
pixels picks the prefix of that ranking whose summed length fits.  Changing
the budget (zoom, moving vs still) is then a ``searchsorted`` on a cached
cumulative sum, O(log E), plus building the index subset.
"""

from __future__ import annotations

import numpy as np


class EdgeRanking:
    """Edges ordered by LOD priority with the running sum of their world lengths.

    Parameters
    ----------
    src, dst : ndarray of int
        Endpoint rows.
    weight : ndarray
    positions : ndarray, shape (N, 3)
    """

    def __init__(self, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, positions: np.ndarray) -> None:
        self.m = len(src)
        if self.m == 0:
            self.order = np.empty(0, np.int64)
            self.cum = np.empty(0, np.float64)
            return
        length = np.linalg.norm(positions[src].astype(np.float64) - positions[dst], axis=1)
        score = (np.clip(np.asarray(weight, np.float64), 0.0, None) + 1e-3) / (length + 0.05)
        self.order = np.argsort(-score, kind="stable")
        # A zero-length edge still costs a pixel or so; count it as a short one.
        self.cum = np.cumsum(np.maximum(length[self.order], 1e-3))

    @property
    def total_length(self) -> float:
        """Summed world length of all edges."""
        return float(self.cum[-1]) if self.m else 0.0

    def count_within(self, world_budget: float | None) -> int:
        """How many top-ranked edges fit in ``world_budget`` (``None``: all)."""
        if world_budget is None or self.m == 0:
            return self.m
        return int(np.searchsorted(self.cum, world_budget, side="right"))

    def mask(self, world_budget: float | None) -> np.ndarray | None:
        """Boolean mask of the kept edges, or ``None`` when every edge fits."""
        k = self.count_within(world_budget)
        if k >= self.m:
            return None
        keep = np.zeros(self.m, dtype=bool)
        keep[self.order[:k]] = True
        return keep


def pixels_per_unit(canvas_size: tuple[int, int], scale_factor: float) -> float:
    """Rough screen pixels per world unit at the camera centre (a turntable shows ~``scale_factor`` units)."""
    return float(min(canvas_size)) / max(float(scale_factor), 1e-6)
