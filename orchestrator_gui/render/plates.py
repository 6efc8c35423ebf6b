"""Label plates: one translucent quad of the background colour under each label, in canvas pixels.

vispy's ``Mesh`` rebuilds (compiles and links) its shader program whenever
its data is set, which under software OpenGL cost several milliseconds on
every hover and every new camera pose. This visual has one fixed program:
new plates are a vertex and an index upload, nothing more.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from vispy import gloo
from vispy.scene.visuals import create_visual_node
from vispy.visuals import Visual

_VERT = """
uniform vec2 u_size;          // the canvas in logical pixels
attribute vec2 a_position;    // logical pixels, origin top-left, y down
void main() {
    gl_Position = vec4(2.0 * a_position.x / u_size.x - 1.0, 1.0 - 2.0 * a_position.y / u_size.y, 0.0, 1.0);
}
"""

_FRAG = """
uniform vec4 u_color;
void main() {
    gl_FragColor = u_color;
}
"""

_QUAD = np.array([[0, 1, 2], [0, 2, 3]], dtype=np.uint32)


def plate_vertices(rects: np.ndarray, pad: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Corners (4 per rect, float32 (4k, 2)) and triangles (uint32 (2k, 3)) of ``rects`` grown by ``pad``.

    ``rects`` is (k, 4): ``x0, y0, x1, y1`` in pixels.
    """
    rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    k = len(rects)
    x0, y0 = rects[:, 0] - pad[0], rects[:, 1] - pad[1]
    x1, y1 = rects[:, 2] + pad[0], rects[:, 3] + pad[1]
    verts = np.stack([np.column_stack(c) for c in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], axis=1)
    faces = (_QUAD[None, :, :] + 4 * np.arange(k, dtype=np.uint32)[:, None, None]).reshape(-1, 3)
    return verts.reshape(-1, 2).astype(np.float32), faces.astype(np.uint32)


class PlatesVisual(Visual):
    """Flat quads of one colour in canvas pixels (a child of ``canvas.scene``)."""

    def __init__(self) -> None:
        super().__init__(vcode=_VERT, fcode=_FRAG)
        self._vbo = gloo.VertexBuffer(np.zeros((4, 2), np.float32))
        self._ibo = gloo.IndexBuffer(np.zeros(3, np.uint32))
        self.shared_program["a_position"] = self._vbo
        self.shared_program["u_size"] = (1.0, 1.0)
        self.shared_program["u_color"] = (0.0, 0.0, 0.0, 0.0)
        self._index_buffer = self._ibo
        self._draw_mode = "triangles"
        self._count = 0
        self.freeze()

    def set_plates(self, rects: np.ndarray, pad: tuple[float, float], color: Any) -> None:
        """Show one quad per rect (``x0, y0, x1, y1`` pixels, grown by ``pad``) in ``color`` (RGBA)."""
        verts, faces = plate_vertices(rects, pad)
        self._count = len(faces)
        if self._count:
            self._vbo.set_data(verts)
            self._ibo.set_data(faces)
        self.shared_program["u_color"] = tuple(float(c) for c in color)
        self.update()

    @property
    def count(self) -> int:
        """Plates shown."""
        return self._count // 2

    def _prepare_transforms(self, view: Any) -> None:
        pass  # the vertex shader maps canvas pixels itself

    def _prepare_draw(self, view: Any) -> bool | None:
        if self._count == 0:
            return False
        w, h = view.canvas.size
        self.shared_program["u_size"] = (float(max(w, 1)), float(max(h, 1)))
        return None

    def _compute_bounds(self, axis: int, view: Any) -> None:
        return None


Plates = create_visual_node(PlatesVisual)

__all__ = ["Plates", "PlatesVisual", "plate_vertices"]
