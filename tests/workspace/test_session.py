"""Session: open, per-file sync, apply with one journal-backed history, node lookup."""

from __future__ import annotations

import shutil

import pytest

import orchestrator_gui.migration.extract as extract
from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.model import operations
from orchestrator_gui.model.identity import todo_keys
from orchestrator_gui.model.nodes import NodeStatus
from orchestrator_gui.problems import ConflictError, FormatError
from orchestrator_gui.workspace import NoGraphError, Session


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, path)
    return path


@pytest.fixture
def reads(monkeypatch):
    """The names of the readers run (every file read of the migration goes through one)."""
    log: list[str] = []

    def wrap(name, reader):
        def counting(ws, now):
            log.append(name)
            return reader(ws, now)
        return counting
    monkeypatch.setattr(extract, "READERS", tuple((n, wrap(n, r)) for n, r in extract.READERS))
    return log


def _tick_first_open_item(root) -> int:
    path = root / "TODO.md"
    doc = load_todo(path)
    item = next(i for i in doc.items if i.state == "open")
    data = path.read_bytes()
    lines = data.split(b"\n")
    lines[item.line - 1] = lines[item.line - 1].replace(b"[ ]", b"[x]", 1)
    path.write_bytes(b"\n".join(lines))
    return item.line


def test_a_change_of_one_file_reads_that_file_alone(root, reads):
    with Session.open(root) as s:
        assert sorted(reads) == ["memory", "modes", "schedules", "timing", "todo"]  # the first build reads all
        reads.clear()
        line = _tick_first_open_item(root)
        committed = s.sync(["TODO.md"])
        assert reads == ["todo"]
        nid = s.node_for("TODO.md", line=line)
        assert s.graph.node(nid).status is NodeStatus.DONE and committed is not None
        reads.clear()
        assert s.sync(["notes.txt"]) is None and reads == []  # not a workspace file: nothing read
        assert s.sync(["TODO.md"]) is None  # read again, nothing changed, nothing applied
        # the same result as a full read of every file
        assert s.plan_sync().edits == ()


def test_a_file_that_failed_to_read_is_read_again_with_the_next_change(root, reads):
    with Session.open(root) as s:
        good = (root / "TODO.md").read_bytes()
        (root / "TODO.md").write_bytes(b"\xff\xfe\x00bad")
        with pytest.raises(FormatError):
            s.sync(["TODO.md"])
        (root / "TODO.md").write_bytes(good.replace(b"[ ]", b"[x]", 1))
        reads.clear()
        # the memory file changed, but the TODO change the failed read missed is picked up too
        assert s.sync(["persistent-memory.md"]) is not None
        assert sorted(reads) == ["memory", "todo"]


def test_syncs_are_journaled_but_only_explicit_ones_are_undo_steps(root):
    with Session.open(root) as s:
        _tick_first_open_item(root)
        s.sync(["TODO.md"])
        assert not s.history.can_undo  # the automatic sync is no step
        tx = s.apply(operations.add_thought(s.graph, "Why?"))
        assert s.history.undo_text == tx.description
    with Session.open(root, sync=False) as s:  # another process: same position, from the journal
        assert [st.tx_id for st in s.history.undo_steps] == [tx.id]
        s.undo()
        assert tx.edits[0].node.id not in s.graph
    with Session.open(root, sync=False) as s:
        assert s.history.can_redo and not s.history.can_undo
        s.redo()
        assert tx.edits[0].node.id in s.graph


def test_open_without_create_refuses_a_workspace_without_a_graph(root):
    with pytest.raises(NoGraphError, match="graph build"):
        Session.open(root, create=False)
    assert not (root / ".orchestrator" / "graph.db").exists()
    with pytest.raises(FormatError, match="does not exist"):
        Session.open(root / "missing")
    assert not (root / "missing").exists()


def test_node_for_by_identity_key_and_by_line(root):
    with Session.open(root, in_memory=True) as s:
        doc = load_todo(root / "TODO.md")
        keys = todo_keys(doc.headings, doc.items)
        line, key = next(iter(sorted(keys.items())))
        assert s.node_for("TODO.md", key=key) == s.node_for("TODO.md", line=line) == f"TODO.md::{key}"


def test_file_steps_never_overwrite_a_later_write(root):
    with Session.open(root, in_memory=True) as s:
        path = root / "TODO.md"
        before = path.read_bytes()
        after = before.replace(b"[ ]", b"[x]", 1)
        s.history.write_file(path, before, after, "Check")
        path.write_bytes(after + b"- [ ] an agent's line\n")  # an agent writes after us
        with pytest.raises(ConflictError):
            s.undo()
        assert path.read_bytes().endswith(b"an agent's line\n")
        assert not s.history.can_undo  # the step that cannot be undone is dropped, not retried forever
