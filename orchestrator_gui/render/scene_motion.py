"""Camera and animation half of :class:`~orchestrator_gui.render.scene.GraphScene` (a mixin).

Level of detail follows activity: every camera change, model update or
animation frame calls :meth:`MotionMixin._busy`, which switches the edges to
their cheap subset and (re)starts the settle timer; when it fires, the full
subset comes back and the labels are re-placed for the new pose.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from orchestrator_gui.model.coords import to_cartesian
from orchestrator_gui.render.animation import CameraFlight, NodeAnimation, node_frame
from orchestrator_gui.render.camera import DEFAULT_STATE, interpolate_pose


class MotionMixin:
    """Camera control, flights, node animations and the moving/still switch of :class:`GraphScene`."""

    # -- camera --------------------------------------------------------------------------
    def _on_camera_change(self) -> None:
        if self._ready:
            self._update_fog()
        self._busy()

    def _busy(self) -> None:
        """Something is changing (camera, model, animation): draw cheap frames until it settles."""
        self.moving = True
        if self.edges is not None and self.nodes is not None:
            self.edges.mode = self.nodes.mode = "moving"
        self._settle_timer.stop()
        self._settle_timer.start()

    def frame_done(self, frame_ms: float) -> None:
        """A frame was presented after ``frame_ms`` of drawing (the Qt widget reports it).

        Moving frames feed the detail controller; and the settle timer
        restarts only now, because a slow frame must not count as the quiet
        period after the change that caused it.
        """
        if self._frame_mode == "moving" and self.detail.update(frame_ms):
            # The new subsets serve the next moving frame, which the next change brings: asking for a
            # redraw here would chain frames (each one re-tuning the detail) and never settle.
            held, self._hold_draw = self._hold_draw, "drop"
            try:
                self._apply_moving_lod()
            finally:
                self._hold_draw = held
        if self.moving:
            self._settle_timer.stop()
            self._settle_timer.start()

    def _settle(self, *_: Any) -> None:
        if self._flight is not None:  # still flying: keep the cheap frames
            self._settle_timer.start()
            return
        self.moving = False
        if self.edges is not None:
            if self._ranking_stale and self.graph is not None:
                self._rank()
                self._apply_lod(force=True)
            else:
                self._apply_lod()
            self.edges.mode = self.nodes.mode = "still"
        self.label_layer.place()
        self.canvas.update()

    def reset_camera(self) -> None:
        """Back to the default pose (whole graph, slightly from above)."""
        self._flight = None
        self.camera.set_pose(DEFAULT_STATE)

    def fit(self) -> None:
        """Centre and zoom so every visible node is in view."""
        self._flight = None
        self.camera.set_pose(self._fit_pose())

    def _fit_pose(self) -> dict[str, Any]:
        pose = self.camera.get_pose()
        vis = self._presence > 0 if len(self._presence) else None
        pts = self._pos[vis] if vis is not None else self._pos
        if len(pts) == 0:
            pose.update(center=[0.0, 0.0, 0.0], scale_factor=DEFAULT_STATE["scale_factor"])
            return pose
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        center = (lo + hi) / 2
        radius = float(np.linalg.norm(pts - center, axis=1).max())
        pose.update(center=[float(v) for v in center], scale_factor=max(2.6 * radius, 0.5))
        return pose

    def camera_state(self) -> dict[str, Any]:
        """The camera pose as a JSON-friendly dict (for settings)."""
        return self.camera.get_pose()

    def set_camera_state(self, state: dict[str, Any]) -> None:
        """Restore a pose from :meth:`camera_state`; raises ``ValueError`` on bad values."""
        self._flight = None
        self.camera.set_pose(state)

    def fly_to(self, node_id: str, duration_s: float = 0.6) -> None:
        """Animate the camera to centre ``node_id`` (zooming in if far out); unknown ids raise ``KeyError``."""
        if self.graph is None or node_id not in self.graph:
            raise KeyError(node_id)
        a = self.camera.get_pose()
        b = dict(a)
        b["center"] = [float(v) for v in self.graph.positions[self.graph.row_of(node_id)]]
        b["scale_factor"] = min(a["scale_factor"], 3.2)
        self._flight = CameraFlight(a, b, float(duration_s), self.animator.clock())
        if duration_s <= 0:
            self._frame(self.animator.clock())
            return
        self.animator.kick()

    # -- node animations -------------------------------------------------------------------
    def animate_growth(self, parent_id: str, child_ids: Iterable[str], duration_s: float = 0.5) -> None:
        """New nodes grow out of their parent: they start at its position, small, and move to their own."""
        g = self.graph
        kids = [c for c in child_ids if g is not None and c in g]
        if g is None or parent_id not in g or not kids:
            return
        if self._dirty:
            # The children must be in the buffers first: start once the pending update has
            # been applied (on the next loop turn), not by applying it here -- the caller's
            # model change, the buffer update and the frame stay three short main-thread steps.
            self._after_flush.append(lambda: self.animate_growth(parent_id, kids, duration_s))
            return
        rows = g.rows_of(kids)
        start = np.repeat(g.positions[g.row_of(parent_id)][None, :], len(kids), axis=0)
        self._start_nodes(NodeAnimation(kids, start, g.positions[rows].copy(), 0.15, 1.0, duration_s,
                                        self.animator.clock(), kind="growth"))

    def animate_converge(self, input_ids: Iterable[str], result_id: str, duration_s: float = 0.6) -> None:
        """Aggregated inputs drift into their result and fade; the result grows where they meet."""
        g = self.graph
        if g is None:
            return
        input_ids = list(input_ids)
        if self._dirty:  # as in animate_growth: after the pending update
            self._after_flush.append(lambda: self.animate_converge(input_ids, result_id, duration_s))
            return
        now = self.animator.clock()
        inputs = [i for i in list(input_ids) if i in g and i != result_id]
        if result_id in g:
            end = g.positions[g.row_of(result_id)]
            if inputs:
                rows = g.rows_of(inputs)
                self._start_nodes(NodeAnimation(inputs, g.positions[rows].copy(), np.repeat(end[None], len(rows), 0),
                                                1.0, 0.6, duration_s, now, fade=0.25, kind="converge"))
                start = g.positions[rows].mean(axis=0)[None, :]
            else:
                start = end[None, :]
            self._start_nodes(NodeAnimation([result_id], start, end[None, :].copy(), 0.2, 1.0, duration_s, now,
                                            kind="growth"))

    def animate_move(self, ids: Iterable[str], old_spherical: np.ndarray, duration_s: float = 0.7) -> None:
        """Moved nodes glide from their old places to their new ones (a relayout, or its undo).

        ``old_spherical`` is ``(len(ids), 3)`` ``(theta, phi, r)``, as a ``MoveNode`` edit records it.
        """
        g = self.graph
        if g is None:
            return
        ids, old = list(ids), np.asarray(old_spherical, dtype=np.float64).reshape(-1, 3)
        if self._dirty:  # as in animate_growth: after the pending update
            self._after_flush.append(lambda: self.animate_move(ids, old, duration_s))
            return
        keep = np.array([i in g for i in ids], dtype=bool)
        live = [i for i, k in zip(ids, keep) if k]
        if not live:
            return
        start = to_cartesian(old[keep])
        rows = g.rows_of(live)
        self._start_nodes(NodeAnimation(live, start, g.positions[rows].copy(), 1.0, 1.0, duration_s,
                                        self.animator.clock(), kind="move"))

    def _start_nodes(self, anim: NodeAnimation) -> None:
        self._anims.append(anim)
        self._frame(self.animator.clock())
        self.animator.kick()

    @property
    def animating(self) -> bool:
        """True while a flight or node animation runs (or waits for its rows to be uploaded)."""
        return bool(self._anims) or bool(self._after_flush) or self._flight is not None

    def _frame(self, now: float) -> bool:
        """Apply one frame of every running animation; return whether any is still running.

        The redraw is requested for the next loop turn (see ``GraphScene.flush``).
        """
        held, self._hold_draw = self._hold_draw, True
        try:
            return self._frame_step(now)
        finally:
            self._hold_draw = held

    def _mirrors_current(self) -> bool:
        """Whether the uploaded buffers hold every node and edge of the graph.

        A transform that lands while an animation runs changes the graph at
        once but reaches the buffers only with the next flush (a loop turn
        later). A frame in between must not patch positions: the graph's edge
        arrays would then name rows the buffers do not have yet. It waits for
        that flush instead; the animation is timed by the clock, so the frame
        after it catches up.
        """
        g = self.graph
        lagging = g is not None and (len(self._pos) != len(g) or self.edges.buffers.n // 2 != g.number_of_edges())
        pending = bool({"structure", "append"} & self._dirty)
        if not (lagging or pending):
            return True
        if lagging and not pending:  # nothing queued would bring them level: rebuild on the next turn
            self._dirty.add("structure")
        if not self._flush_timer.running:
            self._flush_timer.start()
        return False

    def _frame_step(self, now: float) -> bool:
        self._busy()
        if self._flight is not None:
            f = self._flight
            self.camera.set_pose(interpolate_pose(f.a, f.b, f.fraction(now)))
            if f.fraction(now) >= 1.0:
                self._flight = None
        if self._anims and self.graph is not None and self._mirrors_current():
            g = self.graph
            touched: list[np.ndarray] = []
            base, colors = self._sizes, self._colors
            for anim in list(self._anims):
                live = [i for i in anim.ids if i in g]
                keep = np.array([i in g for i in anim.ids], dtype=bool)
                if not live:
                    self._anims.remove(anim)
                    continue
                rows = g.rows_of(live)
                pos, scale, alpha = node_frame(anim, now)
                done = anim.fraction(now) >= 1.0
                if done:
                    self._anims.remove(anim)
                    self._pos[rows] = g.positions[rows]
                    scale, alpha = 1.0, 1.0
                else:
                    self._pos[rows] = pos[keep]
                self.nodes.patch("size", rows, base[rows] * scale)
                col = colors[rows].copy()
                col[:, 3] *= alpha
                self.nodes.patch("color", rows, col)
                touched.append(rows)
            if touched:
                self._push_positions(np.unique(np.concatenate(touched)))
        self.canvas.update()
        return self.animating
