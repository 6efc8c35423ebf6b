"""``graph import`` of GraphML and GEXF (issue 12): lossless round trips, clean refusals, one undoable step."""

from __future__ import annotations

import json
import shutil

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.store import GraphStore, export_graph


def run_json(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def look(ws) -> dict:
    """Ids, titles and positions of every node, and the edges, of the workspace's graph."""
    with GraphStore.open_workspace(ws, readonly=True) as store:
        g = store.graph
        return {"nodes": {n.id: (n.title, n.spherical) for n in g.nodes()},
                "edges": sorted(e.key for e in g.edges())}


@pytest.fixture
def make_ws(tmp_path, monkeypatch):
    """A fresh copy of the demo workspace (no graph yet), made the current folder."""
    made = []

    def make(name: str = "ws"):
        root = tmp_path / name
        shutil.copytree(BUNDLED_DEMO, root)
        monkeypatch.chdir(root)
        made.append(root)
        return root
    return make


@pytest.mark.parametrize("fmt", ["json", "graphml", "gexf"])
def test_export_import_export_through_a_workspace_is_lossless(make_ws, tmp_path, capsys, fmt):
    make_ws("a")
    run_json(capsys, "graph", "build")
    first, reference = tmp_path / f"first.{fmt}", tmp_path / "reference.json"
    run_json(capsys, "graph", "export", "--format", fmt, "-o", str(first))
    run_json(capsys, "graph", "export", "--format", "json", "-o", str(reference))
    make_ws("b")  # a workspace without a graph
    out = run_json(capsys, "graph", "import", str(first))
    assert out["format"] == fmt and out["nodes"] == 123 and out["edges"] == 223
    again, again_json = tmp_path / f"again.{fmt}", tmp_path / "again.json"
    run_json(capsys, "graph", "export", "--format", fmt, "-o", str(again))
    run_json(capsys, "graph", "export", "--format", "json", "-o", str(again_json))
    assert again.read_bytes() == first.read_bytes()
    assert again_json.read_bytes() == reference.read_bytes()  # ids, kinds, positions, edge types, state: all


BAD_FILES = {
    "doctype": ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<graphml/>\n', 2, "DOCTYPE"),
    "truncated": ('<?xml version="1.0"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
                  '  <graph edgedefault="directed">\n    <node id="a">\n', 5, "not well-formed XML"),
    "unknown edge type": ('<graphml>\n<key id="t" for="edge" attr.name="type"/>\n<graph edgedefault="directed">\n'
                          '<node id="a"/><node id="b"/>\n<edge source="a" target="b"><data key="t">supports</data>'
                          '</edge>\n</graph></graphml>\n', 5, "unknown type 'supports'"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_xml_gives_file_line_error_and_changes_nothing(make_ws, tmp_path, capsys, case):
    content, line, message = BAD_FILES[case]
    bad = tmp_path / "bad.graphml"
    bad.write_text(content, encoding="utf-8")
    ws = make_ws()
    code, _, err = run(capsys, "graph", "import", str(bad))
    assert code == 1 and err.startswith(f"{bad}:{line}: error: ") and message in err, err
    assert not (ws / ".orchestrator").exists()  # not even an empty store was made
    run_json(capsys, "graph", "build")
    before, history = look(ws), run_json(capsys, "graph", "history")
    code, _, err = run(capsys, "graph", "import", str(bad))
    assert code == 1 and err.startswith(f"{bad}:{line}: error: ")
    assert look(ws) == before and run_json(capsys, "graph", "history") == history


def test_graph_undo_after_an_import_restores_the_graph_and_redo_brings_the_import_back(make_ws, tmp_path, capsys):
    other = ThoughtGraph()
    other.apply(ops.add_thought(other, "Imported goal", kind="goal", node_id="goal", now=1.0))
    other.apply(ops.add_thought(other, "Imported step", kind="todo", parent="goal", node_id="step", now=2.0))
    exported = tmp_path / "other.gexf"
    export_graph(other, exported, "gexf")
    ws = make_ws()
    run_json(capsys, "graph", "build")
    before = look(ws)
    run_json(capsys, "graph", "import", str(exported))
    imported = look(ws)
    assert imported["nodes"] == {"goal": ("Imported goal", other.node("goal").spherical),
                                 "step": ("Imported step", other.node("step").spherical)}
    code, _, err = run(capsys, "graph", "undo")
    assert code == 0, ("graph undo after an import needs the Session's history to get "
                       "reset_change=store_reset_change(store) (workspace/session.py): " + err)
    assert look(ws) == before  # every node id, title and position, every edge
    run_json(capsys, "graph", "redo")
    assert look(ws) == imported
    run_json(capsys, "graph", "undo")
    assert look(ws) == before


def test_graph_restore_is_one_undoable_step(make_ws, capsys):
    ws = make_ws()
    run_json(capsys, "graph", "build")
    first_tx = run_json(capsys, "graph", "history")[0]["tx_id"]
    g0 = look(ws)
    node = next(iter(g0["nodes"]))
    run_json(capsys, "graph", "transform", "generate", node, "--n", "2")
    changed = look(ws)
    assert changed != g0
    assert run_json(capsys, "graph", "restore", first_tx)["transaction"]
    assert look(ws) == g0
    run_json(capsys, "graph", "undo")
    assert look(ws) == changed
    run_json(capsys, "graph", "redo")
    assert look(ws) == g0
