"""Full-detail edges and nodes built up off-screen across many short steps, shown as images.

Under software OpenGL every edge of a 100k-node graph costs over a second to
draw, too long for one frame without freezing the window. But edges write
no depth and are drawn before the nodes, so all of them together are just a
flat image under the nodes; and the nodes (depth-tested among themselves)
are a flat image over the edges. :class:`ImageAccumulator` draws such an
image into a texture a chunk of primitives at a time -- each chunk one
short step of the event loop, sized from measured times to about 15
milliseconds -- and :class:`LayerImageVisual` lays the texture over the frame,
which then costs one full-screen quad instead of 500k edges or 100k nodes.

Blending: chunks are drawn with premultiplied-alpha "over" into a cleared
(transparent) texture, and the texture is laid over the frame with
``(one, one_minus_src_alpha)``: the same pixels as drawing the edges
straight over the shells, as "over" is associative.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from vispy import gloo
from vispy.gloo import gl
from vispy.scene.visuals import create_visual_node
from vispy.visuals import Visual

from orchestrator_gui.render.visuals import NODE_FRAG, NODE_VERT, SEG_FRAG, SEG_VERT, dim_property

_QUAD_VERT = """
attribute vec2 a_corner;
void main() {
    gl_Position = vec4(a_corner, 0.0, 1.0);
}
"""

_QUAD_FRAG = """
uniform sampler2D u_image;
uniform vec2 u_size;
uniform float u_dim;  // premultiplied: scaling all four fades the image towards what lies under it
void main() {
    gl_FragColor = texture2D(u_image, gl_FragCoord.xy / u_size) * u_dim;
}
"""

#: Segments in the first step (later steps are sized from measured times).
FIRST_CHUNK = 5_000
#: Bounds of one step's chunk.
MIN_CHUNK, MAX_CHUNK = 2_000, 2_000_000


class LayerImageVisual(Visual):
    """A full-viewport quad showing the accumulated edge image (premultiplied alpha)."""

    def __init__(self) -> None:
        super().__init__(vcode=_QUAD_VERT, fcode=_QUAD_FRAG)
        corners = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], dtype=np.float32)
        self.shared_program["a_corner"] = gloo.VertexBuffer(corners)
        self.shared_program["u_size"] = (1.0, 1.0)
        self.shared_program["u_dim"] = 1.0
        self._draw_mode = "triangle_strip"
        self._has_image = False
        self.set_gl_state(depth_test=False, depth_mask=True, blend=True,
                          blend_func=("one", "one_minus_src_alpha"), cull_face=False)
        self.freeze()

    def set_image(self, texture: gloo.Texture2D | None, size: tuple[int, int]) -> None:
        """Show ``texture`` (``size`` = its (width, height) in pixels); ``None`` shows nothing."""
        self._has_image = texture is not None
        if texture is not None:
            self.shared_program["u_image"] = texture
            self.shared_program["u_size"] = (float(size[0]), float(size[1]))
        self.update()

    dim = dim_property("Fade of the shown image towards the background (1: none), applied when drawn.")

    def _prepare_transforms(self, view: Any) -> None:
        pass  # corners are already in clip space

    def _prepare_draw(self, view: Any) -> bool | None:
        return None if self._has_image else False

    def _compute_bounds(self, axis: int, view: Any) -> None:
        return None


LayerImage = create_visual_node(LayerImageVisual)


class ImageAccumulator:
    """Draws a visual's primitives into a texture, ``order``-first, a time-bounded chunk per :meth:`step`.

    Parameters
    ----------
    canvas : vispy.scene.SceneCanvas
        Whose context and framebuffer size are used.
    visual : SegmentsVisual or NodesVisual
        Its vertex buffers and uniforms are drawn again here.
    budget_ms : float
        Target duration of one step (GPU work included: each step ends with ``glFinish``).
    clock : callable
        Monotonic seconds (tests may pass a fake).
    nodes : bool
        ``visual`` is a :class:`NodesVisual`: point sprites, depth-tested
        among themselves (the texture gets a depth buffer), drawn with
        ``uniforms()`` for the size and antialiasing of a still frame.
    uniforms : callable, optional
        Extra uniforms for each chunk (``{name: value}``).
    keep_front : bool
        Double-buffer: a new image is drawn into a second texture, and the
        last complete one stays available as :attr:`front` meanwhile.
    """

    def __init__(self, canvas: Any, visual: Any, *, budget_ms: float = 15.0,
                 clock: Callable[[], float] = time.perf_counter, nodes: bool = False,
                 uniforms: Callable[[], dict[str, Any]] | None = None, keep_front: bool = False) -> None:
        self.canvas = canvas
        self.visual = visual
        self.budget_ms = budget_ms
        self._clock = clock
        self._nodes = nodes
        self._uniforms = uniforms or (lambda: {})
        self._program = gloo.Program(NODE_VERT, NODE_FRAG) if nodes else gloo.Program(SEG_VERT, SEG_FRAG)
        for name, vbo in visual.buffers.vbos.items():
            self._program[name] = vbo
        self._keep_front = keep_front
        # Texture, framebuffer and size of each image slot; ``_work`` is drawn into.
        self._slots: list[list[Any]] = [[None, None, (0, 0)], [None, None, (0, 0)]]
        self._work = 0
        #: The last complete image when double-buffered: ``{"slot", "key", "tag"}`` (None: none yet).
        self.front: dict[str, Any] | None = None
        self.tag: Any = None
        self.key: Any = None
        self.order = np.empty(0, np.int64)
        self.done = 0                  # segments of ``order`` drawn so far
        self.chunk = FIRST_CHUNK
        self._order_fn: Callable[[], np.ndarray] | None = None
        self.steps = 0
        self.last_step_ms = 0.0

    @property
    def texture(self) -> gloo.Texture2D | None:
        """The image being drawn (None before the first step)."""
        return self._slots[self._work][0]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image being drawn."""
        return self._slots[self._work][2]

    @property
    def front_texture(self) -> tuple[gloo.Texture2D, tuple[int, int]] | None:
        """``(texture, size)`` of the last complete image (``keep_front``), or None."""
        if self.front is None:
            return None
        tex, _, size = self._slots[self.front["slot"]]
        return tex, size

    @property
    def complete(self) -> bool:
        """Every segment of ``order`` is in the image."""
        return self.key is not None and self._order_fn is None and self.done >= len(self.order)

    def reset(self, key: Any, order: np.ndarray | Callable[[], np.ndarray], tag: Any = None) -> None:
        """Start a new image of the segments ``order`` (their indices, first drawn first) for ``key``.

        ``order`` may be a callable returning it: it is then called by the
        first step, not inside the frame that noticed the change. ``tag`` is
        kept with the image (and with :attr:`front` once it is complete).
        """
        if self._keep_front and self.front is not None:
            self._work = 1 - self.front["slot"]
        self.key = key
        self.tag = tag
        self._order_fn = order if callable(order) else None
        self.order = np.empty(0, np.int64) if callable(order) else np.asarray(order, dtype=np.int64)
        self.done = -1  # cleared by the next step
        self.steps = 0

    def invalidate(self) -> None:
        """Forget the image and the front one (the next :meth:`reset` starts over)."""
        self.front = None
        self.key = None
        self._order_fn = None
        self.done = 0
        self.order = np.empty(0, np.int64)

    def step(self) -> int:
        """Draw the next chunk (the first step clears the image); returns segments drawn.

        Makes the canvas' context current; ends with ``glFinish`` so the time
        measured (and the main-thread time spent) is the real cost.
        """
        if self.key is None or self.complete:
            return 0
        if self._order_fn is not None:
            self.order = np.asarray(self._order_fn(), dtype=np.int64)
            self._order_fn = None
        canvas = self.canvas
        canvas.set_current()
        w, h = (int(v) for v in canvas.physical_size)
        if w <= 0 or h <= 0:
            return 0
        slot = self._slots[self._work]
        if slot[0] is None or slot[2] != (w, h):
            slot[0] = gloo.Texture2D(shape=(h, w, 4), format="rgba", internalformat="rgba8",
                                     interpolation="nearest")
            depth = gloo.RenderBuffer((h, w), format="depth") if self._nodes else None
            slot[1] = gloo.FrameBuffer(color=slot[0], depth=depth)
            slot[2] = (w, h)
            self.done = -1
        t0 = self._clock()
        start = max(self.done, 0)
        stop = min(len(self.order), start + max(int(self.chunk), 1))
        canvas.push_fbo(slot[1], (0, 0), canvas.size)
        try:
            # depth_mask stays True: a leaked False would keep the canvas' next clear from
            # clearing depth (docs/rendering.md §4.3).
            gloo.set_state(depth_test=self._nodes, depth_mask=True, blend=True, cull_face=False, line_width=1.0)
            if self.done < 0:
                gloo.set_clear_color((0.0, 0.0, 0.0, 0.0))
                gloo.clear(color=True, depth=self._nodes, stencil=False)
            gloo.set_blend_func("src_alpha", "one_minus_src_alpha", "one", "one_minus_src_alpha")
            if stop > start:
                prog = self._program
                tr = self.visual.get_transform("visual", "render")
                prog["u_mvp"] = np.asarray(tr.map(np.eye(4)), dtype=np.float32)
                names = ("u_fog", "u_fog_color", "u_outline") if self._nodes else ("u_fog", "u_fog_color", "u_alpha")
                for name in names:
                    prog[name] = self.visual.shared_program[name]
                for name, value in self._uniforms().items():
                    prog[name] = value
                prog["u_dim"] = 1.0  # images are kept undimmed: the highlight dims them when shown
                rows = self.order[start:stop].astype(np.uint32)
                if self._nodes:
                    prog.draw("points", gloo.IndexBuffer(rows))
                else:
                    idx = np.empty(2 * len(rows), dtype=np.uint32)
                    idx[0::2], idx[1::2] = 2 * rows, 2 * rows + 1
                    prog.draw("lines", gloo.IndexBuffer(idx))
        finally:
            canvas.pop_fbo()
        canvas.context.flush_commands()
        gl.glFinish()
        ms = (self._clock() - t0) * 1000.0
        drawn = stop - start
        self.done = stop
        self.steps += 1
        if self._keep_front and self.complete:
            self.front = {"slot": self._work, "key": self.key, "tag": self.tag}
        self.last_step_ms = ms
        if drawn and ms > 0:
            # Damped towards the budget: time per segment is roughly constant within an image.
            ratio = float(np.clip((self.budget_ms / ms) ** 0.8, 0.5, 1.5))
            self.chunk = int(np.clip(self.chunk * ratio, MIN_CHUNK, MAX_CHUNK))
        return drawn


__all__ = ["ImageAccumulator", "LayerImage", "LayerImageVisual"]
