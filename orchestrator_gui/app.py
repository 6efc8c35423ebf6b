"""The desktop application: wires settings, theme, main window and the first workspace together.

``orchestrator-gui [WORKSPACE]``, ``orchestrator-gui --demo`` and
``--screenshot FILE [--size WxH] [--select ID] [--focus ID --depth N]
[--graph-only]`` end up in :func:`run_gui`. Nothing here is
a global: :class:`OrchestratorApp` owns the objects and passes them on.

On a machine without a display the GUI cannot open a window; a screenshot
is then taken under ``xvfb-run`` automatically when it is installed, and
anything else fails with a one-line message instead of Qt's abort.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: Environment variable set when the app re-runs itself under xvfb-run (prevents a loop).
_XVFB_MARK = "ORCHESTRATOR_GUI_XVFB"
DEFAULT_SCREENSHOT_SIZE = (1600, 1000)
#: Focus mode's depths (hops around the focused node).
FOCUS_DEPTHS = (1, 2, 3)
#: Longest wait for the camera and the focus transition to come to rest before a screenshot (ms).
SETTLE_TIMEOUT_MS = 5000
#: The interpreter's thread switch interval in the GUI process (CPython's default is 5 ms).
GUI_SWITCH_INTERVAL_S = 0.0005


def tune_interpreter_for_gui() -> None:
    """Shorten the thread switch interval of this process to :data:`GUI_SWITCH_INTERVAL_S`.

    Why: nearly every PySide6 call lets go of the GIL, and while worker
    threads run Python code (transforms, the engine's bookkeeping) the GUI
    thread then waits up to one switch interval to get it back: about 2 ms
    per ``Signal.emit`` with two busy threads, measured. With 5 ms, 100
    parallel transforms held the GUI's events back ~75 ms at the 99th
    percentile (engine_bench); with 0.5 ms, ~23 ms, for the same total
    transform time.
    """
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)


@dataclass
class GuiOptions:
    """What the command line asked the GUI to do."""

    workspace: str | None = None
    demo: bool = False
    screenshot: str | None = None
    size: tuple[int, int] | None = None
    #: Screenshot: the node to select and fly to.
    select: str | None = None
    #: Screenshot: the node focus mode shows, and how many hops around it.
    focus: str | None = None
    depth: int = 1
    #: Screenshot: hide every dock.
    graph_only: bool = False


class ScreenshotError(ValueError):
    """A screenshot option names something the workspace does not have (a node id), or a missing feature."""


def parse_size(text: str) -> tuple[int, int]:
    """``"1600x1000"`` -> ``(1600, 1000)``; raises ``ValueError`` with a readable message."""
    m = re.fullmatch(r"\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*", text or "")
    if not m:
        raise ValueError(f"--size must look like 1600x1000, not {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if not (320 <= w <= 8192 and 240 <= h <= 8192):
        raise ValueError(f"--size {w}x{h} is out of range (320x240 to 8192x8192)")
    return w, h


def has_display() -> bool:
    """Whether Qt can open windows here (a display, or an explicitly chosen platform plugin)."""
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def _rerun_under_xvfb(argv: Sequence[str], size: tuple[int, int]) -> int | None:
    """Run the same command under ``xvfb-run``; ``None`` when that is not possible."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None or os.environ.get(_XVFB_MARK):
        return None
    screen = f"-screen 0 {max(size[0], 1280) + 64}x{max(size[1], 1024) + 64}x24"
    env = dict(os.environ, **{_XVFB_MARK: "1"})
    # In a frozen bundle sys.executable is the app itself (it takes no "-m").
    me = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "orchestrator_gui.cli.main"]
    cmd = [xvfb, "-a", "-s", screen, *me, *argv]
    return subprocess.call(cmd, env=env)


def start_local_api(live):
    """Serve ``live`` with the local API on a thread of this process; returns the server's handle.

    What Tools ▸ Local API calls. It lives here, above the faces, because
    ``ui`` and ``api`` must not import each other; the API package is
    imported only when the user starts the server, not at start-up.
    """
    from orchestrator_gui.api.embedded import start_local_server

    return start_local_server(live)


def wire_local_api(window) -> None:
    """Give ``window`` the callable its Tools ▸ Local API starts the server with (:func:`start_local_api`)."""
    window.local_api_factory = start_local_api


