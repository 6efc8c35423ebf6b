"""The graph is composed of objects with their own state, and its modules form no import circle."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import orchestrator_gui.model as model_pkg
from orchestrator_gui.model import ThoughtGraph
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.edge_table import EdgeTable
from orchestrator_gui.model.node_table import NodeTable

MODEL_DIR = Path(model_pkg.__file__).parent


def _runtime_imports(path: Path) -> set[str]:
    """Sibling modules imported by ``path`` at run time, lazy imports included, ``TYPE_CHECKING`` blocks not."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(sub) for sub in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("orchestrator_gui.model."):
                found.add(node.module.split(".")[2])
            elif node.module == "orchestrator_gui.model":
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[2] for a in node.names if a.name.startswith("orchestrator_gui.model."))
    return found


def test_no_module_that_graph_imports_imports_graph_back():
    modules = {p.stem: p for p in MODEL_DIR.glob("*.py") if p.stem != "__init__"}
    deps = {name: _runtime_imports(p) & modules.keys() - {name} for name, p in modules.items()}
    below: set[str] = set()
    todo = list(deps["graph"])
    while todo:
        name = todo.pop()
        if name not in below:
            below.add(name)
            todo.extend(deps[name])
    assert "graph" not in below, sorted(n for n in below if "graph" in deps[n])


def test_module_map_lists_every_module():
    doc = model_pkg.__doc__
    listed = {line.split()[0] for line in doc.splitlines() if line[:1].isalpha() and len(line.split()) > 1}
    modules = {p.stem for p in MODEL_DIR.glob("*.py") if p.stem != "__init__"}
    assert modules <= listed, sorted(modules - listed)


def _pair() -> ThoughtGraph:
    """Two nodes and one edge with metadata (bulk-built, so the edge metadata is set directly)."""
    return ThoughtGraph.from_dict(
        {
            "format": "orchestrator-gui.thought-graph",
            "schema_version": 1,
            "nodes": [{"id": "a", "kind": "goal", "title": "A"}, {"id": "b", "kind": "plan", "title": "B"}],
            "edges": [{"src": "a", "dst": "b", "type": "parent", "metadata": {"k": 1}}],
        }
    )


def test_tables_are_reachable_and_consistent_with_the_graph():
    g = _pair()
    assert isinstance(g.node_table, NodeTable) and isinstance(g.edge_table, EdgeTable)
    assert g.edge_table.nodes is g.node_table
    assert len(g.node_table) == len(g) == 2 and len(g.edge_table) == g.number_of_edges() == 1
    assert g.node_table.ids_at(np.array([1, 0])) == ["b", "a"]
    assert g.edge_table.metadata_by_row() == {0: {"k": 1}}
    out_a, in_a = g.incident_keys("a")
    assert len(out_a) == 1 and len(in_a) == 0
    assert g.edge_table.edge(int(out_a[0])) == g.edge("a", "b", "parent")


def test_structure_revision_counts_additions_and_removals_only():
    g = _pair()
    before, rev = g.structure_revision, g.revision
    tx = g.apply(ops.edit(g, "a", title="renamed"))
    assert g.structure_revision == before and g.revision == rev + len(tx.edits)
    g.apply(ops.unlink(g, "a", "b", "parent"))
    assert g.structure_revision > before


def test_tables_of_another_graph_are_refused():
    nodes = NodeTable()
    with pytest.raises(ValueError):
        ThoughtGraph(nodes=nodes, edges=EdgeTable(NodeTable()))
    g = ThoughtGraph(edges=EdgeTable(nodes))
    assert g.node_table is nodes
