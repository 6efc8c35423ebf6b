"""The application layer: the use cases the desktop app, the CLI and the API share (no Qt, no vispy).

Each use case is written here once; ``ui/``, ``cli/`` (and ``api/``) only
translate widgets, arguments or requests into these calls and show results.

Modules
-------
session    Session: open a workspace (store or memory), per-file sync, apply, one undo history, node lookup
history    UndoHistory: journal-backed graph steps and in-memory file steps; undo_position from the journal
thinking   Thinking: transforms with the configured thinkers, on a snapshot, as engine tasks returning values
dynamics   refresh: activation and attention, for the app's timer and the CLI's commands
runs       Runs: run now, the scheduler loop and the run-node sync on an engine
run_nodes  GraphSync: a run node per engine run, linked to its schedule or TODO item, with live activation
"""

from __future__ import annotations

import importlib
from typing import Any

#: Where each export lives. Imported on first use: a command such as ``schedules set`` reaches one use
#: case module of this package and must not pay for the session, the store and scipy (~35 MB) with it.
_EXPORTS = {
    "UndoHistory": "history", "not_undoable": "history", "undo_position": "history",
    "NoGraphError": "session", "Session": "session",
    "Thinking": "thinking", "TransformOutcome": "thinking", "TransformRequest": "thinking",
}

__all__ = ["NoGraphError", "Session", "Thinking", "TransformOutcome", "TransformRequest", "UndoHistory",
           "not_undoable", "undo_position"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
