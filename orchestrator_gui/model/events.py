"""Change notification for the thought graph (psygnal), batched into one burst per transaction.

Design
------
The graph never emits while it is changing.  Each mutation is *recorded* in an
:class:`EventBatcher`; when the outermost batch ends (a transaction commits,
or a ``with graph.batch():`` block exits) the batcher computes the net effect
and emits, in this order:

1. ``node_removed`` / ``edge_removed`` per item (so views drop things first),
2. ``node_added`` / ``edge_added`` per item,
3. ``node_changed`` once per node with the union of changed field names,
4. ``positions_changed``, ``activation_changed``, ``attention_changed``,
   ``flags_changed`` once each, with the *current* rows of the affected nodes
   as an int64 array (all rows when a whole column was rewritten),
5. ``selection_changed`` once, with the ids selected now,
6. ``changed`` once, with a :class:`ChangeSummary` of everything above.

A listener that only wants "something changed, refresh" connects to
``changed``; fine-grained listeners use the per-item signals.  A failed
transaction truncates its records, so it emits nothing.

``transaction_committed`` (with the committed transaction) follows right
after each commit's burst -- or right after the commit when an enclosing
``graph.batch()`` defers the burst.  A store should rather journal from a
*commit hook*, which runs before the commit completes and can still veto it
(see ``ThoughtGraph.add_commit_hook``).  ``history_changed`` tells undo/redo
buttons to refresh.

Net effect: a node added and removed within one burst is not reported at all;
one removed and added again (a replacement) is reported as both.  The same
holds for edges, whose identity is ``(src, dst, type)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from psygnal import Signal

EdgeKey = tuple[str, str, str]


class GraphEvents:
    """The signals of one graph.  Names are past tense: they report what has happened."""

    node_added = Signal(str)
    node_removed = Signal(str)
    node_changed = Signal(str, tuple)
    edge_added = Signal(tuple)
    edge_removed = Signal(tuple)
    positions_changed = Signal(object)
    activation_changed = Signal(object)
    attention_changed = Signal(object)
    flags_changed = Signal(object)
    selection_changed = Signal(tuple)
    changed = Signal(object)
    transaction_committed = Signal(object)
    history_changed = Signal()


@dataclass
class ChangeSummary:
    """Net effect of one burst of changes."""

    nodes_added: list[str] = field(default_factory=list)
    nodes_removed: list[str] = field(default_factory=list)
    nodes_changed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    edges_added: list[EdgeKey] = field(default_factory=list)
    edges_removed: list[EdgeKey] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    activation: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    selection_changed: bool = False
    #: True when activation (attention) was rewritten for every row at once.
    all_activation: bool = False
    all_attention: bool = False

    @property
    def structure_changed(self) -> bool:
        """True when nodes or edges were added or removed."""
        return bool(self.nodes_added or self.nodes_removed or self.edges_added or self.edges_removed)

    def is_empty(self) -> bool:
        """True when nothing at all changed."""
        return not (
            self.structure_changed
            or self.nodes_changed
            or self.moved
            or self.activation
            or self.attention
            or self.flags
            or self.selection_changed
            or self.all_activation
            or self.all_attention
        )


class _NetSet:
    """Ordered net additions/removals of identities within one burst."""

    def __init__(self) -> None:
        self.added: dict[Any, None] = {}
        self.removed: dict[Any, None] = {}

    def add(self, ident: Any) -> None:
        self.added[ident] = None

    def remove(self, ident: Any) -> None:
        if ident in self.added:
            # Created and destroyed within the burst: nobody needs to hear of it.
            del self.added[ident]
        else:
            self.removed[ident] = None


class EventBatcher:
    """Collects change records and emits them as one burst (see module docstring).

    Parameters
    ----------
    events : GraphEvents
        Where to emit.
    current_rows : callable
        Maps a list of node ids to their current rows (dropping ids that no
        longer exist), as an int64 array; ``None`` means all rows.
    selected_ids : callable
        Returns the ids that are selected now.
    """

    def __init__(
        self,
        events: GraphEvents,
        current_rows: Callable[[list[str]], np.ndarray],
        selected_ids: Callable[[], tuple[str, ...]],
    ) -> None:
        self.events = events
        self._rows = current_rows
        self._selected = selected_ids
        self.depth = 0
        self.records: list[tuple] = []

    def record(self, *rec: Any) -> None:
        """Record a change, for example ``("node_added", id)`` or ``("moved", [ids])``."""
        self.records.append(rec)
        if self.depth == 0:
            self.flush()

    def mark(self) -> int:
        """A position to :meth:`truncate` back to when a transaction fails."""
        return len(self.records)

    def truncate(self, mark: int) -> None:
        """Forget records made after ``mark``."""
        del self.records[mark:]

    def begin(self) -> None:
        """Open a (possibly nested) batch."""
        self.depth += 1

    def end(self) -> None:
        """Close a batch; the outermost close emits the burst."""
        self.depth -= 1
        if self.depth == 0:
            self.flush()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """:meth:`begin` on entry and :meth:`end` on exit, whatever happens in between."""
        self.begin()
        try:
            yield
        finally:
            self.end()

    def summarise(self) -> ChangeSummary:
        """Net effect of the pending records."""
        nodes, edges = _NetSet(), _NetSet()
        changed: dict[str, dict[str, None]] = {}
        streams: dict[str, dict[str, None]] = {"moved": {}, "activation": {}, "attention": {}, "flags": {}}
        selection = False
        everything: set[str] = set()
        for rec in self.records:
            kind = rec[0]
            if kind == "node_added":
                nodes.add(rec[1])
            elif kind == "node_removed":
                nodes.remove(rec[1])
                changed.pop(rec[1], None)
                for s in streams.values():
                    s.pop(rec[1], None)
            elif kind == "node_changed":
                changed.setdefault(rec[1], {}).update(dict.fromkeys(rec[2]))
            elif kind == "edge_added":
                edges.add(rec[1])
            elif kind == "edge_removed":
                edges.remove(rec[1])
            elif kind in streams:
                if rec[1] is None:
                    everything.add(kind)
                else:
                    streams[kind].update(dict.fromkeys(rec[1]))
            elif kind == "selection":
                selection = True
            else:  # pragma: no cover - a programming error in the graph
                raise ValueError(f"unknown change record {kind!r}")
        fresh = nodes.added
        return ChangeSummary(
            nodes_added=list(nodes.added),
            nodes_removed=list(nodes.removed),
            nodes_changed={k: tuple(v) for k, v in changed.items() if k not in fresh},
            edges_added=list(edges.added),
            edges_removed=list(edges.removed),
            moved=[i for i in streams["moved"] if i not in fresh],
            activation=[i for i in streams["activation"] if i not in fresh],
            attention=[i for i in streams["attention"] if i not in fresh],
            flags=[i for i in streams["flags"] if i not in fresh],
            selection_changed=selection,
            all_activation="activation" in everything,
            all_attention="attention" in everything,
        )

    def flush(self) -> None:
        """Emit the burst for the pending records and clear them."""
        if not self.records:
            return
        summary = self.summarise()
        self.records = []
        if summary.is_empty():
            return
        ev = self.events
        for nid in summary.nodes_removed:
            ev.node_removed.emit(nid)
        for key in summary.edges_removed:
            ev.edge_removed.emit(key)
        for nid in summary.nodes_added:
            ev.node_added.emit(nid)
        for key in summary.edges_added:
            ev.edge_added.emit(key)
        for nid, fields in summary.nodes_changed.items():
            ev.node_changed.emit(nid, fields)
        for ids, everything, sig in (
            (summary.moved, False, ev.positions_changed),
            (summary.activation, summary.all_activation, ev.activation_changed),
            (summary.attention, summary.all_attention, ev.attention_changed),
            (summary.flags, False, ev.flags_changed),
        ):
            if everything:
                sig.emit(self._rows(None))
            elif ids:
                sig.emit(self._rows(ids))
        if summary.selection_changed:
            ev.selection_changed.emit(self._selected())
        ev.changed.emit(summary)
