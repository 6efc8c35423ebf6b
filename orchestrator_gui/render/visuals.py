"""Two lean vispy visuals: point-sprite nodes and GL_LINES segments, one GPU buffer per attribute.

Why not vispy's ``Markers`` and ``Line``: ``Markers`` interleaves every
attribute in one buffer (so recolouring re-uploads positions too) and pads
each sprite by ``4 * (edge + 1.5 * antialias)`` pixels, which multiplies the
fill-rate cost that dominates under llvmpipe.  Here each attribute has its
own ``VertexBuffer`` that :meth:`NodesVisual.patch` updates in place (only the
changed row range), and sprites are exactly as large as the disc plus outline.

The shaders take one composed ``u_mvp`` matrix instead of vispy's chain of
GLSL transform functions: under llvmpipe the per-vertex cost is what limits
100k-node frames, and a single matrix product measured ~1.5x cheaper.

Both visuals can draw an index *subset* per detail mode (``"moving"`` /
``"still"``), the level of detail the scene picks while the view changes.

GL state is set explicitly for each visual (see docs/rendering.md §4.3: leaked
``depth_mask(False)`` blanks the next frame).
"""

from __future__ import annotations

import numpy as np
from vispy import gloo
from vispy.scene.visuals import create_visual_node
from vispy.visuals import Visual

_NODE_VERT = """
uniform float u_px_scale;
uniform float u_outline;
uniform float u_antialias;
uniform vec3 u_fog;        // (w_near, w_far, strength): depth cue towards the background
uniform vec4 u_fog_color;
uniform mat4 u_mvp;        // visual -> render, composed on the CPU once per frame
attribute vec3 a_position;
attribute vec4 a_color;
attribute vec4 a_outline;
attribute float a_size;
varying vec4 v_color;
varying vec4 v_outline;
varying float v_radius;
varying float v_half;

void main() {
    v_color = a_color;
    v_outline = a_outline;
    float size = a_size * u_px_scale;
    if (a_color.a <= 0.0 || size <= 0.0) {
        // Hidden node: put it outside the clip volume so no fragment runs.
        gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
        gl_PointSize = 0.0;
        return;
    }
    float ring = a_outline.a > 0.0 ? u_outline * u_px_scale : 0.0;
    v_radius = 0.5 * size;
    v_half = v_radius + ring + 0.5 * u_antialias;
    gl_Position = u_mvp * vec4(a_position, 1.0);
    gl_PointSize = 2.0 * v_half;
    float f = u_fog.z * clamp((gl_Position.w - u_fog.x) / max(u_fog.y - u_fog.x, 1e-6), 0.0, 1.0);
    v_color.rgb = mix(v_color.rgb, u_fog_color.rgb, f);
}
"""

_NODE_FRAG = """
uniform float u_antialias;
uniform float u_dim;       // 1: as is; below 1: faded towards the background (highlight.py)
uniform vec4 u_fog_color;
varying vec4 v_color;
varying vec4 v_outline;
varying float v_radius;
varying float v_half;

void main() {
    vec2 p = (gl_PointCoord - vec2(0.5)) * (2.0 * v_half);
    float r = length(p);
    if (r > v_half) discard;
    vec4 c = v_color;
    if (u_antialias > 0.0) {
        // A slight radial shade gives the discs some body without lighting cost.
        float q = r / max(v_radius, 1.0);
        c.rgb *= 1.0 - 0.22 * q * q;
    }
    if (v_outline.a > 0.0) {
        float t = u_antialias > 0.0 ? smoothstep(v_radius - 0.5, v_radius + 0.5, r) : step(v_radius, r);
        c = mix(c, v_outline, t);
    }
    if (u_antialias > 0.0) {
        c.a *= clamp(v_half - r, 0.0, 1.0);
    }
    if (u_dim < 1.0) {
        c.rgb = u_fog_color.rgb + (c.rgb - u_fog_color.rgb) * u_dim;
        c.a *= 0.85;
    }
    gl_FragColor = c;
}
"""

