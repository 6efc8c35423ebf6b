"""Fleet mode: the Runs panel shows every machine's runs, with a Machine column (issue 17)."""

from __future__ import annotations

import sys
from pathlib import Path

from window_helpers import make_window

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fleet"))
from fleet_setup import FIRST_MS, MINUTE, cli, copies, fleet_init, iso  # noqa: E402

from orchestrator_gui.ui.panels.runs import COLUMNS, MACHINE_COLUMN  # noqa: E402


def _machines(panel) -> dict[str, str]:
    m = panel.table.model
    return {m.item(i, 2).text(): m.item(i, MACHINE_COLUMN).text() for i in range(m.rowCount())}


def test_the_runs_panel_lists_the_other_machines_runs_and_follows_them(qtbot, tmp_path, fleet_dsn, monkeypatch):
    m1, m2 = copies(tmp_path, fleet_dsn, n=2)
    fleet_init(m1)
    first = cli("-w", str(m2), "run", "--once", "--now", iso(FIRST_MS + 500), machine="m2")
    assert first.returncode == 0 and "fired" in first.stdout, first.stderr
    monkeypatch.setenv("ORCHESTRATOR_MACHINE", "m1")
    win = make_window(qtbot, tmp_path)
    assert win.open_workspace(m1, keep_graph=True)
    panel = win.runs
    qtbot.waitUntil(lambda: "m2" in _machines(panel).values(), timeout=10_000)
    assert COLUMNS[MACHINE_COLUMN] == "Machine" and not panel.table.view.isColumnHidden(MACHINE_COLUMN)
    [(tid, _)] = [(t, m) for t, m in _machines(panel).items() if m == "m2"]
    assert panel.row_of(tid)["Status"] == "completed"
    # A run on m2 after the window opened shows up without any local file changing.
    again = cli("-w", str(m2), "run", "--once", "--now", iso(FIRST_MS + MINUTE + 500), machine="m2")
    assert again.returncode == 0, again.stderr
    qtbot.waitUntil(lambda: list(_machines(panel).values()).count("m2") == 2, timeout=15_000)
    # This machine's own runs come from its task_timing.tsv, named as m1.
    mine = cli("-w", str(m1), "run", "--once", "--now", iso(FIRST_MS + 2 * MINUTE + 500), machine="m1")
    assert mine.returncode == 0, mine.stderr
    qtbot.waitUntil(lambda: "m1" in _machines(panel).values(), timeout=15_000)


def test_without_a_fleet_the_machine_column_stays_hidden(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    assert win.runs.table.view.isColumnHidden(MACHINE_COLUMN) and win.runs.machine is None
