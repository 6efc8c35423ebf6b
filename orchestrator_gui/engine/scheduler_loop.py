"""The scheduler loop: look at the schedules, act on the decisions, hand runs to the engine.

:class:`Scheduler` is what the Roo Scheduler extension does inside VS Code,
done by this app: every tick it reads ``.roo/schedules.json``, asks
:func:`~orchestrator_gui.engine.scheduler.decide` about each schedule, writes
the runtime fields back (:mod:`.writeback`), and submits due runs to the
:class:`~orchestrator_gui.engine.executor.Engine` (priority ``schedule``).

* ``taskInteraction`` applies to *our* agent tasks of this workspace (the
  engine's running ``schedule``/``todo`` tasks) when every agent slot is busy.
* The persistent timer is the stored ``nextExecutionTime``. A schedule with
  none gets one written when the scheduler first sees it (as the extension's
  timer setup does), so a ``run --once`` from cron arms first and fires later.
  If a write-back fails, the intended time is kept in memory, so a stale
  stored time never fires twice.
* ``requireActivity`` compares with the activity of our runs: the run logs
  under ``.orchestrator/runs/`` (their modification time is the last output)
  and the runs of this process.
* One schedule never stops the others: an error while deciding or acting on
  one schedule is reported once (per schedule and message) and the loop goes
  on with the next; a schedule with a value out of range is reported once and
  not run.
* A dry run (no runner for the task's mode) writes nothing to
  ``schedules.json``: its ``lastExecutionTime``/``lastTaskId``/``nextExecutionTime``
  are kept in memory only (as after a failed write-back), so the Roo
  extension and the agents, which read them, never see a rehearsal as a run.
  A scheduler made with ``dry_run=True`` (``run --dry-run``, or no runner at
  all) writes no runtime field at all, not even to arm or expire a schedule.
* A start gate (:class:`~orchestrator_gui.engine.scheduler.StartGate`, optional)
  is asked before every run starts and told when it ends; it may hand runtime
  fields to adopt before deciding (the fleet's shared record of each schedule)
  and slots to run again (a dead machine's lost claims). A refused run is
  logged, kept in :attr:`Scheduler.denied` and writes back what the gate says.
  A dry run never asks the gate (a rehearsal claims nothing).
* What the scheduler did (missed runs, skips, waits, expirations, write-back
  failures) goes to the ``log`` callable (stderr for ``run``) and is appended
  to ``.orchestrator/scheduler.log``, and every decision is kept in
  :attr:`Scheduler.decisions` for summaries: nothing is dropped silently.

Threads: :meth:`Scheduler.tick` and :meth:`Scheduler.pump` run on one thread
(the CLI's main thread, or the UI's). Engine events arrive in worker threads
and only record times and wake the loop.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from orchestrator_gui.engine.scheduler import (
    Action,
    Decision,
    Deny,
    RunningTask,
    StartGate,
    StartRequest,
    decide,
    expired_updates,
    rearm_updates,
    skipped_updates,
    started_updates,
    stored_next_ms,
    waiting_updates,
)
from orchestrator_gui.engine.scheduler_gate import GatedStarts
from orchestrator_gui.engine.scheduler_settings import EngineSettings, load_settings, run_log_activity
from orchestrator_gui.engine.tasks import RunResult, new_task_id, schedule_task
from orchestrator_gui.engine.writeback import WriteResult, write_runtime_fields
from orchestrator_gui.formats.nextrun import iso_ms, next_execution_ms, parse_js_iso, to_ms
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.problems import FormatError

#: Where the scheduler's own record of what it did is appended.
SCHEDULER_LOG = Path(".orchestrator") / "scheduler.log"
#: Decisions that need no action and no report.
_QUIET = frozenset({Action.NOT_DUE, Action.INACTIVE, Action.UNSUPPORTED, Action.NO_NEXT})


@dataclass
class Fired:
    """One run the scheduler started, for summaries."""

    schedule_id: str
    name: str
    task_id: str
    handle: Any
    decision: Decision
    writeback: WriteResult | None = None
    interrupted: str | None = None

    def to_dict(self) -> dict[str, Any]:
        res: RunResult | None = self.handle.result(0) if self.handle is not None and self.handle.done() else None
        return {"schedule_id": self.schedule_id, "name": self.name, "task_id": self.task_id,
                "reason": self.decision.reason, "missed": self.decision.missed, "dropped": self.decision.dropped,
                "interrupted": self.interrupted,
                "writeback": self.writeback.to_dict() if self.writeback else None,
                "result": res.model_dump(mode="json") if res is not None else None}


class Scheduler(GatedStarts):
    """Fires due Roo schedules of one workspace through an engine.

    Parameters
    ----------
    root : path-like
        The workspace root.
    engine : Engine
        Runs the tasks (``submit``, ``cancel``, ``running``, ``is_paused``, ``add_listener``).
    settings : EngineSettings, optional
        Default: read from the workspace config.
    tz : tzinfo
        Local zone of this machine (schedule dates and hours are local).
    clock : callable, optional
        ``clock() -> epoch ms``; default the system clock.
    log : callable, optional
        ``log(line)`` for progress (stderr in the CLI).
    on_due : callable, optional
        ``on_due(schedule_id)`` when a schedule fires or waits (the graph lights it up).
    dry_run : bool
        A rehearsal: write no runtime field to ``schedules.json`` at all (what
        would be written is logged and kept in memory).
    gate : StartGate, optional
        Asked before every run starts (the fleet's slot claims); None: every run starts.
    """

    def __init__(self, root: str | os.PathLike[str], engine: Any, *, settings: EngineSettings | None = None,
                 tz: tzinfo = UTC, clock: Callable[[], int] | None = None,
                 log: Callable[[str], None] | None = None, on_due: Callable[[str], None] | None = None,
                 dry_run: bool = False, gate: StartGate | None = None) -> None:
        self.root = Path(root)
        self.gate = gate
        self.denied: list[tuple[Decision, Deny]] = []  # runs the gate refused (each slot once)
        self._deny_noted: dict[tuple[str, int | None, int], str] = {}
        self.dry_run = dry_run
        self.path = self.root / ".roo" / "schedules.json"
        self.engine = engine
        self.settings = settings or load_settings(self.root)
        self.tz = tz
        self.clock = clock or (lambda: to_ms(datetime.now(UTC)))
        self._log = log or (lambda _line: None)
        self.on_due = on_due
        self.decisions: list[Decision] = []
        self.fired: list[Fired] = []
        self.problems: list[str] = []
        self._intent: dict[str, tuple[int | None, int | None]] = {}  # sid -> (stale stored next, intended next)
        self._kept_inactive: set[str] = set()  # expired in a dry run: inactive in memory only
        self._chains: dict[str, tuple[Decision, int, dict[str, Any]]] = {}  # sid -> catch-up runs still to start
        self._pending: dict[str, str] = {}   # task id -> schedule id, until its run is done
        self._activity: dict[str, int] = {}  # task id -> last activity of our runs in this process
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self._seen_problems: set[str] = set()
        self._paused_noted: dict[str, int | None] = {}
        self._invalid_noted: dict[str, str] = {}  # sid -> the reason reported for it
        self._remove_listener = engine.add_listener(self._on_event)

    def close(self) -> None:
        """Stop listening to the engine (the loop was switched off); runs already started go on."""
        remove, self._remove_listener = self._remove_listener, None
        if remove is not None:
            remove()

    # -- events from worker threads -----------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        if event.type in ("started", "output", "finished"):
            with self._lock:
                self._activity[event.task_id] = self.clock()
        if event.type == "finished":
            self.wake.set()

    # -- logging --------------------------------------------------------------------------------
    def note(self, line: str, *, persist: bool = True) -> None:
        """Report a line on the ``log`` callable and (``persist``) in ``.orchestrator/scheduler.log``."""
        stamped = f"[{iso_ms(self.clock())}] {line}"
        self._log(stamped)
        if persist:
            try:
                path = self.root / SCHEDULER_LOG
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(stamped.replace("\n", " ") + "\n")
            except OSError as exc:
                self._problem(f"{self.root / SCHEDULER_LOG}: cannot record: {exc}")

    def _problem(self, message: str) -> None:
        self.problems.append(message)
        if message not in self._seen_problems:
            self._seen_problems.add(message)
            self._log(f"problem: {message}")

    # -- state ----------------------------------------------------------------------------------
    def pending(self) -> int:
        """Runs started by this scheduler that are not done, plus catch-up runs still to start."""
        with self._lock:
            return len(self._pending) + sum(n for _, n, _ in self._chains.values())

    def _running_task(self, now: int) -> RunningTask | None:
        """Our agent task the ``taskInteraction`` applies to, when every agent slot is busy."""
        handles = [h for h in self.engine.running() if h.task.kind in ("schedule", "todo")]
        if not handles or len(handles) < self.engine.config.limits.agent_tasks:
            return None
        mono = time.monotonic()

        def since(t: float | None) -> int:
            return now - int(max(0.0, mono - t) * 1000) if t is not None else now

        # The most idle one is the one a "wait" may end and an "interrupt" stops.
        h = min(handles, key=lambda h: h.last_activity if h.last_activity is not None else mono)
        return RunningTask(h.task_id, started_ms=since(h.started_monotonic), last_output_ms=since(h.last_activity))

    def activity(self) -> dict[str, int]:
        """Last activity per task id of our runs (logs on disk, then this process)."""
        out = run_log_activity(self.root)
        with self._lock:
            for tid, t in self._activity.items():
                out[tid] = max(out.get(tid, 0), t)
        return out

    def _armed(self, raw: dict[str, Any], now: int) -> int | None:
        sid = str(raw.get("id", ""))
        stored = stored_next_ms(raw)
        intent = self._intent.get(sid)
        if intent is not None:
            if intent[0] == stored:
                return intent[1]  # our write-back failed; do not fire the stale stored time again
            del self._intent[sid]
        return stored if stored is not None else next_execution_ms(raw, now, self.tz)

    # -- one pass -------------------------------------------------------------------------------
    def tick(self) -> list[Decision]:
        """Look at every schedule once and act; returns the decisions that did something."""
        now = self.clock()
        if not os.path.lexists(self.path):
            return []
        try:
            doc = load_schedules(self.path)
        except FormatError as exc:
            self._problem(str(exc))
            return []
        if doc.foreign:
            self._problem(f"{self.path}: not a Roo Scheduler file; nothing is scheduled")
            return []
        if self.gate is not None and not self.dry_run and self._adopt(doc, now):
            try:
                doc = load_schedules(self.path)  # re-read: the adopted fields were written into it
            except FormatError as exc:
                self._problem(str(exc))
                return []
        with self._lock:
            waiting_to_start = {s for tid, s in self._pending.items() if self._queued(tid)} | set(self._chains)
        seen: set[str] = set()
        acted: list[Decision] = []
        activity = self.activity()
        for sched in doc.schedules:
            sid = sched.id
            if sid in seen:
                self._problem(f"{self.path}:{sched.line}: duplicate schedule id {sid!r}; only the first one runs")
                continue
            seen.add(sid)
            if sid in waiting_to_start:
                continue  # a run of it is still waiting to start: do not decide again meanwhile
            try:
                d = self._tick_one(sched.raw, sched.line, now, activity)
            except Exception as exc:  # noqa: BLE001 - one bad schedule must never stop the others
                self._problem(f"{self.path}:{sched.line}: schedule {sid!r}: scheduler error: "
                              f"{type(exc).__name__}: {exc}")
                continue
            if d is not None:
                acted.append(d)
        if self.gate is not None and not self.dry_run:
            acted.extend(self._offered({s.id: s for s in doc.schedules}, now, waiting_to_start))
        self.decisions.extend(acted)
        return acted

    def _tick_one(self, stored: dict[str, Any], line: int, now: int, activity: dict[str, int]) -> Decision | None:
        """Decide about one schedule and act; the decision if it did something worth a summary."""
        raw = dict(stored)
        sid = str(raw.get("id", ""))
        if sid in self._kept_inactive:
            raw["active"] = False  # a dry run's "active: false", never written
        armed = self._armed(raw, now)
        d = decide(raw, now, self.tz, armed=armed, running=self._running_task(now), activity=activity,
                   policy=self.settings.scheduler.missed,
                   grace_ms=int(self.settings.scheduler.missed_grace_s * 1000),
                   max_backfill=self.settings.scheduler.max_backfill)
        if d.action is Action.INVALID:
            if self._invalid_noted.get(sid) == d.reason:
                return None  # reported already; said again only when the reason changes
            self._invalid_noted[sid] = d.reason
            self._problem(f"{self.path}:{line}: schedule {d.name!r} ({sid}): {d.reason}")
            self.note(f"schedule {d.name!r} ({sid}): {d.reason}")
            return d
        self._invalid_noted.pop(sid, None)
        if d.action not in _QUIET and self.engine.is_paused("schedule", sid):
            # Escalated (or paused by hand) in our config: Roo's own flags stay as they are.
            if self._paused_noted.get(sid) != d.due_ms:
                self._paused_noted[sid] = d.due_ms
                d = Decision(sid, d.name, Action.PAUSED, due_ms=d.due_ms,
                             reason=f"{d.reason}; but paused in .orchestrator/config.toml: not run")
                self.note(f"schedule {d.name!r} ({sid}): {d.reason}")
                return d
            return None
        if d.action is Action.NOT_DUE:
            if stored_next_ms(raw) is None and armed is not None and sid not in self._intent:
                self._arm(raw, armed)
            return None
        if d.action in _QUIET:
            return None
        self._act(raw, d, now)
        return d

    def _queued(self, task_id: str) -> bool:
        h = self.engine.handle(task_id)
        return h is not None and h.state == "queued"

    def _write(self, sid: str, stored: int | None, updates: Any, *, dry: bool = False) -> WriteResult:
        if dry or self.dry_run:
            return self._keep(sid, stored, updates)
        res = write_runtime_fields(self.path, sid, updates)
        if res.ok:
            self._intent.pop(sid, None)
            if res.note:
                self.note(f"schedule {sid}: {res.note}")
        else:
            nxt = res.values.get("nextExecutionTime")
            self._intent[sid] = (stored, parse_js_iso(nxt) if isinstance(nxt, str) else None)
            self._problem(f"{self.path}: schedule {sid}: write-back failed: {res.error}")
            self.note(f"schedule {sid}: write-back of {sorted(res.values)} failed: {res.error}")
        return res

    def _keep(self, sid: str, stored: int | None, updates: Any) -> WriteResult:
        """A dry run's write-back: computed, logged and kept in memory, never written."""
        try:
            current = dict(load_schedules(self.path).get(sid).raw)
        except (FormatError, KeyError) as exc:
            return WriteResult(ok=False, schedule_id=sid, error=str(exc))
        values = dict(updates(current) if callable(updates) else updates)
        if values.get("active") is False:
            self._kept_inactive.add(sid)
        nxt = values.get("nextExecutionTime", current.get("nextExecutionTime"))
        # Like a failed write-back: the stale stored time must not fire again.
        self._intent[sid] = (stored, parse_js_iso(nxt) if isinstance(nxt, str) else None)
        self.note(f"schedule {sid}: dry run: {sorted(values)} not written to {self.path.name}")
        return WriteResult(ok=True, schedule_id=sid, values=values, changed=False,
                           note="dry run: not written")

    def _arm(self, raw: dict[str, Any], armed: int) -> None:
        """Store the computed next run, as the extension's timer setup does."""
        self._write(str(raw["id"]), None, {"nextExecutionTime": iso_ms(armed)})

    def _act(self, raw: dict[str, Any], d: Decision, now: int) -> None:
        sid = d.schedule_id
        stored = stored_next_ms(raw)
        label = f"schedule {d.name!r} ({sid})"
        if d.action is Action.FIRE:
            if self.on_due is not None:
                self.on_due(sid)
            if (sid, d.due_ms, 0) not in self._deny_noted:  # a slot the gate holds back (approval) is said once
                self.note(f"{label}: fire: {d.reason}")
            if not self._start(raw, d, now, interrupted=d.interrupt):
                return
            if d.runs > 1:
                with self._lock:
                    self._chains[sid] = (d, d.runs - 1, raw)
            return
        updates: Any = {
            Action.WAIT: lambda cur: waiting_updates(now),
            Action.SKIP: lambda cur: skipped_updates(cur, now, self.tz),
            Action.NO_ACTIVITY: lambda cur: rearm_updates(cur, now, self.tz),
            Action.EXPIRE: lambda cur: expired_updates(),
        }.get(d.action, d.updates)
        if d.action is Action.WAIT and self.on_due is not None:
            self.on_due(sid)
        self.note(f"{label}: {d.action.value}: {d.reason}")
        self._write(sid, stored, updates)

    def _start(self, raw: dict[str, Any], d: Decision, now: int, *, interrupted: str | None = None,
               attempt: int = 0) -> bool:
        """Start one run of ``d``; False when the gate refused it (nothing started)."""
        sid = d.schedule_id
        task_id = new_task_id()
        task = schedule_task(sid, str(raw.get("name") or sid), str(raw.get("mode") or "code"),
                             str(raw.get("taskInstructions") or ""), task_id=task_id,
                             meta={"due": iso_ms(d.due_ms) if d.due_ms is not None else None,
                                   "missed": d.missed, "dropped": d.dropped})
        dry_run_for = getattr(self.engine, "dry_run_for", None)
        request: StartRequest | None = None
        if self.gate is not None and not self.dry_run and not (dry_run_for and dry_run_for(task)):
            request = StartRequest(sid, d.name, d.due_ms, task_id, now, attempt,
                                   started_updates(raw, now, task_id, self.tz))
            if self._ask_gate(raw, d, request) is not None:
                return False  # refused: the task it would interrupt goes on
        if interrupted is not None:
            self.engine.cancel(interrupted, f"cancelled: schedule {sid} ({d.name}) takes over")
        fired = Fired(sid, d.name, task_id, None, d, interrupted=interrupted)
        try:
            handle = self.engine.submit(task)
        except Exception as exc:  # noqa: BLE001 - the engine refused (shut down): re-arm as the extension does
            self._problem(f"schedule {sid}: run not started: {exc}")
            fired.writeback = self._write(sid, stored_next_ms(raw), lambda cur: rearm_updates(cur, now, self.tz))
            self.fired.append(fired)
            if request is not None:
                self._finished_for_gate(request, None)
            return True
        fired.handle = handle
        with self._lock:
            self._pending[task_id] = sid
        handle.add_done_callback(lambda r, tid=task_id, req=request: self._done(tid, req, r))
        fired.writeback = self._write(sid, stored_next_ms(raw),
                                      lambda cur: started_updates(cur, now, task_id, self.tz),
                                      dry=bool(dry_run_for and dry_run_for(task)))
        self.fired.append(fired)
        self.note(f"schedule {d.name!r} ({sid}): started task {task_id}", persist=False)
        return True

    def _done(self, task_id: str, request: StartRequest | None = None, result: Any = None) -> None:
        if request is not None:
            self._finished_for_gate(request, result)  # before pending() drops: run --once waits for it
        with self._lock:
            self._pending.pop(task_id, None)
        self.wake.set()

    def pump(self) -> None:
        """Start the next catch-up run of every ``all``-policy chain whose previous run is done."""
        with self._lock:
            ready = [sid for sid in self._chains if sid not in self._pending.values()]
        if not ready:
            return
        doc_raw: dict[str, dict[str, Any]] = {}
        try:
            doc_raw = {s.id: dict(s.raw) for s in load_schedules(self.path).schedules}
        except FormatError as exc:
            self._problem(str(exc))
        for sid in ready:
            with self._lock:
                d, left, raw = self._chains.pop(sid)
                if left > 1:
                    self._chains[sid] = (d, left - 1, raw)
            fresh = doc_raw.get(sid, raw)
            try:
                self.note(f"schedule {d.name!r} ({sid}): catch-up run ({left - 1} more to go)")
                # attempt: catch-up run k of one slot is its own claim (a gate keys runs by slot and attempt)
                if not self._start(fresh, d, self.clock(), attempt=d.runs - left):
                    with self._lock:
                        self._chains.pop(sid, None)  # refused: the rest of the chain is not ours either
            except Exception as exc:  # noqa: BLE001 - the other chains go on
                self._problem(f"schedule {sid!r}: catch-up run not started: {type(exc).__name__}: {exc}")

    # -- drivers --------------------------------------------------------------------------------
    def run_once(self, *, idle: Callable[[], None] | None = None, timeout: float | None = None) -> None:
        """Fire what is due now, then wait until those runs (and catch-up runs) are done."""
        self.tick()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.pump()
            if idle is not None:
                idle()
            if self.pending() == 0:
                break
            if deadline is not None and time.monotonic() > deadline:
                break
            self.wake.wait(0.2)
            self.wake.clear()
        if idle is not None:
            idle()

    def turn(self) -> None:
        """One pass: :meth:`tick` then :meth:`pump`; a bug is recorded in :attr:`problems`, never raised.

        Why: a long-running loop (``run``, the app's loop) must report a bad
        schedule and keep firing the others.
        """
        try:
            self.tick()
            self.pump()
        except Exception as exc:  # noqa: BLE001 - reported; the next turn tries again
            self._problem(f"scheduler error: {type(exc).__name__}: {exc}")

    def run_forever(self, stop: threading.Event, *, idle: Callable[[], None] | None = None) -> None:
        """Turn every ``tick_s`` (sooner when a run ends) until ``stop`` is set."""
        while not stop.is_set():
            self.turn()
            if idle is not None:
                idle()
            self.wake.wait(self.settings.scheduler.tick_s)
            self.wake.clear()


__all__ = ["Fired", "SCHEDULER_LOG", "Scheduler"]
