"""The legend in the running window (not only in screenshot mode): its full size, its text readable."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from window_helpers import make_window  # noqa: E402


def test_the_legend_is_laid_out_at_its_full_size_in_the_window(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    legend = win.view.overlays.legend
    qtbot.waitUntil(lambda: bool(legend.rows) and legend.isVisible(), timeout=10000)
    qtbot.wait(50)  # the layout's posted activation, if any, has run
    hint = legend.sizeHint()
    assert hint.width() > 200 and hint.height() > 100
    # Shown at the size its content needs: every row of text inside the box, none cut off.
    assert legend.width() >= hint.width() and legend.height() >= hint.height(), (legend.geometry(), hint)
    for label in legend.rows.values():
        assert legend.rect().contains(label.geometry()), label.text()
    win.close()
