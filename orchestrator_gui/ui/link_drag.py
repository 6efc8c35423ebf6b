"""Ctrl + drag from one node onto another: the line drawn while linking, and its state.

Linking is how a user says "this item serves that goal" (or any other edge
type) without leaving the view: press Ctrl on a node, drag, release on the
target. While dragging, a dashed line runs from the source node to the
pointer and the node under the pointer is hovered (its neighbourhood lights
up, so the user sees what they would link to). The main window turns the
release into a link transaction (one undo step); this module only tracks
the gesture and draws the line.

The camera ignores a left drag that started with Ctrl (see
:mod:`orchestrator_gui.render.camera`), so the view does not turn while linking.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget


class LinkLine(QWidget):
    """A transparent overlay over the canvas that draws one dashed line (mouse events pass through)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.start = QPointF()
        self.end = QPointF()
        self.armed = False  # the pointer is over a node that can be the target
        self.hide()

    def show_line(self, start: tuple[float, float], end: tuple[float, float], *, armed: bool) -> None:
        """Draw the line from ``start`` to ``end`` (canvas pixels); ``armed``: a valid target is under ``end``."""
        self.setGeometry(self.parentWidget().rect())
        self.start, self.end, self.armed = QPointF(*start), QPointF(*end), bool(armed)
        if not self.isVisible():
            self.show()
            self.raise_()
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(255, 214, 102) if self.armed else QColor(200, 200, 200, 200)
        pen = QPen(colour, 2.0 if self.armed else 1.5, Qt.PenStyle.SolidLine if self.armed else Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(self.start, self.end)
        painter.setBrush(colour)
        painter.drawEllipse(self.end, 3.0, 3.0)
        painter.end()


class LinkDrag:
    """The state of one Ctrl + drag gesture.

    Parameters
    ----------
    line : LinkLine
        Where the gesture is drawn.
    """

    def __init__(self, line: LinkLine) -> None:
        self.line = line
        self.source: str | None = None
        self.dragging = False

    def begin(self, source: str | None) -> None:
        """A Ctrl press: on a node (``source``) a link may start; elsewhere nothing does."""
        self.source = source
        self.dragging = False

    def move(self, start: tuple[float, float], pos: tuple[float, float], target: str | None) -> None:
        """The pointer moved to ``pos`` over ``target`` (a node id or ``None``)."""
        if self.source is None:
            return
        self.dragging = True
        self.line.show_line(start, pos, armed=target is not None and target != self.source)

    def end(self, target: str | None) -> tuple[str, str] | None:
        """The release: ``(source, target)`` when it links two different nodes, else ``None``."""
        source, dragging = self.source, self.dragging
        self.source, self.dragging = None, False
        self.line.hide()
        if source is None or not dragging or target is None or target == source:
            return None
        return source, target

    @property
    def active(self) -> bool:
        """Whether a link gesture owns the current press."""
        return self.source is not None
