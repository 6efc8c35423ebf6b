"""Speculative transforms: K candidate variants in parallel, scored, the best N kept as one transaction.

A speculative ``generate`` (or ``refine``) asks K *variants* -- different
thinkers, or one thinker at different temperatures (:func:`make_variants`) --
for a candidate at the same time, on the engine's thread pool
(:class:`~orchestrator_gui.engine.executor.Engine` transform tasks) or, without
an engine, on a private one. Each worker also scores its candidate with the
*scorer* (one ``score`` call over the candidate's texts; a ``generate``
candidate's score is the mean of its texts' scores). The best ``keep``
candidates become ONE transaction, built by the model's own
:func:`~orchestrator_gui.model.transforms.generate` /
:func:`~orchestrator_gui.model.transforms.refine`; nothing is committed here::

    result = speculative_generate(store.graph, node_id, 3, variants=make_variants([llm], 4, [0.2, 0.6, 1.0]),
                                  keep=1, scorer=judge)
    store.apply(result.transaction)            # all or nothing, one undo step

Ranking and certainty
---------------------
Candidates rank by score, highest first; among *finished* candidates ties go
to the variant listed first. Scores are bounded by ``max_score`` (default
1.0; a scorer that reports more is an error for that candidate). The winners
are **certain** as soon as ``keep`` candidates have finished and the
``keep``-th best of them scored ``max_score``: a candidate still running can
at best tie with it, and a tie does not displace a finished candidate. From
that moment the remaining candidates are cancelled -- queued ones never
start, running ones get their cancel token set (command thinkers have their
process group killed, HTTP thinkers their socket shut down) -- and the
result is built as soon as they have stopped (at most ``settle_s``; a thinker
that ignores its token is left to finish on its own, its answer ignored).
Otherwise every candidate runs to its end (or to the race's ``timeout_s``). A candidate that
finishes after the decision is recorded as
``discarded``; one that fails (thinker error, wrong answer, nothing new) as
``failed``; if none succeeds, :class:`~orchestrator_gui.model.thinker.ThinkerError`
lists why. Fewer successes than ``keep`` keep them all.

Costs
-----
Every candidate's cost -- the thinker call's seconds and tokens (prompt,
completion, total; ``None`` where the backend reports none) and the scoring
call's -- is recorded: each resulting node gets
``metadata["speculative"] = {"candidate", "variant", "rank", "score", "cost"}``
for the candidate it came from, and the transaction's params get
``speculative = {"k", "keep", "max_score", "early", "scorer", "candidates"}``
with every candidate's record and status (``kept``, ``discarded``,
``failed``, ``cancelled``); ``params["cost"]`` sums the tokens and gives the
wall time. A cancelled candidate's seconds run until it stopped (0 when it
never started).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator_gui.engine.speculative_race import (
    Candidate,
    Variant,
    make_variants,
    race,
    score_candidate,
    spread_temperatures,
    timed,
    tokens_of,
)
from orchestrator_gui.engine.tasks import CancelToken
from orchestrator_gui.engine.thinkers.base import CANCEL
from orchestrator_gui.model import transforms as tf
from orchestrator_gui.model.coords import cap_points, to_cartesian, to_spherical
from orchestrator_gui.model.nodes import EdgeType
from orchestrator_gui.model.thinker import (
    OfflineThinker,
    Thinker,
    ThinkerContext,
    ThinkerError,
    node_text,
    normalise,
    split_text,
)
from orchestrator_gui.model.transactions import AddEdge, AddNode, Transaction

if TYPE_CHECKING:
    from orchestrator_gui.engine.executor import Engine
    from orchestrator_gui.model.graph import ThoughtGraph

#: Seconds to wait for cancelled candidates to stop before the result is returned anyway.
SETTLE_S = 5.0


@dataclass(frozen=True)
class SpeculativeResult:
    """The transaction to commit and what happened to every candidate.

    Attributes
    ----------
    transaction : Transaction
        The kept candidates' result, one transaction (not applied).
    candidates : list of Candidate
        In variant order, with their final status.
    early : bool
        True when the winners were certain before every candidate finished.
    seconds : float
        Wall time of the whole race.
    """

    transaction: Transaction
    candidates: list[Candidate]
    early: bool
    seconds: float

    @property
    def kept(self) -> list[Candidate]:
        """The kept candidates, best first."""
        return sorted((c for c in self.candidates if c.status == "kept"), key=lambda c: c.rank or 0)

    def by_status(self, status: str) -> list[Candidate]:
        """Candidates with ``status`` (``kept``, ``discarded``, ``failed``, ``cancelled``)."""
        return [c for c in self.candidates if c.status == status]


class _Fixed:
    """A thinker that answers what the race decided, so the model's transforms build the transaction."""

    def __init__(self, value: Any, name: str) -> None:
        self.value, self.name = value, name

    def generate(self, text: str, context: ThinkerContext, n: int) -> list[str]:
        return list(self.value)

    def refine(self, text: str, feedback: str, context: ThinkerContext) -> str:
        return str(self.value)


