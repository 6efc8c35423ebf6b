"""The main window: the 3D graph view in the middle, dockable panels around it, menus, toolbar, status bar.

Selection has one truth, the graph's ``SELECTED`` flags. A panel that picks
something calls :meth:`MainWindow.select_node`, which selects the node in the
view and flies there; the view's ``selection_changed`` then updates the
inspector and lets every panel mirror it (:meth:`Panel.mirror_selection`:
a panel highlights exactly the selected nodes it shows, nothing when none
is selected, and never echoes the selection back). Filtering a panel never
changes the selection or moves the camera. The docks are arranged by
:class:`~orchestrator_gui.ui.docks.DockLayout`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QPixmap, QShowEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from orchestrator_gui.ui import export
from orchestrator_gui.ui import theme as themes
from orchestrator_gui.ui.background import BackgroundWork
from orchestrator_gui.ui.docks import LAYOUT_VERSION, DockLayout
from orchestrator_gui.ui.dynamics_driver import DynamicsDriver
from orchestrator_gui.ui.errors import ErrorReporter
from orchestrator_gui.ui.graph_actions import GraphActions, plural
from orchestrator_gui.ui.graph_prebuild import GraphPrebuild, start_build
from orchestrator_gui.ui.main_menus import (
    build_context_menu,
    build_menus,
    build_status_bar,
    build_toolbar,
    fill_recent_menu,
    update_selection_actions,
    update_undo_actions,
)
from orchestrator_gui.ui.open_consent import choose_open
from orchestrator_gui.ui.panels.base import PanelContext
from orchestrator_gui.ui.panels.goals import FOCUS_DEPTH, GoalsPanel
from orchestrator_gui.ui.panels.history import HistoryPanel
from orchestrator_gui.ui.panels.inspector import InspectorPanel
from orchestrator_gui.ui.panels.memory import MemoryPanel
from orchestrator_gui.ui.panels.modes import ModesPanel
from orchestrator_gui.ui.panels.next import NextPanel
from orchestrator_gui.ui.panels.runs import RunsPanel
from orchestrator_gui.ui.panels.schedules import SchedulesPanel
from orchestrator_gui.ui.panels.search import SearchPanel
from orchestrator_gui.ui.panels.todo import TodoPanel
from orchestrator_gui.ui.placeholder_view import make_graph_view
from orchestrator_gui.ui.prompts import Prompter
from orchestrator_gui.ui.session import WorkspaceSession
from orchestrator_gui.ui.settings import THRESHOLD_MAX, VISIBILITY_KEYS, AppSettings
from orchestrator_gui.workspace.opening import plan_open

APP_TITLE = "Loop Orchestrator"
#: How often activation and attention are recomputed while nothing else happens.
DYNAMICS_PERIOD_MS = 60_000


def make_executor(root: Path) -> Any:
    """The engine's Qt executor for a workspace (``None`` when the engine cannot start)."""
    from orchestrator_gui.ui.executor_qt import QtExecutor

    return QtExecutor(root)


