"""Speculative transforms: K candidates in parallel, the best N kept as one undoable transaction, the rest cancelled."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from orchestrator_gui.cli.main import main
from orchestrator_gui.engine.config import EngineConfig, LimitsConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.speculative import (
    Variant,
    make_variants,
    speculative_generate,
    speculative_refine,
    spread_temperatures,
)
from orchestrator_gui.engine.thinkers import CANCEL, BackendResult, CommandThinker, ThinkerCancelled
from orchestrator_gui.model import ThoughtGraph, mutate
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.coords import angular_distance_spherical
from orchestrator_gui.model.nodes import EdgeType
from orchestrator_gui.model.thinker import ThinkerError

T0 = 1_700_000_000.0
WAIT = 30.0  # generous bound for events that must come; the tests never sleep


class Fake:
    """A thinker with known answers; ``hold`` waits for its cancel token, ``before`` for an event."""

    def __init__(self, name: str, texts: list[str], *, hold: bool = False, before: threading.Event | None = None,
                 fail: str | None = None) -> None:
        self.name, self.texts, self.hold, self.before, self.fail = name, texts, hold, before, fail
        self.calls = 0
        self.cancelled = threading.Event()
        self.completed = threading.Event()

    def _answer(self, context):
        self.calls += 1
        token = context.extra[CANCEL]
        if self.hold:
            if token.wait(WAIT):
                self.cancelled.set()
                raise ThinkerCancelled(f"{self.name} stopped")
        if self.before is not None:
            assert self.before.wait(WAIT)
        if self.fail:
            raise ThinkerError(self.fail)
        self.completed.set()
        return BackendResult(list(self.texts), 0.01, 30, self.name, 20, 10)

    def generate(self, text, context, n):
        return self._answer(context)

    def refine(self, text, feedback, context):
        result = self._answer(context)
        return BackendResult(result.value[0], 0.01, 30, self.name, 20, 10)


class Judge:
    """Scores texts from a table; ``gate[text]`` waits before scoring it, ``signal[text]`` is set after."""

    name = "judge"

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.gate: dict[str, threading.Event] = {}
        self.signal: dict[str, threading.Event] = {}

    def score(self, items, context):
        assert context.extra.get("about"), "the scorer is told what the candidates are for"
        for it in items:
            if it in self.gate:
                assert self.gate[it].wait(WAIT)
        out = [self.scores[it] for it in items]
        for it in items:
            if it in self.signal:
                self.signal[it].set()
        return BackendResult(out, 0.001, 5, "judge")


@pytest.fixture
def graph():
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Ship the release", "Everything it needs.", kind="goal", node_id="goal", now=T0),
            record=False)
    g.apply(ops.add_thought(g, "Existing child", "", kind="thought", parent="goal", node_id="old", now=T0),
            record=False)
    return g


def created(tx) -> list[str]:
    return [e.node.id for e in tx.edits if e.op == "add_node"]


def test_the_best_is_kept_and_a_slow_loser_is_cancelled_before_it_completes(graph):
    judge = Judge({"Plan A": 0.4, "Plan B": 1.0, "Plan C": 0.9})
    a_scored = judge.signal["Plan A"] = threading.Event()
    judge.gate["Plan B"] = a_scored  # B is scored only after A: A has finished when the winner is known
    a, b, slow = Fake("A", ["Plan A"]), Fake("B", ["Plan B"]), Fake("C", ["Plan C"], hold=True)
    before = graph.to_dict()

    result = speculative_generate(graph, "goal", 1, variants=[a, b, slow], keep=1, scorer=judge, now=T0 + 5)

    assert slow.cancelled.is_set() and not slow.completed.is_set(), "the slow loser must not run to completion"
    assert result.early
    assert [(c.label, c.status) for c in result.candidates] == [("A", "discarded"), ("B", "kept"), ("C", "cancelled")]
    assert graph.to_dict() == before, "building the result commits nothing"
    tx = result.transaction
    assert tx.provenance.operation == "generate"
    assert tx.provenance.params["node_id"] == "goal" and tx.provenance.actor == "speculative:B"
    graph.apply(tx)
    (child,) = created(tx)
    node = graph.node(child)
    assert node.title == "Plan B"
    assert [e.dst for e in graph.edges_of(child, "out") if e.type == EdgeType.DERIVED_FROM] == ["goal"]
    spec = node.metadata["speculative"]
    assert (spec["candidate"], spec["variant"], spec["rank"], spec["score"]) == (1, "B", 0, 1.0)
    assert spec["cost"]["tokens"] == 30 and spec["cost"]["prompt_tokens"] == 20
    assert spec["cost"]["completion_tokens"] == 10 and spec["cost"]["score_tokens"] == 5
    assert spec["cost"]["seconds"] > 0
    assert node.metadata["provenance"]["tx"] == tx.id
    params = tx.provenance.params["speculative"]
    assert (params["k"], params["keep"], params["max_score"], params["early"], params["scorer"]) == (
        3, 1, 1.0, True, "judge")
    records = {r["variant"]: r for r in params["candidates"]}
    assert records["A"]["status"] == "discarded" and records["A"]["score"] == 0.4
    assert records["A"]["cost"]["tokens"] == 30  # the discarded candidate's cost is kept too
    assert records["C"]["status"] == "cancelled" and records["C"]["score"] is None
    assert records["C"]["cost"]["tokens"] is None and records["C"]["cost"]["seconds"] > 0
    assert "C stopped" in records["C"]["error"]
    assert tx.provenance.params["cost"]["tokens"] == 2 * 35  # A and B: 30 + 5 each; C reported nothing
    # one transaction: a single undo restores the graph exactly, redo brings the result back
    after = graph.to_dict()
    graph.undo()
    assert graph.to_dict() == before
    graph.redo()
    assert graph.to_dict() == after


def test_without_a_certain_winner_every_candidate_is_awaited(graph):
    judge = Judge({"Fast": 0.9, "Slow": 0.95})
    fast_scored = judge.signal["Fast"] = threading.Event()
    fast, slow = Fake("fast", ["Fast"]), Fake("slow", ["Slow"], before=fast_scored)
    result = speculative_generate(graph, "goal", 1, variants=[fast, slow], keep=1, scorer=judge, now=T0)
    assert not result.early and slow.completed.is_set()
    assert [(c.label, c.status) for c in result.candidates] == [("fast", "discarded"), ("slow", "kept")]
    graph.apply(result.transaction)
    assert [graph.node(i).title for i in created(result.transaction)] == ["Slow"]


def test_on_the_engine_queued_candidates_never_start_once_the_winner_is_certain(graph, tmp_path):
    engine = ThreadExecutor(tmp_path, EngineConfig(limits=LimitsConfig(transforms=1)), track_time=False,
                            track_failures=False)
    try:
        events = []
        engine.add_listener(lambda e: events.append((e.type, e.data.get("status"))))
        first = Fake("first", ["Best"])
        second, third = Fake("second", ["B2"], hold=True), Fake("third", ["B3"], hold=True)
        judge = Judge({"Best": 1.0, "B2": 0.1, "B3": 0.1})
        result = speculative_generate(graph, "goal", 1, variants=[first, second, third], keep=1, scorer=judge,
                                      engine=engine)
        assert engine.wait_idle(WAIT)
    finally:
        engine.shutdown()
    assert result.early and [c.status for c in result.candidates] == ["kept", "cancelled", "cancelled"]
    assert third.calls == 0, "the last queued candidate must never start"
    assert not second.completed.is_set() and not third.completed.is_set()
    assert result.candidates[2].seconds == 0.0
    assert ("finished", "completed") in events and events.count(("finished", "cancelled")) == 2
    graph.apply(result.transaction)
    assert [graph.node(i).title for i in created(result.transaction)] == ["Best"]


def test_keep_two_generates_the_children_of_both_best_candidates_once(graph):
    judge = Judge({"alpha": 0.8, "shared": 0.6, "beta": 0.9, "gamma": 0.2})
    variants = [Fake("A", ["alpha", "shared"]), Fake("B", ["beta", "shared"]), Fake("C", ["gamma", "Existing child"])]
    result = speculative_generate(graph, "goal", 2, variants=variants, keep=2, scorer=judge, now=T0)
    assert [(c.label, c.status, c.score) for c in result.candidates] == [
        ("A", "kept", pytest.approx(0.7)), ("B", "kept", pytest.approx(0.75)), ("C", "discarded", 0.2)]
    assert result.candidates[2].texts == ["gamma"]  # the existing child is not proposed again
    assert [c.label for c in result.kept] == ["B", "A"]
    tx = result.transaction
    before = graph.to_dict()
    graph.apply(tx)
    kids = created(tx)
    assert [graph.node(i).title for i in kids] == ["beta", "shared", "alpha"]
    assert [graph.node(i).metadata["speculative"]["variant"] for i in kids] == ["B", "B", "A"]
    assert [graph.node(i).metadata["speculative"]["rank"] for i in kids] == [0, 0, 1]
    assert tx.provenance.params["created"] == kids
    assert tx.provenance.params["speculative"]["keep"] == 2
    graph.undo()
    assert graph.to_dict() == before


def test_refine_keeps_the_best_versions_as_new_nodes_on_one_cap(graph):
    judge = Judge({"Ship v2\nnotes": 0.7, "Ship v3\nnotes": 0.8, "Ship v4": 0.1})
    variants = [Fake("x", ["Ship v2\nnotes"]), Fake("y", ["Ship v3\nnotes"]), Fake("z", ["Ship v4"])]
    before = graph.to_dict()
    result = speculative_refine(graph, "goal", "rename to a version", variants=variants, keep=2, scorer=judge,
                                now=T0)
    tx = result.transaction
    assert tx.provenance.operation == "refine" and tx.provenance.params["feedback"] == "rename to a version"
    graph.apply(tx)
    new = created(tx)
    assert tx.provenance.params["created"] == new
    assert [graph.node(i).title for i in new] == ["Ship v3", "Ship v2"]
    for i in new:
        node = graph.node(i)
        assert node.metadata["provenance"]["tx"] == tx.id
        (edge,) = [e for e in graph.edges_of(i, "out") if e.type == EdgeType.DERIVED_FROM]
        assert edge.dst == "goal" and edge.metadata["tx"] == tx.id
    p, q = (graph.node(i) for i in new)
    apart = angular_distance_spherical((p.theta, p.phi, 1.0), (q.theta, q.phi, 1.0))
    assert apart > 1e-3, "the versions must not share one spot"
    assert graph.node("goal").title == "Ship the release"  # the original stays as it is
    graph.undo()
    assert graph.to_dict() == before


def test_failed_candidates_are_recorded_and_all_failing_is_an_error(graph):
    judge = Judge({"ok": 0.5, "too high": 3.0})
    result = speculative_generate(graph, "goal", 1, variants=[Fake("bad", [], fail="model crashed"),
                                                              Fake("good", ["ok"]), Fake("vain", ["too high"])],
                                  keep=1, scorer=judge)
    assert [(c.status, c.error) for c in result.candidates] == [
        ("failed", "model crashed"), ("kept", None), ("failed", "scorer 'judge' gave 3, above max_score 1")]
    with pytest.raises(ThinkerError, match=r"no speculative candidate succeeded: #0 bad: failed \(model crashed\); "
                                           r"#1 dull: failed \(dull has nothing new"):
        speculative_generate(graph, "goal", 1, variants=[Fake("bad", [], fail="model crashed"),
                                                         Fake("dull", ["Existing child"])], scorer=judge)
    with pytest.raises(ValueError, match="keep must be between 1 and the number of variants"):
        speculative_generate(graph, "goal", 1, variants=[Fake("a", ["ok"])], keep=2, scorer=judge)


def test_a_failure_halfway_through_the_commit_leaves_the_graph_as_it_was(graph, monkeypatch):
    judge = Judge({"one": 0.3, "two": 0.6, "three": 0.5})
    result = speculative_generate(graph, "goal", 2, variants=[Fake("a", ["one", "two"]), Fake("b", ["three"])],
                                  keep=2, scorer=judge)
    tx = result.transaction
    assert len(tx.edits) == 9  # three children, each: node, parent edge, derived_from edge
    before = graph.to_dict()
    real = mutate.apply_edit
    calls = {"n": 0}

    def flaky(g, edit):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("injected failure")
        return real(g, edit)
    with monkeypatch.context() as m:
        m.setattr(mutate, "apply_edit", flaky)
        with pytest.raises(RuntimeError, match="injected"):
            graph.apply(tx)
    assert graph.to_dict() == before
    graph.apply(tx)
    assert len(created(tx)) == 3


# -- variants and real backends --------------------------------------------------------------------------
SCRIPT = textwrap.dedent('''\
    import json, os, sys, time
    req = json.loads(sys.stdin.read())
    mode = sys.argv[1]
    if mode == "sleep":
        with open(sys.argv[2], "w") as f:
            f.write(str(os.getpid()))
        time.sleep(120)
    if req["op"] == "generate":
        t = req.get("temperature")
        out = {"results": [f"Idea at {t}"]}
    else:  # score: an idea is as good as its temperature
        out = {"scores": [float(item.split(" at ")[1]) for item in req["items"]]}
    out["usage"] = {"prompt_tokens": 7, "completion_tokens": 3}
    print(json.dumps(out))
''')


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "variant_thinker.py"
    path.write_text(SCRIPT)
    return path


def test_variants_cycle_thinkers_and_temperatures(script):
    tool = CommandThinker([sys.executable, str(script), "ok"], name="tool")
    assert spread_temperatures(3) == [0.2, 0.6, 1.0] and spread_temperatures(1) == [0.2]
    vs = make_variants([tool], 3, [0.2, 0.6, 1.0])
    assert [v.label for v in vs] == ["tool@0.2", "tool@0.6", "tool@1"]
    assert [v.thinker.temperature for v in vs] == [0.2, 0.6, 1.0] and tool.temperature is None
    mixed = make_variants([Fake("a", []), Fake("b", [])], 3)
    assert [v.label for v in mixed] == ["a", "b", "a#3"]
    assert all(isinstance(v, Variant) for v in mixed)


def test_command_thinkers_at_three_temperatures_with_a_command_scorer(graph, script, tmp_path):
    tool = CommandThinker([sys.executable, str(script), "ok"], name="tool")
    pid_file = tmp_path / "pid"
    sleeper = CommandThinker([sys.executable, str(script), "sleep", str(pid_file)], name="sleeper", timeout_s=100)
    variants = [*make_variants([tool], 3, [0.2, 0.6, 1.0]), Variant(sleeper, "sleeper")]
    t0 = time.monotonic()
    result = speculative_generate(graph, "goal", 1, variants=variants, keep=1, scorer=tool, now=T0)
    assert time.monotonic() - t0 < 60  # the sleeper's process was killed, not waited for
    assert result.early
    assert [c.status for c in result.candidates][2:] == ["kept", "cancelled"]
    assert {c.status for c in result.candidates[:2]} <= {"discarded", "cancelled"}
    graph.apply(result.transaction)
    (child,) = created(result.transaction)
    node = graph.node(child)
    assert node.title == "Idea at 1.0"
    assert node.metadata["speculative"]["variant"] == "tool@1"
    assert node.metadata["speculative"]["cost"]["tokens"] == 10
    assert node.metadata["speculative"]["cost"]["score_tokens"] == 10
    if pid_file.exists():  # it got as far as starting: its process must be gone
        pid = int(pid_file.read_text())
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")


def test_cli_speculative_generate_is_one_undoable_transaction(tmp_path, monkeypatch, capsys, script):
    from orchestrator_gui.demo import BUNDLED_DEMO

    root = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    monkeypatch.chdir(root)
    assert main(["graph", "build", "--json"]) == 0
    capsys.readouterr()
    (root / ".orchestrator" / "config.toml").write_text(textwrap.dedent(f'''\
        [thinkers]
        default = "tool"

        [thinkers.backends.tool]
        type = "command"
        command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "ok"]
        '''))
    assert main(["graph", "query", "TW-002 Station catalogue loader", "--kind", "todo", "--json"]) == 0
    item = json.loads(capsys.readouterr().out)[0]["id"]
    code = main(["graph", "transform", "generate", item, "--speculative", "3", "--keep", "1", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert len(result["created"]) == 1 and result["changed"] == [item]
    assert [c["variant"] for c in result["candidates"]] == ["tool@0.2", "tool@0.6", "tool@1"]
    assert result["candidates"][2]["status"] == "kept" and result["candidates"][2]["tokens"] == 10
    assert main(["graph", "query", "Idea at", "--json"]) == 0
    assert [h["title"] for h in json.loads(capsys.readouterr().out)] == ["Idea at 1.0"]
    assert main(["graph", "undo", "--json"]) == 0
    undone = json.loads(capsys.readouterr().out)
    assert undone["undone"] == result["transaction"] and undone["removed"] == result["created"]
    assert main(["graph", "query", "Idea at", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    # text output lists the candidates; bad option combinations are refused
    assert main(["graph", "transform", "refine", item, "--feedback", "x", "--speculative", "2", "--keep", "3"]) == 1
    assert "--speculative K needs K >= 1 and 1 <= --keep <= K" in capsys.readouterr().err
    assert main(["graph", "transform", "refine", item, "--feedback", "x", "--speculative", "2", "--in-place"]) == 1
    assert "cannot be combined with --in-place" in capsys.readouterr().err
