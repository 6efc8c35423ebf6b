"""Typed views of a TODO.md checklist: :class:`TodoItem` and :class:`TodoHeading`.

They are snapshots: :class:`orchestrator_gui.formats.todo.TodoDocument`
rebuilds them after every edit, so line numbers are always fresh.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

State = Literal["open", "done", "other"]


class TodoItem(BaseModel):
    """One checkbox item, as found in the file (a snapshot; edit through the document).

    Attributes
    ----------
    line, end_line : int
        1-based line of the item and last line of its range (details and
        nested items; trailing blank lines excluded). ``end_line == line``
        when it has none.
    state : {"open", "done", "other"}
        From the first box: ``' '`` open, ``x``/``X`` done, anything else other.
    marker : str
        The raw first box character.
    boxes : str
        All boxes as written, e.g. ``"[x][x][-]"``.
    text : str
        Title after the boxes, as in the file, without trailing whitespace
        (a Markdown hard break ``"  "`` is kept in the file by :meth:`TodoDocument.edit`).
    depth : int
        Nesting depth, 0 for top level.
    indent : str
        Raw indentation characters.
    bullet : str or None
        ``"-"``, ``"*"``, ``"+"``, ``"1."`` …, or ``None`` for a bare ``[x] text`` line.
    section : str or None
        Text of the nearest preceding heading.
    details : list of str
        Raw detail lines without terminators (blank lines between them kept),
        excluding nested items and their details.
    parent_line : int or None
        Line of the enclosing item.
    """

    model_config = ConfigDict(frozen=True)

    line: int
    end_line: int
    state: State
    marker: str
    boxes: str
    text: str
    depth: int
    indent: str
    bullet: str | None
    section: str | None
    details: list[str]
    parent_line: int | None


class TodoHeading(BaseModel):
    """A Markdown ATX heading (outside code, comments and front matter)."""

    model_config = ConfigDict(frozen=True)

    line: int
    level: int
    text: str


def item_state(marker: str) -> State:
    """Return the state the first box character ``marker`` stands for."""
    if marker == " ":
        return "open"
    return "done" if marker in "xX" else "other"