_SEG_VERT = """
uniform vec3 u_fog;
uniform vec4 u_fog_color;
uniform mat4 u_mvp;
attribute vec3 a_position;
attribute vec4 a_color;
varying vec4 v_color;
void main() {
    v_color = a_color;
    if (a_color.a <= 0.0) {
        gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
        return;
    }
    gl_Position = u_mvp * vec4(a_position, 1.0);
    float f = u_fog.z * clamp((gl_Position.w - u_fog.x) / max(u_fog.y - u_fog.x, 1e-6), 0.0, 1.0);
    v_color.a *= 1.0 - f;
}
"""

_SEG_FRAG = """
uniform float u_alpha;
uniform float u_dim;       // 1: as is; below 1: faded towards the background (highlight.py)
varying vec4 v_color;
void main() {
    gl_FragColor = vec4(v_color.rgb, v_color.a * u_alpha * u_dim);
}
"""


#: The shaders, also used to draw edges and nodes off-screen (:mod:`.image_layer`).
SEG_VERT, SEG_FRAG = _SEG_VERT, _SEG_FRAG
NODE_VERT, NODE_FRAG = _NODE_VERT, _NODE_FRAG


def set_fog(visual: Visual, w_range: tuple[float, float], strength: float, color) -> None:
    """Depth cue: at clip ``w`` from ``w_range[0]`` to ``[1]`` blend up to ``strength`` into ``color``.

    Nodes fade their colour towards ``color`` (the background); segments fade
    their alpha.  Far things recede, which makes the 3D structure readable in
    a still image.
    """
    visual.shared_program["u_fog"] = (float(w_range[0]), float(w_range[1]), float(strength))
    visual.shared_program["u_fog_color"] = tuple(float(c) for c in color)
    visual.update()


def dim_property(doc: str) -> property:
    """A visual's ``dim``: its ``u_dim`` uniform (1: as is), asking for a redraw only when it changes."""
    def get(self) -> float:
        return float(self.shared_program["u_dim"])

    def put(self, value: float) -> None:
        if float(value) != get(self):
            self.shared_program["u_dim"] = float(value)
            self.update()

    return property(get, put, doc=doc)


