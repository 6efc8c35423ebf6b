"""Per-line facts of a text, computed at C speed: where each line starts and ends, where its content begins.

The TODO.md scanner (:mod:`orchestrator_gui.formats.todo_parse`) used to
look at a million-line file one Python string at a time (two seconds, and a
string object per line). It now asks this table instead: every fact here is
computed with numpy over the file's UTF-8 bytes, and only the few lines that
need a closer look (headings, fences, numbered bullets, tabs) are decoded.

Working on bytes is exact for these facts: every character the grammar looks
at (space, tab, CR, LF, ``#``, ``[``, ``-`` …) is ASCII, and in UTF-8 an
ASCII byte never occurs inside a multi-byte character.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np

#: Bounded vectorised steps; the rare line that needs more is finished in Python.
_STEPS = 16
#: Rows per batch when lazy strings are iterated (bounds the temporary Python ints).
_BATCH = 1 << 15

_WS = np.zeros(256, dtype=bool)
_WS[[ord(" "), ord("\t")]] = True


def skip_ws(a: np.ndarray, pos: np.ndarray, end: np.ndarray, raw: bytes,
            tabs: np.ndarray | None = None) -> np.ndarray:
    """First offset at or after each ``pos`` (before its ``end``) that is not a space or tab.

    Parameters
    ----------
    a : ndarray of uint8
        The bytes.
    pos, end : ndarray of int
        Start and end (exclusive) of each run to skip; ``end`` is returned where it is all blanks.
    raw : bytes
        The same bytes, for the rare long runs finished in Python.
    tabs : ndarray of bool, optional
        Set to True where the skipped run holds a tab.
    """
    pos = pos.copy()
    act = np.flatnonzero(pos < end)
    for _ in range(_STEPS):
        if not act.size:
            return pos
        c = a[pos[act]]
        blank = _WS[c]
        if tabs is not None:
            tabs[act[c == 9]] = True
        act = act[blank]
        pos[act] += 1
        act = act[pos[act] < end[act]]
    for i in act.tolist():  # a run longer than _STEPS: rare, finished with bytes.lstrip
        p, e = int(pos[i]), int(end[i])
        seg = raw[p:e]
        skipped = len(seg) - len(seg.lstrip(b" \t"))
        if tabs is not None and b"\t" in seg[:skipped]:
            tabs[i] = True
        pos[i] = p + skipped
    return pos


def rskip_ws(a: np.ndarray, end: np.ndarray, floor: np.ndarray, raw: bytes) -> np.ndarray:
    """Each ``end`` moved back over spaces and tabs, never below its ``floor``."""
    end = end.copy()
    act = np.flatnonzero(end > floor)
    for _ in range(_STEPS):
        if not act.size:
            return end
        act = act[_WS[a[end[act] - 1]]]
        end[act] -= 1
        act = act[end[act] > floor[act]]
    for i in act.tolist():
        f, e = int(floor[i]), int(end[i])
        end[i] = f + len(raw[f:e].rstrip(b" \t"))
    return end


class LineTable:
    """The lines of ``text`` as byte offsets, with the position of each line's first non-blank byte.

    Lines are what ``text.split("\\n")`` gives, without the empty piece after
    a final newline; a ``\\r`` before a ``\\n`` belongs to the terminator (as
    :func:`~orchestrator_gui.formats.fileio.strip_terminator` has it), a
    stray ``\\r`` elsewhere is content.

    Attributes
    ----------
    text : str
        The text (made from ``raw`` when asked for after :meth:`replace_byte`).
    raw : bytes
        Its UTF-8 encoding (lone surrogates pass through).
    ascii : bool
        Whether every character is ASCII (byte offsets are then character offsets).
    count : int
        Number of lines.
    start, end, content_end : ndarray of int32 (int64 past 2 GB)
        Byte offset of each line's start, of its end (terminator included)
        and of the end of its content (terminator excluded).
    first : ndarray of int32 (int64 past 2 GB)
        Offset of the first byte that is not a space or tab (``content_end`` if none).
    tabbed : ndarray of bool
        Whether the leading blanks hold a tab.
    """

    def __init__(self, text: str, raw: bytes | None = None) -> None:
        self._text: str | None = text
        self.raw = raw if raw is not None else text.encode("utf-8", "surrogatepass")
        self.ascii = len(self.raw) == len(text)
        a = self.a = np.frombuffer(self.raw, dtype=np.uint8)
        n = len(self.raw)
        nl = np.flatnonzero(a == 10)
        parts = len(nl) + 1
        count = self.count = parts - 1 if n == 0 or self.raw[-1] == 10 else parts
        # Offsets in 32 bits (files are capped at 20 MB): every per-line array costs half as much.
        off = np.int32 if n < 2**31 - 8 else np.int64
        start = np.empty(parts, dtype=off)
        start[0] = 0
        start[1:] = nl + 1
        end = np.empty(parts, dtype=off)
        end[:-1] = nl + 1
        end[-1] = n
        terminated = min(len(nl), count)
        del nl
        self.start, self.end = start[:count], end[:count]
        cend = self.end.copy()
        cend[:terminated] -= 1  # the "\n"
        body = cend[:terminated]
        cr = np.flatnonzero((body > self.start[:terminated]) & (a[np.maximum(body - 1, 0)] == 13))
        cend[cr] -= 1  # the "\r" of "\r\n"
        self.content_end = cend
        self.tabbed = np.zeros(count, dtype=bool)
        self.first = skip_ws(a, self.start, cend, self.raw, self.tabbed if b"\t" in self.raw else None)

    @property
    def text(self) -> str:
        """The text (decoded again from :attr:`raw` after :meth:`replace_byte`, when first asked for)."""
        if self._text is None:
            self._text = self.raw.decode("utf-8", "surrogatepass")
        return self._text

    def drop_text(self) -> None:
        """Keep the bytes only: :attr:`text` is decoded again if it is asked for (an edit saves 20 MB)."""
        self._text = None

    def first_byte(self) -> np.ndarray:
        """The first non-blank byte of each line (0 where the line is all blanks)."""
        out = np.zeros(self.count, dtype=np.uint8)
        has = np.flatnonzero(self.first < self.content_end)
        out[has] = self.a[self.first[has]]
        return out

    def content(self, i: int) -> str:
        """Line ``i`` (0-based) without its terminator."""
        return self.slice(int(self.start[i]), int(self.content_end[i]))

    def line(self, i: int) -> str:
        """Line ``i`` (0-based) with its terminator."""
        return self.slice(int(self.start[i]), int(self.end[i]))

    def slice(self, a: int, b: int) -> str:
        """The text between byte offsets ``a`` and ``b`` (both at character boundaries)."""
        if self.ascii and self._text is not None:
            return self._text[a:b]
        return self.raw[a:b].decode("utf-8", "surrogatepass")

    def replace_byte(self, offset: int, char: str) -> None:
        """Replace the ASCII character at byte ``offset`` by the ASCII ``char`` (offsets stay valid)."""
        assert len(char) == 1 and char.isascii() and self.raw[offset] < 0x80
        self.raw = b"".join((self.raw[:offset], char.encode("ascii"), self.raw[offset + 1:]))
        # The text is made again only if asked for: a toggle that is saved right away never needs it
        # (a 20 MB file's text would be one more 20 MB copy, and 40 MB more while it is made).
        self.drop_text()
        self.a = np.frombuffer(self.raw, dtype=np.uint8)

    def char_offset(self, byte: int) -> int:
        """The character offset of byte offset ``byte`` (a character boundary)."""
        if self.ascii:
            return byte
        return byte - int(np.count_nonzero((self.a[:byte] & 0xC0) == 0x80))


class LazyStrings(Sequence[str]):
    """Read-only strings made on access from byte spans of a :class:`LineTable` (a list without the objects).

    A million titles held as Python strings cost some 100 MB; as two offset
    arrays they cost 16 MB, and each string is made when it is read.
    """

    def __init__(self, table: LineTable, start: np.ndarray, end: np.ndarray) -> None:
        self.table = table
        self.start = start
        self.end = end

    def __len__(self) -> int:
        return len(self.start)

    @overload
    def __getitem__(self, k: int) -> str: ...

    @overload
    def __getitem__(self, k: slice) -> list[str]: ...

    def __getitem__(self, k: int | slice) -> str | list[str]:
        if isinstance(k, slice):
            lo, hi, step = k.indices(len(self))
            if step != 1:
                return [self[i] for i in range(lo, hi, step)]
            return list(self._cut(self.start[lo:hi].tolist(), self.end[lo:hi].tolist()))
        n = len(self.start)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError("index out of range")
        return self.table.slice(int(self.start[k]), int(self.end[k]))

    def __iter__(self) -> Iterator[str]:
        for lo in range(0, len(self.start), _BATCH):
            yield from self._cut(self.start[lo:lo + _BATCH].tolist(), self.end[lo:lo + _BATCH].tolist())

    def _cut(self, starts: list[int], ends: list[int]) -> Iterator[str]:
        """The strings between ``starts`` and ``ends`` (slices made by ``map``, at C speed)."""
        t = self.table
        if t.ascii and t._text is not None:
            return map(t._text.__getitem__, map(slice, starts, ends))
        raw = t.raw
        return (raw[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts, ends, strict=True))

    def spans(self) -> tuple[bytes, np.ndarray, np.ndarray]:
        """The UTF-8 bytes the strings are cut from, and each string's byte span in them."""
        return self.table.raw, self.start, self.end

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (LazyStrings, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyStrings({len(self)} strings)"
