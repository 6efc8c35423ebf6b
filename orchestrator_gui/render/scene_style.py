"""Row-wise restyling half of :class:`~orchestrator_gui.render.scene.GraphScene` (a mixin).

A burst of model changes names the few nodes it touched (activation,
attention, flags, edits) and appends rows at the end; recomputing colours,
outlines and sizes of every node for it (~8 ms at 100k nodes, plus a diff of
each buffer) is what made bursts stall the UI.  Here only those rows are
recomputed, with the same :mod:`~orchestrator_gui.render.arrays` functions
restricted by ``rows=``, and patched in a few small uploads.

The labels are a composed object of the scene
(:class:`~orchestrator_gui.render.scene_labels.SceneLabels`), not part of this class.
"""

from __future__ import annotations

import numpy as np

from orchestrator_gui.render import arrays


class StyleMixin:
    """``_restyle_rows`` of :class:`GraphScene` (and, inherited, its labels)."""

    def _restyle_rows(self, rows: np.ndarray) -> None:
        """Restyle only ``rows`` (unique): the nodes a burst touched, and rows just appended.

        Gives the same values as :meth:`_restyle` for these rows while the other rows
        keep theirs, which holds unless the marker base size changed with the node count
        or an active region is on (activation then moves neighbours): both restyle all.
        """
        g = self.graph
        if g is None or len(rows) == 0:
            return
        if (self._threshold is not None or self.focus.styled or arrays.base_marker_size(len(g)) != self._size_base
                or len(self._colors) != len(g) or len(self._sizes) != len(g)):
            self._restyle()
            return
        pres = arrays.node_presence(g, show_suppressed=self._show["suppressed"], rows=rows)  # no masks here: see above
        before = self._presence[rows]
        self._presence[rows] = pres
        col = arrays.node_colors(g, self.theme, self._hovered, None, presence=pres, rows=rows)
        size = arrays.node_sizes(g, presence=pres, rows=rows)
        self._colors[rows], self._sizes[rows] = col, size
        self.nodes.patch("color", rows, col)
        self.nodes.patch("outline", rows, arrays.node_outlines(g, self.theme, self._hovered, None, self._running,
                                                               rows=rows))
        self.nodes.patch("size", rows, size)
        flipped = rows[before != pres]
        if len(flipped):
            # Edge alpha follows endpoint presence: recolour the edges of the nodes whose presence changed.
            ea = g.edge_arrays()
            mask = np.zeros(len(g), dtype=bool)
            mask[flipped] = True
            seg = np.flatnonzero(mask[ea.src] | mask[ea.dst])
            if len(seg):
                verts = np.empty(2 * len(seg), dtype=np.int64)
                verts[0::2], verts[1::2] = 2 * seg, 2 * seg + 1
                col = arrays.edge_colors(g, self.theme, presence=self._presence, rows=seg)
                self.edges.patch("color", verts, np.repeat(col, 2, axis=0))
