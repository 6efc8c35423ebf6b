"""The race behind the speculative transforms: variants, candidates, running them, deciding the winners.

See :mod:`orchestrator_gui.engine.speculative` for the rules (ranking,
certainty, cancellation, costs); this module runs jobs and applies them.
"""

from __future__ import annotations

import math
import queue
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator_gui.engine.tasks import CancelToken, RunResult, transform_task
from orchestrator_gui.engine.thinkers.base import ThinkerCancelled
from orchestrator_gui.model.thinker import Thinker, ThinkerContext, ThinkerError

if TYPE_CHECKING:
    from orchestrator_gui.engine.executor import Engine


# -- variants ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One way of producing a candidate: a thinker (possibly a temperature copy) and a label for the records."""

    thinker: Thinker
    label: str


def spread_temperatures(k: int, low: float = 0.2, high: float = 1.0) -> list[float]:
    """``k`` temperatures evenly from ``low`` to ``high`` (``[low]`` for one)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    return [low] if k == 1 else [round(float(t), 4) for t in np.linspace(low, high, k)]


def make_variants(thinkers: Thinker | Sequence[Thinker], k: int,
                  temperatures: Sequence[float] | None = None) -> list[Variant]:
    """``k`` variants: the thinkers in turn; where ``temperatures`` are given, variant ``i`` of a thinker with
    ``with_temperature`` samples at ``temperatures[i % len]`` (others are used as they are).

    Labels are ``name`` or ``name@temperature``, with ``#i`` added where two would be equal.
    """
    pool = [thinkers] if not isinstance(thinkers, Sequence) else list(thinkers)
    if k < 1 or not pool:
        raise ValueError("need at least one thinker and k >= 1")
    out: list[Variant] = []
    seen: set[str] = set()
    for i in range(k):
        thinker = pool[i % len(pool)]
        label = str(getattr(thinker, "name", type(thinker).__name__))
        if temperatures and hasattr(thinker, "with_temperature"):
            t = float(temperatures[i % len(temperatures)])
            thinker = thinker.with_temperature(t)  # type: ignore[attr-defined]
            label = f"{label}@{t:g}"
        if label in seen:
            label = f"{label}#{i + 1}"
        seen.add(label)
        out.append(Variant(thinker, label))
    return out


# -- candidates --------------------------------------------------------------------------------
@dataclass
class Candidate:
    """One candidate's outcome and cost (see the module docstring)."""

    index: int
    label: str
    thinker: str
    status: str = "pending"
    texts: list[str] = field(default_factory=list)
    score: float | None = None
    item_scores: list[float] = field(default_factory=list)
    seconds: float = 0.0
    tokens: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    score_seconds: float = 0.0
    score_tokens: int | None = None
    error: str | None = None
    rank: int | None = None
    started: float | None = None
    ended: float | None = None

    def cost(self) -> dict[str, Any]:
        """Time and tokens of the thinker call and of its scoring (JSON)."""
        return {"thinker": self.thinker, "seconds": round(self.seconds, 6), "tokens": self.tokens,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "score_seconds": round(self.score_seconds, 6), "score_tokens": self.score_tokens}

    def record(self) -> dict[str, Any]:
        """What the transaction's params keep of this candidate (JSON)."""
        return {"candidate": self.index, "variant": self.label, "status": self.status, "score": self.score,
                "texts": len(self.texts), "error": self.error, "cost": self.cost()}


def timed(thinker: Thinker, method: str, *args: Any) -> tuple[Any, float, Any]:
    """``(value, seconds, raw answer)`` of ``thinker.<method>(*args)`` (``value`` unwrapped from a ThinkerResult)."""
    t0 = time.perf_counter()
    value = getattr(thinker, method)(*args)
    seconds = time.perf_counter() - t0
    return getattr(value, "value", value), seconds, value


def tokens_of(raw: Any) -> tuple[int | None, int | None, int | None]:
    """``(tokens, prompt_tokens, completion_tokens)`` of a thinker's raw answer (``None`` where unknown)."""
    return (getattr(raw, "tokens", None), getattr(raw, "prompt_tokens", None), getattr(raw, "completion_tokens", None))


