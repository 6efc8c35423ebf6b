"""One undo history for the app, the CLI and the API: graph transactions from the journal, file edits in memory.

Graph steps are journal-backed. Every transaction the session commits is
journaled by the store; undoing one applies ``tx.inverse()`` (operation
``undo``, params ``{"of": TX}``) and redoing applies ``tx.replay()``
(operation ``redo``, params ``{"of": TX}``), both journaled too. So the undo
position can be read back from the journal alone (:func:`undo_position`),
and a process that opens the workspace later -- the CLI after the app, the
app after the CLI, the API after either -- continues the same history.

Rules of :func:`undo_position`, walking the journal oldest first:

* an ordinary transaction is pushed on the undo stack and clears the redo stack;
* ``undo`` of ``TX`` moves ``TX`` to the redo stack;
* ``redo`` of ``TX`` takes ``TX`` off the redo stack and pushes the redo itself;
* a transaction marked not undoable (:func:`not_undoable`: the app's
  automatic file syncs, activation touches, the engine's run records) is
  skipped: it neither becomes a step nor clears the redo stack;
* a ``reset`` record of ``graph import`` (the whole graph replaced, see
  :data:`RESET_STEPS`) is a step like a transaction, when the history can
  undo resets (it was given a ``reset_change``, see below);
* any other ``reset`` record (a fresh build) or a damaged record clears both
  stacks: what lies before it can only be reached with ``graph restore``.

Undoing a reset
---------------
A reset has no edits to invert: the new graph is only in the store's base
snapshot. Undoing one applies the difference between the graph now and the
graph just before the reset (:func:`store_reset_change`, operation ``undo``,
params ``{"of": RESET}``); redoing it applies the difference to the graph
the reset made (operation ``redo``). Both are ordinary journaled
transactions, so the rules above read them back like any undo and redo, and
the contents (ids, every field, positions, edges) come back exactly; row
order and the dynamic values of nodes present on both sides follow
:func:`~orchestrator_gui.store.diff.diff_to_transaction`.

File steps are a panel's edit of one workspace file (its bytes before and
after). They live only as long as the process: the files are their own
record. Undo writes the *before* bytes back only if the file still holds the
*after* bytes, so an agent's later write is never lost.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psygnal import Signal, SignalGroup

from orchestrator_gui.formats.fileio import atomic_write
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.transactions import Transaction
from orchestrator_gui.store.diff import diff_to_transaction

#: Provenance param that marks a transaction as kept off the undo history.
UNDOABLE_PARAM = "undoable"
#: Operations of ``reset`` journal records that are undo steps: an import. A fresh build is not (its
#: "before" is an empty store), nor is any reset whose params say ``{"undoable": false}``.
RESET_STEPS = frozenset({"import"})

#: ``reset_change(reset_tx_id, operation, description) -> Transaction``: the unapplied transaction that
#: takes the graph to its state before (``operation="undo"``) or after (``"redo"``) a reset record.
ResetChange = Callable[[str, str, str], Transaction]


def not_undoable(tx: Transaction) -> Transaction:
    """``tx`` marked as not undoable (params ``{"undoable": false}``), so no history ever offers to undo it."""
    if tx.provenance.params.get(UNDOABLE_PARAM) is False:
        return tx
    provenance = tx.provenance.model_copy(update={"params": {**tx.provenance.params, UNDOABLE_PARAM: False}})
    return tx.model_copy(update={"provenance": provenance})


def is_undoable(params: dict[str, Any]) -> bool:
    """Whether a transaction with these provenance params belongs on the undo history."""
    return params.get(UNDOABLE_PARAM) is not False


def is_reset_step(entry: Any) -> bool:
    """Whether a journal history entry is a ``reset`` that the history offers as a step (an import)."""
    return (entry.valid and entry.kind == "reset" and entry.operation in RESET_STEPS
            and is_undoable(entry.params))


def undo_position(entries: Iterable[Any], *, resets: bool = False) -> tuple[list[str], list[str]]:
    """The undo and redo stacks (transaction ids, newest last) implied by journal history entries.

    Parameters
    ----------
    entries : iterable of HistoryEntry
        :meth:`GraphStore.history`, oldest first (see the module docstring for the rules).
    resets : bool
        Treat the resets of :func:`is_reset_step` as steps (the history can undo them); otherwise
        every reset clears both stacks.
    """
    undo: list[str] = []
    redo: list[str] = []
    for e in entries:
        if not e.valid or (e.kind != "tx" and not (resets and is_reset_step(e))):
            undo.clear()
            redo.clear()
            continue
        if not is_undoable(e.params):
            continue
        target = e.params.get("of")
        if e.operation == "undo" and isinstance(target, str):
            if target in undo:
                undo.remove(target)
            redo.append(target)
        elif e.operation == "redo" and isinstance(target, str):
            if target in redo:
                redo.remove(target)
            undo.append(e.tx_id)
        else:
            undo.append(e.tx_id)
            redo.clear()
    return undo, redo


@dataclass
class GraphStep:
    """A committed graph transaction on the history (loaded from the journal when first needed).

    ``reset`` is true for a ``reset`` record (an import): it is undone and
    redone through the history's ``reset_change``, not by inverting edits.
    """

    tx_id: str
    text: str
    committed: Transaction | None = None
    reset: bool = False


@dataclass
class FileStep:
    """A panel's edit of one workspace file: ``before`` is ``None`` when the edit created the file."""

    path: Path
    before: bytes | None
    after: bytes
    text: str


