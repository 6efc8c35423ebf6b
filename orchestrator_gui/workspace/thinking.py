"""Graph-of-Thoughts transforms as one use case: the configured thinker, a snapshot, the engine, a value.

:meth:`Thinking.prepare` is what every face calls. On the calling thread it
checks the request, makes the thinkers ``.orchestrator/config.toml`` names
(``[thinkers] default`` unless the request names others) and copies the
inputs' neighbourhood out of the live graph. It returns an engine
:class:`~orchestrator_gui.engine.tasks.Task` whose function builds the
transaction from that copy, so a worker never reads the graph the UI thread
may be changing. The task's :attr:`RunResult.value` is a
:class:`TransformOutcome`; the caller applies its transaction on the graph's
own thread (an input that changed meanwhile makes the apply fail cleanly:
edits carry their before-values).

:meth:`Thinking.run` builds synchronously on the live graph, for a caller that
owns it and does nothing else meanwhile (the CLI); both share :meth:`Thinking.build`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator_gui.engine.tasks import CancelToken, Task, transform_task
from orchestrator_gui.model import transforms as tf
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.queries import neighbourhood_rows, subgraph
from orchestrator_gui.model.transactions import Transaction

#: Transforms that ask a thinker.
THINKER_OPERATIONS = ("generate", "refine", "aggregate", "score")
#: Transforms that can run speculatively (K candidates, keep the best).
SPECULATIVE_OPERATIONS = ("generate", "refine")
#: Every transform.
OPERATIONS = ("generate", "refine", "aggregate", "score", "keep-best", "prune", "expand", "compress")


@dataclass(frozen=True)
class TransformRequest:
    """What to transform and how.

    Attributes
    ----------
    op : str
        One of :data:`OPERATIONS`.
    ids : tuple of str
        Input node ids (generate, refine, expand and compress use the first).
    n : int
        generate: at most this many children; keep-best: how many to keep.
    feedback : str
        refine: the feedback text.
    in_place : bool
        refine: edit the node itself instead of adding a derived node.
    thinkers : tuple of (str or None)
        Names from ``[thinkers.backends]`` (``None``: the configured default).
        Several only with ``speculative``.
    speculative : int or None
        Run this many candidates in parallel and keep the best ``keep``.
    keep : int
        Candidates kept with ``speculative``.
    scorer : str or None
        The thinker that scores speculative candidates.
    thinker : Thinker or None
        A thinker object to use instead of a configured one (the inspector's typed text).
    actor : str or None
        Provenance actor (default: the thinker's name).
    """

    op: str
    ids: tuple[str, ...]
    n: int = 3
    feedback: str = ""
    in_place: bool = False
    thinkers: tuple[str | None, ...] = (None,)
    speculative: int | None = None
    keep: int = 1
    scorer: str | None = None
    thinker: Any = None
    actor: str | None = None

    def check(self) -> None:
        """Raise ``ValueError`` with a readable message when the request cannot be carried out."""
        if self.op not in OPERATIONS:
            raise ValueError(f"unknown transform {self.op!r} (known: {', '.join(OPERATIONS)})")
        if not self.ids:
            raise ValueError(f"{self.op} needs a node")
        if self.speculative is None:
            if len(self.thinkers) > 1:
                raise ValueError("give one thinker, or several with speculative K")
        else:
            if self.op not in SPECULATIVE_OPERATIONS:
                raise ValueError(f"{self.op} cannot run speculatively (only {', '.join(SPECULATIVE_OPERATIONS)})")
            if self.speculative < 1 or not 1 <= self.keep <= self.speculative:
                raise ValueError("speculative K needs K >= 1 and 1 <= keep <= K")
            if self.in_place:
                raise ValueError("speculative runs make new nodes; they cannot be combined with in-place")
        # Everything else (too few inputs, n out of range, ...) the transforms check themselves,
        # with messages that name the problem; checking here too would only let the two drift apart.


@dataclass
class TransformOutcome:
    """A built transform: the transaction to apply and, for speculative runs, every candidate's record."""

    transaction: Transaction
    candidates: list[dict[str, Any]] = field(default_factory=list)


class Thinking:
    """Builds transforms for one workspace with the thinkers its config names.

    Parameters
    ----------
    root : path-like
        The workspace (its ``.orchestrator/config.toml`` is read at each request,
        so an edit of the config applies to the next transform).
    environ : mapping, optional
        Environment for the thinker backends (default: the process's).
    """

    def __init__(self, root: str | os.PathLike[str], *, environ: Any = None) -> None:
        self.root = Path(root)
        self._environ = environ

    # -- thinkers ----------------------------------------------------------------------------
    def _config(self) -> Any:
        from orchestrator_gui.engine.config import load_config

        return load_config(self.root)

    def thinkers(self, request: TransformRequest, config: Any = None) -> tuple[list[Any], Any]:
        """The thinker objects for ``request`` and its speculative scorer (``None`` unless speculative)."""
        from orchestrator_gui.engine.thinkers import make_scorer, make_thinker

        if request.thinker is not None:
            return [request.thinker], None
        config = config if config is not None else self._config()
        made = [make_thinker(config, name, workspace=self.root, environ=self._environ) for name in request.thinkers]
        scorer = None
        if request.speculative is not None:
            scorer = make_scorer(config, request.scorer, workspace=self.root, environ=self._environ)
        return made, scorer

    def _checked(self, request: TransformRequest) -> tuple[list[Any], Any]:
        """Check ``request`` and make its thinkers (none for transforms that ask none)."""
        request.check()
        return self.thinkers(request) if request.op in THINKER_OPERATIONS else ([None], None)

    # -- snapshot ------------------------------------------------------------------------------
    @staticmethod
    def snapshot(graph: ThoughtGraph, ids: Sequence[str]) -> ThoughtGraph:
        """An independent copy of ``ids`` and their direct neighbours (with the edges among them).

        That is all a transform reads: the inputs, their children (generate,
        completion for score) and earlier refinements (refine).
        """
        for i in ids:
            graph.node(i)  # unknown ids fail here, on the caller's thread, with NodeNotFound
        rows = neighbourhood_rows(graph, graph.rows_of(list(dict.fromkeys(ids))), 1)
        return subgraph(graph, graph.ids_of(np.unique(rows)))

    # -- building --------------------------------------------------------------------------------
    def build(self, graph: ThoughtGraph, request: TransformRequest, thinkers: list[Any], scorer: Any = None,
              token: CancelToken | None = None, *, attention_scale: float | None = None,
              engine: Any = None) -> TransformOutcome:
        """Build the transform on ``graph`` (a snapshot, or the live graph on its own thread).

        ``token`` is the engine's cancel switch when this runs as a task: a
        transform cancelled before it starts builds nothing.

        Raises
        ------
        ThinkerError, GraphError, KeyError, ValueError
            The transform cannot be built; nothing was applied.
        """
        if token is not None and token.cancelled:
            raise RuntimeError("cancelled before it started")
        op, ids, thinker = request.op, list(request.ids), thinkers[0]
        kw: dict[str, Any] = {} if request.actor is None else {"actor": request.actor}
        if request.speculative is not None:
            return self._speculate(graph, request, thinkers, scorer, engine)
        if op == "generate":
            tx = tf.generate(graph, ids[0], request.n, thinker=thinker, **kw)
        elif op == "refine":
            tx = tf.refine(graph, ids[0], request.feedback, in_place=request.in_place, thinker=thinker, **kw)
        elif op == "aggregate":
            tx = tf.aggregate(graph, ids, thinker=thinker, **kw)
        elif op == "score":
            tx = tf.score(graph, ids, thinker=thinker, attention_scale=attention_scale, **kw)
        elif op == "keep-best":
            tx = tf.keep_best(graph, ids, request.n)
        elif op == "prune":
            tx = tf.prune(graph, ids)  # every root in one transaction
        else:
            tx = getattr(tf, op)(graph, ids[0])
        return TransformOutcome(tx)

    def _speculate(self, graph: ThoughtGraph, request: TransformRequest, thinkers: list[Any], scorer: Any,
                   engine: Any) -> TransformOutcome:
        from orchestrator_gui.engine import speculative as sp

        k = int(request.speculative or 1)
        variants = sp.make_variants(thinkers, k, sp.spread_temperatures(k) if k > 1 else None)
        own = None
        if engine is None:
            # The candidates race on an engine of their own, so a speculative transform running as an
            # engine task never waits for slots of the engine it occupies.
            from orchestrator_gui.engine.executor import ThreadExecutor

            engine = own = ThreadExecutor(self.root, self._config(), track_time=False, track_failures=False)
        try:
            if request.op == "generate":
                spec = sp.speculative_generate(graph, request.ids[0], request.n, variants=variants,
                                               keep=request.keep, scorer=scorer, engine=engine)
            else:
                spec = sp.speculative_refine(graph, request.ids[0], request.feedback, variants=variants,
                                             keep=request.keep, scorer=scorer, engine=engine)
        finally:
            if own is not None:
                own.shutdown(wait=False)
        records = [{k: r[k] for k in ("candidate", "variant", "status", "score", "error")}
                   | {"seconds": r["cost"]["seconds"], "tokens": r["cost"]["tokens"]}
                   for r in (c.record() for c in spec.candidates)]
        return TransformOutcome(spec.transaction, records)

    def prepare(self, graph: ThoughtGraph, request: TransformRequest, *, title: str = "") -> Task:
        """The engine task that builds ``request`` on a snapshot of its inputs.

        Everything that can fail fast (the request, the config, the thinker
        names, unknown ids) fails here, on the caller's thread.

        Returns
        -------
        Task
            A ``transform`` task; its ``RunResult.value`` is a :class:`TransformOutcome`.
        """
        thinkers, scorer = self._checked(request)
        snap = self.snapshot(graph, request.ids)
        scale = float(graph.attention.max()) if len(graph) else 0.0
        # The engine calls fn(token): build(snapshot, request, thinkers, scorer, token).
        fn = functools.partial(self.build, snap, request, thinkers, scorer, attention_scale=scale)
        ids = tuple(dict.fromkeys(request.ids))
        return transform_task(fn, inputs=ids, outputs=ids, title=title or f"{request.op} {len(ids)} node(s)",
                              timeout_s=0, no_timeout=True)

    def run(self, graph: ThoughtGraph, request: TransformRequest) -> TransformOutcome:
        """Build ``request`` on the live graph, here and now (nothing is applied).

        For a caller that owns the graph and does nothing else meanwhile (the
        CLI): no snapshot is needed, and the build's own exception reaches
        the caller. Speculative candidates still race on an engine.

        Raises
        ------
        ThinkerError, GraphError, KeyError, ValueError
            The transform cannot be built.
        """
        thinkers, scorer = self._checked(request)
        return self.build(graph, request, thinkers, scorer)


__all__ = ["OPERATIONS", "SPECULATIVE_OPERATIONS", "THINKER_OPERATIONS", "Thinking", "TransformOutcome",
           "TransformRequest"]
