"""`graph history` and `graph stats` read the fleet's shared store in fleet mode, not a local graph.db."""

from __future__ import annotations

import json
import shutil

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.model import operations
from orchestrator_gui.store.postgres_schema import migrate
from orchestrator_gui.workspace import Session


def test_graph_history_and_stats_read_the_shared_store(fleet_dsn, tmp_path, monkeypatch, capsys):
    migrate(fleet_dsn)
    monkeypatch.setenv("ORCHESTRATOR_FLEET_DSN", fleet_dsn)
    m1, m2 = tmp_path / "m1", tmp_path / "m2"
    shutil.copytree(BUNDLED_DEMO, m1)
    shutil.copytree(BUNDLED_DEMO, m2)
    monkeypatch.setenv("ORCHESTRATOR_MACHINE", "m1")
    with Session.open(m1) as s:
        s.apply(operations.add_thought(s.graph, "Shared thought", node_id="thought-shared"))
    # Machine m2 never built anything itself: its history is the fleet's.
    monkeypatch.setenv("ORCHESTRATOR_MACHINE", "m2")
    assert main(["graph", "history", "-w", str(m2), "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    rows = history if isinstance(history, list) else history.get("history", history.get("entries"))
    assert any("Shared thought" in json.dumps(r) for r in rows), rows
    assert main(["graph", "stats", "-w", str(m2), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["store"].startswith("postgresql://127.0.0.1:") and stats["kinds"]["thought"] == 1
    assert not (m2 / ".orchestrator" / "graph.db").exists()
