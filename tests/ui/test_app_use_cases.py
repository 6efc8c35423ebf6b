"""The app is a face of the application layer: the configured thinker, the scheduler loop, one undo history.

Each test drives the window as a user would and checks what the workspace
files and the graph store hold afterwards, against the CLI doing the same.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import textwrap
from pathlib import Path

from window_helpers import make_window

from orchestrator_gui.cli.main import main
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.model.identity import run_node_id, schedule_node_id
from orchestrator_gui.model.nodes import EdgeType, NodeStatus
from orchestrator_gui.store import GraphStore

# A command thinker that records every request it gets (one JSON line each) and answers generate.
THINKER = textwrap.dedent('''\
    import json, sys
    req = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    with open(sys.argv[1], "a", encoding="utf-8") as f:
        f.write(json.dumps({"op": req["op"], "text": req.get("text", "")}) + "\\n")
    title = req["text"].split("\\n")[0]
    sys.stdout.write(json.dumps({"results": [f"Configured step {i + 1} of {title}" for i in range(req["n"])]}))
''')
RECORDER = textwrap.dedent('''\
    import os, sys
    with open(os.path.join(os.environ["ORCHESTRATOR_WORKSPACE"], "ran.txt"), "a") as f:
        f.write(" ".join(sys.argv[1:]) + "\\n")
''')
NOW = "2026-03-02T09:00:30.000Z"


def _quiet(*argv: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(list(argv))


def _demo_copy(tmp_path: Path) -> Path:
    from orchestrator_gui.demo import BUNDLED_DEMO

    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    return root


def _config(root: Path, text: str) -> None:
    path = root / ".orchestrator" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _structure(graph) -> tuple:
    """Nodes (id, title, content) and edges: what a transform changes (activation moves on its own)."""
    return (sorted((n.id, n.title, n.content) for n in graph.nodes()),
            sorted((e.src, e.dst, e.type.value) for e in graph.edges()))


def _todo_node(graph, title_start: str) -> str:
    (hit,) = [n.id for n in graph.nodes() if n.kind.value == "todo" and n.title.startswith(title_start)]
    return hit


def test_generate_in_the_app_asks_the_thinker_the_config_names(qtbot, tmp_path):
    root = _demo_copy(tmp_path)
    script, calls = tmp_path / "thinker.py", tmp_path / "calls.jsonl"
    script.write_text(THINKER, encoding="utf-8")
    _config(root, textwrap.dedent(f'''\
        [thinkers]
        default = "tool"

        [thinkers.backends.tool]
        type = "command"
        command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, {json.dumps(str(calls))}]
        '''))
    win = make_window(qtbot, tmp_path)
    assert win.open_workspace(root, keep_graph=True)
    g = win.session.graph
    nid = _todo_node(g, "TW-002 Station catalogue loader")
    before = g.number_of_nodes()
    win.actions_.generate([nid], n=2)
    qtbot.waitUntil(lambda: g.number_of_nodes() == before + 2, timeout=20000)
    titles = sorted(g.node(e.dst).title for e in g.edges_of(nid, "out") if e.type is EdgeType.PARENT
                    and g.node(e.dst).title.startswith("Configured step"))
    assert titles == [f"Configured step {i} of {g.node(nid).title}" for i in (1, 2)]
    (call,) = [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()]
    assert call["op"] == "generate" and call["text"].startswith("TW-002")
    # The same request from the CLI reaches the same thinker, through the same code.
    win.close_workspace()
    assert _quiet("graph", "transform", "generate", nid, "--n", "1", "-w", str(root)) == 0
    assert len(calls.read_text(encoding="utf-8").splitlines()) == 2
    win.close()


def test_run_the_loop_here_fires_a_due_schedule_like_the_run_command(qtbot, tmp_path):
    ws = tmp_path / "ws"
    assert _quiet("init", str(ws)) == 0
    rec = tmp_path / "rec.py"
    rec.write_text(RECORDER, encoding="utf-8")
    _config(ws, f"runner = [{json.dumps(sys.executable)}, {json.dumps(str(rec))}, \"{{task_id}}\"]\n")
    path = ws / ".roo" / "schedules.json"
    doc = load_schedules(path)
    sid = doc.schedules[0].id
    doc.set_values(sid, {"nextExecutionTime": "2026-03-02T09:00:00.000Z"})
    doc.save()

    win = make_window(qtbot, tmp_path)
    clock_ms = parse_js_iso(NOW)
    win.loop_clock = lambda: clock_ms
    assert win.open_workspace(ws, keep_graph=True)
    assert not win.acts["run_loop"].isChecked()  # off by default
    qtbot.wait(50)
    assert not (ws / "ran.txt").exists()  # nothing fires while the loop is off

    win.prompter.confirm_answer = False
    win.acts["run_loop"].trigger()  # asks first; declined
    assert "VS Code" in win.prompter.asked[-1][1] and "Roo" in win.prompter.asked[-1][1]
    assert not win.acts["run_loop"].isChecked() and not win.run_control.looping

    win.prompter.confirm_answer = True
    win.acts["run_loop"].trigger()
    assert win.acts["run_loop"].isChecked() and win.run_control.looping
    qtbot.waitUntil(lambda: (ws / "ran.txt").exists(), timeout=20000)
    raw = load_schedules(path).get(sid).raw
    task_id = (ws / "ran.txt").read_text().split()[0]
    assert raw["lastTaskId"] == task_id and raw["lastExecutionTime"] == NOW
    assert raw["nextExecutionTime"] == "2026-03-02T10:00:00.000Z"
    g = win.session.graph
    rid = run_node_id(task_id)
    qtbot.waitUntil(lambda: rid in g and g.node(rid).status is NodeStatus.DONE, timeout=20000)
    assert g.has_edge(rid, schedule_node_id(sid), EdgeType.SCHEDULED_BY)
    assert not win.session.undo.can_undo or "Run" not in win.session.undo.undo_text  # run records are no undo steps

    # remembered per workspace: reopening switches it on again (without asking again)
    asked = len(win.prompter.asked)
    win.close_workspace()
    assert win.open_workspace(ws, keep_graph=True)
    assert win.run_control.looping and win.acts["run_loop"].isChecked()
    assert len(win.prompter.asked) == asked
    win.acts["run_loop"].trigger()  # off
    assert not win.run_control.looping
    win.close()


def test_one_undo_history_for_the_app_and_the_cli(qtbot, tmp_path):
    root = _demo_copy(tmp_path)
    assert _quiet("graph", "build", "-w", str(root)) == 0
    with GraphStore.open_workspace(root, readonly=True) as store:
        nid = _todo_node(store.graph, "TW-002 Station catalogue loader")
        base = _structure(store.graph)
    # CLI transform -> undone in the app
    assert _quiet("graph", "transform", "generate", nid, "--n", "2", "-w", str(root)) == 0
    win = make_window(qtbot, tmp_path)
    assert win.open_workspace(root, keep_graph=True)
    assert win.acts["undo"].isEnabled() and "Generate" in win.acts["undo"].text()
    win.acts["undo"].trigger()
    assert _structure(win.session.graph) == base
    # app transform -> undone with the CLI
    g = win.session.graph
    before = g.number_of_nodes()
    win.actions_.generate([nid], n=1)
    qtbot.waitUntil(lambda: g.number_of_nodes() == before + 1, timeout=20000)
    win.close_workspace()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["graph", "undo", "--json", "-w", str(root)]) == 0
    undone = json.loads(out.getvalue())
    assert len(undone["removed"]) == 1
    with GraphStore.open_workspace(root, readonly=True) as store:
        assert _structure(store.graph) == base
    # ... and the app's Redo brings it back, because the CLI's undo is in the same history
    assert win.open_workspace(root, keep_graph=True)
    assert "Generate" in win.acts["redo"].text()
    win.acts["redo"].trigger()
    assert undone["removed"][0] in win.session.graph
    win.close()


def test_a_todo_tick_reads_only_todo_md(window, qtbot, monkeypatch):
    import orchestrator_gui.migration.extract as extract

    read: list[str] = []
    monkeypatch.setattr(extract, "READERS", tuple((n, _counting(n, r, read)) for n, r in extract.READERS))
    doc_item = next(i for i in window.todo.doc.items if i.state == "open")
    nid = window.session.node_for("TODO.md", line=doc_item.line)
    assert window.todo.set_done(doc_item.line, True)
    qtbot.waitUntil(lambda: window.session.graph.node(nid).status is NodeStatus.DONE)
    assert read == ["todo"]


def _counting(name, reader, log):
    def counting(ws, now):
        log.append(name)
        return reader(ws, now)
    return counting
