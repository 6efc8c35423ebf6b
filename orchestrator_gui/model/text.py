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


def _sparse_tfidf(texts: Sequence[str], dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero TF-IDF entries as ``(doc, bucket, value)`` arrays, rows L2-normalised."""
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
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    flat, counts = np.unique(np.asarray(docs, dtype=np.int64) * dim + np.asarray(feats, dtype=np.int64),
                             return_counts=True)
    doc, feat = np.divmod(flat, dim)
    df = np.bincount(feat, minlength=dim)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    value = (1.0 + np.log(counts)) * idf[feat]
    norm = np.sqrt(np.bincount(doc, weights=value * value, minlength=n))
    return doc, feat, value / norm[doc]


def hashed_tfidf(texts: Sequence[str], dim: int = 512) -> np.ndarray:
    """TF-IDF vectors of ``texts`` in ``dim`` hashed buckets, each row L2-normalised.

    Term frequency is sublinear (``1 + log count``); inverse document
    frequency is the smoothed ``log((1 + N) / (1 + df)) + 1`` over ``texts``.
    A text without tokens gives a zero row.

    Returns
    -------
    ndarray, shape (len(texts), dim), float64
    """
    doc, feat, value = _sparse_tfidf(texts, dim)
    out = np.zeros((len(texts), dim))
    out[doc, feat] = value
    return out


def cosine_similarity(query: str, texts: Sequence[str], dim: int = 512) -> np.ndarray:
    """Cosine similarity of ``query`` with each of ``texts`` (IDF taken over all of them).

    Works on the sparse entries only, so it costs O(total tokens), not O(len(texts) * dim).
    """
    doc, feat, value = _sparse_tfidf([query, *texts], dim)
    qvec = np.zeros(dim)
    first = doc == 0
    qvec[feat[first]] = value[first]
    return np.bincount(doc, weights=value * qvec[feat], minlength=len(texts) + 1)[1:]
