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

from orchestrator_gui.workspace.history import UndoHistory, not_undoable, undo_position
from orchestrator_gui.workspace.session import NoGraphError, Session
from orchestrator_gui.workspace.thinking import Thinking, TransformOutcome, TransformRequest

__all__ = ["NoGraphError", "Session", "Thinking", "TransformOutcome", "TransformRequest", "UndoHistory",
           "not_undoable", "undo_position"]
