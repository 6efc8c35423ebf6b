"""Temporal vectors of the thought graph: per-row recency, frequency, priority and schedule timing.

Part of :mod:`orchestrator_gui.model.activation` (which re-exports everything
public here); see its docstring for how the vectors feed the activation.

Public API
----------
``NEXT_RUN_KEY``, ``PRIORITY_NAMES``
``priority_value(value) -> float``
``schedule_timing(node, now, tz) -> (next_run, period)``
``Temporal`` (frozen dataclass of per-row arrays; ``Temporal.from_arrays(...)``)
``temporal_vectors(graph, *, now=None, tz=None) -> Temporal``
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator_gui.formats.nextrun import UNIT_MS, next_execution_ms, parse_js_iso
from orchestrator_gui.formats.timezones import local_zone
from orchestrator_gui.model.attention import graph_cache
from orchestrator_gui.model.epistemic import epistemic_state
from orchestrator_gui.model.nodes import KIND_INDEX, Node, NodeKind, NodeStatus
from orchestrator_gui.model.pruning import blocked_mask, folded_mask, is_pruned
from orchestrator_gui.model.transactions import MoveNode, Transaction, UpdateNode

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: Metadata key a schedule node may carry: its next run (Unix seconds or ISO 8601).
NEXT_RUN_KEY = "next_run"
#: Priority names (``task_timing.tsv`` values and common words) and their weight.
PRIORITY_NAMES: dict[str, float] = {
    "critical": 1.0, "urgent": 1.0, "schedule": 1.0, "high": 0.75,
    "todo": 0.5, "normal": 0.5, "medium": 0.5, "low": 0.25,
}
_SCHEDULE = KIND_INDEX[NodeKind.SCHEDULE.value]
_RUN = KIND_INDEX[NodeKind.RUN.value]
_IDLE_SCHEDULE = (NodeStatus.ARCHIVED, NodeStatus.CANCELLED, NodeStatus.DONE)

def priority_value(value: Any) -> float:
    """Priority in [0, 1]: numbers are clipped, names looked up in :data:`PRIORITY_NAMES`, anything else 0."""
    if isinstance(value, bool) or value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(min(max(value, 0.0), 1.0)) if math.isfinite(value) else 0.0
    if isinstance(value, str):
        return PRIORITY_NAMES.get(value.strip().lower(), 0.0)
    return 0.0


def _period_s(meta: dict) -> float:
    try:
        return float(int(str(meta.get("interval")).strip())) * UNIT_MS[str(meta.get("unit"))] / 1000.0
    except (ValueError, KeyError):
        return 0.0


def schedule_timing(node: Node, now: float, tz: tzinfo) -> tuple[float, float]:
    """``(next_run, period)`` of a schedule node in Unix seconds; ``next_run`` is NaN when unknown or inactive."""
    meta = node.metadata
    if meta.get("active") is False or node.status in _IDLE_SCHEDULE:
        return math.nan, 0.0
    period = max(_period_s(meta), 0.0)
    given = meta.get(NEXT_RUN_KEY)
    if isinstance(given, int | float) and not isinstance(given, bool) and math.isfinite(given):
        return float(given), period
    if isinstance(given, str):
        ms = parse_js_iso(given)
        if ms is not None:
            return ms / 1000.0, period
    if meta.get("interval") and meta.get("unit"):
        spec = {
            "timeInterval": str(meta["interval"]), "timeUnit": str(meta["unit"]),
            "startMinute": str(meta.get("start_minute") or "00"), "lastExecutionTime": str(meta.get("last_run") or ""),
        }
        ms = next_execution_ms(spec, int(now * 1000), tz)
        if ms is not None:
            return ms / 1000.0, period
    return math.nan, period


@dataclass(frozen=True)
class Temporal:
    """Per-row temporal vectors of a graph (see the module docstring); treat as read-only."""

    last_activity: np.ndarray
    log_frequency: np.ndarray
    priority: np.ndarray
    schedule_rows: np.ndarray
    next_run: np.ndarray
    period: np.ndarray
    run_rows: np.ndarray
    run_active: np.ndarray
    epistemic: np.ndarray
    blocked: np.ndarray

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.last_activity)

    @classmethod
    def from_arrays(
        cls, last_activity: Any, *, frequency: Any = None, priority: Any = None, next_run: Any = None,
        period: Any = None, is_run: Any = None, run_active: Any = None, epistemic: Any = None, blocked: Any = None,
    ) -> Temporal:
        """Build from full-length per-row arrays (tests, engines); missing ones default to 0/False/NaN."""
        la = np.asarray(last_activity, dtype=np.float64)
        n = len(la)

        def col(v: Any, default: Any, dtype: Any) -> np.ndarray:
            return np.full(n, default, dtype=dtype) if v is None else np.asarray(v, dtype=dtype).reshape(n)

        nr = col(next_run, np.nan, np.float64)
        sched = np.flatnonzero(np.isfinite(nr))
        is_run_a = col(is_run, False, bool)
        runs = np.flatnonzero(is_run_a)
        return cls(
            last_activity=la, log_frequency=np.log1p(col(frequency, 0.0, np.float64)),
            priority=col(priority, 0.0, np.float64), schedule_rows=sched, next_run=nr[sched],
            period=col(period, 0.0, np.float64)[sched], run_rows=runs, run_active=col(run_active, False, bool)[runs],
            epistemic=col(epistemic, False, bool), blocked=col(blocked, False, bool),
        )


def _extract(graph: ThoughtGraph, now: float, tz: tzinfo) -> Temporal:
    n = len(graph)
    # The only per-node Python passes; they run when the graph changed, not per tick.  One
    # attribute per comprehension: building a tuple per node would cost ten times more.
    nodes = list(graph.nodes())
    last = np.array([x.last_activated for x in nodes], dtype=np.float64).reshape(n)  # None -> NaN
    last[np.isnan(last)] = -np.inf
    freq = np.array([x.access_count for x in nodes], dtype=np.float64).reshape(n)
    raw_prio = [m.get("priority") if m else None for m in (x.metadata for x in nodes)]
    prio = np.zeros(n)
    for r, v in enumerate(raw_prio):
        if v is not None:
            prio[r] = priority_value(v)
    sched = np.flatnonzero(graph.kind_index == _SCHEDULE)
    timing = [schedule_timing(nodes[r], now, tz) for r in sched.tolist()]
    next_run = np.array([t[0] for t in timing], dtype=np.float64)
    period = np.array([t[1] for t in timing], dtype=np.float64)
    keep = np.isfinite(next_run)
    runs = np.flatnonzero(graph.kind_index == _RUN)
    running = np.array([nodes[r].status == NodeStatus.ACTIVE for r in runs.tolist()], dtype=bool)
    return Temporal(
        last_activity=np.maximum(np.asarray(graph.updated, dtype=np.float64), last),
        log_frequency=np.log1p(freq), priority=prio,
        schedule_rows=sched[keep], next_run=next_run[keep], period=period[keep],
        run_rows=runs, run_active=running,
        epistemic=epistemic_state(graph).boost_mask.copy(), blocked=blocked_mask(graph).copy(),
    )


#: Node fields whose change only affects that node's own temporal row (patched without a full pass).
_ROW_FIELDS = frozenset({"title", "content", "history", "tags", "score", "layer", "source", "created", "updated",
                         "access_count", "last_activated", "metadata"})


class _ChangeLog:
    """The temporal vectors of one graph and the nodes committed transactions touched since they were taken."""

    def __init__(self) -> None:
        self.temporal: Temporal | None = None
        self.key: tuple = ()
        self.revision = -1
        self.ids: set[str] = set()
        self.edits = 0
        self.full = False

    def record(self, tx: Transaction) -> None:
        self.edits += len(tx.edits)
        for e in tx.edits:
            if isinstance(e, UpdateNode) and e.field in _ROW_FIELDS:
                self.ids.add(e.node_id)
            elif not isinstance(e, MoveNode):
                self.full = True

    def reset(self, temporal: Temporal, key: tuple, revision: int) -> Temporal:
        self.temporal, self.key, self.revision = temporal, key, revision
        self.ids, self.edits, self.full = set(), 0, False
        return temporal


def _change_log(graph: ThoughtGraph) -> _ChangeLog:
    log = _ChangeLog()
    # psygnal keeps a weak reference to a bound method: the graph cache keeps the log alive.
    graph.events.transaction_committed.connect(log.record)
    return log


def _patch(graph: ThoughtGraph, t: Temporal, ids: set[str]) -> Temporal | None:
    """``t`` with the rows of ``ids`` re-read, or ``None`` when a full extraction is needed."""
    present = [i for i in ids if i in graph]
    nodes = [graph.node(i) for i in present]
    if any(x.kind in (NodeKind.SCHEDULE, NodeKind.SUMMARY) for x in nodes):
        return None  # timing or folding may have changed: not a per-row matter
    rows = graph.rows_of(present)
    last = np.array([x.last_activated for x in nodes], dtype=np.float64).reshape(len(rows))
    last[np.isnan(last)] = -np.inf
    la, lf, pr, bl = t.last_activity.copy(), t.log_frequency.copy(), t.priority.copy(), t.blocked.copy()
    la[rows] = np.maximum(graph.updated[rows], last)
    lf[rows] = np.log1p([x.access_count for x in nodes])
    pr[rows] = [priority_value(x.metadata.get("priority")) for x in nodes]
    bl[rows] = np.array([is_pruned(x) for x in nodes], dtype=bool) | folded_mask(graph)[rows]
    return replace(t, last_activity=la, log_frequency=lf, priority=pr, blocked=bl)


def temporal_vectors(graph: ThoughtGraph, *, now: float | None = None, tz: tzinfo | None = None) -> Temporal:
    """The temporal vectors of ``graph``, kept up to date as transactions commit.

    The first call extracts them (one pass over the nodes).  Later calls
    return the same object while the graph is unchanged; after edits that
    only touch some nodes' times, counts or metadata they re-read just those
    rows; any other change (nodes or edges added or removed, status, kind,
    confidence, schedules, summaries, a rolled-back transaction) triggers a
    full extraction.  ``now`` and ``tz`` are only used to compute schedule
    anchors from interval metadata (see *Schedule metadata*); ``tz``
    defaults to the local time zone, as the scheduler extension uses.
    """
    tz = local_zone() if tz is None else tz
    stamp = time.time() if now is None else float(now)
    log: _ChangeLog = graph_cache(graph, "temporal_log", (), lambda: _change_log(graph))
    key = (graph.structure_revision, len(graph), repr(tz))
    t = log.temporal
    if t is not None and log.key == key:
        if log.revision == graph.revision:
            return t
        if not log.full and log.revision + log.edits == graph.revision:
            patched = _patch(graph, t, log.ids)
            if patched is not None:
                return log.reset(patched, key, graph.revision)
    return log.reset(_extract(graph, stamp, tz), key, graph.revision)
