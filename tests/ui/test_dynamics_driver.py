"""The window drives suppression and shows how much may run at once (issue 15)."""

from __future__ import annotations

from window_helpers import make_window


def test_the_status_bar_says_how_many_tasks_may_run_and_why(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    assert win.executor is not None
    qtbot.waitUntil(lambda: win.dynamics.label.text() != "")
    assert "of" in win.dynamics.label.text()  # "agents 2 of 2, transforms 4 of 4 …"
    assert win.dynamics.label.isVisible()
    assert win.dynamics.suppressor is not None
    win.close_workspace()
    assert win.dynamics.label.text() == "" and win.dynamics.suppressor is None


def test_a_bad_dynamics_table_is_reported_and_suppression_stays_off(qtbot, tmp_path):
    from orchestrator_gui.demo import demo_workspace

    root = demo_workspace()
    cfg = root / ".orchestrator" / "config.toml"
    cfg.parent.mkdir(exist_ok=True)
    cfg.write_text("[dynamics]\nsuppress_below = 7\n", encoding="utf-8")
    win = make_window(qtbot, tmp_path)
    errors: list[str] = []
    win.reporter.report = lambda exc, context="", **_: errors.append(f"{context}: {exc}")
    assert win.open_workspace(root, keep_graph=True)
    assert win.dynamics.suppressor is None
    assert any(e.startswith("Suppression off:") and "config.toml:2" in e for e in errors), errors
    win.update_dynamics()  # refreshes activation without suppressing anything
