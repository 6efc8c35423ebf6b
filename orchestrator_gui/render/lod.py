"""Level of detail for the 3D view (pure numpy): ranked edges and nodes, budgets, adaptive detail.

Under software OpenGL (llvmpipe) a frame costs per *primitive* and per
*pixel*: measured here, a point or a line costs about a microsecond of set-up
whatever its size, and a line a further ~50 ns per pixel it covers, so long
chords cost 7-16x short links (docs/rendering.md §5.2).  Hence:

* edges are ranked once per structural change by ``weight / (length + eps)``
  (heavy, short first) and a budget in *pixel equivalents* -- screen length
  plus a fixed charge per edge -- picks the prefix that fits;
* nodes are ranked by importance (attention, then degree), and while the view
  moves only the top ones are drawn when there are too many;
* the moving budget is not a constant: :class:`DetailController` scales it
  from measured frame times towards a target, so the same code holds ~30 FPS
  on llvmpipe and draws everything on a GPU.
"""

from __future__ import annotations

import numpy as np

#: Pixel-equivalent set-up charge of one edge (a 1-pixel line is mostly set-up).
EDGE_SETUP_PX = 20.0


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
        self.cum = np.cumsum(length[self.order])

    @property
    def total_length(self) -> float:
        """Summed world length of all edges."""
        return float(self.cum[-1]) if self.m else 0.0

    def count_within(self, budget_px: float | None, px_per_unit: float = 1.0, setup_px: float = EDGE_SETUP_PX) -> int:
        """How many top-ranked edges fit in ``budget_px`` pixel equivalents (``None``: all)."""
        if budget_px is None or self.m == 0:
            return self.m
        cost = self.cum * px_per_unit + setup_px * np.arange(1, self.m + 1)
        return int(np.searchsorted(cost, budget_px, side="right"))

    def mask(self, budget_px: float | None, px_per_unit: float = 1.0,
             setup_px: float = EDGE_SETUP_PX) -> np.ndarray | None:
        """Boolean mask of the kept edges, or ``None`` when every edge fits."""
        k = self.count_within(budget_px, px_per_unit, setup_px)
        if k >= self.m:
            return None
        keep = np.zeros(self.m, dtype=bool)
        keep[self.order[:k]] = True
        return keep


class NodeRanking:
    """Nodes ordered by importance, for the moving-frame subset."""

    def __init__(self, importance: np.ndarray) -> None:
        self.n = len(importance)
        self.order = np.argsort(-np.asarray(importance, np.float64), kind="stable")

    def mask(self, count: int | None, always: np.ndarray | None = None, total: int | None = None) -> np.ndarray | None:
        """The ``count`` most important rows plus ``always`` (rows), over ``total`` rows; ``None`` if that is all."""
        total = self.n if total is None else total
        if count is None or count >= total:
            return None
        keep = np.zeros(total, dtype=bool)
        keep[self.order[: max(int(count), 0)]] = True
        keep[self.n :] = True  # rows added since the ranking: new, hence interesting
        if always is not None and len(always):
            keep[always] = True
        return keep


def pixels_per_unit(canvas_size: tuple[int, int], scale_factor: float) -> float:
    """Rough screen pixels per world unit at the camera centre (a turntable shows ~``scale_factor`` units)."""
    return float(min(canvas_size)) / max(float(scale_factor), 1e-6)


class DetailController:
    """Scales the moving-frame detail so frames take about ``target_ms``.

    ``detail`` lies in ``[lowest, 1]``; :meth:`update` takes the duration of
    a frame drawn at the current detail and returns True when the detail
    moved enough (by more than ``step``) that the subsets should be rebuilt.
    """

    def __init__(self, target_ms: float = 30.0, lowest: float = 0.01, step: float = 0.15) -> None:
        self.target_ms = target_ms
        self.lowest = lowest
        self.step = step
        self.detail = 1.0
        self.applied = 1.0

    def update(self, frame_ms: float) -> bool:
        """Fold one measured frame time in; True when the subsets should follow the new detail."""
        if not np.isfinite(frame_ms) or frame_ms <= 0:
            return False
        # Damped multiplicative step: frame time is roughly proportional to detail above a fixed floor.
        ratio = float(np.clip((self.target_ms / frame_ms) ** 0.8, 0.5, 1.6))
        self.detail = float(np.clip(self.detail * ratio, self.lowest, 1.0))
        if abs(self.detail / self.applied - 1.0) > self.step:
            self.applied = self.detail
            return True
        return False
