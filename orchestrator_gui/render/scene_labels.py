"""Node labels of :class:`~orchestrator_gui.render.scene.GraphScene`, placed in screen space per view.

Every new view -- camera pose, canvas size, node positions, or a change of
the candidates (model, selection, hover, density) -- places the labels
again just before the frame is drawn (:meth:`SceneLabels.place`, called by the scene):
the on-screen nodes' spread sets how many candidates are tried
(:func:`~orchestrator_gui.render.labels.label_budget`, times the user's
density), :func:`~orchestrator_gui.render.arrays.label_rows` picks them by
priority, and :func:`~orchestrator_gui.render.labels.place_labels` keeps the
ones that fit. The text is one vispy ``Text`` visual in canvas pixels (a
child of ``canvas.scene``, so it is drawn after the whole 3D view), each
string anchored at its left end: its position comes from the placer, not
from the node, so nothing overlaps or leaves the canvas whatever the pose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from vispy import app as vapp
from vispy.gloo import IndexBuffer, VertexBuffer
from vispy.scene.visuals import Text
from vispy.visuals.text.text import _text_to_vbo

from orchestrator_gui.model.display import cached_cleaner, display_text
from orchestrator_gui.render import arrays
from orchestrator_gui.render.labels import MAX_WIDTH, label_budget, place_labels
from orchestrator_gui.render.plates import Plates

#: Label font size, points.
LABEL_PT = 9.0
#: Allowed range of :meth:`SceneLabels.set_density`.
DENSITY_RANGE = (0.25, 4.0)
#: Outline ring drawn around a marker, pixels (``u_outline`` in :mod:`.visuals`): part of the disc to keep clear.
RING_PX = 2.0
#: Up to this many nodes on screen, labels avoid covering any node where they can; above it the
#: nodes are too many and too small for that to leave room for labels (and it costs ~1 ms per 10k).
AVOID_NODES_MAX = 4000
#: Alpha factor of the labels of dimmed nodes (outside the highlighted neighbourhood).
DIM_ALPHA = 0.55
#: Opacity of the plate under each label (the background colour): edges behind the text fade, the text reads.
PLATE_ALPHA = 0.7
#: How far a plate reaches beyond its text box (x, y), pixels: less than the placer's padding.
PLATE_PAD = (2.0, 0.0)


@dataclass(frozen=True)
class LabelLayout:
    """The labels on screen now (tests and tools read it; the canvas draws it).

    Attributes
    ----------
    ids : list of str
        Labelled node ids, in priority order.
    texts : list of str
        Their shown text (cleaned, elided where needed).
    rects : ndarray, shape (K, 4)
        ``(x0, y0, x1, y1)`` text boxes in canvas pixels, y down.
    forced : ndarray, shape (K,), bool
        Hovered or selected.
    candidates : int
        How many labels were tried.
    canvas_size : (int, int)
    """

    ids: list[str]
    texts: list[str]
    rects: np.ndarray
    forced: np.ndarray
    candidates: int
    canvas_size: tuple[int, int]


#: Straight alpha over the frame (not the images' premultiplied blend), leaving the frame's alpha opaque:
#: an off-screen render (screenshots) would otherwise come out lighter wherever a label or plate lies.
_BLEND = ("src_alpha", "one_minus_src_alpha", "one", "one_minus_src_alpha")

_EMPTY = LabelLayout([], [], np.zeros((0, 4)), np.zeros(0, bool), 0, (0, 0))


class LabelText(Text):
    """vispy's ``Text`` that lays out each distinct string once.

    The stock visual rebuilds the glyph quads of *every* string whenever its
    list changes (a Python loop per character, plus a GL command flush per
    string): ~22 ms a frame for 60 labels under llvmpipe, and the list changes
    on most frames while the camera moves. A string's quads depend only on
    the string (font, anchors and line height are fixed here), so they are
    kept per string and concatenated.
    """

    _glyph_runs: dict | None = None  # declared on the class: vispy visuals refuse new attributes once built

    def _prepare_draw(self, view: Any) -> Any:
        if self._vertices is None and len(self.text):
            runs = self._glyph_runs
            if runs is None or len(runs) > 20_000:
                runs = self._glyph_runs = {}
            texts = [self.text] if isinstance(self.text, str) else self.text
            parts = []
            for t in texts:
                quads = runs.get(t)
                if quads is None:
                    quads = runs[t] = _text_to_vbo(t, self._font, self._anchors[0], self._anchors[1],
                                                   self._font._lowres_size, self._line_height)
                parts.append(quads)
            # What ``TextVisual._prepare_draw`` does once it has the quads (vispy 0.17).
            n_char = sum(len(t) for t in texts)
            self._vertices_data = np.concatenate(parts)
            self._vertices = VertexBuffer(self._vertices_data)
            idx = (np.array([0, 1, 2, 0, 2, 3], np.uint32) + np.arange(0, 4 * n_char, 4, dtype=np.uint32)[:, None])
            self._index_buffer = IndexBuffer(idx.ravel())
            self.shared_program.bind(self._vertices)
            self._configure_gl_state()
        return super()._prepare_draw(view)


def _vispy_has_glyph() -> Any:
    """``has_glyph(ch)`` of vispy's bundled label font, or ``None`` when it cannot be asked (emoji then dropped)."""
    try:
        from vispy.util.fonts._freetype import _load_font  # vispy's own loader: the face the labels use

        face = _load_font("OpenSans", False, False)
    except Exception:  # noqa: BLE001 - no freetype (macOS backend) or another vispy: the default fallback
        return None
    return lambda ch: face.get_char_index(ord(ch)) != 0


