"""Inline Markdown pairs (emphasis, strike, links) found in linear time.

The regular expressions that describe these spans, such as
``\\*\\*(?=\\S)(.+?)(?<=\\S)\\*\\*``, scan to the end of the text from every
opening marker that has no closing one, so a title of 80 000 characters made
of ``**a `` took 16 s (found by ``benchmarks/fuzz.py``). The classes here give
the same matches as those expressions (``tests/formats/test_markup_spans.py``
compares them on random text) from sorted lists of marker positions: each
opening looks up the first closing after it with :func:`bisect.bisect_left`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["LinkPattern", "PairPattern", "Span"]


@dataclass(frozen=True, slots=True)
class Span:
    """One match, shaped like :class:`re.Match` for the two groups callers read.

    Group 0 is the whole span with its markers, group 1 the text inside.
    """

    text: str
    outer: tuple[int, int]
    inner: tuple[int, int]

    def start(self, group: int = 0) -> int:
        """Where group 0 (the span) or 1 (its content) starts."""
        return (self.outer, self.inner)[group][0]

    def end(self, group: int = 0) -> int:
        """Where group 0 or 1 ends."""
        return (self.outer, self.inner)[group][1]

    def group(self, group: int = 0) -> str:
        """The text of group 0 or 1."""
        a, b = (self.outer, self.inner)[group]
        return self.text[a:b]


def _positions(pattern: re.Pattern[str], text: str) -> list[int]:
    # The patterns are zero-width lookarounds, so finditer reports every position, overlapping ones included.
    return [m.start() for m in pattern.finditer(text)]


class _Linear(ABC):
    """What both pattern kinds share: :meth:`sub` over :meth:`finditer`."""

    @abstractmethod
    def finditer(self, text: str) -> Iterator[Span]:
        """The spans in ``text``, left to right, none overlapping."""

    def sub(self, repl: Callable[[Span], str], text: str) -> str:
        """``text`` with every span replaced by ``repl(span)``, like :meth:`re.Pattern.sub`."""
        out: list[str] = []
        pos = 0
        for span in self.finditer(text):
            out += [text[pos:span.start()], repl(span)]
            pos = span.end()
        out.append(text[pos:])
        return "".join(out)


class PairPattern(_Linear):
    """``OPEN(.+?)CLOSE``: a marker pair around one line of text, lazily matched.

    Parameters
    ----------
    opening, closing : str
        Regular expressions for the opening and the closing marker, with
        their lookarounds (``(?<![\\w])__(?=\\S)``). Each must match exactly
        ``len(marker)`` characters.
    marker : str
        The marker (``**``).

    Notes
    -----
    The regular expression ``OPEN(.+?)CLOSE`` tried at an opening ``p``
    takes the first closing ``q`` with at least one character between, and
    no line break in between (``.`` stops at one). Matching resumes after the
    span; an opening without a closing is skipped.
    """

    def __init__(self, opening: str, closing: str, marker: str) -> None:
        self.marker = marker
        self.pattern = re.compile(f"{opening}(.+?){closing}")  # what this class matches, as a regex
        self._open = re.compile(f"(?={opening})")
        self._close = re.compile(f"(?={closing})")

    def finditer(self, text: str) -> Iterator[Span]:
        """The spans ``self.pattern.finditer(text)`` would find, left to right."""
        if self.marker not in text:
            return
        width = len(self.marker)
        closes = _positions(self._close, text)
        breaks = [m.start() for m in re.finditer("\n", text)]
        pos = 0
        for p in _positions(self._open, text):
            if p < pos:
                continue
            j = bisect_left(closes, p + width + 1)
            if j == len(closes):
                return  # later openings have no closing either
            q = closes[j]
            k = bisect_left(breaks, p + width)
            if k < len(breaks) and breaks[k] < q:
                continue
            yield Span(text, (p, q + width), (p + width, q))
            pos = q + width


class LinkPattern(_Linear):
    r"""``!?\[([^\]]*)\]\([^)]*\)``: a link or image, its text as group 1.

    From a ``[`` the text runs to the first ``]``, which must be followed by
    ``(``; the target runs to the first ``)`` after it.
    """

    pattern = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")

    def finditer(self, text: str) -> Iterator[Span]:
        """The spans ``self.pattern.finditer(text)`` would find, left to right."""
        if "[" not in text:
            return
        ends = [m.start() for m in re.finditer(r"\]", text)]
        shuts = [m.start() for m in re.finditer(r"\)", text)]
        pos = 0
        for p in (m.start() for m in re.finditer(r"\[", text)):
            if p < pos:
                continue
            j = bisect_left(ends, p + 1)
            if j == len(ends):
                return
            r = ends[j]
            if text[r + 1:r + 2] != "(":
                continue
            k = bisect_left(shuts, r + 2)
            if k == len(shuts):
                return  # no ")" after this "](" means none after any later one either
            start = p - 1 if p - 1 >= pos and text[p - 1] == "!" else p
            yield Span(text, (start, shuts[k] + 1), (p + 1, r))
            pos = shuts[k] + 1
