"""The checklist items of a scanned TODO.md as a read-only list of :class:`TodoItem` (made on access)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from orchestrator_gui.formats.todo_model import TodoItem, construct_unchecked, item_state
from orchestrator_gui.formats.todo_parse import TodoParse


class TodoItems(Sequence[TodoItem]):
    """The checklist items of a :class:`TodoDocument`, made from the scanner's columns on access.

    Behaves as a read-only list (indexing, slicing, ``len``, iteration,
    comparison with a list); each access makes a fresh :class:`TodoItem`.
    """

    def __init__(self, parse: TodoParse) -> None:
        self._parse = parse
        self._headings = [h.text for h in parse.headings]

    def __len__(self) -> int:
        return len(self._parse.cols)

    @overload
    def __getitem__(self, k: int) -> TodoItem: ...

    @overload
    def __getitem__(self, k: slice) -> list[TodoItem]: ...

    def __getitem__(self, k: int | slice) -> TodoItem | list[TodoItem]:
        if isinstance(k, slice):
            return [self._make(i) for i in range(*k.indices(len(self)))]
        n = len(self)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError("item index out of range")
        return self._make(k)

    def __iter__(self) -> Iterator[TodoItem]:
        c = self._parse.cols
        headings, lines = self._headings, c.line
        with_details = set(c.detail_owner)
        states = {b: item_state(b[1]) for b in set(c.boxes)}
        for k, (line, end, boxes, text, depth, indent, bullet, section, parent) in enumerate(zip(
                lines, c.end_line, c.boxes, c.text, c.depth, c.indent, c.bullet, c.section, c.parent, strict=True)):
            yield construct_unchecked(TodoItem, {
                "line": line, "end_line": end, "state": states[boxes], "marker": boxes[1], "boxes": boxes,
                "text": text, "depth": depth, "indent": indent, "bullet": bullet,
                "section": headings[section] if section >= 0 else None,
                "details": c.details_of(k)[0] if k in with_details else [],
                "parent_line": lines[parent] if parent >= 0 else None,
            })

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (TodoItems, list, tuple)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TodoItems({len(self)} items)"

    def _make(self, k: int) -> TodoItem:
        c = self._parse.cols
        boxes, parent, section = c.boxes[k], c.parent[k], c.section[k]
        details = c.details_of(k)[0] if len(c.detail_owner) and k in c.owners() else []
        return construct_unchecked(TodoItem, {
            "line": c.line[k], "end_line": c.end_line[k], "state": item_state(boxes[1]), "marker": boxes[1],
            "boxes": boxes, "text": c.text[k], "depth": c.depth[k], "indent": c.indent[k],
            "bullet": c.bullet[k], "section": self._headings[section] if section >= 0 else None,
            "details": details, "parent_line": c.line[parent] if parent >= 0 else None,
        })
