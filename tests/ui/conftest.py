"""GUI tests run against a real X server so OpenGL draws pixels.

``QT_QPA_PLATFORM=offscreen`` gives the vispy canvas no GL context (see
docs/rendering.md §2.1), so when ``DISPLAY`` is unset this starts one
private Xvfb for the whole session (``-displayfd`` lets the server pick a
free display number and tells us once it accepts connections, so nothing
sleeps).  Without Xvfb installed and no display, every test here is skipped
with that reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

_XVFB: subprocess.Popen | None = None
_SKIP_REASON: str | None = None


def _start_xvfb() -> None:
    global _XVFB, _SKIP_REASON
    if os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        return
    if shutil.which("Xvfb") is None:
        _SKIP_REASON = "GUI tests need an X display: Xvfb is not installed and DISPLAY is unset"
        return
    read_fd, write_fd = os.pipe()
    try:
        _XVFB = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()  # written once the server is ready
    except OSError as exc:
        _SKIP_REASON = f"could not start Xvfb: {exc}"
        return
    if not number:
        _SKIP_REASON = "Xvfb did not start (no display number reported)"
        return
    os.environ["DISPLAY"] = f":{number}"
    os.environ["QT_QPA_PLATFORM"] = "xcb"


def pytest_configure(config: pytest.Config) -> None:
    # Before any QApplication exists (pytest-qt creates it lazily in the qapp fixture).
    _start_xvfb()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _XVFB is not None:
        _XVFB.terminate()
        try:
            _XVFB.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _XVFB.kill()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _SKIP_REASON is None:
        return
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.skip(reason=_SKIP_REASON))


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window showing the user's demo copy (see window_helpers.make_window)."""
    from window_helpers import make_window

    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    yield win
    win.close()


@pytest.fixture
def demo_view(qtbot, tmp_path):
    """``demo_view(width, height)``: a shown GraphView on a fresh build of a copy of the demo workspace."""
    import shutil

    from orchestrator_gui.demo import BUNDLED_DEMO
    from orchestrator_gui.migration import build_graph
    from orchestrator_gui.ui.graph_view import GraphView

    def make(width: int = 900, height: int = 700) -> GraphView:
        ws = tmp_path / "demo"
        if not ws.exists():
            shutil.copytree(BUNDLED_DEMO, ws)
        v = GraphView()
        qtbot.addWidget(v)
        v.resize(width, height)
        v.set_graph(build_graph(ws))
        v.show()
        qtbot.waitExposed(v)
        qtbot.waitUntil(lambda: v.canvas.size == (v.canvas.native.width(), v.canvas.native.height()))
        return v
    return make
