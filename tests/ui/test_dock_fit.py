"""Panel controls fit their docks at the default layout of a 1400×900 window (GUI review: clipped buttons)."""

from __future__ import annotations

from PySide6.QtWidgets import QScrollArea
from window_helpers import make_window


def test_schedule_buttons_and_inspector_fit_without_clipping(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)  # 1400 × 900, default dock layout
    assert win.open_demo()
    win.docks["Schedules"].show()
    win.docks["Schedules"].raise_()
    panel = win.schedules
    buttons = [panel.btn_add, panel.btn_dup, panel.btn_delete, panel.btn_toggle, panel.btn_run, panel.btn_resume]
    qtbot.waitUntil(lambda: all(b.width() > 0 for b in buttons))
    for b in buttons:
        # a button narrower than its text needs shows "uplicat", "un now"
        assert b.width() >= b.sizeHint().width(), (b.text(), b.width(), b.sizeHint().width())
    scroll = win.inspector.findChild(QScrollArea)
    qtbot.waitUntil(lambda: scroll.viewport().width() > 0)
    assert not scroll.horizontalScrollBar().isVisible(), "the Inspector is wider than its dock"
