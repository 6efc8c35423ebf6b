"""Node identity: the ids of file-backed nodes and the occurrence keys of workspace items, written once.

A file-backed node's id is ``"<file>::<key>"``, where ``file`` is the
workspace-relative path and ``key`` is stable across unrelated edits:

=================  ===============================================================
node               key
=================  ===============================================================
schedule           ``schedule/<id>``
schedule section   ``schedule/<id>/section/<hash of title>``
TODO heading       ``heading/<hash of text>``
TODO item          ``item/<hash of text>``
memory entry       ``entry/<ts>|<mode>|<id>`` (memory-bank forms: ``entry/<ts>|<form>``)
run                ``run/<task_id>``
mode               ``mode/<slug>``
=================  ===============================================================

When the same key occurs more than once in a file (duplicate TODO titles are
legal, docs/formats.md; ``(ts, mode, id)`` may repeat) the second occurrence
gets ``~1``, the third ``~2``, in file order (:class:`OccurrenceKeys`). Line
numbers are not part of the key, so inserting a line above an item does not
change its identity.

The migration (which builds the graph from the files), the engine (which
names run nodes and pauses TODO items by key), the application layer and the
panels all use these functions; nothing else computes a key.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from orchestrator_gui.formats import workspace as wsfiles

SCHEDULES_FILE = wsfiles.SCHEDULES.as_posix()
TODO_FILE = wsfiles.TODO.as_posix()
MEMORY_FILE = wsfiles.MEMORY.as_posix()
TIMING_FILE = wsfiles.TIMING.as_posix()
TIMING_CSV_FILE = wsfiles.TIMING_CSV.as_posix()
MODES_FILE = wsfiles.ROOMODES.as_posix()


def node_id(file: str, key: str) -> str:
    """Id of the node for the item ``key`` of the workspace file ``file``."""
    return f"{file}::{key}"


def text_hash(text: str) -> str:
    """Short stable hash of an item's text (10 hex digits of SHA-1)."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]


class OccurrenceKeys:
    """Hands out keys in file order, adding ``~n`` to the n-th repeat of a key within one file."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def __call__(self, key: str) -> str:
        n = self._seen[key]
        self._seen[key] += 1
        return key if n == 0 else f"{key}~{n}"


def todo_keys(headings: Iterable[Any], items: Iterable[Any]) -> dict[int, str]:
    """Line -> key of every heading (``heading/…``) and item (``item/…``) of a TODO document.

    Parameters
    ----------
    headings, items : iterables of objects with ``line`` and ``text``
        ``TodoDocument.headings`` and ``TodoDocument.items``.
    """
    keys = OccurrenceKeys()
    out: dict[int, str] = {}
    # Headings and items have different prefixes, so counting them in one pass
    # gives each kind its own occurrence numbers, as the migration does.
    rows = sorted([(h.line, "heading", h.text) for h in headings] + [(i.line, "item", i.text) for i in items])
    for line, kind, text in rows:
        out[line] = keys(f"{kind}/{text_hash(text)}")
    return out


def todo_item_key(items: list[Any], line: int) -> str:
    """The key of the TODO item on ``line`` (``item/<hash of text>``, ``~n`` for repeats).

    Raises
    ------
    KeyError
        No item starts on ``line``.
    """
    if not any(it.line == line for it in items):
        raise KeyError(f"no TODO item on line {line}")
    return todo_keys((), items)[line]


def todo_item_keys(items: list[Any]) -> dict[int, str]:
    """:func:`todo_item_key` of every item at once (line -> key)."""
    return todo_keys((), items)


def run_node_id(task_id: str) -> str:
    """Id of the run node of ``task_id`` (the migration names the timing rows of that run the same)."""
    return node_id(TIMING_FILE, f"run/{task_id}")


def schedule_node_id(schedule_id: str) -> str:
    """Id of the node of a Roo schedule."""
    return node_id(SCHEDULES_FILE, f"schedule/{schedule_id}")


def todo_node_id(item_key: str) -> str:
    """Id of the node of a TODO item or heading, from its key (see :func:`todo_keys`)."""
    return node_id(TODO_FILE, item_key)


def subject_node_id(kind: str, subject_id: str | None) -> str | None:
    """The graph node of a task's subject (a schedule id, or a TODO item key), or None."""
    if not subject_id:
        return None
    if kind == "schedule":
        return schedule_node_id(subject_id)
    if kind == "todo":
        return todo_node_id(subject_id)
    return None
