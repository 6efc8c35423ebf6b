"""Which workspace items serve which goals: the ``serves`` edges the migration derives.

Goals (:func:`~orchestrator_gui.model.planning.goal_rows`) are explicit goal
nodes, **schedules** -- a recurring task pursues what its instructions point
at -- and whatever something serves: a **mode** becomes a goal once a rule
below gives it work it owns, a TODO heading or item once an item names it in
a ``Goal:`` line.  An edge ``x -[serves]-> g`` makes ``x`` count towards the
progress of ``g`` (weighted by the number of work items below ``x``, see
:mod:`orchestrator_gui.model.planning`) and lets the evidence about ``x``
(completed runs, memory entries) speak for ``g`` (see
:mod:`orchestrator_gui.model.epistemic`).

Rules (``via`` is stored in the edge's metadata)
------------------------------------------------

============  ==================================================================================
via           ``src -[serves]-> dst`` when
============  ==================================================================================
instructions  ``src`` is a TODO heading and ``dst`` a schedule whose name or instructions name
              it: its title or its *label* -- the title up to the first `` — ``, `` – ``,
              `` - ``, ``: `` or `` | `` ("Milestone 0.1" of "Milestone 0.1 — Core CLI") --
              occurs as a phrase (normalised words, at least 2 words and 12 characters -- 6
              when it holds a number, as "Milestone 1" or "Phase 2" -- so "Tests", "Backlog"
              or "Next steps" never match; see :mod:`.links`)
ref:XX-nnn    ``src`` is the TODO item defining reference id ``XX-nnn`` and ``dst`` a schedule
              whose instructions name that id
name          ``src`` is a TODO item or heading whose text names the schedule ``dst`` by its full
              name ("… (Daily memory consolidation schedule)")
goal          ``src`` is a TODO item with a line ``Goal: <target>`` (also ``- **Goal**: …``) and
              ``dst`` the target: a schedule (by name), a mode (by slug or name), a TODO heading
              (by title, label, or the text after a heading's own ``Goal:``) or a TODO item (by
              reference id); several targets may be separated by ``,`` or ``;``.  The same
              line in a **memory entry** gives ``entry -[evidence_for]-> target`` (weight
              :data:`GOAL_EVIDENCE_WEIGHT`) instead: a log entry is evidence, not work
owner         ``src`` is a TODO item and ``dst`` a mode named in an owner line of it
              (``Owner``, ``Owners``, ``Mode``, ``Assignee``, ``Assigned to``: slug or mode name)
slug          ``src`` is a TODO item naming the mode ``dst`` as ``@slug`` or, for a slug with a
              hyphen (``memory-keeper``), as a whole token anywhere (one-word slugs such as
              ``test`` or ``code`` are ordinary words, so only the two forms above count)
run           ``src`` is a TODO item and ``dst`` a mode that a run in that mode worked on it
              (the run is ``scheduled_by`` the item and ``ran_as`` the mode, see :mod:`.relate`)
mode          ``src`` is a schedule and ``dst`` the mode it starts its task in
file          ``src`` is a top-level TODO heading or item (one without a parent) and ``dst`` a
              schedule that no rule above links to anything but whose instructions name the
              file ``TODO.md``: a loop told to "pick an open item of TODO.md" works the whole list
============  ==================================================================================

When several rules link the same pair, the edge names the first of: goal,
instructions, ref, name, owner, slug, mode, run, file.

What is not linked
------------------
* a node never serves itself, and nothing is linked to a node that does not exist;
* a TODO heading or item whose TODO ancestor serves the same goal is not linked
  again: its work already counts through the ancestor (the heartbeat that names
  "Milestone 0.1" and, as examples, two items inside it is served by the
  milestone alone);
* a ``Goal:`` reference between a TODO node and one of its own ancestors or
  descendants is ignored (it would count the same work twice or form a cycle).

Goal-level headings
-------------------
:func:`goal_heading` tells whether a TODO heading *is* a goal (``## Goal: Ship
0.1``, ``### 🎯 Goals — Q3``); :mod:`.extract` makes such a heading a ``goal``
node.  The sections and items below it roll up into it along their ``parent``
edges, so they get no ``serves`` edge to it: the roll-up counts a contributor
once per edge (:mod:`orchestrator_gui.model.planning`), and a ``serves`` edge
beside the ``parent`` edge would count every item below the goal twice.  A
goal heading is still a target of the rules above (by title, label, or the
text after its ``Goal:``), like any heading.

Every rule is linear in the size of the texts it scans; values of ``Goal:``
and owner lines are cut to :data:`MAX_VALUE_CHARS` and :data:`MAX_TARGETS`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from orchestrator_gui.migration.extract import Item
from orchestrator_gui.migration.links import MIN_PHRASE_CHARS, PhraseIndex, index_by, leading_ref, refs, words
from orchestrator_gui.model.nodes import Edge, EdgeType, NodeKind

#: ``(src, dst, type, via)`` of one derived link.
Link = tuple[str, str, EdgeType, str]
#: Weight of the ``evidence_for`` edge a memory entry's ``Goal:`` line gives: an agent's own claim, as
#: strong as one completed run (:data:`~orchestrator_gui.model.epistemic.RUN_EVIDENCE`), not proof.
GOAL_EVIDENCE_WEIGHT = 0.5
#: Longest ``Goal:`` or owner value looked at (the rest of the line is ignored).
MAX_VALUE_CHARS = 300
#: Most targets taken from one ``Goal:`` line.
MAX_TARGETS = 16
#: Shortest heading title or label (normalised) a schedule may name when it holds a number: "Milestone 1",
#: "Phase 2" and "Week 3" are specific; other phrases need :data:`~.links.MIN_PHRASE_CHARS`.
NUMBERED_LABEL_CHARS = 6
#: Deepest TODO nesting walked when looking for an ancestor (headings and nested items).
MAX_DEPTH = 64
#: Kinds of the TODO nodes made from headings: ``plan``, and ``goal`` for a :func:`goal_heading`.
HEADING_KINDS = frozenset({NodeKind.PLAN, NodeKind.GOAL})

_LABEL_SPLIT = re.compile(r"\s+[—–-]\s+|:\s+|\s+\|\s+")
_GOAL_PREFIX = re.compile(r"^[\W_]*goals?\s*(?::|[—–-](?=\s))\s*(.*)$", re.IGNORECASE | re.DOTALL)
_GOAL_LINE = re.compile(
    r"^[ \t]*(?:[-*+][ \t]+)?[*_]{0,2}goals?[*_]{0,2}[ \t]*:[*_]{0,2}[ \t]*(\S[^\n]*)$", re.IGNORECASE | re.MULTILINE)
_OWNER_LINE = re.compile(
    r"^[ \t]*(?:[-*+][ \t]+)?[*_]{0,2}(?:owners?|mode|assignee|assigned(?:[ \t]+to)?)[*_]{0,2}[ \t]*:[*_]{0,2}"
    r"[ \t]*(\S[^\n]*)$", re.IGNORECASE | re.MULTILINE)
_AT_SLUG = re.compile(r"(?<![A-Za-z0-9_.@-])@([A-Za-z0-9][A-Za-z0-9-]*)")
_TARGET_SPLIT = re.compile(r"[,;]")
_DIGIT = re.compile(r"\d")
_TODO_FILE = re.compile(r"(?<![\w.-])todo\.md(?![\w-])", re.IGNORECASE)


def _key(text: str) -> str:
    """Normalised form used to compare a name with a reference (case, punctuation, plural ``s``)."""
    return " ".join(words(text))


def _may_name_goal(text: str) -> bool:
    # A substring test at C speed before the line regex: most texts hold no "goal" at all.
    return "oal" in text or "OAL" in text


def goal_heading(title: str) -> bool:
    """True for a TODO heading that names a goal: ``Goal: …``, ``Goals — …`` (after emoji or emphasis)."""
    return _GOAL_PREFIX.match(title.strip().strip("*_")) is not None


def heading_phrases(title: str) -> list[str]:
    """The phrases a heading is named by: its title, its label and the text after its own ``Goal:``."""
    title = title.strip()
    out = [title]
    m = _GOAL_PREFIX.match(title.strip("*_"))
    rest = m.group(1).strip().strip("*_").strip() if m else ""
    if rest:
        out.append(rest)
    for text in list(out):
        label = _LABEL_SPLIT.split(text, maxsplit=1)[0].strip()
        if label and label != text:
            out.append(label)
    return list(dict.fromkeys(out))


def _value(text: str) -> str:
    return text.strip().strip("*_").strip()[:MAX_VALUE_CHARS]


class _Targets:
    """Goals and TODO nodes by the names a ``Goal:`` or owner line may use."""

    def __init__(self, items: dict[str, list[Item]], modes: dict[str, str], headings: list[Item]) -> None:
        self.by_key: dict[str, str] = {}
        self.modes = modes
        self.mode_names: dict[str, str] = {}
        self._todo = items["todo"]
        self._by_ref: dict[str, list] | None = None
        for m in items["modes"]:
            if m.info["slug"] in modes and modes[m.info["slug"]] == m.id:
                self.mode_names.setdefault(_key(m.node.title), m.id)
        # Later entries never replace earlier ones: schedules first, then modes, then headings.
        for s in items["schedules"]:
            if "instructions" in s.info and s.info["name"]:
                self.by_key.setdefault(_key(s.info["name"]), s.id)
        for slug, mid in modes.items():
            self.by_key.setdefault(_key(slug), mid)
        for name, mid in self.mode_names.items():
            self.by_key.setdefault(name, mid)
        for h in headings:
            for phrase in heading_phrases(h.node.title):
                if words(phrase):
                    self.by_key.setdefault(_key(phrase), h.id)

    @property
    def by_ref(self) -> dict[str, list]:
        """TODO item ids by the reference id they define (built on first use: most workspaces never ask)."""
        if self._by_ref is None:
            self._by_ref = index_by((t.info["ref"], t.id) for t in self._todo if t.info.get("ref"))
        return self._by_ref

    def resolve(self, value: str) -> list[str]:
        """Node ids a ``Goal:`` value refers to (the whole value by name first, else each ``,``/``;`` part)."""
        value = _value(value)
        whole = self.by_key.get(_key(value))
        if whole is not None:
            return [whole]
        out: list[str] = []
        for part in _TARGET_SPLIT.split(value)[:MAX_TARGETS]:
            out.extend(self._one(part))
        return list(dict.fromkeys(out))

    def _one(self, text: str) -> list[str]:
        text = text.strip().strip("*_`").strip()
        if not text:
            return []
        hit = self.by_key.get(_key(text))
        if hit is not None:
            return [hit]
        ref = leading_ref(text)  # "TW-021", "TW-021 Release 0.1.0"
        return list(self.by_ref.get(ref, ())) if ref else []

    def owners(self, value: str) -> list[str]:
        """Mode ids an owner value names (slugs as tokens, or a whole mode name)."""
        value = _value(value)
        out = [self.modes[tok] for tok in re.findall(r"[A-Za-z0-9][A-Za-z0-9-]*", value) if tok in self.modes]
        name = self.mode_names.get(_key(value))
        if name is not None:
            out.append(name)
        return list(dict.fromkeys(out))


def _slug_pattern(modes: dict[str, str]) -> re.Pattern[str] | None:
    """Whole-token matcher of the hyphenated slugs (the only ones distinctive enough to find in prose)."""
    slugs = sorted((s for s in modes if "-" in s), key=len, reverse=True)
    if not slugs:
        return None
    alt = "|".join(re.escape(s) for s in slugs)
    return re.compile(rf"(?<![A-Za-z0-9_.-])({alt})(?![A-Za-z0-9_-]|\.[A-Za-z0-9])")


def _ancestors(node: str, parent: dict[str, str]) -> list[str]:
    out: list[str] = []
    cur = parent.get(node)
    while cur is not None and len(out) < MAX_DEPTH:
        out.append(cur)
        cur = parent.get(cur)
    return out


class _Todo:
    """What one pass over the TODO nodes collects: headings, parents, top-level nodes."""

    def __init__(self, todo: list[Item]) -> None:
        self.headings: list[Item] = []
        self.parent: dict[str, str] = {}
        self.roots: list[str] = []
        for t in todo:
            if t.node.kind in HEADING_KINDS:
                self.headings.append(t)
            if t.parent is None:
                self.roots.append(t.node.id)
            else:
                self.parent[t.node.id] = t.parent


def _item_links(todo: list[Item], headings: list[Item], schedules: list[Item], targets: _Targets,
                modes: dict[str, str]) -> list[Link]:
    """Links from the text of TODO headings and items: ``goal``, ``instructions``, ``ref``, ``name``, ``owner``,
    ``slug`` (in that order, so a pair linked by several rules names the first)."""
    goal: list[Link] = []
    named: list[Link] = []
    owned: list[Link] = []
    names = PhraseIndex()
    for s in schedules:
        names.add(s.info["name"], s.id)
    # A cheap first look: only texts holding a first word of some schedule name go through the phrase index.
    firsts = sorted({ws[0] for s in schedules if (ws := words(s.info["name"]))})
    first_re = (re.compile(r"(?<![^\W_])(?:" + "|".join(re.escape(w) for w in firsts) + ")", re.IGNORECASE)
                if firsts else None)
    slug_re = _slug_pattern(modes)
    for t in todo:  # one pass: a TODO list may hold a million lines
        text, tid, heading = t.text, t.node.id, t.node.kind in HEADING_KINDS
        if not heading and _may_name_goal(text):  # a heading's own "Goal:" makes it a goal (goal_heading)
            for m in _GOAL_LINE.finditer(text):
                goal.extend((tid, dst, EdgeType.SERVES, "goal") for dst in targets.resolve(m.group(1)))
        if first_re is not None and first_re.search(text):
            named.extend((tid, sid, EdgeType.SERVES, "name") for sid in names.find(text))
        if heading or not modes:
            continue
        for m in _OWNER_LINE.finditer(text):
            owned.extend((tid, dst, EdgeType.SERVES, "owner") for dst in targets.owners(m.group(1)))
        if "@" in text:
            owned.extend((tid, modes[m.group(1)], EdgeType.SERVES, "slug") for m in _AT_SLUG.finditer(text)
                         if m.group(1) in modes)
        if slug_re is not None:
            owned.extend((tid, modes[m.group(1)], EdgeType.SERVES, "slug") for m in slug_re.finditer(text))
    index = PhraseIndex()
    for h in headings:
        for phrase in heading_phrases(h.node.title):
            index.add(phrase, h.id, min_chars=NUMBERED_LABEL_CHARS if _DIGIT.search(phrase) else MIN_PHRASE_CHARS)
    instructed: list[Link] = []
    for s in schedules:
        instructed.extend((h, s.id, EdgeType.SERVES, "instructions") for h in index.find(words(s.text)))
        for ref in refs(s.info["instructions"]):
            instructed.extend((t, s.id, EdgeType.SERVES, f"ref:{ref}") for t in targets.by_ref.get(ref, ()))
    return goal + instructed + named + owned


def _run_links(edges: dict[tuple[str, str, str], Edge], modes: dict[str, str], schedule_ids: set[str]) -> list[Link]:
    """``mode`` (a schedule serves its mode) and ``run`` (an item serves the mode of a run that worked on it).

    A run is ``scheduled_by`` a schedule or a TODO item (see :mod:`.relate`): what is not a schedule is an item.
    """
    mode_ids = set(modes.values())
    links: list[Link] = []
    run_mode: dict[str, str] = {}
    worked: dict[str, list[str]] = defaultdict(list)
    for src, dst, type_ in edges:
        if type_ == EdgeType.RAN_AS.value and dst in mode_ids:
            if src in schedule_ids:
                links.append((src, dst, EdgeType.SERVES, "mode"))
            else:
                run_mode[src] = dst
        elif type_ == EdgeType.SCHEDULED_BY.value and dst not in schedule_ids:
            worked[src].append(dst)
    for run, done_on in worked.items():
        if run in run_mode:
            links.extend((t, run_mode[run], EdgeType.SERVES, "run") for t in done_on)
    return links


def goal_links(items: dict[str, list[Item]], edges: dict[tuple[str, str, str], Edge],
               modes: dict[str, str]) -> list[Link]:
    """The ``serves`` (and memory ``evidence_for``) links of the module docstring, in a deterministic order.

    Parameters
    ----------
    items : dict
        The workspace items (:func:`~orchestrator_gui.migration.extract.read_workspace`).
    edges : dict
        The edges :func:`~orchestrator_gui.migration.relate.derive_edges` derived before (``ran_as`` and
        ``scheduled_by`` are read from them).
    modes : dict
        Mode slug -> node id (the first mode of a slug, as Roo does).
    """
    todo = _Todo(items["todo"])
    targets = _Targets(items, modes, todo.headings)
    schedules = [s for s in items["schedules"] if "instructions" in s.info]
    links = _item_links(items["todo"], todo.headings, schedules, targets, modes)
    for m in items["memory"]:
        if not _may_name_goal(m.text):
            continue
        for line in _GOAL_LINE.finditer(m.text):
            links.extend((m.id, dst, EdgeType.EVIDENCE_FOR, "goal") for dst in targets.resolve(line.group(1)))
    links += _run_links(edges, modes, {s.id for s in items["schedules"]})
    served = {dst for _, dst, type_, _ in links if type_ is EdgeType.SERVES}
    for s in schedules:
        if s.id not in served and _TODO_FILE.search(s.info["instructions"]):
            links.extend((r, s.id, EdgeType.SERVES, "file") for r in todo.roots)
    return _pruned(links, todo.parent)


def _pruned(links: Iterable[Link], parent: dict[str, str]) -> list[Link]:
    """``links`` without self-links, ancestor/descendant references and links covered by an ancestor's."""
    memo: dict[str, list[str]] = {}

    def up(node: str) -> list[str]:
        if node not in memo:
            memo[node] = _ancestors(node, parent)
        return memo[node]

    # Between a TODO node and itself, its own ancestor or its descendant: a double or a cycle.
    links = [lk for lk in links if lk[0] != lk[1] and lk[1] not in up(lk[0]) and lk[0] not in up(lk[1])]
    serving: dict[str, set[str]] = defaultdict(set)
    for src, dst, type_, _ in links:
        if type_ is EdgeType.SERVES:
            serving[dst].add(src)
    out: list[Link] = []
    for lk in links:
        src, dst, type_, _ = lk
        if type_ is EdgeType.SERVES and any(a in serving[dst] for a in up(src)):
            continue  # already counted through an ancestor that serves the same goal
        out.append(lk)
    return out