class _Buffers:
    """Per-attribute vertex buffers with spare capacity and a CPU copy.

    Patches upload only the changed row range; appends write into the spare
    rows (no reallocation until the capacity runs out, then it grows by half).
    Spare rows hold zeros: a zero colour alpha makes both shaders drop the
    vertex, so they cost a vertex-shader run and no pixels.
    """

    GROWTH = 1.5

    def __init__(self, visual: Visual, spec: dict[str, int]) -> None:
        self._spec = spec
        self._store: dict[str, np.ndarray] = {}
        self.vbos: dict[str, gloo.VertexBuffer] = {}
        self.n = 0
        self.uploads = 0
        # Which rows the uploads changed (None: all), oldest first, for touched_since().
        self._changes: list[tuple[int, int, np.ndarray | None]] = []
        for name in spec:
            self._store[name] = self._zeros(name, 1)
            self.vbos[name] = gloo.VertexBuffer(self._store[name])
            visual.shared_program[name] = self.vbos[name]

    def _zeros(self, name: str, rows: int) -> np.ndarray:
        width = self._spec[name]
        return np.zeros((rows, width) if width > 1 else rows, dtype=np.float32)

    #: Change records kept for :meth:`touched_since` (older ones are merged, never dropped).
    CHANGE_LOG = 256

    def _log(self, rows: np.ndarray | None) -> None:
        # (first upload, last upload, rows changed by them or None for all)
        self._changes.append((self.uploads, self.uploads, rows))
        if len(self._changes) > self.CHANGE_LOG:
            # Merge the two oldest records; an "all rows" record is dropped instead (then
            # asking about uploads before it answers "unknown"), so it never spreads forward.
            (a, _, ra), (_, b, rb) = self._changes[0], self._changes[1]
            if ra is None:
                del self._changes[0]
            elif rb is None:
                del self._changes[0:2]
            else:
                self._changes[0:2] = [(a, b, np.union1d(ra, rb))]

    def touched_since(self, uploads: int) -> np.ndarray | None:
        """Rows changed by the uploads after the ``uploads``-th (unique, maybe a few more); None: unknown or all."""
        if uploads >= self.uploads:
            return np.empty(0, np.int64)
        if not self._changes or self._changes[0][0] > uploads + 1:
            return None
        parts = []
        for _, last, rows in self._changes:
            if last > uploads:
                if rows is None:
                    return None
                parts.append(rows)
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)

    @property
    def data(self) -> dict[str, np.ndarray]:
        """Live rows of each attribute (views into the CPU copy)."""
        return {name: arr[: self.n] for name, arr in self._store.items()}

    @property
    def capacity(self) -> int:
        """Rows allocated on the GPU."""
        return len(next(iter(self._store.values())))

    def set(self, **arrays: np.ndarray) -> None:
        """Replace every attribute (all must be given, same length) and reallocate with headroom."""
        n = len(next(iter(arrays.values())))
        self._allocate(n, int(n * 1.25) + 16, arrays)

    def _allocate(self, n: int, cap: int, arrays: dict[str, np.ndarray]) -> None:
        for name in self._spec:
            buf = self._zeros(name, max(cap, 1))
            src = arrays[name]
            buf[: len(src)] = np.asarray(src, dtype=np.float32).reshape(buf[: len(src)].shape)
            self._store[name] = buf
            self.vbos[name].set_data(buf)
            self.uploads += 1
            self._log(None)
        self.n = n

    def append(self, **arrays: np.ndarray) -> None:
        """Add rows at the end (every attribute must be given, same length)."""
        k = len(next(iter(arrays.values())))
        if k == 0:
            return
        if self.n + k > self.capacity:
            merged = {name: np.concatenate([self._store[name][: self.n],
                                            np.asarray(arrays[name], np.float32).reshape(
                                                (k,) + self._store[name].shape[1:])])
                      for name in self._spec}
            self._allocate(self.n + k, int((self.n + k) * self.GROWTH) + 16, merged)
            return
        lo, hi = self.n, self.n + k
        for name in self._spec:
            buf = self._store[name]
            buf[lo:hi] = np.asarray(arrays[name], dtype=np.float32).reshape(buf[lo:hi].shape)
            self.vbos[name].set_subdata(np.ascontiguousarray(buf[lo:hi]), offset=lo)
            self.uploads += 1
            self._log(np.arange(lo, hi))
        self.n = hi

    def patch(self, name: str, rows: np.ndarray | None, values: np.ndarray) -> None:
        """Write ``values`` at ``rows`` (``None``: all live rows) and upload the spanned range only."""
        cur = self._store[name][: self.n]
        values = np.asarray(values, dtype=np.float32)
        if rows is None:
            if values.shape[0] != cur.shape[0]:
                raise ValueError(f"{name}: {values.shape[0]} rows for a buffer of {cur.shape[0]}")
            diff = (cur != values).reshape(len(cur), -1).any(axis=1) if len(cur) else np.zeros(0, bool)
            changed = np.flatnonzero(diff)
            if len(changed) == 0:
                return
            lo, hi = int(changed[0]), int(changed[-1]) + 1
            cur[lo:hi] = values[lo:hi]
            touched = changed
        else:
            rows = np.asarray(rows, dtype=np.int64)
            if len(rows) == 0:
                return
            cur[rows] = values
            touched = rows
            runs = self._runs(rows)
            if runs is not None:
                for lo, hi in runs:
                    self.vbos[name].set_subdata(np.ascontiguousarray(cur[lo:hi]), offset=lo)
                self.uploads += 1
                self._log(touched)
                return
            lo, hi = int(rows.min()), int(rows.max()) + 1
        self.vbos[name].set_subdata(np.ascontiguousarray(cur[lo:hi]), offset=lo)
        self.uploads += 1
        self._log(touched)

    #: Rows between two patched rows below which one upload spans both; and most uploads per patch.
    RUN_GAP = 256
    MAX_RUNS = 32

    def _runs(self, rows: np.ndarray) -> list[tuple[int, int]] | None:
        """Row ranges covering a few scattered ``rows`` (``None``: one range over all is cheaper).

        A burst touches a few rows anywhere in a 100k-row buffer; one range from
        the lowest to the highest would re-upload most of the buffer.
        """
        if len(rows) > 4 * self.MAX_RUNS:
            return None
        r = np.unique(rows)
        cut = np.flatnonzero(np.diff(r) > self.RUN_GAP)
        if len(cut) + 1 > self.MAX_RUNS:
            return None
        starts = np.concatenate([[r[0]], r[cut + 1]])
        ends = np.concatenate([r[cut], [r[-1]]]) + 1
        return [(int(a), int(b)) for a, b in zip(starts, ends)]

    def __len__(self) -> int:
        return self.n


