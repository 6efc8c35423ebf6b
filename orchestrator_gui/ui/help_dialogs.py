"""The Help menu: Keyboard Shortcuts, User Guide, Take the Tour and About.

* **Keyboard Shortcuts** is generated: it walks the main window's menus (and
  any other action of the window) and lists every action that has a
  shortcut, with its menu path, so it can never disagree with the menus.
* **User Guide** opens the HTML guide built by ``scripts/build-docs``
  (``build/docs-html/`` in a checkout, ``docs/`` in the bundle), found by
  :func:`guide_location`. Without it, ``docs/guide.md`` is shown as
  rendered Markdown; with neither, a message says how to get it.
* **About** shows the version (one string, from ``pyproject.toml``), the
  open workspace, and where the settings and the logs are.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from orchestrator_gui.ui.main_window import MainWindow

#: Name of the built guide's page, inside the HTML folder.
GUIDE_PAGE = "guide.html"
#: Name of the HTML folder: ``build/docs-html`` in a checkout, ``docs-html`` in a bundle.
HTML_DIR = "docs-html"
_PACKAGE = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------- shortcuts
@dataclass(frozen=True)
class ShortcutRow:
    """One line of the Keyboard Shortcuts list.

    Attributes
    ----------
    menu : str
        Menu path ("View ▸ Focus Depth"), or ``"Window"`` for an action in no menu.
    name : str
        The action's name without mnemonics or the undo text ("Undo").
    keys : str
        Its shortcuts as the menus show them ("Ctrl+Z"), joined with " or ".
    action : QAction
    """

    menu: str
    name: str
    keys: str
    action: QAction


def _keys_text(act: QAction) -> str:
    return " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts() if not k.isEmpty())


def shortcut_rows(win: QWidget) -> list[ShortcutRow]:
    """Every action of ``win`` with a shortcut, in menu order (actions in no menu last)."""
    rows: list[ShortcutRow] = []
    seen: set[int] = set()

    def walk(actions: Sequence[QAction], path: list[str]) -> None:
        for act in actions:
            if act.isSeparator():
                continue
            sub = act.menu()
            if sub is not None:
                walk(sub.actions(), [*path, act.iconText()])
                continue
            if id(act) not in seen and _keys_text(act):
                seen.add(id(act))
                rows.append(ShortcutRow(" ▸ ".join(path), act.iconText(), _keys_text(act), act))

    menu_bar = win.menuBar() if hasattr(win, "menuBar") else None
    if menu_bar is not None:
        walk(menu_bar.actions(), [])
    kept = {id(r.action) for r in rows}
    for act in win.findChildren(QAction):
        if id(act) not in kept and _keys_text(act):
            rows.append(ShortcutRow("Window", act.iconText(), _keys_text(act), act))
    return rows


class ShortcutsDialog(QDialog):
    """Help ▸ Keyboard Shortcuts: a table generated from the window's actions (see :func:`shortcut_rows`)."""

    def __init__(self, win: QWidget) -> None:
        super().__init__(win)
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = shortcut_rows(win)
        self.table = QTableWidget(len(self.rows), 3)
        self.table.setHorizontalHeaderLabels(["Shortcut", "Action", "Menu"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for r, row in enumerate(self.rows):
            for c, text in enumerate((row.keys, row.name, row.menu)):
                item = QTableWidgetItem(text)
                if row.action.toolTip() and row.action.toolTip() != row.name:
                    item.setToolTip(row.action.toolTip())
                self.table.setItem(r, c, item)
        rows_h = self.table.fontMetrics().height() + 8
        self.table.verticalHeader().setDefaultSectionSize(rows_h)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        note = QLabel("Listed from the menus as they are now. The mouse and the keys inside the 3D view "
                      "(arrows, Enter, Delete, F, 1–3, Esc) are explained in Help ▸ User Guide.")
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addWidget(note)
        lay.addWidget(buttons)
        # Tall enough for every row when the screen allows (a scroll bar beyond that).
        self.resize(560, min(760, rows_h * (len(self.rows) + 1) + 150))

    def shown(self) -> list[tuple[str, str, str]]:
        """(shortcut, action, menu) of each row as displayed."""
        return [tuple(self.table.item(r, c).text() for c in range(3)) for r in range(self.table.rowCount())]


def show_shortcuts(win: QWidget) -> ShortcutsDialog:
    """Open the Keyboard Shortcuts dialog (not modal; it closes itself when closed)."""
    dlg = ShortcutsDialog(win)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg


# ---------------------------------------------------------------------- user guide
def guide_roots() -> list[Path]:
    """Folders that may hold the guide: a frozen bundle's, the executable's, a source checkout, the prefix's share."""
    roots: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller's contents folder
    if bundle:
        roots.append(Path(bundle))
    roots += [Path(sys.executable).resolve().parent, _PACKAGE.parent, Path(sys.prefix) / "share" / "orchestrator-gui"]
    return roots


def guide_candidates(roots: Sequence[Path] | None = None) -> list[Path]:
    """Where the built HTML guide may be, in the order tried.

    In each of ``roots`` (default :func:`guide_roots`): ``build/docs-html/``
    (``scripts/build-docs`` in a checkout), ``docs-html/`` and ``docs/`` (a
    bundle: ``packaging/bundle.py`` copies the built site to ``docs/``), each
    with ``guide.html``.
    """
    subs = (f"build/{HTML_DIR}", HTML_DIR, "docs")
    return [root / sub / GUIDE_PAGE for root in (guide_roots() if roots is None else roots) for sub in subs]


def guide_location(roots: Sequence[Path] | None = None) -> Path | None:
    """The built HTML guide's page, or ``None`` when none is installed (see :func:`guide_candidates`)."""
    return next((p for p in guide_candidates(roots) if p.is_file()), None)


def guide_source(roots: Sequence[Path] | None = None) -> Path | None:
    """The guide's Markdown, ``docs/guide.md``, in the first of ``roots`` that has it (default :func:`guide_roots`)."""
    found = (root / "docs" / "guide.md" for root in (guide_roots() if roots is None else roots))
    return next((p for p in found if p.is_file()), None)


class MarkdownGuide(QDialog):
    """The guide's Markdown source, rendered by Qt (when the HTML guide was not built)."""

    def __init__(self, source: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("User Guide")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setSearchPaths([str(source.parent)])  # the screenshots: img/…
        self.browser.setMarkdown(source.read_text(encoding="utf-8", errors="replace"))
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser)
        self.resize(900, 760)


def open_user_guide(win: MainWindow, *, roots: Sequence[Path] | None = None,
                    open_url: Callable[[QUrl], Any] = QDesktopServices.openUrl) -> str:
    """Help ▸ User Guide. Returns what it did: ``"html"``, ``"markdown"`` or ``"missing"``.

    Parameters
    ----------
    win : MainWindow
    roots : sequence of Path, optional
        Where to look (default :func:`guide_roots`); see :func:`guide_location` and :func:`guide_source`.
    open_url : callable
        Opens the HTML page (default: the system's browser).
    """
    page = guide_location(roots)
    if page is not None:
        if open_url(QUrl.fromLocalFile(str(page))) is False:
            win.reporter.report(f"no program opened {page}", context="User Guide", dialog=True)
        else:
            win.reporter.info(f"Opened the User Guide: {page}")
        return "html"
    source = guide_source(roots)
    if source is not None:
        dlg = MarkdownGuide(source, win)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        return "markdown"
    win.prompter.notify("User Guide", "The User Guide is not installed with this copy of Loop Orchestrator.\n\n"
                        "In a source checkout, scripts/build-docs builds it into build/docs-html/; "
                        "its text is docs/guide.md.")
    return "missing"


# ---------------------------------------------------------------------- about
def about_text(win: MainWindow) -> str:
    """The About box's text: version, workspace, settings file, log file, Python and Qt."""
    import PySide6
    from PySide6.QtCore import qVersion

    from orchestrator_gui import __version__
    from orchestrator_gui.ui.errors import log_path

    workspace = str(win.session.root) if win.session is not None else "none open"
    return "\n".join([
        f"Loop Orchestrator {__version__}",
        "",
        "A Roo Code agent-loop workspace as a spherical thought graph: goals inside, plans in the middle, "
        "execution outside. Every edit of a workspace file is minimal and can be undone.",
        "",
        f"Workspace: {workspace}",
        f"Settings: {win.settings.file}",
        f"Logs: {log_path()}",
        "",
        f"Python {sys.version.split()[0]} · Qt {qVersion()} · PySide6 {PySide6.__version__}",
    ])


def show_about(win: MainWindow) -> QMessageBox:
    """Help ▸ About (not modal; the paths can be selected and copied)."""
    box = QMessageBox(QMessageBox.Icon.Information, "About Loop Orchestrator", about_text(win), parent=win)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


# ---------------------------------------------------------------------- the menu
def build_help_menu(win: MainWindow, menu: QMenu, make_action: Callable[..., QAction]) -> dict[str, QAction]:
    """Fill Help with its four entries; returns them by name (``shortcuts``, ``guide``, ``tour``, ``about``).

    ``make_action(win, text, slot, shortcut=None, tip="")`` is the menus' own action factory.
    """
    from orchestrator_gui.ui.tour import start_tour

    acts = {
        "guide": make_action(win, "&User Guide", lambda: open_user_guide(win), QKeySequence.StandardKey.HelpContents,
                             "Open the user guide"),
        "shortcuts": make_action(win, "&Keyboard Shortcuts", lambda: show_shortcuts(win),
                                 tip="Every shortcut of the menus, listed from the menus themselves"),
        "tour": make_action(win, "Take the &Tour", lambda: start_tour(win),
                            tip="Eight short steps over the real window, on the demo workspace"),
        "about": make_action(win, "&About", lambda: show_about(win),
                             tip="Version, workspace, settings and log files"),
    }
    menu.addAction(acts["guide"])
    menu.addAction(acts["shortcuts"])
    menu.addAction(acts["tour"])
    menu.addSeparator()
    menu.addAction(acts["about"])
    return acts
