"""What next, for a workspace: the ranking of :mod:`orchestrator_gui.model.next_work` with its context read here.

The CLI (``orchestrator-gui next``), the app's Next panel and the engine's
TODO runner all call :func:`rank_for_session`, so an agent, a person and
the loop see the same order for the same files and time. The context:

* which schedules are due now or soon (active, not paused; the same timer
  the scheduler arms: stored ``nextExecutionTime``, else the computed next run);
* each TODO item's consecutive failed runs and the escalated (paused)
  items and schedules, from ``.orchestrator/runs.jsonl`` and our config;
* the thought dynamics at that time (activation, then attention);
* the nodes suppressed for staying idle (:mod:`~orchestrator_gui.workspace.suppression`):
  never proposed, whatever the flags of the moment say.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

import numpy as np

from orchestrator_gui.engine.run_records import RunRecords
from orchestrator_gui.engine.scheduler import armed_ms
from orchestrator_gui.formats.nextrun import to_ms
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.formats.timezones import local_zone
from orchestrator_gui.formats.workspace import SCHEDULES
from orchestrator_gui.model.identity import MODES_FILE, schedule_node_id, subject_node
from orchestrator_gui.model.identity import node_id as make_node_id
from orchestrator_gui.model.next_work import NextContext, Ranked, rank_next
from orchestrator_gui.model.suppression import suppressed_mask
from orchestrator_gui.problems import FormatError
from orchestrator_gui.workspace.dynamics import refresh
from orchestrator_gui.workspace.pauses import PauseWatch


def next_context(session: Any, now: datetime | None = None, *, tz: tzinfo | None = None,
                 mode: str | None = None) -> NextContext:
    """The :class:`NextContext` of ``session``'s workspace at ``now`` (default: now)."""
    now = now or datetime.now(UTC)
    tz = tz or local_zone()
    root = session.root
    paused: set[str] = set()
    for (kind, sid), _pause in PauseWatch(root).all().items():
        nid = subject_node(session.graph, kind, sid)
        if nid:
            paused.add(nid)
    due: dict[str, float] = {}
    path = root / SCHEDULES
    if path.is_file():
        try:
            doc = load_schedules(path)
        except FormatError:
            doc = None  # a broken schedules file proposes nothing due; `check` says why
        now_ms = to_ms(now)
        for s in doc.schedules if doc is not None else []:
            nid = schedule_node_id(s.id)
            if not s.active or nid in paused:
                continue
            at = armed_ms(s.raw, now_ms, tz)
            if at is not None:
                due[nid] = (at - now_ms) / 1000.0
    failures: dict[str, int] = {}
    for (kind, sid), count in RunRecords.for_workspace(root).refresh().failures.items():
        nid = subject_node(session.graph, kind, sid)
        if nid and count > 0:
            failures[nid] = count
    # Suppressed for staying idle: never proposed, and a suppressed schedule or goal pulls no work (its
    # due time still counts: a due schedule re-activates what it reaches at the next suppression tick).
    paused.update(session.graph.ids_of(np.flatnonzero(suppressed_mask(session.graph))))
    mode_id = make_node_id(MODES_FILE, f"mode/{mode}") if mode else None
    return NextContext(due_in_s=due, failures=failures, paused=frozenset(paused), mode=mode_id)


def rank_for_session(session: Any, now: datetime | None = None, *, tz: tzinfo | None = None,
                     mode: str | None = None, limit: int = 6, dynamics: bool = True) -> list[Ranked]:
    """The open TODO items to work on now, best first, with reasons (see :func:`~.model.next_work.rank_next`).

    Parameters
    ----------
    session : Session
    now : datetime, optional
    tz : tzinfo, optional
        The scheduler machine's zone (default: local).
    mode : str, optional
        Rank only what that mode's items are (its slug).
    limit : int
    dynamics : bool
        Refresh activation and attention at ``now`` first (the app, which keeps them current, passes False).
    """
    now = now or datetime.now(UTC)
    if dynamics:
        refresh(session.graph, now.timestamp())
    return rank_next(session.graph, next_context(session, now, tz=tz, mode=mode), limit=limit)


def next_todo_line(root: Any, session: Any = None, now: datetime | None = None, *, tz: tzinfo | None = None,
                   mode: str | None = None) -> tuple[int, Ranked] | None:
    """The TODO.md line of the item to work on now (and its ranking), or None when nothing is open.

    What the loop runs for ``run --todo next``: the same ranking as ``next``,
    on ``session``'s graph, or on a fresh in-memory build of the files when the
    workspace has no graph yet.
    """
    from orchestrator_gui.workspace.session import Session

    own = session is None
    if own:
        session = Session.open(root, in_memory=True)
    try:
        for ranked in rank_for_session(session, now, tz=tz, mode=mode, limit=20):
            src = session.graph.node(ranked.node_id).source
            if src is not None and src.line:
                return int(src.line), ranked
        return None
    finally:
        if own:
            session.close()


__all__ = ["next_context", "next_todo_line", "rank_for_session"]
