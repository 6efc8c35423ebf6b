"""Thinking: the configured thinker, a snapshot of the inputs, an engine task whose value is the transaction."""

from __future__ import annotations

import shutil

import pytest

from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.model import operations
from orchestrator_gui.model.errors import NodeNotFound, StaleEditError
from orchestrator_gui.model.nodes import EdgeType
from orchestrator_gui.workspace import Session, TransformOutcome, TransformRequest


@pytest.fixture
def session(tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    with Session.open(root, in_memory=True) as s:
        yield s


def _todo(g, start="TW-002"):
    return next(n.id for n in g.nodes() if n.kind.value == "todo" and n.title.startswith(start))


def test_the_task_value_is_the_transaction_built_on_a_snapshot(session):
    g = session.graph
    nid = _todo(g)
    task = session.thinking.prepare(g, TransformRequest("generate", (nid,), n=2), title="Generate")
    assert task.kind == "transform" and task.inputs == (nid,)
    before = g.number_of_nodes()
    # The live graph changes after the snapshot was taken: the worker never sees it.
    session.apply(operations.add_thought(g, "meanwhile", parent=nid))
    engine = ThreadExecutor(session.root, track_time=False, track_failures=False)
    try:
        result = engine.submit(task).result(30)
    finally:
        engine.shutdown()
    assert result.status == "completed" and isinstance(result.value, TransformOutcome)
    tx = result.value.transaction
    assert g.number_of_nodes() == before + 1  # building applied nothing
    committed = session.apply(tx)
    children = [e.dst for e in g.edges_of(nid, "out") if e.type is EdgeType.PARENT]
    assert all(c in children for c in committed.provenance.params["created"])
    assert session.history.undo_text == committed.description


def test_a_stale_build_fails_to_apply_instead_of_overwriting(session):
    g = session.graph
    nid = _todo(g)
    task = session.thinking.prepare(g, TransformRequest("refine", (nid,), feedback="rename to A", in_place=True,
                                                        thinker=_Rename("A")))
    session.apply(operations.edit(g, nid, title="changed by the user meanwhile"))
    outcome = task.fn(None)
    with pytest.raises(StaleEditError):
        session.apply(outcome.transaction)
    assert g.node(nid).title == "changed by the user meanwhile"


def test_bad_requests_fail_on_the_callers_thread(session):
    g = session.graph
    with pytest.raises(NodeNotFound):
        session.thinking.prepare(g, TransformRequest("generate", ("nope",)))
    with pytest.raises(ValueError, match="no thinker 'missing'"):
        session.thinking.prepare(g, TransformRequest("generate", (_todo(g),), thinkers=("missing",)))
    with pytest.raises(ValueError, match="unknown transform"):
        TransformRequest("explode", ("x",)).check()
    with pytest.raises(ValueError, match="cannot run speculatively"):
        TransformRequest("aggregate", ("a", "b"), speculative=2).check()


def test_score_on_a_snapshot_uses_the_whole_graphs_attention_scale(session):
    from orchestrator_gui.workspace.dynamics import refresh

    g = session.graph
    refresh(g)
    nid = _todo(g)
    live = session.thinking.run(g, TransformRequest("score", (nid,))).transaction
    snap = session.thinking.prepare(g, TransformRequest("score", (nid,))).fn(None).transaction
    # equal up to the recency term, which moves with the clock between the two calls
    assert snap.provenance.params["scores"][nid] == pytest.approx(live.provenance.params["scores"][nid], rel=1e-6)


class _Rename:
    name = "rename"

    def __init__(self, title: str) -> None:
        self.title = title

    def refine(self, text, feedback, context):
        return self.title
