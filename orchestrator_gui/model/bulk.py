"""Bulk construction of a ThoughtGraph from columns (arrays), bypassing per-edit overhead.

The validation and loading live in :mod:`orchestrator_gui.model.loading`,
which produces the graph's tables without knowing the graph class; the
functions here wrap those tables into a :class:`ThoughtGraph`.  A bulk build
is not a transaction: the result starts with an empty undo stack and emits no
events (nobody can be listening to a graph that did not exist).
"""

from __future__ import annotations

from typing import Any

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.loading import assemble, check_spherical_array
from orchestrator_gui.model.nodes import Node

__all__ = ["build", "check_spherical_array", "graph_from_arrays"]


def graph_from_arrays(ids: Any, kinds: Any, **kwargs: Any) -> ThoughtGraph:
    """Build a graph from columns; the same as :meth:`ThoughtGraph.from_arrays`.

    Parameters and errors: see :func:`orchestrator_gui.model.loading.tables_from_arrays`.
    """
    return ThoughtGraph.from_arrays(ids, kinds, **kwargs)


def build(nodes: list[Node], **columns: Any) -> ThoughtGraph:
    """Assemble a graph from validated nodes and matching columns (used by the snapshot and subgraph loaders).

    Keyword arguments: those of :func:`orchestrator_gui.model.loading.assemble`
    (``sph``, ``kind``, ``layer``, ``status``, ``created``, ``updated``,
    ``activation``, ``attention``, ``flags``, ``edge_src``, ``edge_dst``,
    ``edge_type``, ``edge_weight``, ``edge_metadata`` -- the last mapping edge
    rows to their non-empty metadata).
    """
    node_table, edge_table = assemble(nodes, **columns)
    return ThoughtGraph(nodes=node_table, edges=edge_table)
