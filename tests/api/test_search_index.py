"""``workspace.search_index``: the same hits, in the same order, as the model's search, while the graph changes.

(The application-layer pieces the API added are tested here, beside the API,
until they get homes under tests/workspace/.)
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator_gui.model import operations
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.queries import search
from orchestrator_gui.workspace import search_index
from orchestrator_gui.workspace.search_index import SearchIndex

WORDS = ["loop", "Loop", "stall", "réseau", "ÉTÉ", "agent", "a", "ag", "x\u0301", "日本", "tag"]
text = st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join)
kinds = st.sampled_from(["thought", "plan", "todo", "goal"])


def _graph(rows: list[tuple[str, str, str, tuple[str, ...]]]) -> ThoughtGraph:
    g = ThoughtGraph()
    for k, (title, content, kind, tags) in enumerate(rows):
        g.apply(operations.add_thought(g, title or "t", content, kind=kind, tags=tags, node_id=f"n{k}", now=1.0))
    return g


def _same(g: ThoughtGraph, index: SearchIndex, queries: list[str]) -> None:
    for q in queries:
        for kind in (None, "plan", ["todo", "goal"]):
            for limit in (None, 3):
                assert index.search(q, kind=kind, limit=limit) == search(g, q, kind=kind, limit=limit), (q, kind)


node = st.tuples(text, text, kinds, st.lists(st.sampled_from(WORDS), max_size=2).map(tuple))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(node, min_size=1, max_size=12), queries=st.lists(text, min_size=1, max_size=4),
       edits=st.lists(st.tuples(st.sampled_from(["add", "retitle", "delete"]), st.integers(0, 30), text),
                      max_size=6))
def test_index_answers_as_the_model(rows, queries, edits):
    g = _graph(rows)
    index = SearchIndex(g)
    _same(g, index, queries)  # built here
    for step, (what, k, words) in enumerate(edits):  # followed change by change
        ids = g.node_ids()
        if what == "add":
            g.apply(operations.add_thought(g, words or "new", words, node_id=f"m{step}", now=2.0))
        elif what == "retitle" and ids and g.node(ids[k % len(ids)]).title != (words or "renamed"):
            g.apply(operations.edit(g, ids[k % len(ids)], title=words or "renamed"))
        elif what == "delete" and len(ids) > 1:
            g.apply(operations.delete(g, ids[k % len(ids)]))
        _same(g, index, queries)
    index.close()


def test_index_rebuilds_after_many_changes(monkeypatch):
    monkeypatch.setattr(search_index, "REBUILD_AFTER", 3)
    g = _graph([("loop one", "", "thought", ()), ("loop two", "", "plan", ())])
    index = SearchIndex(g)
    assert index.search("loop") == ["n0", "n1"]
    g.apply(operations.add_thought(g, "loop new", node_id="y0", now=3.0))
    assert index.search("loop") == ["n0", "n1", "y0"]
    assert index._fresh == {"y0"}  # followed, not rebuilt
    for k in range(5):
        g.apply(operations.add_thought(g, f"loop {k}", node_id=f"x{k}", now=3.0))
    assert index.search("loop") == search(g, "loop")
    assert index._fresh == set()  # rebuilt: nothing left to score one by one
    index.close()
