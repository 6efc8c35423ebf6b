"""Runs as one use case: run a schedule now, the scheduler loop, and the run nodes in the graph.

``orchestrator-gui run`` and the desktop app's *Tools ▸ Run the loop here*
both drive a :class:`Runs`: the same :class:`~orchestrator_gui.engine.scheduler_loop.Scheduler`
decides and fires, the same :class:`~orchestrator_gui.workspace.run_nodes.GraphSync`
mirrors each run into the session's graph. The only difference is who calls
:meth:`Runs.turn`: the CLI's loop (waiting on the scheduler's wake event) or
the app's timer.

Dry runs: when no runner is configured for any mode (or the engine was made
with ``dry_run=True``), the loop is a rehearsal and writes nothing to
``schedules.json`` (see :class:`~orchestrator_gui.engine.scheduler_loop.Scheduler`);
a single dry run (no runner for its mode) writes nothing there either.
:meth:`Runs.dry_run_reason` tells a face beforehand, so it can ask.

Fleet mode: with ``[fleet]`` configured, :meth:`Runs.start_loop` also opens
the fleet wiring (:mod:`orchestrator_gui.workspace.fleet_mode`): every due
slot is claimed in the shared database before it runs, so one machine of the
fleet runs it; :meth:`Runs.fleet_state` is the status bar's text and
:func:`fleet_run_rows` lists every machine's runs. A rehearsal claims nothing.

Pauses: :meth:`Runs.sync_pauses` marks the graph's paused schedules and TODO
items (see :mod:`orchestrator_gui.workspace.pauses` for where a pause is
stored) and :meth:`Runs.resume` clears one.

Threads: every method runs on the thread that owns the session (the CLI's
main thread, the app's GUI thread). Engine events arrive in worker threads;
the run-node sync only queues them, and :meth:`Runs.process` applies them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from orchestrator_gui.engine.scheduler_loop import Scheduler
from orchestrator_gui.engine.scheduler_settings import EngineSettings, load_settings
from orchestrator_gui.engine.tasks import schedule_task
from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.problems import FormatError
from orchestrator_gui.workspace.approvals import resume as resume_item
from orchestrator_gui.workspace.pauses import PauseWatch
from orchestrator_gui.workspace.run_nodes import GraphSync


class Runs:
    """Run-now, the scheduler loop and the run-node sync of one workspace on one engine.

    Parameters
    ----------
    root : path-like
        The workspace.
    engine : Engine
        Runs the tasks.
    session : Session, optional
        Whose graph gets the run nodes (through ``session.apply(…, undoable=False)``:
        journaled, never on the undo history). ``None``: no graph is updated.
    settings : EngineSettings, optional
        Default: read from the workspace's config when the loop starts.
    tz : tzinfo
        Zone of schedule dates and hours.
    clock : callable, optional
        ``clock() -> epoch ms`` for the scheduler (tests, ``run --now``).
    log : callable, optional
        ``log(line)``: what the scheduler did.
    dry_run : bool, optional
        Make the loop a rehearsal (no write-back at all); default: when every
        run of the engine is a dry run (``engine.always_dry``).
    fleet : bool
        Join the fleet when ``[fleet]`` is configured (default); False runs alone whatever the config.
    """

    def __init__(self, root: Any, engine: Any, *, session: Any = None, settings: EngineSettings | None = None,
                 tz: tzinfo = UTC, clock: Callable[[], int] | None = None,
                 log: Callable[[str], None] | None = None, dry_run: bool | None = None,
                 fleet: bool = True) -> None:
        self.root = root
        self._join_fleet = fleet
        self.fleet: Any = None  # FleetMode while the loop runs in fleet mode
        self.engine = engine
        self.session = session
        self.settings = settings
        self.tz = tz
        self.clock = clock
        self.log = log
        self.nodes = GraphSync.for_session(session)
        self.nodes.workspace = Path(root)
        self._detach = self.nodes.attach(engine)
        self.scheduler: Scheduler | None = None
        self.dry_run = dry_run
        self.pauses = PauseWatch(root, records=getattr(engine, "records", None))
        self.sync_pauses()

    # -- the loop ------------------------------------------------------------------------------
    @property
    def looping(self) -> bool:
        """True while the scheduler loop is on."""
        return self.scheduler is not None

    def start_loop(self) -> Scheduler:
        """Switch the scheduler loop on (idempotent); call :meth:`turn` to let it act.

        Raises
        ------
        FormatError
            A bad ``[fleet]`` table: the loop does not start (running alone could fire a slot twice).
        """
        if self.scheduler is None:
            self.settings = self.settings or load_settings(self.root)
            rehearsal = self.dry_run if self.dry_run is not None else bool(getattr(self.engine, "always_dry", False))
            if self._join_fleet and not rehearsal and self.fleet is None:
                from orchestrator_gui.workspace.fleet_mode import open_fleet

                self.fleet = open_fleet(self.root, self.engine, policy=self.settings.scheduler.missed.value,
                                        log=self._fleet_log)
            from orchestrator_gui.engine.approvals import ApprovalGate
            from orchestrator_gui.engine.gate_chain import chain_gates

            approvals = ApprovalGate(self.root)  # before the fleet's claim: a slot is claimed once approved
            self.scheduler = Scheduler(self.root, approvals.engine(self.engine), settings=self.settings, tz=self.tz,
                                       clock=self.clock, log=self.log,
                                       on_due=lambda sid: self.nodes.subject_due("schedule", sid), dry_run=rehearsal,
                                       gate=chain_gates(approvals, self.fleet.gate if self.fleet is not None else None))
        return self.scheduler

    def _fleet_log(self, line: str) -> None:
        # The fleet reports through the scheduler (stderr and .orchestrator/scheduler.log) once it exists.
        if self.scheduler is not None:
            self.scheduler.note(line)
        elif self.log is not None:
            self.log(line)

    def fleet_state(self) -> Any:
        """The fleet's :class:`~orchestrator_gui.fleet.claims.FleetState` (status bar), None when not in a fleet."""
        return self.fleet.state() if self.fleet is not None else None

    def stop_loop(self) -> None:
        """Switch the loop off: nothing more is fired; runs already started go on."""
        if self.scheduler is not None:
            self.scheduler.close()
            self.scheduler = None

    @property
    def tick_s(self) -> float:
        """Seconds between two turns of the loop."""
        settings = self.settings or load_settings(self.root)
        return float(settings.scheduler.tick_s)

    def turn(self) -> None:
        """One pass of the loop: fire what is due, start catch-up runs, mirror run events into the graph.

        A bug in one pass is recorded in the scheduler's problems and the loop
        goes on (a long-running loop must not die of one bad schedule).
        """
        if self.scheduler is not None:
            self.scheduler.turn()
        self.process()

    def run_once(self, *, timeout: float | None = None) -> None:
        """Fire what is due now and wait until those runs (and catch-up runs) are done."""
        self.start_loop().run_once(idle=self.process, timeout=timeout)

    def run_forever(self, stop: threading.Event) -> None:
        """Turn every ``tick_s`` (sooner when a run ends) until ``stop`` is set."""
        self.start_loop().run_forever(stop, idle=self.process)

    # -- single runs -----------------------------------------------------------------------------
    def run_now(self, schedule_id: str) -> Any:
        """Start schedule ``schedule_id``'s task now (outside its timing); returns the task handle.

        Raises
        ------
        KeyError
            No schedule has that id.
        FormatError
            ``.roo/schedules.json`` cannot be read.
        """
        doc = load_schedules(self.root / ".roo" / "schedules.json")
        s = doc.get(schedule_id)
        self.nodes.subject_due("schedule", s.id)
        return self.engine.submit(schedule_task(s.id, s.name, s.mode, s.task_instructions))

    def dry_run_reason(self, schedule_id: str) -> str | None:
        """Why Run now of ``schedule_id`` would be a dry run (nothing started), or None when it would run.

        Raises
        ------
        KeyError, FormatError
            As :meth:`run_now`.
        """
        s = load_schedules(self.root / ".roo" / "schedules.json").get(schedule_id)
        task = schedule_task(s.id, s.name, s.mode, s.task_instructions)
        if not self.engine.dry_run_for(task):
            return None
        if self.engine.runner.dry_run:
            return self.engine.dry_reason()
        return f"no runner is configured for mode “{s.mode}” in .orchestrator/config.toml"

    # -- pauses ------------------------------------------------------------------------------------
    def sync_pauses(self) -> None:
        """Mark the graph's paused schedules and TODO items, and unmark the schedules that are not paused.

        Call after the graph was synced with the files (a sync resets a schedule
        node's status to what ``schedules.json`` says).
        """
        if not self.nodes.enabled:
            return
        paused = self.pauses.all()
        for (kind, sid), p in paused.items():
            self.nodes.mark_paused(kind, sid, p.to_dict())
        try:
            ids = [s.id for s in load_schedules(self.root / ".roo" / "schedules.json").schedules]
        except FormatError:
            ids = []  # the file's own panel and the sync report it
        for sid in ids:
            if ("schedule", sid) not in paused:
                self.nodes.mark_paused("schedule", sid, None)

    def resume(self, subject_id: str, kind: str = "schedule") -> bool:
        """Clear a pause (see :func:`orchestrator_gui.workspace.pauses.resume`); False when it was not paused."""
        changed = resume_item(self.root, subject_id, kind, engine=self.engine)
        self.nodes.mark_paused(kind, subject_id, None)
        return changed

    def run_todo(self, line: int, *, mode: str | None = None, check_off: bool | None = None,
                 wait: bool = True) -> Any:
        """Run the TODO.md item on ``line`` as an agent task; with ``wait``, until it ends (and check it off).

        Parameters
        ----------
        line : int
            The item's line now (the item is found again by its key afterwards).
        mode : str, optional
            Default: ``[todo] mode`` of the config.
        check_off : bool, optional
            Check the item off when the run completes; default: the config's
            rule for this item (``[todo] check_off_on_success``, ``[todos."…"]``).
        wait : bool
            Wait for the run, mirroring its events into the graph meanwhile,
            then check it off (:func:`~orchestrator_gui.engine.todo_runs.finish`).

        Returns
        -------
        TodoRun
            ``run.handle`` is the task handle; after a wait ``run.checked`` and
            ``run.note`` say what became of the item.

        Raises
        ------
        KeyError
            No item on ``line``.
        PermissionError
            The item is paused in the config.
        """
        from orchestrator_gui.engine.todo_runs import prepare_todo_run

        settings = self.settings or load_settings(self.root)
        run = prepare_todo_run(self.root, line, mode=mode or settings.todo.mode)
        run.check_off = check_off if check_off is not None else settings.check_off_for(run.key, run.text)
        if self.engine.is_paused("todo", run.key):
            raise PermissionError(f"TODO item on line {line} is paused in .orchestrator/config.toml "
                                  f"([todos.\"{run.key}\"] paused = true); clear it first")
        from orchestrator_gui.workspace.approvals import ApprovalPending, gate_todo

        waiting = gate_todo(self.root, run)
        if waiting is not None:
            raise ApprovalPending(waiting)
        self.nodes.subject_due("todo", run.key)
        run.handle = self.engine.submit(run.task)
        return self.run_todo_wait(run) if wait else run

    def run_todo_wait(self, run: Any) -> Any:
        """Wait for a :meth:`run_todo` started with ``wait=False``, then check the item off if asked."""
        from orchestrator_gui.engine.todo_runs import finish

        while True:
            try:
                result = run.handle.result(0.2)
                break
            except TimeoutError:
                self.process()  # the run node lights up while the agent works
        finish(run, self.root, result)
        self.process()
        return run

    def process(self) -> int:
        """Apply queued run events to the graph (call on the session's thread); returns how many."""
        return self.nodes.process()

    @property
    def problems(self) -> list[str]:
        """What the scheduler and the run-node sync could not do, each once, in order."""
        sched = self.scheduler.problems if self.scheduler is not None else []
        return list(dict.fromkeys(sched + self.nodes.problems))

    def close(self) -> None:
        """Stop the loop, leave the fleet and stop listening to the engine (the session stays open)."""
        self.stop_loop()
        if self.fleet is not None:
            self.fleet.close()
            self.fleet = None
        self.process()
        if self._detach is not None:
            self._detach()
            self._detach = None