Step = GraphStep | FileStep


@dataclass
class Undone:
    """What one undo or redo did.

    Attributes
    ----------
    step : GraphStep or FileStep
        The step undone or redone.
    committed : Transaction or None
        For a graph step, the committed ``undo``/``redo`` transaction.
    """

    step: Step
    committed: Transaction | None = None
    written: list[str] = field(default_factory=list)


class HistoryEvents(SignalGroup):
    """Events of an :class:`UndoHistory`.

    changed()
        What can be undone or redone changed (the Edit menu's texts).
    file_written(str)
        A file step wrote this path (the session syncs it now, not after the watcher's quiet period).
    """

    changed = Signal()
    file_written = Signal(str)


class UndoHistory:
    """Undo and redo stacks of graph and file steps.

    Parameters
    ----------
    apply : callable
        ``apply(tx) -> committed``: commits an undo/redo transaction (journaled, kept as it is).
    load : callable, optional
        ``load(tx_id) -> Transaction``: a committed transaction from the journal.
    limit : int
        At most this many steps are kept on each stack.
    reset_change : callable, optional
        See :data:`ResetChange` and :func:`store_reset_change`. Without it,
        an import's reset record is a barrier, as a fresh build's is.
    """

    def __init__(self, apply: Callable[[Transaction], Transaction],
                 load: Callable[[str], Transaction] | None = None, *, limit: int = 1000,
                 reset_change: ResetChange | None = None) -> None:
        self._apply = apply
        self._load = load
        self._reset_change = reset_change
        self.limit = limit
        self.undo_steps: list[Step] = []
        self.redo_steps: list[Step] = []
        self.events = HistoryEvents()

    # -- reading -----------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        """True when there is something to undo."""
        return bool(self.undo_steps)

    @property
    def can_redo(self) -> bool:
        """True when there is something to redo."""
        return bool(self.redo_steps)

    @property
    def undo_text(self) -> str:
        """What :meth:`undo` would undo ("" when nothing)."""
        return self.undo_steps[-1].text if self.undo_steps else ""

    @property
    def redo_text(self) -> str:
        """What :meth:`redo` would redo ("" when nothing)."""
        return self.redo_steps[-1].text if self.redo_steps else ""

    # -- seeding and recording ------------------------------------------------------------------
    def seed(self, entries: Iterable[Any]) -> None:
        """Take the undo position from journal entries (oldest first), replacing whatever was here."""
        entries = list(entries)
        texts = {e.tx_id: e.description or e.operation for e in entries if e.valid}
        resets = {e.tx_id for e in entries if e.kind == "reset"}
        undo, redo = undo_position(entries, resets=self._reset_change is not None)
        self.undo_steps = [GraphStep(i, texts.get(i, i), reset=i in resets) for i in undo[-self.limit:]]
        self.redo_steps = [GraphStep(i, texts.get(i, i), reset=i in resets) for i in redo[-self.limit:]]
        self.events.changed.emit()

    def _push(self, step: Step) -> None:
        self.undo_steps.append(step)
        del self.undo_steps[: -self.limit]
        self.redo_steps.clear()
        self.events.changed.emit()

    def record(self, committed: Transaction) -> None:
        """Put a committed, undoable transaction on the history (clears what could be redone)."""
        if committed.edits and is_undoable(committed.provenance.params):
            self._push(GraphStep(committed.id, committed.description or committed.provenance.operation, committed))

    def write_file(self, path: str | os.PathLike[str], before: bytes | None, after: bytes, text: str) -> None:
        """Write ``after`` over ``before`` and put the edit on the history.

        Raises
        ------
        ConflictError
            The file no longer holds ``before``; nothing is written or recorded.
        """
        if before == after:
            return
        atomic_write(path, after, expected=before, create=before is None)
        self._push(FileStep(Path(path), before, after, text))
        self.events.file_written.emit(str(path))

    def clear(self) -> None:
        """Forget every step (another workspace was opened)."""
        self.undo_steps.clear()
        self.redo_steps.clear()
        self.events.changed.emit()

    # -- undo and redo -------------------------------------------------------------------------
    def _target(self, step: GraphStep) -> Transaction:
        if step.committed is None:
            if self._load is None:
                raise ValueError(f"transaction {step.tx_id} is not in memory and there is no journal")
            step.committed = self._load(step.tx_id)
        return step.committed

    def _reset_tx(self, step: GraphStep, operation: str) -> Transaction:
        if self._reset_change is None:
            raise ValueError(f"{step.text!r} replaced the whole graph and this history cannot undo that")
        text = f"Undo {step.text}" if operation == "undo" else step.text
        return self._reset_change(step.tx_id, operation, text)

    def undo(self) -> Undone:
        """Undo the newest step.

        A step that cannot be undone (the graph or the file changed since in a
        way its inverse cannot apply to) is dropped and the error raised, so
        the history never gets stuck on it.

        Raises
        ------
        IndexError
            Nothing to undo.
        """
        if not self.undo_steps:
            raise IndexError("nothing to undo")
        step = self.undo_steps.pop()
        try:
            if isinstance(step, GraphStep) and step.reset:
                done = Undone(step, self._apply(self._reset_tx(step, "undo")))
            elif isinstance(step, GraphStep):
                done = Undone(step, self._apply(self._target(step).inverse(actor="user")))
            else:
                if step.before is None:
                    raise ValueError(f"{step.path}: undoing the creation of a file is not supported; "
                                     "delete it by hand")
                atomic_write(step.path, step.before, expected=step.after)
                done = Undone(step, written=[str(step.path)])
        except BaseException:
            self.events.changed.emit()
            raise
        self.redo_steps.append(step)
        self.events.changed.emit()
        for path in done.written:
            self.events.file_written.emit(path)
        return done

    def redo(self) -> Undone:
        """Redo the newest undone step (dropped, with the error raised, when it cannot be redone).

        Raises
        ------
        IndexError
            Nothing to redo.
        """
        if not self.redo_steps:
            raise IndexError("nothing to redo")
        step = self.redo_steps.pop()
        try:
            if isinstance(step, GraphStep):
                tx = self._reset_tx(step, "redo") if step.reset else self._target(step).replay(actor="user")
                committed = self._apply(tx)
                done = Undone(step, committed)
                again: Step = GraphStep(committed.id, step.text, committed)
            else:
                atomic_write(step.path, step.after, expected=step.before, create=step.before is None)
                done, again = Undone(step, written=[str(step.path)]), step
        except BaseException:
            self.events.changed.emit()
            raise
        self.undo_steps.append(again)
        self.events.changed.emit()
        for path in done.written:
            self.events.file_written.emit(path)
        return done


def store_reset_change(store: Any) -> ResetChange:
    """The ``reset_change`` of a history on ``store`` (a :class:`~orchestrator_gui.store.GraphStore`).

    The transaction it makes takes ``store.graph`` (the live graph) to the
    store's graph right before the reset (``"undo"``; an empty graph before
    the first record) or right after it (``"redo"``), like ``graph restore``
    does; it is empty when the graph already has that content.
    """

    def change(tx_id: str, operation: str, description: str) -> Transaction:
        after = store.graph_at(tx_id)
        if operation == "undo":
            seq = after.last_seq
            target = store.graph_at(seq - 1).graph if seq > 1 else ThoughtGraph()
        elif operation == "redo":
            target = after.graph
        else:
            raise ValueError(f"operation must be 'undo' or 'redo', not {operation!r}")
        return diff_to_transaction(store.graph, target, operation=operation, params={"of": tx_id},
                                   description=description)

    return change


__all__ = ["FileStep", "GraphStep", "HistoryEvents", "RESET_STEPS", "ResetChange", "UNDOABLE_PARAM", "UndoHistory",
           "Undone", "is_reset_step", "is_undoable", "not_undoable", "store_reset_change", "undo_position"]