class MainWindow(QMainWindow):
    """The application window.

    Parameters
    ----------
    settings : AppSettings
    view_factory : callable, optional
        ``view_factory(parent, theme) -> QWidget`` for the central view
        (default: the vispy ``GraphView``, or a placeholder when it cannot load).
    executor_factory : callable, optional
        ``executor_factory(root) -> QtExecutor | None`` for a workspace's engine.
    """

    def __init__(self, settings: AppSettings, *, view_factory: Callable[..., QWidget] = make_graph_view,
                 executor_factory: Callable[[Path], Any] | None = make_executor, restore_layout: bool = True) -> None:
        super().__init__()
        #: Save the window layout on close (off for screenshots).
        self.persist_layout = True
        self.settings = settings
        self.setWindowTitle(APP_TITLE)
        self.prompter = Prompter(self)
        self.reporter = ErrorReporter(self._dialog, self)
        self.session: WorkspaceSession | None = None
        self.executor: Any = None
        #: Runs run-now and the loop of the open workspace (None without an engine).
        self.run_control: Any = None
        #: ``clock() -> epoch ms`` for the loop's scheduler (tests); None: the system clock.
        self.loop_clock: Callable[[], int] | None = None
        self._executor_factory = executor_factory
        #: Graph builds started ahead of their workspace's first open (:meth:`start_graph_build`).
        self._graph_builds: dict[Path, GraphPrebuild] = {}
        #: The guided tour while it runs (Help ▸ Take the Tour; see ui/tour.py).
        self.tour: Any = None
        self.theme = settings.theme

        self.view = view_factory(self, self.theme)
        self.setCentralWidget(self.view)
        self.actions_ = GraphActions(self.reporter, self.prompter, parent=self)
        self.work = BackgroundWork(self)
        self.actions_.busy.connect(lambda _n: self.work.update())
        self.actions_.applied.connect(self._on_applied)

        ctx = PanelContext(self.reporter, self.prompter, settings)
        self.schedules = SchedulesPanel(ctx)
        self.todo = TodoPanel(ctx)
        self.inspector = InspectorPanel(ctx)
        self.memory = MemoryPanel(ctx)
        self.runs = RunsPanel(ctx)
        self._approval_label = QLabel()
        self._approval_label.setToolTip("Runs waiting for your approval: Runs panel ▸ Pending approval")
        self.statusBar().addPermanentWidget(self._approval_label)
        self.runs.approvals.changed.connect(lambda: self._approval_label.setText(self.runs.approvals.status_text()))
        self.runs.approvals.approved.connect(self._on_approved)
        self.search = SearchPanel(ctx)
        self.modes = ModesPanel(ctx)
        self.next_panel = NextPanel(ctx)
        self.goals = GoalsPanel(ctx)
        self.history_panel = HistoryPanel(ctx)
        self.panels = [self.schedules, self.todo, self.inspector, self.memory, self.runs, self.search, self.modes,
                       self.next_panel, self.goals, self.history_panel]
        self.dock_layout = DockLayout(self, {"Schedules": self.schedules, "TODO": self.todo, "Modes": self.modes,
                                             "Inspector": self.inspector, "Search": self.search,
                                             "Next": self.next_panel, "Goals": self.goals, "Memory log": self.memory,
                                             "Runs": self.runs, "History": self.history_panel})
        self.docks = self.dock_layout.docks
        #: Whether the docks still need sizing for the window's real size (no saved layout was restored).
        self._fit_docks = True
        for p in self.panels:
            p.node_requested.connect(self.select_node)
            p.install_selection_sync()
        self.inspector.refine_requested.connect(self._apply_inspector_text)
        self.inspector.open_source.connect(self.open_source)
        self.goals.focus_requested.connect(lambda nid: self.view.set_focus(nid, FOCUS_DEPTH))
        self.history_panel.set_view(self.view)

        # view signals (the placeholder has the same ones)
        self.view.selection_changed.connect(self._on_selection)
        self.view.context_menu_requested.connect(self._on_context_menu)
        self.view.node_double_clicked.connect(self._on_activate)
        if hasattr(self.view, "delete_requested"):
            self.view.delete_requested.connect(lambda ids: self.actions_.delete(list(ids)))
        if hasattr(self.view, "link_requested"):
            self.view.link_requested.connect(self.actions_.link_dropped)

        build_status_bar(self)
        self.dynamics = DynamicsDriver(self)
        self.acts = build_menus(self)
        build_toolbar(self)
        self._visibility = settings.visibility()
        for key in VISIBILITY_KEYS:
            self.acts[f"show_{key}"].setChecked(self._visibility[key])
        self.view.set_visibility(**self._visibility)
        self.threshold_slider.setValue(round(settings.activation_threshold * 100))

        self._dynamics_timer = QTimer(self)
        self._dynamics_timer.setSingleShot(True)
        self._dynamics_timer.setInterval(300)
        self._dynamics_timer.timeout.connect(self.update_dynamics)
        self._period = QTimer(self)
        self._period.setInterval(DYNAMICS_PERIOD_MS)
        self._period.timeout.connect(self.update_dynamics)
        self._graph_hooked = None
        self.reporter.message.connect(self._status_message)
        self.dock_layout.graph_only_changed.connect(self.acts["graph_only"].setChecked)
        self.resize(1500, 950)
        self.setMinimumSize(640, 480)
        if restore_layout and settings.restore_window(self, LAYOUT_VERSION):
            self._fit_docks = False
        self._update_for_session()

    # ------------------------------------------------------------------ construction helpers
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Size the default layout's columns once the window has its real size."""
        super().showEvent(event)
        if self._fit_docks:
            self._fit_docks = False
            self.dock_layout.fit_to_window()

    def _dialog(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _status_message(self, text: str, timeout: int) -> None:
        # Node titles reach the status bar too: the same cleaning as the canvas (Markdown, emoji).
        self.statusBar().showMessage(themes.displayable(text), timeout)

    # ------------------------------------------------------------------ workspace
    def open_workspace(self, path: str | os.PathLike[str], *, keep_graph: bool | None = None) -> bool:
        """Open the workspace folder ``path`` (closing the current one); False when it cannot be opened.

        ``keep_graph``: keep the graph in ``.orchestrator/graph.db`` (True) or in memory (False);
        ``None`` asks first when that would create ``.orchestrator/`` in the folder.
        """
        try:
            way = choose_open(plan_open(path), keep_graph, self.prompter)
        except Exception as exc:  # noqa: BLE001 - a missing folder: shown, the window stays as it is
            self.reporter.report(exc, context=f"Cannot open {path}", dialog=True)
            return False
        if way == "demo":
            return self.open_demo()
        if way == "create":
            return self._create_workspace(Path(path))
        if way == "cancel":
            self.reporter.info(f"Not opened: {path}")
            return False
        in_memory = way == "memory"
        self.close_workspace()
        self.statusBar().showMessage(f"Opening {path}…")
        QApplication.processEvents()
        if not in_memory:
            # A first open builds the graph on a worker while this thread draws the window (see graph_prebuild).
            build = self._graph_builds.pop(Path(path).resolve(), None) or start_build(path)
            if build is not None:
                build.wait()
        try:
            session = WorkspaceSession(path, self.reporter, in_memory=in_memory, parent=self)
        except Exception as exc:  # noqa: BLE001 - shown to the user; the window stays usable
            self.reporter.report(exc, context=f"Cannot open {path}", dialog=True)
            self._update_for_session()
            return False
        self.session = session
        session.files_changed.connect(self._on_files_changed)
        session.graph_synced.connect(self._on_synced)
        session.offline_changed.connect(self._on_fleet_offline)
        session.undo.changed.connect(self._update_undo)
        self.executor = None
        if self._executor_factory is not None:
            try:
                self.executor = self._executor_factory(session.root)
            except Exception as exc:  # noqa: BLE001 - transforms then run inline; run-now stays disabled
                self.reporter.report(exc, context="Execution engine unavailable")
        self.work.attach(self.executor)
        self.dynamics.attach(session, self.executor)
        if self.dynamics.tick_ms:
            self._period.setInterval(self.dynamics.tick_ms)
        self.actions_.set_executor(self.executor)
        self.actions_.set_session(session, self.view)
        self.run_control = None
        if self.executor is not None:
            from orchestrator_gui.ui.loop_control import RunControl

            self.run_control = RunControl(session, self.executor, self.settings, self.reporter,
                                          clock=self.loop_clock, parent=self)
            self.run_control.looping_changed.connect(self._on_looping)
        self.schedules.set_run_now(self._run_schedule if self.executor is not None else None)
        camera = self.settings.camera(session.root)
        self.view.set_graph(session.graph, fit=camera is None)
        if camera:
            try:
                self.view.set_camera_state(camera)
            except Exception:  # noqa: BLE001 - a stale camera from another version: fit instead
                self.view.fit()
        self._hook_graph(session.graph)
        self.update_dynamics()
        self._paint_view_now()
        for p in self.panels:
            p.set_session(session)
        self._on_selection(list(session.graph.selected_ids()))  # the store keeps the last selection
        self.settings.add_recent(session.root)
        self._period.start()
        if self.run_control is not None and self.run_control.remembered():
            self.run_control.set_looping(True, remember=False)
        self._update_for_session()
        g = session.graph
        where = " (in memory: nothing is kept when you close it)" if in_memory else ""
        self.reporter.info(f"Opened {session.root} — {g.number_of_nodes()} nodes, {g.number_of_edges()} edges{where}")
        return True

    def start_graph_build(self, path: str | os.PathLike[str]) -> None:
        """Start building ``path``'s graph on a worker when its first open will need it; :meth:`open_workspace` waits.

        Call it before showing the window: the build then runs while the window draws its first frames.
        """
        key = Path(path).resolve()
        if key not in self._graph_builds:
            build = start_build(key)
            if build is not None:
                self._graph_builds[key] = build

    def _paint_view_now(self) -> None:
        # The graph, with its activation, reaches the screen before the panels fill (they follow within
        # ~0.1 s): on a first start the user sees it that much sooner.
        if self.isVisible():
            self.view.repaint()

    def _create_workspace(self, path: Path) -> bool:
        """Write the ``init`` files into ``path`` (the user asked for it) and open it, graph kept there."""
        from datetime import UTC, datetime

        from orchestrator_gui.workspace.init import init_workspace

        with self.reporter.guard(f"Creating a workspace in {path}", dialog=True) as g:
            init_workspace(path, datetime.now(UTC))
        return False if g.failed else self.open_workspace(path, keep_graph=True)

    def open_demo(self) -> bool:
        """Open the user's copy of the demo workspace (created from the package on first use)."""
        from orchestrator_gui.demo import demo_workspace

        with self.reporter.guard("Opening the demo", dialog=True) as g:
            path = demo_workspace()
        return False if g.failed else self.open_workspace(path, keep_graph=True)  # our own copy

    def close_workspace(self) -> None:
        """Close the open workspace: stop its workers, save its camera, close its store."""
        if self.session is None:
            return
        self._save_camera()
        self.actions_.cancel_all()
        if self.run_control is not None:
            self.run_control.close()
            self.run_control.deleteLater()
            self.run_control = None
        if self.executor is not None:
            with self.reporter.guard("Stopping running tasks"):
                self.executor.shutdown(wait=True, cancel=True)
            self.executor = None
        self.actions_.set_executor(None)
        self.actions_.set_session(None, None)
        self.work.attach(None)
        self._hook_graph(None)
        self.view.set_graph(None)
        for p in self.panels:
            p.set_session(None)
        self.session.close()
        self.session.deleteLater()
        self.session = None
        self._period.stop()
        self.dynamics.detach()
        self._update_for_session()

    def _hook_graph(self, graph: Any) -> None:
        if self._graph_hooked is not None:
            self._graph_hooked.events.changed.disconnect(self._on_graph_changed)
        self._graph_hooked = graph
        if graph is not None:
            graph.events.changed.connect(self._on_graph_changed)

    def _save_camera(self) -> None:
        if self.session is not None:
            try:
                self.settings.set_camera(self.session.root, self.view.camera_state())
            except Exception:  # noqa: BLE001 - the camera is a convenience
                pass

    def _update_for_session(self) -> None:
        has = self.session is not None
        root = self.session.root if has else None
        self.setWindowTitle(f"{root.name} — {APP_TITLE}" if has else APP_TITLE)
        for name in ("export_png", "export_json", "export_graphml", "export_gexf", "fit", "reset_camera"):
            self.acts[name].setEnabled(has)
        for act in self.graph_menu.actions():
            act.setEnabled(has)
        update_selection_actions(self)
        self._update_counts()
        self._update_undo()
        self.refresh_recent_menu()

    def _update_counts(self) -> None:
        if self.session is None:
            self.counts_label.setText("no workspace")
            return
        g = self.session.graph
        sel = len(g.selected_ids())
        self.counts_label.setText(f"{g.number_of_nodes()} nodes · {g.number_of_edges()} edges"
                                  + (f" · {sel} selected" if sel else ""))

    def _update_undo(self) -> None:
        update_undo_actions(self, self.session.undo if self.session is not None else None)

    def refresh_recent_menu(self) -> None:
        """Rebuild File ▸ Open Recent from the settings."""
        fill_recent_menu(self)

    def choose_workspace(self) -> None:
        """File ▸ Open Folder."""
        start = str(self.session.root) if self.session else str(Path.home())
        path = QFileDialog.getExistingDirectory(self, "Open workspace folder", start)
        if path:
            self.open_workspace(path)

    # ------------------------------------------------------------------ selection
    def select_node(self, node_id: str | None, *, fly: bool = True) -> None:
        """Select ``node_id`` in the view (flying to it); used by every panel."""
        if self.session is None or not node_id or node_id not in self.session.graph:
            return
        self.view.set_selection([node_id], fly=fly)

    def _on_selection(self, ids: list) -> None:
        self._update_counts()
        update_selection_actions(self)
        g = self.session.graph if self.session else None
        nodes = [g.node(i) for i in ids if i in g] if g is not None else []
        self.inspector.show_node(nodes[-1] if nodes else None)
        for p in self.panels:
            if p is not self.inspector:
                p.mirror_selection(nodes)

    def _apply_inspector_text(self, node_id: str, text: str) -> None:
        """The Inspector's Apply: refine in place, or select the new thought a file-backed node's text became."""
        tx = self.actions_.refine_text(node_id, text)
        if tx is None or self.session is None:
            return
        g = self.session.graph
        created = [e.node.id for e in tx.edits if e.op == "add_node" and e.node.id in g]
        if created:
            from orchestrator_gui.model.display import display_text

            origin = g.node(node_id) if node_id in g else None
            self.view.set_selection([created[-1]], fly=True)
            where = f"; {origin.source.file} is unchanged" if origin is not None and origin.source else ""
            self.reporter.info(f"Added “{display_text(g.node(created[-1]).title)[:60]}” as a new thought derived "
                               f"from “{display_text(origin.title if origin else node_id)[:60]}”{where}")
        elif node_id in g:
            self.inspector.show_node(g.node(node_id))  # the applied text is the node's now: nothing pending

    def open_source(self, node_id: str) -> Any:
        """Open a file-backed node's source: the file at its line (read-only), and its item in its panel.

        Returns the source window (``None`` when the node has no file behind it).
        """
        if self.session is None or node_id not in self.session.graph:
            return None
        node = self.session.graph.node(node_id)
        if node.source is None:
            return None
        for title, panel in (("Schedules", self.schedules), ("TODO", self.todo), ("Memory log", self.memory),
                             ("Runs", self.runs), ("Modes", self.modes)):
            if getattr(panel, "FILE", None) == node.source.file:
                self.dock_layout.show_dock(title)
                panel.mirror_selection([node])
                break
        from orchestrator_gui.ui.source_view import SourceView

        root = Path(self.session.root).resolve()
        path = (root / node.source.file).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            self.reporter.info(f"{node.source.file} is not a file in the workspace")
            return None
        old = getattr(self, "_source_view", None)
        if old is not None:
            old.close()
        view = SourceView(path, node.source.file, node.source.line or 1, self)
        self._source_view = view  # one at a time; kept so it is not collected while shown
        view.show()
        return view

    # ------------------------------------------------------------------ graph events
    def _on_graph_changed(self, summary: Any) -> None:
        self._update_counts()
        touched = set(summary.nodes_changed) | set(summary.nodes_added) | set(summary.nodes_removed)
        for key in list(summary.edges_added) + list(summary.edges_removed):
            touched.update(key[:2])
        if summary.activation or summary.attention or summary.all_activation or summary.all_attention:
            self._show_threshold()
            touched.update(summary.activation + summary.attention)
            if summary.all_activation or summary.all_attention:
                touched.add(self.inspector.node_id)
        if self.inspector.node_id:
            if self.session is not None and self.inspector.node_id not in self.session.graph:
                self.inspector.show_node(None)
            else:
                self.inspector.refresh_if_changed(touched)
        if summary.structure_changed:
            self._dynamics_timer.start()

    def _on_files_changed(self, names: list[str]) -> None:
        g = self.session.graph if self.session is not None else None
        nodes = [g.node(i) for i in g.selected_ids()] if g is not None else []
        for p in self.panels:
            p.on_files_changed(names)
            if p is not self.inspector:  # a reload may have put its current row back: the graph decides
                p.mirror_selection(nodes)

    def _on_synced(self, tx: Any) -> None:
        params = tx.provenance.params
        parts = [_count_text(params[k], k) for k in params if k != "workspace" and params[k]]
        self.reporter.info("Graph updated from the files" + (f": {', '.join(map(str, parts))}" if parts else ""))
        self._dynamics_timer.start()  # an edited line re-activates its suppressed node now

    def _on_fleet_offline(self, offline: bool) -> None:
        if offline:  # a state, not news: it stays until something else is said
            self.reporter.info("Fleet database unreachable: graph changes are kept in .orchestrator/fleet-journal.db "
                               "and sent when it is back", 0)
        else:
            self.reporter.info("Fleet database reachable again: offline changes sent")

    def _on_applied(self, tx: Any) -> None:
        self._update_counts()

    def update_dynamics(self) -> None:
        """Recompute activation (and the active/suppressed flags) and attention."""
        if self.session is None:
            return
        with self.reporter.guard("Updating activation"):
            self.dynamics.update()  # suppress / re-activate (undoable), then activation and attention
        self._rescale_threshold()

    def _rescale_threshold(self) -> None:
        """Let the Active ≥ slider reach the graph's highest activation (GUI review #16: it stopped at 2)."""
        g = self.session.graph if self.session is not None else None
        act = g.activation if g is not None and len(g) else None
        top = float(np.nanmax(act)) if act is not None else 0.0
        top = min(max(1.0, np.ceil(top * 10.0) / 10.0), THRESHOLD_MAX)
        value = self.threshold_slider.value()
        self.threshold_slider.setMaximum(round(top * 100))
        if self.threshold_slider.value() == value:  # no clamp, no valueChanged: the count may still change
            self._show_threshold()

    def _show_threshold(self) -> None:
        value = self.threshold_slider.value()
        if value == 0:
            self.threshold_label.setText("off")
            return
        g = self.session.graph if self.session is not None else None
        active = int(np.count_nonzero(g.activation >= value / 100.0)) if g is not None and len(g) else 0
        self.threshold_label.setText(f"{value / 100.0:.2f} · {active} active")

    def _on_threshold(self, value: int) -> None:
        threshold = value / 100.0
        self._show_threshold()
        self.view.set_activation_threshold(None if value == 0 else threshold)
        self.settings.activation_threshold = threshold

    def _on_activate(self, node_id: str) -> None:
        if self.session is None or node_id not in self.session.graph:
            return
        self.actions_.activate(node_id)
        self.update_dynamics()
        self.view.fly_to(node_id)

    # ------------------------------------------------------------------ context menu
    def build_context_menu(self, ids: list[str]) -> QMenu:
        """The 3D view's context menu for ``ids`` (tests trigger its actions directly)."""
        return build_context_menu(self, ids)

    def _on_context_menu(self, ids: list, pos: QPoint) -> None:
        self.build_context_menu(list(ids)).popup(pos)

    def selected_ids(self) -> list[str]:
        """Ids selected in the graph."""
        return list(self.session.graph.selected_ids()) if self.session else []

    # ------------------------------------------------------------------ background work
    def _run_schedule(self, schedule_id: str) -> None:
        from orchestrator_gui.ui.loop_control import NEWS_MS

        control = self.run_control
        question = control.dry_run_question(schedule_id)
        if question is not None and not self.prompter.confirm("Run now: no runner", question, ok="Run as dry run"):
            self.reporter.info("Run now cancelled: nothing was started", NEWS_MS)  # no runner: asked first
            return
        handle = control.run_now(schedule_id)
        dry = question is not None
        self.work.name(handle.task_id, f"{'Dry run' if dry else 'Run'} “{handle.task.title}”")
        self.reporter.info(f"{'Dry run of' if dry else 'Started'} “{handle.task.title}” now")

    def toggle_loop(self, on: bool) -> None:
        """Tools ▸ Run the loop here: asks first (a Roo scheduler in VS Code would fire the same schedules)."""
        from orchestrator_gui.ui.loop_control import TWO_SCHEDULERS_WARNING

        control = self.run_control
        if control is None:
            self._on_looping(False)
            self.reporter.info("Run the loop here: no workspace open, or its execution engine is unavailable")
            return
        if on and not control.looping and not self.prompter.confirm("Run the loop here", TWO_SCHEDULERS_WARNING,
                                                                     ok="Run the loop"):
            self._on_looping(False)
            return
        control.set_looping(on)

    def _on_approved(self, _approval_id: str) -> None:
        """An approved run starts now, not at the loop's next tick (the loop's gate finds the approval)."""
        if self.run_control is not None and self.run_control.looping:
            self.run_control.turn()

    def _on_looping(self, on: bool) -> None:
        act = self.acts["run_loop"]
        if act.isChecked() != on:
            act.blockSignals(True)
            act.setChecked(on)
            act.blockSignals(False)

    def cancel_work(self) -> None:
        """Cancel running transforms and tasks (status bar button)."""
        self.work.cancel()

    # ------------------------------------------------------------------ view menu
    def set_visibility(self, key: str, on: bool) -> None:
        """Show or hide shells, edges, labels or suppressed nodes."""
        self._visibility[key] = on
        self.view.set_visibility(**{key: on})
        self.settings.set_visibility(self._visibility)

    def set_theme(self, name: str) -> None:
        """Switch the light/dark theme of the widgets and the 3D view."""
        self.theme = themes.apply_theme(QApplication.instance(), name)
        self.view.set_theme(self.theme)
        self.settings.theme = self.theme
        self.acts["dark"].setChecked(self.theme == "dark")
        self.acts["dark"].setIconText(f"Theme: {self.theme.capitalize()}")
        for p in self.panels:  # colours computed from the palette at fill time
            if p.session is not None:
                p.reload()

    def reset_layout(self) -> None:
        """View ▸ Reset Layout: the default dock arrangement, now (and forget the saved one)."""
        self.dock_layout.reset()
        self.settings.clear_window()
        self.reporter.info("Panels back in their default places")

    def set_graph_only(self, on: bool) -> None:
        """View ▸ Graph Only (F11): hide every dock, or bring them back as they were."""
        self.dock_layout.set_graph_only(on)

    # ------------------------------------------------------------------ export (see ui/export.py)
    def prepare_screenshot(self) -> None:
        """Fit the view and select the most active open TODO item, so a screenshot shows the panels in use."""
        export.prepare_screenshot(self)

    def grab_window(self) -> QPixmap:
        """The whole window as a pixmap, with the 3D view drawn at full detail."""
        return export.grab_window(self)

    def save_screenshot(self, path: str | os.PathLike[str]) -> bool:
        """Write the window as a PNG; False (reported) on failure."""
        return export.save_screenshot(self, path)

    def export_screenshot_dialog(self) -> None:
        export.screenshot_dialog(self)

    def export_graph(self, path: str | os.PathLike[str], fmt: str) -> bool:
        """Export the graph as JSON, GraphML or GEXF; False (reported) on failure."""
        return export.export_graph(self, path, fmt)

    def export_graph_dialog(self, fmt: str) -> None:
        export.graph_dialog(self, fmt)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Save layout and camera, stop the workers, close the store; the graph has no unsaved work."""
        if self.persist_layout:
            self.settings.save_window(self, self.dock_layout.state(), LAYOUT_VERSION)
        for build in self._graph_builds.values():  # a build started ahead is let finish: its store stays whole
            build.wait(events=False)
        self._graph_builds.clear()
        self.close_workspace()
        self.settings.sync()
        try:
            self.view.close()
        finally:
            super().closeEvent(event)


def _count_text(value: Any, key: str) -> str:
    """``(1, "nodes_added")`` -> ``"1 node added"`` (a sync's counts for the status bar)."""
    words = key.split("_")
    if isinstance(value, int) and words and words[0].endswith("s"):
        return " ".join([plural(value, words[0][:-1]), *words[1:]])
    return f"{value} {' '.join(words)}"
