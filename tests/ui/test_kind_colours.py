"""A node kind has one colour: the panels' dots use the 3D view's (and its legend's) colour."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from orchestrator_gui.model.nodes import KINDS  # noqa: E402
from orchestrator_gui.render.theme import DARK  # noqa: E402
from orchestrator_gui.ui.theme import kind_color  # noqa: E402


@pytest.mark.parametrize("kind", [k.value for k in KINDS])
def test_panel_colour_of_each_kind_is_the_views(kind):
    r, g, b, _a = DARK.kinds[kind]
    c = kind_color(kind)
    assert (c.red(), c.green(), c.blue()) == (round(r * 255), round(g * 255), round(b * 255))
