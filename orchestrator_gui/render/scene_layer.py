"""Progressive full-detail edges for still frames: the layer half of :class:`~.scene.GraphScene` (a mixin).

With software OpenGL (or ``progressive = True``), once the view is still
the scene builds an image of *every* edge off-screen with
:class:`~orchestrator_gui.render.edge_layer.EdgeAccumulator`, one
time-bounded chunk per event-loop step (heavy, short edges first), and
shows it under the nodes. Until the image holds at least the edges of a
moving frame, frames keep drawing that moving subset directly, so the
picture never thins out; afterwards it is shown as it grows (a redraw at
most every :data:`SHOW_EVERY_S`) and once complete. Anything that changes
what the edges look like -- camera, edge buffers, fog, canvas size --
restarts the image on the next still frame.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from vispy import app as vapp

from orchestrator_gui.render.edge_layer import EdgeAccumulator, EdgeImage

#: While the image grows, show it at most this often (each showing is a frame).
SHOW_EVERY_S = 0.5


class LayerMixin:
    """Progressive edge image of still frames (``progressive``, ``accumulator``, ``edge_image``)."""

    def _init_layer(self) -> None:
        # Created right after the edge visual: the scene draws children in order.
        self.edge_image = EdgeImage(parent=self.view.scene)
        self.edge_image.visible = False
        self.accumulator = EdgeAccumulator(self.canvas, self.edges)
        #: ``None``: progressive when the renderer is software (a still-frame budget is set).
        self.progressive: bool | None = None
        # Repeating (stopped when the image is done): a one-shot vispy timer cannot re-arm itself
        # from its own callback.
        self._acc_timer = vapp.Timer(interval=0.0, connect=self._accumulate, app=self.canvas.app)
        self._acc_shown = 0.0
        # A step and a frame never run back to back (the two would be one long stall):
        # "frame" = a frame was asked for and is awaited; "after" = it was drawn, let one
        # loop turn pass before the next step.
        self._acc_gate: str | None = None
        #: Edges the last frame showed (directly or in the image).
        self.edges_shown = 0

    # -- decisions ---------------------------------------------------------------------------
    def _progressive_active(self) -> bool:
        on = self.progressive if self.progressive is not None else self.lod_px_still is not None
        return (bool(on) and self._show["edges"] and not self.moving and self.graph is not None
                and self.edges.buffers.n > 0)

    def _layer_key(self) -> tuple:
        prog = self.edges.shared_program
        return (self.edges.buffers.uploads, self.edges.buffers.n, self._mvp().tobytes(),
                tuple(int(v) for v in self.canvas.physical_size), tuple(prog["u_fog"]),
                tuple(prog["u_fog_color"]), float(prog["u_alpha"]), id(self._ranking))

    def _layer_order(self) -> np.ndarray:
        m = self.edges.buffers.n // 2
        order = self._ranking.order[self._ranking.order < m]
        if self._ranking.m < m:  # edges appended since the ranking go last
            order = np.concatenate([order, np.arange(self._ranking.m, m)])
        return order

    def _layer_min_show(self) -> int:
        """Segments the image must hold before it replaces the moving subset."""
        return min(self.edges.subset_size("moving"), self.edges.buffers.n // 2)

    # -- per frame ---------------------------------------------------------------------------
    def _choose_edge_source(self) -> None:
        """Before a frame: draw edges directly, or show the (growing) image instead."""
        acc = self.accumulator
        # This frame is a main-thread step of its own: the next accumulation step waits a turn.
        self._acc_gate = "after"
        if not self._progressive_active():
            self._acc_timer.stop()
            self._show_layer(False, still_edges=True)
            return
        key = self._layer_key()
        if acc.key != key:
            acc.reset(key, self._layer_order)
            self._acc_shown = time.perf_counter()
            if not self._acc_timer.running:
                self._acc_timer.start()
        self._show_layer(acc.done >= max(self._layer_min_show(), 1) or acc.complete, still_edges=False)

    def _show_layer(self, on: bool, *, still_edges: bool) -> None:
        held, self._hold_draw = self._hold_draw, "drop"  # visibility changes must not ask for frames
        try:
            if on:
                self.edge_image.set_image(self.accumulator.texture, self.accumulator.size)
            if self.edge_image.visible != on:
                self.edge_image.visible = on
            direct = self._show["edges"] and not on
            if self.edges.visible != direct:
                self.edges.visible = direct
            if not still_edges and direct:
                # The image is not ready: the frame keeps the moving subset, as before the stop.
                self.edges.mode = "moving"
            self.edges_shown = (max(self.accumulator.done, 0) if on else
                                self.edges.drawn_segments() if direct else 0)
        finally:
            self._hold_draw = held

    def _accumulate(self, *_: Any) -> None:
        acc = self.accumulator
        if self._acc_gate == "frame":
            return
        if self._acc_gate == "after":
            self._acc_gate = None
            return
        if not self._progressive_active() or acc.key is None or acc.complete:
            self._acc_timer.stop()
            return
        if acc.key != self._layer_key():  # changed since the last frame: the next one restarts it
            self._acc_timer.stop()
            self.canvas.update()
            return
        if acc.step() <= 0 and not acc.complete:
            self._acc_timer.stop()
            acc.invalidate()  # no framebuffer to draw into (not shown yet): retry with the next frame
            return
        now = time.perf_counter()
        ready = acc.done >= max(self._layer_min_show(), 1)
        if acc.complete or (ready and now - self._acc_shown >= SHOW_EVERY_S):
            self._acc_shown = now
            self._acc_gate = "frame"
            self.canvas.update()
        if acc.complete:
            self._acc_timer.stop()

    def finish_edges(self) -> None:
        """Complete the still frame's edge image now, in one go (tests, exports)."""
        self._choose_edge_source()
        acc = self.accumulator
        while acc.key is not None and not acc.complete:
            if acc.step() <= 0:
                break
        self.canvas.update()


__all__ = ["SHOW_EVERY_S", "LayerMixin"]
