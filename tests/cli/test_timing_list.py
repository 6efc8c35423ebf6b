"""`timing list` pages from the end of the log: the newest rows by default, older pages with --offset."""

from __future__ import annotations

import json

from orchestrator_gui.cli.main import main

HEADER = "timestamp\tmode\ttask_id\tstart_time\tend_time\tduration\ttask\tresult\tpriority\n"


def _log(path, n: int) -> None:
    rows = [f"2026-11-01T00:{i // 60:02d}:{i % 60:02d}Z\tcode\tt{i:04d}\t2026-11-01T00:00:00Z\t"
            f"2026-11-01T00:01:00Z\t60\ttask {i}\tcompleted\t\n" for i in range(n)]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")


def _ids(capsys, *argv) -> list[str]:
    assert main(list(argv)) == 0
    return [r["task_id"] for r in json.loads(capsys.readouterr().out)]


def test_the_newest_page_then_older_pages_then_all(tmp_path, capsys):
    _log(tmp_path / "task_timing.tsv", 250)
    w = ("-w", str(tmp_path), "--json", "timing", "list")
    newest = _ids(capsys, *w)
    assert newest == [f"t{i:04d}" for i in range(150, 250)]  # 100 newest, oldest first
    assert _ids(capsys, *w, "--limit", "10", "--offset", "5") == [f"t{i:04d}" for i in range(235, 245)]
    assert _ids(capsys, *w, "--all") == [f"t{i:04d}" for i in range(250)]
    assert _ids(capsys, *w, "--offset", "240") == [f"t{i:04d}" for i in range(10)]


def test_a_bad_page_is_a_usage_error(tmp_path, capsys):
    _log(tmp_path / "task_timing.tsv", 3)
    assert main(["-w", str(tmp_path), "timing", "list", "--limit", "0"]) == 2
    assert "--limit must be between" in capsys.readouterr().err
