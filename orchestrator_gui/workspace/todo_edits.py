"""TODO.md use cases: list with ids, check, uncheck, add, edit, move, delete (one undo step each).

Every edit is the document's own minimal edit (a check changes one byte, an
edit only the title's bytes) written through
:func:`~orchestrator_gui.workspace.file_edits.edit_file`, so it lands on the
session's undo history and never overwrites a version the caller did not
see. Items are named by a line number or by their id
(:mod:`orchestrator_gui.workspace.todo_ids`); results name both, so a caller
can keep the id across later edits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from orchestrator_gui.formats.todo import TodoDocument
from orchestrator_gui.formats.todo_markup import edit_title
from orchestrator_gui.formats.workspace import TODO
from orchestrator_gui.workspace.file_edits import Written, edit_file, etag_of, read_version
from orchestrator_gui.workspace.todo_ids import format_key, id_at, item_keys, resolve

#: The file, relative to the workspace.
FILE = TODO.as_posix()
#: Item states a listing can be limited to.
STATES = ("open", "done", "other", "all")


def make_doc(path: Path, data: bytes | None) -> TodoDocument:
    """The editable document of ``path`` (empty for a file that does not exist yet)."""
    return TodoDocument(path, data if data is not None else b"")


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def list_items(root: str | os.PathLike[str], state: str = "all") -> tuple[list[dict[str, Any]], str | None]:
    """The items of TODO.md (``state`` one of :data:`STATES`) and the file's version.

    Returns
    -------
    rows : list of dict
        ``{"line", "id", "state", "text", "depth", "section"}`` in file order.
    etag : str or None
        ``None`` when there is no TODO.md (and no rows).
    """
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, not {state!r}")
    path = Path(root) / FILE
    data = read_version(path)
    if data is None:
        return [], None
    doc = make_doc(path, data)
    keys, repeats = item_keys(doc)
    rows = []
    for k, (line, st, text, depth, section, _) in enumerate(doc.rows()):
        if state != "all" and st != state:
            continue
        rows.append({"line": line, "id": format_key(int(keys[k]), int(repeats[k])), "state": st, "text": text,
                     "depth": depth, "section": section})
    return rows, etag_of(data)


def _edit(history: Any, root: str | os.PathLike[str], op: Any, text: str, if_match: str | None) -> Written:
    return edit_file(history, Path(root) / FILE, make_doc, op, text, if_match=if_match)


def set_done(history: Any, root: str | os.PathLike[str], ref: int | str, done: bool, *,
             if_match: str | None = None, with_id: bool = True) -> Written:
    """Check (``done``) or uncheck the item ``ref``; exactly one byte changes (none when it already is).

    ``with_id=False`` leaves the id out (``None``): it costs a hash of every item above the line.

    Returns
    -------
    Written
        ``value`` is ``{"line", "id", "state", "text"}``.
    """
    def op(doc: TodoDocument) -> dict[str, Any]:
        line = resolve(doc, ref)
        (doc.check if done else doc.uncheck)(line)
        item = doc.item_at(line)
        return {"line": line, "id": id_at(doc, line) if with_id else None, "state": item.state, "text": item.text}

    word = "Check" if done else "Uncheck"
    return _edit(history, root, op, f"{word} TODO item {ref if isinstance(ref, int) else ''}".rstrip(), if_match)


def add_item(history: Any, root: str | os.PathLike[str], text: str, *, section: str | None = None,
             under: int | str | None = None, if_match: str | None = None) -> Written:
    """Add an open item (at the end, at the end of ``section``, or as the last child of ``under``).

    Returns
    -------
    Written
        ``value`` is ``{"line", "id", "text"}``.
    """
    if section is not None and under is not None:
        raise ValueError("give either a section or a parent item, not both")

    def op(doc: TodoDocument) -> dict[str, Any]:
        parent = None if under is None else resolve(doc, under)
        line = doc.add(text, section=section, under=parent)
        return {"line": line, "id": id_at(doc, line), "text": text}

    return _edit(history, root, op, f"Add TODO item “{_short(text)}”", if_match)


def edit_item(history: Any, root: str | os.PathLike[str], ref: int | str, text: str, *, raw: bool = False,
              if_match: str | None = None) -> Written:
    """Replace the title of ``ref`` (plain ``text`` keeps the inline Markdown of unchanged words; see ``edit_title``).

    Returns
    -------
    Written
        ``value`` is ``{"line", "id", "text"}`` with the title written.
    """
    def op(doc: TodoDocument) -> dict[str, Any]:
        line = resolve(doc, ref)
        title = edit_title(doc.item_at(line).text, text, as_given=raw)
        doc.edit(line, title)
        return {"line": line, "id": id_at(doc, line), "text": title}

    return _edit(history, root, op, f"Edit TODO item “{_short(text)}”", if_match)


def move_item(history: Any, root: str | os.PathLike[str], ref: int | str, before: int | str | None, *,
              if_match: str | None = None) -> Written:
    """Move ``ref`` with its sub-items before the item ``before`` (``None``: after the last of its siblings).

    Returns
    -------
    Written
        ``value`` is ``{"line", "id", "text"}`` at the item's new place.
    """
    def op(doc: TodoDocument) -> dict[str, Any]:
        line = resolve(doc, ref)
        key = id_at(doc, line)
        target = None if before is None else resolve(doc, before)
        doc.move(line, target)
        # Its id is its title's, so it is found again at the new place. (Moving one of several items
        # with the same title past another renumbers their ~n: the id then names the other one.)
        new_line = resolve(doc, key)
        return {"line": new_line, "id": key, "text": doc.item_at(new_line).text}

    return _edit(history, root, op, f"Move TODO item {ref}", if_match)


def remove_item(history: Any, root: str | os.PathLike[str], ref: int | str, *,
                if_match: str | None = None) -> Written:
    """Delete the item ``ref`` with its details and sub-items.

    Returns
    -------
    Written
        ``value`` is ``{"line", "id", "text"}`` of the item removed.
    """
    def op(doc: TodoDocument) -> dict[str, Any]:
        line = resolve(doc, ref)
        item = doc.item_at(line)
        key = id_at(doc, line)
        doc.remove(line)
        return {"line": line, "id": key, "text": item.text}

    return _edit(history, root, op, f"Delete TODO item {ref}", if_match)


__all__ = ["FILE", "STATES", "add_item", "edit_item", "list_items", "make_doc", "move_item", "remove_item",
           "set_done"]
