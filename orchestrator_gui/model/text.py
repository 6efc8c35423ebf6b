"""Plain-numpy text similarity: tokens and hashed TF-IDF vectors with cosine similarity.

Enough to place similar thoughts near each other without an NLP dependency.
Tokens are hashed into a fixed number of buckets with CRC-32 (stable across
runs, unlike Python's salted ``hash``), so memory is bounded by
``len(texts) * dim`` whatever the vocabulary.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"[^\W_]{2,}")
#: Very common English words that carry no topic.
STOPWORDS = frozenset(
    """a an and are as at be been but by for from has have if in into is it its of on or
    that the their then there these they this to was were will with not no do does done
    we you he she our your can could should would may might must shall""".split()
)


def tokens(text: str) -> list[str]:
    """Lower-case words of two or more letters/digits, without stopwords."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def hashed_tfidf(texts: Sequence[str], dim: int = 512) -> np.ndarray:
    """TF-IDF vectors of ``texts`` in ``dim`` hashed buckets, each row L2-normalised.

    Term frequency is sublinear (``1 + log count``); inverse document
    frequency is the smoothed ``log((1 + N) / (1 + df)) + 1`` over ``texts``.
    A text without tokens gives a zero row.

    Returns
    -------
    ndarray, shape (len(texts), dim), float64
    """
    if dim < 1:
        raise ValueError("dim must be >= 1")
    bucket: dict[str, int] = {}
    docs: list[int] = []
    feats: list[int] = []
    for i, text in enumerate(texts):
        for w in tokens(text):
            b = bucket.get(w)
            if b is None:
                b = bucket[w] = zlib.crc32(w.encode("utf-8")) % dim
            docs.append(i)
            feats.append(b)
    n = len(texts)
    if not docs:
        return np.zeros((n, dim))
    flat = np.asarray(docs, dtype=np.int64) * dim + np.asarray(feats, dtype=np.int64)
    counts = np.bincount(flat, minlength=n * dim).reshape(n, dim).astype(np.float64)
    present = counts > 0
    tf = np.where(present, 1.0 + np.log(np.where(present, counts, 1.0)), 0.0)
    df = present.sum(axis=0)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    vec = tf * idf
    norm = np.linalg.norm(vec, axis=1)
    nz = norm > 0
    vec[nz] /= norm[nz, np.newaxis]
    return vec


def cosine_similarity(query: str, texts: Sequence[str], dim: int = 512) -> np.ndarray:
    """Cosine similarity of ``query`` with each of ``texts`` (IDF taken over all of them)."""
    vec = hashed_tfidf([query, *texts], dim=dim)
    return vec[1:] @ vec[0]
