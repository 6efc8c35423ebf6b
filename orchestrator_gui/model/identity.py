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

Keys and node ids
-----------------
A fresh build names every node ``"<file>::<key>"``. After that a node's id
is what identifies it and never changes, while ``node.source.key`` follows
the file: the keys of TODO headings and items and of schedule sections hash
their text (:func:`text_keyed` says which keys do), so when such an item is
edited the migration keeps the node (its activation, history, links and
selection) and updates ``source.key`` (see
:mod:`orchestrator_gui.migration.matching`). A node added later whose
natural id is taken gets ``#2``, ``#3``, ... appended. So a node id cannot
be computed from an item's text: code that knows an item by its key or line
finds the node through the graph with :func:`node_for_source` (or
:func:`subject_node` for a task's subject). Schedules (``schedule/<id>``),
memory entries (``entry/<ts>|<mode>|<id>``), runs and modes never change key
when their text changes, so their ids stay ``"<file>::<key>"``.

The migration (which builds the graph from the files), the engine (which
names run nodes and pauses TODO items by key), the application layer and the
panels all use these functions; nothing else computes a key.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections import Counter
from collections.abc import Iterable
from typing import Any

from orchestrator_gui.formats import workspace as wsfiles
from orchestrator_gui.model.nodes import NodeKind

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
    """Id a fresh build gives the node of a TODO item or heading with ``item_key`` (see :func:`todo_keys`).

    An edited item keeps its earlier node; find it with :func:`node_for_source`.
    """
    return node_id(TODO_FILE, item_key)


def subject_node_id(kind: str, subject_id: str | None) -> str | None:
    """The id a fresh build gives a task's subject (a schedule id, or a TODO item key), or None.

    A TODO item keeps its node when its text is edited, so its node may have
    another id: look it up with :func:`subject_node`.
    """
    if not subject_id:
        return None
    if kind == "schedule":
        return schedule_node_id(subject_id)
    if kind == "todo":
        return todo_node_id(subject_id)
    return None


# -- keys that hash an item's text ---------------------------------------------------------
_OCCURRENCE = re.compile(r"~[0-9]+$")
#: Key prefixes of TODO.md nodes whose key is a hash of their text.
_TODO_TEXT_KINDS = ("heading", "item")
_SECTION = "/section/"


def text_keyed(file: str, key: str) -> tuple[str, str, str] | None:
    """``(scope, kind, text identity)`` of a key that hashes an item's text, else None.

    The keys of TODO headings and items and of schedule sections change when
    their text does; the migration pairs such nodes by position instead
    (:mod:`orchestrator_gui.migration.matching`). Items pair only within one
    scope (a file, or one schedule's sections) and with the same kind; the
    text identity is the key without its occurrence number (``~n``), so equal
    texts have equal identities.

    Returns
    -------
    tuple of str or None
        None for keys that are an item's own id (schedules, memory entries,
        runs, modes): those nodes are matched by key alone.
    """
    if file == TODO_FILE:
        kind, sep, _ = key.partition("/")
        if sep and kind in _TODO_TEXT_KINDS:
            return file, kind, _OCCURRENCE.sub("", key)
        return None
    if file == SCHEDULES_FILE and _SECTION in key:
        owner = key.rpartition(_SECTION)[0]
        return f"{file}::{owner}", "section", _OCCURRENCE.sub("", key)
    return None


def section_keys(schedule_key: str, titles: Iterable[str]) -> list[str]:
    """Keys of a schedule's sections, in order (``<schedule key>/section/<hash of title>``, ``~n`` for repeats)."""
    keys = OccurrenceKeys()
    return [keys(f"{schedule_key}{_SECTION}{text_hash(t)}") for t in titles]


# -- finding a node through the graph --------------------------------------------------------
class _SourceIndex:
    """(file, key) -> id and (file, line) -> ids of one graph at one revision."""

    def __init__(self, graph: Any) -> None:
        self.revision = graph.revision
        self.by_key: dict[tuple[str, str], str] = {}
        self.by_line: dict[tuple[str, int], list[str]] = {}
        for node in graph.nodes():
            src = node.source
            if src is None:
                continue
            self.by_key.setdefault((src.file, src.key), node.id)
            if src.line is not None:
                self.by_line.setdefault((src.file, src.line), []).append(node.id)


# One index per graph, rebuilt when the graph changed (weak: a closed graph takes its index with it).
_INDEXES: weakref.WeakKeyDictionary[Any, _SourceIndex] = weakref.WeakKeyDictionary()


def _index(graph: Any) -> _SourceIndex:
    index = _INDEXES.get(graph)
    if index is None or index.revision != graph.revision:
        index = _INDEXES[graph] = _SourceIndex(graph)
    return index


def node_for_source(graph: Any, file: str, key: str | None = None, *, line: int | None = None,
                    kind: Any = None) -> str | None:
    """Id of the node of ``graph`` that mirrors the item of ``file`` with source ``key``, or on ``line``.

    In this order: the node whose source has ``key``; else the node on
    ``line`` (the key was computed from a version of the file the graph has
    not synced yet); else the node a fresh build made for ``key``, whatever
    its key is now (the key was recorded before the item was edited, and the
    node kept its id through the edit). A node's id is not computed from the
    key alone (see the module notes): an item keeps its node when its text
    changes.

    Parameters
    ----------
    graph : ThoughtGraph
    file : str
        Workspace-relative file name (``TODO.md``, ...).
    key : str, optional
        The item's key (``item/<hash>``, ``schedule/<id>``, ...).
    line : int, optional
        The item's 1-based line.
    kind : NodeKind, optional
        Only a node of this kind is taken by line (a schedule and its first
        section share a line).

    Returns
    -------
    str or None
    """
    natural = node_id(file, key) if key is not None else None
    if natural is not None:
        if natural in graph:
            src = graph.node(natural).source
            if src is not None and src.file == file and src.key == key:
                return natural  # the common case, without building an index
        hit = _index(graph).by_key.get((file, key))
        if hit is not None:
            return hit
    if line is not None:
        for nid in _index(graph).by_line.get((file, line), ()):
            if kind is None or graph.node(nid).kind == kind:
                return nid
    if natural is not None and natural in graph:
        node = graph.node(natural)
        if node.source is not None and node.source.file == file and (kind is None or node.kind == kind):
            return natural
    return None


def subject_node(graph: Any, kind: str, subject_id: str | None, *, line: int | None = None) -> str | None:
    """The node of a task's subject (a schedule id, or a TODO item key and optionally its line), or None.

    What :func:`subject_node_id` names, found through the graph, so a TODO
    item whose text was edited (its node kept its id) is still found.
    """
    if not subject_id:
        return None
    if kind == "schedule":
        return node_for_source(graph, SCHEDULES_FILE, f"schedule/{subject_id}")
    if kind == "todo":
        return node_for_source(graph, TODO_FILE, subject_id, line=line, kind=NodeKind.TODO)
    return None
