"""The app's side of the dynamics: suppression ticks, re-activation on runs, and how much runs at once.

The rules live in the application layer
(:class:`orchestrator_gui.workspace.suppression.Suppressor`) and the engine
(:mod:`orchestrator_gui.engine.concurrency`); this object only drives them
from the window: a dynamics tick suppresses idle nodes and re-activates
used ones (each an undoable transaction), a started run re-activates its
schedule or TODO item at once, and the status bar says how many tasks may
run now and why ("agents 1 of 2 — load 3.1 on 2 CPUs").
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QMainWindow


class DynamicsDriver(QObject):
    """Suppression and adaptive concurrency for one window.

    Parameters
    ----------
    window : QMainWindow
        Has ``reporter`` (errors) and a status bar, where the concurrency label goes.
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session: Any = None
        self.executor: Any = None
        self.suppressor: Any = None
        self.label = QLabel()
        self.label.setToolTip("Tasks allowed to run at once, within [limits] of config.toml: fewer while the "
                              "machine is busy or a thinker is rate-limited")
        window.statusBar().addPermanentWidget(self.label)

    def attach(self, session: Any, executor: Any) -> None:
        """Drive ``session`` (a ui WorkspaceSession) and ``executor`` (a QtExecutor or ``None``)."""
        self.detach()
        self.session, self.executor = session, executor
        if executor is not None:
            executor.concurrency_changed.connect(self._show_concurrency)
            executor.started.connect(self._reactivate_on_run)
            executor.check_concurrency()
        from orchestrator_gui.workspace.suppression import Suppressor

        try:
            self.suppressor = Suppressor.for_workspace(session.root)
        except Exception as exc:  # noqa: BLE001 - a bad [dynamics] is reported; nothing is suppressed
            self.suppressor = None
            self.window.reporter.report(exc, context="Suppression off")

    def detach(self) -> None:
        """Stop driving the current session (closing it)."""
        if self.executor is not None:
            for signal, slot in ((self.executor.concurrency_changed, self._show_concurrency),
                                 (self.executor.started, self._reactivate_on_run)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):  # already gone with the executor
                    pass
        self.session = self.executor = self.suppressor = None
        self.label.clear()

    @property
    def tick_ms(self) -> int | None:
        """The configured ``[dynamics] tick_s`` in ms, or ``None`` without a suppressor."""
        return None if self.suppressor is None else int(self.suppressor.config.tick_s * 1000)

    def update(self) -> None:
        """One dynamics tick: suppress/re-activate (undoable transactions), then refresh activation."""
        if self.session is None:
            return
        core = self.session.core
        if self.suppressor is not None and not core.readonly:
            # The engine's, not the user's: journaled (History shows it) but off the Ctrl+Z history.
            self.suppressor.update(core, undoable=False)
        else:
            from orchestrator_gui.workspace.dynamics import refresh

            refresh(self.session.graph)

    def _show_concurrency(self, text: str, _info: dict) -> None:
        self.label.setText(text)

    def _reactivate_on_run(self, task_id: str, kind: str, info: dict) -> None:
        """A run brings its suppressed schedule or TODO item back at once."""
        if self.session is None or self.suppressor is None or self.session.core.readonly or kind == "transform":
            return
        from orchestrator_gui.model.identity import subject_node

        nid = subject_node(self.session.graph, kind, info.get("subject_id"))
        if nid:
            with self.window.reporter.guard("Re-activating"):
                self.suppressor.update(self.session.core, run_ids=[nid], undoable=False)
