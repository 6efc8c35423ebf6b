"""Progressive full detail for still frames: the image half of :class:`~.scene.GraphScene` (a mixin).

With software OpenGL (or ``progressive = True``), once the view is still
the scene draws *every* edge and node off-screen with
:class:`~orchestrator_gui.render.image_layer.ImageAccumulator` -- nodes
first, then edges, one time-bounded chunk per event-loop step, most
important first -- and shows the results as two images (edges under the
nodes). A frame then costs two full-screen quads instead of 500k edges and
100k nodes.

Until an image is ready, frames draw directly what the moving frames drew
(the moving subsets), so the picture never thins out: the edge image is
shown as soon as it holds at least the moving subset (and then as it
grows, a redraw at most every :data:`SHOW_EVERY_S`), the node image when
complete. After a restyle without a camera change (hover, selection,
activation) the last complete node image stays, with the restyled nodes
drawn over it, until the new one is done (a second texture) -- for that
moment they show over nearer nodes too. When a restyled node's new disc
would not hide its old one (it shrank, moved, lost its outline or was
hidden), all nodes are drawn directly instead. Anything that changes
what is drawn -- camera, buffers, fog, canvas size -- restarts an image on
the next still frame. Small graphs (below ``layer_min_edges`` /
``layer_min_nodes``) are drawn directly: there a frame is cheap anyway.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from vispy import app as vapp

from orchestrator_gui.render.image_layer import ImageAccumulator, LayerImage

#: While the edge image grows, show it at most this often (each showing is a frame).
SHOW_EVERY_S = 0.5
#: Most restyled nodes drawn over the last node image while a new one is made.
OVERLAY_MAX = 2000


class LayerMixin:
    """Progressive edge and node images of still frames (``progressive``, ``edge_image``, ``node_image``)."""

    def _init_images(self) -> None:
        # Created right after the edge visual and before the node visual: the scene draws
        # children in order, and the node visual draws the restyled nodes over the node image.
        self.edge_image = LayerImage(parent=self.view.scene)
        self.edge_image.visible = False
        self.node_image = LayerImage(parent=self.view.scene)
        self.node_image.visible = False
        self.accumulator = ImageAccumulator(self.canvas, self.edges)
        #: ``None``: progressive when the renderer is software (a still-frame budget is set).
        self.progressive: bool | None = None
        #: Fewest edges / nodes for which an image is built (below, drawing directly is cheap).
        self.layer_min_edges = 20_000
        self.layer_min_nodes = 30_000
        # Repeating (stopped when the images are done): a one-shot vispy timer cannot re-arm
        # itself from its own callback.
        self._acc_timer = vapp.Timer(interval=0.0, connect=self._accumulate, app=self.canvas.app)
        self._acc_shown = 0.0
        # A step and a frame never run back to back (the two would be one long stall):
        # "frame" = a frame was asked for and is awaited; "after" = one was drawn, let one
        # loop turn pass before the next step.
        self._acc_gate: str | None = None
        #: Edges and nodes the last frame showed (directly or in an image).
        self.edges_shown = 0
        self.nodes_shown = 0

    def _init_node_accumulator(self) -> None:
        self.node_accumulator = ImageAccumulator(self.canvas, self.nodes, nodes=True, uniforms=self._node_uniforms,
                                                keep_front=True)
        self._overlay_rows: bytes | None = None

    def _node_uniforms(self) -> dict[str, Any]:
        return {"u_px_scale": float(self.canvas.pixel_scale),
                "u_antialias": 1.0 if self.nodes.antialias else 0.0}

    # -- decisions ---------------------------------------------------------------------------
    def _progressive_active(self) -> bool:
        on = self.progressive if self.progressive is not None else self.lod_px_still is not None
        return bool(on) and not self.moving and self.graph is not None

    def _edges_layered(self) -> bool:
        return (self._progressive_active() and self._show["edges"]
                and self.edges.buffers.n // 2 >= max(self.layer_min_edges, 1))

    def _nodes_layered(self) -> bool:
        return self._progressive_active() and len(self.nodes.buffers) >= max(self.layer_min_nodes, 1)

    def _pose(self) -> tuple[bytes, tuple[int, ...]]:
        return self._mvp().tobytes(), tuple(int(v) for v in self.canvas.physical_size)

    def _edge_key(self, pose: tuple) -> tuple:
        prog = self.edges.shared_program
        return (self.edges.buffers.uploads, self.edges.buffers.n, pose, tuple(prog["u_fog"]),
                tuple(prog["u_fog_color"]), float(prog["u_alpha"]), self._rank_version)

    def _node_look(self, pose: tuple) -> tuple:
        """What a node image depends on besides the buffers' contents."""
        prog = self.nodes.shared_program
        return (pose, tuple(prog["u_fog"]), tuple(prog["u_fog_color"]), float(prog["u_outline"]),
                self.nodes.antialias, float(self.canvas.pixel_scale))

    def _node_key(self, pose: tuple) -> tuple:
        return (self.nodes.buffers.uploads, self.nodes.buffers.n, self._node_look(pose), self._rank_version)

    def _edge_order(self) -> np.ndarray:
        return _ranked_first(self._ranking.order, self._ranking.m, self.edges.buffers.n // 2)

    def _node_order(self) -> np.ndarray:
        return _ranked_first(self._node_ranking.order, self._node_ranking.n, len(self.nodes.buffers))

    def _edge_min_show(self) -> int:
        """Segments the edge image must hold before it replaces the moving subset."""
        return max(min(self.edges.subset_size("moving"), self.edges.buffers.n // 2), 1)

    # -- per frame ---------------------------------------------------------------------------
    def _choose_sources(self) -> None:
        """Before a frame: draw edges and nodes directly, or show their images instead."""
        self._acc_gate = "after"  # this frame is a main-thread step of its own
        still_mode = "moving" if self.moving else "still"
        pose = self._pose() if self._progressive_active() else None
        edges_on, nodes_on = self._edges_layered(), self._nodes_layered()
        acc, nacc = self.accumulator, self.node_accumulator
        if edges_on:
            key = self._edge_key(pose)
            if acc.key != key:
                acc.reset(key, self._edge_order)
        overlay = None
        front_here = False
        if nodes_on:
            look = self._node_look(pose)
            key = self._node_key(pose)
            if nacc.key != key:
                nacc.reset(key, self._node_order, tag=(look, self.nodes.buffers.uploads, self._node_snapshot()))
            front = nacc.front
            if front is not None and front["tag"][0] == look:
                front_here = True
                # The last complete image, with the nodes restyled since drawn over it until
                # the new image is done (hover, selection: no 100k-node frame for a few rows).
                rows = self.nodes.buffers.touched_since(front["tag"][1])
                if rows is not None and len(rows) <= OVERLAY_MAX and self._covers(front["tag"][2], rows):
                    overlay = rows
        if (edges_on and not acc.complete) or (nodes_on and not nacc.complete):
            if not self._acc_timer.running:
                self._acc_shown = time.perf_counter()
                self._acc_timer.start()
        else:
            self._acc_timer.stop()
        show_edges = edges_on and (acc.complete or acc.done >= self._edge_min_show())
        show_nodes = overlay is not None
        # Without its image, a still frame draws what the moving frames drew while the
        # camera's new pose is being imaged (no thinning out), or every node after a
        # large restyle in the same pose.
        edge_mode = "moving" if edges_on else still_mode
        node_mode = "moving" if nodes_on and not front_here else still_mode
        held, self._hold_draw = self._hold_draw, "drop"  # visibility changes must not ask for frames
        try:
            self._show_image(self.edge_image, acc.texture, acc.size, show_edges)
            front_tex = nacc.front_texture if show_nodes else None
            self._show_image(self.node_image, *(front_tex or (None, (0, 0))), show_nodes)
            direct_edges = self._show["edges"] and not show_edges
            if self.edges.visible != direct_edges:
                self.edges.visible = direct_edges
            if direct_edges:
                self.edges.mode = edge_mode
            if show_nodes:
                self._set_overlay(overlay)
            else:
                if not self.nodes.visible:
                    self.nodes.visible = True
                self.nodes.mode = node_mode
            self.edges_shown = (max(acc.done, 0) if show_edges else
                                self.edges.drawn_segments() if direct_edges else 0)
            self.nodes_shown = len(self.nodes.buffers) if show_nodes else self.nodes.drawn()
        finally:
            self._hold_draw = held

    def _node_snapshot(self) -> dict[str, np.ndarray]:
        """What decides each node's footprint in an image: position, size, and whether it shows at all
        and has an outline (copied when an image is started; the image shows this state)."""
        d = self.nodes.buffers.data
        return {"pos": d["a_position"].copy(), "size": d["a_size"].copy(),
                "shown": d["a_color"][:, 3] > 0, "ring": d["a_outline"][:, 3] > 0}

    def _covers(self, old: dict[str, np.ndarray], rows: np.ndarray) -> bool:
        """Whether drawing ``rows`` as they are now hides how the image shows them.

        True when each row stays where it was, is at least as large, keeps its
        outline if it had one and is still shown (rows new since the image
        are always fine). Otherwise -- a node shrank, lost its outline, moved or
        was hidden -- its old disc would show around or beside the new one.
        """
        n_old = len(old["size"])
        rows = rows[rows < n_old]
        if len(rows) == 0:
            return True
        d = self.nodes.buffers.data
        return bool(np.all(d["a_position"][rows] == old["pos"][rows])
                    and np.all(d["a_size"][rows] >= old["size"][rows])
                    and np.all(~old["ring"][rows] | (d["a_outline"][rows, 3] > 0))
                    and np.all(~old["shown"][rows] | (d["a_color"][rows, 3] > 0)))

    def _set_overlay(self, rows: np.ndarray) -> None:
        """Draw only ``rows`` of the node visual (over the node image); none: hide it."""
        if len(rows) == 0:
            if self.nodes.visible:
                self.nodes.visible = False
            return
        tag = rows.tobytes()
        if tag != self._overlay_rows:
            mask = np.zeros(len(self.nodes.buffers), dtype=bool)
            mask[rows[rows < len(mask)]] = True
            self.nodes.set_subset("overlay", mask)
            self._overlay_rows = tag
        self.nodes.mode = "overlay"
        if not self.nodes.visible:
            self.nodes.visible = True

    @staticmethod
    def _show_image(visual: Any, texture: Any, size: tuple[int, int], on: bool) -> None:
        if on:
            visual.set_image(texture, size)
        if visual.visible != on:
            visual.visible = on

    def _accumulate(self, *_: Any) -> None:
        if self._acc_gate == "frame":
            return
        if self._acc_gate == "after":
            self._acc_gate = None
            return
        pose = self._pose() if self._progressive_active() else None
        nacc, acc = self.node_accumulator, self.accumulator
        jobs = []
        if self._nodes_layered() and nacc.key is not None and not nacc.complete:
            jobs.append((nacc, self._node_key))
        if self._edges_layered() and acc.key is not None and not acc.complete:
            jobs.append((acc, self._edge_key))
        if not jobs:
            self._acc_timer.stop()
            return
        job, key_of = jobs[0]  # nodes first: every frame needs them
        if job.key != key_of(pose):  # changed since the last frame: the next one restarts it
            self._acc_timer.stop()
            self.canvas.update()
            return
        if job.step() <= 0 and not job.complete:
            self._acc_timer.stop()
            job.invalidate()  # no framebuffer to draw into (not shown yet): retry with the next frame
            return
        now = time.perf_counter()
        edges_ready = job is acc and acc.done >= self._edge_min_show()
        if job.complete or (edges_ready and now - self._acc_shown >= SHOW_EVERY_S):
            self._acc_shown = now
            self._acc_gate = "frame"
            self._acc_timer.stop()  # the frame restarts it (no spinning if it never comes)
            self.canvas.update()
        else:
            self._acc_gate = "after"  # one loop turn (input, timers) between two steps


def _ranked_first(order: np.ndarray, ranked: int, n: int) -> np.ndarray:
    """Rows ``0..n-1`` in drawing order: the ranking's (rows still there), then rows added since it."""
    rows = order[order < n]
    return np.concatenate([rows, np.arange(ranked, n)]) if ranked < n else rows


__all__ = ["OVERLAY_MAX", "SHOW_EVERY_S", "LayerMixin"]
