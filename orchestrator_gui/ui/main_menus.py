"""Menus and toolbar of the main window (kept apart so ``main_window.py`` stays readable)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QProgressBar, QSizePolicy, QSlider, QStyle, QToolBar, QToolButton, QWidget

from orchestrator_gui.ui.help_dialogs import build_help_menu
from orchestrator_gui.ui.settings import THRESHOLD_MAX

if TYPE_CHECKING:
    from orchestrator_gui.ui.main_window import MainWindow

#: Graph transforms and how many selected nodes each needs: (at least, at most or None).
TRANSFORM_ARITY = {
    "generate": (1, None), "refine": (1, 1), "aggregate": (2, None), "score": (1, None), "keep_best": (2, None),
    "prune": (1, None), "expand": (1, None), "link": (2, None), "delete_nodes": (1, None),
}
#: Widest undo/redo text in the Edit menu, in pixels; longer ones are elided in the middle (the
#: menu's width follows its widest entry, and a very wide one crowded out the shortcut column).
UNDO_TEXT_PX = 320


def _act(win: MainWindow, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False,
         icon: QStyle.StandardPixmap | None = None) -> QAction:
    act = QAction(text, win)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    if tip:
        act.setStatusTip(tip)
        act.setToolTip(tip)
    if icon is not None:
        act.setIcon(win.style().standardIcon(icon))
    act.setCheckable(checkable)
    act.triggered.connect(slot)
    return act


def build_menus(win: MainWindow) -> dict[str, QAction]:
    """Create the File, Edit, View, Graph and Help menus; returns the named actions."""
    a: dict[str, QAction] = {}
    sp = QStyle.StandardPixmap
    mb = win.menuBar()

    m = mb.addMenu("&File")
    a["open"] = _act(win, "&Open Folder…", win.choose_workspace, QKeySequence.StandardKey.Open,
                     "Open a workspace folder", icon=sp.SP_DirOpenIcon)
    m.addAction(a["open"])
    win.recent_menu = m.addMenu("Open &Recent")
    a["demo"] = _act(win, "Open &Demo", win.open_demo, tip="Open your copy of the demo workspace")
    m.addAction(a["demo"])
    m.addSeparator()
    a["export_png"] = _act(win, "Export &Screenshot (PNG)…", win.export_screenshot_dialog)
    m.addAction(a["export_png"])
    ex = m.addMenu("Export &Graph")
    for fmt, label in (("json", "JSON…"), ("graphml", "GraphML…"), ("gexf", "GEXF…")):
        a[f"export_{fmt}"] = _act(win, label, lambda _c=False, f=fmt: win.export_graph_dialog(f))
        ex.addAction(a[f"export_{fmt}"])
    m.addSeparator()
    a["quit"] = _act(win, "&Quit", win.close, QKeySequence.StandardKey.Quit)
    m.addAction(a["quit"])

    m = mb.addMenu("&Edit")
    a["undo"] = _act(win, "&Undo", lambda: win.actions_.undo(),
                     QKeySequence.StandardKey.Undo)
    a["redo"] = _act(win, "&Redo", lambda: win.actions_.redo(),
                     QKeySequence.StandardKey.Redo)
    a["undo"].setIconText("Undo")  # toolbar label; the menu shows what will be undone
    a["redo"].setIconText("Redo")
    m.addAction(a["undo"])
    m.addAction(a["redo"])
    m.addSeparator()

    def find() -> None:
        win.dock_layout.show_dock("Search")
        win.search.focus_query()
    a["find"] = _act(win, "&Find…", find, QKeySequence.StandardKey.Find, "Search the graph")
    m.addAction(a["find"])

    m = mb.addMenu("&View")
    a["fit"] = _act(win, "&Fit to View", lambda: win.view.fit(), "Shift+F", "Fit every visible node in view")
    a["reset_camera"] = _act(win, "&Reset Camera", lambda: win.view.reset_camera(), "Home")
    m.addAction(a["fit"])
    m.addAction(a["reset_camera"])
    m.addSeparator()
    for key, label in (("shells", "Show &Shells"), ("edges", "Show &Edges"), ("labels", "Show &Labels"),
                       ("suppressed", "Show Su&ppressed Nodes")):
        a[f"show_{key}"] = _act(win, label, lambda on, k=key: win.set_visibility(k, on), checkable=True)
        m.addAction(a[f"show_{key}"])
    a["legend"] = _act(win, "Show L&egend", lambda on: _set_legend(win, bool(on)), checkable=True,
                       tip="What the colours, outlines, links and shells mean; click a kind to show only it")
    a["legend"].setChecked(not win.settings.flag("view/legend_hidden"))
    m.addAction(a["legend"])
    density = m.addMenu("Label &Density")
    group = QActionGroup(win)
    for factor, label in ((0.5, "&Fewer"), (1.0, "&Normal"), (2.0, "&More"), (4.0, "M&any")):
        act = _act(win, label, lambda _c=False, f=factor: _set_density(win, f), checkable=True)
        act.setChecked(factor == 1.0)
        group.addAction(act)
        density.addAction(act)
        a[f"density_{factor:g}"] = act
    m.addSeparator()
    a["focus"] = _act(win, "&Focus on Selection", lambda: _focus(win, win.selected_ids()), "F",
                      "Show only the selected node and its neighbourhood (Esc or Leave Focus returns)")
    m.addAction(a["focus"])
    depth = m.addMenu("Focus De&pth")
    group = QActionGroup(win)
    for d in (1, 2, 3):
        act = _act(win, f"&{d} hop{'s' if d > 1 else ''}", lambda _c=False, k=d: _focus_depth(win, k),
                   checkable=True)
        act.setChecked(d == 1)
        group.addAction(act)
        depth.addAction(act)
        a[f"depth_{d}"] = act
    a["leave_focus"] = _act(win, "&Leave Focus", lambda: _focus(win, []))
    m.addAction(a["leave_focus"])
    if hasattr(win.view, "focus_changed"):
        # The view's own keys (1-3, Esc) change the depth too: keep the radio items in step.
        win.view.focus_changed.connect(lambda _nid, d: d and a[f"depth_{d}"].setChecked(True))
    _set_legend(win, a["legend"].isChecked())
    m.addSeparator()
    a["dark"] = _act(win, "&Dark Theme", lambda on: win.set_theme("dark" if on else "light"), checkable=True)
    a["dark"].setChecked(win.theme == "dark")
    m.addAction(a["dark"])
    m.addSeparator()
    panels = m.addMenu("&Panels")
    for dock in win.docks.values():
        panels.addAction(dock.toggleViewAction())
    a["graph_only"] = _act(win, "&Graph Only", lambda on: win.set_graph_only(bool(on)), "F11",
                           "Hide every panel and give the window to the 3D view (F11 brings them back)",
                           checkable=True)
    m.addAction(a["graph_only"])
    a["reset_layout"] = _act(win, "Reset &Layout", win.reset_layout, tip="Put every panel back in its default place")
    m.addAction(a["reset_layout"])

    m = mb.addMenu("&Graph")
    win.graph_menu = m
    ga = win.actions_

    def sel():
        return win.selected_ids()
    for key, text, slot, shortcut in (  # enabled by the selection's size: see update_selection_actions
        ("generate", "&Generate", lambda: ga.generate(sel()), "G"),
        ("refine", "&Refine…", lambda: ga.refine(sel()), "R"),
        ("aggregate", "&Aggregate", lambda: ga.aggregate(sel()), "A"),
        ("score", "&Score", lambda: ga.score(sel()), None),
        ("keep_best", "&Keep Best N…", lambda: ga.keep_best(sel()), None),
        ("prune", "&Prune", lambda: ga.prune(sel()), None),
        ("expand", "E&xpand", lambda: ga.expand(sel()), None),
        ("link", "&Link…", lambda: ga.link(sel()), "L"),
        ("delete_nodes", "&Delete", lambda: ga.delete(sel()), None),
    ):
        a[key] = _act(win, text, slot, shortcut)
        m.addAction(a[key])
    m.addSeparator()
    a["relayout"] = _act(win, "Re&layout", ga.relayout, tip="Recompute every node's place on its shell (undoable)")
    a["dynamics"] = _act(win, "Recompute &Activation", win.update_dynamics)
    m.addAction(a["relayout"])
    m.addAction(a["dynamics"])

    m = mb.addMenu("&Tools")
    a["run_loop"] = _act(win, "Run the &Loop Here", lambda on: win.toggle_loop(bool(on)),
                         tip="Fire this workspace's due schedules from the app, like `orchestrator-gui run` "
                             "(remembered per workspace)")
    a["run_loop"].setCheckable(True)
    m.addAction(a["run_loop"])
    a["local_api"] = _act(win, "Local &API", lambda on: _toggle_local_api(win, a["local_api"], bool(on)),
                          tip="Serve this workspace's live graph to agents and scripts on 127.0.0.1 "
                              "(REST, events, MCP; bearer token). Their actions land on Edit ▸ Undo",
                          checkable=True)
    m.addAction(a["local_api"])

    a.update(build_help_menu(win, mb.addMenu("&Help"), _act))  # User Guide, Shortcuts, Tour, About
    return a


def _toggle_local_api(win: MainWindow, action: QAction, on: bool) -> None:
    """Tools ▸ Local API: start or stop the in-app server (made on first use; the app injects how to serve)."""
    from orchestrator_gui.ui.local_api import LocalApi

    api = win.findChild(LocalApi)
    if api is None:
        start_server = getattr(win, "local_api_factory", None)
        if start_server is None:  # a window made without the app (no API installed with it)
            win.reporter.info("The local API is not available in this window")
            action.setChecked(False)
            return
        api = LocalApi(win, start_server)
        api.running_changed.connect(action.setChecked)
    if on and win.session is None:
        win.reporter.info("Open a workspace first: the local API serves the open workspace")
    action.setChecked(api.set_running(on))


def build_toolbar(win: MainWindow) -> QToolBar:
    """The main toolbar (open, undo/redo, camera, transforms, activation threshold, theme)."""
    tb = QToolBar("Main", win)
    tb.setObjectName("toolbar_main")
    tb.setIconSize(QSize(16, 16))
    a = win.acts
    tb.addAction(a["open"])
    tb.addAction(a["undo"])
    tb.addAction(a["redo"])
    tb.addSeparator()
    tb.addAction(a["fit"])
    tb.addAction(a["reset_camera"])
    tb.addSeparator()
    for key in ("generate", "refine", "aggregate", "score", "prune", "relayout"):
        tb.addAction(a[key])
    tb.addSeparator()
    tb.addWidget(QLabel(" Active ≥ "))
    tb.addWidget(win.threshold_slider)
    tb.addWidget(win.threshold_label)
    spacer = QWidget()
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    tb.addWidget(spacer)
    # A checked and an unchecked tool button look alike in the dark style: the button names the theme.
    a["dark"].setIconText(f"Theme: {win.theme.capitalize()}")
    a["dark"].setToolTip("Switch between the dark and the light theme")
    tb.addAction(a["dark"])
    win.addToolBar(tb)
    return tb


def _focus(win: MainWindow, ids: list[str]) -> None:
    """Focus mode on the last of ``ids`` at the chosen depth; no ids: leave it."""
    setter = getattr(win.view, "set_focus", None)
    if setter is None:
        return
    if not ids:
        setter(None)
        return
    with win.reporter.guard("Focus"):
        setter(ids[-1], win.view.focus_depth())


def _focus_depth(win: MainWindow, depth: int) -> None:
    win.view.focus_depth_default = depth
    focused = win.view.focused() if hasattr(win.view, "focused") else None
    if focused is not None:
        win.view.set_focus(focused, depth)


def _set_legend(win: MainWindow, on: bool) -> None:
    if hasattr(win.view, "set_legend_visible"):
        win.view.set_legend_visible(on)
    win.settings.set_flag("view/legend_hidden", not on)


def _set_density(win: MainWindow, factor: float) -> None:
    setter = getattr(win.view, "set_label_density", None)
    if setter is not None:
        setter(factor)


def build_context_menu(win: MainWindow, ids: list[str]) -> QMenu:
    """The 3D view's context menu for ``ids`` (the selection, or the node right-clicked)."""
    a = win.actions_
    menu = QMenu(win)
    n = len(ids)
    has = win.session is not None
    entries = [
        ("generate", "Generate", lambda: a.generate(ids)),
        ("refine", "Refine…", lambda: a.refine(ids)),
        ("aggregate", "Aggregate", lambda: a.aggregate(ids)),
        ("score", "Score", lambda: a.score(ids)),
        ("keep_best", "Keep best N…", lambda: a.keep_best(ids)),
        ("prune", "Prune", lambda: a.prune(ids)),
        ("expand", "Expand", lambda: a.expand(ids)),
        ("link", "Link…", lambda: a.link(ids)),
        ("delete_nodes", "Delete", lambda: a.delete(ids)),
    ]
    for key, text, slot in entries:
        act = menu.addAction(text)
        act.triggered.connect(slot)
        act.setEnabled(has and _fits(key, n))
    menu.addSeparator()
    g = win.session.graph if has else None
    backed = n == 1 and g is not None and ids[0] in g and g.node(ids[0]).source is not None
    act = menu.addAction("Open source line")
    act.triggered.connect(lambda: win.open_source(ids[0]))
    act.setEnabled(backed)
    if n == 1:
        menu.addAction("Fly to", lambda: win.view.fly_to(ids[0]))
        menu.addAction("Focus (F)", lambda: _focus(win, ids))
    menu.addAction("Fit to view", win.view.fit)
    return menu


