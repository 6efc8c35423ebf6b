"""Ask before opening a folder would create ``.orchestrator/`` in it (see :mod:`orchestrator_gui.workspace.opening`)."""

from __future__ import annotations

from typing import Any

from orchestrator_gui.workspace.opening import OpenPlan

KEEP = "Keep the graph here"
MEMORY = "Open in memory"


def graph_in_memory(plan: OpenPlan, keep_graph: bool | None, prompter: Any) -> bool | None:
    """Whether to open ``plan``'s folder with the graph in memory; ``None``: the user cancelled.

    ``keep_graph`` True/False decides without asking (False still uses a store
    that exists: it holds the user's thoughts); ``None`` asks when keeping a
    store would create ``.orchestrator/``.
    """
    if keep_graph is False:
        return not plan.has_store
    if keep_graph or not plan.needs_consent:
        return False
    text, detail = plan.question()
    answer = prompter.choose("Open workspace", text, [KEEP, MEMORY] if plan.is_workspace else [MEMORY],
                             detail=detail)
    return None if answer is None else answer == MEMORY


__all__ = ["KEEP", "MEMORY", "graph_in_memory"]
