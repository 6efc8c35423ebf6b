"""Level-of-detail half of :class:`~orchestrator_gui.render.scene.GraphScene` (a mixin).

Ranks edges and nodes (:mod:`.lod`), builds the moving and still index
subsets for the current zoom, and learns from the first frame whether the
renderer is software OpenGL (then still frames get a budget when edges are
drawn directly, and progressive images by default: :mod:`.scene_layer`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator_gui.render import arrays
from orchestrator_gui.render.lod import EdgeRanking, NodeRanking, pixels_per_unit

#: Edge pixels per still frame under software OpenGL (llvmpipe fills roughly 50M line pixels/s on
#: 2 cores, so this bounds a full-detail frame to a few hundred ms); a GPU draws every edge.
SOFTWARE_STILL_PX = 20e6
#: Target duration of a moving frame: ~45 FPS, and room within 50 ms for the model work and
#: input handled between two frames (the UI-thread bound of the desktop-app issue).
MOVING_FRAME_MS = 22.0
#: Least detail of a moving frame: nodes, and edge pixel equivalents (~3k typical edges).
MOVING_NODES_FLOOR = 20_000
MOVING_EDGE_PX_FLOOR = 150_000.0


class LodMixin:
    """Rankings, detail subsets and ``set_lod`` of :class:`GraphScene`."""

    def _first_draw(self, event: Any) -> None:
        """Learn the OpenGL renderer once a context exists; software GL gets a still-frame pixel budget."""
        self.canvas.events.draw.disconnect(self._first_draw)
        try:
            from vispy.gloo import gl

            self.renderer = str(gl.glGetParameter(gl.GL_RENDERER))
        except Exception:  # noqa: BLE001 - no context/driver query: keep the defaults
            return
        if any(name in self.renderer.lower() for name in ("llvmpipe", "softpipe", "swrast", "software")):
            if self.lod_px_still is None:
                self.lod_px_still = SOFTWARE_STILL_PX
                self._apply_lod(force=True)

    def _rank(self) -> None:
        """Rank edges and nodes for level of detail (after structural changes)."""
        self._rank_version += 1
        g = self.graph
        if g is None or len(g) == 0:
            self._ranking = EdgeRanking(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), self._pos)
            self._node_ranking = NodeRanking(np.empty(0))
        else:
            ea = g.edge_arrays()
            self._ranking = EdgeRanking(ea.src, ea.dst, ea.weight, self._pos)
            if self._degree is None:
                self._degree = arrays.node_degree(g)
            self._node_ranking = NodeRanking(arrays.importance(g, self._degree))
        self._ranking_stale = False

    def _apply_lod(self, force: bool = False) -> None:
        """Rebuild the moving/still subsets for the current zoom (skipped unless it changed by >30%)."""
        ppu = pixels_per_unit(tuple(self.canvas.size), self.camera.scale_factor)
        if not force and self._lod_ppu and 1 / 1.3 < ppu / self._lod_ppu < 1.3:
            return
        self._lod_ppu = ppu
        self._apply_moving_lod()
        self.edges.set_subset("still", self._edge_mask(self.lod_px_still))

    def _edge_mask(self, budget_px: float | None) -> np.ndarray | None:
        m = self.edges.buffers.n // 2
        mask = self._ranking.mask(budget_px, self._lod_ppu)
        if mask is not None and len(mask) < m:  # edges appended since the ranking: always drawn
            mask = np.concatenate([mask, np.ones(m - len(mask), dtype=bool)])
        return mask

    def _apply_moving_lod(self) -> None:
        """Subsets for moving frames at the controller's current detail."""
        d = self.detail.detail
        # Floors keep a moving frame recognisable even on a starved machine: the frame rate
        # gives way before the picture does.
        self.edges.set_subset("moving", self._edge_mask(max(d * self.lod_edge_px_moving, MOVING_EDGE_PX_FLOOR)))
        n = len(self._pos)
        always = None
        if self.graph is not None and n:
            extra = [i for i in [self._hovered, *self._running] if i and i in self.graph]
            always = np.concatenate([arrays.selected_rows(self.graph), self.graph.rows_of(extra)])
            for anim in self._anims:
                always = np.concatenate([always, self.graph.rows_of([i for i in anim.ids if i in self.graph])])
        count = max(int(d * self.lod_nodes_moving), MOVING_NODES_FLOOR)
        self.nodes.set_subset("moving", self._node_ranking.mask(count, always, n))

    def set_lod(self, *, moving_px: float | None = ..., moving_nodes: int | None = ...,
                still_px: float | None = ..., target_ms: float | None = None) -> None:
        """Tune level of detail: budgets at full detail, the still budget (``None``: all) and the frame target."""
        if moving_px is not ...:
            self.lod_edge_px_moving = float("inf") if moving_px is None else moving_px
        if moving_nodes is not ...:
            self.lod_nodes_moving = 10**12 if moving_nodes is None else moving_nodes
        if still_px is not ...:
            self.lod_px_still = still_px
        if target_ms is not None:
            self.detail.target_ms = float(target_ms)
        self._apply_lod(force=True)
        self.canvas.update()


__all__ = ["MOVING_EDGE_PX_FLOOR", "MOVING_FRAME_MS", "MOVING_NODES_FLOOR", "SOFTWARE_STILL_PX", "LodMixin"]