def build_status_bar(win: MainWindow) -> None:
    """Status bar: background work (label, progress, Cancel), counts; and the threshold slider."""
    sb = win.statusBar()
    win.counts_label = QLabel()
    win.progress = QProgressBar()
    win.progress.setRange(0, 0)
    win.progress.setMaximumWidth(140)
    win.progress.setMaximumHeight(14)
    win.progress.setTextVisible(False)
    win.busy_label = QLabel()
    win.cancel_btn = QToolButton()
    win.cancel_btn.setText("Cancel")
    win.cancel_btn.setToolTip("Cancel the running transforms and tasks")
    win.cancel_btn.clicked.connect(win.cancel_work)
    for w in (win.busy_label, win.progress, win.cancel_btn):
        sb.addPermanentWidget(w)
        w.hide()
    sb.addPermanentWidget(win.counts_label)
    win.threshold_slider = QSlider(Qt.Orientation.Horizontal)
    # The full range until a graph is open; then it follows the graph's highest activation.
    win.threshold_slider.setRange(0, round(THRESHOLD_MAX * 100))
    win.threshold_slider.setMaximumWidth(140)
    win.threshold_slider.setToolTip("Active region: nodes whose activation is at least this value, and their "
                                  "neighbours, stay bright; the rest fade. The scale reaches the graph's "
                                  "highest activation. 0 = off.")
    win.threshold_label = QLabel()
    win.threshold_slider.valueChanged.connect(win._on_threshold)


