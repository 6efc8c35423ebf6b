"""The Goals panel: the demo's goals with progress bars and confidence; a click focuses the view on one."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from PySide6.QtWidgets import QProgressBar  # noqa: E402
from window_helpers import make_window  # noqa: E402

from orchestrator_gui.model.epistemic import goal_report  # noqa: E402


def test_goals_show_progress_and_a_click_focuses_the_view(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    panel, g = win.goals, win.session.graph
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() > 0, timeout=10000)
    report = {r.id: r for r in goal_report(g)}
    assert panel.tree.topLevelItemCount() == len(report) >= 5
    bars = []
    for i in range(panel.tree.topLevelItemCount()):
        item = panel.tree.topLevelItem(i)
        info = report[item.data(0, 256)]
        bar = panel.tree.itemWidget(item, 1)
        assert isinstance(bar, QProgressBar) and bar.value() == round(100 * info.progress)
        assert item.text(2) == f"{info.confidence:.2f}"
        bars.append(bar.value())
    assert all(v > 0 for v in bars)  # the demo's goals are linked to their work (none reads 0 %)
    # A click selects the goal and focuses the view on it.
    heartbeat = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                     if panel.tree.topLevelItem(i).text(0) == "Loop heartbeat")
    panel.tree.itemClicked.emit(heartbeat, 0)
    goal_id = heartbeat.data(0, 256)
    qtbot.waitUntil(lambda: g.selected_ids() == (goal_id,) and win.view.focused() == goal_id, timeout=5000)
    win.close()
