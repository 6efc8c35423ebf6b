"""The guided tour: which step is shown, and when a step is done, from the real events of the main window.

The tour is a plain state machine (:class:`Tour`) over a list of
:class:`TourStep` objects (``ui/tour_steps.py``). A step is *done* when the
user has really done its thing: each step listens, while it is shown, to
the signals the app emits anyway -- the view's hover, selection and double
click, the transforms applied, the undo history, the files the app wrote --
and never to a timer. The card the user sees (``ui/tour_overlay.py``) only
draws the tour's state and calls :meth:`Tour.next`, :meth:`Tour.back` and
:meth:`Tour.skip`; it is not modal, so the real window stays usable under it.

The tour runs on the demo workspace (it asks the user to tick a TODO item and
change a schedule): :func:`start_tour` opens the demo first when another
workspace is open, after asking. :func:`start_on_first_run` starts it once,
the first time the app shows the demo; the flag lives in the user settings
(``flags/tour/seen``), so tests with their own settings file start nothing
unless they ask.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Signal

if TYPE_CHECKING:
    from orchestrator_gui.ui.main_window import MainWindow

#: Settings flag set once the tour has been started (first run or Help ▸ Take the Tour).
SEEN_FLAG = "tour/seen"


class Hooks:
    """The connections and event filters a step made while shown, undone together when it is left."""

    def __init__(self) -> None:
        self._signals: list[tuple[Any, Callable[..., Any]]] = []
        self._filters: list[tuple[QObject, QObject]] = []

    def connect(self, signal: Any, slot: Callable[..., Any]) -> None:
        """``signal.connect(slot)``, remembered for :meth:`clear`."""
        signal.connect(slot)
        self._signals.append((signal, slot))

    def watch(self, target: QObject, on_event: Callable[[QEvent], None]) -> None:
        """Call ``on_event(event)`` for every event ``target`` receives (it still gets them all)."""
        spy = _EventSpy(on_event)
        target.installEventFilter(spy)
        self._filters.append((target, spy))

    def clear(self) -> None:
        """Disconnect and remove everything; objects deleted meanwhile are skipped."""
        for signal, slot in self._signals:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):  # the sender is gone (a closed workspace): nothing to undo
                pass
        for target, spy in self._filters:
            try:
                target.removeEventFilter(spy)
            except RuntimeError:
                pass
            spy.deleteLater()
        self._signals.clear()
        self._filters.clear()


class _EventSpy(QObject):
    """An event filter that looks and lets every event through."""

    def __init__(self, on_event: Callable[[QEvent], None]) -> None:
        super().__init__()
        self._on_event = on_event

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        self._on_event(event)
        return False


class TourStep:
    """One step of the tour: what to ask, and the events that show it was done.

    Subclasses set the class attributes and override :meth:`arm`, where they
    connect through :attr:`hooks` and call :meth:`complete` (and, on the way,
    :meth:`note`). Leaving the step undoes every connection.

    Attributes
    ----------
    title : str
        Short imperative ("Rotate the sphere").
    text : str
        What to do, as rich text.
    dock : str or None
        Title of the dock the step is about; it is raised when the step starts.
    done : bool
        Whether the user did it since the step was (re)entered.
    result : str
        Rich text shown once done (what happened, e.g. the byte diff).
    progress : str
        Rich text shown while not done (e.g. "now undo it").
    """

    key = ""
    title = ""
    text = ""
    dock: str | None = None

    def __init__(self) -> None:
        self.hooks = Hooks()
        self.tour: Tour | None = None
        self.done = False
        self.result = ""
        self.progress = ""

    @property
    def win(self) -> MainWindow:
        """The main window the tour runs over."""
        assert self.tour is not None, "the step is not shown"
        return self.tour.win

    def enter(self, tour: Tour) -> None:
        """Start listening (the step's state starts afresh, also after Back)."""
        self.tour = tour
        self.done, self.result, self.progress = False, "", ""
        self.arm()

    def leave(self) -> None:
        """Stop listening."""
        self.hooks.clear()
        self.tour = None

    def arm(self) -> None:
        """Connect to the events that complete the step (override)."""

    def complete(self, result: str) -> None:
        """Mark the step done, with ``result`` to show."""
        self.done, self.result, self.progress = True, result, ""
        if self.tour is not None:
            self.tour.changed.emit()

    def note(self, progress: str) -> None:
        """Show ``progress`` (the step is under way but not done)."""
        self.progress = progress
        if self.tour is not None:
            self.tour.changed.emit()


class Tour(QObject):
    """The tour's state: the steps, the one shown, and whether each is done.

    Signals
    -------
    changed()
        The step shown, its progress or its result changed.
    ended(bool)
        The tour closed: ``True`` after the last step's Finish, ``False`` when skipped.

    Parameters
    ----------
    win : MainWindow
    steps : sequence of TourStep
    """

    changed = Signal()
    ended = Signal(bool)

    def __init__(self, win: MainWindow, steps: Sequence[TourStep], parent: QObject | None = None) -> None:
        super().__init__(parent)
        if not steps:
            raise ValueError("a tour needs at least one step")
        self.win = win
        self.steps = list(steps)
        self.index = -1

    @property
    def running(self) -> bool:
        """Whether a step is shown."""
        return self.index >= 0

    @property
    def step(self) -> TourStep | None:
        """The step shown (``None`` once ended)."""
        return self.steps[self.index] if self.running else None

    @property
    def is_last(self) -> bool:
        return self.index == len(self.steps) - 1

    def start(self, index: int = 0) -> None:
        """Show step ``index`` (0-based)."""
        self._go(index)

    def next(self) -> None:
        """Go to the next step; after the last one the tour ends (finished)."""
        if not self.running:
            return
        if self.is_last:
            self._end(True)
        else:
            self._go(self.index + 1)

    def back(self) -> None:
        """Go to the previous step (it starts afresh)."""
        if self.running and self.index > 0:
            self._go(self.index - 1)

    def skip(self) -> None:
        """End the tour now."""
        if self.running:
            self._end(False)

    def _go(self, index: int) -> None:
        if not 0 <= index < len(self.steps):
            raise IndexError(f"no tour step {index}")
        if self.step is not None:
            self.step.leave()
        self.index = index
        step = self.steps[index]
        if step.dock and step.dock in getattr(self.win, "docks", {}):
            self.win.dock_layout.show_dock(step.dock)
        step.enter(self)
        self.changed.emit()

    def _end(self, finished: bool) -> None:
        if self.step is not None:
            self.step.leave()
        self.index = -1
        self.changed.emit()
        self.ended.emit(finished)


# ---------------------------------------------------------------------- starting it
def is_demo(root: str | Path | None) -> bool:
    """Whether ``root`` is the user's copy of the demo workspace (found without creating it)."""
    from orchestrator_gui.demo import user_data_dir

    if root is None:
        return False
    try:
        return Path(root).resolve() == (user_data_dir() / "demo").resolve()
    except OSError:
        return False


def start_tour(win: MainWindow, steps: Sequence[TourStep] | None = None) -> Tour | None:
    """Help ▸ Take the Tour: show the tour's card over ``win`` from step 1 (on the demo); ``None`` when declined.

    A tour already running starts again from step 1. With another workspace
    open, the user is asked first, as the tour's steps change files.
    """
    from orchestrator_gui.ui.tour_overlay import TourOverlay
    from orchestrator_gui.ui.tour_steps import default_steps

    current = getattr(win, "tour", None)
    if current is not None and current.running:
        current.skip()
    if win.session is None or not is_demo(win.session.root):
        if win.session is not None and not win.prompter.confirm(
                "Take the Tour",
                "The tour asks you to tick a TODO item and to change a schedule, so it runs on the demo "
                "workspace, never on your own files.\n\nOpen the demo now? (File ▸ Open Recent brings "
                f"{win.session.root.name} back.)", ok="Open the demo"):
            return None
        if not win.open_demo():
            return None
    win.settings.set_flag(SEEN_FLAG)
    tour = Tour(win, steps if steps is not None else default_steps(), parent=win)
    overlay = TourOverlay(win, tour)
    tour.ended.connect(lambda _finished: _forget(win, tour, overlay))
    win.tour = tour
    tour.start()
    overlay.show()
    return tour


def _forget(win: MainWindow, tour: Tour, overlay: QObject) -> None:
    overlay.deleteLater()
    if getattr(win, "tour", None) is tour:
        win.tour = None
    tour.deleteLater()


def start_on_first_run(win: MainWindow) -> bool:
    """Start the tour if the app has never shown it and the demo is open; True when it started.

    The interactive app calls this once after opening its first workspace;
    screenshots and tests never do.
    """
    if win.settings.flag(SEEN_FLAG) or win.session is None or not is_demo(win.session.root):
        return False
    return start_tour(win) is not None
