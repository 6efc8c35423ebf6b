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
from orchestrator_gui.workspace.pauses import PauseWatch
from orchestrator_gui.workspace.pauses import resume as resume_item
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
    """

    def __init__(self, root: Any, engine: Any, *, session: Any = None, settings: EngineSettings | None = None,
                 tz: tzinfo = UTC, clock: Callable[[], int] | None = None,
                 log: Callable[[str], None] | None = None, dry_run: bool | None = None) -> None:
        self.root = root
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
        """Switch the scheduler loop on (idempotent); call :meth:`turn` to let it act."""
        if self.scheduler is None:
            self.settings = self.settings or load_settings(self.root)
            rehearsal = self.dry_run if self.dry_run is not None else bool(getattr(self.engine, "always_dry", False))
            self.scheduler = Scheduler(self.root, self.engine, settings=self.settings, tz=self.tz, clock=self.clock,
                                       log=self.log, on_due=lambda sid: self.nodes.subject_due("schedule", sid),
                                       dry_run=rehearsal)
        return self.scheduler

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
        """Stop the loop and stop listening to the engine (the session stays open)."""
        self.stop_loop()
        self.process()
        if self._detach is not None:
            self._detach()
            self._detach = None


__all__ = ["Runs"]
