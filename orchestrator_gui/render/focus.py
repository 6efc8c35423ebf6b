"""Which nodes stand out: the hover/selection neighbourhood, focus mode's k-hop set, the legend's kind filter.

Pure numpy over the graph's CSR adjacency (no GL), so the rules are tested
without pixels. The scene turns the masks into presence factors
(:func:`orchestrator_gui.render.arrays.node_presence`): outside the
neighbourhood nodes are dimmed, outside a focus or a kind filter they are hidden.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import KINDS, NodeFlag
from orchestrator_gui.model.queries import neighbourhood_rows

#: Focus depths offered (hops from the focused node).
FOCUS_DEPTHS = (1, 2, 3)


def hop_mask(graph: ThoughtGraph, rows: Iterable[int], depth: int = 1) -> np.ndarray:
    """Boolean (N,): ``rows`` and every node within ``depth`` hops of them (edges in both directions)."""
    out = np.zeros(len(graph), dtype=bool)
    start = np.unique(np.asarray(list(rows), dtype=np.int64))
    if len(start) == 0 or len(graph) == 0:
        return out
    out[neighbourhood_rows(graph, start, int(depth))] = True
    return out


def context_mask(graph: ThoughtGraph, hovered: str | None) -> np.ndarray | None:
    """The highlighted neighbourhood: hovered and selected nodes with their 1-hop neighbours; ``None`` when neither.

    A selection keeps its highlight; hovering adds the hovered node's
    neighbourhood to it (the pointer's context is shown at once, the
    selection's stays).
    """
    if len(graph) == 0:
        return None
    rows = list(np.flatnonzero(graph.flags & np.uint32(NodeFlag.SELECTED)))
    if hovered is not None and hovered in graph:
        rows.append(graph.row_of(hovered))
    if not rows:
        return None
    return hop_mask(graph, rows, 1)


def focus_mask(graph: ThoughtGraph, node_id: str, depth: int) -> np.ndarray:
    """Focus mode's set: ``node_id`` and the nodes within ``depth`` (1-3) hops.

    Raises
    ------
    KeyError
        Unknown node.
    ValueError
        ``depth`` outside :data:`FOCUS_DEPTHS`.
    """
    if depth not in FOCUS_DEPTHS:
        raise ValueError(f"focus depth must be one of {FOCUS_DEPTHS}, not {depth}")
    return hop_mask(graph, [graph.row_of(node_id)], depth)


def kind_mask(graph: ThoughtGraph, kinds: Iterable[str]) -> np.ndarray:
    """Boolean (N,): nodes whose kind is one of ``kinds`` (names such as ``"todo"``)."""
    codes = [i for i, k in enumerate(KINDS) if k.value in set(kinds)]
    return np.isin(graph.kind_index, np.asarray(codes, dtype=graph.kind_index.dtype))


def combine(*masks: np.ndarray | None) -> np.ndarray | None:
    """The intersection of the masks given (``None`` ones are ignored; all ``None``: ``None``)."""
    out = None
    for m in masks:
        if m is None:
            continue
        out = m.copy() if out is None else (out & m)
    return out


class FocusState:
    """The masks the scene styles by, kept current as the graph, the hover and the selection change.

    Attributes
    ----------
    context : ndarray of bool or None
        The highlighted neighbourhood (see :func:`context_mask`); others are dimmed.
    only : ndarray of bool or None
        Focus mode's k-hop set intersected with the legend's kind filter; others are hidden.
    target : tuple of (str, int) or None
        Focus mode's node and depth.
    kinds : frozenset of str or None
        The legend's kind filter.
    """

    def __init__(self) -> None:
        self.context: np.ndarray | None = None
        self.only: np.ndarray | None = None
        self.target: tuple[str, int] | None = None
        self.kinds: frozenset[str] | None = None

    def reset(self) -> None:
        """Forget the focus and the filter (another graph is shown)."""
        self.context = self.only = None
        self.target = None
        self.kinds = None

    @property
    def styled(self) -> bool:
        """True when a mask that is part of the node buffers is on: ``only`` (the scene then restyles every row).

        ``context`` is not: the neighbourhood highlight is drawn over a picture
        dimmed at draw time (:mod:`orchestrator_gui.render.highlight`).
        """
        return self.only is not None

    def refresh(self, graph: ThoughtGraph | None, hovered: str | None) -> None:
        """Recompute the masks for the graph as it is now (rows may have been added or removed)."""
        if graph is None or len(graph) == 0:
            self.context = self.only = None
            return
        self.context = context_mask(graph, hovered)
        if self.target is not None and self.target[0] not in graph:
            self.target = None  # the focused node was deleted: leave focus mode
        focused = focus_mask(graph, *self.target) if self.target is not None else None
        filtered = kind_mask(graph, self.kinds) if self.kinds is not None else None
        self.only = combine(focused, filtered)