def fill_recent_menu(win: MainWindow) -> None:
    """Rebuild File ▸ Open Recent from the settings."""
    menu = win.recent_menu
    menu.clear()
    recent = win.settings.recent_workspaces()
    for path in recent:
        act = menu.addAction(path)
        act.triggered.connect(lambda _c=False, p=path: win.open_workspace(p))
    if recent:
        menu.addSeparator()

        def clear() -> None:
            win.settings.clear_recent()
            win.refresh_recent_menu()
        menu.addAction("Clear list", clear)
    menu.setEnabled(bool(recent))


def _fits(key: str, n: int) -> bool:
    lo, hi = TRANSFORM_ARITY[key]
    return n >= lo and (hi is None or n <= hi)


def update_selection_actions(win: MainWindow) -> None:
    """Enable the Graph menu's and the toolbar's transforms for the selection's size, as the context menu does."""
    n = len(win.selected_ids()) if win.session is not None else 0
    for key in TRANSFORM_ARITY:
        win.acts[key].setEnabled(win.session is not None and _fits(key, n))


def update_undo_actions(win: MainWindow, history) -> None:
    """Edit ▸ Undo/Redo: enabled state and texts (what will be undone, elided when long; in full as tooltip)."""
    fm = win.menuBar().fontMetrics()
    for key, label in (("undo", "Undo"), ("redo", "Redo")):
        act = win.acts[key]
        ok = bool(history and getattr(history, f"can_{key}"))
        what = getattr(history, f"{key}_text") if ok else ""
        act.setEnabled(ok)
        short = fm.elidedText(what, Qt.TextElideMode.ElideMiddle, UNDO_TEXT_PX).replace("&", "&&")
        act.setText(f"&{label} {short}" if what else f"&{label}")
        act.setToolTip(f"{label} {what}" if what else label)
        act.setStatusTip(act.toolTip())
