"""Bulk loading: validated columns -> a filled node table and edge table, bypassing per-edit overhead.

Building 100k nodes and 500k edges through transactions would take minutes;
:func:`tables_from_arrays` validates whole columns with numpy and creates the
node models in one pydantic batch, which takes about a second.

This module knows nothing of :class:`~orchestrator_gui.model.graph.ThoughtGraph`
(which imports it for ``from_arrays``); :mod:`orchestrator_gui.model.bulk`
wraps the tables into a graph for callers that want one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import TypeAdapter

from orchestrator_gui.model.coords import HALF_PI, MIN_RADIUS, TWO_PI
from orchestrator_gui.model.edge_table import EdgeTable
from orchestrator_gui.model.errors import DuplicateError
from orchestrator_gui.model.node_table import NodeTable
from orchestrator_gui.model.nodes import (
    DEFAULT_LAYER,
    EDGE_TYPE_INDEX,
    KIND_INDEX,
    KINDS,
    LAYER_INDEX,
    LAYERS,
    STATUS_INDEX,
    STATUSES,
    Node,
)

_NODE_LIST = TypeAdapter(list[Node])


def _codes(values: Any, index: dict[str, int], n: int, what: str) -> np.ndarray:
    """Turn names or integer codes into an int8 code array of length ``n``."""
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{what} must have one entry per item ({n}), got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        codes = arr.astype(np.int64)
    else:
        lookup = {name: code for name, code in index.items()}
        try:
            codes = np.fromiter((lookup[str(v)] for v in arr.tolist()), dtype=np.int64, count=n)
        except KeyError as exc:
            raise ValueError(f"unknown {what} {exc.args[0]!r}") from None
    if n and (codes.min() < 0 or codes.max() >= len(index)):
        raise ValueError(f"{what} code out of range")
    return codes.astype(np.int8)


def _column(values: Any, n: int, what: str, dtype: Any, default: Any) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=dtype)
    arr = np.asarray(values, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{what} must have shape ({n},), got {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite")
    return arr


def check_spherical_array(sph: np.ndarray) -> None:
    """Vectorised :func:`~orchestrator_gui.model.coords.check_spherical` for an (N, 3) array."""
    if not np.all(np.isfinite(sph)):
        raise ValueError("positions must be finite")
    t, p, r = sph[:, 0], sph[:, 1], sph[:, 2]
    if np.any((t < 0) | (t >= TWO_PI)) or np.any(np.abs(p) > HALF_PI) or np.any(r < MIN_RADIUS):
        raise ValueError("positions must be canonical: theta in [0, 2pi), phi in [-pi/2, pi/2], r >= MIN_RADIUS")


def tables_from_arrays(
    ids: Sequence[str],
    kinds: Any,
    *,
    layers: Any = None,
    spherical: np.ndarray | None = None,
    titles: Sequence[str] | None = None,
    contents: Sequence[str] | None = None,
    statuses: Any = None,
    created: Any = None,
    updated: Any = None,
    edge_src: Any = None,
    edge_dst: Any = None,
    edge_types: Any = None,
    edge_weights: Any = None,
    activation: Any = None,
    attention: Any = None,
    flags: Any = None,
    now: float | None = None,
) -> tuple[NodeTable, EdgeTable]:
    """Validate columns and load them into a new node table and edge table.

    Parameters
    ----------
    ids : sequence of str
        Unique node ids; row ``i`` of the result is ``ids[i]``.
    kinds, layers, statuses : array_like
        Names (``"todo"``) or integer codes (indices into ``KINDS``, ``LAYERS``,
        ``STATUSES``).  ``layers`` defaults per kind, ``statuses`` to ``open``.
    spherical : ndarray, shape (N, 3), optional
        Canonical ``(theta, phi, r)``; default: a deterministic spread on each
        layer's shell (:func:`orchestrator_gui.model.layout.initial_positions`).
    titles, contents : sequence of str, optional
    created, updated : array_like, optional
        Unix seconds; default ``now`` (``time.time()``).
    edge_src, edge_dst : array_like of int
        Edge endpoints as rows into ``ids``.
    edge_types : array_like
        Edge type names or codes; ``edge_weights`` default to 1.0.
    activation, attention, flags : array_like, optional
        Initial dynamic values.

    Returns
    -------
    tuple of NodeTable, EdgeTable

    Raises
    ------
    ValueError
        For mismatched lengths, unknown names, non-canonical positions,
        out-of-range rows or self-loops.
    DuplicateError
        For repeated ids or repeated ``(src, dst, type)`` edges.
    """
    ids = list(ids)
    n = len(ids)
    if len(set(ids)) != n:
        raise DuplicateError("node ids must be unique")
    kind_codes = _codes(kinds, KIND_INDEX, n, "kind")
    if layers is None:
        lookup = np.array([LAYER_INDEX[DEFAULT_LAYER[k].value] for k in KINDS], dtype=np.int8)
        layer_codes = lookup[kind_codes]
    else:
        layer_codes = _codes(layers, LAYER_INDEX, n, "layer")
    status_codes = _codes(statuses, STATUS_INDEX, n, "status") if statuses is not None else np.zeros(n, np.int8)
    if spherical is None:
        # layout imports nothing of the graph at run time; imported here only because few builds need it.
        from orchestrator_gui.model.layout import initial_positions

        sph = initial_positions(layer_codes)
    else:
        sph = np.array(spherical, dtype=np.float64).reshape(n, 3)
        check_spherical_array(sph)
    stamp = time.time() if now is None else float(now)
    created_a = _column(created, n, "created", np.float64, stamp)
    updated_a = _column(updated, n, "updated", np.float64, stamp)
    titles = [""] * n if titles is None else list(titles)
    contents = [""] * n if contents is None else list(contents)
    if len(titles) != n or len(contents) != n:
        raise ValueError("titles and contents need one entry per node")
    kind_names = [k.value for k in KINDS]
    layer_names = [k.value for k in LAYERS]
    status_names = [s.value for s in STATUSES]
    sph_l = sph.tolist()
    rows = [
        {
            "id": ids[i],
            "kind": kind_names[kc],
            "layer": layer_names[lc],
            "status": status_names[sc],
            "title": titles[i],
            "content": contents[i],
            "theta": sph_l[i][0],
            "phi": sph_l[i][1],
            "r": sph_l[i][2],
            "created": cr,
            "updated": up,
        }
        for i, (kc, lc, sc, cr, up) in enumerate(
            zip(
                kind_codes.tolist(),
                layer_codes.tolist(),
                status_codes.tolist(),
                created_a.tolist(),
                updated_a.tolist(),
                strict=True,
            )
        )
    ]
    nodes = _NODE_LIST.validate_python(rows)
    m = 0 if edge_src is None else len(edge_src)
    src = np.asarray(edge_src if edge_src is not None else [], dtype=np.int64)
    dst = np.asarray(edge_dst if edge_dst is not None else [], dtype=np.int64)
    etypes = _codes(edge_types if edge_types is not None else [], EDGE_TYPE_INDEX, m, "edge type")
    weights = _column(edge_weights, m, "edge weights", np.float64, 1.0)
    return assemble(
        nodes,
        sph=sph,
        kind=kind_codes,
        layer=layer_codes,
        status=status_codes,
        created=created_a,
        updated=updated_a,
        activation=_column(activation, n, "activation", np.float64, 0.0),
        attention=_column(attention, n, "attention", np.float64, 0.0),
        flags=_column(flags, n, "flags", np.uint32, 0),
        edge_src=src,
        edge_dst=dst,
        edge_type=etypes,
        edge_weight=weights,
        edge_metadata={},
    )


def assemble(
    nodes: list[Node],
    *,
    sph: np.ndarray,
    kind: np.ndarray,
    layer: np.ndarray,
    status: np.ndarray,
    created: np.ndarray,
    updated: np.ndarray,
    activation: np.ndarray,
    attention: np.ndarray,
    flags: np.ndarray,
    edge_src: np.ndarray,
    edge_dst: np.ndarray,
    edge_type: np.ndarray,
    edge_weight: np.ndarray,
    edge_metadata: dict[int, dict],
) -> tuple[NodeTable, EdgeTable]:
    """Load validated nodes and matching columns into a new node table and edge table.

    The node columns must agree with the models (they are not re-derived);
    the edge columns are checked (:meth:`EdgeTable.load`).  ``edge_metadata``
    maps edge rows to their (non-empty) metadata.
    """
    node_table = NodeTable()
    node_table.load(
        nodes,
        {
            "sph": sph,
            "kind": kind,
            "layer": layer,
            "status": status,
            "created": created,
            "updated": updated,
            "activation": activation,
            "attention": attention,
            "flags": flags,
        },
    )
    edge_table = EdgeTable(node_table)
    edge_table.load(edge_src, edge_dst, edge_type, edge_weight, edge_metadata)
    return node_table, edge_table
