"""The tour's card: a small non-modal panel over the main window, with Back, Next and Skip.

It draws the :class:`~orchestrator_gui.ui.tour.Tour`'s state and nothing
else: which step, what to do, whether it is done and what happened. It is a
child widget of the main window (not a dialog), so the graph and the panels
under and around it keep taking clicks; a frame outlines the panel the step
is about. It sits in the 3D view's lower right corner, away from the legend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from orchestrator_gui.ui.tour import Tour

if TYPE_CHECKING:
    from orchestrator_gui.ui.main_window import MainWindow

#: Width of the card (pixels), and its distance from the view's edges.
CARD_WIDTH, MARGIN = 430, 14
WAITING = "Waiting for you…"


class TourOverlay(QFrame):
    """The tour's card over ``win``; it follows the tour until the tour ends.

    Parameters
    ----------
    win : MainWindow
    tour : Tour

    Attributes
    ----------
    step_label, title, body, status : QLabel
    back, next, skip : QPushButton
    spotlight : QFrame
        The outline around the dock of the current step (hidden for steps in the 3D view).
    """

    def __init__(self, win: MainWindow, tour: Tour) -> None:
        super().__init__(win)
        self.win, self.tour = win, tour
        self.setObjectName("tour_card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        accent = win.palette().color(QPalette.ColorRole.Highlight).name()
        self.setStyleSheet(f"#tour_card {{ border: 2px solid {accent}; border-radius: 6px; }}")
        self.step_label = QLabel()
        self.step_label.setProperty("role", "muted")
        self.title = QLabel()
        self.title.setProperty("role", "title")
        self.body = QLabel()
        self.status = QLabel()
        for label in (self.body, self.status):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.back = QPushButton("‹ Back")
        self.next = QPushButton("Next ›")
        self.skip = QPushButton("Skip tour")
        self.back.clicked.connect(tour.back)
        self.next.clicked.connect(tour.next)
        self.skip.clicked.connect(tour.skip)
        buttons = QHBoxLayout()
        buttons.addWidget(self.skip)
        buttons.addStretch(1)
        buttons.addWidget(self.back)
        buttons.addWidget(self.next)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 10, 14, 10)
        lay.addWidget(self.step_label)
        lay.addWidget(self.title)
        lay.addWidget(self.body)
        lay.addWidget(self.status)
        lay.addLayout(buttons)

        self.spotlight = QFrame(win)
        self.spotlight.setObjectName("tour_spotlight")
        self.spotlight.setStyleSheet(f"#tour_spotlight {{ border: 3px solid {accent}; border-radius: 4px; }}")
        self.spotlight.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.spotlight.hide()

        tour.changed.connect(self.refresh)
        win.installEventFilter(self)  # follow the window's size
        self.destroyed.connect(self.spotlight.deleteLater)
        self.refresh()

    # ------------------------------------------------------------------ drawing the state
    def refresh(self) -> None:
        """Show the tour's current step and state."""
        step = self.tour.step
        if step is None:
            self.hide()
            self.spotlight.hide()
            return
        self.step_label.setText(f"Tour · step {self.tour.index + 1} of {len(self.tour.steps)}")
        self.title.setText(step.title)
        self.body.setText(step.text)
        if step.done:
            self.status.setText(f"<b>✓ Done.</b> {step.result}")
        else:
            self.status.setText(f"<i>{step.progress or WAITING}</i>")
        self.back.setEnabled(self.tour.index > 0)
        self.next.setText("Finish" if self.tour.is_last else "Next ›")
        self.next.setDefault(step.done)
        self.place()

    def place(self) -> None:
        """Put the card in the view's lower right corner and the outline around the step's dock."""
        view = self.win.centralWidget()
        area = QRect(view.mapTo(self.win, view.rect().topLeft()), view.size()) if view is not None \
            else self.win.rect()
        width = max(240, min(CARD_WIDTH, area.width() - 2 * MARGIN))
        height = self.layout().totalHeightForWidth(width) if self.layout().hasHeightForWidth() \
            else self.sizeHint().height()
        self.setGeometry(area.right() - width - MARGIN, max(area.top(), area.bottom() - height - MARGIN),
                         width, height)
        self.raise_()
        self._place_spotlight()

    def _place_spotlight(self) -> None:
        step = self.tour.step
        dock = self.win.docks.get(step.dock) if step is not None and step.dock else None
        if dock is None or not dock.isVisible() or dock.isFloating():
            self.spotlight.hide()
            return
        self.spotlight.setGeometry(QRect(dock.mapTo(self.win, dock.rect().topLeft()), dock.size()))
        self.spotlight.show()
        self.spotlight.raise_()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.win and event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            self.place()
        return False

    def widgets(self) -> list[QWidget]:
        """The card and its outline (a screenshot paints them over the rendered 3D view)."""
        return [w for w in (self.spotlight, self) if w.isVisible()]
