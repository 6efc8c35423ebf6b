"""Text search over a live graph at interactive speed: the model's ranking, answered from byte columns.

:func:`orchestrator_gui.model.queries.search` reads every node's title,
tags and content in Python: about 160 ms for 100k nodes, too slow for an
agent that searches on every step (the API's target is 50 ms). A
:class:`SearchIndex` gives exactly the same ids in the same order (a test
holds them equal) from three blobs, the lower-cased titles, tags and
contents of every row joined by NUL bytes, searched with numpy: the first
byte of a term is found with one comparison over the blob, the following
bytes narrow the candidates, and the hits map to rows by binary search.

The blobs are rebuilt when the graph's revision moved; lower-cased text is
kept per node model (models are immutable, a change replaces the model), so
a rebuild after a transform only lowers the nodes that changed. Use an index
on the graph's own thread, like every other read of a live graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orchestrator_gui.model.queries import filter_rows, search

_SEP = "\x00"


#: Node fields whose change makes a node's indexed text (or its filter columns) stale.
_TEXT_FIELDS = frozenset({"title", "content", "tags", "kind", "layer"})
#: Nodes changed since the last build above which the next search builds again.
REBUILD_AFTER = 4096


class _Blob:
    """One text column of every row: UTF-8 bytes joined by NUL, with each row's start offset."""

    def __init__(self, texts: list[str]) -> None:
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        lengths = np.array([len(b) for b in encoded], dtype=np.int64)
        self.starts = np.zeros(len(encoded), dtype=np.int64)
        if len(encoded) > 1:
            np.cumsum(lengths[:-1] + 1, out=self.starts[1:])
        self.data = np.frombuffer(b"\x00".join(encoded) + b"\x00", dtype=np.uint8)

    def rows_with(self, term: bytes) -> np.ndarray:
        """Rows (ascending, repeated once per occurrence) whose text contains ``term`` (which holds no NUL)."""
        data, n = self.data, len(term)
        if n == 0 or len(data) < n:
            return np.empty(0, dtype=np.int64)
        cand = np.flatnonzero(data[: len(data) - n + 1] == term[0])
        for j in range(1, n):
            if not len(cand):
                break
            cand = cand[data[cand + j] == term[j]]
        return np.searchsorted(self.starts, cand, side="right") - 1


def _score(texts: tuple[str, str, str], terms: list[str]) -> int:
    """The model's score of one node for ``terms`` (0: not every term occurs)."""
    title, tags, content = texts
    total = 0
    for t in terms:
        s = 3 * (t in title) + 2 * (t in tags) + (t in content)
        if not s:
            return 0
        total += s
    return total


def _lowered(node: Any) -> tuple[str, str, str]:
    return node.title.lower(), " ".join(node.tags).lower(), node.content.lower()


