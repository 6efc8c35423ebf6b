"""``orchestrator-gui graph …``: build, stats, export/import, history/restore, query."""

from __future__ import annotations

import hashlib
import json
import shutil

import networkx as nx
import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def run_quiet(capsys, *argv):
    code = main(list(argv))
    capsys.readouterr()
    return code


def files_digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and ".orchestrator" not in p.parts}


@pytest.fixture
def ws(tmp_path, monkeypatch):
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    monkeypatch.chdir(root)
    return root


def test_build_counts_match_the_file_listings_and_never_touch_the_files(ws, capsys):
    before = files_digest(ws)
    built = run_json(capsys, "graph", "build")
    assert files_digest(ws) == before
    assert (ws / ".orchestrator" / "graph.db").is_file()
    for kind, command in (("todo", "todo"), ("memory", "memory"), ("schedule", "schedules"), ("mode", "modes")):
        assert built["kinds"][kind] == len(run_json(capsys, command, "list")), kind
    assert built["nodes"] == sum(built["kinds"].values()) and built["edges"] > built["nodes"]
    stats = run_json(capsys, "graph", "stats")
    assert {k: stats[k] for k in ("nodes", "edges", "kinds")} == {k: built[k] for k in ("nodes", "edges", "kinds")}
    assert stats["transactions"] == 1 and stats["store_bytes"] > 0


def test_rebuild_is_incremental(ws, capsys):
    run_json(capsys, "graph", "build")
    again = run_json(capsys, "graph", "build")
    assert set(again["changes"].values()) == {0}
    line = run_json(capsys, "todo", "list", "--state", "open")[0]["line"]
    assert run_quiet(capsys, "todo", "check", str(line)) == 0
    changed = run_json(capsys, "graph", "build")
    assert changed["changes"]["nodes_updated"] == 1 and changed["changes"]["nodes_added"] == 0
    assert len(run_json(capsys, "graph", "history")) == 2


def test_query_points_at_the_source_line(ws, capsys):
    run_json(capsys, "graph", "build")
    hits = run_json(capsys, "graph", "query", "station", "--kind", "todo")
    assert hits and all(h["kind"] == "todo" for h in hits)
    lines = (ws / "TODO.md").read_text().split("\n")
    for h in hits:
        assert h["file"] == "TODO.md"
        assert h["title"].split()[0] in lines[h["line"] - 1]  # e.g. "TW-006" on its item line
        assert lines[h["line"] - 1].lstrip().startswith("- [")


def test_export_import_history_restore(ws, tmp_path, capsys):
    built = run_json(capsys, "graph", "build")
    exported = tmp_path / "g.json"
    run_json(capsys, "graph", "export", "--format", "json", "-o", str(exported))
    for fmt, reader in (("graphml", nx.read_graphml), ("gexf", nx.read_gexf)):
        target = tmp_path / f"g.{fmt}"
        run_json(capsys, "graph", "export", "--format", fmt, "-o", str(target))
        assert reader(target).number_of_nodes() == built["nodes"]
    first_tx = run_json(capsys, "graph", "history")[0]["tx_id"]
    line = run_json(capsys, "todo", "list")[0]["line"]
    assert run_quiet(capsys, "todo", "remove", str(line)) == 0
    assert run_json(capsys, "graph", "build")["nodes"] == built["nodes"] - 1
    restored = run_json(capsys, "graph", "restore", first_tx)
    assert restored["nodes"] == built["nodes"] and restored["transaction"]
    imported = run_json(capsys, "graph", "import", str(exported))
    assert imported["nodes"] == built["nodes"] and imported["edges"] == built["edges"]
    again = tmp_path / "again.json"
    run_json(capsys, "graph", "export", "-o", str(again))
    assert again.read_bytes() == exported.read_bytes()
    ops = [e["operation"] for e in run_json(capsys, "graph", "history")]
    assert ops == ["build_graph", "sync_workspace", "restore", "import"]  # the first build: the base state


def test_errors_are_clear(ws, tmp_path, capsys):
    assert main(["graph", "stats"]) == 1
    assert "graph build" in capsys.readouterr().err
    run_json(capsys, "graph", "build")
    assert main(["graph", "restore", "nope"]) == 1
    assert "no transaction" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{\n  oops\n}")
    assert main(["graph", "import", str(bad)]) == 1
    assert capsys.readouterr().err.startswith(f"{bad}:2: error:")
