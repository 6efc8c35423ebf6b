"""GraphScene: the thought graph drawn in a vispy SceneCanvas, patched in place as the model changes.

Draw order (each visual sets its own GL state): guide shells and edges
first, both without depth writes so nothing z-fights with the markers; then
the node sprites with depth test and writes; labels last, on top.

Updates: the scene listens to the graph's ``changed`` burst, folds it into a
dirty set and flushes once on the next event-loop turn (a zero-interval
single-shot timer), so a burst of transactions costs one buffer update.
Only a structural change (nodes or edges added/removed) re-uploads whole
buffers; moves, activation, attention, flags and selection patch the
attribute buffers over the changed row range.

Level of detail: while the camera moves (and for a short moment after),
edges are drawn through an index subset of at most :attr:`lod_budget`
heavy/short edges; when it stops, one full-detail frame follows.  Marker
antialiasing is off above :attr:`aa_limit` nodes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from vispy import app as vapp
from vispy.scene.visuals import Text

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.render import arrays
from orchestrator_gui.render.animation import Animator, CameraFlight, NodeAnimation, node_frame
from orchestrator_gui.render.camera import DEFAULT_STATE, OrbitCamera, interpolate_pose
from orchestrator_gui.render.labels import declutter
from orchestrator_gui.render.picking import pick, pick_rect, project
from orchestrator_gui.render.theme import Theme, get_theme
from orchestrator_gui.render.visuals import Nodes, Segments, set_fog

#: Seconds without camera change after which full detail returns.
SETTLE_S = 0.2
#: Depth cue strength (0 off): how far the far side of the graph fades towards the background.
FOG_NODES = 0.5
FOG_EDGES = 0.6


class GraphScene:
    """The 3D view of one graph inside ``canvas`` (a vispy ``SceneCanvas``).

    Parameters
    ----------
    canvas : vispy.scene.SceneCanvas
    theme : str or Theme
        ``"dark"`` (default) or ``"light"``.

    Attributes
    ----------
    flushes : int
        Number of buffer-update bursts so far (tests count them).
    lod_budget : int
        Edges drawn while the camera moves.
    label_count : int
        Top-attention nodes that get a label.
    """

    def __init__(self, canvas: Any, *, theme: str | Theme = "dark") -> None:
        self.canvas = canvas
        self.theme = get_theme(theme)
        # Camera callbacks fire while the camera is being attached: state first.
        self.moving = False
        self._ready = False
        self._flight: CameraFlight | None = None
        self._settle_timer = vapp.Timer(interval=SETTLE_S, connect=self._settle, iterations=1, app=canvas.app)
        self.edges = None
        self.view = canvas.central_widget.add_view()
        self.view.camera = OrbitCamera(on_change=self._on_camera_change)
        self.camera: OrbitCamera = self.view.camera
        self.shells = Segments(parent=self.view.scene)
        self.edges = Segments(parent=self.view.scene)
        self.nodes = Nodes(parent=self.view.scene)
        self.labels = Text(parent=self.view.scene, font_size=8, anchor_x="left", anchor_y="center", bold=False)
        # The last visual drawn leaves its GL state behind for the next frame's clear:
        # depth_mask must stay True or the depth buffer is never cleared (RENDERING-NOTES).
        self.labels.set_gl_state(depth_test=False, blend=True, depth_mask=True)
        self.labels.visible = False
        self.graph: ThoughtGraph | None = None
        self.flushes = 0
        self.lod_budget = 12_000
        self.aa_limit = 20_000
        self.label_count = 10
        self._hovered: str | None = None
        self._threshold: float | None = None
        self._show = {"shells": True, "edges": True, "labels": True, "suppressed": True}
        self._dirty: set[str] = set()
        self._moved_ids: set[str] = set()
        self._pos = np.zeros((0, 3), np.float32)
        self._presence = np.zeros(0, np.float32)
        self._degree: np.ndarray | None = None
        self._proj_key: Any = None
        self._proj: tuple[np.ndarray, np.ndarray] | None = None
        self._pos_version = 0
        self._radius = 3.0
        self._label_rows = np.empty(0, np.int64)
        self._label_cands: list[tuple[str, str, np.ndarray]] = []
        self._label_strong: set[str] = set()
        self._anims: list[NodeAnimation] = []
        self._flush_timer = vapp.Timer(interval=0.0, connect=self._on_flush_timer, iterations=1, app=canvas.app)
        self.animator = Animator(
            make_timer=lambda cb: vapp.Timer(interval=1 / 60, connect=cb, app=canvas.app), on_frame=self._frame
        )
        self._build_shells()
        self._ready = True
        self._apply_theme()
        self.reset_camera()

    # -- graph binding -------------------------------------------------------------------
    def set_graph(self, graph: ThoughtGraph | None) -> None:
        """Show ``graph`` (``None`` clears the view); listens to its change bursts until :meth:`disconnect`."""
        self.disconnect()
        self.graph = graph
        if graph is not None:
            graph.events.changed.connect(self._on_changed)
        self._hovered = None
        self._rebuild()
        self.flushes += 1
        self.canvas.update()

    def disconnect(self) -> None:
        """Stop listening to the graph and stop timers (call when the view closes)."""
        if self.graph is not None:
            self.graph.events.changed.disconnect(self._on_changed)
        self._flush_timer.stop()
        self._settle_timer.stop()
        self.animator.stop()
        self._anims.clear()
        self._flight = None

    def _on_changed(self, summary: Any) -> None:
        if summary.structure_changed:
            self._dirty.add("structure")
            # Animations track rows that may just have moved: snap them.
            self._anims.clear()
        if summary.moved:
            self._dirty.add("positions")
            self._moved_ids.update(summary.moved)
        if summary.activation or summary.all_activation or summary.attention or summary.all_attention:
            self._dirty.update(("style", "labels"))
        if summary.flags or summary.selection_changed:
            self._dirty.update(("style", "labels"))
        if summary.nodes_changed:
            self._dirty.update(("style", "labels"))
        if self._dirty and not self._flush_timer.running:
            self._flush_timer.start()

    def _on_flush_timer(self, *_: Any) -> None:
        self.flush()

    def flush(self) -> None:
        """Apply pending model changes to the GPU buffers now (normally done on the next loop turn)."""
        self._flush_timer.stop()
        dirty, self._dirty = self._dirty, set()
        if not dirty or self.graph is None:
            return
        if "structure" in dirty:
            self._rebuild()
        else:
            if "positions" in dirty:
                self._patch_positions(self._moved_ids)
            if "style" in dirty:
                self._restyle()
            if "labels" in dirty:
                self._update_labels()
        self._moved_ids.clear()
        self.flushes += 1
        self.canvas.update()

    # -- buffer building and patching ------------------------------------------------------
    def _rebuild(self) -> None:
        g = self.graph
        self._degree = None
        if g is None or len(g) == 0:
            self._pos = np.zeros((0, 3), np.float32)
            self._presence = np.zeros(0, np.float32)
            self.nodes.set_data(self._pos, np.zeros((0, 4)), np.zeros((0, 4)), np.zeros(0))
            self.edges.set_data(np.zeros((0, 3)), np.zeros((0, 4)))
            self.edges.set_subset(None)
            self._update_labels()
            self._pos_version += 1
            return
        self._pos = g.positions.astype(np.float32)
        self._pos_version += 1
        self._radius = float(np.sqrt((self._pos.astype(np.float64) ** 2).sum(axis=1).max()))
        self._presence = self._node_presence()
        self.nodes.set_data(self._pos, self._node_colors(), self._node_outlines(), self._node_sizes())
        self.nodes.antialias = len(g) <= self.aa_limit
        pos, col = arrays.edge_segments(g, theme=self.theme, positions=self._pos, presence=self._presence)
        self.edges.set_data(pos, col)
        m = g.number_of_edges()
        self.edges.set_subset(arrays.edge_lod_mask(g, self.lod_budget, self._pos) if m > self.lod_budget else None)
        self.edges.use_subset = self.moving
        self._update_labels()

    def _node_presence(self) -> np.ndarray:
        return arrays.node_presence(self.graph, show_suppressed=self._show["suppressed"], threshold=self._threshold)

    def _node_colors(self) -> np.ndarray:
        return arrays.node_colors(self.graph, self.theme, self._hovered, None, presence=self._presence)

    def _node_outlines(self) -> np.ndarray:
        return arrays.node_outlines(self.graph, self.theme, self._hovered, None)

    def _node_sizes(self) -> np.ndarray:
        return arrays.node_sizes(self.graph, presence=self._presence)

    def _restyle(self) -> None:
        """Recompute colours, outlines and sizes (vectorised) and patch only the rows that differ."""
        if self.graph is None or len(self.graph) == 0:
            return
        old = self._presence
        self._presence = self._node_presence()
        self.nodes.patch("color", None, self._node_colors())
        self.nodes.patch("outline", None, self._node_outlines())
        self.nodes.patch("size", None, self._node_sizes())
        if len(old) != len(self._presence) or not np.array_equal(old, self._presence):
            # Edge alpha depends on endpoint presence; recolour edges only when that changed.
            col = np.repeat(arrays.edge_colors(self.graph, self.theme, presence=self._presence), 2, axis=0)
            self.edges.patch("color", None, col)

    def _patch_positions(self, ids: Iterable[str]) -> None:
        g = self.graph
        rows = g.rows_of([i for i in ids if i in g])
        if len(rows) == 0:
            return
        self._pos[rows] = g.positions[rows]
        self._push_positions(rows)

    def _push_positions(self, rows: np.ndarray) -> None:
        """Upload node rows of ``self._pos`` and the vertices of every edge touching them."""
        self._pos_version += 1
        self.nodes.patch("position", rows, self._pos[rows])
        ea = self.graph.edge_arrays()
        if len(ea.src) == 0:
            return
        mask = np.zeros(len(self._pos), dtype=bool)
        mask[rows] = True
        seg = np.flatnonzero(mask[ea.src] | mask[ea.dst])
        if len(seg):
            verts = np.empty(2 * len(seg), dtype=np.int64)
            verts[0::2], verts[1::2] = 2 * seg, 2 * seg + 1
            vals = np.empty((2 * len(seg), 3), dtype=np.float32)
            vals[0::2], vals[1::2] = self._pos[ea.src[seg]], self._pos[ea.dst[seg]]
            self.edges.patch("position", verts, vals)

    def _update_labels(self) -> None:
        """Choose the label candidates (after model or selection changes), then place them."""
        g = self.graph
        self._label_cands = []
        if g is not None and self._show["labels"] and len(g):
            if self._degree is None:
                self._degree = arrays.node_degree(g)
            self._label_cands = arrays.label_candidates(
                g, self.label_count, None, self._hovered, presence=self._presence, degree=self._degree
            )
            self._label_strong = {self._hovered} | set(g.selected_ids())
        self._place_labels()

    def _place_labels(self) -> None:
        """Show the candidates that fit without overlapping at the current camera pose."""
        cands = self._label_cands
        if not cands or self.graph is None:
            self.labels.visible = False
            return
        rows = self.graph.rows_of([c[0] for c in cands])
        xy, _ = self.projected()
        forced = [c[0] in self._label_strong for c in cands]
        keep = declutter(xy[rows], [c[1] for c in cands], forced)
        if not keep.any():
            self.labels.visible = False
            return
        idx = np.flatnonzero(keep)
        self.labels.text = ["   " + cands[i][1] for i in idx]
        self.labels.pos = self._pos[rows[idx]]
        th = self.theme
        self.labels.color = np.array([th.label_selected if forced[i] else th.label for i in idx])
        self.labels.visible = True

    def _update_fog(self) -> None:
        """Fit the depth cue to the graph's extent seen from the current pose."""
        c = np.asarray(self.camera.center, dtype=np.float64)
        w_mid = float(np.append(c, 1.0) @ self._mvp()[:, 3])
        reach = self._radius + float(np.linalg.norm(c))
        rng = (w_mid - reach, w_mid + reach)
        set_fog(self.nodes, rng, FOG_NODES, self.theme.background)
        set_fog(self.edges, rng, FOG_EDGES, self.theme.background)

    # -- look ----------------------------------------------------------------------------
    def _build_shells(self) -> None:
        parts = arrays.shell_meshes()
        pos = np.concatenate([p for _, _, p in parts])
        self.shells.set_data(pos, np.tile(np.asarray(self.theme.shell, np.float32), (len(pos), 1)))

    def _apply_theme(self) -> None:
        self.canvas.bgcolor = self.theme.background
        n = len(self.shells.buffers.data["a_position"])
        self.shells.set_data(self.shells.buffers.data["a_position"], np.tile(np.asarray(self.theme.shell), (n, 1)))
        self._update_fog()

    def set_theme(self, theme: str | Theme) -> None:
        """Switch between ``"dark"`` and ``"light"`` (or a custom :class:`Theme`)."""
        self.theme = get_theme(theme)
        self._apply_theme()
        self._rebuild()
        self.canvas.update()

    def set_visibility(
        self, *, shells: bool | None = None, edges: bool | None = None, labels: bool | None = None,
        suppressed: bool | None = None,
    ) -> None:
        """Show or hide guide shells, edges, labels and suppressed nodes (``None`` leaves one as is)."""
        if shells is not None:
            self._show["shells"] = self.shells.visible = bool(shells)
        if edges is not None:
            self._show["edges"] = self.edges.visible = bool(edges)
        if labels is not None:
            self._show["labels"] = bool(labels)
            self._update_labels()
        if suppressed is not None and bool(suppressed) != self._show["suppressed"]:
            self._show["suppressed"] = bool(suppressed)
            self._restyle()
            self._update_labels()
        self.canvas.update()

    def visibility(self) -> dict[str, bool]:
        """Current ``shells``/``edges``/``labels``/``suppressed`` switches."""
        return dict(self._show)

    def set_activation_threshold(self, threshold: float | None) -> None:
        """Active region: nodes with activation >= ``threshold`` and their neighbours stand out; ``None`` turns it off."""
        self._threshold = None if threshold is None else float(threshold)
        self._restyle()
        self._update_labels()
        self.canvas.update()

    @property
    def activation_threshold(self) -> float | None:
        """The current active-region threshold."""
        return self._threshold

    def set_hovered(self, node_id: str | None) -> None:
        """Outline ``node_id`` as hovered (and label it); ``None`` clears."""
        if node_id == self._hovered:
            return
        self._hovered = node_id if (node_id is None or (self.graph is not None and node_id in self.graph)) else None
        self._restyle()
        self._update_labels()
        self.canvas.update()

    @property
    def hovered(self) -> str | None:
        """The hovered node id."""
        return self._hovered

    def set_selection(self, ids: Iterable[str]) -> None:
        """Replace the graph's selection (the ``SELECTED`` flags); the outline follows via the change burst."""
        if self.graph is not None:
            self.graph.select([i for i in ids if i in self.graph], "replace")
            self.flush()

    # -- camera --------------------------------------------------------------------------
    def _on_camera_change(self) -> None:
        if not self.moving:
            self.moving = True
            if self.edges is not None and self.edges._subset is not None:
                self.edges.use_subset = True
        if self._ready:
            self._update_fog()
        self._settle_timer.stop()
        self._settle_timer.start()

    def _settle(self, *_: Any) -> None:
        if self._flight is not None:  # still flying: keep the cheap frames
            self._settle_timer.start()
            return
        self.moving = False
        if self.edges is not None:
            self.edges.use_subset = False
        self._place_labels()
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
        pose.update(center=[float(v) for v in center], scale_factor=max(2.3 * radius, 0.5))
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
        self.flush()  # the children must be in the buffers first
        rows = g.rows_of(kids)
        start = np.repeat(g.positions[g.row_of(parent_id)][None, :], len(kids), axis=0)
        self._start_nodes(NodeAnimation(kids, start, g.positions[rows].copy(), 0.15, 1.0, duration_s,
                                        self.animator.clock(), kind="growth"))

    def animate_converge(self, input_ids: Iterable[str], result_id: str, duration_s: float = 0.6) -> None:
        """Aggregated inputs drift into their result and fade; the result grows where they meet."""
        g = self.graph
        if g is None:
            return
        self.flush()
        now = self.animator.clock()
        inputs = [i for i in input_ids if i in g and i != result_id]
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

    def _start_nodes(self, anim: NodeAnimation) -> None:
        self._anims.append(anim)
        self._frame(self.animator.clock())
        self.animator.kick()

    @property
    def animating(self) -> bool:
        """True while a flight or node animation runs."""
        return bool(self._anims) or self._flight is not None

    def _frame(self, now: float) -> bool:
        """Apply one frame of every running animation; return whether any is still running."""
        if self._flight is not None:
            f = self._flight
            self.camera.set_pose(interpolate_pose(f.a, f.b, f.fraction(now)))
            if f.fraction(now) >= 1.0:
                self._flight = None
        if self._anims and self.graph is not None:
            g = self.graph
            touched: list[np.ndarray] = []
            base = arrays.node_sizes(g, presence=self._presence)
            colors = self._node_colors()
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
        """Draw one frame off-screen at full detail and return it as (H, W, 4) uint8."""
        self.flush()
        lod = self.edges.use_subset
        self.edges.use_subset = False
        try:
            return self.canvas.render(size=size)
        finally:
            self.edges.use_subset = lod

    def stats(self) -> dict[str, Any]:
        """Counters for tests and benchmarks."""
        return {
            "nodes": len(self._pos),
            "edges": len(self.edges.buffers.data["a_position"]) // 2,
            "flushes": self.flushes,
            "node_uploads": self.nodes.buffers.uploads,
            "edge_uploads": self.edges.buffers.uploads,
            "moving": self.moving,
            "time": time.perf_counter(),
        }
