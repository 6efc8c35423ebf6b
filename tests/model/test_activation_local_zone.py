"""temporal_vectors without a ``tz`` uses the local zone with its DST rules, not today's fixed offset."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from orchestrator_gui.model import Node, ThoughtGraph, Transaction
from orchestrator_gui.model.activation import temporal_vectors
from orchestrator_gui.model.transactions import AddNode

pytestmark = pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset (POSIX)")

# Every 2 days at minute 30, no start date: the extension anchors on the UTC date with the *local*
# hour, so at 23:10 UTC the anchor depends on whether London is on GMT (23:30 today) or BST (23:30
# yesterday, next run tomorrow).  A fixed offset taken in the other season gets one of them wrong.
EVERY_TWO_DAYS = {"interval": "2", "unit": "day", "start_minute": "30"}


@pytest.fixture
def london(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/London")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def next_run(now: datetime) -> datetime:
    g = ThoughtGraph()  # a fresh graph per call: temporal vectors are cached per graph
    node = Node(id="s", kind="schedule", title="every two days", metadata=EVERY_TWO_DAYS, created=0.0, updated=0.0)
    g.apply(Transaction.create("build", [AddNode(node=node)]), record=False)
    t = temporal_vectors(g, now=now.timestamp())  # tz=None: the local zone
    return datetime.fromtimestamp(float(t.next_run[0]), UTC)


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2025, 1, 15, 23, 10, tzinfo=UTC), datetime(2025, 1, 15, 23, 30, tzinfo=UTC)),
    (datetime(2025, 7, 15, 23, 10, tzinfo=UTC), datetime(2025, 7, 16, 23, 30, tzinfo=UTC)),
])
def test_default_zone_has_the_dst_of_the_date_not_of_today(london, now, expected):
    assert next_run(now) == expected
