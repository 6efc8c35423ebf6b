"""GraphScene: the thought graph drawn in a vispy SceneCanvas, patched in place as the model changes.

Draw order (each visual sets its own GL state): guide shells and edges
first, both without depth writes so nothing z-fights with the markers; then
the node sprites with depth test and writes; labels last, on top.

Updates: the scene listens to the graph's ``changed`` burst, folds it into a
dirty set and flushes once on the next event-loop turn (a zero-interval
single-shot timer), so a burst of transactions costs one buffer update.
A removal re-uploads whole buffers; additions append to the spare rows and
extend the LOD subsets by the new rows; moves, activation, attention, flags
and edits restyle and patch only the rows the burst names (whole-graph
changes -- selection, theme, threshold, hover -- restyle every row).  The
redraw a flush or an animation frame asks for is posted on the next loop
turn, so the buffer work and the (tens of ms, under llvmpipe) frame are two
main-thread steps with input and timers handled in between.

Level of detail: while anything changes -- camera, model, animation -- and
for :data:`SETTLE_S` after, edges are drawn through an index subset of the
heavy/short edges that fits a pixel budget (:mod:`.lod`); when it all
stops, full detail follows.  Marker antialiasing is off above
:attr:`aa_limit` nodes.  Under software OpenGL every edge in one frame
would cost seconds at 100k nodes, so the still frame's edges are built up
off-screen in ~15 ms steps and shown as one image (:mod:`.scene_layer`,
:mod:`.image_layer`): all 500k edges of a 100k-node graph in ~2 s under
llvmpipe, the window responsive meanwhile. ``lod_px_still``
(:data:`~.scene_lod.SOFTWARE_STILL_PX`) is the still budget when edges are drawn
directly (``progressive = False``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from vispy import app as vapp

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.render import arrays
from orchestrator_gui.render.animation import Animator, CameraFlight, NodeAnimation
from orchestrator_gui.render.camera import OrbitCamera
from orchestrator_gui.render.focus import FocusState, focus_mask
from orchestrator_gui.render.highlight import Highlight
from orchestrator_gui.render.lod import DetailController, EdgeRanking, NodeRanking
from orchestrator_gui.render.scene_labels import SceneLabels
from orchestrator_gui.render.scene_layer import LayerMixin
from orchestrator_gui.render.scene_lod import MOVING_FRAME_MS, LodMixin
from orchestrator_gui.render.scene_motion import MotionMixin
from orchestrator_gui.render.scene_pick import PickingMixin
from orchestrator_gui.render.scene_style import StyleMixin
from orchestrator_gui.render.shells import ShellGuides
from orchestrator_gui.render.theme import Theme, get_theme
from orchestrator_gui.render.visuals import Nodes, Segments, set_fog

#: Seconds without camera change after which full detail returns.
SETTLE_S = 0.2
#: Depth cue strength (0 off): how far the far side of the graph fades towards the background.
FOG_NODES = 0.5
FOG_EDGES = 0.6
#: Longest wait for a graph before the held-back text is drawn anyway (an empty window, a slow open).
TEXT_FALLBACK_S = 3.0


class GraphScene(LayerMixin, LodMixin, MotionMixin, PickingMixin, StyleMixin):
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
    lod_edge_px_moving, lod_nodes_moving : float
        Edge pixel equivalents and nodes drawn per moving frame at full detail; the
        :class:`~orchestrator_gui.render.lod.DetailController` scales both from frame times.
    lod_px_still : float or None
        Edge pixel equivalents per still frame (``None``: every edge).
    detail : DetailController
        Adaptive detail of moving frames (fed by :meth:`frame_done`).
    label_density : float
        How many labels to try, relative to the default (View ▸ Label Density).
    """

    def __init__(self, canvas: Any, *, theme: str | Theme = "dark") -> None:
        self.canvas = canvas
        self.theme = get_theme(theme)
        # Camera callbacks fire while the camera is being attached: state first.
        self.moving = False
        self._ready = False
        self._flight: CameraFlight | None = None
        self._settle_timer = vapp.Timer(interval=SETTLE_S, connect=self._settle, iterations=1, app=canvas.app)
        self.edges = self.nodes = None
        self.view = canvas.central_widget.add_view()
        self.view.camera = OrbitCamera(on_change=self._on_camera_change)
        self.camera: OrbitCamera = self.view.camera
        # Labels and shell names wait for the graph's first frame (see _release_text).
        self.text_held = True
        self._text_timer = vapp.Timer(interval=0.0, connect=self._release_text, iterations=1, app=canvas.app)
        self._text_fallback = vapp.Timer(interval=TEXT_FALLBACK_S, connect=self._release_text, iterations=1,
                                         app=canvas.app)
        self.guides = ShellGuides(self.view.scene)  # drawn first: before the edges
        self.shells, self.shell_labels = self.guides.lines, self.guides.names
        self.edges = Segments(parent=self.view.scene)
        self.lod_px_still: float | None = None
        self._show = {"shells": True, "edges": True, "labels": True, "suppressed": True}
        self._init_images()  # the images are drawn where the edges are: after them, before the nodes
        # The highlighted neighbourhood's edges: over the (dimmed) edges and images, under the nodes.
        self.highlight_edges = Segments(parent=self.view.scene)
        self.nodes = Nodes(parent=self.view.scene)
        self.highlight_nodes = Nodes(parent=self.view.scene)
        self.highlight = Highlight(self.nodes, self.edges, self.highlight_nodes, self.highlight_edges,
                                   self.edge_image, self.node_image)
        self._init_node_accumulator()
        # Node labels: screen-space text drawn last, a composed object with its own state.
        self.label_layer = SceneLabels(self)
        self.labels, self.label_plates = self.label_layer.labels, self.label_layer.label_plates
        self.graph: ThoughtGraph | None = None
        self.flushes = 0
        self.lod_edge_px_moving = 3.0e6
        self.lod_nodes_moving = 300_000
        self.detail = DetailController(target_ms=MOVING_FRAME_MS)
        self.aa_limit = 20_000
        self._ranking = EdgeRanking(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.zeros((0, 3)))
        self._node_ranking = NodeRanking(np.empty(0))
        self._rank_version = 0  # bumped by every ranking (part of the progressive images' keys)
        self._lod_ppu = 0.0
        self._ranking_stale = False
        self._frame_mode = "still"
        self._hovered: str | None = None
        #: The neighbourhood highlight, focus mode and the legend's kind filter (masks of the graph's rows).
        self.focus = FocusState()
        self._pose_before_focus: dict[str, Any] | None = None
        self._running: list[str] = []
        self._threshold: float | None = None
        self._dirty: set[str] = set()
        self._moved_ids: set[str] = set()
        # Nodes whose look a burst changed (restyled row by row); None: restyle every row.
        self._style_ids: set[str] | None = set()
        self._size_base = 0.0
        self._pos = np.zeros((0, 3), np.float32)
        self._presence = np.zeros(0, np.float32)
        self._colors = np.zeros((0, 4), np.float32)
        self._sizes = np.zeros(0, np.float32)
        self._degree: np.ndarray | None = None
        self._proj_key: Any = None
        self._proj: tuple[np.ndarray, np.ndarray] | None = None
        self._pos_version = 0
        self._radius = 3.0
        self._anims: list[NodeAnimation] = []
        self._after_flush: list = []  # animations to start once the pending buffer update is applied
        self._flush_timer = vapp.Timer(interval=0.0, connect=self._on_flush_timer, iterations=1, app=canvas.app)
        # Redraws requested while a model burst or an animation frame is applied are posted on
        # the next loop turn instead: the buffer work and the frame then run as two short
        # main-thread steps with input and timers handled in between, not as one long one.
        self._hold_draw: bool | str = False
        self._canvas_update = canvas.update
        canvas.update = self._update_canvas
        self._draw_timer = vapp.Timer(interval=0.001, connect=self._on_draw_timer, iterations=1, app=canvas.app)
        self.animator = Animator(
            make_timer=lambda cb: vapp.Timer(interval=1 / 60, connect=cb, app=canvas.app), on_frame=self._frame
        )
        self.renderer = ""
        canvas.events.draw.connect(self._first_draw)
        canvas.events.draw.connect(self._on_draw)
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
        self.focus.reset()
        self._refresh_focus(graph, None)
        self._rebuild()
        self.flushes += 1
        self.canvas.update()

    def disconnect(self) -> None:
        """Stop listening to the graph and stop timers (call when the view closes)."""
        if self.graph is not None:
            self.graph.events.changed.disconnect(self._on_changed)
        self._flush_timer.stop()
        self._draw_timer.stop()
        self._settle_timer.stop()
        self._acc_timer.stop()
        self.accumulator.invalidate()
        self.node_accumulator.invalidate()
        self.animator.stop()
        self._anims.clear()
        self._after_flush.clear()
        self._flight = None

    def _on_changed(self, summary: Any) -> None:
        if summary.nodes_removed or summary.edges_removed:
            # Rows moved (swap-remove): rebuild.  Animations track rows: snap them.
            self._dirty.add("structure")
            self._anims.clear()
        elif summary.nodes_added or summary.edges_added:
            # Pure additions land at the end of the mirrors: append to the buffers (the
            # appended rows are styled by the restyle of the same flush).
            self._dirty.update(("append", "style", "labels"))
        if summary.moved:
            self._dirty.add("positions")
            self._moved_ids.update(summary.moved)
        # Which rows to restyle: the ids a burst names, or every row when it rewrote a whole
        # mirror, changed the selection, or when activation moves the active region.
        whole = summary.all_activation or summary.all_attention or summary.selection_changed or (
            summary.activation and self._threshold is not None)
        named = [*summary.activation, *summary.attention, *summary.flags, *summary.nodes_changed]
        if whole:
            self._style_ids = None
        elif named and self._style_ids is not None:
            self._style_ids.update(named)
        if whole or named:
            self._dirty.add("style")
        if summary.selection_changed or summary.nodes_added or summary.edges_added:
            # The highlighted neighbourhood follows the selection and new links. Only a mask that is
            # on (or a selection change) restyles every row: a plain burst of additions must stay a
            # row-wise update, or every transaction would recolour the whole graph.
            self._dirty.add("focus")
            if summary.selection_changed or self.focus.styled:
                self._dirty.add("style")
                self._style_ids = None
        # Labels rank by attention and degree and skip hidden nodes: activation alone (no
        # active region) leaves them as they are.
        if (summary.attention or summary.all_attention or summary.flags or summary.selection_changed
                or summary.nodes_changed or (self._threshold is not None and summary.activation)):
            self._dirty.add("labels")
        if self._dirty and not self._flush_timer.running:
            self._flush_timer.start()

    def _on_flush_timer(self, *_: Any) -> None:
        self.flush()

    def _update_canvas(self, node: Any = None) -> None:
        """The canvas' ``update``: passed on at once, on the next loop turn while a draw is held, or dropped."""
        if self._hold_draw == "drop":
            return
        if self._hold_draw:
            if not self._draw_timer.running:
                self._draw_timer.start()
        else:
            self._canvas_update(node)

    def _on_draw_timer(self, *_: Any) -> None:
        self._canvas_update()

    def flush(self) -> None:
        """Apply pending model changes to the GPU buffers now (normally done on the next loop turn).

        The redraw they need is requested for the next loop turn.
        """
        held, self._hold_draw = self._hold_draw, True
        try:
            self._flush()
        finally:
            self._hold_draw = held

    def _flush(self) -> None:
        self._flush_timer.stop()
        dirty, self._dirty = self._dirty, set()
        try:
            self._apply_dirty(dirty)
        finally:
            pending, self._after_flush = self._after_flush, []
            for start in pending:  # animations that waited for these rows
                start()

    def _apply_dirty(self, dirty: set[str]) -> None:
        if not dirty or self.graph is None:
            return
        style_ids, self._style_ids = self._style_ids, set()
        if "structure" in dirty or "focus" in dirty:
            self._refresh_focus(self.graph, self._hovered)
        if "structure" in dirty:
            self._rebuild()
        else:
            n_before = len(self._pos)
            if "append" in dirty:
                self._append()
            if "positions" in dirty:
                self._patch_positions(self._moved_ids)
            if "style" in dirty:
                if style_ids is None or len(self._pos) < n_before:
                    self._restyle()
                else:
                    g = self.graph
                    named = g.rows_of([i for i in style_ids if i in g]) if style_ids else np.empty(0, np.int64)
                    rows = np.union1d(named, np.arange(n_before, len(self._pos)))
                    self._restyle_rows(rows)
            if "labels" in dirty:
                self._update_labels()
        self._moved_ids.clear()
        self.flushes += 1
        self._busy()
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
            self._rank()
            self._apply_lod(force=True)
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
        self._rank()
        self._apply_lod(force=True)
        self._update_labels()

    def _append(self) -> None:
        """Upload the nodes and edges added at the end of the mirrors since the last update."""
        g = self.graph
        n_old, n = len(self._pos), len(g)
        if n < n_old or self.nodes.buffers.n != n_old:
            self._rebuild()
            return
        if n > n_old:
            new = g.positions[n_old:].astype(np.float32)
            self._pos = np.concatenate([self._pos, new])
            self._pos_version += 1
            self._radius = max(self._radius, float(np.sqrt((new.astype(np.float64) ** 2).sum(axis=1).max())))
            self._presence = np.concatenate([self._presence, np.ones(n - n_old, np.float32)])
            # Zero colour and size (invisible) for now: the restyle that always follows an
            # append styles the new rows and patches them in.
            k = n - n_old
            self._colors = np.concatenate([self._colors, np.zeros((k, 4), np.float32)])
            self._sizes = np.concatenate([self._sizes, np.zeros(k, np.float32)])
            self.nodes.append(new, np.zeros((k, 4)), np.zeros((k, 4)), np.zeros(k))
            # New rows are always drawn: grow the moving subset by them instead of re-ranking.
            self.nodes.extend_subset("moving", n_old, n)
        m_old, m = self.edges.buffers.n // 2, g.number_of_edges()
        if m > m_old:
            ea = g.edge_arrays()
            rows = slice(m_old, m)
            pos = np.empty((2 * (m - m_old), 3), dtype=np.float32)
            pos[0::2], pos[1::2] = self._pos[ea.src[rows]], self._pos[ea.dst[rows]]
            col = arrays.edge_colors(g, self.theme, presence=self._presence, rows=rows)
            self.edges.append(pos, np.repeat(col, 2, axis=0))
            # New edges are not ranked yet: drawn in every mode until enough pile up for a re-rank
            # (a full ranking sorts every edge: ~0.3 s at 500k, too much for every small addition).
            if m - self._ranking.m > max(1000, self._ranking.m // 50):
                self._ranking_stale = True
            # Appended edges are drawn in every mode: extend the subsets rather than rebuild
            # them from the ranking (a scan of every edge, ~5 ms at 500k, per small burst).
            self.edges.extend_subset("moving", m_old, m)
            self.edges.extend_subset("still", m_old, m)
            if self._degree is not None:
                # Keep the degree current by counting only the new edges.
                self._degree = np.concatenate([self._degree, np.zeros(n - len(self._degree), np.int64)])
                np.add.at(self._degree, ea.src[rows], 1)
                np.add.at(self._degree, ea.dst[rows], 1)
        elif self._degree is not None and len(self._degree) < n:
            self._degree = np.concatenate([self._degree, np.zeros(n - len(self._degree), np.int64)])

    def _refresh_focus(self, graph: ThoughtGraph | None, hovered: str | None) -> None:
        """Recompute the masks; the neighbourhood highlight follows at once (no restyle: :mod:`.highlight`)."""
        self.focus.refresh(graph, hovered)
        if graph is None or len(graph) == 0:
            self.highlight.set_context(None, np.empty(0, np.int64), np.empty(0, np.int64))
            return
        ea = graph.edge_arrays()
        self.highlight.set_context(self.focus.context, ea.src, ea.dst)

    def _node_presence(self) -> np.ndarray:
        # The hover/selection context is not part of the buffers: the highlight dims at draw time.
        return arrays.node_presence(self.graph, show_suppressed=self._show["suppressed"], threshold=self._threshold,
                                    only=self.focus.only)

    def _node_colors(self) -> np.ndarray:
        # Kept: animation frames recolour a few rows from it without recomputing all.
        self._colors = arrays.node_colors(self.graph, self.theme, self._hovered, None, presence=self._presence)
        return self._colors

    def _node_outlines(self) -> np.ndarray:
        return arrays.node_outlines(self.graph, self.theme, self._hovered, None, self._running)

    def _node_sizes(self) -> np.ndarray:
        self._sizes = arrays.node_sizes(self.graph, presence=self._presence)
        self._size_base = arrays.base_marker_size(len(self.graph))
        return self._sizes

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

    def _release_text(self, *_: Any) -> None:
        """Show labels and shell names: the graph's first frame is on screen (or no graph came in time).

        Their first draw under llvmpipe (glyphs rendered to the atlas, two programs linked) took
        0.4-0.9 s of the cold start; drawn one frame later, the graph appears that much sooner.
        """
        if not self.text_held:
            return
        self.text_held = False
        self._text_fallback.stop()
        self.guides.release_text()
        self.label_layer.update(rerank=False)  # the names' boxes are obstacles now
        self.canvas.update()

    def _on_draw(self, event: Any) -> None:
        if self.text_held:
            if self.graph is not None and len(self._pos) == len(self.graph):
                self._text_timer.start()  # runs once this frame, the graph's first, is drawn
            elif not self._text_fallback.running:
                self._text_fallback.start()
        # Before the scene draws: the frame's kind (for the detail controller) and its edges.
        self._frame_mode = "moving" if self.moving else "still"
        self._choose_sources()
        # Place the labels for this view without asking for another frame.
        held, self._hold_draw = self._hold_draw, "drop"
        try:
            self.highlight.sync()
            self.label_layer.place()
        finally:
            self._hold_draw = held

    def _update_fog(self) -> None:
        """Fit the depth cue to the graph's extent seen from the current pose."""
        c = np.asarray(self.camera.center, dtype=np.float64)
        w_mid = float(np.append(c, 1.0) @ self._mvp()[:, 3])
        reach = self._radius + float(np.linalg.norm(c))
        rng = (w_mid - reach, w_mid + reach)
        set_fog(self.nodes, rng, FOG_NODES, self.theme.background)
        set_fog(self.edges, rng, FOG_EDGES, self.theme.background)

    # -- look ----------------------------------------------------------------------------
    def _apply_theme(self) -> None:
        self.canvas.bgcolor = self.theme.background
        self.guides.set_theme(self.theme)
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
            self._show["shells"] = bool(shells)
            self.guides.set_visible(shells)
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
        """Active region: nodes with activation >= ``threshold`` and their neighbours stand out; ``None``: off."""
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
        before = self._hovered
        self._hovered = node_id if (node_id is None or (self.graph is not None and node_id in self.graph)) else None
        if self.graph is not None:
            self._refresh_focus(self.graph, self._hovered)
            # Only the two nodes' own look changes (ring, brightness); the neighbourhood is the highlight's.
            self._restyle_rows(np.unique(self.graph.rows_of([i for i in (before, self._hovered)
                                                             if i is not None and i in self.graph])))
        self.label_layer.update(rerank=False)
        self.canvas.update()

    @property
    def hovered(self) -> str | None:
        """The hovered node id."""
        return self._hovered

    def set_running(self, ids: Iterable[str]) -> None:
        """Outline the nodes a transform is working on (``[]`` clears)."""
        self._running = list(ids)
        self._restyle()
        self.canvas.update()

    def set_selection(self, ids: Iterable[str]) -> None:
        """Replace the graph's selection (the ``SELECTED`` flags); the outline follows via the change burst."""
        if self.graph is not None:
            self.graph.select([i for i in ids if i in self.graph], "replace")
            self.flush()

    # -- focus mode and the kind filter ------------------------------------------------------
    def set_focus(self, node_id: str | None, depth: int = 1, *, duration_s: float = 0.5) -> None:
        """Focus mode: show only ``node_id`` and the nodes within ``depth`` (1-3) hops; ``None`` leaves it.

        The camera flies to frame the focused set (and back to where it was
        when focus mode is left), so the change reads as a transition.

        Raises
        ------
        KeyError
            Unknown node.
        ValueError
            ``depth`` outside 1-3.
        """
        g = self.graph
        if node_id is None:
            if self.focus.target is None:
                return
            self.focus.target = None
            target = self._pose_before_focus
        else:
            if g is None or node_id not in g:
                raise KeyError(node_id)
            focus_mask(g, node_id, depth)  # validates the depth before anything changes
            if self.focus.target is None:
                self._pose_before_focus = self.camera.get_pose()
            self.focus.target = (node_id, int(depth))
            target = None
        self._refresh_focus(g, self._hovered)
        self._restyle()
        self._update_labels()
        self._fly(target if target is not None else self._fit_pose(), duration_s)
        self.canvas.update()

    def set_kind_filter(self, kinds: Iterable[str] | None) -> None:
        """Show only nodes of these kinds (the legend's filter); ``None`` or empty shows every kind."""
        kinds = frozenset(kinds or ())
        self.focus.kinds = kinds or None
        self._refresh_focus(self.graph, self._hovered)
        self._restyle()
        self._update_labels()
        self.canvas.update()

    def _fly(self, pose: dict[str, Any] | None, duration_s: float) -> None:
        if pose is None:
            return
        self._flight = CameraFlight(self.camera.get_pose(), dict(pose), float(duration_s), self.animator.clock())
        if duration_s <= 0:
            self._frame(self.animator.clock())
            return
        self.animator.kick()

    # -- labels (the composed SceneLabels) ---------------------------------------------------
    @property
    def label_density(self) -> float:
        """How many labels are tried, relative to the default."""
        return self.label_layer.label_density

    def set_label_density(self, factor: float) -> None:
        """More or fewer labels: ``factor`` times the default (0.25-4)."""
        self.label_layer.set_density(factor)

    def set_label_reserved(self, rects: Any) -> None:
        """Canvas-pixel boxes no label may cover (widgets over the view, like the legend)."""
        self.label_layer.set_reserved(rects)

    def label_layout(self, *, recompute: bool = False) -> Any:
        """The labels on screen for the current view (see :meth:`SceneLabels.layout`)."""
        return self.label_layer.layout(recompute=recompute)

    def _update_labels(self) -> None:
        self.label_layer.update()

    def degree(self) -> np.ndarray:
        """Edges per node (cached until the structure changes; appends keep it current)."""
        if self._degree is None or len(self._degree) != (len(self.graph) if self.graph is not None else 0):
            self._degree = arrays.node_degree(self.graph)
        return self._degree