class _SubsetMixin:
    """Per-mode index subsets (``None``: draw every live row) and the composed matrix upload."""

    dim = dim_property("Draw-time fade towards the background (1: none); not part of any cached image.")

    _primitive = 1  # vertices per primitive: 1 for points, 2 for line segments

    def _init_subsets(self) -> None:
        self._subsets: dict[str, tuple[gloo.IndexBuffer, int] | None] = {}
        self._subset_idx: dict[str, np.ndarray] = {}
        #: Which subset to draw: ``"moving"`` or ``"still"``.
        self.mode = "still"

    def set_subset(self, mode: str, mask: np.ndarray | None) -> None:
        """Primitives (nodes, or segments) drawn in detail ``mode``; ``None`` draws all of them."""
        if mask is None:
            self._subsets[mode] = None
            self._subset_idx.pop(mode, None)
            self.update()
            return
        self._upload_subset(mode, self._indices(np.flatnonzero(mask)))

    def extend_subset(self, mode: str, first: int, stop: int) -> None:
        """Add primitives ``first..stop-1`` (rows just appended) to the subset of ``mode``.

        Cheaper than :meth:`set_subset` with a whole new mask: appended rows are
        always drawn, so the subset only grows at its end (no scan of every row).
        """
        if stop <= first or self._subsets.get(mode) is None or mode not in self._subset_idx:
            return  # no subset: every row, the new ones included, is drawn already
        self._upload_subset(mode, np.concatenate([self._subset_idx[mode], self._indices(np.arange(first, stop))]))

    def _indices(self, prim: np.ndarray) -> np.ndarray:
        prim = np.asarray(prim, dtype=np.uint32)
        if self._primitive == 1:
            return prim
        idx = np.empty(2 * len(prim), dtype=np.uint32)
        idx[0::2] = 2 * prim
        idx[1::2] = 2 * prim + 1
        return idx

    def _upload_subset(self, mode: str, idx: np.ndarray) -> None:
        self._subset_idx[mode] = idx
        data = idx if len(idx) else np.zeros(self._primitive, np.uint32)
        old = self._subsets.get(mode)
        if old is None:
            ib = gloo.IndexBuffer(data)
        else:
            ib = old[0]
            ib.set_data(data)
        self._subsets[mode] = (ib, len(idx))
        self.update()

    def subset_size(self, mode: str) -> int:
        """Primitives drawn in detail ``mode``."""
        sub = self._subsets.get(mode)
        return len(self.buffers) // self._primitive if sub is None else sub[1] // self._primitive

    def drawn(self) -> int:
        """Primitives the current mode draws."""
        sub = self._subsets.get(self.mode)
        return len(self.buffers) // self._primitive if sub is None else sub[1] // self._primitive

    def _prepare_transforms(self, view) -> None:
        pass  # the matrix is composed per frame in _prepare_draw

    def _compute_bounds(self, axis, view):
        pos = self.buffers.data["a_position"]
        if len(pos) == 0:
            return None
        return (float(pos[:, axis].min()), float(pos[:, axis].max()))

    def _prepare_subset_draw(self, view) -> bool | None:
        if len(self.buffers) == 0:
            return False
        tr = view.get_transform("visual", "render")
        view.view_program["u_mvp"] = np.asarray(tr.map(np.eye(4)), dtype=np.float32)
        sub = self._subsets.get(self.mode)
        if sub is None:
            self._index_buffer = None
        elif sub[1] == 0:
            return False
        else:
            self._index_buffer = sub[0]
        return None


