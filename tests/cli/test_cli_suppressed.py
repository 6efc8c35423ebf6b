"""``orchestrator-gui suppressed``: list the nodes suppressed for staying idle; ``--update`` runs one tick.

Also: a ``[dynamics]`` value out of range is ``config.toml:LINE: error: ...`` and exit 1 here and in ``check``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator_gui.cli import cmd_suppressed
from orchestrator_gui.cli import main as cli_main
from orchestrator_gui.cli.main import main

DAY = 86_400.0
T0 = 1_800_000_000.0
CROSS = T0 + DAY * math.log2(1.75 / 0.05)  # see tests/workspace/test_suppression_ticks.py
TODO = "# Docs\n\n- [ ] TW-001 Write the docs\n\n# Chores\n\n- [ ] TW-002 Tidy the README\n"


@pytest.fixture(autouse=True)
def registered(monkeypatch):
    """The command as cli/main.py registers it (``cmd_suppressed`` in its module tuple).

    Until that line is in main.py, ride along with ``next``'s registration; once
    it is (main.py imports ``cmd_suppressed``) this does nothing.
    """
    if hasattr(cli_main, "cmd_suppressed"):
        return
    register_next = cli_main.cmd_next.register

    def both(sub, common):
        register_next(sub, common)
        cmd_suppressed.register(sub, common)

    monkeypatch.setattr(cli_main.cmd_next, "register", both)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(root: Path) -> dict[str, str]:
    # SQLite's -wal/-shm sidecars come and go with any reader: the files and the database are what count.
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


@pytest.fixture
def ws(tmp_path, capsys):
    root = tmp_path / "ws"
    (root / ".orchestrator").mkdir(parents=True)
    (root / ".orchestrator" / "config.toml").write_text("[dynamics]\nsuppress_after_s = 900\n")
    (root / "TODO.md").write_text(TODO)
    os.utime(root / "TODO.md", (T0, T0))
    assert main(["graph", "build", "-w", str(root)]) == 0
    capsys.readouterr()
    return root


def _json(capsys, *args: str) -> dict:
    code = main(["suppressed", *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_update_suppresses_after_the_configured_time_lists_them_and_graph_undo_takes_it_back(ws, capsys):
    base = float(int(CROSS))  # whole seconds: what --now can say
    early = _json(capsys, "-w", str(ws), "--update", "--now", _iso(base + 890))
    assert early["tick"]["suppressed"] == [] and early["suppressed"] == []
    out = _json(capsys, "-w", str(ws), "--update", "--now", _iso(base + 911))
    titles = {r["title"] for r in out["suppressed"]}
    assert titles == {"Docs", "TW-001 Write the docs", "Chores", "TW-002 Tidy the README"}
    assert all(r["since"] == base + 911 and r["activation"] < 0.05 for r in out["suppressed"])
    # Listing writes nothing; the human form names them.
    before = _digest(ws)
    assert main(["suppressed", "-w", str(ws)]) == 0
    text = capsys.readouterr().out
    assert "TW-001 Write the docs" in text and "TW-002 Tidy the README" in text
    assert _digest(ws) == before
    # ``next`` leaves them out; undo brings them back.
    assert main(["next", "-w", str(ws), "--json", "--now", _iso(base + 920)]) == 0
    assert json.loads(capsys.readouterr().out)["next"] is None
    assert main(["graph", "undo", "-w", str(ws)]) == 0
    assert "Suppress 4 idle nodes" in capsys.readouterr().out
    assert _json(capsys, "-w", str(ws))["suppressed"] == []
    assert main(["next", "-w", str(ws), "--json", "--now", _iso(base + 930)]) == 0
    assert json.loads(capsys.readouterr().out)["next"]["title"] == "TW-001 Write the docs"


@pytest.mark.parametrize(("line", "message"), [
    ("suppress_below = 1.5", "dynamics.suppress_below: Input should be less than or equal to 1 (got float 1.5)"),
    ("suppress_after_s = 0", "dynamics.suppress_after_s: Input should be greater than or equal to 1 (got int 0)"),
    ("suppress_batch = 0", "dynamics.suppress_batch: Input should be greater than or equal to 1 (got int 0)"),
    ("load_per_cpu = 99.0", "dynamics.load_per_cpu: Input should be less than or equal to 16 (got float 99.0)"),
    ('tick_s = "30"', "dynamics.tick_s: Input should be a valid number (got str '30')"),
])
def test_a_dynamics_value_out_of_range_is_file_line_and_exit_1(ws, capsys, line, message):
    config = ws / ".orchestrator" / "config.toml"
    config.write_text(f"[limits]\nagent_tasks = 1\n\n[dynamics]\n{line}\n")
    before = _digest(ws)
    assert main(["suppressed", "-w", str(ws), "--update"]) == 1
    assert capsys.readouterr().err.strip() == f"{config}:5: error: {message}"
    assert _digest(ws) == before  # nothing written
    assert main(["check", "-w", str(ws)]) == 1
    out, err = capsys.readouterr()
    assert f"{config}:5: error: {message}" in out + err
