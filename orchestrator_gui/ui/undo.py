"""The Qt edge of the one undo history: Edit ▸ Undo/Redo over :class:`~orchestrator_gui.workspace.history.UndoHistory`.

The history itself (graph transactions from the journal, panel file edits in
memory) lives in the application layer, shared with the CLI and the API, so
a transform made with the CLI is undone here and the other way round. This
adapter only reports failures to the user and turns the history's psygnal
events into Qt signals for the Edit menu and the panels.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject, Signal

from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.ui.errors import ErrorReporter
from orchestrator_gui.workspace.history import Undone


class UndoController(QObject):
    """Edit ▸ Undo/Redo for one session.

    Signals
    -------
    changed()
        What can be undone or redone changed.
    file_written(str)
        A file was written by an undo/redo (or a first edit); panels reload it now
        instead of waiting for the file watcher.

    Parameters
    ----------
    session : workspace.Session
    reporter : ErrorReporter
    """

    changed = Signal()
    file_written = Signal(str)

    def __init__(self, session: Any, reporter: ErrorReporter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.history = session.history
        self.reporter = reporter
        self.history.events.changed.connect(self._relay_changed)
        self.history.events.file_written.connect(self._relay_written)

    def _relay_changed(self) -> None:
        self.changed.emit()

    def _relay_written(self, path: str) -> None:
        self.file_written.emit(path)

    # -- state for the Edit menu -------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        """True when there is something to undo."""
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        """True when there is something to redo."""
        return self.history.can_redo

    @property
    def undo_text(self) -> str:
        """What Undo would undo."""
        return self.history.undo_text

    @property
    def redo_text(self) -> str:
        """What Redo would redo."""
        return self.history.redo_text

    # -- recording --------------------------------------------------------------------------
    def push_transaction(self, tx: Transaction) -> Transaction:
        """Apply ``tx`` through the session and put it on the history; exceptions propagate, nothing is recorded."""
        return self.session.apply(tx)

    def push_file_edit(self, path: str | os.PathLike[str], before: bytes | None, after: bytes, text: str) -> None:
        """Write ``after`` over ``before`` and put the edit on the history.

        Raises
        ------
        ConflictError
            When the file on disk no longer holds ``before``; nothing is written or recorded.
        """
        self.history.write_file(path, before, after, text)

    # -- undo and redo -------------------------------------------------------------------------
    def undo(self) -> Undone | None:
        """Undo the newest step; a step that cannot be undone is reported and dropped."""
        if not self.history.can_undo:
            return None
        text = self.history.undo_text
        with self.reporter.guard(f"Cannot undo “{text}”") as g:
            done = self.history.undo()
        return None if g.failed else done

    def redo(self) -> Undone | None:
        """Redo the newest undone step; a step that cannot be redone is reported and dropped."""
        if not self.history.can_redo:
            return None
        text = self.history.redo_text
        with self.reporter.guard(f"Cannot redo “{text}”") as g:
            done = self.history.redo()
        return None if g.failed else done

    def close(self) -> None:
        """Stop relaying the history's events (the session is closing)."""
        self.history.events.changed.disconnect(self._relay_changed)
        self.history.events.file_written.disconnect(self._relay_written)