class SceneLabels:
    """The node labels of one :class:`~orchestrator_gui.render.scene.GraphScene`: their visuals and placement.

    A small object of its own (composed by the scene, not mixed into it): it
    owns the label visuals, the density, the last layout and its caches, and
    reads what it places from the scene (graph, projection, presence, sizes).

    Parameters
    ----------
    scene : GraphScene
    """

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        canvas = scene.canvas
        # Plates first, then the text on them; both after the whole 3D view.
        self.label_plates = Plates(parent=canvas.scene)
        self.label_plates.set_gl_state(depth_test=False, blend=True, depth_mask=True, blend_func=_BLEND)
        self.label_plates.order = 999_999
        self.label_plates.visible = False
        self.labels = LabelText(parent=canvas.scene, font_size=LABEL_PT, anchor_x="left", anchor_y="center",
                                bold=False)
        # The last visual drawn leaves its GL state behind for the next frame's clear:
        # depth_mask must stay True or the depth buffer is never cleared (docs/rendering.md §4.3).
        self.labels.set_gl_state(depth_test=False, blend=True, depth_mask=True, blend_func=_BLEND)
        self.labels.order = 1_000_000  # after everything else in the canvas
        self.labels.visible = False
        self.label_density = 1.0
        self._lbl_version = 0
        self._lbl_key: Any = None
        self._lbl_layout = _EMPTY
        self._lbl_extra: tuple[np.ndarray, np.ndarray] | None = None
        self._lbl_view: Any = None  # what the last placement saw besides positions: see _held_by_animation
        self._holding = False  # labels kept as they were while nodes animate
        self._release_timer = vapp.Timer(interval=0.0, connect=self._release, iterations=1, app=canvas.app)
        self._show_timer = vapp.Timer(interval=0.0, connect=lambda *_: canvas.update(), iterations=1, app=canvas.app)
        self._lbl_sides: dict[str, int] = {}
        self._lbl_texts: dict[str, tuple[str, str, float]] = {}  # id -> (title, shown text, width px)
        self._lbl_colors = np.zeros((0, 4), np.float32)
        self._lbl_rank: tuple[Any, np.ndarray] | None = None
        has_glyph = _vispy_has_glyph()
        self._lbl_clean = cached_cleaner(has_glyph) if has_glyph is not None else display_text
        self._lbl_adv: dict[str, float] = {}
        self._lbl_reserved = np.zeros((0, 4))
        self._lbl_em = LABEL_PT / 72.0 * float(canvas.dpi or 96.0)  # pixels per em, as the visual draws
        self._lbl_h = float(np.ceil(1.17 * self._lbl_em)) + 1.0  # the font's ascender-descender span (1.17 em)

    # -- public --------------------------------------------------------------------------
    def set_density(self, factor: float) -> None:
        """How many labels the view tries: ``factor`` times the default (clamped to 0.25-4; 1 by default)."""
        lo, hi = DENSITY_RANGE
        self.label_density = float(min(max(float(factor), lo), hi))
        self.update()
        self.scene.canvas.update()

    def set_reserved(self, rects: Any) -> None:
        """Canvas-pixel boxes ``(x0, y0, x1, y1)`` no label may cover (widgets over the view, like the legend)."""
        self._lbl_reserved = np.asarray(rects if rects is not None else [], dtype=np.float64).reshape(-1, 4)
        self.update()

    def layout(self, *, recompute: bool = False) -> LabelLayout:
        """The labels for the current view: ids, texts and their canvas-pixel boxes (placed now if stale).

        ``recompute`` places them again even when nothing changed (to time the placement).
        """
        if recompute:
            self._lbl_key = None
        if not self.scene._anims:
            self._holding = False  # asked for now: no placement held for an animation that has ended
        self.place()
        return self._lbl_layout

    # -- hooks ---------------------------------------------------------------------------
    def update(self, *, rerank: bool = True) -> None:
        """The candidates changed (model, selection, hover, switches): place again now.

        ``rerank=False`` keeps the importance ranking (a hover changes which label is
        forced and which are dimmed, not how nodes rank): a few passes over every node saved.
        """
        self._lbl_version += 1
        if rerank:
            self._lbl_rank = None
        self.place()

    # -- placement -----------------------------------------------------------------------
    def place(self) -> None:
        """Place the labels for the current view (a no-op when nothing they depend on changed)."""
        g = self.scene.graph
        view = None
        if g is not None and len(g) and self.scene._show["labels"]:
            view = self._view_state()
            if self._held_by_animation(view):
                return
        if g is not None and len(self.scene._pos) != len(g):
            self._lbl_key = None  # the model changed and its buffer update is pending: keep these labels till then
            return
        if g is None or not self.scene._show["labels"] or len(g) == 0:
            self._lbl_key = None
            self._show_layout(_EMPTY, None)
            return
        xy, _ = self.scene.projected()
        key = (self.scene._proj_key, self._lbl_version, self.label_density)
        if key == self._lbl_key:
            return
        self._lbl_key = key
        self._lbl_view = view
        w, h = (int(v) for v in self.scene.canvas.size)
        pres = self.scene._presence if len(self.scene._presence) == len(g) else np.ones(len(g), np.float32)
        ctx = self.scene.focus.context
        if ctx is not None and len(ctx) == len(g):
            # Outside the highlighted neighbourhood labels rank and show as dimmed (the nodes are, at draw time).
            pres = np.where(ctx, pres, np.minimum(pres, arrays.DIM)).astype(np.float32)
        with np.errstate(invalid="ignore"):
            visible = (pres > 0) & (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
        n_visible = int(np.count_nonzero(visible))
        budget = label_budget(xy[visible], (w, h), self.label_density)
        degree = self.scene.degree()
        rows, n_forced = arrays.label_rows(g, budget, None, self.scene.hovered, presence=pres, degree=degree,
                                           visible=visible, rank=self._rank_for_labels())
        ids = g.ids_of(rows)
        texts, widths = self._label_texts(g, ids)
        forced = np.zeros(len(rows), dtype=bool)
        forced[:n_forced] = True
        sizes = self.scene._sizes[rows] if len(self.scene._sizes) == len(g) else np.full(len(rows), 8.0)
        prefer = np.array([self._lbl_sides.get(i, -1) for i in ids], dtype=np.int64)
        placed = place_labels(xy[rows], texts, (w, h), widths=widths, forced=forced,
                              radius=0.5 * sizes + RING_PX, line_h=self._lbl_h, measure=self._measure,
                              forced_max_width=2 * MAX_WIDTH, prefer=prefer,
                              obstacles=xy[visible] if n_visible <= AVOID_NODES_MAX else None,
                              reserved=np.concatenate([self._lbl_reserved, self._other_text_boxes()]))
        keep = placed.shown
        self._lbl_sides = {ids[i]: int(placed.sides[i]) for i in keep}
        layout = LabelLayout([ids[i] for i in keep], [placed.texts[i] for i in keep], placed.rects[keep],
                             forced[keep], len(rows), (w, h))
        self._show_layout(layout, (placed.anchors[keep], pres[rows[keep]]))

    def _view_state(self) -> tuple:
        """What a placement depends on besides node positions and ranking: pose, size, density, hover, selection."""
        s = self.scene
        g = s.graph
        selected = arrays.selected_rows(g).tobytes() if g is not None else b""
        return (s._mvp().tobytes(), tuple(int(v) for v in s.canvas.size), self.label_density, s.hovered,
                s.focus.target, s.focus.kinds, selected)

    def _held_by_animation(self, view: tuple) -> bool:
        """Keep the placed labels while nodes animate under an unchanged view; True when they were kept.

        Why: an animation redraws every frame and moves only the animated
        rows (a growing child, a transform's inputs), while a placement costs
        10-15 ms at 100k nodes -- most of a frame under software GL, for
        labels that would not move. The animated nodes' labels are hidden
        until the animation ends; the next frame after it places every label
        again (its positions changed, so its key differs). A camera change, a
        hover or a selection is never held.
        """
        anims = self.scene._anims
        if self._lbl_key is None or view != self._lbl_view:
            self._holding = False
            return False
        if not anims:
            if not self._holding:
                return False
            # The animation has just ended, in the middle of drawing its last frame: place on the next
            # loop turn instead, so the placement and that frame are two short stalls, not one long one.
            self._holding = False
            self._release_timer.start()
            return True
        layout = self._lbl_layout
        g = self.scene.graph
        if not all(nid in g for nid in layout.ids):  # a labelled node was deleted: its label must go now
            self._holding = False
            return False
        self._holding = True
        if layout.ids and self._lbl_extra is not None:
            moving: set[str] = set()
            for anim in anims:
                moving.update(anim.ids)
            keep = [k for k, nid in enumerate(layout.ids) if nid not in moving]
            if len(keep) < len(layout.ids):
                idx = np.asarray(keep, dtype=np.int64)
                anchors, pres = self._lbl_extra
                self._show_layout(LabelLayout([layout.ids[k] for k in keep], [layout.texts[k] for k in keep],
                                              layout.rects[idx], layout.forced[idx], layout.candidates,
                                              layout.canvas_size), (anchors[idx], pres[idx]))
        return True

    def _release(self, *_: Any) -> None:
        """Place the labels held during an animation that has ended, and show them a loop turn later.

        A redraw asked for here would be painted straight after the placement, before any other
        event: one stall again. A timer lets the input and timers waiting meanwhile run first.
        """
        self.place()
        self._show_timer.start()

    def _other_text_boxes(self) -> np.ndarray:
        """Boxes of the other text in the view (the shells' names), which node labels must leave readable."""
        names = getattr(self.scene, "shell_labels", None)
        if names is None or not names.visible or not isinstance(names.text, list) or not names.text:
            return np.zeros((0, 4))
        tr = self.scene.view.scene.node_transform(self.scene.canvas.scene)
        at = np.asarray(tr.map(np.asarray(names.pos, dtype=np.float64)), dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            x, y = at[:, 0] / at[:, 3], at[:, 1] / at[:, 3]
        em = names.font_size / 72.0 * float(self.scene.canvas.dpi or 96.0)
        w = np.array([1.1 * self._measure(t) * em / self._lbl_em for t in names.text])  # bold: a little wider
        # Centred on their anchor horizontally; vertically "bottom" hangs the text *below* the anchor in
        # this y-down canvas (measured), and a flipped anchor would put it above: reserve both, 1.25 em each.
        return np.column_stack([x - w / 2 - 2, y - 1.25 * em, x + w / 2 + 2, y + 1.25 * em])

    def _rank_for_labels(self) -> np.ndarray:
        # Ranking costs a few vector passes over every node: once per candidate change, not per frame.
        g = self.scene.graph
        key = (id(g), len(g))
        if self._lbl_rank is None or self._lbl_rank[0] != key:
            self._lbl_rank = (key, arrays.label_rank(g, self.scene.degree()))
        return self._lbl_rank[1]

    def _label_texts(self, g: Any, ids: list[str]) -> tuple[list[str], np.ndarray]:
        """Shown text and pixel width per id, cached by title (a title edit is seen at the next placement)."""
        cache = self._lbl_texts
        if len(cache) > 200_000:
            cache.clear()
        texts, widths = [], np.empty(len(ids), dtype=np.float64)
        for k, nid in enumerate(ids):
            title = g.node(nid).title
            hit = cache.get(nid)
            if hit is None or hit[0] != title:
                text = self._lbl_clean(title or "") or nid
                hit = cache[nid] = (title, text, self._measure(text))
            texts.append(hit[1])
            widths[k] = hit[2]
        return texts, widths

    def _measure(self, text: str) -> float:
        """Pixel width of ``text`` as the label visual draws it (sum of the glyph advances)."""
        adv = self._lbl_adv
        total = 0.0
        for ch in text:
            a = adv.get(ch)
            if a is None:
                a = adv[ch] = self._advance(ch)
            total += a
        return total * self._lbl_em

    def _advance(self, ch: str) -> float:
        """Advance of one character in ems, from the glyph the visual itself draws."""
        try:
            font = self.labels._font  # the visual's own TextureFont: the same glyphs, loaded once
            return float(font[ch]["advance"]) / font.ratio / font._lowres_size
        except Exception:  # noqa: BLE001 - a glyph the font cannot load: a generous estimate
            return 0.6

    def _show_layout(self, layout: LabelLayout, extra: tuple[np.ndarray, np.ndarray] | None) -> None:
        """Hand the layout to the text visual, touching only what changed (a new text list re-lays glyphs)."""
        self._lbl_layout = layout
        self._lbl_extra = extra
        if not layout.ids:
            self.labels.visible = self.label_plates.visible = False
            return
        anchors, pres = extra
        th = self.scene.theme
        colors = np.empty((len(layout.ids), 4), dtype=np.float32)
        colors[:] = th.label
        colors[pres < 1.0, 3] *= DIM_ALPHA
        colors[layout.forced] = th.label_selected
        if self.labels.text != layout.texts:
            self.labels.text = list(layout.texts)
        self.labels.pos = anchors
        if not np.array_equal(colors, self._lbl_colors):
            self.labels.color = self._lbl_colors = colors
        self.labels.visible = not self.scene.text_held
        self._show_plates(layout.rects)

    def _show_plates(self, rects: np.ndarray) -> None:
        """One translucent quad of the background colour under each label (two triangles each)."""
        color = np.asarray(self.scene.theme.background, np.float32).copy()
        color[3] = PLATE_ALPHA  # dimmed labels too: their text is fainter, the edges behind it no less busy
        self.label_plates.set_plates(rects, PLATE_PAD, color)
        self.label_plates.visible = not self.scene.text_held
