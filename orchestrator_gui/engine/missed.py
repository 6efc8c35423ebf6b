"""Missed runs: what to do with schedule slots that passed while no scheduler was running.

Roo Scheduler's timers only exist while VS Code has the workspace open. When
it starts again and a schedule's next time is already past, it runs the
schedule **once** and does not backfill (docs/formats.md §1.4). We offer that as
the default and two alternatives, chosen in ``.orchestrator/config.toml``::

    [scheduler]
    missed = "once"        # or "skip", or "all"

* ``once`` -- run one catch-up run now; the other missed slots are dropped
  (and counted).
* ``skip`` -- run nothing now; re-arm for the next slot after now.
* ``all`` -- run one catch-up run per missed slot, one after another, up to
  :data:`MAX_BACKFILL` (the rest are dropped and counted).

A due time counts as *missed* when it is more than ``grace_ms`` old when the
scheduler looks at it, or when more than one slot has passed since it: a
scheduler that is running notices a due time within a tick, so only a closed
(or suspended) app gets this far behind. A headless ``run --once`` started
by cron every minute is therefore never "missing" anything.

Whatever the policy, the result says how many slots were missed, run and
dropped, so nothing disappears silently.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from orchestrator_gui.formats.nextrun import expiration_ms, iso_ms, next_execution_ms

#: A due time this much in the past still counts as on time (one scheduler tick plus cron jitter).
DEFAULT_GRACE_MS = 120_000
#: Most catch-up runs the ``all`` policy starts for one schedule; the rest are dropped (and counted).
MAX_BACKFILL = 24
#: Slots counted at most (a one-minute schedule closed for a month would otherwise count 43,200).
MAX_COUNT = 10_000


class MissedPolicy(enum.StrEnum):
    """What to do with runs missed while the app was closed."""

    ONCE = "once"
    SKIP = "skip"
    ALL = "all"


@dataclass(frozen=True)
class MissedSlots:
    """The slots of one schedule that are due at ``now``.

    Attributes
    ----------
    slots : tuple of int
        Due times (epoch ms), oldest first, at most ``MAX_COUNT``.
    truncated : bool
        True when counting stopped at ``MAX_COUNT``.
    next_ms : int or None
        The first slot after ``now`` (what to re-arm to when skipping), or
        ``None`` when the schedule has no further run (expired, invalid).
    """

    slots: tuple[int, ...]
    truncated: bool
    next_ms: int | None

    @property
    def count(self) -> int:
        return len(self.slots)

    def is_missed(self, now_ms: int, grace_ms: int = DEFAULT_GRACE_MS) -> bool:
        """True when the app was evidently not running when these slots came due."""
        return self.count > 1 or (self.count == 1 and now_ms - self.slots[0] > grace_ms)


def due_slots(schedule: Mapping[str, Any], due_ms: int, now_ms: int, tz: tzinfo, *,
              limit: int = MAX_COUNT) -> MissedSlots:
    """List the slots from ``due_ms`` up to ``now_ms`` as the extension's cadence lays them.

    Each slot is fed back as ``lastExecutionTime``, which is what a run at
    that slot would have written, so the cadence follows the schedule's own
    rules (interval grid with a ``startDate``, run + interval without;
    ``selectedDays``; slots after ``expirationDate`` do not count).

    Parameters
    ----------
    schedule : mapping
        The raw schedule object.
    due_ms : int
        The armed (stored or computed) next execution time.
    now_ms : int
    tz : tzinfo
        Local zone of the scheduler machine.
    limit : int
        Stop counting after this many slots.
    """
    exp = expiration_ms(schedule, tz)
    sched = dict(schedule)
    slots: list[int] = []
    slot: int | None = due_ms
    while slot is not None and slot <= now_ms and (exp is None or slot <= exp):
        if len(slots) >= limit:
            return MissedSlots(tuple(slots), True, _after(sched, now_ms, tz, exp))
        slots.append(slot)
        sched["lastExecutionTime"] = iso_ms(slot)
        following = next_execution_ms(sched, slot + 1, tz)
        # The algorithm never goes backwards; guard anyway so a quirk cannot loop forever.
        slot = following if following is not None and following > slot else None
    return MissedSlots(tuple(slots), False, _after(sched, now_ms, tz, exp))


def _after(sched: Mapping[str, Any], now_ms: int, tz: tzinfo, exp: int | None) -> int | None:
    nxt = next_execution_ms(sched, now_ms, tz)
    if nxt is None or (exp is not None and nxt > exp):
        return None
    return nxt


def planned_runs(policy: MissedPolicy | str, missed: int, *, max_backfill: int = MAX_BACKFILL) -> int:
    """How many catch-up runs ``policy`` starts for ``missed`` missed slots."""
    policy = MissedPolicy(policy)
    if missed <= 0 or policy is MissedPolicy.SKIP:
        return 0
    if policy is MissedPolicy.ONCE:
        return 1
    return min(missed, max(1, max_backfill))
