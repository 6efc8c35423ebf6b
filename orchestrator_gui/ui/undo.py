"""One undo stack for graph transforms and panel file edits (a ``QUndoStack``).

Two kinds of commands share the stack, so Edit > Undo always undoes the last
thing the user did, whatever it was:

* :class:`GraphCommand` wraps a committed model :class:`Transaction`. Undo
  applies ``tx.inverse()`` through the store (journaled, record=False, so the
  graph's own history stays out of the way); redo applies ``tx.replay()``.
  Both are exact: resolved edits carry rows and before-values.
* :class:`FileEditCommand` holds a workspace file's bytes before and after a
  panel edit. Undo writes the *before* bytes back, but only if the file still
  holds the *after* bytes (``atomic_write(expected=…)``); otherwise nothing is
  written and the user is told, so an agent's later write is never lost.

The first application happens *before* the command is pushed (so a conflict
raises to the caller, who can offer reload or merge), and the command's first
``redo()``—which ``QUndoStack.push`` calls—does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from orchestrator_gui.formats.fileio import atomic_write
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.ui.errors import ErrorReporter

ApplyTx = Callable[[Transaction], Transaction]


class GraphCommand(QUndoCommand):
    """A committed graph transaction on the undo stack.

    Parameters
    ----------
    controller : UndoController
    committed : Transaction
        The resolved transaction as the graph committed it.
    """

    def __init__(self, controller: UndoController, committed: Transaction) -> None:
        super().__init__(committed.description or committed.provenance.operation)
        self._ctl = controller
        self.current = committed
        self._skip_redo = True

    def undo(self) -> None:
        try:
            self._ctl.apply_tx(self.current.inverse(actor="user"))
        except Exception as exc:  # noqa: BLE001 - reported, and the stale command dropped
            self._ctl.reporter.report(exc, context=f"Cannot undo “{self.text()}”")
            self.setObsolete(True)

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        try:
            self.current = self._ctl.apply_tx(self.current.replay(actor="user"))
        except Exception as exc:  # noqa: BLE001
            self._ctl.reporter.report(exc, context=f"Cannot redo “{self.text()}”")
            self.setObsolete(True)


class FileEditCommand(QUndoCommand):
    """A panel's edit of one workspace file: its bytes before and after.

    Parameters
    ----------
    controller : UndoController
    path : path-like
    before, after : bytes
        ``before`` is ``None`` when the edit created the file.
    text : str
        What the Edit menu shows ("Check TODO item", ...).
    """

    def __init__(self, controller: UndoController, path: str | os.PathLike[str], before: bytes | None,
                 after: bytes, text: str) -> None:
        super().__init__(text)
        self._ctl = controller
        self.path = Path(path)
        self.before = before
        self.after = after
        self._skip_redo = True

    def undo(self) -> None:
        try:
            if self.before is None:
                raise ValueError(f"{self.path}: undoing the creation of a file is not supported; delete it by hand")
            atomic_write(self.path, self.before, expected=self.after)
        except Exception as exc:  # noqa: BLE001
            self._ctl.reporter.report(exc, context=f"Cannot undo “{self.text()}”")
            self.setObsolete(True)
            return
        self._ctl.file_written.emit(str(self.path))

    def redo(self) -> None:
        if self._skip_redo:
            self._skip_redo = False
            return
        try:
            atomic_write(self.path, self.after, expected=self.before, create=self.before is None)
        except Exception as exc:  # noqa: BLE001
            self._ctl.reporter.report(exc, context=f"Cannot redo “{self.text()}”")
            self.setObsolete(True)
            return
        self._ctl.file_written.emit(str(self.path))


class UndoController(QObject):
    """Owns the app's single ``QUndoStack`` and performs the first application of each command.

    Signals
    -------
    file_written(str)
        A file was written by an undo/redo (or a first edit); panels reload it now
        instead of waiting for the file watcher.

    Parameters
    ----------
    apply_tx : callable
        ``apply_tx(tx) -> committed``; the session passes ``store.apply(tx, record=False)``.
    reporter : ErrorReporter
    """

    file_written = Signal(str)

    def __init__(self, apply_tx: ApplyTx, reporter: ErrorReporter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.apply_tx = apply_tx
        self.reporter = reporter
        self.stack = QUndoStack(self)

    def push_transaction(self, tx: Transaction) -> Transaction:
        """Apply ``tx`` and put it on the stack; exceptions propagate and nothing is pushed.

        Returns
        -------
        Transaction
            The committed transaction.
        """
        committed = self.apply_tx(tx)
        if committed.edits:
            self.stack.push(GraphCommand(self, committed))
        return committed

    def push_committed(self, committed: Transaction) -> None:
        """Put a transaction that something else (a worker's result) already applied on the stack."""
        if committed.edits:
            self.stack.push(GraphCommand(self, committed))

    def push_file_edit(self, path: str | os.PathLike[str], before: bytes | None, after: bytes, text: str) -> None:
        """Write ``after`` over ``before`` and put the edit on the stack.

        Raises
        ------
        ConflictError
            When the file on disk no longer holds ``before``; nothing is written or pushed.
        """
        if before == after:
            return
        atomic_write(path, after, expected=before, create=before is None)
        self.stack.push(FileEditCommand(self, path, before, after, text))
        self.file_written.emit(str(path))

    def clear(self) -> None:
        """Forget all commands (another workspace was opened)."""
        self.stack.clear()
