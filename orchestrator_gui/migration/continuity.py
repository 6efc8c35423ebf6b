"""Which existing node each planned node continues, and the ids of the nodes an update adds.

A fresh build names every node ``"<file>::<key>"``; from then on a node keeps
its id while ``source.key`` follows the file (see the notes of
:mod:`orchestrator_gui.model.identity`). :func:`continued_ids` is how an
update finds the node a planned item continues:

* items whose key is their own id (schedules, memory entries, runs, modes)
  continue the node whose ``source`` has the same file and key;
* items whose key hashes their text (TODO headings and items, schedule
  sections) are paired by position and neighbours with :func:`.matching.pair_entries`,
  the old side in file order: TODO nodes by line, a schedule's sections in
  the order of the instructions the graph last saw (the schedule node's content);
* every other item is new; it keeps its natural id unless a node has that id
  already (a node that kept its id through an edit), then it gets ``#2``, ``#3`` ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator_gui.migration.matching import Entry, pair_entries
from orchestrator_gui.migration.sections import split_sections
from orchestrator_gui.model.identity import SCHEDULES_FILE, TODO_FILE, section_keys, text_keyed
from orchestrator_gui.model.nodes import Node, NodeKind

#: Files with items whose key hashes their text.
_TEXT_KEYED_FILES = frozenset({TODO_FILE, SCHEDULES_FILE})
#: Sort position of an item whose place is unknown: after the others.
_LAST = 1 << 62


def _text(node: Node) -> str:
    return f"{node.title}\n{node.content}"


def _section_order(current: Mapping[str, Node]) -> dict[str, int]:
    """Section key -> its index among its schedule's sections, as the graph last saw the instructions."""
    order: dict[str, int] = {}
    for node in current.values():
        if node.kind is NodeKind.SCHEDULE and node.source is not None and node.source.file == SCHEDULES_FILE:
            titles = [sec.title for sec in split_sections(node.content)]
            order.update((k, n) for n, k in enumerate(section_keys(node.source.key, titles)))
    return order


def _old_entries(current: Mapping[str, Node]) -> list[Entry]:
    """The existing text-keyed nodes as :class:`Entry` objects, each scope in file order."""
    rows: list[tuple[int, int, str, Entry]] = []
    section_order: dict[str, int] | None = None
    for nid, node in current.items():
        src = node.source
        if src is None or src.file not in _TEXT_KEYED_FILES:
            continue
        parts = text_keyed(src.file, src.key)
        if parts is None:
            continue
        if src.file == SCHEDULES_FILE:
            if section_order is None:
                section_order = _section_order(current)
            place = section_order.get(src.key, _LAST)
        else:
            place = 0
        rows.append((place, src.line if src.line is not None else _LAST, nid, Entry(nid, *parts, text=_text(node))))
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows]


def continued_ids(graph: Any, current: Mapping[str, Node], planned: Mapping[str, Node]) -> dict[str, str]:
    """Planned id -> the id the node will have, for every planned node whose id is not its planned one.

    Parameters
    ----------
    graph : ThoughtGraph
        Only read (which ids exist).
    current : mapping of str to Node
        The graph's file-backed nodes by id.
    planned : mapping of str to Node
        The nodes the files call for, by planned (natural) id, in file order.

    Returns
    -------
    dict of str to str
        Empty when every planned node continues the node of its own id or is
        new with a free id (the usual case). The ids it maps to are distinct
        and differ from every planned id that is not renamed.
    """
    if len(graph) == 0:
        return {}  # a fresh build: every node is new and every natural id free
    by_key: dict[tuple[str, str], str] | None = None  # built only when a node's id is not its natural one
    final: dict[str, str] = {}
    new_entries: list[Entry] = []
    for pid, node in planned.items():
        src = node.source
        if src is None:
            continue
        if src.file in _TEXT_KEYED_FILES:
            parts = text_keyed(src.file, src.key)
            if parts is not None:
                new_entries.append(Entry(pid, *parts, text=_text(node)))
                continue
        cur = current.get(pid)
        if cur is not None and cur.source is not None and (cur.source.file, cur.source.key) == (src.file, src.key):
            final[pid] = pid  # the usual case: the node of its natural id
            continue
        if by_key is None:
            by_key = {(n.source.file, n.source.key): i for i, n in current.items() if n.source is not None}
        hit = by_key.get((src.file, src.key))
        if hit is not None:
            final[pid] = hit
    if new_entries:
        final.update(pair_entries(_old_entries(current), new_entries))
    rename = {pid: nid for pid, nid in final.items() if nid != pid}
    fresh_ids: set[str] = set()
    for pid in planned:
        # A new item keeps its natural id unless a node has it (continued ids are all in the graph).
        if pid in final or pid not in graph:
            continue
        n = 2
        while (fresh := f"{pid}#{n}") in graph or fresh in fresh_ids or fresh in planned:
            n += 1
        rename[pid] = fresh
        fresh_ids.add(fresh)
    return rename
