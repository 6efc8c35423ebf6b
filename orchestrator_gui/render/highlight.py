"""The hovered/selected neighbourhood: drawn bright over a picture dimmed by one uniform.

Hovering a node must show its neighbourhood within a frame, also at 10k or
100k nodes under software OpenGL. Recolouring every node and edge for each
hover would re-upload whole buffers and throw away the progressive edge and
node images (:mod:`.scene_layer`), so the next frames would draw every edge
again. Instead the picture underneath stays as it is and is *dimmed at draw
time* (a ``u_dim`` uniform in the node, edge and image shaders), and the few
rows of the neighbourhood are copied into two small visuals drawn over it at
full brightness. A hover then costs a mask, a copy of a few hundred rows and
a frame of the cached images: no restyle, no image restart.

The overlay nodes are depth-tested with ``lequal`` against the dimmed nodes
(the same vertices give the same depth), so a highlighted node still hides
behind a nearer one, as in the picture underneath.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator_gui.render.arrays import DIM

#: Colour factor of dimmed nodes: ``background + (colour - background) * NODE_DIM`` (as the restyle had it).
NODE_DIM = 0.35 + DIM
#: Alpha factor of dimmed edges (an edge with an end outside the neighbourhood, as the restyle had it).
EDGE_DIM = DIM


def edge_rows_within(src: np.ndarray, dst: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rows of the edges whose two ends are both in ``mask`` (bool per node)."""
    if len(src) == 0:
        return np.empty(0, np.int64)
    return np.flatnonzero(mask[src] & mask[dst])


def segment_vertices(edge_rows: np.ndarray) -> np.ndarray:
    """Vertex rows ``2r, 2r+1`` of each edge row (a segment buffer holds two vertices per edge)."""
    out = np.empty(2 * len(edge_rows), dtype=np.int64)
    out[0::2], out[1::2] = 2 * edge_rows, 2 * edge_rows + 1
    return out


class Highlight:
    """Keeps the overlay visuals and the dim uniforms in step with a context mask.

    Parameters
    ----------
    base_nodes, base_edges : NodesVisual, SegmentsVisual
        The full picture's visuals: their buffers are the source of the
        overlay's rows and they are dimmed while a context is shown.
    over_nodes, over_edges : NodesVisual, SegmentsVisual
        Drawn after the base visuals (scene-graph order), holding only the
        context's rows.
    edge_image, node_image : LayerImageVisual
        The progressive images, dimmed like the edges and the nodes they hold.
    """

    NODE_UNIFORMS = ("u_fog", "u_fog_color", "u_outline")
    EDGE_UNIFORMS = ("u_fog", "u_fog_color", "u_alpha")

    def __init__(self, base_nodes: Any, base_edges: Any, over_nodes: Any, over_edges: Any,
                 edge_image: Any = None, node_image: Any = None) -> None:
        self.base_nodes, self.base_edges = base_nodes, base_edges
        self.over_nodes, self.over_edges = over_nodes, over_edges
        self.edge_image, self.node_image = edge_image, node_image
        self.node_rows = np.empty(0, np.int64)
        self.edge_rows = np.empty(0, np.int64)
        self.active = False
        self._synced: tuple | None = None
        over_nodes.set_gl_state(depth_test=True, depth_func="lequal", depth_mask=True, blend=True,
                                blend_func=("src_alpha", "one_minus_src_alpha"), cull_face=False)
        over_nodes.visible = over_edges.visible = False

    def set_context(self, mask: np.ndarray | None, src: np.ndarray, dst: np.ndarray) -> None:
        """Show the nodes of ``mask`` and the edges between them bright, all else dimmed (``None``: no context)."""
        if mask is None or not mask.any():
            self.node_rows = np.empty(0, np.int64)
            self.edge_rows = np.empty(0, np.int64)
            self.active = False
        else:
            self.node_rows = np.flatnonzero(mask)
            self.edge_rows = edge_rows_within(src, dst, mask)
            self.active = True
        self._synced = None
        self._apply_dim()

    def _apply_dim(self) -> None:
        for visual, factor in ((self.base_nodes, NODE_DIM), (self.node_image, NODE_DIM),
                               (self.base_edges, EDGE_DIM), (self.edge_image, EDGE_DIM)):
            if visual is not None:
                visual.dim = factor if self.active else 1.0
        self.over_nodes.visible = self.over_edges.visible = self.active

    def sync(self) -> None:
        """Before a frame: copy the context's rows from the base buffers when either changed."""
        if not self.active:
            return
        nb, eb = self.base_nodes.buffers, self.base_edges.buffers
        key = (nb.uploads, nb.n, eb.uploads, eb.n)
        if key == self._synced:
            self._copy_uniforms()
            return
        self._synced = key
        rows = self.node_rows[self.node_rows < nb.n]
        d = nb.data
        self.over_nodes.set_data(d["a_position"][rows], d["a_color"][rows], d["a_outline"][rows], d["a_size"][rows])
        verts = segment_vertices(self.edge_rows[self.edge_rows < eb.n // 2])
        e = eb.data
        self.over_edges.set_data(e["a_position"][verts], e["a_color"][verts])
        self.over_nodes.visible = len(rows) > 0
        self.over_edges.visible = len(verts) > 0
        self._copy_uniforms()

    def _copy_uniforms(self) -> None:
        for over, base, names in ((self.over_nodes, self.base_nodes, self.NODE_UNIFORMS),
                                  (self.over_edges, self.base_edges, self.EDGE_UNIFORMS)):
            for name in names:
                over.shared_program[name] = base.shared_program[name]
        if self.over_nodes.antialias != self.base_nodes.antialias:
            self.over_nodes.antialias = self.base_nodes.antialias


__all__ = ["EDGE_DIM", "NODE_DIM", "Highlight", "edge_rows_within", "segment_vertices"]
