"""Text for display: a node title as the user should read it (pure Python, no Qt, no vispy).

Titles come from Markdown files, so they carry ``**bold**`` markers,
backticks and list markers, and mode names start with emoji. Every place that
shows a title (the 3D view's labels, the hover tooltip, the Inspector, the
status bar) passes it through :func:`display_text`, so the same title reads
the same everywhere. Only *read-only* text is cleaned: editable fields always
show the exact text.

The emoji fallback: a pictograph (Unicode symbol, category ``So``, at or
above U+2000) is kept only where the font can draw it (``has_glyph``); by
default it is dropped. Zero-width joiners, variation selectors, skin-tone
modifiers and the keycap mark that belong to emoji sequences go with it, so
no half sequence is left to show as a box.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

from orchestrator_gui.formats.todo_markup import CODE, LEAD, LINK, PAIRS, STRAY

#: Code points that only shape an emoji sequence: joiner, variation selectors, keycap, tag characters.
_SEQUENCE_PARTS = frozenset({0x200D, 0xFE0E, 0xFE0F, 0x20E3, *range(0xE0020, 0xE0080)})
#: Skin-tone modifiers (category ``Sk``, not ``So``, so they need naming).
_MODIFIERS = range(0x1F3FB, 0x1F400)
#: Stand-ins for symbols a font may lack; without one the symbol is dropped.
ASCII_FALLBACK = {"\u2192": "->", "\u2190": "<-", "\u2194": "<->", "\u21d2": "=>", "\u21d0": "<=",
                  "\u25b8": ">", "\u25b6": ">"}

# Markdown patterns shared with the TODO title edit (formats/todo_markup.py): one definition.
_LINK, _PAIRS, _STRAY, _CODE, _LEAD = LINK, PAIRS, STRAY, CODE, LEAD


def strip_markdown(text: str) -> str:
    """``text`` without inline Markdown: emphasis, code and strike markers, link targets, a leading list marker.

    Conservative where Markdown is ambiguous: single ``*``/``_`` are removed
    only around a word group, so arithmetic and ``snake_case`` survive;
    backticks and double markers go wherever they are.
    """
    text = _LEAD.sub("", text, count=1)
    # Code spans keep their content verbatim (``__init__.py`` is a name there, not bold): only
    # the text between them is unmarked.
    parts = _CODE.split(text)
    for i in range(0, len(parts), 2):
        part = _LINK.sub(lambda m: m.group(1), parts[i])
        for pat in _PAIRS:
            part = pat.sub(lambda m: m.group(1), part)
        parts[i] = _STRAY.sub("", part)
    return "".join(parts)


def _is_pictograph(cp: int, cat: str) -> bool:
    return cp >= 0x2000 and cat == "So"


def strip_pictographs(text: str, has_glyph: Callable[[str], bool] | None = None) -> str:
    """``text`` with the emoji fallback applied (see the module docstring).

    Parameters
    ----------
    text : str
    has_glyph : callable, optional
        ``has_glyph(ch)`` is true when the font draws ``ch``. Pictographs it
        rejects are dropped, and so are other symbols (arrows, check marks)
        it rejects, replaced by :data:`ASCII_FALLBACK` where there is a stand-in.
        ``None`` drops every pictograph and keeps every other character.

    Returns
    -------
    str
        The text, whitespace collapsed when anything was removed.
    """
    if text.isascii():
        return text
    out = []
    changed = False
    for ch in text:
        cp = ord(ch)
        if cp < 0x2000:
            out.append(ch)
            continue
        if cp in _SEQUENCE_PARTS or cp in _MODIFIERS or 0x1F1E6 <= cp <= 0x1F1FF:
            changed = True  # parts of emoji sequences, and regional-indicator (flag) letters
            continue
        cat = unicodedata.category(ch)
        symbol = cat[0] == "S"
        if not symbol or (has_glyph is None and not _is_pictograph(cp, cat)):
            out.append(ch)
            continue
        if has_glyph is not None and has_glyph(ch):
            out.append(ch)
            continue
        changed = True
        out.append(ASCII_FALLBACK.get(ch, " "))
    return " ".join("".join(out).split()) if changed else text


def display_text(text: str | None, *, has_glyph: Callable[[str], bool] | None = None, markdown: bool = True) -> str:
    """A title as it is shown: Markdown stripped, the emoji fallback applied, whitespace collapsed to one line.

    Parameters
    ----------
    text : str or None
    has_glyph : callable, optional
        Whether the display font draws a character (see :func:`strip_pictographs`).
    markdown : bool
        Strip inline Markdown (:func:`strip_markdown`); off for text that is not Markdown.

    Returns
    -------
    str
        Never contains a line break; empty when nothing displayable is left.

    Examples
    --------
    >>> display_text("\U0001f501 **TW-012** Parser rejects `CRLF`")
    'TW-012 Parser rejects CRLF'
    """
    if not text:
        return ""
    if has_glyph is None:
        return _cached(text, markdown)
    return _clean(text, has_glyph, markdown)


def _clean(text: str, has_glyph: Callable[[str], bool] | None, markdown: bool) -> str:
    if markdown:
        text = strip_markdown(text)
    return " ".join(strip_pictographs(text, has_glyph).split())


@lru_cache(maxsize=65536)
def _cached(text: str, markdown: bool) -> str:
    # The view cleans the titles it labels on every new camera pose; the cache makes that a lookup.
    return _clean(text, None, markdown)


def cached_cleaner(has_glyph: Callable[[str], bool], *, markdown: bool = True,
                   maxsize: int = 65536) -> Callable[[str], str]:
    """:func:`display_text` bound to one font's ``has_glyph``, memoised (for per-frame use)."""

    @lru_cache(maxsize=maxsize)
    def clean(text: str) -> str:
        return _clean(text, has_glyph, markdown) if text else ""

    return clean