def _node_record(c: Candidate) -> dict[str, Any]:
    return {"candidate": c.index, "variant": c.label, "rank": c.rank, "score": c.score, "cost": c.cost()}


def _finish(base: Transaction, edits: list[Any], candidates: list[Candidate], kept: list[Candidate], early: bool,
            seconds: float, scorer: Thinker, max_score: float, params: dict[str, Any] | None = None,
            ) -> SpeculativeResult:
    tokens = [t for c in candidates for t in (c.tokens, c.score_tokens) if t is not None]
    spec = {"k": len(candidates), "keep": len(kept), "max_score": max_score, "early": early,
            "scorer": str(getattr(scorer, "name", type(scorer).__name__)),
            "candidates": [c.record() for c in candidates]}
    cost = {"thinker": "speculative", "seconds": round(seconds, 6), "tokens": sum(tokens) if tokens else None}
    merged = {**base.provenance.params, **(params or {}), "cost": cost, "speculative": spec}
    tx = Transaction.create(base.provenance.operation, edits, tx_id=base.id, params=merged,
                            actor=base.provenance.actor, now=base.provenance.time,
                            description=f"{base.description} (best {len(kept)} of {len(candidates)} candidates)")
    return SpeculativeResult(tx, candidates, early, seconds)


def _tag(edit: Any, record: dict[str, Any]) -> AddNode:
    node = edit.node
    return AddNode(node=node.model_copy(update={"metadata": {**node.metadata, "speculative": record}}))


def _actor(actor: str | None, kept: list[Candidate]) -> str:
    return actor if actor is not None else "speculative:" + ",".join(dict.fromkeys(c.label for c in kept))


