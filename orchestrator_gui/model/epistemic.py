"""Epistemic goals: confidence from evidence, unsupported goals and open questions.

Evidence
--------
A piece of evidence is an edge into a node, with a strength in [0, 1] and a
side (for or against):

====================================  ========  ================================================
edge into ``x``                       side      strength
====================================  ========  ================================================
``e -[evidence_for]-> x`` (a user's   supports  ``clip(weight, 0, 1) * clip(confidence(e), 0, 1)``
*supports* link)
``e -[contradicts]-> x``              against   the same
completed run (status ``done``)       supports  :data:`RUN_EVIDENCE` ``* confidence(run)``
``-[scheduled_by|ran_as]-> x``
failed run (``failed``: errors,       against   the same
timeouts) ``-[scheduled_by|ran_as]->
x``
memory ``-[mentions]-> x``            supports  :data:`MEMORY_EVIDENCE` ``* confidence(entry)``
====================================  ========  ================================================

``confidence(e)`` is the source node's own ``confidence`` field (default 1.0).
Evidence from a ``failed``, ``cancelled`` or ``archived`` source counts for
nothing -- except a failed run, which is evidence *against*; runs still in
progress, pending or cancelled say nothing yet.

Confidence
----------
The supporting pieces combine like independent witnesses (noisy-OR), and the
contradicting ones take away the share of the evidence they carry::

    support(v)    = 1 - prod(1 - s)             over the supporting pieces s
    confidence(v) = support(v) * a / (a + b)    a = sum(s), b = sum(c) over the contradicting c
                  = 0                           without supporting evidence

Without contradictions ``confidence = support``: one default-weight
``evidence_for`` edge from a default node makes a node certain, weaker
evidence is a lower edge weight or node confidence.

For a node that is not a goal, the evidence is the pieces on the node
itself.  A **goal** (:func:`~orchestrator_gui.model.planning.goal_rows`: the
goal kinds and whatever something ``serves``) is judged by the pieces on everything that rolls up into it -- itself, its
``parent`` subtree and the work that ``serves`` it, recursively
(:func:`~orchestrator_gui.model.planning.closure_rows`): the completed runs
of its linked items, the memory entries that mention them and the links a
user marked.  Each evidence node counts once per side, with its strongest
piece, however many linked nodes it touches.  The cost is one traversal per
goal that has contributors (O(closure + its evidence)); goals without any
take the per-node value, all at once.

Unsupported goals and open questions
------------------------------------
A goal that is not done, cancelled or archived and has confidence below
``unsupported_below`` (default: no supporting evidence at all) is
*unsupported*.  A ``question`` node that is not ``done``, ``cancelled`` or
``archived`` is *open*.  Both get an activation boost (see
:mod:`orchestrator_gui.model.activation`), so the orchestrator keeps pointing
at what is unknown.  The goal report adds the questions a goal with
confidence below :data:`LOW_CONFIDENCE` raises (:func:`goal_report`).

Public API
----------
``RUN_EVIDENCE``, ``MEMORY_EVIDENCE``, ``LOW_CONFIDENCE``
``evidence_confidence(graph) -> (confidence, count)`` (per row, the node's own evidence)
``EpistemicState`` (per-row arrays ``confidence``, ``evidence``, ``contradictions``,
``is_goal``, ``unsupported``, ``open_question``; ``boost_mask``;
``unsupported_goals(graph)``, ``open_questions(graph)``)
``epistemic_state(graph, *, unsupported_below=None) -> EpistemicState`` (cached)
``evidence_pieces(graph) -> Pieces``; ``goal_evidence(graph, row) -> GoalEvidence``
``GoalInfo`` (with ``Contribution`` and ``Evidence``) / ``goal_report(graph) -> list[GoalInfo]``
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from orchestrator_gui.model.adjacency import gather_ranges
from orchestrator_gui.model.attention import graph_cache
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, KIND_INDEX, STATUS_INDEX, EdgeType, NodeKind, NodeStatus
from orchestrator_gui.model.planning import MAX_EDGE_WEIGHT, closure_rows, goal_rows, rollup_edges, rollup_progress

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: Strength of one completed (for) or failed (against) run of a node.
RUN_EVIDENCE = 0.5
#: Strength of one memory entry mentioning a node.
MEMORY_EVIDENCE = 0.25
#: Below this confidence a goal's report asks what would settle it.
LOW_CONFIDENCE = 0.5
#: Most contributions and pieces of evidence per side a goal report lists (the strongest; counts are complete).
REPORT_LIMIT = 100
#: Statuses of evidence that no longer counts.
VOID_EVIDENCE: tuple[NodeStatus, ...] = (NodeStatus.FAILED, NodeStatus.CANCELLED, NodeStatus.ARCHIVED)
#: Statuses of goals and questions that are settled (no boost, not listed).
SETTLED: tuple[NodeStatus, ...] = (NodeStatus.DONE, NodeStatus.CANCELLED, NodeStatus.ARCHIVED)

#: Why a piece counts (``Evidence.why``), indexed by its code.
WHY: tuple[str, ...] = ("supports", "contradicts", "completed run", "failed run", "memory entry")
_SUPPORTS, _CONTRADICTS, _RUN_DONE, _RUN_FAILED, _MEMORY = range(len(WHY))
_E = {t: EDGE_TYPE_INDEX[t.value] for t in EdgeType}
_K = {k: KIND_INDEX[k.value] for k in NodeKind}


def _status_in(graph: ThoughtGraph, statuses: tuple[NodeStatus, ...]) -> np.ndarray:
    return np.isin(graph.status_index, np.array([STATUS_INDEX[s.value] for s in statuses], dtype=np.int8))


def _node_confidence(graph: ThoughtGraph, rows: np.ndarray) -> np.ndarray:
    """The ``confidence`` field of the nodes in ``rows`` (one pass over all nodes when that is cheaper)."""
    uniq, inverse = np.unique(rows, return_inverse=True)
    if len(uniq) * 4 > len(graph):
        conf = np.fromiter((x.confidence for x in graph.nodes()), dtype=np.float64, count=len(graph))
        return conf[rows]
    ids = graph.ids_of(uniq)
    return np.array([graph.node(i).confidence for i in ids], dtype=np.float64)[inverse].reshape(len(rows))


@dataclass(frozen=True)
class Pieces:
    """Every piece of evidence in the graph, grouped by the node it is about (CSR by ``about``).

    ``src[ptr[r]:ptr[r + 1]]`` are the evidence nodes on row ``r``, with their
    ``strength`` (> 0), ``against`` flag and ``why`` code (index into :data:`WHY`).
    """

    ptr: np.ndarray
    src: np.ndarray
    strength: np.ndarray
    against: np.ndarray
    why: np.ndarray
    index: np.ndarray  # 0 .. len(src) - 1, for gathering positions


def _pieces(graph: ThoughtGraph) -> Pieces:
    n = len(graph)
    ea = graph.edge_arrays()
    kind, status = graph.kind_index, graph.status_index
    done = status == STATUS_INDEX[NodeStatus.DONE.value]
    failed = status == STATUS_INDEX[NodeStatus.FAILED.value]
    void = _status_in(graph, VOID_EVIDENCE)
    t, s = ea.type, ea.src
    explicit_for = t == _E[EdgeType.EVIDENCE_FOR]
    explicit_against = t == _E[EdgeType.CONTRADICTS]
    run = ((t == _E[EdgeType.SCHEDULED_BY]) | (t == _E[EdgeType.RAN_AS])) & (kind[s] == _K[NodeKind.RUN])
    memory = (t == _E[EdgeType.MENTIONS]) & (kind[s] == _K[NodeKind.MEMORY]) & ~void[s]
    why = np.full(len(t), -1, dtype=np.int8)
    why[explicit_for & ~void[s]] = _SUPPORTS
    why[explicit_against & ~void[s]] = _CONTRADICTS
    why[run & done[s]] = _RUN_DONE
    why[run & failed[s]] = _RUN_FAILED
    why[memory] = _MEMORY
    sel = np.flatnonzero(why >= 0)
    code = why[sel]
    src, about = s[sel], ea.dst[sel]
    base = np.select([code == _RUN_DONE, code == _RUN_FAILED, code == _MEMORY],
                     [RUN_EVIDENCE, RUN_EVIDENCE, MEMORY_EVIDENCE], np.clip(ea.weight[sel], 0.0, 1.0))
    strength = base * np.clip(_node_confidence(graph, src), 0.0, 1.0)
    keep = strength > 0
    src, about, strength, code = src[keep], about[keep], strength[keep], code[keep]
    order = np.argsort(about, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(about, minlength=n), out=ptr[1:])
    code = code[order]
    return Pieces(ptr=ptr, src=src[order], strength=strength[order],
                  against=(code == _CONTRADICTS) | (code == _RUN_FAILED), why=code,
                  index=np.arange(len(order), dtype=np.int64))


def evidence_pieces(graph: ThoughtGraph) -> Pieces:
    """All pieces of evidence (see the module docstring), cached until the graph changes."""
    key = (graph.revision, graph.structure_revision, len(graph))
    return graph_cache(graph, "evidence_pieces", key, lambda: _pieces(graph))


def combine(support: np.ndarray, against: np.ndarray) -> float:
    """Confidence from the strengths of the supporting and contradicting pieces (module docstring)."""
    if not len(support):
        return 0.0
    miss = 0.0 if np.any(support >= 1.0) else float(np.exp(np.log1p(-support).sum()))
    a, b = float(support.sum()), float(against.sum())
    return (1.0 - miss) * a / (a + b) + 0.0


def _per_row(p: Pieces, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(confidence, supporting, contradicting)`` per row from the pieces on the row itself."""
    about = np.repeat(np.arange(n), np.diff(p.ptr))
    sup = ~p.against
    certain = np.bincount(about[sup & (p.strength >= 1.0)], minlength=n) > 0
    partial = sup & (p.strength < 1.0)
    log_miss = np.bincount(about[partial], weights=np.log1p(-p.strength[partial]), minlength=n)
    support = np.where(certain, 1.0, -np.expm1(log_miss))
    a = np.bincount(about[sup], weights=p.strength[sup], minlength=n)
    b = np.bincount(about[~sup], weights=p.strength[~sup], minlength=n)
    share = np.divide(a, a + b, out=np.zeros(n), where=a > 0)
    conf = support * share + 0.0  # + 0.0: no negative zero without evidence
    return conf, np.bincount(about[sup], minlength=n), np.bincount(about[~sup], minlength=n)


