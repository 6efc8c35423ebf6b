"""Tools ▸ Run the loop here: the application layer's :class:`~orchestrator_gui.workspace.runs.Runs` on a Qt timer.

The app fires due schedules with the very code ``orchestrator-gui run`` uses
(the same scheduler, the same run-node sync); this object only supplies a
timer for :meth:`Runs.turn`, remembers the switch per workspace in the user's
settings (off by default) and warns before switching it on, because a VS Code
window running the Roo extension on the same workspace fires the same
schedules too.

Run now (the Schedules panel) and the run nodes work whether the loop is on
or not.
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
        from orchestrator_gui.formats.timezones import local_zone

        self.runs = Runs(session.root, executor.engine, session=session.core, tz=local_zone(), clock=clock,
                         log=self._log)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.turn)
        executor.started.connect(self._on_event)
        executor.finished.connect(self._on_event)
        self.log: list[str] = []

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

    def run_now(self, schedule_id: str) -> Any:
        """Start a schedule's task now; returns its handle."""
        return self.runs.run_now(schedule_id)

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
        for sig in (self.executor.started, self.executor.finished):
            try:
                sig.disconnect(self._on_event)
            except (RuntimeError, TypeError):  # already disconnected
                pass
        self.runs.close()
