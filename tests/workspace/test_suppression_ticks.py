"""Suppression ticks on a real workspace and graph store, under a hand-driven clock.

Timeline: TODO.md was last written at ``T0``; its items' activation
(1.75 * 2 ** (-age / 1 day): their own, plus what their heading spreads)
falls below 0.05 at ``CROSS``; with ``suppress_after_s = 900`` they are
suppressed 900 s later. Each item has its own heading, so the items lend
each other nothing.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator_gui.model.activation import touch
from orchestrator_gui.model.nodes import NodeFlag
from orchestrator_gui.workspace import Session
from orchestrator_gui.workspace.dynamics import refresh
from orchestrator_gui.workspace.next_work import rank_for_session
from orchestrator_gui.workspace.suppression import Suppressor, suppressed_nodes

DAY = 86_400.0
T0 = 1_800_000_000.0
CROSS = T0 + DAY * math.log2(1.75 / 0.05)
AFTER = 900.0
TODO = "# Docs\n\n- [ ] TW-001 Write the docs\n\n# Chores\n\n- [ ] TW-002 Tidy the README\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".orchestrator").mkdir(parents=True)
    (root / ".orchestrator" / "config.toml").write_text(f"[dynamics]\nsuppress_after_s = {AFTER:g}\n")
    (root / "TODO.md").write_text(TODO)
    os.utime(root / "TODO.md", (T0, T0))
    return root


def titles(session: Session, ids) -> set[str]:
    return {session.graph.node(i).title for i in ids}


ALL = {"Docs", "TW-001 Write the docs", "Chores", "TW-002 Tidy the README"}


def items(session: Session) -> dict[str, str]:
    """Title -> node id of the TODO items."""
    return {n.title: n.id for n in session.graph.nodes() if n.kind.value == "todo"}


def flagged(session: Session) -> set[str]:
    g = session.graph
    return {g.node(i).title for i in g.node_ids() if g.state(i).flags & NodeFlag.SUPPRESSED}


def ranked(session: Session, now: float) -> list[str]:
    return [r.title for r in rank_for_session(session, datetime.fromtimestamp(now, UTC))]


def test_idle_items_are_suppressed_after_the_configured_time_and_leave_next(ws):
    sup = Suppressor.for_workspace(ws)
    with Session.open(ws) as s:
        early = sup.update(s, CROSS + AFTER - 5)
        assert early.suppressed == [] and flagged(s) == set()
        assert ranked(s, CROSS + AFTER - 5) == ["TW-001 Write the docs", "TW-002 Tidy the README"]
        tick = sup.update(s, CROSS + AFTER + 5)
        assert titles(s, tick.suppressed) == ALL and len(tick.transactions) == 1  # items and their headings
        assert flagged(s) == ALL  # what the view dims
        assert ranked(s, CROSS + AFTER + 6) == []
        assert {r["title"] for r in suppressed_nodes(s.graph)} == flagged(s)
        assert s.history.undo_text.startswith("Suppress 4 idle nodes")
    with Session.open(ws) as s:  # journaled: another process sees it
        assert {r["title"] for r in suppressed_nodes(s.graph)} == ALL


def test_undo_restores_and_the_undone_suppression_is_held(ws):
    sup = Suppressor.for_workspace(ws)
    with Session.open(ws) as s:
        sup.update(s, CROSS + AFTER + 5)
        s.undo()
        assert suppressed_nodes(s.graph) == []
        assert ranked(s, CROSS + AFTER + 10) == ["TW-001 Write the docs", "TW-002 Tidy the README"]
        assert flagged(s) == set()
        # The next ticks leave the undone nodes alone for suppress_after_s ...
        held = sup.update(s, CROSS + AFTER + 20)
        assert held.suppressed == [] and titles(s, held.held) == ALL
        assert sup.update(s, CROSS + 2 * AFTER).suppressed == []
        # ... then they are idle still, and go.
        assert titles(s, sup.update(s, CROSS + 2 * AFTER + 30).suppressed) == ALL


def test_touching_a_suppressed_item_brings_it_back(ws):
    sup = Suppressor.for_workspace(ws)
    with Session.open(ws) as s:
        sup.update(s, CROSS + AFTER + 5)
        docs = items(s)["TW-001 Write the docs"]
        s.apply(touch(s.graph, docs, now=CROSS + AFTER + 50), undoable=False)  # what the app's "activate" does
        tick = sup.update(s, CROSS + AFTER + 60)
        assert tick.reactivated[docs] == "touched"
        heading = next(i for i in tick.reactivated if i != docs)  # its heading: lit by the touched item
        assert tick.reactivated == {docs: "touched", heading: "linked nodes are active"}
        assert flagged(s) == {"Chores", "TW-002 Tidy the README"}
        assert ranked(s, CROSS + AFTER + 61) == ["TW-001 Write the docs"]
        assert s.history.undo_text == "Re-activate 2 nodes: 'TW-001 Write the docs' (touched), …"
        s.undo()  # the re-activation is undoable like the suppression
        assert {r["title"] for r in suppressed_nodes(s.graph)} == ALL
        refresh(s.graph, CROSS + AFTER + 70)  # the app's next refresh dims them again
        assert flagged(s) == ALL


def test_editing_an_items_line_brings_it_back(ws):
    sup = Suppressor.for_workspace(ws)
    with Session.open(ws) as s:
        sup.update(s, CROSS + AFTER + 5)
        tidy = items(s)["TW-002 Tidy the README"]
        edited = CROSS + AFTER + 100
        (ws / "TODO.md").write_text(TODO.replace("Tidy the README", "Tidy the README and CHANGES"))
        os.utime(ws / "TODO.md", (edited, edited))
        s.sync(["TODO.md"])
        assert items(s)["TW-002 Tidy the README and CHANGES"] == tidy  # the same node, its line edited
        tick = sup.update(s, edited + 1)
        assert tick.reactivated[tidy] == "edited"
        assert titles(s, tick.reactivated) == {"Chores", "TW-002 Tidy the README and CHANGES"}
        assert ranked(s, edited + 2) == ["TW-002 Tidy the README and CHANGES"]


def test_a_due_schedule_and_a_run_bring_their_items_back(ws):
    # The schedule names TW-001, so it lends it activation (0.25 between its runs): a higher threshold.
    (ws / ".orchestrator" / "config.toml").write_text("[dynamics]\nsuppress_after_s = 900\nsuppress_below = 0.3\n")
    due = T0 + 20 * DAY
    sched = {"schedules": [{
        "id": "s1", "name": "Docs day", "mode": "code", "taskType": "custom", "scheduleType": "time",
        "timeInterval": "1", "timeUnit": "day", "active": True, "startDate": "2026-01-01", "startHour": "00",
        "startMinute": "00", "nextExecutionTime": datetime.fromtimestamp(due, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "taskInstructions": "Do TW-001 first.",
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"}]}
    (ws / ".roo").mkdir()
    (ws / ".roo" / "schedules.json").write_text(json.dumps(sched))
    os.utime(ws / ".roo" / "schedules.json", (T0, T0))
    sup = Suppressor.for_workspace(ws, tz=UTC)
    with Session.open(ws) as s:
        sup.update(s, T0 + 10.3 * DAY)  # between two of its daily due windows (graph timing)
        docs, tidy = items(s)["TW-001 Write the docs"], items(s)["TW-002 Tidy the README"]
        assert {docs, tidy} <= {r["id"] for r in suppressed_nodes(s.graph)}
        assert sup.update(s, T0 + 11.3 * DAY).reactivated == {}  # not due yet
        tick = sup.update(s, due + 1)  # schedules.json says: due now
        assert tick.reactivated[docs] == "schedule “Docs day” is due"
        assert tidy not in tick.reactivated
        assert ranked(s, due + 2) == ["TW-001 Write the docs"]
        # A run of the other one (the app names the item when its run starts).
        tick = sup.update(s, due + 60, run_ids=[tidy])
        assert tick.reactivated == {tidy: "run"}
        assert s.graph.node(tidy).last_activated == due + 60  # touched: not suppressed again at once
        assert sup.update(s, due + 120).suppressed == []


def test_next_skips_suppressed_items_even_before_the_flags_are_refreshed(ws):
    # The app ranks with dynamics=False (it keeps the flags current itself): the marks alone must keep
    # a suppressed item out, between a tick and the refresh that dims it.
    sup = Suppressor.for_workspace(ws)
    with Session.open(ws) as s:
        now = CROSS + AFTER + 5
        assert titles(s, sup.tick(s, now).suppressed) == ALL
        assert flagged(s) == set()  # not refreshed yet
        ranked_now = rank_for_session(s, datetime.fromtimestamp(now, UTC), dynamics=False)
        assert ranked_now == []