def evidence_confidence(graph: ThoughtGraph) -> tuple[np.ndarray, np.ndarray]:
    """``(confidence, evidence_count)`` per row from the evidence on the node itself (see the module doc).

    ``evidence_count`` counts the supporting pieces with a non-zero strength.
    """
    conf, count, _ = _per_row(evidence_pieces(graph), len(graph))
    return conf, count


@dataclass(frozen=True)
class GoalEvidence:
    """The distinct evidence on a goal's closure: one entry per (evidence node, side), strongest piece."""

    src: np.ndarray
    about: np.ndarray
    strength: np.ndarray
    against: np.ndarray
    why: np.ndarray

    @property
    def confidence(self) -> float:
        """Confidence of the goal from this evidence (module docstring)."""
        return combine(self.strength[~self.against], self.strength[self.against])


def goal_evidence(graph: ThoughtGraph, row: int, closure: np.ndarray | None = None, *,
                  ordered: bool = True) -> GoalEvidence:
    """The evidence on everything that rolls up into the node in ``row`` (its closure), each node once per side.

    Each (evidence node, side) keeps its strongest piece; ``ordered`` sorts the result strongest first
    (``False`` skips that sort when only the figures are wanted).  O(closure + its evidence), no sort
    unless ``ordered``.
    """
    p = evidence_pieces(graph)
    rows = closure_rows(graph, np.array([row]), counted_only=True) if closure is None else closure
    pos = gather_ranges(p.ptr, p.index, rows)
    about = np.repeat(rows, p.ptr[rows + 1] - p.ptr[rows])
    src, strength, against, why = p.src[pos], p.strength[pos], p.against[pos], p.why[pos]
    key = src * 2 + against
    at = np.arange(len(key))
    slot = np.empty(2 * len(graph), dtype=np.int64)  # scratch indexed by key: groups without sorting
    slot[key] = at
    group = slot[key]
    best = np.zeros(len(key))
    np.maximum.at(best, group, strength)
    strongest = np.flatnonzero(strength == best[group])
    slot[key[strongest[::-1]]] = strongest[::-1]  # among equals the first in closure order (the goal first)
    keep = strongest[slot[key[strongest]] == strongest]  # one strongest piece per (source, side)
    if ordered:
        keep = keep[np.argsort(-strength[keep], kind="stable")]
    return GoalEvidence(src=src[keep], about=about[keep], strength=strength[keep], against=against[keep],
                        why=why[keep])


