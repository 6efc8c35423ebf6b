"""The thought dynamics refresh: activation at a time, then attention seeded by it.

The app runs it on a timer and after a burst of changes, the CLI before
``graph active``/``attention``/``score``, the API on request: one function,
so all three show the same numbers for the same graph and time.
"""

from __future__ import annotations

from typing import Any

from orchestrator_gui.model.activation import update_activation
from orchestrator_gui.model.attention import update_attention
from orchestrator_gui.model.graph import ThoughtGraph


def refresh(graph: ThoughtGraph, now: float | None = None, *, attention: bool = True) -> Any:
    """Recompute activation (and the active/suppressed flags) at ``now``, then attention.

    Both are written to the graph's dynamic mirrors; they are not journaled
    as transactions (a store snapshots them).

    Parameters
    ----------
    graph : ThoughtGraph
    now : float, optional
        Unix seconds (default: now).
    attention : bool
        Also recompute attention (personalised PageRank seeded by activation).

    Returns
    -------
    ActivationResult
        What :func:`~orchestrator_gui.model.activation.update_activation` returned.
    """
    result = update_activation(graph, now)
    if attention:
        update_attention(graph)
    return result


__all__ = ["refresh"]