class OrchestratorApp:
    """The application's objects, created once per process and passed to whoever needs them.

    Parameters
    ----------
    qapp : QApplication
    settings : AppSettings, optional
        Default: the per-user settings file.
    restore_layout : bool
        Restore the saved window layout (screenshots use the default one).
    """

    def __init__(self, qapp, settings=None, *, restore_layout: bool = True) -> None:
        from orchestrator_gui.ui import theme
        from orchestrator_gui.ui.main_window import MainWindow
        from orchestrator_gui.ui.settings import AppSettings

        self.qapp = qapp
        self.settings = settings or AppSettings()
        theme.apply_theme(qapp, self.settings.theme)
        self.window = MainWindow(self.settings, restore_layout=restore_layout)
        wire_local_api(self.window)

    def prepare_initial(self, options: GuiOptions) -> None:
        """Start what :meth:`open_initial` will wait for, before the window is shown: the demo's first graph build.

        The build then runs on a worker while the window draws its first frames (see ``ui/graph_prebuild.py``).
        """
        if not options.demo and (options.workspace or self.settings.last_workspace()):
            return
        from orchestrator_gui.demo import demo_workspace

        try:
            self.window.start_graph_build(demo_workspace())
        except OSError:
            pass  # open_demo meets it again and reports it

    def open_initial(self, options: GuiOptions) -> bool:
        """Open what the options ask for: a folder, the demo, or the last workspace (else the demo)."""
        win = self.window
        if options.demo:
            return win.open_demo()
        if options.workspace:
            # A screenshot runs unattended: no question, and nothing written to the folder for it.
            return win.open_workspace(options.workspace, keep_graph=False if options.screenshot else None)
        last = self.settings.last_workspace()
        if last and win.open_workspace(last):
            return True
        return win.open_demo()

    def screenshot(self, path: str, size: tuple[int, int], options: GuiOptions | None = None) -> bool:
        """Show the window at ``size``, set up the view as ``options`` ask, wait until it is drawn, save the PNG.

        Raises
        ------
        ScreenshotError
            ``options`` name a node the workspace does not have, or focus mode is not available.
        """
        from PySide6.QtTest import QTest

        options = options or GuiOptions()
        win = self.window
        self._check_nodes(options)
        win.persist_layout = False  # a screenshot must not change the user's saved layout
        win.resize(*size)
        win.show()
        QTest.qWaitForWindowExposed(win, 5000)
        if options.graph_only:
            win.set_graph_only(True)
        if options.select:
            win.view.set_selection([options.select], fly=False)
        win.prepare_screenshot()  # fits the view; selects a node only when none is selected
        if options.select:
            win.view.fly_to(options.select)
        if options.focus:
            win.view.set_focus(options.focus, options.depth)
        # Let the flights and the focus transition end, the debounced buffer update run and the
        # panels' layouts settle.
        scene = getattr(win.view, "scene", None)
        for _ in range(SETTLE_TIMEOUT_MS // 20):
            if scene is None or not scene.animating:
                break
            QTest.qWait(20)
        for _ in range(10):
            self.qapp.processEvents()
            QTest.qWait(30)
        return win.save_screenshot(path)

    def _check_nodes(self, options: GuiOptions) -> None:
        session = self.window.session
        for flag, node_id in (("--select", options.select), ("--focus", options.focus)):
            if node_id and (session is None or node_id not in session.graph):
                raise ScreenshotError(f"{flag}: no node {node_id!r} in this workspace "
                                      "(`orchestrator-gui graph query TEXT` lists ids)")
        if options.focus and not hasattr(self.window.view, "set_focus"):
            raise ScreenshotError("--focus: focus mode is not available")
        if options.focus and options.depth not in FOCUS_DEPTHS:
            raise ScreenshotError(f"--depth must be 1, 2 or 3, not {options.depth}")


def run_gui(options: GuiOptions, argv: Sequence[str] = ()) -> int:
    """Start the desktop app; returns the process exit status.

    Parameters
    ----------
    options : GuiOptions
    argv : sequence of str
        The original arguments (used to re-run under ``xvfb-run`` when headless).
    """
    size = options.size or DEFAULT_SCREENSHOT_SIZE
    if not has_display():
        if options.screenshot:
            code = _rerun_under_xvfb(argv, size)
            if code is not None:
                return code
        print("error: no display to open a window on. Set DISPLAY, or run under xvfb-run; "
              "`orchestrator-gui --demo --screenshot FILE` works headless when xvfb-run is installed.",
              file=sys.stderr)
        return 1
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        print(f"error: the desktop app needs PySide6 ({exc}); install it with: pip install PySide6-Essentials vispy",
              file=sys.stderr)
        return 1
    from orchestrator_gui.ui.errors import install_excepthook

    tune_interpreter_for_gui()
    qapp = QApplication.instance() or QApplication(["orchestrator-gui"])
    qapp.setApplicationName("orchestrator-gui")
    qapp.setOrganizationName("LoopOrchestrator")
    qapp.setApplicationDisplayName("Loop Orchestrator")
    app = OrchestratorApp(qapp, restore_layout=not options.screenshot)
    install_excepthook(app.window.reporter)
    if options.screenshot:
        out = Path(options.screenshot)
        # Shown first, as for a user: the window draws (and compiles its shaders) while the graph builds.
        app.window.persist_layout = False
        app.window.resize(*size)
        app.prepare_initial(options)
        app.window.show()
        if not app.open_initial(options):
            print(f"error: {app.window.reporter.last or 'cannot open the workspace'}", file=sys.stderr)
            app.window.close()
            return 1
        try:
            ok = app.screenshot(str(out), size, options)
        except ScreenshotError as exc:
            print(f"error: {exc}", file=sys.stderr)
            app.window.close()
            return 1
        app.window.close()
        if not ok:
            print(f"error: cannot write {out}", file=sys.stderr)
            return 1
        print(f"screenshot saved to {out}")
        return 0
    app.prepare_initial(options)
    app.window.show()
    app.open_initial(options)
    from orchestrator_gui.ui.tour import start_on_first_run

    start_on_first_run(app.window)  # the guided tour, once, on the demo (Help ▸ Take the Tour reopens it)
    return int(qapp.exec())


__all__ = ["DEFAULT_SCREENSHOT_SIZE", "FOCUS_DEPTHS", "GUI_SWITCH_INTERVAL_S", "GuiOptions", "OrchestratorApp",
           "ScreenshotError", "has_display", "parse_size", "run_gui", "start_local_api", "tune_interpreter_for_gui",
           "wire_local_api"]