# -- the transforms ----------------------------------------------------------------------------
def speculative_generate(graph: ThoughtGraph, node_id: str, n: int = 3, *, variants: Sequence[Variant | Thinker],
                         keep: int = 1, scorer: Thinker | None = None, engine: Engine | None = None,
                         max_score: float = 1.0, actor: str | None = None, now: float | None = None,
                         timeout_s: float | None = None, settle_s: float = SETTLE_S) -> SpeculativeResult:
    """Generate with every variant in parallel; the children of the best ``keep`` candidates, one transaction.

    Each candidate is one ``generate(text, context, n)`` call; texts that
    repeat an existing child are dropped (a candidate with nothing new
    fails), and a kept text repeating a better candidate's is dropped too.

    Parameters
    ----------
    graph, node_id, n
        As :func:`orchestrator_gui.model.transforms.generate`.
    variants : sequence of Variant or Thinker
        The K candidates' producers (see :func:`make_variants`).
    keep : int
        How many candidates to keep (1 <= keep <= K).
    scorer : Thinker, optional
        Scores the candidates' texts (default: the offline thinker, which
        cannot judge free text and scores 0, so the first variant wins).
    engine : Engine, optional
        Run the candidates as transform tasks of this engine (its
        ``[limits] transforms`` apply); default: a private thread pool.
        Do not pass the engine from inside one of its own transform tasks.
    max_score : float
        Upper bound of a score, used to decide certainty.
    timeout_s : float, optional
        Limit of the whole race; candidates still running then are cancelled.
    settle_s : float
        How long to wait for cancelled candidates to stop.

    Raises
    ------
    ThinkerError
        No candidate succeeded.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    parent = graph.node(node_id)
    stamp = time.time() if now is None else float(now)
    children = [e.dst for e in graph.edges_of(node_id, "out") if e.type == EdgeType.PARENT]
    existing = tuple(node_text(c.title, c.content) for c in map(graph.node, children))
    seen = {normalise(t) for t in existing}
    text = node_text(parent.title, parent.content)
    scorer = scorer if scorer is not None else OfflineThinker()

    def job(v: Variant, token: CancelToken, c: Candidate) -> None:
        ctx = ThinkerContext(node_ids=(node_id,), existing=existing, now=stamp, extra={CANCEL: token})
        value, c.seconds, raw = timed(v.thinker, "generate", text, ctx, n)
        c.tokens, c.prompt_tokens, c.completion_tokens = tokens_of(raw)
        if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(t, str) for t in value):
            raise ThinkerError(f"{c.label} did not give a list of texts from generate")
        if len(value) > n:
            raise ThinkerError(f"{c.label} gave {len(value)} texts, more than n={n}")
        fresh = [t for t in value if t.strip() and normalise(t) not in seen]
        if not fresh:
            raise ThinkerError(f"{c.label} has nothing new to generate from {node_id!r}")
        c.texts = fresh
        sctx = ThinkerContext(existing=existing, neighbours=(parent.title,), now=stamp,
                              extra={CANCEL: token, "about": text, "operation": "generate"})
        score_candidate(c, scorer, fresh, sctx, max_score)

    candidates, kept, early, seconds = race(variants, job, keep=keep, max_score=max_score, engine=engine,
                                             inputs=(node_id,), timeout_s=timeout_s, settle_s=settle_s)
    texts: list[str] = []
    origin: list[Candidate] = []
    taken: set[str] = set()
    for c in kept:
        for t in c.texts:
            if normalise(t) not in taken:
                taken.add(normalise(t))
                texts.append(t)
                origin.append(c)
    base = tf.generate(graph, node_id, len(texts), thinker=_Fixed(texts, "speculative"),
                       actor=_actor(actor, kept), now=stamp)
    created = base.provenance.params["created"]
    source = dict(zip(created, origin, strict=True))
    edits = [_tag(e, _node_record(source[e.node.id])) if e.op == "add_node" else e for e in base.edits]
    return _finish(base, edits, candidates, kept, early, seconds, scorer, max_score)


def speculative_refine(graph: ThoughtGraph, node_id: str, feedback: str, *, variants: Sequence[Variant | Thinker],
                       keep: int = 1, scorer: Thinker | None = None, engine: Engine | None = None,
                       max_score: float = 1.0, actor: str | None = None, now: float | None = None,
                       timeout_s: float | None = None, settle_s: float = SETTLE_S) -> SpeculativeResult:
    """Refine with every variant in parallel; the best ``keep`` versions become new nodes in one transaction.

    Like :func:`orchestrator_gui.model.transforms.refine` (not in place):
    each kept version is a new node linked ``new -[derived_from]-> node``;
    with ``keep > 1`` they share one cap of slots around the original. A
    version that changes nothing fails its candidate; equal versions are
    kept once. Parameters as :func:`speculative_generate`.
    """
    node = graph.node(node_id)
    stamp = time.time() if now is None else float(now)
    text = node_text(node.title, node.content)
    scorer = scorer if scorer is not None else OfflineThinker()

    def job(v: Variant, token: CancelToken, c: Candidate) -> None:
        ctx = ThinkerContext(node_ids=(node_id,), now=stamp, extra={CANCEL: token})
        value, c.seconds, raw = timed(v.thinker, "refine", text, feedback, ctx)
        c.tokens, c.prompt_tokens, c.completion_tokens = tokens_of(raw)
        if not isinstance(value, str) or not split_text(value)[0]:
            raise ThinkerError(f"{c.label} gave no text from refine")
        if split_text(value) == (node.title, node.content):
            raise ThinkerError(f"{c.label}: the feedback changes nothing in {node_id!r}")
        c.texts = [value]
        sctx = ThinkerContext(neighbours=(node.title,), now=stamp,
                              extra={CANCEL: token, "about": text, "operation": "refine", "feedback": feedback})
        score_candidate(c, scorer, [value], sctx, max_score)

    candidates, kept, early, seconds = race(variants, job, keep=keep, max_score=max_score, engine=engine,
                                             inputs=(node_id,), timeout_s=timeout_s, settle_s=settle_s)
    unique: list[Candidate] = []
    for c in kept:
        if all(normalise(c.texts[0]) != normalise(u.texts[0]) for u in unique):
            unique.append(c)
    act = _actor(actor, kept)
    parts = [tf.refine(graph, node_id, feedback, thinker=_Fixed(c.texts[0], "speculative"), actor=act, now=stamp)
             for c in unique]
    base = parts[0]
    earlier = sum(1 for e in graph.edges_of(node_id, "in") if e.type == EdgeType.DERIVED_FROM)
    slots = cap_points(to_cartesian((node.theta, node.phi, 1.0)), earlier + len(parts), tf.REFINE_CAP)[earlier:]
    edits: list[Any] = []
    created: list[str] = []
    for c, part, slot in zip(unique, parts, slots, strict=True):
        for e in part.edits:
            if e.op == "add_node":
                nd = e.node
                meta = {**nd.metadata, "provenance": {**nd.metadata["provenance"], "tx": base.id},
                        "speculative": _node_record(c)}
                update: dict[str, Any] = {"metadata": meta}
                if len(parts) > 1:  # one cap for all versions, so they do not sit on one spot
                    theta, phi, _ = to_spherical(np.asarray(slot, dtype=np.float64))
                    update.update(theta=float(theta), phi=float(phi))
                e = AddNode(node=nd.model_copy(update=update))
                created.append(nd.id)
            elif e.op == "add_edge":
                e = AddEdge(edge=e.edge.model_copy(update={"metadata": {**e.edge.metadata, "tx": base.id}}))
            edits.append(e)
    return _finish(base, edits, candidates, kept, early, seconds, scorer, max_score, params={"created": created})


__all__ = [
    "SETTLE_S",
    "Candidate",
    "SpeculativeResult",
    "Variant",
    "make_variants",
    "speculative_generate",
    "speculative_refine",
    "spread_temperatures",
]
