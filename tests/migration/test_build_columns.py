"""A fresh build made from columns equals the build made one edit at a time.

``build_graph`` loads its nodes and edges as columns and reads the memory log
from its columns (no entry models); these tests hold it to what the
per-edit path (``update_graph`` on an empty graph, applied) and the entry
models give: the same nodes, rows, edges, edge metadata and snapshot bytes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from shared_fixtures import fixture_files
from ws_helpers import demo_copy, origin_workspace

from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.workspace import Workspace
from orchestrator_gui.migration import build, build_graph, update_graph
from orchestrator_gui.migration.extract import Item, memory_items, read_workspace
from orchestrator_gui.migration.links import refs
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.identity import MEMORY_FILE, OccurrenceKeys, node_id
from orchestrator_gui.model.nodes import Node, NodeKind, NodeStatus, Source
from orchestrator_gui.store.snapshot import encode_graph

NOW = 1_761_000_000.0


def applied(root: Path) -> ThoughtGraph:
    """The graph the per-edit path makes: every AddNode and AddEdge applied to an empty graph."""
    g = ThoughtGraph()
    g.apply(update_graph(g, root, now=NOW), record=False)
    return g


def assert_same_graph(a: ThoughtGraph, b: ThoughtGraph) -> None:
    assert a.node_ids() == b.node_ids()  # same rows
    assert a.to_dict() == b.to_dict()
    assert [e.key for e in a.edges()] == [e.key for e in b.edges()]  # same edge rows
    assert [e.metadata for e in a.edges()] == [e.metadata for e in b.edges()]
    for name in ("spherical", "kind_index", "layer_index", "status_index", "created", "updated", "flags"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert encode_graph(a)[0] == encode_graph(b)[0]


@pytest.mark.parametrize("make", [demo_copy, origin_workspace])
def test_fresh_build_equals_the_per_edit_build(tmp_path, make):
    root = make(tmp_path)
    g = build_graph(root, now=NOW)
    assert g.number_of_edges() > 0 and not g.history.can_undo
    assert_same_graph(g, applied(root))


def test_fresh_bulk_layout_build_equals_the_per_edit_build(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "BULK_LAYOUT_NODES", 10)  # the layout of a 300 000-entry log
    root = origin_workspace(tmp_path)
    assert_same_graph(build_graph(root, now=NOW), applied(root))


def model_memory_items(root: Path) -> list[Item]:
    """The memory reader as it was written on the entry models (the reference for the column reader)."""
    doc = load_memory(Workspace.at(root).memory)
    keys = OccurrenceKeys()
    out = []
    for e in doc.entries:
        if e.mode is not None or e.id is not None:
            key = keys(f"entry/{e.timestamp_raw}|{e.mode or ''}|{e.id or ''}")
        else:
            key = keys(f"entry/{e.timestamp_raw}|{e.form}")
        body = "\n".join(e.body).strip("\n")
        content = "\n".join(p for p in (e.summary, body) if p)
        ts = e.timestamp.timestamp()
        title = " ".join((e.id or e.summary or e.timestamp_raw).split())
        node = Node(id=node_id(MEMORY_FILE, key), kind=NodeKind.MEMORY,
                    title=title if len(title) <= 160 else title[:159].rstrip() + "…", content=content,
                    status=NodeStatus.DONE, created=ts, updated=ts, tags=tuple(refs(e.id or "")),
                    metadata={"timestamp": e.timestamp_raw, "mode": e.mode, "entry_id": e.id, "form": e.form,
                              "section": e.section},
                    source=Source(file=MEMORY_FILE, key=key, line=e.line))
        out.append(Item(node, text=f"{e.id or ''}\n{content}", info={"mode": e.mode or ""}))
    return out


MEMORY_LOGS = fixture_files("memory")


@pytest.mark.parametrize("log", MEMORY_LOGS, ids=[p.name[-40:] for p in MEMORY_LOGS])
def test_memory_items_from_columns_equal_the_entry_models(tmp_path, log):
    shutil.copyfile(log, tmp_path / "persistent-memory.md")
    got = memory_items(Workspace.at(tmp_path), None)
    want = model_memory_items(tmp_path)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a.node == b.node and a.node.model_dump() == b.node.model_dump()
        assert (a.parent, a.text, a.info) == (b.parent, b.text, b.info)


def test_repeated_memory_keys_get_occurrence_suffixes(tmp_path):
    line = "[2025-11-01T10:00:00.000Z] [code] - [T1]: same\n"
    (tmp_path / "persistent-memory.md").write_text("# System Updates & Status\n\n" + line * 3
                                                   + "[2025-11-01 10:00:00] - membank\n" * 2)
    ids = [it.id for it in read_workspace(Workspace.at(tmp_path))["memory"]]
    assert ids == [f"{MEMORY_FILE}::entry/2025-11-01T10:00:00.000Z|code|T1{s}" for s in ("", "~1", "~2")] + \
        [f"{MEMORY_FILE}::entry/2025-11-01 10:00:00|membank{s}" for s in ("", "~1")]
