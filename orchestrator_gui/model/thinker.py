"""Thinkers: where the content of the Graph-of-Thoughts transforms comes from.

A thinker turns texts into texts (and scores).  It is a small protocol,
:class:`Thinker`, so the execution engine can plug in command-line or HTTP
language-model thinkers later; this module ships :class:`OfflineThinker`, a
deterministic one that needs no network and still does something useful.

Text convention
---------------
A node is handed to a thinker as one text, :func:`node_text`: its title on the
first line, its content below.  A text a thinker returns becomes a node's
title and content by :func:`split_text` (first line = title; a first line too
long for a title is clipped in the title and kept whole in the content, so
nothing is lost).

The offline thinker
-------------------
``generate(text, context, n)``
    Splits the thought into its parts, first of these that yields at least two:
    the top-level bullet items of the body (``- **Label**: rest`` becomes
    ``"Label: rest"``; a checkbox ``[ ]`` is dropped; nested lines stay with
    their item), else the sentences of the body (or of the title when there is
    no body).  Otherwise, or when every part already exists
    (``context.existing``), it asks the standard follow-up questions: what is
    the goal, what blocks it, how do we verify it, what is the next step.
    Returns at most ``n`` texts, never one that already exists.
``refine(text, feedback, context)``
    Applies the feedback, one command per line (blank lines ignored; the
    command words are case-insensitive):

    ==========================  ===============================================
    ``rename to X``             the title becomes ``X`` (also ``rename: X``,
                                ``title: X``)
    ``add: Y``                  appends the line ``Y`` to the content (as
                                ``- Y`` when the content is a bullet list)
    ``remove: Z``               removes every content line containing ``Z``
                                (case- and whitespace-insensitive); an error
                                when none does
    ``replace: A => B``         replaces ``A`` by ``B`` in title and content
                                (``->`` works too); an error when ``A`` is absent
    anything else               appended to the content as
                                ``Revision note: <the line>``
    ==========================  ===============================================
``aggregate(texts, context)``
    Title: the distinct titles joined with ``" + "``.  Content: every other
    line of every input, in order, de-duplicated case- and
    whitespace-insensitively (the first spelling wins); lines equal to one of
    the titles are dropped as already said.
``score(items, context)``
    ``0.4 * attention + 0.3 * recency + 0.3 * completion``, each in ``[0, 1]``,
    from the arrays in the context: attention divided by
    ``context.attention_scale`` (the graph's largest), recency
    ``0.5 ** (age / half_life)`` of the last update, completion as given (1 for
    a done node, the share of done children otherwise).  Vectorised.

The built-in :class:`OfflineThinker` is pure: no I/O, no randomness. Every
thinker sees no more of the graph than the :class:`ThinkerContext` carries;
the command and HTTP backends (``orchestrator_gui.engine.thinkers``) do I/O
by design and run off the UI thread.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

T = TypeVar("T")

#: Longest title a text's first line may give; longer ones are clipped with "…".
TITLE_CHARS = 120
#: Default half-life of the recency part of a score (seven days, in seconds).
RECENCY_HALF_LIFE = 7 * 24 * 3600.0
#: Weights of attention, recency and completion in the offline score.
SCORE_WEIGHTS = (0.4, 0.3, 0.3)

_BULLET = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,3}[.)])[ \t]+(?P<text>.*)$")
_CHECKBOX = re.compile(r"^\[[^\]]?\][ \t]*")
_LABEL = re.compile(r"^\*\*(?P<label>[^*]+?)\*\*[ \t]*:?[ \t]*(?P<rest>.*)$")
_LABEL_COLON_INSIDE = re.compile(r"^\*\*(?P<label>[^*]+?):\*\*[ \t]*(?P<rest>.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "Mr.", "Dr.", "No.")
_RENAME = re.compile(r"^(?:rename\s+to\s*:?|rename\s*:|title\s*:)\s*(?P<arg>.+)$", re.IGNORECASE)
_ADD = re.compile(r"^add\s*:\s*(?P<arg>.+)$", re.IGNORECASE)
_REMOVE = re.compile(r"^remove\s*:\s*(?P<arg>.+)$", re.IGNORECASE)
_REPLACE = re.compile(r"^replace\s*:\s*(?P<old>.+?)\s*(?:=>|->)\s*(?P<new>.*)$", re.IGNORECASE)

#: The follow-up questions asked when a thought cannot be split; ``{s}`` is its title.
FOLLOW_UP_QUESTIONS = (
    "What is the goal of {s}?",
    "What blocks {s}?",
    "How do we verify {s}?",
    "What is the next step for {s}?",
)


class ThinkerError(ValueError):
    """A thinker cannot do what was asked (for example ``remove:`` matched nothing)."""


@dataclass(frozen=True)
class ThinkerContext:
    """What a thinker may know besides the texts themselves.

    Attributes
    ----------
    node_ids : tuple of str
        Ids of the nodes the texts come from (aligned with the items of ``score``).
    existing : tuple of str
        Texts that exist already (for ``generate``: the node's current
        children), so a thinker does not propose them again.
    neighbours : tuple of str
        Titles of nearby nodes (parent, siblings), for thinkers that want them.
    now : float
        Unix seconds the recency of a score is measured against.
    attention, updated, completion : numpy.ndarray or None
        Per item (aligned with ``node_ids``): attention, last update time
        (Unix seconds) and completion in ``[0, 1]``; read from the graph's
        arrays by the transform.
    attention_scale : float
        The largest attention in the graph (attention is divided by it).
    half_life : float
        Recency half-life in seconds.
    """

    node_ids: tuple[str, ...] = ()
    existing: tuple[str, ...] = ()
    neighbours: tuple[str, ...] = ()
    now: float = 0.0
    attention: np.ndarray | None = None
    updated: np.ndarray | None = None
    completion: np.ndarray | None = None
    attention_scale: float = 0.0
    half_life: float = RECENCY_HALF_LIFE
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Thinker(Protocol):
    """The content source of the transforms.

    Implementations see only their arguments (never the graph itself); they
    may do I/O (a local program, an HTTP server) and are then called off the
    UI thread by the engine.

    A method may return its value directly or wrapped in a :class:`ThinkerResult`
    that also reports the tokens it used; :func:`call` measures time either way.
    """

    name: str

    def generate(self, text: str, context: ThinkerContext, n: int) -> list[str]:
        """Up to ``n`` new thoughts derived from ``text``."""
        ...

    def refine(self, text: str, feedback: str, context: ThinkerContext) -> str:
        """``text`` improved according to ``feedback``."""
        ...

    def aggregate(self, texts: Sequence[str], context: ThinkerContext) -> str:
        """One text combining ``texts``."""
        ...

    def score(self, items: Sequence[str], context: ThinkerContext) -> list[float]:
        """One score per item, higher is better."""
        ...


@dataclass(frozen=True)
class ThinkerResult(Generic[T]):
    """A thinker's answer with its cost, so the engine can account for it.

    Attributes
    ----------
    value : T
        What the thinker returned.
    seconds : float
        Wall time of the call.
    tokens : int or None
        Tokens used (``None`` for thinkers without a language model).
    thinker : str
        The thinker's name.
    """

    value: T
    seconds: float = 0.0
    tokens: int | None = None
    thinker: str = ""

    def cost(self) -> dict[str, Any]:
        """``{"thinker", "seconds", "tokens"}`` for a transaction's params."""
        return {"thinker": self.thinker, "seconds": round(self.seconds, 6), "tokens": self.tokens}


