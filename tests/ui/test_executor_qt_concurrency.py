"""The Qt executor tells the status bar what may run at once, and why, when it changes."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no widgets here: any platform plugin will do

import pytest  # noqa: E402

from orchestrator_gui.engine.concurrency import ConcurrencyGovernor, RateLimits  # noqa: E402
from orchestrator_gui.engine.config import EngineConfig, LimitsConfig  # noqa: E402

pytest.importorskip("PySide6")
from orchestrator_gui.ui.executor_qt import QtExecutor  # noqa: E402

TIMEOUT_MS = 20000


def test_concurrency_changes_reach_the_gui_thread_with_the_reason(qtbot, tmp_path):
    load = [0.5]
    limits = LimitsConfig(agent_tasks=1, transforms=4)
    gov = ConcurrencyGovernor(limits, probe=lambda: (2, load[0]), rate_limits=RateLimits(), interval_s=0.0)
    ex = QtExecutor(tmp_path, EngineConfig(limits=limits), governor=gov, track_time=False, track_failures=False)
    try:
        seen: list[tuple[str, dict]] = []
        ex.concurrency_changed.connect(lambda text, info: seen.append((text, info)))
        ex.check_concurrency()
        assert seen[-1][0] == "agents 1 of 1, transforms 4 of 4" and seen[-1][1]["reduced"] is False
        ex.check_concurrency()
        assert len(seen) == 1  # unchanged: no signal
        load[0] = 6.2
        with qtbot.waitSignal(ex.concurrency_changed, timeout=TIMEOUT_MS):  # the poll timer notices
            pass
        assert seen[-1][0] == "agents 1 of 1, transforms 1 of 4 — load 6.2 on 2 CPUs"
        assert seen[-1][1]["transforms"] == 1 and seen[-1][1]["limits"]["transforms"] == 4
        assert ex.concurrency().transforms == 1
    finally:
        ex.shutdown()
