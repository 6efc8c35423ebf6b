"""The Active ≥ slider reaches the graph's activations and says how many nodes are active (GUI review #16)."""

from __future__ import annotations

import numpy as np
from window_helpers import make_window


def test_the_slider_reaches_the_highest_activation_and_counts_the_active_nodes(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    g = win.session.graph
    target = g.node_ids()[0]
    for _ in range(12):  # activations add up well past the old 0-2 scale
        win.actions_.activate(target)
    win.update_dynamics()
    top = float(np.max(g.activation))
    assert top > 2.0, "the test needs an activation beyond the old scale"
    assert win.threshold_slider.maximum() / 100.0 >= top
    win.threshold_slider.setValue(round(top * 100) - 1)
    expected = int(np.count_nonzero(g.activation >= win.threshold_slider.value() / 100.0))
    assert expected >= 1
    assert win.threshold_label.text() == f"{win.threshold_slider.value() / 100.0:.2f} · {expected} active"
    win.threshold_slider.setValue(0)
    assert win.threshold_label.text() == "off"


def test_a_saved_threshold_above_two_survives_a_restart(qtbot, tmp_path):
    from orchestrator_gui.ui.settings import AppSettings

    settings = AppSettings.at(tmp_path / "settings.ini")
    settings.activation_threshold = 3.5
    win = make_window(qtbot, tmp_path, settings=settings)
    assert win.threshold_slider.value() == 350
    assert settings.activation_threshold == 3.5
