"""Prompts for chat-model thinkers, and robust parsing of their answers.

Chat models are asked for a fixed format (numbered lines, a title line, one
number per line) and their answers are read leniently, because small local
models decorate them: ``<think>…</think>`` blocks and code fences are
dropped, ``1.``, ``1)``, ``1:``, ``-`` and ``*`` markers are accepted,
``**bold**`` is unwrapped, a preamble such as "Here are three ideas:" is
skipped. What cannot be read raises a :class:`BackendError` that quotes the
answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from orchestrator_gui.engine.thinkers.base import BackendError, snippet
from orchestrator_gui.model.thinker import ThinkerContext, normalise

SYSTEM = ("You help a person develop a graph of thoughts about their work: goals, plans, tasks, questions. "
          "Be concrete and brief. Follow the requested answer format exactly and add no commentary.")

#: Longest answer text the parsers read. A chat answer of a few thoughts is a few KB; the lenient
#: parsing below costs 0.1-0.3 microseconds a character, so a padded answer of megabytes (the body
#: cap, ``max_response_bytes``, allows up to 1 GiB) would hold a transform for seconds.
MAX_ANSWER_CHARS = 1_000_000

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^\s*```")
_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:\d{1,3}\s*[.):\]]|[-*•+])[ \t]+(?P<text>\S.*)$")
# "N." needs a blank or the end after it, so a bare "0.8" is a number, not item 0.
_NUMBERED = re.compile(r"^[ \t]*(?P<index>\d{1,3})\s*[.):\]](?=\s|$)[ \t]*(?P<rest>.*)$")
_BOLD = re.compile(r"(\*\*|__)(.+?)\1")
_NUMBER = re.compile(r"(?<![\w.])(?P<value>[-+]?\d+(?:\.\d+)?|[-+]?\.\d+)(?P<unit>\s*%|\s*/\s*(?P<den>\d+(?:\.\d+)?))?")


def _user(*parts: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(p for p in parts if p)}]


def _block(label: str, text: str) -> str:
    return f"{label}:\n<<<\n{text.strip()}\n>>>"


def _around(context: ThinkerContext) -> str:
    if not context.neighbours:
        return ""
    return "Nearby thoughts, for context:\n" + "\n".join(f"- {t}" for t in context.neighbours[:12])


def generate_messages(text: str, context: ThinkerContext, n: int) -> list[dict[str, str]]:
    """Ask for ``n`` new thoughts derived from ``text``, as numbered lines."""
    existing = ""
    if context.existing:
        existing = "Already there (do not repeat these):\n" + "\n".join(
            f"- {t.splitlines()[0] if t else t}" for t in context.existing)
    return _user(
        _block("Thought (its first line is the title)", text),
        _around(context),
        existing,
        f"Propose {n} new, distinct thoughts that develop it: sub-steps, missing details, risks or open "
        f"questions. Answer with exactly {n} numbered lines, '1. ...' to '{n}. ...', one short thought per "
        "line, and nothing else.",
    )


def refine_messages(text: str, feedback: str, context: ThinkerContext) -> list[dict[str, str]]:
    """Ask for ``text`` rewritten according to ``feedback``."""
    return _user(
        _block("Thought (its first line is the title)", text),
        _around(context),
        _block("Feedback to apply", feedback),
        "Rewrite the thought applying the feedback. Answer with the revised thought only: its title on the "
        "first line, its details on the following lines.",
    )


def aggregate_messages(texts: Sequence[str], context: ThinkerContext) -> list[dict[str, str]]:
    """Ask for one thought that merges ``texts``."""
    blocks = [_block(f"Thought {i}", t) for i, t in enumerate(texts, 1)]
    return _user(
        *blocks,
        _around(context),
        "Merge these thoughts into one, keeping every distinct point once. Answer with the merged thought "
        "only: a title on the first line, the details on the following lines.",
    )


def score_messages(items: Sequence[str], context: ThinkerContext) -> list[dict[str, str]]:
    """Ask for one score in [0, 1] per item, as numbered lines."""
    about = context.extra.get("about") if context.extra else None
    goal = ""
    if isinstance(about, str) and about.strip():
        goal = _block("They were proposed to develop this thought", about)
    blocks = [_block(f"Candidate {i}", t) for i, t in enumerate(items, 1)]
    k = len(items)
    return _user(
        goal,
        *blocks,
        f"Rate each candidate for how useful, correct and specific it is, from 0 (useless) to 1 (excellent). "
        f"Answer with exactly {k} numbered lines, '1. SCORE' to '{k}. SCORE', where SCORE is a decimal "
        "number between 0 and 1, and nothing else.",
    )


def _check_size(name: str, content: str) -> None:
    if len(content) > MAX_ANSWER_CHARS:
        raise BackendError(f"thinker {name!r}: the answer has {len(content):,} characters, more than the "
                           f"{MAX_ANSWER_CHARS:,} read from a thought answer; it was dropped {snippet(content[:200])}")


def clean(content: str) -> str:
    """``content`` without ``<think>`` blocks and code-fence lines."""
    content = _THINK.sub("", content)
    return "\n".join(ln for ln in content.split("\n") if not _FENCE.match(ln))


def _item_text(text: str) -> str:
    text = _BOLD.sub(r"\2", text.strip())
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        text = text[1:-1].strip()
    return text


def parse_lines(name: str, content: str, n: int, existing: Sequence[str] = ()) -> list[str]:
    """The thoughts of a numbered-lines answer: at most ``n``, none repeated or already in ``existing``
    (compared by their first lines, case- and whitespace-insensitively).

    Indented lines under an item stay with it (as further lines of its text).
    Without any numbered or bulleted line, every non-blank line that does not
    end with ``:`` (a preamble) is an item. Items beyond ``n`` are dropped.

    Raises
    ------
    BackendError
        Nothing usable in the answer, or more than :data:`MAX_ANSWER_CHARS` of it.
    """
    _check_size(name, content)
    lines = clean(content).split("\n")
    items: list[list[str]] = []
    top: int | None = None
    for line in lines:
        m = _ITEM.match(line)
        if m:
            width = len(m.group("indent").expandtabs(4))
            if top is None or width <= top:
                top = width if top is None else min(top, width)
                items.append([_item_text(m.group("text"))])
                continue
        if items and line.strip() and line[:1] in " \t":
            items[-1].append(_item_text(line))  # a detail of the item above
    if not items:
        items = [[_item_text(ln)] for ln in lines if ln.strip() and not ln.rstrip().endswith(":")]
    # Compared by first line (the title a thought would get): a repeat with new details is still a repeat.
    seen = {normalise(t.split("\n", 1)[0]) for t in existing}
    out: list[str] = []
    for parts in items:
        text = "\n".join(p for p in parts if p)
        key = normalise(parts[0])
        if key and key not in seen:
            seen.add(key)
            out.append(text)
    if not out:
        raise BackendError(f"thinker {name!r}: no new thoughts in the answer {snippet(content)}")
    return out[:n]


def parse_text(name: str, op: str, content: str) -> str:
    """A one-thought answer (refine, aggregate), stripped; a :class:`BackendError` when empty or too long."""
    _check_size(name, content)
    text = clean(content).strip()
    if not text:
        raise BackendError(f"thinker {name!r}: {op} answered with no text {snippet(content)}")
    return text


def _score_of(rest: str) -> float | None:
    m = _NUMBER.search(rest)
    if m is None:
        return None
    value = float(m.group("value"))
    if m.group("den"):
        den = float(m.group("den"))
        value = value / den if den else value
    elif m.group("unit"):
        value /= 100.0
    return value


def parse_scores(name: str, content: str, k: int) -> list[float]:
    """``k`` scores from a numbered-lines answer, each clamped to ``[0, 1]``.

    Each line gives the first number after its ``N.`` marker (``80%`` reads
    0.8 and ``8/10`` reads 0.8). When the markers are exactly ``1..k`` in any
    order, they place the scores; otherwise lines count in order.

    Raises
    ------
    BackendError
        Not exactly ``k`` numbers in the answer, or more than :data:`MAX_ANSWER_CHARS` of it.
    """
    _check_size(name, content)
    indexed: list[tuple[int | None, float]] = []
    for line in clean(content).split("\n"):
        if not line.strip():
            continue
        m = _NUMBERED.match(line)
        index, rest = (int(m.group("index")), m.group("rest")) if m else (None, line)
        value = _score_of(rest)
        if value is not None:
            indexed.append((index, value))
    if len(indexed) != k:
        raise BackendError(f"thinker {name!r}: expected {k} score{'s' * (k != 1)}, found {len(indexed)} in "
                           f"the answer {snippet(content)}")
    if sorted(i for i, _ in indexed if i is not None) == list(range(1, k + 1)):
        ordered: list[Any] = [None] * k
        for i, v in indexed:
            ordered[i - 1] = v  # type: ignore[index]
        values = ordered
    else:
        values = [v for _, v in indexed]
    return [min(max(float(v), 0.0), 1.0) for v in values]


__all__ = [
    "MAX_ANSWER_CHARS",
    "SYSTEM",
    "aggregate_messages",
    "clean",
    "generate_messages",
    "parse_lines",
    "parse_scores",
    "parse_text",
    "refine_messages",
    "score_messages",
]
