"""The status bar's account of background work: running transforms and engine tasks, with Cancel.

Kept apart from ``main_window.py`` (composition: the window owns one
:class:`BackgroundWork` and forwards the executor's signals to it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

if TYPE_CHECKING:
    from orchestrator_gui.ui.main_window import MainWindow


class BackgroundWork(QObject):
    """Tracks the engine tasks that are not transforms (runs) and shows all work in the status bar.

    Parameters
    ----------
    win : MainWindow
        Its ``actions_`` (transforms in flight), ``busy_label``, ``progress``,
        ``cancel_btn`` and ``reporter`` are used.
    """

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.executor: Any = None
        self.tasks: set[str] = set()
        self.titles: dict[str, str] = {}

    def attach(self, executor: Any) -> None:
        """Follow ``executor``'s tasks (``None``: none; forgets the previous executor's)."""
        self.executor = executor
        self.tasks.clear()
        if executor is not None:
            executor.started.connect(self._on_started)
            executor.finished.connect(self._on_finished)
        self.update()

    def name(self, task_id: str, title: str) -> None:
        """What the status bar calls a task (``Run “…”``)."""
        self.titles[task_id] = title

    def _on_started(self, task_id: str, kind: str, info: dict) -> None:
        if kind != "transform":  # transforms are GraphActions' to show
            self.tasks.add(task_id)
            self.update()

    def _on_finished(self, task_id: str, result: dict) -> None:
        if task_id not in self.tasks:
            return
        self.tasks.discard(task_id)
        self.titles.pop(task_id, None)
        self.update()
        if result.get("kind") != "transform":
            if result.get("dry_run"):  # never "completed": nothing ran
                self.win.reporter.info(f"“{result.get('title')}”: dry run, nothing was started")
            else:
                self.win.reporter.info(f"“{result.get('title')}” {result.get('status')}")

    def update(self) -> None:
        """Show or hide the busy label, progress bar and Cancel button."""
        win = self.win
        n = win.actions_.running + len(self.tasks)
        for w in (win.busy_label, win.progress, win.cancel_btn):
            w.setVisible(n > 0)
        titles = win.actions_.running_titles() + [self.titles.get(t, "agent task") for t in self.tasks]
        first = titles[0] if titles else "task"
        win.busy_label.setText(first if n == 1 else f"{first} and {n - 1} more")
        win.busy_label.setToolTip("\n".join(titles) or f"{n} running")

    def cancel(self) -> None:
        """Cancel every transform and task in flight (the status bar's Cancel)."""
        self.win.actions_.cancel_all()
        if self.executor is not None:
            for task_id in list(self.tasks):
                self.executor.cancel(task_id)