class NodesVisual(_SubsetMixin, Visual):
    """Nodes as round point sprites: position, face colour, outline colour and size per node."""

    def __init__(self) -> None:
        super().__init__(vcode=_NODE_VERT, fcode=_NODE_FRAG)
        self.buffers = _Buffers(self, {"a_position": 3, "a_color": 4, "a_outline": 4, "a_size": 1})
        self.shared_program["u_outline"] = 2.0
        set_fog(self, (0.0, 1.0), 0.0, (0, 0, 0, 1))
        self.shared_program["u_antialias"] = 1.0
        self.shared_program["u_dim"] = 1.0
        self._antialias = True
        self._draw_mode = "points"
        self._init_subsets()
        self.set_gl_state(depth_test=True, depth_mask=True, blend=True,
                          blend_func=("src_alpha", "one_minus_src_alpha"), cull_face=False)
        self.freeze()

    @property
    def antialias(self) -> bool:
        """Soft disc edges and shading in still frames; off at high counts (moving frames never have it)."""
        return self._antialias

    @antialias.setter
    def antialias(self, on: bool) -> None:
        self._antialias = bool(on)
        self.update()

    def set_data(self, pos: np.ndarray, color: np.ndarray, outline: np.ndarray, size: np.ndarray) -> None:
        """Replace all node attributes (used when nodes are added or removed)."""
        self.buffers.set(a_position=pos, a_color=color, a_outline=outline, a_size=size)
        self.update()

    def append(self, pos: np.ndarray, color: np.ndarray, outline: np.ndarray, size: np.ndarray) -> None:
        """Add nodes at the end (rows ``n..n+k``)."""
        self.buffers.append(a_position=pos, a_color=color, a_outline=outline, a_size=size)
        self.update()

    def patch(self, name: str, rows: np.ndarray | None, values: np.ndarray) -> None:
        """Patch one attribute (``position``, ``color``, ``outline`` or ``size``) in place."""
        self.buffers.patch("a_" + name, rows, values)
        self.update()

    def _prepare_draw(self, view) -> bool | None:
        view.view_program["u_px_scale"] = view.transforms.pixel_scale
        # The overlay (nodes drawn over the node image) must look like the image's still nodes.
        self.shared_program["u_antialias"] = 1.0 if self._antialias and self.mode in ("still", "overlay") else 0.0
        return self._prepare_subset_draw(view)


class SegmentsVisual(_SubsetMixin, Visual):
    """GL_LINES segments with per-vertex colour, optionally drawn through a subset index (LOD)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(vcode=_SEG_VERT, fcode=_SEG_FRAG)
        self.buffers = _Buffers(self, {"a_position": 3, "a_color": 4})
        self.shared_program["u_alpha"] = float(alpha)
        self.shared_program["u_dim"] = 1.0
        set_fog(self, (0.0, 1.0), 0.0, (0, 0, 0, 1))
        self._draw_mode = "lines"
        self._primitive = 2
        self._init_subsets()
        # depth_mask False: edges ending at node centres must not z-fight with the markers.
        self.set_gl_state(depth_test=True, depth_mask=False, blend=True,
                          blend_func=("src_alpha", "one_minus_src_alpha"), line_width=1.0, cull_face=False)
        self.freeze()

    def set_data(self, pos: np.ndarray, color: np.ndarray) -> None:
        """Replace all segments (``pos[2i]``, ``pos[2i+1]`` are the ends of segment ``i``)."""
        self.buffers.set(a_position=pos, a_color=color)
        self.update()

    def append(self, pos: np.ndarray, color: np.ndarray) -> None:
        """Add segment vertices at the end."""
        self.buffers.append(a_position=pos, a_color=color)
        self.update()

    def patch(self, name: str, rows: np.ndarray | None, values: np.ndarray) -> None:
        """Patch vertex rows of ``position`` or ``color``."""
        self.buffers.patch("a_" + name, rows, values)
        self.update()

    def drawn_segments(self) -> int:
        """Segments the current mode draws."""
        return self.drawn()

    @property
    def alpha(self) -> float:
        """Global alpha multiplier."""
        return float(self.shared_program["u_alpha"])

    @alpha.setter
    def alpha(self, value: float) -> None:
        self.shared_program["u_alpha"] = float(value)
        self.update()

    def _prepare_draw(self, view) -> bool | None:
        return self._prepare_subset_draw(view)


Nodes = create_visual_node(NodesVisual)
Segments = create_visual_node(SegmentsVisual)
