"""The edges the migration derives between workspace items.

==============  ===============  ===========================================================
from            type             to, and when
==============  ===============  ===========================================================
heading/item    ``parent``       nested heading, top-level item under it, nested item
schedule        ``parent``       the sections of its instructions (nested by heading level)
schedule        ``ran_as``       the mode it starts its task in
schedule        ``mentions``     modes named in its instructions; TODO items whose
                                 reference id its instructions name
TODO item       ``mentions``     other TODO items whose reference id its title/details name
memory entry    ``mentions``     its mode and modes named in it; TODO items by reference id
                                 or full title; schedules by name; runs by task id
run             ``ran_as``       the mode of its latest row
run             ``scheduled_by`` the schedule that launched it (the schedule's
                                 ``lastTaskId``, its name in the run's task text, or the
                                 task text inside the schedule's instructions) and the
                                 TODO item it worked on (reference id or full title)
heading/item/   ``serves``       the goals (schedules, modes) they advance; the rules are
schedule                         in :mod:`.goals`
memory entry    ``evidence_for`` the goal a ``Goal: …`` line of it names (:mod:`.goals`)
==============  ===============  ===========================================================

Only nodes that exist are linked (a memory entry by a built-in mode such as
``code`` has no mode node to point at). Every derived edge carries
``metadata = {"by": "migration", "via": <rule>}`` so a rebuild can tell its own
edges from the ones a user drew.
"""

from __future__ import annotations

from collections.abc import Iterable

from orchestrator_gui.migration.extract import Item
from orchestrator_gui.migration.goals import GOAL_EVIDENCE_WEIGHT, goal_links
from orchestrator_gui.migration.links import (
    MIN_TASK_ID,
    PhraseIndex,
    WordPositions,
    id_tokens,
    index_by,
    refs,
    words,
)
from orchestrator_gui.model.nodes import Edge, EdgeType

#: ``Edge.metadata["by"]`` of every edge the migration creates.
BY = "migration"
EdgeKey = tuple[str, str, str]
#: A run's task text must have at least this many words to be looked for inside instructions.
MIN_INSTRUCTION_MATCH_WORDS = 4


class _Edges:
    """Ordered, de-duplicated edge collection (the first rule that links a pair wins)."""

    def __init__(self) -> None:
        self.edges: dict[EdgeKey, Edge] = {}

    def add(self, src: str, dst: str, type: EdgeType, via: str, weight: float = 1.0) -> None:
        if src == dst:
            return
        key = (src, dst, type.value)
        if key not in self.edges:
            self.edges[key] = Edge(src=src, dst=dst, type=type, weight=weight, metadata={"by": BY, "via": via})

    def add_all(self, src: str, dsts: Iterable[str], type: EdgeType, via: str) -> None:
        for dst in dsts:
            self.add(src, dst, type, via)


def _memory_edges(out: _Edges, memory: list[Item], modes: dict[str, str], by_ref: dict[str, list],
                  titles: PhraseIndex, names: PhraseIndex, runs: dict[str, str]) -> None:
    """The ``mentions`` edges of memory entries (mode, slug, ref, title, name, task_id, in that order).

    A log may hold hundreds of thousands of entries, so a scan whose targets
    do not exist is not run: with no modes and no runs no token can match,
    with no reference ids no ref can, with no TODO titles and no schedule
    names no phrase can. The edges are the ones the full scans would give.
    """
    want_tokens = bool(modes) or bool(runs)
    want_words = bool(titles) or bool(names)
    mention = EdgeType.MENTIONS
    add, add_all = out.add, out.add_all
    for m in memory:
        mid, text = m.node.id, m.text
        mode = m.info["mode"]
        if mode in modes:
            add(mid, modes[mode], mention, "mode")
        tokens = id_tokens(text) if want_tokens else ()
        if modes:
            add_all(mid, (modes[tok] for tok in tokens if tok in modes), mention, "slug")
        if by_ref:
            for ref in refs(text):
                add_all(mid, by_ref.get(ref, ()), mention, f"ref:{ref}")
        if want_words:
            ws = words(text)
            add_all(mid, titles.find(ws), mention, "title")
            add_all(mid, names.find(ws), mention, "name")
        if runs:
            add_all(mid, (runs[tok] for tok in tokens if tok in runs), mention, "task_id")


def derive_edges(items: dict[str, list[Item]]) -> dict[EdgeKey, Edge]:
    """All derived edges for the items returned by :func:`~orchestrator_gui.migration.extract.read_workspace`."""
    out = _Edges()
    everything = [it for group in items.values() for it in group]
    for it in everything:
        if it.parent is not None:
            out.add(it.parent, it.id, EdgeType.PARENT, "structure")

    modes = {m.info["slug"]: m.id for m in reversed(items["modes"])}  # the first mode of a slug wins, as in Roo
    schedules = [s for s in items["schedules"] if "instructions" in s.info]
    todos = [t for t in items["todo"] if "ref" in t.info]
    by_ref = index_by((t.info["ref"], t.id) for t in todos if t.info["ref"])
    titles = PhraseIndex()
    for t in todos:
        titles.add(t.info["title"], t.id)
    names = PhraseIndex()
    for s in schedules:
        names.add(s.info["name"], s.id)
    runs = {r.info["task_id"]: r.id for r in items["timing"] if len(r.info["task_id"]) >= MIN_TASK_ID}

    def ref_targets(text: str, own: str | None = None) -> list[str]:
        return [d for ref in refs(text) if ref != own for d in by_ref.get(ref, ())]

    for s in schedules:
        if s.info["mode"] in modes:
            out.add(s.id, modes[s.info["mode"]], EdgeType.RAN_AS, "mode")
        out.add_all(s.id, (modes[tok] for tok in id_tokens(s.text) if tok in modes), EdgeType.MENTIONS, "slug")
        for ref in refs(s.text):
            out.add_all(s.id, by_ref.get(ref, ()), EdgeType.MENTIONS, f"ref:{ref}")

    for t in todos:
        for ref in refs(t.text):
            if ref != t.info["ref"]:
                out.add_all(t.id, by_ref.get(ref, ()), EdgeType.MENTIONS, f"ref:{ref}")

    _memory_edges(out, items["memory"], modes, by_ref, titles, names, runs)

    instructions = [(s, WordPositions(s.info["instructions"])) for s in schedules]
    for r in items["timing"]:
        if r.info["mode"] in modes:
            out.add(r.id, modes[r.info["mode"]], EdgeType.RAN_AS, "mode")
        task_words = words(r.text)
        own_words = words(r.info["task"])
        for s, positions in instructions:
            if s.info["last_task_id"] and s.info["last_task_id"] == r.info["task_id"]:
                out.add(r.id, s.id, EdgeType.SCHEDULED_BY, "last_task_id")
            elif len(own_words) >= MIN_INSTRUCTION_MATCH_WORDS and positions.contains(own_words):
                out.add(r.id, s.id, EdgeType.SCHEDULED_BY, "instructions")
        out.add_all(r.id, names.find(task_words), EdgeType.SCHEDULED_BY, "name")
        out.add_all(r.id, ref_targets(r.text), EdgeType.SCHEDULED_BY, "ref")
        out.add_all(r.id, titles.find(task_words), EdgeType.SCHEDULED_BY, "title")

    # Last: the goal rules read the ran_as and scheduled_by edges derived above.
    for src, dst, type_, via in goal_links(items, out.edges, modes):
        out.add(src, dst, type_, via, GOAL_EVIDENCE_WEIGHT if type_ is EdgeType.EVIDENCE_FOR else 1.0)
    return out.edges