@dataclass(frozen=True)
class EpistemicState:
    """Per-row epistemic arrays (read-only by convention).

    Attributes
    ----------
    confidence : ndarray of float
        Evidence-based confidence (goals: over their closure; other nodes: their own evidence).
    evidence : ndarray of int
        Number of supporting pieces with non-zero strength (goals: distinct evidence nodes).
    contradictions : ndarray of int
        Number of contradicting pieces (goals: distinct evidence nodes).
    is_goal, unsupported, open_question : ndarray of bool
    """

    confidence: np.ndarray
    evidence: np.ndarray
    contradictions: np.ndarray
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
    n = len(graph)
    conf, count, against = _per_row(evidence_pieces(graph), n)
    conf, count, against = conf.copy(), count.copy(), against.copy()
    goals = goal_rows(graph)
    is_goal = np.zeros(n, dtype=bool)
    is_goal[goals] = True
    up, _, _, _ = rollup_edges(graph)
    has_contributors = np.zeros(n, dtype=bool)
    has_contributors[up] = True
    # A goal with nothing rolling up into it is judged by its own evidence: the per-row value above.
    for row in goals[has_contributors[goals]].tolist():
        ev = goal_evidence(graph, row, ordered=False)
        conf[row] = ev.confidence
        count[row] = int(np.count_nonzero(~ev.against))
        against[row] = int(np.count_nonzero(ev.against))
    settled = _status_in(graph, SETTLED)
    weak = count == 0 if unsupported_below is None else conf < unsupported_below
    return EpistemicState(
        confidence=conf,
        evidence=count,
        contradictions=against,
        is_goal=is_goal,
        unsupported=is_goal & ~settled & weak,
        open_question=(graph.kind_index == _K[NodeKind.QUESTION]) & ~settled,
    )