class SearchIndex:
    """Word search over ``graph`` with the ranking of :func:`~orchestrator_gui.model.queries.search`.

    The blobs are built for the graph as it is at the first search; nodes
    added or changed afterwards (told by the graph's ``changed`` events) are
    scored one by one and their old text is masked, until there are
    :data:`REBUILD_AFTER` of them. Call :meth:`close` to stop listening.

    Parameters
    ----------
    graph : ThoughtGraph
    """

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self._blobs: tuple[_Blob, _Blob, _Blob] | None = None
        self._base_ids: np.ndarray = np.empty(0, dtype=object)
        self._base_kind = self._base_layer = np.empty(0, dtype=np.int8)
        self._stale_rows: set[int] = set()
        self._fresh: set[str] = set()
        self._row_in_base: dict[str, int] = {}
        self._seen = -1
        graph.events.changed.connect(self._on_changed)

    def close(self) -> None:
        """Stop following the graph's changes."""
        self.graph.events.changed.disconnect(self._on_changed)

    def _on_changed(self, summary: Any) -> None:
        if self._blobs is None:
            return
        touched = list(summary.nodes_added) + list(summary.nodes_removed)
        touched += [i for i, fields in summary.nodes_changed.items() if _TEXT_FIELDS.intersection(fields)]
        for node_id in touched:
            row = self._row_in_base.get(node_id)
            if row is not None:
                self._stale_rows.add(row)
            self._fresh.add(node_id)
        self._seen = self.graph.revision

    def _build(self) -> None:
        g = self.graph
        nodes = g.node_table.nodes_of(g.ids)
        self._blobs = (_Blob([n.title.lower() for n in nodes]), _Blob([" ".join(n.tags).lower() for n in nodes]),
                       _Blob([n.content.lower() for n in nodes]))
        self._base_ids = np.array(g.ids, dtype=object)
        self._base_kind, self._base_layer = g.kind_index.copy(), g.layer_index.copy()
        self._row_in_base = {node_id: k for k, node_id in enumerate(self._base_ids.tolist())}
        self._stale_rows, self._fresh = set(), set()
        self._seen = g.revision

    def _ready(self) -> tuple[_Blob, _Blob, _Blob]:
        # A revision that moved without a ``changed`` event (a graph loaded in place) cannot be followed.
        if (self._blobs is None or self._seen != self.graph.revision
                or len(self._fresh) + len(self._stale_rows) > REBUILD_AFTER):
            self._build()
        assert self._blobs is not None
        return self._blobs

    def search(self, text: str, *, kind: Any = None, layer: Any = None, limit: int | None = None) -> list[str]:
        """Ids of nodes whose title, content or tags contain every word of ``text`` (case-insensitive), best first.

        Same result as :func:`orchestrator_gui.model.queries.search` with the same arguments.
        """
        terms = text.lower().split()
        if not terms:
            return []
        if any(_SEP in t for t in terms):  # cannot be told apart from the row separator: the slow, exact way
            return search(self.graph, text, kind=kind, layer=layer, limit=limit)
        g = self.graph
        blobs = self._ready()
        n = len(self._base_ids)
        alive = _filter(self._base_kind, self._base_layer, kind, layer)
        if self._stale_rows:
            alive[np.fromiter(self._stale_rows, dtype=np.int64)] = False
        score = np.zeros(n, dtype=np.int64)
        for t in terms:
            b = t.encode("utf-8", "surrogatepass")
            s = np.zeros(n, dtype=np.int64)
            for blob, weight in zip(blobs, (3, 2, 1)):
                hit = np.zeros(n, dtype=bool)
                hit[blob.rows_with(b)] = True
                s += weight * hit
            alive &= s > 0
            score += s
            if not alive.any():
                break
        base_rows = np.flatnonzero(alive)
        base_scores = score[base_rows]
        extra_ids: list[str] = []
        extra_scores: list[int] = []
        if self._fresh:
            keep = set(g.ids_of(filter_rows(g, kind=kind, layer=layer))) if kind or layer else None
            for node_id in self._fresh:
                if node_id in g and (keep is None or node_id in keep):
                    sc = _score(_lowered(g.node(node_id)), terms)
                    if sc:
                        extra_ids.append(node_id)
                        extra_scores.append(sc)
        if not len(base_rows) and not extra_ids:
            return []
        rows = np.concatenate((self._current_rows(base_rows), g.rows_of(extra_ids) if extra_ids else
                               np.empty(0, dtype=np.int64)))
        scores = np.concatenate((base_scores, np.asarray(extra_scores, dtype=np.int64)))
        order = np.lexsort((rows, -scores))
        if limit is not None:
            order = order[: max(0, int(limit))]
        n_base = len(base_rows)
        return [self._base_ids[base_rows[k]] if k < n_base else extra_ids[k - n_base] for k in order.tolist()]

    def _current_rows(self, base_rows: np.ndarray) -> np.ndarray:
        """The rows now of the nodes at ``base_rows`` when the blobs were built (none of them removed since).

        Rows move only when a removal swaps the last row into the hole, so most
        nodes are where they were: compared in one vectorised step, and only the
        moved ones looked up by id.
        """
        g = self.graph
        ids = self._base_ids[base_rows]
        inside = base_rows < len(g)
        same = np.zeros(len(base_rows), dtype=bool)
        same[inside] = g.ids[base_rows[inside]] == ids[inside]
        rows = base_rows.copy()
        moved = np.flatnonzero(~same)
        if len(moved):
            rows[moved] = g.rows_of(ids[moved].tolist())
        return rows


def _filter(kinds: np.ndarray, layers: np.ndarray, kind: Any, layer: Any) -> np.ndarray:
    """Rows of the base whose kind and layer pass (as :func:`~orchestrator_gui.model.queries.filter_rows`)."""
    from orchestrator_gui.model.nodes import KIND_INDEX, LAYER_INDEX, Layer, NodeKind

    mask = np.ones(len(kinds), dtype=bool)
    for values, index, enum_type, column in ((kind, KIND_INDEX, NodeKind, kinds), (layer, LAYER_INDEX, Layer, layers)):
        if values is None:
            continue
        values = [values] if isinstance(values, str) else values
        codes = np.array([index[enum_type(v).value] for v in values], dtype=np.int8)
        mask &= np.isin(column, codes)
    return mask


__all__ = ["REBUILD_AFTER", "SearchIndex"]
