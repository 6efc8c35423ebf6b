"""Mention detection: reference ids, task ids, mode slugs and title phrases found in free text.

Everything here is linear in the length of the scanned text (plus the number
of candidate phrases sharing a first word pair), because real workspace files
reach hundreds of kilobytes and a TODO list can hold tens of thousands of
items: a naive "is this title a substring of that entry" loop would be
quadratic.

Matching rules
--------------
* **Reference ids** such as ``TW-012``, ``STG-004`` or ``TW-008a``: an upper-case
  prefix of two or more characters, a hyphen, digits and an optional
  lower-case letter, not glued to further letters or digits (``TW-012_parser``
  mentions ``TW-012``). A TODO item *defines* a reference id only when its
  title starts with it, so prose like ``UTF-8`` links nowhere unless an item
  is really called that.
* **Task ids** (``task_timing.tsv``) match a whole token exactly
  (``orch_session_20251101_032717``, ``3b9e1c07``); ids shorter than
  :data:`MIN_TASK_ID` characters are ignored because they are too generic.
* **Mode slugs** match a whole token exactly (``implementer``,
  ``integration-commit``).
* **Phrases** (TODO titles, schedule names, timing task texts) match as a
  contiguous run of normalised words: lower case, split on anything that is not
  a letter or digit (so ``loop_heartbeat`` matches "Loop heartbeat") and with a
  plural ``s`` removed (so "identify new one" matches "identify new ones").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable

#: A reference id (``TW-012``, ``STG-004``, ``TW-008a``).
REF_RE = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9]+-\d+[a-z]?)(?![A-Za-z0-9])")
#: A reference id at the start of a title, after bold markers, emoji or brackets.
LEADING_REF_RE = re.compile(r"^[\W_]*?([A-Z][A-Z0-9]+-\d+[a-z]?)(?![A-Za-z0-9])")
#: Candidate task-id and slug tokens: runs of letters, digits, ``_``, ``-`` and ``.``, ending on a letter or digit.
_ID_TOKEN_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.\-]*[A-Za-z0-9])?")
_WORD_RE = re.compile(r"[^\W_]+")
#: Task ids shorter than this are not looked for in text (``tt1``, ``42`` would match everywhere).
MIN_TASK_ID = 6
#: Phrases need at least this many words and characters to be matched.
MIN_PHRASE_WORDS = 2
MIN_PHRASE_CHARS = 12


def _stem(word: str) -> str:
    # Only the plural "s": enough to match "issue"/"issues", "one"/"ones",
    # cheap and predictable (no stemming library, no language model).
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Normalised words of ``text`` (lower case, split on non-alphanumerics, plural ``s`` removed)."""
    return [_stem(w) for w in _WORD_RE.findall(text.lower())]


def refs(text: str) -> list[str]:
    """Reference ids mentioned in ``text``, each once, in order of first occurrence."""
    return list(dict.fromkeys(REF_RE.findall(text)))


def leading_ref(title: str) -> str | None:
    """The reference id a title starts with (``"**TW-012 Parser…**"`` -> ``"TW-012"``), else ``None``."""
    m = LEADING_REF_RE.match(title)
    return m.group(1) if m else None


def id_tokens(text: str) -> list[str]:
    """Whole tokens that could be a task id or a mode slug, in order, each once."""
    return list(dict.fromkeys(_ID_TOKEN_RE.findall(text)))


def strip_emphasis(text: str) -> str:
    """Remove one pair of surrounding Markdown bold/italic markers: ``**Title**`` -> ``Title``."""
    s = text.strip()
    for mark in ("**", "__", "*", "_"):
        if len(s) > 2 * len(mark) and s.startswith(mark) and s.endswith(mark):
            return s[len(mark) : -len(mark)].strip()
    return s


class PhraseIndex:
    """Finds which registered phrases occur in a text, in time linear in the text.

    Phrases are indexed by their first two words; a text is scanned once and
    each position is checked only against the phrases starting with the same
    word pair.
    """

    def __init__(self) -> None:
        self._by_start: dict[tuple[str, str], list[tuple[tuple[str, ...], Hashable]]] = defaultdict(list)

    def add(self, phrase: str, target: Hashable, *, min_chars: int = MIN_PHRASE_CHARS) -> bool:
        """Register ``phrase`` for ``target``; returns False when it is too short to match reliably.

        ``min_chars`` lowers or raises the length a phrase needs (normalised, spaces included); it never
        goes below :data:`MIN_PHRASE_WORDS` words.
        """
        ws = tuple(words(phrase))
        if len(ws) < MIN_PHRASE_WORDS or len(" ".join(ws)) < min_chars:
            return False
        self._by_start[(ws[0], ws[1])].append((ws, target))
        return True

    def __bool__(self) -> bool:
        """False while no phrase is registered (nothing can be found then)."""
        return bool(self._by_start)

    def find(self, text: str | list[str]) -> list[Hashable]:
        """Targets whose phrase occurs in ``text`` (a string or its :func:`words`), each once, in order."""
        ws = words(text) if isinstance(text, str) else text
        found: dict[Hashable, None] = {}
        by_start = self._by_start
        for i in range(len(ws) - 1):
            cands = by_start.get((ws[i], ws[i + 1]))
            if not cands:
                continue
            for phrase, target in cands:
                n = len(phrase)
                if tuple(ws[i : i + n]) == phrase:
                    found.setdefault(target, None)
        return list(found)


class WordPositions:
    """Positions of each word of one long text, to test "does this phrase occur in it" quickly."""

    def __init__(self, text: str) -> None:
        self.words = words(text)
        self._pos: dict[str, list[int]] = defaultdict(list)
        for i, w in enumerate(self.words):
            self._pos[w].append(i)

    def contains(self, phrase_words: list[str]) -> bool:
        """True if ``phrase_words`` occur contiguously."""
        if not phrase_words:
            return False
        n = len(phrase_words)
        ws = self.words
        return any(ws[i : i + n] == phrase_words for i in self._pos.get(phrase_words[0], ()))


def index_by(pairs: Iterable[tuple[str, Hashable]]) -> dict[str, list[Hashable]]:
    """Group targets by key, keeping first-seen order."""
    out: dict[str, list[Hashable]] = defaultdict(list)
    for key, target in pairs:
        if target not in out[key]:
            out[key].append(target)
    return dict(out)
