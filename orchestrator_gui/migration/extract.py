"""Read the workspace files and turn every item into a node (edges come from :mod:`.relate`).

Keys, occurrence keys and natural node ids come from
:mod:`orchestrator_gui.model.identity` (the one place they are computed).
The nodes made here carry their natural ids (``"<file>::<key>"``);
:func:`~orchestrator_gui.migration.build.update_graph` gives an edited item
the id of the node it continues. Line numbers are not part of a key; the
current line is kept in :attr:`Node.source` for "jump to line".
"""

from __future__ import annotations

import gc
import json
import math
import os
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator_gui.formats.fileio import MAX_FILE_BYTES
from orchestrator_gui.formats.memory import load_memory
from orchestrator_gui.formats.memory_scan import FORMS, MemoryColumns
from orchestrator_gui.formats.roomodes import load_modes
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.timing import TimingRow, load_timing, parse_instant
from orchestrator_gui.formats.timing_read import MAX_PAGE_ROWS, group_by_task, read_timing_page
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.formats.todo_model import construct_unchecked
from orchestrator_gui.formats.workspace import Workspace
from orchestrator_gui.migration.links import leading_ref, refs, strip_emphasis
from orchestrator_gui.migration.sections import split_sections
from orchestrator_gui.model.identity import (
    MEMORY_FILE,
    MODES_FILE,
    SCHEDULES_FILE,
    TIMING_CSV_FILE,
    TIMING_FILE,
    TODO_FILE,
    OccurrenceKeys,
    node_id,
    section_keys,
    todo_keys,
)
from orchestrator_gui.model.nodes import DEFAULT_LAYER, SHELL_RADII, Node, NodeKind, NodeStatus, Source
from orchestrator_gui.problems import FormatError

#: Every file the migration reads; nodes whose ``source.file`` is one of these belong to it.
MIGRATION_FILES = frozenset({SCHEDULES_FILE, TODO_FILE, MEMORY_FILE, TIMING_FILE, TIMING_CSV_FILE, MODES_FILE})

_TODO_STATUS = {"open": NodeStatus.OPEN, "done": NodeStatus.DONE}
#: Non-standard first boxes (docs/formats.md §2.3): ``[-]`` declined, ``[~]`` in progress, ``[*]`` shown raw.
_MARKER_STATUS = {"-": NodeStatus.CANCELLED, "~": NodeStatus.ACTIVE}
_RUN_STATUS = {
    "started": NodeStatus.ACTIVE,
    "in_progress": NodeStatus.ACTIVE,
    "pending": NodeStatus.OPEN,
    "completed": NodeStatus.DONE,
    "failed": NodeStatus.FAILED,
    "timeout": NodeStatus.FAILED,
    "cancelled": NodeStatus.CANCELLED,
}
_STATUS_WORDS = frozenset(_RUN_STATUS)
TITLE_CHARS = 160


@dataclass(slots=True)
class Item:
    """A node to be, with what :mod:`.relate` needs to connect it.

    Attributes
    ----------
    node : Node
        The node as the files describe it (position not yet chosen).
    parent : str or None
        Id of the node a ``parent`` edge comes from.
    text : str
        The text searched for mentions of other items.
    info : dict
        Kind-specific keys used for matching (``mode``, ``ref``, ``task_id``, ...).
    """

    node: Node
    parent: str | None = None
    text: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.node.id


def _title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"


def _make(file: str, key: str, line: int | None, kind: NodeKind, title: str, content: str, *,
          status: NodeStatus, metadata: dict[str, Any], tags: list[str], created: float, updated: float) -> Node:
    """The node ``Node(...)`` would validate, made without pydantic's per-node validation.

    A big workspace has hundreds of thousands of items, and validating each
    node (its metadata is JSON-encoded and decoded again) took most of a
    build. Every value here is typed by the readers; what validation would
    still check is checked here (times finite, key not empty) or, for the
    metadata, once for all nodes by :func:`check_metadata`. Anything odd
    goes through the validating constructor, which reports it.
    """
    created, updated = float(created), float(updated)
    if not (file and key and math.isfinite(created) and math.isfinite(updated)):
        return Node(
            id=node_id(file, key), kind=kind, title=_title(title), content=content, status=status,
            metadata=metadata, tags=tuple(dict.fromkeys(tags)), created=created, updated=updated,
            source=Source(file=file, key=key, line=line if line and line > 0 else None),
        )
    layer = DEFAULT_LAYER[kind]
    source = construct_unchecked(Source, {"file": file, "key": key, "line": line if line and line > 0 else None})
    return construct_unchecked(Node, {
        "id": node_id(file, key), "kind": kind, "title": _title(title), "content": content, "metadata": metadata,
        "tags": tuple(dict.fromkeys(tags)), "layer": layer, "theta": 0.0, "phi": 0.0, "r": SHELL_RADII[layer],
        "created": created, "updated": updated, "access_count": 0, "last_activated": None, "score": 0.0,
        "confidence": 1.0, "status": status, "source": source, "history": (),
    })