def call(thinker: Thinker, method: str, *args: Any) -> ThinkerResult[Any]:
    """Call ``thinker.<method>(*args)`` and return its value with the time it took.

    A thinker that itself returns a :class:`ThinkerResult` keeps its token count.
    """
    fn: Callable[..., Any] = getattr(thinker, method)
    start = time.perf_counter()
    value = fn(*args)
    seconds = time.perf_counter() - start
    name = getattr(thinker, "name", type(thinker).__name__)
    if isinstance(value, ThinkerResult):
        return ThinkerResult(value.value, seconds, value.tokens, name)
    return ThinkerResult(value, seconds, None, name)


# -- the text convention ---------------------------------------------------------------------
def node_text(title: str, content: str = "") -> str:
    """The text of a node for a thinker: title line, then content (inverse of :func:`split_text`)."""
    if title.endswith("…") and content.startswith(title[:-1]):
        return content  # the title was clipped from the content's first line
    return f"{title}\n{content}" if content else title


def split_text(text: str) -> tuple[str, str]:
    """Split a thinker's text into ``(title, content)``: the first non-blank line is the title.

    A first line longer than :data:`TITLE_CHARS` is clipped in the title and
    kept whole as the content's first line.
    """
    lines = text.strip("\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return "", ""
    first = lines[0].strip()
    rest = "\n".join(lines[1:]).strip("\n")
    if len(first) <= TITLE_CHARS:
        return first, rest
    title = first[: TITLE_CHARS - 1].rstrip() + "…"
    return title, f"{first}\n{rest}" if rest else first


def normalise(line: str) -> str:
    """Key for de-duplication: case-folded, whitespace collapsed, bullet marker dropped."""
    m = _BULLET.match(line)
    text = m.group("text") if m else line
    return " ".join(text.split()).casefold()


# -- splitting -------------------------------------------------------------------------------
def bullet_items(text: str) -> list[str]:
    """The top-level bullet items of ``text``, each with its nested lines, markers and emphasis removed."""
    items: list[list[str]] = []
    top: int | None = None
    open_item = False
    for line in text.split("\n"):
        m = _BULLET.match(line)
        if m:
            width = len(m.group("indent").expandtabs(4))
            if top is None or width <= top:
                top = width if top is None else min(top, width)
                items.append([_item_text(m.group("text"))])
                open_item = True
                continue
        if not line.strip():
            continue  # blank lines between details do not end an item
        if open_item and (m or line[:1] in " \t"):
            items[-1].append(line.strip())  # nested bullet or indented continuation
        else:
            open_item = False  # a paragraph: it belongs to no item
    return ["\n".join(parts) for parts in items if parts[0]]


def _item_text(text: str) -> str:
    text = _CHECKBOX.sub("", text.strip())
    m = _LABEL_COLON_INSIDE.match(text) or _LABEL.match(text)
    if m:
        label, rest = m.group("label").strip(), m.group("rest").strip()
        return f"{label}: {rest}" if rest else label
    return text


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (lines joined), not split after common abbreviations."""
    flat = " ".join(text.split())
    if not flat:
        return []
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(flat):
        piece = flat[start : m.start()].rstrip()
        if any(piece.endswith(a) for a in _ABBREVIATIONS):
            continue
        out.append(flat[start : m.end()].strip())
        start = m.end()
    out.append(flat[start:].strip())
    return [s for s in out if s]


def follow_up_questions(title: str) -> list[str]:
    """The standard follow-up questions about ``title``."""
    subject = " ".join(title.split()).rstrip(".?!:;") or "this"
    if len(subject) > 80:
        subject = subject[:79].rstrip() + "…"
    return [q.format(s=subject) for q in FOLLOW_UP_QUESTIONS]


# -- the offline thinker -----------------------------------------------------------------------
class OfflineThinker:
    """Deterministic thinker without a language model (see the module docstring for its rules).

    Parameters
    ----------
    name : str
        Recorded as the actor of the transactions it feeds.
    weights : tuple of float
        Weights of attention, recency and completion in :meth:`score`.
    """

    def __init__(self, name: str = "offline", weights: tuple[float, float, float] = SCORE_WEIGHTS) -> None:
        self.name = name
        self.weights = weights

    def generate(self, text: str, context: ThinkerContext, n: int) -> list[str]:
        """Split ``text`` into at most ``n`` new parts, or ask follow-up questions."""
        if n < 1:
            raise ThinkerError("n must be at least 1")
        title, body = split_text(text)
        seen = {normalise(t) for t in context.existing}
        parts = bullet_items(body)
        if len(parts) < 2:
            parts = sentences(body or title)
        fresh = _unique(p for p in parts if normalise(p) not in seen) if len(parts) >= 2 else []
        if not fresh:
            fresh = [q for q in follow_up_questions(title) if normalise(q) not in seen]
        return fresh[:n]

    def refine(self, text: str, feedback: str, context: ThinkerContext) -> str:
        """Apply the feedback commands to ``text``."""
        title, content = split_text(text)
        lines = content.split("\n") if content else []
        commands = [c.strip() for c in feedback.split("\n") if c.strip()]
        if not commands:
            raise ThinkerError("the feedback is empty")
        for cmd in commands:
            if m := _RENAME.match(cmd):
                title = m.group("arg").strip()
            elif m := _ADD.match(cmd):
                lines.append(("- " if _is_bullet_list(lines) else "") + m.group("arg").strip())
            elif m := _REMOVE.match(cmd):
                needle = " ".join(m.group("arg").split()).casefold()
                kept = [ln for ln in lines if needle not in " ".join(ln.split()).casefold()]
                if len(kept) == len(lines):
                    raise ThinkerError(f"remove: no line contains {m.group('arg').strip()!r}")
                lines = kept
            elif m := _REPLACE.match(cmd):
                old, new = m.group("old"), m.group("new")
                if old not in title and not any(old in ln for ln in lines):
                    raise ThinkerError(f"replace: {old!r} does not occur")
                title = title.replace(old, new)
                lines = [ln.replace(old, new) for ln in lines]
            else:
                lines.append(f"Revision note: {cmd}")
        if not title.strip():
            raise ThinkerError("the refined title would be empty")
        content = "\n".join(lines).strip("\n")
        return f"{title}\n{content}" if content else title

    def aggregate(self, texts: Sequence[str], context: ThinkerContext) -> str:
        """Merge ``texts``: joined distinct titles, then their other lines de-duplicated in order."""
        if not texts:
            raise ThinkerError("nothing to aggregate")
        split = [split_text(t) for t in texts]
        titles = _unique(t for t, _ in split if t)
        title_keys = {normalise(t) for t in titles}
        body = _unique(
            (ln.rstrip() for _, c in split for ln in c.split("\n") if ln.strip() and normalise(ln) not in title_keys),
        )
        head = " + ".join(titles) or "Aggregate"
        return head + ("\n" + "\n".join(body) if body else "")

    def score(self, items: Sequence[str], context: ThinkerContext) -> list[float]:
        """``w_a * attention + w_r * recency + w_c * completion`` per item (see the module docstring)."""
        k = len(items)
        zeros = np.zeros(k)
        att = zeros if context.attention is None else np.asarray(context.attention, dtype=np.float64)
        upd = None if context.updated is None else np.asarray(context.updated, dtype=np.float64)
        comp = zeros if context.completion is None else np.clip(np.asarray(context.completion, np.float64), 0, 1)
        if any(len(a) != k for a in (att, comp)) or (upd is not None and len(upd) != k):
            raise ThinkerError("context arrays must have one value per item")
        scale = context.attention_scale if context.attention_scale > 0 else 0.0
        a = np.clip(att / scale, 0.0, 1.0) if scale else zeros
        if upd is None:
            rec = zeros
        else:
            age = np.maximum(context.now - upd, 0.0)
            rec = np.power(0.5, age / context.half_life)
        wa, wr, wc = self.weights
        return (wa * a + wr * rec + wc * comp).tolist()


def _is_bullet_list(lines: list[str]) -> bool:
    filled = [ln for ln in lines if ln.strip()]
    return bool(filled) and sum(bool(_BULLET.match(ln)) for ln in filled) * 2 > len(filled)


def _unique(items: Any) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for it in items:
        key = normalise(it)
        if key and key not in seen:
            seen.add(key)
            out.append(it)
    return out