def score_candidate(c: Candidate, scorer: Thinker, items: list[str], ctx: ThinkerContext, max_score: float) -> None:
    """Score ``items`` (a candidate's texts) with ``scorer``; the candidate's score is their mean.

    Raises ThinkerError for a wrong count, a non-finite score or one above ``max_score``.
    """
    value, c.score_seconds, raw = timed(scorer, "score", items, ctx)
    c.score_tokens = getattr(raw, "tokens", None)
    name = getattr(scorer, "name", type(scorer).__name__)
    if not isinstance(value, Sequence | np.ndarray) or len(value) != len(items):
        raise ThinkerError(f"scorer {name!r} must give one score per item")
    scores = [float(v) for v in value]
    if not all(math.isfinite(v) for v in scores):
        raise ThinkerError(f"scorer {name!r} gave a score that is not finite")
    if max(scores) > max_score:
        raise ThinkerError(f"scorer {name!r} gave {max(scores):g}, above max_score {max_score:g}")
    c.item_scores = scores
    c.score = sum(scores) / len(scores)


# -- the race ----------------------------------------------------------------------------------
Job = Callable[[CancelToken, Candidate], None]


class _Race:
    """Runs the jobs, decides the winners as soon as they are certain, cancels the rest."""

    def __init__(self, jobs: list[Job], candidates: list[Candidate], keep: int, max_score: float,
                 engine: Engine | None, inputs: tuple[str, ...], timeout_s: float | None, settle_s: float) -> None:
        self.jobs, self.candidates, self.keep, self.max_score = jobs, candidates, keep, max_score
        self.engine, self.inputs, self.timeout_s, self.settle_s = engine, inputs, timeout_s, settle_s
        self.done: queue.Queue[tuple[int, str, str | None]] = queue.Queue()
        self.cancellers: list[Callable[[str], None]] = []
        self.early = False

    def _wrapped(self, i: int, token: CancelToken) -> tuple[str, str | None]:
        c = self.candidates[i]
        c.started = time.perf_counter()
        try:
            self.jobs[i](token, c)
            status, error = "ok", None
        except ThinkerCancelled as exc:
            status, error = "cancelled", str(exc)
        except Exception as exc:  # a thinker's failure is this candidate's, not the race's
            status = "cancelled" if token.cancelled else "failed"
            error = str(exc) if isinstance(exc, ThinkerError) else f"{type(exc).__name__}: {exc}"
        c.ended = time.perf_counter()
        return status, error

    def _start(self) -> Callable[[], None]:
        if self.engine is not None:
            return self._start_engine(self.engine)
        pool = ThreadPoolExecutor(max_workers=len(self.jobs), thread_name_prefix="speculative")
        tokens = [CancelToken() for _ in self.jobs]
        futures: list[Future[tuple[str, str | None]]] = []
        for i, token in enumerate(tokens):
            fut = pool.submit(self._wrapped, i, token)
            fut.add_done_callback(lambda f, i=i: self.done.put(
                (i, "cancelled", "cancelled before it started") if f.cancelled() else (i, *f.result())))
            futures.append(fut)

        def cancel(i: int, reason: str) -> None:
            futures[i].cancel()
            tokens[i].cancel(reason)
        self.cancellers = [lambda reason, i=i: cancel(i, reason) for i in range(len(tokens))]
        return lambda: pool.shutdown(wait=False, cancel_futures=True)

    def _start_engine(self, engine: Engine) -> Callable[[], None]:
        tasks = [transform_task(lambda token, i=i: self._wrapped(i, token), inputs=self.inputs,
                                title=f"speculative candidate {c.label}", meta={"speculative_candidate": c.index})
                 for i, c in enumerate(self.candidates)]

        def resolved(i: int, result: RunResult) -> None:
            if isinstance(result.value, tuple):
                self.done.put((i, *result.value))
            else:  # cancelled while queued, or the engine itself failed the task
                self.done.put((i, "cancelled" if result.status == "cancelled" else "failed",
                               result.error or result.status))
        handles = engine.submit_batch(tasks)
        for i, h in enumerate(handles):
            h.add_done_callback(lambda r, i=i: resolved(i, r))
        self.cancellers = [lambda reason, tid=h.task_id: engine.cancel(tid, reason) for h in handles]
        return lambda: None

    def _certain(self, ok: list[int]) -> bool:
        if len(ok) < self.keep:
            return False
        ranked = sorted(ok, key=lambda i: (-(self.candidates[i].score or 0.0), i))
        return (self.candidates[ranked[self.keep - 1]].score or 0.0) >= self.max_score

    def run(self) -> None:
        """Run to the decision, then settle; sets every candidate's status except kept/discarded of finishers."""
        pending = set(range(len(self.jobs)))
        ok: list[int] = []
        close = self._start()
        deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        try:
            while pending:
                wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                try:
                    i, status, error = self.done.get(timeout=wait)
                except queue.Empty:
                    self._cancel(pending, f"cancelled: speculative time limit of {self.timeout_s:g} s")
                    break
                pending.discard(i)
                self._record(i, status, error, ok)
                if pending and self._certain(ok):
                    self.early = True
                    self._cancel(pending, "cancelled: the winners are certain")
                    break
        except BaseException:
            self._cancel(pending, "cancelled: interrupted")
            raise
        finally:
            self._settle(pending)
            close()
        for i in ok:
            self.candidates[i].status = "finished"
        self._ok = ok

    def _record(self, i: int, status: str, error: str | None, ok: list[int] | None) -> None:
        c = self.candidates[i]
        c.error = error
        if status == "ok":
            if ok is not None:
                ok.append(i)
            else:
                c.status = "discarded"  # finished after the winners were certain
        else:
            c.status = status
        if status != "ok" and c.started is not None and (status == "cancelled" or not c.seconds):
            c.seconds = (c.ended or time.perf_counter()) - c.started  # how long it ran before it stopped

    def _cancel(self, pending: set[int], reason: str) -> None:
        # Last listed first: the engine starts queued tasks in order, so a slot freed by a cancelled
        # running candidate must not start a later one that is about to be cancelled too.
        for i in sorted(pending, reverse=True):
            self.cancellers[i](reason)

    def _settle(self, pending: set[int]) -> None:
        end = time.monotonic() + self.settle_s
        while pending:
            try:
                i, status, error = self.done.get(timeout=max(end - time.monotonic(), 0.0))
            except queue.Empty:
                break
            pending.discard(i)
            self._record(i, status, error, None)
        for i in pending:  # still running (a thinker that ignores its token): its answer will be ignored
            self._record(i, "cancelled", "did not stop within the settle time; its answer is ignored", None)

    def ranked(self) -> list[Candidate]:
        """Finished-before-decision candidates, best first; marks the best ``keep`` kept, the others discarded."""
        order = sorted(self._ok, key=lambda i: (-(self.candidates[i].score or 0.0), i))
        for rank, i in enumerate(order):
            c = self.candidates[i]
            c.status, c.rank = ("kept", rank) if rank < self.keep else ("discarded", None)
        return [self.candidates[i] for i in order[: self.keep]]