def check_metadata(items: Iterable[Item]) -> None:
    """What ``Node`` validation checks of each node's metadata, for all ``items`` at once.

    One JSON encoding and decoding of every metadata dict (at C speed)
    instead of one per node; a failure validates the nodes one by one so
    that the error is the one ``Node(...)`` raises.

    Raises
    ------
    pydantic.ValidationError
        A metadata value does not survive a JSON round trip.
    """
    items = list(items)
    values = [it.node.metadata for it in items]
    try:
        if json.loads(json.dumps(values, allow_nan=False, sort_keys=True)) == values:
            return
    except (TypeError, ValueError):
        pass
    for it in items:
        Node.model_validate(dict(it.node.__dict__))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a build makes its (acyclic) per-item objects.

    A build of a 300 000-entry log makes over a million long-lived objects;
    each allocation threshold crossed then walks the ever larger young
    generations again and again (about a third of the build's time), and
    finds nothing: nodes, items and edges hold no cycles. Collection resumes
    (if it was on) when the block ends.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _fallback_time(path: Path, now: float | None) -> float:
    # Items without a time of their own get the file's modification time: it
    # depends only on the files, so two builds of the same files agree.
    return float(now) if now is not None else os.stat(path).st_mtime


def _instant(value: str | None, default: float) -> float:
    t = parse_instant(value) if value else None
    return default if t is None else t


# -- schedules ----------------------------------------------------------------------------
def _instructions_line(lines: list[str], start: int, end: int) -> int:
    """Line of the ``"taskInstructions"`` key between 1-based ``start`` and ``end`` (else ``start``)."""
    for i in range(max(start, 1), min(end, len(lines)) + 1):
        if '"taskInstructions"' in lines[i - 1]:
            return i
    return start


def schedule_items(ws: Workspace, now: float | None) -> list[Item]:
    """One ``schedule`` node per schedule, plus ``plan`` nodes for the sections of its instructions."""
    path = ws.schedules
    if not os.path.lexists(path):
        return []
    doc = load_schedules(path)
    fallback = _fallback_time(path, now)
    lines = doc.text.split("\n")
    keys = OccurrenceKeys()
    out: list[Item] = []
    starts = [s.line for s in doc.schedules] + [len(lines)]
    for n, s in enumerate(doc.schedules):
        key = keys(f"schedule/{s.id}")
        created = _instant(s.created_at, fallback)
        sched = Item(
            _make(SCHEDULES_FILE, key, s.line, NodeKind.SCHEDULE, s.name or s.id, s.task_instructions,
                  status=NodeStatus.ACTIVE if s.active else NodeStatus.ARCHIVED,
                  metadata={"schedule_id": s.id, "mode": s.mode, "interval": s.time_interval, "unit": s.time_unit,
                            "active": s.active, "type": s.schedule_type},
                  tags=refs(s.name), created=created, updated=_instant(s.updated_at, created)),
            text=f"{s.name}\n{s.task_instructions}",
            info={"mode": s.mode, "name": s.name, "last_task_id": s.last_task_id or "",
                  "instructions": s.task_instructions},
        )
        out.append(sched)
        line = _instructions_line(lines, s.line, starts[n + 1])
        ids: list[str] = []
        sections = split_sections(s.task_instructions)
        for sec, skey in zip(sections, section_keys(key, [sec.title for sec in sections]), strict=True):
            item = Item(
                _make(SCHEDULES_FILE, skey, line, NodeKind.PLAN, sec.title, sec.content, status=NodeStatus.OPEN,
                      metadata={"schedule_id": s.id}, tags=[], created=created, updated=sched.node.updated),
                parent=sched.id if sec.parent is None else ids[sec.parent],
            )
            ids.append(item.id)
            out.append(item)
    return out


# -- TODO.md ------------------------------------------------------------------------------
def _todo_status(state: str, marker: str) -> NodeStatus:
    return _TODO_STATUS.get(state) or _MARKER_STATUS.get(marker, NodeStatus.OPEN)


def _details(lines: list[str]) -> str:
    return textwrap.dedent("\n".join(lines)).strip("\n")


#: Most nodes the graph takes from one workspace file. A graph build costs about 25 microseconds a
#: node, so this keeps a build under 10 s; a 20 MB checklist can hold 900,000 items (a build of
#: 52 s and 4 GB, and a 3D view nobody can read). More is refused with the line where it passes.
MAX_FILE_NODES = 350_000


def _check_node_count(name: str, lines: list[int]) -> None:
    """Refuse a file whose nodes (their lines, ascending) are more than :data:`MAX_FILE_NODES`."""
    if len(lines) > MAX_FILE_NODES:
        raise FormatError(name, f"{len(lines):,} nodes from one file; the graph takes at most {MAX_FILE_NODES:,} "
                                "(split the file, or archive old entries)", line=lines[MAX_FILE_NODES])


def todo_items(ws: Workspace, now: float | None) -> list[Item]:
    """``plan`` nodes for headings (``goal`` nodes for goal headings) and ``todo`` nodes for items, with parent
    edges, in line order.

    A heading that names a goal (``## Goal: Ship the parser``, ``### 🎯 Goals — Q3``; see
    :func:`~orchestrator_gui.migration.goals.goal_heading`) is a ``goal``: the sections and items below it
    roll up into it along their ``parent`` edges, so its progress is theirs.
    """
    # goals imports this module (Item): imported here, when the module is complete.
    from orchestrator_gui.migration.goals import goal_heading

    path = ws.todo
    if not os.path.lexists(path):
        return []
    doc = load_todo(path)
    if len(doc.headings) + len(doc.items) > MAX_FILE_NODES:
        _check_node_count(doc.name, sorted([h.line for h in doc.headings] + [it.line for it in doc.items]))
    t = _fallback_time(path, now)
    keys = todo_keys(doc.headings, doc.items)
    out: list[tuple[int, Item]] = []
    heading_at: list[tuple[int, str]] = []  # (line, id), ascending
    stack: list[tuple[int, str]] = []  # (level, id)
    for h in doc.headings:
        key = keys[h.line]
        while stack and stack[-1][0] >= h.level:
            stack.pop()
        title = strip_emphasis(h.text)
        kind = NodeKind.GOAL if goal_heading(title) else NodeKind.PLAN
        item = Item(
            _make(TODO_FILE, key, h.line, kind, title, "", status=NodeStatus.OPEN,
                  metadata={"level": h.level}, tags=refs(h.text), created=t, updated=t),
            parent=stack[-1][1] if stack else None, text=h.text,
        )
        stack.append((h.level, item.id))
        heading_at.append((h.line, item.id))
        out.append((h.line, item))
    by_line: dict[int, str] = {}
    hi = 0
    current_heading: str | None = None
    for it in doc.items:  # items come in line order, so the heading pointer only moves forward
        while hi < len(heading_at) and heading_at[hi][0] < it.line:
            current_heading = heading_at[hi][1]
            hi += 1
        key = keys[it.line]
        title = strip_emphasis(it.text)
        ref = leading_ref(title)
        details = _details(it.details)
        item = Item(
            _make(TODO_FILE, key, it.line, NodeKind.TODO, title, details, status=_todo_status(it.state, it.marker),
                  metadata={"state": it.state, "boxes": it.boxes, "depth": it.depth},
                  tags=[ref] if ref else [], created=t, updated=t),
            parent=by_line.get(it.parent_line) if it.parent_line is not None else current_heading,
            text=f"{title}\n{details}",
            info={"ref": ref, "title": title},
        )
        by_line[it.line] = item.id
        out.append((it.line, item))
    out.sort(key=lambda p: p[0])
    return [item for _, item in out]


# -- persistent-memory.md -----------------------------------------------------------------
def _memory_keys(c: MemoryColumns) -> list[str]:
    """The occurrence key of every entry: ``entry/<ts>|<mode>|<id>`` (memory-bank forms: ``entry/<ts>|<form>``)."""
    base = [f"entry/{raw}|{mode or ''}|{eid or ''}" if mode is not None or eid is not None
            else f"entry/{raw}|{FORMS[form]}"
            for raw, mode, eid, form in zip(c.timestamp_raw, c.mode, c.id, c.form, strict=True)]
    if len(set(base)) == len(base):
        return base  # no key repeats: every occurrence key is the key itself
    keys = OccurrenceKeys()
    return [keys(k) for k in base]


def memory_items(ws: Workspace, now: float | None) -> list[Item]:
    """One ``memory`` node per log entry, in file order.

    Read from the log's columns (:attr:`MemoryDocument.columns`), not its
    :class:`~orchestrator_gui.formats.memory.MemoryEntry` models, and the
    nodes made as :func:`_make` makes them with what it checks known
    already (a file and key that are never empty, times the scanner parsed):
    a log of 300 000 entries would otherwise make 300 000 entry models only
    to read their fields once, and pay a general maker's checks per node.
    """
    path = ws.memory
    if not os.path.lexists(path):
        return []
    doc = load_memory(path)
    c = doc.columns
    if len(c.line) > MAX_FILE_NODES:
        _check_node_count(doc.name, list(c.line))
    body_of = doc.entries.body
    keys = _memory_keys(c)
    if not all(map(math.isfinite, c.stamp)):  # never: the scanner takes an entry only once its time parsed
        line = next(ln for ln, ts in zip(c.line, c.stamp, strict=True) if not math.isfinite(ts))
        raise FormatError(doc.name, "the entry's timestamp cannot be read", line=line)
    kind, status, layer = NodeKind.MEMORY, NodeStatus.DONE, DEFAULT_LAYER[NodeKind.MEMORY]
    radius = SHELL_RADII[layer]
    make = construct_unchecked
    out: list[Item] = []
    append = out.append
    for k, (line, end, form, raw, mode, eid, summary, section, ts, key) in enumerate(zip(
            c.line, c.end_line, c.form, c.timestamp_raw, c.mode, c.id, c.summary, c.section, c.stamp, keys,
            strict=True)):
        if end > line:
            body = "\n".join(body_of(k)).strip("\n")
            content = f"{summary}\n{body}" if summary and body else summary or body
        else:
            content = summary
        nid = f"{MEMORY_FILE}::{key}"  # node_id(MEMORY_FILE, key)
        node = make(Node, {
            "id": nid, "kind": kind, "title": _title(eid or summary or raw), "content": content,
            "metadata": {"timestamp": raw, "mode": mode, "entry_id": eid, "form": FORMS[form], "section": section},
            "tags": tuple(refs(eid)) if eid and "-" in eid else (), "layer": layer, "theta": 0.0, "phi": 0.0,
            "r": radius, "created": ts, "updated": ts, "access_count": 0, "last_activated": None, "score": 0.0,
            "confidence": 1.0, "status": status,
            "source": make(Source, {"file": MEMORY_FILE, "key": key, "line": line if line > 0 else None}),
            "history": (),
        })
        append(Item(node, None, f"{eid or ''}\n{content}", {"mode": mode or ""}))
    return out


# -- task_timing.tsv ----------------------------------------------------------------------
def _row_time(row: Any) -> float | None:
    for value in (row.timestamp, row.end_time, row.start_time):
        t = parse_instant(value)
        if t is not None:
            return t
    return None


def _run_title(rows: list[Any], task_id: str) -> str:
    for r in reversed(rows):
        task = (r.task or "").strip()
        if task and task.split()[0].lower() not in _STATUS_WORDS:
            return task
    return task_id


def _timing_tasks(path: Path) -> dict[str, list[TimingRow]]:
    """The log's rows grouped by task id; of a log past the read limit, its newest rows.

    The log is append-only and outgrows the 20 MB read limit after a long run
    of agents; the graph then holds the runs of its newest
    :data:`MAX_PAGE_ROWS` rows (those within 20 MB of its end) instead of
    refusing the whole build.
    """
    try:
        big = os.stat(path).st_size > MAX_FILE_BYTES
    except OSError:
        big = False  # load_timing reports it
    if not big:
        return load_timing(path).tasks()
    return group_by_task(read_timing_page(path, limit=MAX_PAGE_ROWS, partial=True).rows)


def timing_items(ws: Workspace, now: float | None) -> list[Item]:
    """One ``run`` node per task id; status and duration from its latest row."""
    path, file = ws.timing, TIMING_FILE
    if not os.path.lexists(path) and os.path.lexists(ws.timing_csv):
        path, file = ws.timing_csv, TIMING_CSV_FILE
    if not os.path.lexists(path):
        return []
    fallback = _fallback_time(path, now)
    out: list[Item] = []
    for task_id, rows in _timing_tasks(path).items():
        times = [_row_time(r) for r in rows]
        # Latest by time; rows without a readable time rank first, and file order breaks ties.
        order = sorted(range(len(rows)), key=lambda i: (times[i] is not None, times[i] or 0.0, i))
        latest = rows[order[-1]]
        starts = [t for r in rows if (t := parse_instant(r.start_time)) is not None]
        known = [t for t in times if t is not None]
        duration = latest.duration_s if latest.duration_s is not None else latest.computed_duration_s
        mode = latest.mode or next((r.mode for r in reversed(rows) if r.mode), None)
        title = _run_title(rows, task_id)
        content = "\n".join(
            "\t".join(x for x in (r.timestamp or r.start_time or "", r.mode or "", r.result or r.status or "") if x)
            for r in rows
        )
        created = min(starts) if starts else (min(known) if known else fallback)
        out.append(Item(
            _make(file, f"run/{task_id}", rows[0].line, NodeKind.RUN, title, content,
                  status=_RUN_STATUS.get(latest.status or "", NodeStatus.OPEN),
                  metadata={"task_id": task_id, "mode": mode, "result": latest.result, "priority": latest.priority,
                            "duration_s": duration, "rows": [r.line for r in rows]},
                  tags=refs(title), created=created, updated=max(known) if known else created),
            text="\n".join(r.task or "" for r in rows),
            info={"mode": mode or "", "task_id": task_id, "task": title},
        ))
    return out


# -- .roomodes ----------------------------------------------------------------------------
def mode_items(ws: Workspace, now: float | None) -> list[Item]:
    """One ``mode`` node per custom mode."""
    path = ws.roomodes
    if not os.path.lexists(path):
        return []
    doc = load_modes(path)
    t = _fallback_time(path, now)
    keys = OccurrenceKeys()
    out: list[Item] = []
    for m in doc.modes:
        content = "\n\n".join(p for p in (m.role_definition, m.when_to_use or "") if p)
        out.append(Item(
            _make(MODES_FILE, keys(f"mode/{m.slug}"), m.line, NodeKind.MODE, m.name or m.slug, content,
                  status=NodeStatus.ACTIVE,
                  metadata={"slug": m.slug, "groups": [g.name for g in m.groups], "source": m.source},
                  tags=[], created=t, updated=t),
            text=content, info={"slug": m.slug},
        ))
    return out


#: Readers in the order their nodes are added (targets of links before the nodes linking to them).
READERS: tuple[tuple[str, Callable[[Workspace, float | None], list[Item]]], ...] = (
    ("modes", mode_items),
    ("schedules", schedule_items),
    ("todo", todo_items),
    ("memory", memory_items),
    ("timing", timing_items),
)


#: The workspace files each reader reads (a change of one of them calls for that reader only).
READER_FILES: dict[str, frozenset[str]] = {
    "modes": frozenset({MODES_FILE}),
    "schedules": frozenset({SCHEDULES_FILE}),
    "todo": frozenset({TODO_FILE}),
    "memory": frozenset({MEMORY_FILE}),
    "timing": frozenset({TIMING_FILE, TIMING_CSV_FILE}),
}


#: Readers whose node metadata holds only ``str`` or ``None`` values (nothing for :func:`check_metadata` to find).
_PLAIN_METADATA = frozenset({"memory"})


def readers_for(files: Iterable[str]) -> list[str]:
    """Names of the readers that read any of ``files`` (workspace-relative names), in :data:`READERS` order."""
    wanted = set(files)
    return [name for name, _ in READERS if READER_FILES[name] & wanted]


def read_workspace(ws: Workspace, now: float | None = None, *, only: Iterable[str] | None = None,
                   previous: dict[str, list[Item]] | None = None) -> dict[str, list[Item]]:
    """All items of the workspace by reader name (``modes``, ``schedules``, ``todo``, ``memory``, ``timing``).

    Parameters
    ----------
    ws : Workspace
    now : float, optional
        Fallback item time (default: each file's modification time).
    only : iterable of str, optional
        Reader names to run; the other readers' items are taken from
        ``previous`` (which must then hold them), so an edit of one file
        reads that file alone.
    previous : dict, optional
        The result of an earlier call.

    Raises
    ------
    FormatError
        When a file exists but cannot be read or parsed.
    """
    run = None if only is None else set(only)
    if run is not None and previous is None:
        raise ValueError("read_workspace(only=...) needs the previous items of the other files")
    with paused_gc():
        out = {name: reader(ws, now) if run is None or name in run else previous[name]  # type: ignore[index]
               for name, reader in READERS}
        # Memory metadata holds only the reader's strings (or None), which always survive the JSON
        # round trip check_metadata checks: a 300 000-entry log would spend most of a second on it.
        check_metadata(it for name, group in out.items() if (run is None or name in run) and name not in _PLAIN_METADATA
                       for it in group)
    return out
