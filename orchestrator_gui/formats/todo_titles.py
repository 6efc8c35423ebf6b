"""Repeated TODO item titles, found without holding every title as a Python string.

A dict from title to first line costs some 150 MB for a million items. Here
each title is hashed once from its bytes into a numpy array, items are
grouped by hash, and only groups of two or more are compared for real (a
hash collision never makes two different titles equal).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Titles hashed per batch (bounds the temporary list of Python ints).
_BATCH = 1 << 16


def title_spans(texts: Sequence[str]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """The bytes the titles are cut from and each title's byte span (made when ``texts`` is a plain list)."""
    spans = getattr(texts, "spans", None)
    if spans is not None:
        return spans()
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    return b"".join(encoded), ends - np.array([len(e) for e in encoded], dtype=np.int64), ends


def first_same(texts: Sequence[str]) -> np.ndarray:
    """For each title, the index of the first earlier title equal to it, or -1 (empty titles: -1).

    Parameters
    ----------
    texts : sequence of str
        The titles in file order; a :class:`~orchestrator_gui.formats.todo_lines.LazyStrings`
        is read from its bytes.
    """
    raw, start, end = title_spans(texts)
    n = len(start)
    out = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return out
    hashes = np.empty(n, dtype=np.int64)
    for lo in range(0, n, _BATCH):
        hashes[lo:lo + _BATCH] = [hash(raw[a:b]) for a, b in zip(start[lo:lo + _BATCH].tolist(),
                                                                  end[lo:lo + _BATCH].tolist(), strict=True)]
    order = np.argsort(hashes, kind="stable")  # equal hashes stay in file order
    sorted_h = hashes[order]
    repeated = np.zeros(n, dtype=bool)
    same_as_prev = sorted_h[1:] == sorted_h[:-1]
    repeated[1:] |= same_as_prev
    repeated[:-1] |= same_as_prev
    cand = order[repeated]
    if not cand.size:
        return out
    first: dict[bytes, int] = {}
    for k in np.sort(cand).tolist():
        a, b = int(start[k]), int(end[k])
        if a == b:
            continue
        seen = first.setdefault(raw[a:b], k)
        if seen != k:
            out[k] = seen
    return out


def earlier_same(texts: Sequence[str], k: int) -> int:
    """How many titles before index ``k`` equal title ``k``."""
    raw, start, end = title_spans(texts)
    length = end - start
    a, b = int(start[k]), int(end[k])
    cand = np.flatnonzero(length[:k] == b - a)
    mine = raw[a:b]
    return sum(1 for j in cand.tolist() if raw[int(start[j]):int(end[j])] == mine)
