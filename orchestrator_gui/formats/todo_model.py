"""Typed views of a TODO.md checklist: :class:`TodoItem` and :class:`TodoHeading`.

They are snapshots: :class:`orchestrator_gui.formats.todo.TodoDocument`
rebuilds them after every edit, so line numbers are always fresh.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__

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


def construct_unchecked(cls: type[M], values: dict[str, Any]) -> M:
    """``cls.model_construct(**values)`` for a complete ``values``, at a fraction of its cost.

    For readers that build hundreds of thousands of models from values they
    produced and typed themselves (no defaults to fill, no validation to
    run). ``values`` must hold every field of ``cls`` and becomes the
    instance's ``__dict__``; the model has no extra or private attributes.

    All instances of a class share one "fields set" holding every field
    (one set per instance would cost a log of 300 000 entries 200 MB). That
    is safe: pydantic only ever adds field names to it (an assignment), which
    changes nothing in a set that has them all, and ``model_copy`` copies it.
    """
    fields_set = _FIELDS_SETS.get(cls)
    if fields_set is None:
        fields_set = _FIELDS_SETS.setdefault(cls, set(cls.model_fields))
    m = cls.__new__(cls)
    _set(m, "__dict__", values)
    _set(m, "__pydantic_fields_set__", fields_set)
    _set(m, "__pydantic_extra__", None)
    _set(m, "__pydantic_private__", None)
    return m


_FIELDS_SETS: dict[type, set[str]] = {}
