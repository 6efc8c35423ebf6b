"""Epistemic goals: confidence from evidence, unsupported goals and open questions.

An edge ``e -[evidence_for]-> g`` says node ``e`` supports ``g``.  Each such
edge contributes a strength ``s = clip(weight, 0, 1) * clip(confidence(e), 0, 1)``
(zero when ``e`` is ``failed``, ``cancelled`` or ``archived``: such evidence
no longer stands), and the pieces combine like independent witnesses
(noisy-OR)::

    confidence(g) = 1 - prod(1 - s_e)      over the evidence edges into g
                  = 0                      without evidence

``confidence(e)`` is the evidence node's own ``confidence`` field (default
1.0), so one default-weight edge from a default node makes a goal certain;
weaker evidence is expressed with a lower edge weight or node confidence.
The formula is one pass over the edges (no chaining: a goal used as evidence
contributes its stored ``confidence`` field, not its computed one).

A goal (kind in :data:`~orchestrator_gui.model.planning.GOAL_KINDS`) that is
not done, cancelled or archived and has confidence below
``unsupported_below`` (default: no evidence at all) is *unsupported*.  A
``question`` node that is not ``done``, ``cancelled`` or ``archived`` is
*open*.  Both get an activation boost (see
:mod:`orchestrator_gui.model.activation`), so the orchestrator keeps pointing
at what is unknown.

Public API
----------
``evidence_confidence(graph) -> ndarray`` (per row; 0 where no evidence)
``EpistemicState`` (per-row arrays ``confidence``, ``evidence``,
``is_goal``, ``unsupported``, ``open_question``; ``boost_mask``;
``unsupported_goals(graph)``, ``open_questions(graph)``)
``epistemic_state(graph, *, unsupported_below=None) -> EpistemicState`` (cached)
``GoalInfo`` / ``goal_report(graph) -> list[GoalInfo]`` (goals with progress,
confidence, evidence count and related open questions)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from orchestrator_gui.model.attention import graph_cache
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, KIND_INDEX, STATUS_INDEX, EdgeType, NodeKind, NodeStatus
from orchestrator_gui.model.planning import descendant_rows, goal_rows, rollup_progress

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

_EVIDENCE = EDGE_TYPE_INDEX[EdgeType.EVIDENCE_FOR.value]
#: Statuses of evidence that no longer counts.
VOID_EVIDENCE: tuple[NodeStatus, ...] = (NodeStatus.FAILED, NodeStatus.CANCELLED, NodeStatus.ARCHIVED)
#: Statuses of goals and questions that are settled (no boost, not listed).
SETTLED: tuple[NodeStatus, ...] = (NodeStatus.DONE, NodeStatus.CANCELLED, NodeStatus.ARCHIVED)


def _status_in(graph: ThoughtGraph, statuses: tuple[NodeStatus, ...]) -> np.ndarray:
    return np.isin(graph.status_index, np.array([STATUS_INDEX[s.value] for s in statuses], dtype=np.int8))


def _node_confidence(graph: ThoughtGraph, rows: np.ndarray) -> np.ndarray:
    """The ``confidence`` field of the nodes in ``rows`` (one pass over all nodes when that is cheaper)."""
    uniq, inverse = np.unique(rows, return_inverse=True)
    if len(uniq) * 4 > len(graph):
        conf = np.array([x.confidence for x in graph.nodes()], dtype=np.float64)
        return conf[rows]
    ids = graph.ids_of(uniq)
    return np.array([graph.node(i).confidence for i in ids], dtype=np.float64)[inverse].reshape(len(rows))


def evidence_confidence(graph: ThoughtGraph) -> tuple[np.ndarray, np.ndarray]:
    """``(confidence, evidence_count)`` per row from incoming ``evidence_for`` edges (noisy-OR, see module doc).

    ``evidence_count`` counts the edges with a non-zero strength.
    """
    n = len(graph)
    ea = graph.edge_arrays()
    sel = np.flatnonzero(ea.type == _EVIDENCE)
    src, dst = ea.src[sel], ea.dst[sel]
    strength = np.clip(ea.weight[sel], 0.0, 1.0) * np.clip(_node_confidence(graph, src), 0.0, 1.0)
    strength[_status_in(graph, VOID_EVIDENCE)[src]] = 0.0
    certain = np.bincount(dst[strength >= 1.0], minlength=n) > 0
    partial = strength < 1.0
    log_miss = np.bincount(dst[partial], weights=np.log1p(-strength[partial]), minlength=n)
    conf = np.where(certain, 1.0, -np.expm1(log_miss)) + 0.0  # + 0.0: no negative zero without evidence
    count = np.bincount(dst[strength > 0], minlength=n)
    return conf, count


@dataclass(frozen=True)
class EpistemicState:
    """Per-row epistemic arrays (read-only by convention).

    Attributes
    ----------
    confidence : ndarray of float
        Evidence-based confidence (meaningful for goals; computed for all).
    evidence : ndarray of int
        Number of supporting edges with non-zero strength.
    is_goal, unsupported, open_question : ndarray of bool
    """

    confidence: np.ndarray
    evidence: np.ndarray
    is_goal: np.ndarray
    unsupported: np.ndarray
    open_question: np.ndarray

    @property
    def boost_mask(self) -> np.ndarray:
        """Rows that get the epistemic activation boost: unsupported goals and open questions."""
        return self.unsupported | self.open_question

    def unsupported_goals(self, graph: ThoughtGraph) -> list[str]:
        """Ids of the unsupported goals, in row order."""
        return graph.ids_of(np.flatnonzero(self.unsupported))

    def open_questions(self, graph: ThoughtGraph) -> list[str]:
        """Ids of the open questions, in row order."""
        return graph.ids_of(np.flatnonzero(self.open_question))


def _state(graph: ThoughtGraph, unsupported_below: float | None) -> EpistemicState:
    conf, count = evidence_confidence(graph)
    n = len(graph)
    is_goal = np.zeros(n, dtype=bool)
    is_goal[goal_rows(graph)] = True
    settled = _status_in(graph, SETTLED)
    weak = count == 0 if unsupported_below is None else conf < unsupported_below
    return EpistemicState(
        confidence=conf,
        evidence=count,
        is_goal=is_goal,
        unsupported=is_goal & ~settled & weak,
        open_question=(graph.kind_index == KIND_INDEX[NodeKind.QUESTION.value]) & ~settled,
    )


def epistemic_state(graph: ThoughtGraph, *, unsupported_below: float | None = None) -> EpistemicState:
    """Confidence, unsupported goals and open questions (cached until the graph changes).

    ``unsupported_below``: a goal whose confidence is below it is unsupported;
    ``None`` (default) means "has no evidence at all".
    """
    key = (graph.revision, graph.structure_revision, len(graph), unsupported_below)
    return graph_cache(graph, f"epistemic:{unsupported_below}", key, lambda: _state(graph, unsupported_below))


@dataclass(frozen=True)
class GoalInfo:
    """One goal as ``graph goals`` shows it."""

    id: str
    title: str
    kind: str
    status: str
    progress: float
    confidence: float
    evidence: int
    unsupported: bool
    open_questions: tuple[str, ...]

    def to_dict(self) -> dict:
        """JSON-able dict."""
        return {
            "id": self.id, "title": self.title, "kind": self.kind, "status": self.status,
            "progress": self.progress, "confidence": self.confidence, "evidence": self.evidence,
            "unsupported": self.unsupported, "open_questions": list(self.open_questions),
        }


def goal_report(graph: ThoughtGraph) -> list[GoalInfo]:
    """Every goal with its rolled-up progress, confidence, evidence and related open questions.

    A goal's open questions are those below it in the ``parent`` hierarchy or
    linked to it directly by any edge.  Goals come in row order.
    """
    state = epistemic_state(graph)
    progress = rollup_progress(graph).progress
    ea = graph.edge_arrays()
    out = []
    for row in goal_rows(graph).tolist():
        below = descendant_rows(graph, np.array([row]))
        linked = np.concatenate((below, ea.dst[ea.src == row], ea.src[ea.dst == row]))
        q = np.unique(linked[state.open_question[linked]])
        node = graph.node(graph.id_of(row))
        out.append(GoalInfo(
            id=node.id, title=node.title, kind=node.kind.value, status=node.status.value,
            progress=float(progress[row]), confidence=float(state.confidence[row]), evidence=int(state.evidence[row]),
            unsupported=bool(state.unsupported[row]), open_questions=tuple(graph.ids_of(q)),
        ))
    return out
