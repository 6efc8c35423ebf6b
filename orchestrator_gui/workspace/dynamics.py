"""The thought dynamics refresh: activation at a time, then attention seeded by it.

The app runs it on a timer and after a burst of changes, the CLI before
``graph active``/``attention``/``score``, the API on request: one function,
so all three show the same numbers for the same graph and time.

Suppressed nodes
----------------
The ``SUPPRESSED`` flag (what the view dims and ``next`` skips) follows the
marks, not the moment: a node is flagged when it is pruned or folded, or
suppressed by :mod:`~orchestrator_gui.workspace.suppression` after staying
idle for ``[dynamics] suppress_after_s``. A low activation alone no longer
flags a node (``update_activation``'s instant threshold is set to 0 here).
Suppressed nodes get no attention either: they seed none (their activation
is 0) and the share PageRank would give them is spread over the others.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from orchestrator_gui.model.activation import DEFAULT_PARAMS, update_activation
from orchestrator_gui.model.attention import update_attention
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.pruning import blocked_mask

#: The activation constants of a refresh: only marks suppress (see the module docstring).
PARAMS = replace(DEFAULT_PARAMS, suppress_threshold=0.0)


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
    result = update_activation(graph, now, PARAMS)
    if attention:
        scores = update_attention(graph)
        out = blocked_mask(graph)
        if out.any() and not out.all():
            scores = np.where(out, 0.0, scores)
            total = float(scores.sum())
            if total > 0:
                graph.set_attention(scores / total)
    return result


__all__ = ["refresh"]