def race(variants: Sequence[Variant | Thinker], job: Callable[[Variant, CancelToken, Candidate], None], *,
         keep: int, max_score: float, engine: Engine | None, inputs: tuple[str, ...], timeout_s: float | None,
         settle_s: float) -> tuple[list[Candidate], list[Candidate], bool, float]:
    """Run ``job(variant, token, candidate)`` for every variant; return ``(candidates, kept best first, early,
    seconds)``. ``job`` fills the candidate (texts, score, costs) or raises.

    Raises
    ------
    ValueError
        No variants, or ``keep`` not in ``1..len(variants)``.
    ThinkerError
        No candidate succeeded (the message lists why each failed).
    """
    vs: list[Variant] = []
    for i, v in enumerate(variants):
        if not isinstance(v, Variant):
            v = make_variants([v], 1)[0]
        if any(v.label == u.label for u in vs):
            v = Variant(v.thinker, f"{v.label}#{i + 1}")  # labels tell the records apart
        vs.append(v)
    if not vs:
        raise ValueError("speculative mode needs at least one variant")
    if not 1 <= keep <= len(vs):
        raise ValueError(f"keep must be between 1 and the number of variants ({len(vs)}), not {keep}")
    if not math.isfinite(max_score):
        raise ValueError("max_score must be finite")
    candidates = [Candidate(i, v.label, str(getattr(v.thinker, "name", type(v.thinker).__name__)))
                  for i, v in enumerate(vs)]
    jobs: list[Job] = [lambda token, c, v=v: job(v, token, c) for v in vs]
    t0 = time.perf_counter()
    runner = _Race(jobs, candidates, keep, max_score, engine, inputs, timeout_s, settle_s)
    runner.run()
    kept = runner.ranked()
    if not kept:
        why = "; ".join(f"#{c.index} {c.label}: {c.status}" + (f" ({c.error})" if c.error else "")
                        for c in candidates)
        raise ThinkerError(f"no speculative candidate succeeded: {why}")
    return candidates, kept, runner.early, time.perf_counter() - t0


__all__ = ["Candidate", "Variant", "make_variants", "race", "score_candidate", "spread_temperatures", "timed",
           "tokens_of"]
