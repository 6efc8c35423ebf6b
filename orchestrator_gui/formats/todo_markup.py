"""Plain-text edits of a Markdown title that keep the inline markup the edit did not touch.

A TODO title such as ``**TW-012** Parser rejects `\\r` files`` is shown
without its Markdown (``TW-012 Parser rejects \\r files``), so a person or
script that edits it types plain text. :func:`edit_title` maps such an edit
back onto the marked-up title: the plain rendering is diffed against the new
text word by word (:mod:`difflib` on tokens) and only the changed words are
spliced into the raw title, so ``**TW-012**`` stays bold.

Rules, in order:

* the new text is taken **as given** when the caller asks for it (``--raw``),
  when it carries markup of its own (:func:`has_markup`: its plain rendering
  differs from it), or when either text is longer than :data:`MAX_MERGE_CHARS`;
* a markup span (emphasis, strike, code, link, image) keeps its markers while
  one of its two edge words is unchanged: a word replaced at its other edge
  stays inside it (``**TW-012**`` edited to ``TW-013`` stays bold), words
  typed next to it go outside it, and a span whose edge words were both
  replaced, or one deleted, loses its markers (``\\r`` in code replaced by
  ``CRLF`` gives plain ``CRLF``);
* markup without content (a stray ``**``, an image with an empty alt text, a
  leading ``>``) is kept when an unchanged character touches it;
* the result always renders to exactly the new text; if splicing could not
  achieve that, the new text is taken as given.

The plain rendering is the same as the one the views show
(:func:`orchestrator_gui.model.display.strip_markdown`, which this layer may
not import; a test holds the two equal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from orchestrator_gui.formats.markup_spans import LinkPattern, PairPattern

__all__ = ["MAX_MERGE_CHARS", "Rendering", "edit_title", "has_markup", "merge_plain_edit", "plain_text", "render"]

#: Longer titles are not merged (the word diff is quadratic at worst); the text is used as given.
MAX_MERGE_CHARS = 4000

# Markdown, in the order it is undone: links keep their text, emphasis and code lose their markers.
# (model/display.py's strip_markdown, what every view shows, uses these same patterns.)
LINK = LinkPattern()
PAIRS = (
    PairPattern(r"\*\*(?=\S)", r"(?<=\S)\*\*", "**"),
    PairPattern(r"(?<![\w])__(?=\S)", r"(?<=\S)__(?![\w])", "__"),
    PairPattern(r"~~(?=\S)", r"(?<=\S)~~", "~~"),
    # Single markers only around a word group: ``2 * 3 * 4`` and ``snake_case_name`` stay.
    PairPattern(r"(?<![\w*])\*(?=[^\s*])", r"(?<=[^\s*])\*(?![\w*])", "*"),
    PairPattern(r"(?<![\w_])_(?=[^\s_])", r"(?<=[^\s_])_(?![\w_])", "_"),
)
# Markers left unpaired (a title cut in the middle of ``**bold**``) are dropped too. A run of
# underscores or backticks is matched from its first character only: from the middle of a run the
# match would end where the run's does, and retrying it there made a long run quadratic.
STRAY = re.compile(r"\*\*+|(?<![\w])__+|(?<!_)__+(?![\w])|`+")
CODE = re.compile(r"(?<!`)`+([^`]+)`+")
LEAD = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+(?:\[[ xX-]\]\s+)?|\[[ xX-]\]\s+)")
_LINK, _PAIRS, _STRAY, _CODE, _LEAD = LINK, PAIRS, STRAY, CODE, LEAD
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")

_OPEN, _CLOSE, _POINT = "open", "close", "point"


@dataclass(frozen=True)
class Rendering:
    """A raw title split into what is shown and the markup around it.

    Attributes
    ----------
    raw : str
        The title as written.
    plain : str
        What is shown: ``raw`` without its inline Markdown.
    content : tuple of int
        ``content[k]`` is the index in ``raw`` of ``plain[k]``.
    marks : tuple of (int, int, str)
        ``(raw index, span number, role)`` of every markup character, in raw
        order; ``role`` is ``"open"``, ``"close"`` or ``"point"`` (markup
        without content of its own).
    """

    raw: str
    plain: str
    content: tuple[int, ...]
    marks: tuple[tuple[int, int, str], ...]


Chars = list[tuple[str, int]]  # visible characters with their index in the raw text


class _Marks:
    """Collects markup characters, numbering spans as they are found."""

    def __init__(self) -> None:
        self.out: list[tuple[int, int, str]] = []
        self.spans = 0

    def span(self, opening: Chars, closing: Chars) -> None:
        # A span with nothing inside (``![](x.png)``) is kept or dropped as one point.
        self.spans += 1
        self.out += [(i, self.spans, _OPEN) for _, i in opening]
        self.out += [(i, self.spans, _CLOSE) for _, i in closing]

    def point(self, chars: Chars) -> None:
        self.spans += 1
        self.out += [(i, self.spans, _POINT) for _, i in chars]


def _unwrap(chars: Chars, pattern: re.Pattern[str] | LinkPattern | PairPattern, marks: _Marks, *,
            stray: bool = False) -> Chars:
    """``pattern.sub`` keeping group 1 (or nothing, for ``stray``) on indexed characters."""
    text = "".join(c for c, _ in chars)
    out: Chars = []
    pos = 0
    for m in pattern.finditer(text):
        out += chars[pos:m.start()]
        if stray:
            marks.point(chars[m.start():m.end()])
        else:
            inner = chars[m.start(1):m.end(1)]
            opening, closing = chars[m.start():m.start(1)], chars[m.end(1):m.end()]
            if inner:
                marks.span(opening, closing)
            else:
                marks.point(opening + closing)
            out += inner
        pos = m.end()
    out += chars[pos:]
    return out


def render(raw: str) -> Rendering:
    """Split ``raw`` into its plain rendering and its markup characters.

    Parameters
    ----------
    raw : str
        One title (any length; callers limit what they merge).

    Returns
    -------
    Rendering
    """
    marks = _Marks()
    chars: Chars = [(c, i) for i, c in enumerate(raw)]
    lead = _LEAD.match(raw)
    if lead:
        marks.point(chars[:lead.end()])
        chars = chars[lead.end():]
    # Code spans keep their content verbatim; only the text between them is unmarked.
    visible: Chars = []
    text = "".join(c for c, _ in chars)
    pos = 0
    pieces: list[tuple[Chars, bool]] = []
    for m in _CODE.finditer(text):
        pieces.append((chars[pos:m.start()], False))
        marks.span(chars[m.start():m.start(1)], chars[m.end(1):m.end()])
        pieces.append((chars[m.start(1):m.end(1)], True))
        pos = m.end()
    pieces.append((chars[pos:], False))
    for piece, code in pieces:
        if not code:
            piece = _unwrap(piece, _LINK, marks)
            for pat in _PAIRS:
                piece = _unwrap(piece, pat, marks)
            piece = _unwrap(piece, _STRAY, marks, stray=True)
        visible += piece
    return Rendering(raw=raw, plain="".join(c for c, _ in visible), content=tuple(i for _, i in visible),
                     marks=tuple(sorted(marks.out)))


def plain_text(raw: str) -> str:
    """``raw`` as it is shown, without inline Markdown (see :func:`render`)."""
    return render(raw).plain


def has_markup(text: str) -> bool:
    """Whether ``text`` carries inline Markdown of its own (its plain rendering differs from it)."""
    return plain_text(text) != text


def _char_blocks(old: str, new: str) -> list[tuple[str, int, int, int, int]]:
    """Diff opcodes ``(tag, i1, i2, j1, j2)`` in characters, from a diff of word tokens."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    a_at, b_at = [0], [0]
    for t in a:
        a_at.append(a_at[-1] + len(t))
    for t in b:
        b_at.append(b_at[-1] + len(t))
    # The unchanged head and tail are matched first: an edit is usually in one
    # place, and a title that repeats a word would otherwise let the diff pair
    # the repeats differently and move markup from one copy to another.
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    matcher = SequenceMatcher(None, a[head:len(a) - tail], b[head:len(b) - tail], autojunk=False)
    codes = [("equal", 0, head, 0, head)] if head else []
    codes += [(tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    if tail:
        codes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return [(tag, a_at[i1], a_at[i2], b_at[j1], b_at[j2]) for tag, i1, i2, j1, j2 in codes]


def _where(blocks: list[tuple[str, int, int, int, int]], p: int, role: str) -> tuple[int, bool] | None:
    """Where plain position ``p`` of the old text lands in the new one, and whether through unchanged text.

    An opening sits before an unchanged character or at the start of a
    replaced stretch, a closing after an unchanged character or at the end of
    a replaced stretch; a point needs an unchanged neighbour on either side.
    ``None`` when ``p`` lands nowhere (inside a change, or next to a deletion).
    """
    for tag, i1, i2, j1, j2 in blocks:
        if tag == "equal":
            inside = (i1 <= p < i2) if role == _OPEN else (i1 < p <= i2) if role == _CLOSE else (i1 <= p <= i2)
            if inside:
                return j1 + p - i1, True
        elif tag == "replace":
            if role == _OPEN and p == i1:
                return j1, False
            if role == _CLOSE and p == i2:
                return j2, False
    return None


def _kept(marks: list[tuple[str, tuple[int, bool] | None]]) -> bool:
    """Whether a span's markers go into the edited title: all of them land, one through unchanged text,
    and (unless it is a point) around content that is still there."""
    if any(got is None for _, got in marks):
        return False
    landed = [got for _, got in marks if got is not None]
    at = [p for p, _ in landed]
    return any(same for _, same in landed) and (marks[0][0] == _POINT or min(at) < max(at))


def merge_plain_edit(raw: str, new: str) -> str:
    """The title ``raw`` with its plain rendering changed to ``new``, markup kept where untouched.

    Parameters
    ----------
    raw : str
        The title as written (with Markdown).
    new : str
        The new title as plain text.

    Returns
    -------
    str
        A title whose plain rendering is exactly ``new``; ``new`` itself when
        the markup could not be kept.

    Examples
    --------
    >>> merge_plain_edit("**TW-012** Parser rejects `\\\\r` files", "TW-012 Parser rejects CRLF files")
    '**TW-012** Parser rejects CRLF files'
    """
    if len(raw) > MAX_MERGE_CHARS or len(new) > MAX_MERGE_CHARS:
        return new
    r = render(raw)
    if new == r.plain:
        return raw  # nothing shown changed: keep every byte
    if not r.marks:
        return new
    blocks = _char_blocks(r.plain, new)
    # Each markup character sits at a plain position: the number of content characters before it.
    landed: list[tuple[int, bool] | None] = []
    k = 0
    for idx, _, role in r.marks:
        while k < len(r.content) and r.content[k] < idx:
            k += 1
        landed.append(_where(blocks, k, role))
    spans: dict[int, list[tuple[str, tuple[int, bool] | None]]] = {}
    for (_, span, role), got in zip(r.marks, landed, strict=True):
        spans.setdefault(span, []).append((role, got))
    keep = {span for span, marks in spans.items() if _kept(marks)}
    inserts = sorted((got[0], idx, raw[idx]) for (idx, span, _), got in zip(r.marks, landed, strict=True)
                     if span in keep and got is not None)
    out: list[str] = []
    pos = 0
    for at, _, ch in inserts:
        out.append(new[pos:at])
        out.append(ch)
        pos = at
    out.append(new[pos:])
    merged = "".join(out)
    # Re-joined markers can pair up differently with their new neighbours; the
    # shown text must be exactly what was typed, so fall back to it then.
    return merged if plain_text(merged) == new else new


def edit_title(raw: str, new: str, *, as_given: bool = False) -> str:
    """The title to write when the title ``raw`` is edited to ``new``.

    Parameters
    ----------
    raw : str
        The current title as written.
    new : str
        The text the user gave.
    as_given : bool
        Write ``new`` unchanged (``todo edit --raw``).

    Returns
    -------
    str
        ``new`` when it is taken as given (``as_given``, or it has markup of
        its own, see :func:`has_markup`), else :func:`merge_plain_edit`.
    """
    if as_given or len(new) > MAX_MERGE_CHARS or has_markup(new):
        return new
    return merge_plain_edit(raw, new)
