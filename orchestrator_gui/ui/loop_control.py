"""Tools ▸ Run the loop here: the application layer's :class:`~orchestrator_gui.workspace.runs.Runs` on a Qt timer.

The app fires due schedules with the very code ``orchestrator-gui run`` uses
(the same scheduler, the same run-node sync); this object only supplies a
timer for :meth:`Runs.turn`, remembers the switch per workspace in the user's
settings (off by default) and warns before switching it on, because a VS Code
window running the Roo extension on the same workspace fires the same
schedules too.

Run now (the Schedules panel) and the run nodes work whether the loop is on
or not.

It also puts the engine's news in the status bar, for a while
(:data:`NEWS_MS`): a dry run's explanation (after the generic "finished"
line, so it is what stays), a run passing 80 % of its time limit, and a
schedule paused by the 3-strike escalation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from orchestrator_gui.workspace.runs import Runs

#: The warning shown before the loop is switched on.
TWO_SCHEDULERS_WARNING = (
    "Loop Orchestrator will fire this workspace's due schedules itself, like `orchestrator-gui run`.\n\n"
    "If a VS Code window with the Roo Code extension (and its scheduler) has the same workspace open, "
    "it fires the same schedules too, and every run would start twice. Switch the loop on here only "
    "when no VS Code scheduler runs on this folder.")


#: How long the status bar keeps the engine's news (dry run, time-limit warning, pause).
NEWS_MS = 30_000
#: How to configure a runner (the question before a dry run, the status line after it).
RUNNER_HINT = ('add a runner to .orchestrator/config.toml, for example\n\n'
               '    runner = ["python", "agent.py", "--mode", "{mode}", "--file", "{instructions_file}"]\n\n'
               '(see README "Running the loop" and docs/formats.md §8.1)')


def dry_run_question(name: str, reason: str) -> str:
    """The question asked before Run now of a schedule that would be a dry run."""
    return (f"“{name}” cannot really run: {reason}.\n\n"
            "Run it as a dry run? A dry run starts nothing and writes no workspace file "
            "(schedules.json, task_timing.tsv, TODO.md … stay as they are); it is recorded in "
            ".orchestrator/ and shown in the Runs panel as a dry run.\n\n"
            f"To run agents, {RUNNER_HINT}")


def _setting_key(root: Any) -> str:
    return f"run_loop/{root}"


class RunControl(QObject):
    """Run-now and the scheduler loop of the open workspace.

    Signals
    -------
    looping_changed(bool)
        The loop was switched on or off.

    Parameters
    ----------
    session : WorkspaceSession
    executor : QtExecutor
        Its ``engine`` runs the tasks; its ``started``/``finished`` signals
        (on the GUI thread) let run events reach the graph at once.
    settings : AppSettings
        Where the switch is remembered per workspace.
    reporter : ErrorReporter
    clock : callable, optional
        ``clock() -> epoch ms`` for the scheduler (tests).
    """

    looping_changed = Signal(bool)

    def __init__(self, session: Any, executor: Any, settings: Any, reporter: Any, *,
                 clock: Callable[[], int] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.executor = executor
        self.settings = settings
        self.reporter = reporter
        self._fleet_offline = False  # said once when the fleet's database goes away, once when it is back
        from orchestrator_gui.formats.timezones import local_zone

        self.runs = Runs(session.root, executor.engine, session=session.core, tz=local_zone(), clock=clock,
                         log=self._log)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.turn)
        # Connected after the window's BackgroundWork (made first): on a finished run this
        # slot runs last, so a dry run's explanation is the status line that stays.
        executor.started.connect(self._on_event)
        executor.finished.connect(self._on_event)
        executor.finished.connect(self._on_finished)
        executor.progress.connect(self._on_progress)
        session.graph_synced.connect(self._on_synced)
        self.log: list[str] = []
        #: Status lines of the engine's news, newest last (tests, a bug report).
        self.news: list[str] = []

    # -- the switch --------------------------------------------------------------------------
    @property
    def looping(self) -> bool:
        """True while the loop is on."""
        return self.runs.looping

    def remembered(self) -> bool:
        """Whether the loop was on for this workspace when it was last open."""
        return self.settings.flag(_setting_key(self._key()))

    def _key(self) -> str:
        from orchestrator_gui.ui.settings import AppSettings

        return AppSettings.workspace_key(self.session.root)

    def set_looping(self, on: bool, *, remember: bool = True) -> None:
        """Switch the loop on or off (no questions asked: the menu action asks first)."""
        if on == self.looping:
            return
        if on:
            with self.reporter.guard("Starting the scheduler loop") as g:
                self.runs.start_loop()
            if g.failed:
                self.looping_changed.emit(False)
                return
            self._timer.start(max(50, int(self.runs.tick_s * 1000)))
            self.reporter.info(f"Running the loop for {self.session.root}: due schedules fire from this app")
            self.turn()
        else:
            self._timer.stop()
            self.runs.stop_loop()
            self.reporter.info("The loop is off: schedules fire only with Run now")
        if remember:
            self.settings.set_flag(_setting_key(self._key()), on)
        self.looping_changed.emit(on)

    # -- work ------------------------------------------------------------------------------------
    def turn(self) -> None:
        """One pass of the loop (the same :meth:`Runs.turn` the ``run`` command uses)."""
        self.runs.turn()
        state = self.runs.fleet_state()
        offline = state is not None and not state.online
        if offline and not self._fleet_offline:
            self.news.append(state.message)
            self.reporter.info(state.message, 0)  # stays until something else is said: it is a state, not news
        elif self._fleet_offline and not offline:
            self._say("Fleet database reachable again")
        self._fleet_offline = offline

    def run_now(self, schedule_id: str) -> Any:
        """Start a schedule's task now; returns its handle."""
        return self.runs.run_now(schedule_id)

    def dry_run_question(self, schedule_id: str) -> str | None:
        """The question to ask before Run now of a schedule that would be a dry run; None when it would run.

        Raises
        ------
        KeyError, FormatError
            As :meth:`Runs.run_now`.
        """
        from orchestrator_gui.formats.schedules import load_schedules

        reason = self.runs.dry_run_reason(schedule_id)
        if reason is None:
            return None
        s = load_schedules(self.runs.root / ".roo" / "schedules.json").get(schedule_id)
        return dry_run_question(s.name or s.id, reason)

    def _say(self, text: str) -> None:
        self.news.append(text)
        del self.news[:-50]
        self.reporter.info(text, NEWS_MS)

    def _on_finished(self, _task_id: str, result: dict) -> None:
        if result.get("dry_run") and result.get("kind") in ("schedule", "todo"):
            self._say(f"Dry run of “{result.get('title') or result.get('task_id')}”: nothing was started and no "
                      "workspace file was written (see the Runs panel). To run agents, "
                      + RUNNER_HINT.replace("\n\n    ", " ").replace("\n\n", " "))

    def _on_progress(self, task_id: str, event: str, data: dict) -> None:
        if event not in ("warning", "escalated"):
            return
        self.runs.process()  # the run's node (warning) or the schedule's (paused) now
        if event == "warning":
            from orchestrator_gui.workspace.run_nodes import warning_text

            handle = self.executor.engine.handle(task_id)
            title = handle.task.title if handle is not None else task_id
            self._say(f"“{title}”: {warning_text(data)}; it is stopped at the limit")
        else:
            what = "Schedule" if data.get("kind") == "schedule" else "TODO item"
            self._say(f"{what} “{data.get('title') or data.get('subject_id')}” failed {data.get('failures')} "
                      "times in a row and is paused; Resume it in the Schedules panel "
                      "(or orchestrator-gui schedules resume ID)")

    def _on_synced(self, *_: Any) -> None:
        # A sync sets a schedule node's status from schedules.json again: mark the paused ones anew.
        self.runs.sync_pauses()

    def _on_event(self, *_: Any) -> None:
        # Engine events reached the GUI thread: mirror them into the graph now, and let a
        # finished run's catch-up chain continue without waiting for the next tick.
        self.runs.process()
        if self.looping and self.runs.scheduler is not None and self.runs.scheduler.wake.is_set():
            self.runs.scheduler.wake.clear()
            self.turn()

    def _log(self, line: str) -> None:
        self.log.append(line)
        del self.log[:-200]
        self.reporter.info(line)

    def close(self) -> None:
        """Stop the loop (the switch stays remembered) and stop listening."""
        self._timer.stop()
        for sig, slot in ((self.executor.started, self._on_event), (self.executor.finished, self._on_event),
                          (self.executor.finished, self._on_finished), (self.executor.progress, self._on_progress),
                          (self.session.graph_synced, self._on_synced)):
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):  # already disconnected
                pass
        self.runs.close()
