"""When a Roo schedule fires, and what it writes back: roo-scheduler semantics, as pure decisions.

:func:`decide` looks at one schedule at one instant and says what the
extension's ``executeSchedule`` would do (docs/formats.md §1.5), applied to *our*
runs instead of Roo's task stack:

1. ``active: false`` -- nothing (a missing ``active`` means true); a number
   outside its documented range (``timeInterval`` of ten years or more ...,
   docs/formats.md §1.3) -- never run (:attr:`Action.INVALID`), reported by the loop;
2. ``expirationDate`` passed -- write ``active:false`` and remove ``nextExecutionTime``;
3. not due yet -- nothing; due long ago -- the missed-run policy (:mod:`.missed`);
4. ``requireActivity`` and none of our runs other than ``lastTaskId`` was
   active since ``lastExecutionTime`` -- skip silently (no ``lastSkippedTime``)
   and re-arm;
5. one of our agent tasks is running in this workspace -- ``taskInteraction``:

   * ``wait`` (also when missing): when that task has been idle (no output)
     for ``inactivityDelay`` minutes (``parseInt``; empty or missing = 1,
     ``"0"`` = 0), cancel it and run; otherwise write ``lastSkippedTime=now``
     and ``nextExecutionTime=now+1 min`` (seconds zeroed) and look again then;
   * ``interrupt``: cancel it and run;
   * ``skip``: write ``lastSkippedTime=now`` and re-arm;
6. run: when the run starts, write ``lastExecutionTime`` (its start),
   ``lastTaskId`` and the re-armed ``nextExecutionTime``.

"Armed" is the persistent timer: the stored ``nextExecutionTime`` when it
holds a valid time (the extension keeps it current while VS Code is open),
otherwise the time computed by :func:`~orchestrator_gui.formats.nextrun.next_execution_ms`.
Everything here is a pure function of its arguments; the loop that acts on
the decisions is :class:`orchestrator_gui.engine.scheduler_loop.Scheduler`
(kept in its own module for size).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, Protocol

from orchestrator_gui.engine.missed import DEFAULT_GRACE_MS, MAX_BACKFILL, MissedPolicy, due_slots, planned_runs
from orchestrator_gui.formats.nextrun import expiration_ms, iso_ms, next_execution_ms, parse_js_iso
from orchestrator_gui.formats.schedule_values import range_problems

MINUTE_MS = 60_000


class Action(enum.StrEnum):
    """What the scheduler does with a schedule at one instant."""

    FIRE = "fire"                # start ``runs`` run(s) now (after cancelling ``interrupt``)
    WAIT = "wait"                # our task is busy: retry in a minute (written back)
    SKIP = "skip"                # taskInteraction skip (written back)
    NO_ACTIVITY = "no_activity"  # requireActivity: nothing happened since the last run
    MISSED_SKIP = "missed_skip"  # missed while closed, policy "skip": re-armed, nothing run
    EXPIRE = "expire"            # past its expiration: deactivated
    NOT_DUE = "not_due"
    INACTIVE = "inactive"
    PAUSED = "paused"            # paused in our config (3-strike escalation or by hand)
    UNSUPPORTED = "unsupported"  # scheduleType other than "time": the extension never runs it
    NO_NEXT = "no_next"          # no next time can be computed (no interval/unit, invalid date)
    INVALID = "invalid"          # a value outside its documented range (docs/formats.md §1.3): never run


#: Actions that are reported as "skipped" in summaries.
SKIPPED = frozenset({Action.SKIP, Action.NO_ACTIVITY, Action.MISSED_SKIP, Action.EXPIRE})


@dataclass(frozen=True)
class RunningTask:
    """Our agent task that is running in the workspace (what ``taskInteraction`` applies to).

    Attributes
    ----------
    task_id : str
    started_ms : int
        Start (epoch ms).
    last_output_ms : int or None
        When it last wrote to stdout or stderr; ``None`` if it has not yet.
    """

    task_id: str
    started_ms: int
    last_output_ms: int | None = None

    @property
    def last_activity_ms(self) -> int:
        """Its last sign of life: the last output, or its start when it has printed nothing."""
        return max(self.started_ms, self.last_output_ms or 0)


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`decide` for one schedule.

    Attributes
    ----------
    schedule_id, name : str
    action : Action
    due_ms : int or None
        The armed time that was looked at.
    reason : str
        One human sentence (logged on stderr and in the JSON summary).
    updates : dict
        Runtime fields to write back now (``None`` removes a key); empty for
        a run, whose fields are written when it starts (:func:`started_updates`).
    interrupt : str or None
        Task id of our running task to cancel before running.
    runs : int
        Runs to start (more than one only for the ``all`` missed-run policy).
    missed, dropped : int
        Slots missed while the app was closed, and how many of them will not run.
    """

    schedule_id: str
    name: str
    action: Action
    due_ms: int | None = None
    reason: str = ""
    updates: dict[str, Any] = field(default_factory=dict)
    interrupt: str | None = None
    runs: int = 0
    missed: int = 0
    dropped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for summaries."""
        return {
            "schedule_id": self.schedule_id, "name": self.name, "action": self.action.value,
            "due": iso_ms(self.due_ms) if self.due_ms is not None else None, "reason": self.reason,
            "updates": dict(self.updates), "interrupt": self.interrupt, "runs": self.runs,
            "missed": self.missed, "dropped": self.dropped,
        }


# -- the start gate ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StartRequest:
    """A run the scheduler is about to start, as a :class:`StartGate` sees it.

    Attributes
    ----------
    schedule_id, name : str
    due_ms : int or None
        The slot (the armed time that came due).
    task_id : str
        The id the run will have.
    now_ms : int
        When it starts (the scheduler's clock).
    attempt : int
        0 for the slot's own run; more for a slot offered again (:meth:`StartGate.offers`).
    updates : dict
        The runtime fields the start writes back into ``schedules.json`` (Roo's semantics).
    """

    schedule_id: str
    name: str
    due_ms: int | None
    task_id: str
    now_ms: int
    attempt: int = 0
    updates: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Allow:
    """The gate lets the run start; ``note`` (if any) is logged."""

    note: str = ""


@dataclass(frozen=True)
class Deny:
    """The gate refuses the run.

    Attributes
    ----------
    reason : str
        One sentence for the log and the summary.
    fields : dict or None
        Runtime fields to write back instead (``None`` value = remove the key), e.g. the
        fleet's shared record after another machine ran the slot; None: write nothing.
    retry : bool
        Ask again at the next tick (the slot stays armed), e.g. while a database is unreachable.
    by : str or None
        Who has the slot, when someone does (another machine's name).
    """

    reason: str
    fields: Mapping[str, Any] | None = None
    retry: bool = False
    by: str | None = None


@dataclass(frozen=True)
class Shared:
    """Runtime fields a gate hands over to adopt (:meth:`StartGate.sync`).

    Attributes
    ----------
    fields : dict
        Roo's runtime fields to write back (``None`` value = remove the key).
    by : str or None
        Who wrote them last (another machine's name).
    slot_ms : int or None
        The newest slot they account for: a slot due here at or before it was taken by ``by``.
    """

    fields: Mapping[str, Any]
    by: str | None = None
    slot_ms: int | None = None


@dataclass(frozen=True)
class Offer:
    """A slot offered (again) to this scheduler by its gate: run it as ``attempt`` of ``due_ms``."""

    schedule_id: str
    due_ms: int
    attempt: int
    reason: str


class StartGate(Protocol):
    """Asked before every scheduled run starts; the engine knows nothing of who answers.

    The fleet's claims (one machine per slot) are one gate; any later rule
    (an approval step) can be another. Every method must be safe to call
    from the scheduler's thread; :meth:`after_finish` runs in a worker thread.
    """

    def sync(self, schedule_ids: list[str]) -> dict[str, Shared]:
        """Runtime fields to adopt now per schedule (written back before deciding); {} for none."""
        ...

    def before_start(self, request: StartRequest) -> Allow | Deny:
        """Allow or refuse the run about to start."""
        ...

    def after_finish(self, request: StartRequest, result: Any) -> None:
        """The run allowed for ``request`` ended with ``result`` (a ``RunResult``, or None when unknown)."""
        ...

    def offers(self, now_ms: int) -> list[Offer]:
        """Slots to start now besides the due ones (a dead machine's lost claims); [] for none."""
        ...


# -- small rules ---------------------------------------------------------------------------------
def _js_parse_int(value: Any) -> int | None:
    m = re.match(r"^\s*([+-]?)(\d+)", str(value))
    if m is None:
        return None
    digits = m.group(2).lstrip("0") or "0"
    number = int(digits) if len(digits) <= 18 else 10**18  # int() refuses past 4300 digits; ranges cap far below
    return -number if m.group(1) == "-" else number


def inactivity_delay_ms(schedule: Mapping[str, Any]) -> int:
    """``inactivityDelay`` in ms as the extension reads it: ``parseInt``, 1 minute when empty or missing.

    ``"0"`` is a non-empty string, so it means 0 (proceed at once). A value
    ``parseInt`` cannot read is ``NaN`` in JavaScript, and ``now - t >= NaN``
    is false: the extension waits forever; we do the same.
    """
    raw = schedule.get("inactivityDelay")
    if not raw:
        return MINUTE_MS
    minutes = _js_parse_int(raw)
    return -1 if minutes is None else minutes * MINUTE_MS


def wait_retry_ms(now_ms: int) -> int:
    """``now + 1 minute`` with the seconds set to zero and the milliseconds kept (``setSeconds(0)``)."""
    t = now_ms + MINUTE_MS
    return t - (t % MINUTE_MS) + (t % 1000)


def stored_next_ms(schedule: Mapping[str, Any]) -> int | None:
    """The stored ``nextExecutionTime`` as epoch ms, ``None`` when absent, empty or unreadable."""
    value = schedule.get("nextExecutionTime")
    return parse_js_iso(value) if isinstance(value, str) else None


def armed_ms(schedule: Mapping[str, Any], now_ms: int, tz: tzinfo) -> int | None:
    """The schedule's persistent timer: stored ``nextExecutionTime``, else the computed next run."""
    stored = stored_next_ms(schedule)
    return stored if stored is not None else next_execution_ms(schedule, now_ms, tz)


def rearm_updates(schedule: Mapping[str, Any], now_ms: int, tz: tzinfo) -> dict[str, Any]:
    """What ``setupTimerForSchedule`` writes after a run or skip at ``now_ms`` (with ``schedule`` already updated).

    ``nextExecutionTime`` becomes the next run; it is removed when there is
    none; a next run after the expiration deactivates the schedule.
    """
    # The extension re-arms a moment after it wrote lastExecutionTime; at the very same
    # millisecond the algorithm would return that instant itself and fire again.
    nxt = next_execution_ms(schedule, now_ms + 1, tz)
    exp = expiration_ms(schedule, tz)
    if nxt is None:
        return {"nextExecutionTime": None}
    if exp is not None and nxt > exp:
        return {"active": False, "nextExecutionTime": None}
    return {"nextExecutionTime": iso_ms(nxt)}


def started_updates(schedule: Mapping[str, Any], start_ms: int, task_id: str, tz: tzinfo) -> dict[str, Any]:
    """Values written when a run starts: ``lastExecutionTime``, ``lastTaskId``, re-armed ``nextExecutionTime``."""
    values = {"lastExecutionTime": iso_ms(start_ms), "lastTaskId": task_id}
    return {**values, **rearm_updates({**schedule, **values}, start_ms, tz)}


def skipped_updates(schedule: Mapping[str, Any], now_ms: int, tz: tzinfo) -> dict[str, Any]:
    """Values written for a ``taskInteraction: skip``: ``lastSkippedTime`` and the re-armed next run."""
    values = {"lastSkippedTime": iso_ms(now_ms)}
    return {**values, **rearm_updates({**schedule, **values}, now_ms, tz)}


def waiting_updates(now_ms: int) -> dict[str, Any]:
    """Values written while waiting for our task to go idle (retry in a minute)."""
    return {"lastSkippedTime": iso_ms(now_ms), "nextExecutionTime": iso_ms(wait_retry_ms(now_ms))}


def expired_updates() -> dict[str, Any]:
    """Values written when a schedule is past its expiration."""
    return {"active": False, "nextExecutionTime": None}


def no_recent_activity(schedule: Mapping[str, Any], activity: Mapping[str, int]) -> bool:
    """``requireActivity`` test: True when the run should be skipped.

    ``activity`` maps each of our task ids to its last activity (epoch ms).
    As in the extension, the newest activity of any task other than
    ``lastTaskId`` is compared with ``lastExecutionTime``; when there is
    none at all the schedule runs.
    """
    last_exec = parse_js_iso(str(schedule.get("lastExecutionTime") or "")) or 0
    own = schedule.get("lastTaskId")
    others = [t for task_id, t in activity.items() if task_id != own]
    return bool(others) and max(others) < last_exec


# -- the decision ---------------------------------------------------------------------------------
def decide(schedule: Mapping[str, Any], now_ms: int, tz: tzinfo, *, armed: int | None = None,
           running: RunningTask | None = None, activity: Mapping[str, int] | None = None,
           policy: MissedPolicy | str = MissedPolicy.ONCE, grace_ms: int = DEFAULT_GRACE_MS,
           max_backfill: int = MAX_BACKFILL) -> Decision:
    """Decide what to do with ``schedule`` at ``now_ms``.

    Parameters
    ----------
    schedule : mapping
        The raw schedule object as stored.
    now_ms : int
        Current time (epoch ms).
    tz : tzinfo
        Local zone of the scheduler machine.
    armed : int, optional
        The armed time; by default :func:`armed_ms` of the schedule.
    running : RunningTask, optional
        Our agent task running in this workspace, if any.
    activity : mapping of str to int, optional
        Last activity (epoch ms) of each of our runs, for ``requireActivity``.
    policy : MissedPolicy
        What to do with runs missed while the app was closed.
    grace_ms : int
        How late a due time may be and still count as on time.
    max_backfill : int
        Cap on catch-up runs for the ``all`` policy.
    """
    sid, name = str(schedule.get("id", "")), str(schedule.get("name") or schedule.get("id") or "")

    def out(action: Action, reason: str, **kw: Any) -> Decision:
        return Decision(schedule_id=sid, name=name, action=action, reason=reason, **kw)

    if schedule.get("scheduleType") != "time":
        return out(Action.UNSUPPORTED, f"scheduleType {schedule.get('scheduleType')!r} is never run (only \"time\")")
    if schedule.get("active") is False:
        return out(Action.INACTIVE, "inactive")
    out_of_range = range_problems(dict(schedule))
    if out_of_range:
        # The extension would arm it with a time it cannot keep; we refuse it, and the loop says so once.
        return out(Action.INVALID, "; ".join(out_of_range) + "; not run until it is fixed")
    due = armed if armed is not None else armed_ms(schedule, now_ms, tz)
    exp = expiration_ms(schedule, tz)
    if exp is not None and now_ms > exp:
        return out(Action.EXPIRE, f"expired at {iso_ms(exp)}: deactivated", due_ms=due, updates=expired_updates())
    if exp is not None and due is not None and due > exp:
        # setupTimerForSchedule deactivates a schedule whose next run falls after its expiration.
        return out(Action.EXPIRE, f"next run {iso_ms(due)} is after the expiration {iso_ms(exp)}: deactivated",
                   due_ms=due, updates=expired_updates())
    if due is None:
        return out(Action.NO_NEXT, "no next run can be computed (check timeInterval, timeUnit and dates)")
    if now_ms < due:
        return out(Action.NOT_DUE, f"next run at {iso_ms(due)}", due_ms=due)

    runs, missed, dropped = 1, 0, 0
    slots = due_slots(schedule, due, now_ms, tz)
    if slots.is_missed(now_ms, grace_ms):
        missed = slots.count
        runs = planned_runs(policy, missed, max_backfill=max_backfill)
        dropped = missed - runs
        counted = f"{missed}{'+' if slots.truncated else ''} run(s) missed since {iso_ms(due)}"
        if runs == 0:
            rearm = ({"nextExecutionTime": iso_ms(slots.next_ms)} if slots.next_ms is not None
                     else rearm_updates(schedule, now_ms, tz))
            return out(Action.MISSED_SKIP, f"{counted}; missed-run policy skip: none run", due_ms=due,
                       updates=rearm, missed=missed, dropped=dropped)
        note = f"{counted}; missed-run policy {MissedPolicy(policy).value}: {runs} run now, {dropped} dropped"
    else:
        note = f"due at {iso_ms(due)}"

    if schedule.get("requireActivity") is True and no_recent_activity(schedule, activity or {}):
        return out(Action.NO_ACTIVITY, f"{note}; requireActivity: no run of ours active since the last one",
                   due_ms=due, updates=rearm_updates(schedule, now_ms, tz), missed=missed, dropped=missed)

    kw: dict[str, Any] = {"due_ms": due, "runs": runs, "missed": missed, "dropped": dropped}
    if running is None:
        return out(Action.FIRE, note, **kw)
    interaction = schedule.get("taskInteraction") or "wait"
    busy = f"our task {running.task_id} is running"
    if interaction == "interrupt":
        return out(Action.FIRE, f"{note}; {busy}: interrupt it", interrupt=running.task_id, **kw)
    if interaction == "skip":
        return out(Action.SKIP, f"{note}; {busy}: skipped", due_ms=due, updates=skipped_updates(schedule, now_ms, tz),
                   missed=missed, dropped=missed)
    if interaction == "wait":
        delay = inactivity_delay_ms(schedule)
        idle = now_ms - running.last_activity_ms
        if delay >= 0 and idle >= delay:
            return out(Action.FIRE, f"{note}; {busy} but idle for {idle // 1000} s: cancel it",
                       interrupt=running.task_id, **kw)
        return out(Action.WAIT, f"{note}; {busy} (idle {idle // 1000} s of {max(delay, 0) // 1000} s): "
                                f"retry at {iso_ms(wait_retry_ms(now_ms))}",
                   due_ms=due, updates=waiting_updates(now_ms), missed=missed)
    # The extension's switch has no case for other values and simply starts the task.
    return out(Action.FIRE, f"{note}; {busy}; taskInteraction {interaction!r} is unknown: run after it", **kw)
