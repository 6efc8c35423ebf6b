"""The Runs panel reads the newest rows of the timing log, and *Load older runs* pages back (issue 13).

The log is append-only: a year of agent runs can pass the 20 MB read limit.
The panel never reads it whole; it still shows the newest runs then.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from PySide6.QtCore import Qt
from window_helpers import make_window

from orchestrator_gui.cli.main import main
from orchestrator_gui.formats.fileio import MAX_FILE_BYTES
from orchestrator_gui.ui.panels.runs import PAGE_ROWS

HEADER = b"timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority\n"


def _run_rows(k: int) -> bytes:
    start, end = f"2026-01-01T00:00:{k % 60:02d}.000Z", f"2026-01-01T00:01:{k % 60:02d}.000Z"
    return (f"{start}\tcode\tt{k}\t{start}\t\t\tstep {k}\tstarted\ttodo\n"
            f"{end}\tcode\tt{k}\t{start}\t{end}\t60\tstep {k}\tcompleted\ttodo\n").encode()


def _workspace(tmp_path: Path, runs: int, padding: int = 0) -> Path:
    ws = tmp_path / "ws"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["init", str(ws)]) == 0
    # Padding: old rows before the runs, to take the log past the read limit.
    filler = b"2025-01-01T00:00:00.000Z\tcode\told\t2025-01-01T00:00:00.000Z\t\t\t" + b"x" * 200 + b"\tstarted\ttodo\n"
    body = HEADER + filler * (padding // len(filler) + (1 if padding else 0))
    (ws / "task_timing.tsv").write_bytes(body + b"".join(_run_rows(k) for k in range(runs)))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        # A log past the read limit gives the graph its newest runs; it is not refused.
        assert main(["graph", "build", "-w", str(ws)]) == 0
    return ws


def test_the_panel_shows_the_newest_page_and_loads_older_runs_on_demand(qtbot, tmp_path):
    ws = _workspace(tmp_path, runs=PAGE_ROWS * 2)  # two rows a run: the log holds four pages
    win = make_window(qtbot, tmp_path)
    assert win.open_workspace(ws)
    panel = win.runs
    qtbot.waitUntil(lambda: len(panel.runs) == PAGE_ROWS // 2, timeout=5000)
    assert panel.runs[-1].task_id == f"t{PAGE_ROWS * 2 - 1}" and panel.runs[-1].status == "completed"
    assert panel.runs[0].task_id == f"t{PAGE_ROWS * 2 - PAGE_ROWS // 2}"
    assert panel.older.isVisibleTo(panel) and panel.older.isEnabled()
    assert f"newest {PAGE_ROWS:,} rows of the log" in panel.status.text()
    qtbot.mouseClick(panel.older, Qt.MouseButton.LeftButton)
    assert len(panel.runs) == PAGE_ROWS and panel.runs[0].task_id == f"t{PAGE_ROWS}"
    for _ in range(2):
        qtbot.mouseClick(panel.older, Qt.MouseButton.LeftButton)
    assert len(panel.runs) == PAGE_ROWS * 2 and panel.runs[0].task_id == "t0"
    assert not panel.older.isVisibleTo(panel)  # the whole log is shown: nothing older
    assert "rows of the log" not in panel.status.text()


def test_a_log_past_the_read_limit_still_shows_its_newest_runs(qtbot, tmp_path):
    ws = _workspace(tmp_path, runs=50, padding=MAX_FILE_BYTES + 1024)
    assert (ws / "task_timing.tsv").stat().st_size > MAX_FILE_BYTES
    win = make_window(qtbot, tmp_path)
    assert win.open_workspace(ws)
    panel = win.runs
    qtbot.waitUntil(lambda: any(r.task_id == "t49" for r in panel.runs), timeout=5000)
    assert panel.row_of("t49")["Status"] == "completed"
    assert panel.older.isVisibleTo(panel)
    # Paging back stops at the read limit, 20 MB from the end: the button says where to go on.
    panel.rows_wanted = 90_000  # as after 44 clicks (the 20 MB of the filler hold about 80,000 rows)
    assert panel.older.isEnabled()
    qtbot.mouseClick(panel.older, Qt.MouseButton.LeftButton)
    assert not panel.older.isEnabled() and "timing list --offset" in panel.older.toolTip()
    assert panel.runs[-1].task_id == "t49" and len(panel.runs) > 50