def fleet_timing(root: Any, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]] | None:
    """The newest rows of the fleet's ``runs`` table (every machine's started/finished rows), oldest first.

    None when the workspace is not in a fleet. Raises as :func:`fleet_run_rows`.
    """
    from orchestrator_gui.engine.fleet_config import fleet_settings
    from orchestrator_gui.fleet.status import fleet_runs

    settings = fleet_settings(root)
    return None if settings is None else fleet_runs(settings, limit=limit, offset=offset)


def fleet_run_rows(root: Any, *, limit: int = 1000) -> list[dict[str, Any]] | None:
    """Every machine's runs from the fleet's ``runs`` table, one row per run, oldest first.

    Each row: ``machine``, ``task_id``, ``kind``, ``subject_id``, ``name``,
    ``mode``, ``started``, ``finished`` (ISO or None), ``status`` (None while
    running), ``duration_s``. None when the workspace is not in a fleet.

    Raises
    ------
    FormatError
        A bad ``[fleet]`` table.
    FleetOffline
        The database cannot be reached.
    """
    from orchestrator_gui.engine.fleet_config import fleet_settings
    from orchestrator_gui.fleet.status import fleet_runs

    settings = fleet_settings(root)
    if settings is None:
        return None
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    for r in fleet_runs(settings, limit=max(1, min(limit, 10_000)) * 2):
        row = runs.setdefault((r["machine"], r["task_id"]), {
            "machine": r["machine"], "task_id": r["task_id"], "kind": r["kind"], "subject_id": r["subject_id"],
            "name": r["name"], "mode": r["mode"], "started": None, "finished": None, "status": None,
            "duration_s": None})
        if r["event"] == "started":
            row["started"] = r["at"]
        else:
            row.update(finished=r["at"], status=r["status"], duration_s=r["duration_s"])
            row["name"] = row["name"] or r["name"]
    return list(runs.values())[-limit:]


__all__ = ["Runs", "fleet_run_rows", "fleet_timing"]
