"""Model -> numpy arrays for the 3D view (pure functions: no GL, no Qt).

Every function reads the graph's numpy mirrors and returns float32 arrays
ready for a vertex buffer; none loops in Python over nodes or edges, so a
100k-node / 500k-edge graph converts in milliseconds.  The scene
(:mod:`orchestrator_gui.render.scene`) uploads these once and patches them;
tests check them without any OpenGL.

Conventions
-----------
* ``hovered`` is a node id or ``None``.
* ``selected`` is an iterable of ids, or ``None`` to read the ``SELECTED``
  flag from the graph (the graph's flags are the single source of truth for
  the selection).
* ``threshold`` switches on the *active region*: nodes whose activation is at
  least ``threshold`` are active; they and their direct neighbours keep full
  colour while everything else is dimmed.  ``None`` (or no active node)
  leaves every node at full colour, so a slider never blanks the view.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from orchestrator_gui.model.display import display_text
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.nodes import KIND_INDEX, LAYERS, SHELL_RADII, NodeFlag
from orchestrator_gui.render.theme import Theme, get_theme

#: Multipliers in the per-node "presence" factor (1 normal, DIM dimmed, 0 hidden).
DIM = 0.28
#: Longest label text before it is cut with an ellipsis.
LABEL_CHARS = 36


def base_marker_size(n: int) -> float:
    """Marker diameter in pixels for an unattended node in a graph of ``n`` nodes.

    Smaller markers at high counts keep the fill rate (the cost that matters
    under software OpenGL) bounded and the cloud readable.
    """
    if n <= 2_000:
        return 11.0
    if n <= 20_000:
        return 6.0
    if n <= 200_000:
        return 3.5
    return 2.5


def _rows(graph: ThoughtGraph, ids: Iterable[str] | None) -> np.ndarray:
    """Rows of the ids that exist (unknown ids are ignored: a stale hover must not raise)."""
    if not ids:
        return np.empty(0, dtype=np.int64)
    return graph.rows_of([i for i in ids if i in graph])


def selected_rows(graph: ThoughtGraph, selected: Iterable[str] | None = None) -> np.ndarray:
    """Rows of ``selected``, or of the nodes flagged ``SELECTED`` when it is ``None``."""
    if selected is None:
        return np.flatnonzero(graph.flags & np.uint32(NodeFlag.SELECTED))
    if isinstance(selected, str):
        selected = [selected]
    return _rows(graph, list(selected))


def active_mask(graph: ThoughtGraph, threshold: float | None) -> np.ndarray | None:
    """Boolean (N,) of the active region (active nodes and their neighbours), or ``None`` when off."""
    if threshold is None:
        return None
    active = graph.activation >= threshold
    if not active.any():
        return None
    ea = graph.edge_arrays()
    region = active.copy()
    # One hop in both directions: an edge with an active end lights the other end.
    region[ea.dst[active[ea.src]]] = True
    region[ea.src[active[ea.dst]]] = True
    return region


def _local(subset: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Positions within ``rows`` (``None``: every row) of the graph rows in ``subset``."""
    if rows is None or len(subset) == 0:
        return subset
    return np.flatnonzero(np.isin(rows, subset))


def node_presence(
    graph: ThoughtGraph, *, show_suppressed: bool = True, threshold: float | None = None,
    rows: np.ndarray | None = None, context: np.ndarray | None = None, only: np.ndarray | None = None,
) -> np.ndarray:
    """Per-node factor: 1 fully shown, :data:`DIM` dimmed, 0 hidden (float32, (N,)).

    ``HIDDEN`` nodes are always hidden; ``SUPPRESSED`` nodes are dimmed, or
    hidden when ``show_suppressed`` is false; nodes outside the active region
    are dimmed.  ``context`` (bool (N,), the hovered/selected neighbourhood)
    dims every node outside it; ``only`` (bool (N,), focus mode or a legend
    filter) hides every node outside it.  ``rows`` (unique node rows)
    restricts the result to those rows, in that order (the scene restyles
    only the nodes a burst touched).
    """
    flags = graph.flags if rows is None else graph.flags[rows]
    out = np.ones(len(flags), dtype=np.float32)
    region = active_mask(graph, threshold)
    if region is not None:
        out[~(region if rows is None else region[rows])] = DIM
    if context is not None:
        out[~(context if rows is None else context[rows])] = DIM
    suppressed = (flags & np.uint32(NodeFlag.SUPPRESSED)) != 0
    out[suppressed] = DIM if show_suppressed else 0.0
    out[(flags & np.uint32(NodeFlag.HIDDEN)) != 0] = 0.0
    if only is not None:
        out[~(only if rows is None else only[rows])] = 0.0
    return out