def epistemic_state(graph: ThoughtGraph, *, unsupported_below: float | None = None) -> EpistemicState:
    """Confidence, unsupported goals and open questions (cached until the graph changes).

    ``unsupported_below``: a goal whose confidence is below it is unsupported;
    ``None`` (default) means "has no supporting evidence at all".
    """
    key = (graph.revision, graph.structure_revision, len(graph), unsupported_below)
    return graph_cache(graph, f"epistemic:{unsupported_below}", key, lambda: _state(graph, unsupported_below))


# -- the goal report ------------------------------------------------------------------------
@dataclass(frozen=True)
class Contribution:
    """Something a goal's progress is made of: a counted child or a node that serves it."""

    id: str
    title: str
    kind: str
    via: str
    progress: float
    items: int
    done_items: int
    weight: float

    def to_dict(self) -> dict:
        """JSON-able dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence on a goal: the evidence node, why it counts, and the linked node it is about."""

    id: str
    title: str
    kind: str
    why: str
    strength: float
    about: str
    about_title: str

    def to_dict(self) -> dict:
        """JSON-able dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class GoalInfo:
    """One goal as ``graph goals`` shows it: the figures and what they are made of."""

    id: str
    title: str
    kind: str
    status: str
    progress: float
    confidence: float
    evidence: int
    unsupported: bool
    open_questions: tuple[str, ...]
    items: int = 0
    done_items: int = 0
    parts: int = 0
    contradictions: int = 0
    support: float = 0.0
    contributions: tuple[Contribution, ...] = ()
    supports: tuple[Evidence, ...] = ()
    contradicts: tuple[Evidence, ...] = ()
    questions: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-able dict."""
        return {
            "id": self.id, "title": self.title, "kind": self.kind, "status": self.status,
            "progress": self.progress, "confidence": self.confidence, "evidence": self.evidence,
            "unsupported": self.unsupported, "open_questions": list(self.open_questions),
            "items": self.items, "done_items": self.done_items, "parts": self.parts,
            "contradictions": self.contradictions, "support": self.support,
            "contributions": [c.to_dict() for c in self.contributions],
            "supports": [e.to_dict() for e in self.supports],
            "contradicts": [e.to_dict() for e in self.contradicts],
            "questions": list(self.questions),
        }


def _contributions(graph: ThoughtGraph, row: int, progress, ea) -> tuple[Contribution, ...]:
    """The counted children and serving nodes of the goal in ``row``, heaviest first (at most REPORT_LIMIT)."""
    par = np.flatnonzero((ea.type == _E[EdgeType.PARENT]) & (ea.src == row))
    srv = np.flatnonzero((ea.type == _E[EdgeType.SERVES]) & (ea.dst == row))
    other = np.concatenate((ea.dst[par], ea.src[srv]))
    serves = np.arange(len(other)) >= len(par)
    w = np.clip(np.concatenate((ea.weight[par], ea.weight[srv])), 0.0, MAX_EDGE_WEIGHT)
    weight = np.where(serves, w * progress.items[other], w)
    keep = np.flatnonzero(progress.counted[other] & (weight > 0))
    keep = keep[np.argsort(-weight[keep], kind="stable")][:REPORT_LIMIT]
    goal_id = graph.id_of(row)
    out = []
    for k in keep.tolist():
        r = int(other[k])
        other_id = graph.id_of(r)
        if serves[k]:
            meta = graph.edge(other_id, goal_id, EdgeType.SERVES).metadata
            via = str(meta.get("via", "")) if meta.get("by") == "migration" else "user"
        else:
            via = "parent"
        node = graph.node(other_id)
        out.append(Contribution(id=other_id, title=node.title or other_id, kind=node.kind.value, via=via,
                                progress=float(progress.progress[r]), items=int(progress.items[r]),
                                done_items=int(progress.done_items[r]), weight=float(weight[k])))
    return tuple(out)


