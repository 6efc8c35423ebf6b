"""Ask before opening a folder would create ``.orchestrator/`` in it (see :mod:`orchestrator_gui.workspace.opening`)."""

from __future__ import annotations

from typing import Any

from orchestrator_gui.workspace.opening import OpenPlan

KEEP = "Keep the graph here"
MEMORY = "Open in memory"
#: Offered for a folder with none of the workspace files: make it one (``init``), or look at the demo instead.
CREATE = "Create a workspace here (init)"
DEMO = "Open the demo"


def choose_open(plan: OpenPlan, keep_graph: bool | None, prompter: Any) -> str:
    """How to open ``plan``'s folder: ``"store"``, ``"memory"``, ``"create"``, ``"demo"`` or ``"cancel"``.

    ``keep_graph`` True/False decides without asking (False still uses a store
    that exists: it holds the user's thoughts); ``None`` asks when keeping a
    store would create ``.orchestrator/``. A folder with none of the
    workspace files is offered to become one (the ``init`` files, written
    only on that answer), the demo, or a look in memory.
    """
    if keep_graph is False:
        return "memory" if not plan.has_store else "store"
    if keep_graph or not plan.needs_consent:
        return "store"
    text, detail = plan.question()
    options = [KEEP, MEMORY] if plan.is_workspace else [CREATE, DEMO, MEMORY]
    answer = prompter.choose("Open workspace", text, options, detail=detail)
    return {KEEP: "store", MEMORY: "memory", CREATE: "create", DEMO: "demo"}.get(answer, "cancel")


__all__ = ["CREATE", "DEMO", "KEEP", "MEMORY", "choose_open"]