def node_colors(
    graph: ThoughtGraph,
    theme: Theme | str = "dark",
    hovered: str | None = None,
    selected: Iterable[str] | None = None,
    *,
    show_suppressed: bool = True,
    threshold: float | None = None,
    presence: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Face colour per node: kind colour, brightened by activation, dimmed or hidden by presence.

    ``rows`` (unique node rows) restricts the result to those rows, in that
    order; ``presence`` is then given for those rows only.

    Returns
    -------
    ndarray, shape (N, 4), float32
        Hidden nodes have alpha 0 (the shader then drops them).
    """
    th = get_theme(theme)
    sel = slice(None) if rows is None else rows
    colors = th.kind_table[graph.kind_index[sel].astype(np.intp)].copy()
    act = np.clip(graph.activation[sel], 0.0, 1.0).astype(np.float32)[:, None]
    hl = np.asarray(th.highlight, dtype=np.float32)
    colors[:, :3] += (hl[:3] - colors[:, :3]) * (th.activation_gain * act)
    if presence is None:
        pres = node_presence(graph, show_suppressed=show_suppressed, threshold=threshold, rows=rows)
    else:
        pres = presence
    dim = pres < 1.0
    if dim.any():
        # Dimmed nodes fade into the background rather than just turning
        # transparent, so they stay legible as "context" without competing.
        bg = np.asarray(th.background, dtype=np.float32)
        f = pres[dim, None]
        colors[dim, :3] = bg[:3] + (colors[dim, :3] - bg[:3]) * (0.35 + f)
        colors[dim, 3] = np.where(pres[dim] > 0, 0.85, 0.0)
    for hit, amount in ((selected_rows(graph, selected), 0.25), (_rows(graph, [hovered] if hovered else None), 0.35)):
        hit = _local(hit, rows)
        if len(hit):
            colors[hit, :3] += (hl[:3] - colors[hit, :3]) * amount
            colors[hit, 3] = np.where(pres[hit] > 0, 1.0, 0.0)
    return colors


def node_outlines(
    graph: ThoughtGraph,
    theme: Theme | str = "dark",
    hovered: str | None = None,
    selected: Iterable[str] | None = None,
    running: Iterable[str] | None = None,
    *,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Outline colour per node (alpha 0: no outline): next, escalated, selected, running, the hovered one on top.

    *Running* nodes are the ``running`` ids and every node flagged
    ``HIGHLIGHTED`` (the inputs of a transform in progress). ``rows`` (unique
    node rows) restricts the result to those rows, in that order.
    """
    th = get_theme(theme)
    out = np.zeros((len(graph) if rows is None else len(rows), 4), dtype=np.float32)
    out[_local(np.flatnonzero(graph.flags & np.uint32(NodeFlag.NEXT)), rows)] = th.next
    out[_local(np.flatnonzero(graph.flags & np.uint32(NodeFlag.ESCALATED)), rows)] = th.escalated
    out[_local(selected_rows(graph, selected), rows)] = th.selected
    busy = np.union1d(_rows(graph, list(running) if running else None),
                      np.flatnonzero(graph.flags & np.uint32(NodeFlag.HIGHLIGHTED)))
    out[_local(busy, rows)] = th.running
    out[_local(_rows(graph, [hovered] if hovered else None), rows)] = th.hovered
    return out


def node_sizes(
    graph: ThoughtGraph,
    *,
    base: float | None = None,
    show_suppressed: bool = True,
    threshold: float | None = None,
    presence: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Marker diameter in pixels per node, scaled by attention (0 for hidden nodes).

    Attention in ``[0, 1]`` grows a marker up to 2.2x; goals are drawn a
    little larger because they anchor the picture; dimmed nodes shrink.
    ``rows`` (unique node rows) restricts the result to those rows, in that
    order; ``presence`` is then given for those rows only.
    """
    n = len(graph)
    sel = slice(None) if rows is None else rows
    size = np.float32(base_marker_size(n) if base is None else base)
    att = np.clip(graph.attention[sel], 0.0, 1.0).astype(np.float32)
    out = size * (1.0 + 1.2 * att)
    out[graph.kind_index[sel] == KIND_INDEX["goal"]] *= np.float32(1.35)
    if presence is None:
        pres = node_presence(graph, show_suppressed=show_suppressed, threshold=threshold, rows=rows)
    else:
        pres = presence
    out *= np.where(pres >= 1.0, 1.0, pres * 2.5).astype(np.float32).clip(0.0, 1.0)
    return out.astype(np.float32)


def edge_colors(
    graph: ThoughtGraph, theme: Theme | str = "dark", *, presence: np.ndarray | None = None,
    rows: np.ndarray | slice | None = None,
) -> np.ndarray:
    """Colour per edge, (E, 4) float32: type colour whose alpha follows weight and endpoint presence.

    Weight is clipped to ``[0, 1]``; weight 0 still shows at a fifth of the
    type's alpha so a link never vanishes silently.  With many edges the
    alpha is lowered so overlapping lines do not saturate into a white mass.
    ``rows`` restricts the result to some edge rows (for appends).
    """
    th = get_theme(theme)
    ea = graph.edge_arrays()
    m = len(ea.src)
    sel = slice(None) if rows is None else rows
    src, dst, etype, weight = ea.src[sel], ea.dst[sel], ea.type[sel], ea.weight[sel]
    colors = th.edge_table[etype.astype(np.intp)].copy()
    w = np.clip(weight, 0.0, 1.0).astype(np.float32)
    density = np.float32(np.clip((4_000.0 / max(m, 1)) ** 0.3, 0.3, 1.0))
    colors[:, 3] *= (0.2 + 0.8 * w) * density
    if presence is not None and len(src):
        colors[:, 3] *= np.minimum(presence[src], presence[dst])
    return colors


def edge_lod_mask(graph: ThoughtGraph, budget: int, positions: np.ndarray | None = None) -> np.ndarray:
    """Edges kept while the camera moves: at most ``budget``, preferring heavy and short ones.

    Long edges dominate the fill-rate cost under software OpenGL (7-16x a
    short one), and low-weight ones carry little information, so the score is
    ``weight / (length + eps)``.
    """
    ea = graph.edge_arrays()
    m = len(ea.src)
    keep = np.ones(m, dtype=bool)
    if m <= budget:
        return keep
    pos = graph.positions if positions is None else positions
    length = np.linalg.norm(pos[ea.src] - pos[ea.dst], axis=1)
    score = (np.clip(ea.weight, 0.0, None) + 1e-3) / (length + 0.05)
    keep[:] = False
    if budget > 0:
        keep[np.argpartition(-score, budget - 1)[:budget]] = True
    return keep


def edge_segments(
    graph: ThoughtGraph,
    lod: bool | int = False,
    *,
    theme: Theme | str = "dark",
    positions: np.ndarray | None = None,
    presence: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Line-segment vertices and colours for the edges.

    Parameters
    ----------
    lod : bool or int
        ``False``: every edge.  ``True`` or an int budget: only the edges of
        :func:`edge_lod_mask` (default budget 20 000).
    positions : ndarray, optional
        Node positions to use instead of the graph's (the scene passes its
        animated positions).

    Returns
    -------
    pos : ndarray, shape (2E, 3), float32
        ``pos[2i]`` is the source and ``pos[2i+1]`` the target of edge ``i``.
    colors : ndarray, shape (2E, 4), float32
    """
    ea = graph.edge_arrays()
    pos = graph.positions if positions is None else positions
    colors = edge_colors(graph, theme, presence=presence)
    src, dst = ea.src, ea.dst
    if lod is not False:
        budget = 20_000 if lod is True else int(lod)
        keep = edge_lod_mask(graph, budget, pos)
        src, dst, colors = src[keep], dst[keep], colors[keep]
    out = np.empty((2 * len(src), 3), dtype=np.float32)
    out[0::2] = pos[src]
    out[1::2] = pos[dst]
    return out, np.repeat(colors, 2, axis=0)


def importance(graph: ThoughtGraph, degree: np.ndarray | None = None) -> np.ndarray:
    """Label priority per node: attention, ties (and the all-zero case) broken by degree."""
    if degree is None:
        degree = node_degree(graph)
    d = degree.astype(np.float64)
    top = d.max() if len(d) else 0.0
    return np.clip(graph.attention, 0.0, None) + (1e-3 * d / top if top > 0 else 0.0)


def node_degree(graph: ThoughtGraph) -> np.ndarray:
    """In+out degree per node (int64)."""
    ea = graph.edge_arrays()
    n = len(graph)
    return np.bincount(ea.src, minlength=n) + np.bincount(ea.dst, minlength=n)


def label_rank(graph: ThoughtGraph, degree: np.ndarray | None = None) -> np.ndarray:
    """Label priority per node after the forced ones: activation first, then attention, then degree.

    Each term is scaled to [0, 1] by its maximum and weighted 2 : 1 : 0.001, so
    activation leads, attention breaks its ties and degree orders the rest
    (and everything when nothing is active or attended).
    """
    if degree is None:
        degree = node_degree(graph)
    out = np.zeros(len(graph), dtype=np.float64)
    for values, weight in ((graph.activation, 2.0), (graph.attention, 1.0), (degree, 1e-3)):
        v = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
        top = v.max() if len(v) else 0.0
        if top > 0:
            out += weight * v / top
    return out


def label_rows(
    graph: ThoughtGraph,
    top_k: int = 12,
    selected: Iterable[str] | None = None,
    hovered: str | None = None,
    *,
    presence: np.ndarray | None = None,
    degree: np.ndarray | None = None,
    max_selected: int = 40,
    visible: np.ndarray | None = None,
    rank: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Rows that get a label candidate, in priority order, and how many of them lead as forced.

    Parameters
    ----------
    graph : ThoughtGraph
    top_k : int
        Candidates ranked by :func:`label_rank` after the forced ones.
    selected : iterable of str, optional
        Selected ids (``None``: the ``SELECTED`` flags).
    hovered : str, optional
    presence : ndarray, optional
        Per-node presence (:func:`node_presence`): hidden nodes never get a
        label, and fully present nodes rank before dimmed ones (the hovered
        or selected neighbourhood before the rest).
    degree : ndarray, optional
        Cached :func:`node_degree`.
    max_selected : int
        At most this many selected nodes are forced.
    visible : ndarray of bool, optional
        Rows worth ranking (on screen); forced rows are kept regardless.
    rank : ndarray, optional
        Cached :func:`label_rank`.

    Returns
    -------
    rows : ndarray of int64
        Hovered, then selected, then the ``top_k`` best ranked, without duplicates.
    n_forced : int
        Leading rows that are hovered or selected.
    """
    n = len(graph)
    if n == 0:
        return np.empty(0, dtype=np.int64), 0
    pres = np.ones(n, dtype=np.float32) if presence is None else presence
    forced = np.concatenate([_rows(graph, [hovered] if hovered else None),
                             selected_rows(graph, selected)[:max_selected]]).astype(np.int64)
    if len(forced):
        forced = forced[pres[forced] > 0]
        _, first = np.unique(forced, return_index=True)
        forced = forced[np.sort(first)]
    rest = np.empty(0, dtype=np.int64)
    if top_k > 0:
        score = label_rank(graph, degree) if rank is None else rank
        # Fully present nodes first: while a neighbourhood is highlighted, its nodes are labelled first.
        score = score + 4.0 * (pres >= 1.0)
        ok = pres > 0
        if visible is not None:
            ok &= visible
        ok[forced] = False
        pool = np.flatnonzero(ok)
        if len(pool) > top_k:
            pool = pool[np.argpartition(-score[pool], top_k - 1)[:top_k]]
        rest = pool[np.argsort(-score[pool], kind="stable")]
    return np.concatenate([forced, rest]), len(forced)


def _label_text(graph: ThoughtGraph, node_id: str) -> str:
    node = graph.node(node_id)
    text = display_text(node.title) or node.id
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "\u2026"


def label_candidates(
    graph: ThoughtGraph,
    top_k: int = 12,
    selected: Iterable[str] | None = None,
    hovered: str | None = None,
    *,
    presence: np.ndarray | None = None,
    degree: np.ndarray | None = None,
    max_selected: int = 40,
    visible: np.ndarray | None = None,
) -> list[tuple[str, str, np.ndarray]]:
    """The nodes that get a text label: hovered, selected (up to ``max_selected``), then the best ranked.

    Hidden nodes never get a label. Returns ``(id, text, position)`` tuples,
    without duplicates, in :func:`label_rows` order; the text is the title
    cleaned for display (:func:`~orchestrator_gui.model.display.display_text`)
    and cut to :data:`LABEL_CHARS`.
    """
    rows, _ = label_rows(graph, top_k, selected, hovered, presence=presence, degree=degree,
                         max_selected=max_selected, visible=visible)
    pos = graph.positions[rows].astype(np.float32)
    return [(nid, _label_text(graph, nid), pos[k]) for k, nid in enumerate(graph.ids_of(rows))]


def sphere_wireframe(radius: float, *, meridians: int = 8, parallels: int = 5, segments: int = 96) -> np.ndarray:
    """Line segments, (2S, 3) float32, of a latitude/longitude wireframe sphere."""
    t = np.linspace(0.0, 2.0 * np.pi, segments + 1)
    rings = []
    # Parallels (circles of constant elevation, the poles excluded).
    for lat in np.linspace(-np.pi / 2, np.pi / 2, parallels + 2)[1:-1]:
        rings.append(np.stack([np.cos(lat) * np.cos(t), np.cos(lat) * np.sin(t), np.full_like(t, np.sin(lat))], 1))
    # Meridians (half great circles from pole to pole).
    half = np.linspace(-np.pi / 2, np.pi / 2, segments // 2 + 1)
    for lon in np.linspace(0.0, 2.0 * np.pi, meridians, endpoint=False):
        rings.append(np.stack([np.cos(half) * np.cos(lon), np.cos(half) * np.sin(lon), np.sin(half)], 1))
    segs = [np.stack([ring[:-1], ring[1:]], 1).reshape(-1, 3) for ring in rings]
    return (radius * np.concatenate(segs)).astype(np.float32)


def shell_meshes(radii: dict | None = None, **kwargs) -> list[tuple[str, float, np.ndarray]]:
    """Guide-sphere wireframes, one per layer: ``(layer name, radius, segments (2S, 3))``."""
    radii = SHELL_RADII if radii is None else radii
    return [(layer.value, float(radii[layer]), sphere_wireframe(float(radii[layer]), **kwargs)) for layer in LAYERS]


#: What the shells are called in the view and the legend, inner to outer.
SHELL_NAMES = {"goal": "Goals", "navigation": "Plans", "execution": "Execution"}
#: Where a shell's name sits on it: the far left, a little above the equator (unit vector).
_SHELL_LABEL_DIR = np.array([-0.80, -0.35, 0.48]) / np.linalg.norm([-0.80, -0.35, 0.48])


def shell_label_positions(radii: dict | None = None) -> tuple[list[str], np.ndarray]:
    """The shells' display names and where to draw them, ``(names, (3, 3) float32)``, inner to outer."""
    radii = SHELL_RADII if radii is None else radii
    names = [SHELL_NAMES[layer.value] for layer in LAYERS]
    pos = np.array([_SHELL_LABEL_DIR * float(radii[layer]) for layer in LAYERS], dtype=np.float32)
    return names, pos
