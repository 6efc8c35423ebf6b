"""The three guide spheres (Goals, Plans, Execution) and their names, as one small object of the scene.

Faint wireframes drawn before the edges (no depth writes, so nothing
z-fights with them) and the shells' names in the view beside them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from vispy.scene.visuals import Text

from orchestrator_gui.render import arrays
from orchestrator_gui.render.theme import Theme
from orchestrator_gui.render.visuals import Segments


class ShellGuides:
    """The guide spheres' lines and names.

    Parameters
    ----------
    parent : vispy scene node
        The 3D view's scene (create this before the edges: it is drawn first).

    Attributes
    ----------
    lines : Segments
    names : Text
    """

    def __init__(self, parent: Any) -> None:
        self.lines = Segments(parent=parent)
        # On the far left of each sphere, a little above the equator (arrays.shell_label_positions).
        self.names = Text(parent=parent, font_size=9, anchor_x="center", anchor_y="bottom", bold=True)
        self.names.set_gl_state(depth_test=False, blend=True, depth_mask=True,
                                blend_func=("src_alpha", "one_minus_src_alpha"))
        parts = arrays.shell_meshes()
        self._pos = np.concatenate([p for _, _, p in parts])
        names, at = arrays.shell_label_positions()
        self.names.text = names
        self.names.pos = at
        # Text is held back until the graph's first frame is on screen (GraphScene.text_held): under
        # software GL its first draw (glyphs rendered, a program linked) takes a few tenths of a second.
        self.held = True
        self.names.visible = False

    def set_theme(self, theme: Theme) -> None:
        """Colour the lines and names for ``theme``."""
        self.lines.set_data(self._pos, np.tile(np.asarray(theme.shell, np.float32), (len(self._pos), 1)))
        self.names.color = theme.shell_label

    def set_visible(self, on: bool) -> None:
        """Show or hide the spheres and their names."""
        self.lines.visible = bool(on)
        self.names.visible = bool(on) and not self.held

    def release_text(self) -> None:
        """Show the names from now on (see :attr:`held`)."""
        self.held = False
        self.names.visible = self.lines.visible
