"""Temporal activation: decay, boosts and spreading against hand-computed values; flags; schedule timing."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from orchestrator_gui.migration import build_graph
from orchestrator_gui.model import Edge, Node, NodeFlag, NodeNotFound, ThoughtGraph, Transaction
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.activation import (
    ActivationParams,
    Temporal,
    active_report,
    compute_activation,
    priority_value,
    schedule_timing,
    spreading_matrix,
    temporal_vectors,
    touch,
    update_activation,
)
from orchestrator_gui.model.transactions import AddEdge, AddNode

NOW = 1_800_000_000.0
DAY = 86_400.0
NO_SPREAD = ActivationParams(spread_steps=0)


def graph_of(nodes: list[dict], edges: list[tuple] = ()) -> ThoughtGraph:
    """A graph built through one transaction; ``edges`` are ``(src, dst, type[, weight])``."""
    g = ThoughtGraph()
    edits = [AddNode(node=Node(**{"created": 0.0, "updated": 0.0, **n})) for n in nodes]
    edits += [AddEdge(edge=Edge(src=e[0], dst=e[1], type=e[2], weight=e[3] if len(e) > 3 else 1.0)) for e in edges]
    g.apply(Transaction.create("build", edits), record=False)
    return g


def test_half_life_exactly_halves():
    t = Temporal.from_arrays([NOW, NOW - DAY, NOW - 2 * DAY, NOW - 10 * DAY])
    r = compute_activation(t, NOW, NO_SPREAD)
    assert r.activation.tolist() == [1.0, 0.5, 0.25, 2.0**-10]
    # A custom half-life: one hour later everything is exactly half as active.
    p = ActivationParams(half_life_s=3600.0, spread_steps=0)
    a0 = compute_activation(t, NOW, p).activation
    a1 = compute_activation(t, NOW + 3600.0, p).activation
    assert a1.tolist() == (a0 / 2).tolist()


def test_future_activity_counts_as_now_and_never_seen_is_zero():
    t = Temporal.from_arrays([NOW + 50.0, -np.inf])
    assert compute_activation(t, NOW, NO_SPREAD).activation.tolist() == [1.0, 0.0]


def test_frequency_and_priority_gains():
    t = Temporal.from_arrays([NOW, NOW, NOW - DAY], frequency=[math.e - 1, 0, 0], priority=[0, 0.75, 1.0])
    r = compute_activation(t, NOW, ActivationParams(frequency_gain=0.25, priority_gain=1.0, spread_steps=0))
    assert r.activation == pytest.approx([1.25, 1.75, 1.0], abs=1e-15)


def test_due_schedule_boost_ramps_up_to_the_run_and_stays_through_the_window():
    # dt = +450 s (half the window), -100 s (overdue within window), -1000 s with no period (missed), and
    # -1000 s with a 1000 s period (rolled forward to exactly now) or a 3600 s period (next run far away).
    t = Temporal.from_arrays(
        [-np.inf] * 5,
        next_run=[NOW + 450, NOW - 100, NOW - 1000, NOW - 1000, NOW - 1000],
        period=[0, 0, 0, 1000, 3600],
    )
    r = compute_activation(t, NOW, ActivationParams(due_boost=2.0, due_window_s=900.0, spread_steps=0))
    assert r.due.tolist() == [1.0, 2.0, 0.0, 2.0, 0.0]
    assert r.until_run.tolist() == [450.0, -100.0, -1000.0, 0.0, 2600.0]
    assert r.activation.tolist() == r.due.tolist()


def test_recent_run_boost_decays_and_running_runs_get_it_all():
    t = Temporal.from_arrays([NOW - 3600, NOW - 7200, NOW - 7200], is_run=[True, True, True],
                             run_active=[False, False, True])
    r = compute_activation(t, NOW, ActivationParams(run_half_life_s=3600.0, half_life_s=1e12, spread_steps=0))
    assert r.run.tolist() == [0.5, 0.25, 1.0]


def test_one_spreading_step_on_a_three_node_chain():
    g = graph_of(
        [{"id": "a", "updated": NOW}, {"id": "b"}, {"id": "c"}],
        [("a", "b", "parent"), ("b", "c", "parent")],
    )
    t = temporal_vectors(g, now=NOW, tz=UTC)
    one = ActivationParams(spread_steps=1, spread_damping=0.5)
    r = compute_activation(t, NOW, one, spreading_matrix(g, one))
    # a holds 1 and has one neighbour: b receives 0.5 * 1 / 1; c receives nothing yet.
    assert r.activation.tolist() == [1.0, 0.5, 0.0]
    assert r.spread.tolist() == [0.0, 0.5, 0.0]
    two = ActivationParams(spread_steps=2, spread_damping=0.5)
    r2 = compute_activation(t, NOW, two, spreading_matrix(g, two))
    # b (0.5, two neighbours) gives 0.5 * 0.5 / 2 to each of a and c.
    assert r2.activation.tolist() == [1.125, 0.5, 0.125]


def test_spreading_follows_edge_weights_and_can_be_directed():
    g = graph_of(
        [{"id": "a"}, {"id": "b", "updated": NOW}, {"id": "c"}],
        [("a", "b", "parent", 2.0), ("b", "c", "parent", 1.0)],
    )
    t = temporal_vectors(g, now=NOW, tz=UTC)
    p = ActivationParams(spread_steps=1, spread_damping=0.5)
    r = compute_activation(t, NOW, p, spreading_matrix(g, p))
    assert r.activation == pytest.approx([0.5 * 2 / 3, 1.0, 0.5 * 1 / 3], abs=1e-15)
    directed = ActivationParams(spread_steps=1, spread_damping=0.5, spread_directed=True)
    r = compute_activation(t, NOW, directed, spreading_matrix(g, directed))
    assert r.activation.tolist() == [0.0, 1.0, 0.5]  # only along b -> c


def test_update_writes_mirror_and_flags_and_untouched_nodes_fade():
    g = graph_of([{"id": "fresh", "updated": NOW}, {"id": "stale", "updated": NOW - 2 * DAY}])
    g.select(["stale"])
    r = update_activation(g, NOW, NO_SPREAD, tz=UTC)
    assert g.activation.tolist() == [1.0, 0.25]
    assert g.state("fresh").flags == NodeFlag.ACTIVE
    assert g.state("stale").flags == NodeFlag.SELECTED  # neither active nor suppressed; selection kept
    assert r.active.tolist() == [True, False]
    # Nobody touches "fresh" for five half-lives: 1/32 < 0.05, it is suppressed.
    update_activation(g, NOW + 5 * DAY, NO_SPREAD, tz=UTC)
    assert g.state("fresh").flags == NodeFlag.SUPPRESSED
    assert g.state("stale").flags == NodeFlag.SUPPRESSED | NodeFlag.SELECTED
    # Touching it (a transaction) brings it back.
    g.apply(touch(g, "fresh", now=NOW + 5 * DAY))
    update_activation(g, NOW + 5 * DAY, NO_SPREAD, tz=UTC)
    assert g.state("fresh").flags == NodeFlag.ACTIVE
    assert g.activation[0] == pytest.approx(1.0 + 0.25 * math.log(2))


def test_temporal_vectors_are_cached_until_the_graph_changes():
    g = graph_of([{"id": "a", "updated": NOW}])
    t1 = temporal_vectors(g, now=NOW, tz=UTC)
    update_activation(g, NOW, tz=UTC)  # dynamic writes are not graph changes
    assert temporal_vectors(g, now=NOW, tz=UTC) is t1
    g.apply(ops.edit(g, "a", metadata={"priority": "high"}, now=NOW))
    t2 = temporal_vectors(g, now=NOW, tz=UTC)
    assert t2 is not t1 and t2.priority.tolist() == [0.75]


def test_compute_activation_does_not_modify_its_inputs():
    t = Temporal.from_arrays([NOW, NOW - DAY], next_run=[np.nan, NOW + 10], period=[0, 600], is_run=[True, False])
    before = {k: np.copy(getattr(t, k)) for k in t.__dataclass_fields__}
    compute_activation(t, NOW + 5000, ActivationParams(spread_steps=0))
    for k, v in before.items():
        assert np.array_equal(getattr(t, k), v, equal_nan=True), k


def test_priority_values():
    assert [priority_value(v) for v in ("schedule", "High", "todo", "low", "", None, 0.3, 7, -1, True, [1])] == [
        1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.3, 1.0, 0.0, 0.0, 0.0]


def _schedule(**meta) -> Node:
    return Node(id="s", kind="schedule", status=meta.pop("status", "active"), metadata=meta)


def test_schedule_timing_prefers_next_run_metadata_then_computes_from_interval():
    utc = UTC
    assert schedule_timing(_schedule(next_run=NOW + 60, interval="10", unit="minute"), NOW, utc) == (NOW + 60, 600.0)
    iso = schedule_timing(_schedule(next_run="2026-11-06T14:30:00.871Z", interval="1", unit="hour"), NOW, utc)
    assert iso == (datetime(2026, 11, 6, 14, 30, 0, 871000, tzinfo=utc).timestamp(), 3600.0)
    # No next_run: the scheduler's own rule. Every 10 minutes from the top of the hour: 14:23 -> 14:30.
    now = datetime(2026, 11, 6, 14, 23, 0, tzinfo=utc).timestamp()
    nxt, period = schedule_timing(_schedule(interval="10", unit="minute"), now, utc)
    assert (nxt, period) == (datetime(2026, 11, 6, 14, 30, tzinfo=utc).timestamp(), 600.0)
    assert math.isnan(schedule_timing(_schedule(interval="10", unit="minute", active=False), now, utc)[0])
    assert math.isnan(schedule_timing(_schedule(interval="10", unit="minute", status="archived"), now, utc)[0])
    assert math.isnan(schedule_timing(_schedule(interval="x", unit="fortnight"), now, utc)[0])


def test_demo_graph_due_schedule_recent_run_and_reasons():
    g = build_graph("resources/demo")
    heartbeat = g.row_of(".roo/schedules.json::schedule/1791792843512")  # every 10 minutes
    archived = g.row_of(".roo/schedules.json::schedule/1792061335731")
    # The heartbeat's next run is at :30; five minutes before it the due boost is 1 - 300/900.
    now = datetime(2026, 11, 6, 14, 25, tzinfo=UTC).timestamp()
    r = update_activation(g, now, tz=UTC)
    assert r.until_run[heartbeat] == 300.0
    assert r.due[heartbeat] == pytest.approx(2 / 3)
    assert r.due[archived] == 0.0 and math.isnan(r.until_run[archived])
    assert any(s.startswith("schedule due in 5.0 min") for s in r.reasons(heartbeat))
    # The run in progress (started 14:20) gets the full run boost; its priority "schedule" doubles its decay term.
    running = g.row_of("task_timing.tsv::run/3f6c2a91-7b4e-4d1a-9c85-2e07b6d4f1a3")
    assert r.run[running] == 1.0
    age = now - datetime(2026, 11, 6, 14, 20, 0, 871000, tzinfo=UTC).timestamp()
    assert r.intrinsic[running] == pytest.approx(2.0 * 2 ** (-age / DAY))
    report = active_report(g, r)
    assert report[0]["activation"] == max(d["activation"] for d in report)
    assert {d["id"] for d in report} == set(g.ids_of(np.flatnonzero(r.active)))
    assert np.array_equal((g.flags & NodeFlag.ACTIVE) != 0, r.active)


def test_params_are_validated():
    with pytest.raises(ValueError):
        ActivationParams(half_life_s=0)
    with pytest.raises(ValueError):
        ActivationParams(spread_damping=1.0)
    with pytest.raises(ValueError):
        ActivationParams(active_threshold=0.1, suppress_threshold=0.2)


def _fields(t: Temporal) -> dict:
    return {k: getattr(t, k).tolist() for k in t.__dataclass_fields__}


def test_incremental_temporal_vectors_equal_a_fresh_extraction_after_every_kind_of_change():
    from orchestrator_gui.model import activation_temporal
    from orchestrator_gui.model.activation_temporal import _extract
    from orchestrator_gui.model.pruning import compress, expand, prune

    g = build_graph("resources/demo")
    utc = UTC
    todo = next(n.id for n in g.nodes() if n.kind.value == "todo" and n.status.value == "open")
    plan = next(n.id for n in g.nodes() if n.kind.value == "plan" and n.title == "Foundations")
    sched = next(n.id for n in g.nodes() if n.kind.value == "schedule")
    steps = [
        lambda: g.apply(touch(g, [todo, plan], now=NOW)),                       # rows patched
        lambda: g.apply(ops.edit(g, todo, metadata={"priority": "high"}, now=NOW + 1)),
        lambda: g.apply(prune(g, plan, now=NOW)),                               # metadata of a branch
        lambda: g.undo(),
        lambda: g.apply(ops.edit(g, todo, status="done", now=NOW + 2)),         # status: full pass
        lambda: g.apply(ops.edit(g, sched, metadata={**g.node(sched).metadata, "next_run": NOW + 60})),
        lambda: g.apply(compress(g, plan, summary_id="sum", now=NOW)),         # structure
        lambda: g.apply(expand(g, "sum")),
        lambda: g.apply(ops.move(g, {todo: (1.0, 0.2)})),                       # position: nothing to do
    ]
    temporal_vectors(g, now=NOW, tz=utc)
    full = []
    real_extract = activation_temporal._extract
    for step in steps:
        step()
        calls = []
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(activation_temporal, "_extract",
                       lambda *a, calls=calls: calls.append(1) or real_extract(*a))
            got = _fields(temporal_vectors(g, now=NOW, tz=utc))
        full.append(len(calls))
        assert got == _fields(_extract(g, NOW, utc))
    # Times, counts, metadata of plain nodes and moves are patched row by row; the rest re-extracts.
    assert full == [0, 0, 0, 0, 1, 1, 1, 1, 0]
    # A transaction that fails and rolls back changes nothing, but is detected (full pass, same values).
    with pytest.raises(NodeNotFound):
        g.apply(Transaction.create("bad", [ops.edit(g, todo, title="x").edits[0],
                                           AddEdge(edge=Edge(src=todo, dst="missing", type="mentions"))]))
    assert _fields(temporal_vectors(g, now=NOW, tz=utc)) == _fields(_extract(g, NOW, utc))
