"""An in-place TODO edit that outlives a reload of the file.

Agents write ``TODO.md`` while the user types in the tree. Rebuilding the
tree for their change used to destroy the open editor and, with it, what had
been typed. :func:`capture_edit` takes the editor's state before the rebuild;
:func:`resume_edit` finds the item again by identity afterwards and reopens
the editor with the typed text. When the other program changed that very
item (its identity is gone), the user decides, with both texts shown: keep
mine (go on editing that item with my text) or keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem

KEEP_MINE = "Keep mine"
KEEP_THEIRS = "Keep theirs"


@dataclass(frozen=True)
class EditInProgress:
    """The open editor of a tree row: which item, what was typed, where the cursor was."""

    key: tuple[str, str, str]
    typed: str
    cursor: int
    ordinal: int   # the item's position among the file's items (found again by position if its text changed)
    original: str  # the item's text when the editor opened


def _editor(tree: QTreeWidget) -> QLineEdit | None:
    # The delegate's editor is a QLineEdit child of the viewport while a row is being edited.
    if tree.state() != QAbstractItemView.State.EditingState:
        return None
    shown = [w for w in tree.viewport().findChildren(QLineEdit) if w.isVisible()]
    return shown[0] if shown else None


def capture_edit(tree: QTreeWidget, key: Any, ordinal: int, original: str) -> EditInProgress | None:
    """The edit under way in ``tree`` on the row of ``key`` (None when no editor is open)."""
    editor = _editor(tree)
    if editor is None or key is None or key[0] != "item":
        return None
    return EditInProgress(tuple(key), editor.text(), editor.cursorPosition(), ordinal, original)


def reopen(tree: QTreeWidget, row: QTreeWidgetItem, typed: str, cursor: int) -> bool:
    """Open the editor on ``row`` again with ``typed`` in it; False when it could not be opened."""
    tree.setCurrentItem(row)
    tree.scrollToItem(row)
    tree.editItem(row, 0)
    editor = _editor(tree)
    if editor is None:
        return False
    editor.setText(typed)
    editor.setCursorPosition(min(cursor, len(typed)))
    return True


def resume_edit(tree: QTreeWidget, edit: EditInProgress, items: list[Any], row_of: Callable[[Any], Any],
                key_of_line: Callable[[int], Any], ctx: Any, file: str) -> None:
    """Reopen the editor a reload closed: on the same item, or -- changed by the other program -- as asked.

    ``items`` are the reloaded document's items; ``row_of(key)`` gives a tree
    row and ``key_of_line(line)`` an item's identity key; ``ctx`` has the
    panel's ``prompter`` and ``reporter``.
    """
    row = row_of(edit.key)
    if row is None and 0 <= edit.ordinal < len(items):
        theirs = items[edit.ordinal]
        if not ask_conflict(ctx.prompter, file, theirs.text, edit.typed):
            ctx.reporter.info(f"Kept the other program's text; yours was: {edit.typed}")
            return
        row = row_of(key_of_line(theirs.line))
    if row is None:
        ctx.reporter.report(f"the item you were editing is no longer in {file}; your text: {edit.typed}",
                            context="Edit not applied")
        return
    reopen(tree, row, edit.typed, edit.cursor)


def ask_conflict(prompter: Any, file: str, theirs: str, mine: str) -> bool:
    """Ask which text wins when another program changed the item being edited; True: keep mine."""
    choice = prompter.choose(
        "TODO item changed on disk",
        f"Another program changed the {file} item you are editing.",
        [KEEP_MINE, KEEP_THEIRS],
        detail=f"Theirs: {theirs}\nYours: {mine}\n\nKeep mine goes on editing with your text (Enter writes it); "
               "keep theirs, or cancel, drops your text.")
    return choice == KEEP_MINE


__all__ = ["KEEP_MINE", "KEEP_THEIRS", "EditInProgress", "ask_conflict", "capture_edit", "reopen", "resume_edit"]
