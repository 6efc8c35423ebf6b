"""Picking and output half of :class:`~orchestrator_gui.render.scene.GraphScene` (a mixin).

Node positions are projected with the composed scene->canvas matrix (one
matrix product, cached per camera pose and position version) and queried
with :mod:`orchestrator_gui.render.picking`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from orchestrator_gui.render.picking import pick, pick_rect, project


class PickingMixin:
    """``pick_at``, ``pick_rect``, ``screen_position``, ``render`` and ``stats`` of :class:`GraphScene`."""

    # -- picking -------------------------------------------------------------------------
    def _mvp(self) -> np.ndarray:
        tr = self.view.scene.node_transform(self.canvas.scene)
        return np.asarray(tr.map(np.eye(4)), dtype=np.float64)

    def projected(self) -> tuple[np.ndarray, np.ndarray]:
        """Screen positions (N, 2) in canvas pixels and depth (N,) of every node, cached per camera pose."""
        mvp = self._mvp()
        key = (mvp.tobytes(), self._pos_version, tuple(self.canvas.size))
        if key != self._proj_key or self._proj is None:
            self._proj = project(self._pos, mvp)
            self._proj_key = key
        return self._proj

    def _visible(self) -> np.ndarray:
        return (self.nodes.buffers.data["a_size"] > 0) & (self.nodes.buffers.data["a_color"][:, 3] > 0)

    def pick_at(self, x: float, y: float, radius: float = 6.0) -> str | None:
        """Id of the node under canvas pixel ``(x, y)`` (nearest in depth among those hit), or ``None``."""
        if self.graph is None or len(self._pos) == 0:
            return None
        self.flush()
        xy, depth = self.projected()
        row = pick(xy, depth, x, y, radius, sizes=self.nodes.buffers.data["a_size"], visible=self._visible())
        return None if row is None else self.graph.id_of(row)

    def pick_rect(self, x0: float, y0: float, x1: float, y1: float) -> list[str]:
        """Ids of the visible nodes whose centre lies in the canvas-pixel rectangle."""
        if self.graph is None or len(self._pos) == 0:
            return []
        self.flush()
        xy, _ = self.projected()
        return self.graph.ids_of(pick_rect(xy, x0, y0, x1, y1, visible=self._visible()))

    def screen_position(self, node_id: str) -> tuple[float, float]:
        """Canvas pixel of ``node_id``'s centre (NaN when behind the camera)."""
        self.flush()
        xy, _ = self.projected()
        x, y = xy[self.graph.row_of(node_id)]
        return float(x), float(y)

    # -- output --------------------------------------------------------------------------
    def render(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """Draw one frame off-screen at full detail (every edge) and return it as (H, W, 4) uint8."""
        self.flush()
        modes = self.edges.mode, self.nodes.mode
        shown = self.edge_image.visible, self.edges.visible, self.node_image.visible, self.nodes.visible
        held, self._hold_draw = self._hold_draw, "drop"
        # Every edge and node, drawn directly: the progressive images have the canvas' size, not ``size``.
        self.edges.set_subset("full", None)
        self.edges.mode, self.nodes.mode = "full", "still"
        self.edge_image.visible, self.edges.visible = False, self._show["edges"]
        self.node_image.visible, self.nodes.visible = False, True
        self.highlight.sync()  # canvas.render draws without the draw event that syncs it for frames
        try:
            return self.canvas.render(size=size)
        finally:
            self.edges.mode, self.nodes.mode = modes
            self.edge_image.visible, self.edges.visible, self.node_image.visible, self.nodes.visible = shown
            self._hold_draw = held

    def stats(self) -> dict[str, Any]:
        """Counters for tests and benchmarks (``edges_drawn``: in the last frame)."""
        return {
            "nodes": len(self._pos),
            "edges": len(self.edges.buffers.data["a_position"]) // 2,
            "edges_drawn": self.edges_shown,
            "edges_complete": bool(self.edge_image.visible and self.accumulator.complete),
            "nodes_drawn": self.nodes_shown,
            "nodes_complete": bool(self.node_image.visible and self.node_accumulator.complete),
            "detail": self.detail.detail,
            "flushes": self.flushes,
            "node_uploads": self.nodes.buffers.uploads,
            "edge_uploads": self.edges.buffers.uploads,
            "moving": self.moving,
            "time": time.perf_counter(),
        }