def _evidence_list(graph: ThoughtGraph, ev: GoalEvidence, goal_row: int) -> tuple[list[Evidence], list[Evidence]]:
    """The strongest :data:`REPORT_LIMIT` pieces of each side, strongest first."""
    out: tuple[list[Evidence], list[Evidence]] = ([], [])
    for k in np.concatenate((np.flatnonzero(~ev.against)[:REPORT_LIMIT], np.flatnonzero(ev.against)[:REPORT_LIMIT])):
        src, about = graph.id_of(int(ev.src[k])), graph.id_of(int(ev.about[k]))
        node = graph.node(src)
        about_title = "the goal itself" if int(ev.about[k]) == goal_row else (graph.node(about).title or about)
        out[int(ev.against[k])].append(Evidence(
            id=src, title=node.title or src, kind=node.kind.value, why=WHY[int(ev.why[k])],
            strength=float(ev.strength[k]), about=about, about_title=about_title))
    return out


def _questions(info: GoalInfo, settled: bool) -> tuple[str, ...]:
    """The open questions of a goal that is not settled: what serves it, when nothing does, and -- with
    confidence below :data:`LOW_CONFIDENCE` -- what would show it on track, and what the evidence against
    it means."""
    if settled:
        return ()
    t = info.title or info.id
    out = []
    if info.items == 0:
        out.append(f"What work serves “{t}”? Nothing is linked to it yet.")
    if info.confidence >= LOW_CONFIDENCE:
        return tuple(out)
    if info.evidence == 0:
        out.append(f"What shows that “{t}” is on track? No completed run, memory entry or supports link "
                   f"speaks for it or for its linked work.")
    for e in info.contradicts[:3]:
        about = e.about_title if e.about_title == "the goal itself" else f"“{e.about_title}”"
        out.append(f"“{e.title}” ({e.why}, on {about}) speaks against “{t}”: what would settle it?")
    return tuple(out)


def goal_report(graph: ThoughtGraph) -> list[GoalInfo]:
    """Every goal with its progress, confidence, and what each is made of.

    ``contributions`` are the counted children and serving nodes of the goal,
    heaviest first (progress, items, done items, roll-up weight and the rule
    that linked them; ``parts`` counts them all); ``supports`` and
    ``contradicts`` list the distinct evidence on the goal's closure, strongest
    first (``evidence`` and ``contradictions`` count it all; each list stops at
    :data:`REPORT_LIMIT`); ``questions`` are those
    a goal with confidence below :data:`LOW_CONFIDENCE` raises, and
    ``open_questions`` the open ``question`` nodes in its closure or linked
    to it directly by any edge.  Goals come in row order.
    """
    state = epistemic_state(graph)
    progress = rollup_progress(graph)
    settled = _status_in(graph, SETTLED)
    ea = graph.edge_arrays()
    out = []
    for row in goal_rows(graph).tolist():
        closure = closure_rows(graph, np.array([row]), counted_only=True)
        linked = np.concatenate((closure, ea.dst[ea.src == row], ea.src[ea.dst == row]))
        q = np.unique(linked[state.open_question[linked]])
        node = graph.node(graph.id_of(row))
        ev = goal_evidence(graph, row, closure)
        supports, contradicts = _evidence_list(graph, ev, row)
        info = GoalInfo(
            id=node.id, title=node.title, kind=node.kind.value, status=node.status.value,
            progress=float(progress.progress[row]), confidence=float(state.confidence[row]),
            evidence=int(state.evidence[row]), unsupported=bool(state.unsupported[row]),
            open_questions=tuple(graph.ids_of(q)), items=int(progress.items[row]),
            done_items=int(progress.done_items[row]), parts=int(progress.children[row]),
            contradictions=int(state.contradictions[row]),
            support=combine(ev.strength[~ev.against], np.zeros(0)),
            contributions=_contributions(graph, row, progress, ea), supports=tuple(supports),
            contradicts=tuple(contradicts),
        )
        out.append(replace(info, questions=_questions(info, bool(settled[row]))))
    return out
