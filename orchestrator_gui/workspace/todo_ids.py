"""TODO item ids: a line number, or an id that survives edits elsewhere in the file (every face uses these).

The id is the item's identity key, the one the graph uses
(:func:`orchestrator_gui.model.identity.todo_item_keys`): ``item/<hash of the
title>``, with ``~n`` for the n-th repeat of a title. The graph node id
``TODO.md::item/<hash>`` is accepted too. Adding, removing or moving other
items shifts line numbers but leaves ids alone, so a script (or an agent
through the API) can keep the id an add returned and use it after later adds.

:func:`parse_item_ref` turns text into a line (``int``) or a key (``str``),
raising ``ValueError`` for anything else; :func:`resolve` finds the item's
line in a document (``FormatError`` when there is none).

Every face uses this one module (the CLI wraps :func:`parse_item_ref` as an
argparse type, the API as a path parameter). An argument made only of digits
is a line; one shaped like an id is an id; a well-formed id that names no
item is refused like a wrong line: ``TODO.md: error: no item with id …``.
"""

from __future__ import annotations

import bisect
import hashlib
import re

import numpy as np

from orchestrator_gui.formats.todo import TodoDocument
from orchestrator_gui.formats.todo_titles import title_spans
from orchestrator_gui.model.identity import TODO_FILE
from orchestrator_gui.problems import FormatError

#: Largest line number accepted (a file's lines are capped far below this by its reader).
MAX_LINE = 10**9

# The key's hash is identity.text_hash: 10 lowercase hex digits; repeats count from ~1.
_ID = re.compile(rf"(?:{re.escape(TODO_FILE)}::)?(item/[0-9a-f]{{10}}(?:~[1-9][0-9]{{0,8}})?)")
_KEY = re.compile(r"item/([0-9a-f]{10})(?:~([1-9][0-9]{0,8}))?")
#: Titles hashed per batch (bounds the temporary lists).
_BATCH = 1 << 16


def parse_item_ref(value: str) -> int | str:
    """Parse an item reference: a line number (``int``) or an item key (``str``, without the file prefix).

    Raises
    ------
    ValueError
        ``value`` is neither, or the line is out of range (the CLI makes it a usage error, the API a 422).
    """
    shown = value if len(value) <= 60 else value[:60] + "..."  # messages stay short for any input
    if value.isascii() and value.isdigit():
        digits = value.lstrip("0") or "0"
        # Length first: int() of thousands of digits is slow, and refused past 4300.
        if len(digits) > 10 or not 1 <= int(digits) <= MAX_LINE:
            raise ValueError(f"line {shown} is out of range (1 to {MAX_LINE})")
        return int(digits)
    m = _ID.fullmatch(value)
    if m is None:
        raise ValueError(
            f"{shown!r} is neither a line number nor an item id (item/<hash> or {TODO_FILE}::item/<hash>)")
    return m.group(1)


def _hash_keys(raw: bytes, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The 10 hex digits of :func:`~orchestrator_gui.model.identity.text_hash` of each title, as integers.

    The titles' file bytes are their UTF-8 encoding, so each is hashed
    straight from the file without making a string; the digests are cut and
    packed into integers by numpy.
    """
    out = np.empty(len(start), dtype=np.int64)
    sha1 = hashlib.sha1
    for lo in range(0, len(start), _BATCH):
        digests = b"".join([sha1(raw[a:b]).digest() for a, b in zip(start[lo:lo + _BATCH].tolist(),
                                                                     end[lo:lo + _BATCH].tolist(), strict=True)])
        head = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 20)[:, :5].astype(np.int64)
        out[lo:lo + len(head)] = (head[:, 0] << 32) | (head[:, 1] << 24) | (head[:, 2] << 16) | \
            (head[:, 3] << 8) | head[:, 4]
    return out


def _repeats(keys: np.ndarray) -> np.ndarray:
    """For each key, how many earlier keys equal it (the ``~n`` of :class:`OccurrenceKeys`)."""
    out = np.zeros(len(keys), dtype=np.int32)
    order = np.argsort(keys, kind="stable")  # equal keys stay in file order
    ranked = keys[order]
    same = np.flatnonzero(ranked[1:] == ranked[:-1]) + 1  # positions that repeat the one before
    if same.size:
        first = np.searchsorted(ranked, ranked[same])
        out[order[same]] = same - first
    return out


def format_key(hash_key: int, repeat: int) -> str:
    """The item key for a title hash (from :func:`item_keys`) and its repeat number."""
    return f"item/{hash_key:010x}" if repeat == 0 else f"item/{hash_key:010x}~{repeat}"


def key_tails(keys: np.ndarray, repeats: np.ndarray) -> list[str]:
    """What follows ``item/`` in the keys of a batch of items (:func:`format_key` for many at once)."""
    n = len(keys)
    # Hex digits of all keys in one call: the low 5 bytes of each big-endian 64-bit key.
    hexes = np.asarray(keys, dtype=">u8").view(np.uint8).reshape(n, 8)[:, 3:].tobytes().hex()
    out = list(map(hexes.__getitem__, map(slice, range(0, 10 * n, 10), range(10, 10 * n + 10, 10))))
    for k in np.flatnonzero(repeats).tolist():
        out[k] += f"~{int(repeats[k])}"
    return out


def item_keys(doc: TodoDocument, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Title hashes and repeat numbers of the items of ``doc`` (the first ``stop`` of them), in file order.

    ``format_key(keys[k], repeats[k])`` is the id of item ``k``, the key
    :func:`~orchestrator_gui.model.identity.todo_item_keys` gives it (a test
    holds them equal); computed without making a string per item.
    """
    raw, start, end = title_spans(doc.titles)
    keys = _hash_keys(raw, start[:stop], end[:stop])
    return keys, _repeats(keys)


def item_ids(doc: TodoDocument) -> dict[int, str]:
    """Line -> id of every item of ``doc``."""
    keys, repeats = item_keys(doc)
    return {line: format_key(k, r) for line, k, r in zip(doc.item_lines, keys.tolist(), repeats.tolist(),
                                                          strict=True)}


def resolve(doc: TodoDocument, ref: int | str) -> int:
    """The line of the item ``ref`` (a line number or an id from :func:`parse_item_ref`) in ``doc``.

    Raises
    ------
    FormatError
        No item has that id, or none starts on that line.
    """
    if isinstance(ref, int):
        doc.item_at(ref)  # raises "FILE:LINE: error: no TODO item at line …"
        return ref
    m = _KEY.fullmatch(ref)
    if m is not None:
        want, repeat = int(m.group(1), 16), int(m.group(2) or 0)
        keys, repeats = item_keys(doc)
        hit = np.flatnonzero((keys == want) & (repeats == repeat))
        if hit.size:
            return doc.item_lines[int(hit[0])]
    raise FormatError(doc.name, f"no item with id {ref}")


def id_at(doc: TodoDocument, line: int) -> str:
    """The id of the item on ``line`` of ``doc`` (which must hold one).

    Only the items up to it are hashed: its repeat number counts the earlier ones.
    """
    k = bisect.bisect_left(doc.item_lines, line)  # items are in line order
    if k == len(doc.item_lines) or doc.item_lines[k] != line:
        raise KeyError(f"no TODO item on line {line}")
    raw, start, end = title_spans(doc.titles)
    keys = _hash_keys(raw, start[:k + 1], end[:k + 1])
    return format_key(int(keys[k]), int(np.count_nonzero(keys[:k] == keys[k])))


__all__ = ["MAX_LINE", "format_key", "id_at", "item_ids", "item_keys", "key_tails", "parse_item_ref", "resolve"]
