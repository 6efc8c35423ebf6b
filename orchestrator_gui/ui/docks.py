"""The main window's dock panels: their default arrangement, the *graph only* mode and Reset Layout.

The 3D view is the window's subject, so the default layout gives it the
middle at full height: the file panels in one column on the left (Schedules,
Modes and TODO over Memory log and Runs), the Inspector over Search on the right,
so a search never hides the details of the node it flew to. The columns are
sized from the window's width (:meth:`DockLayout.fit_to_window`), once the
window has its real size.

Every panel sits in a frameless scroll area inside its dock, and may be
squeezed to :data:`PANEL_MIN_WIDTH` however wide its own layout wants to be
(a row of buttons): the window then still works down to 800×600. A column
narrower than a panel's row of buttons squeezes the buttons, not the list
or tree above them (a horizontal scroll bar would hide half of that); a
dock shorter than its panel scrolls it vertically.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

#: Version stamped into saved layouts: layouts saved before the Inspector and Search
#: were split apart (version 0) or before the History dock (version 1) are not restored,
#: so the new default reaches existing users.
LAYOUT_VERSION = 2
#: Share of the window's width each side column gets by default, and its bounds in pixels.
COLUMN_SHARE = 0.18
COLUMN_MIN, COLUMN_MAX = 280, 420
#: Narrowest a panel is squeezed to before its dock scrolls sideways (pixels).
PANEL_MIN_WIDTH = 200
#: Share of a column's height its upper dock gets (left: Schedules/TODO, right: Inspector).
LEFT_SPLIT, RIGHT_SPLIT = 0.56, 0.6

_L, _R = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
#: (title, area, tab group leader or None, dock it is split below or None); a dock placed below another
#: or joined to it as a tab comes after it.
DEFAULT = (
    ("TODO", _L, None, None),
    ("Schedules", _L, "TODO", None),
    ("Modes", _L, "TODO", None),
    ("Memory log", _L, None, "TODO"),
    ("Runs", _L, "Memory log", None),
    ("Inspector", _R, None, None),
    ("Search", _R, None, "Inspector"),
    ("Next", _L, "Memory log", None),
    ("Goals", _L, "Memory log", None),
    ("History", _R, "Search", None),
)
#: Tabs shown in front by default.
RAISED = ("TODO", "Runs")


def _scroller(panel: QWidget) -> QScrollArea:
    # An explicit minimum width overrides the one the panel's layout computes (Qt's rule for child widgets).
    panel.setMinimumWidth(min(panel.minimumSizeHint().width(), PANEL_MIN_WIDTH))
    area = QScrollArea()
    area.setObjectName(f"scroll_{panel.objectName() or type(panel).__name__}")
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(panel)
    area.setMinimumSize(120, 80)
    return area


class DockLayout(QObject):
    """Owns the docks of a :class:`QMainWindow`: creates them, arranges them, hides and restores them.

    Signals
    -------
    graph_only_changed(bool)
        *Graph only* was switched on or off.

    Parameters
    ----------
    window : QMainWindow
    panels : dict of str to QWidget
        Dock title -> panel, for the titles in :data:`DEFAULT` (one left out gets no dock).
    """

    graph_only_changed = Signal(bool)

    def __init__(self, window: QMainWindow, panels: dict[str, QWidget]) -> None:
        super().__init__(window)
        self.window = window
        self.panels = dict(panels)
        self.docks: dict[str, QDockWidget] = {}
        #: The layout before *graph only* hid the docks (``None`` while they are shown).
        self._before: QByteArray | None = None
        for title, panel in panels.items():
            dock = QDockWidget(title, window)
            dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
            dock.setWidget(_scroller(panel))
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable)
            self.docks[title] = dock
        window.setDockNestingEnabled(True)
        self.arrange()

    # ------------------------------------------------------------------ the default
    def arrange(self) -> None:
        """Put every dock where the default layout has it (docked, shown, default tab in front)."""
        win = self.window
        for dock in self.docks.values():
            if dock.isFloating():
                dock.setFloating(False)
            win.removeDockWidget(dock)
        # Splits first: splitting a dock that already has tabs would add a tab instead (Qt's rule).
        # A window may be built without some panels (a title with no panel has no dock).
        layout = [row for row in DEFAULT if row[0] in self.docks]
        for title, area, tab_of, below in layout:
            if below is not None:
                win.splitDockWidget(self.docks[below], self.docks[title], Qt.Orientation.Vertical)
            elif tab_of is None:
                win.addDockWidget(area, self.docks[title])
        for title, _area, tab_of, _below in layout:
            if tab_of is not None:
                win.tabifyDockWidget(self.docks[tab_of], self.docks[title])
            self.docks[title].show()
        for title in RAISED:
            self.docks[title].raise_()

    def fit_to_window(self) -> None:
        """Size the columns for the window's present size (the default layout's proportions).

        Also brings the default tabs to the front again: before the window is
        first shown Qt has no tab bars yet, and a ``raise_`` then is lost.
        """
        for title in RAISED:
            self.docks[title].raise_()
        w, h = self.window.width(), self.window.height()
        col = round(min(COLUMN_MAX, max(min(COLUMN_MIN, w // 4), COLUMN_SHARE * w)))
        d = self.docks
        self.window.resizeDocks([d["TODO"], d["Inspector"]], [col, col], Qt.Orientation.Horizontal)
        self.window.resizeDocks([d["TODO"], d["Memory log"]], [round(h * LEFT_SPLIT), round(h * (1 - LEFT_SPLIT))],
                                Qt.Orientation.Vertical)
        self.window.resizeDocks([d["Inspector"], d["Search"]], [round(h * RIGHT_SPLIT), round(h * (1 - RIGHT_SPLIT))],
                                Qt.Orientation.Vertical)

    def reset(self) -> None:
        """View ▸ Reset Layout: the default arrangement and sizes, now."""
        if self._before is not None:
            self._before = None
            self.graph_only_changed.emit(False)
        self.arrange()
        self.fit_to_window()

    # ------------------------------------------------------------------ graph only
    @property
    def graph_only(self) -> bool:
        """True while *graph only* hides the docks."""
        return self._before is not None

    def set_graph_only(self, on: bool) -> None:
        """Hide every dock (``on``), or bring them back exactly as they were."""
        if bool(on) == self.graph_only:
            return
        if on:
            self._before = self.window.saveState(LAYOUT_VERSION)
            for dock in self.docks.values():
                dock.hide()
        else:
            before, self._before = self._before, None
            if not self.window.restoreState(before, LAYOUT_VERSION):
                for dock in self.docks.values():
                    dock.show()
        self.graph_only_changed.emit(bool(on))

    def show_dock(self, title: str) -> QDockWidget:
        """Show and raise one dock (leaving *graph only* first: the others come back too)."""
        self.set_graph_only(False)
        dock = self.docks[title]
        dock.show()
        dock.raise_()
        return dock

    def state(self) -> QByteArray:
        """The layout to remember on quit (the one from before *graph only*, while it is on)."""
        return self._before if self._before is not None else self.window.saveState(LAYOUT_VERSION)

    def panel_of(self, dock: QDockWidget) -> QWidget:
        """The panel a dock shows (inside its scroll area)."""
        widget = dock.widget()
        return widget.widget() if isinstance(widget, QScrollArea) else widget


__all__ = ["DEFAULT", "LAYOUT_VERSION", "DockLayout"]
