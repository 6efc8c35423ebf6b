"""Readability of the 3D view: labels, room for the canvas, grouping, hover latency -- in the real window.

Usage::

    python benchmarks/readability_bench.py [--json]

Without ``DISPLAY`` it starts a private Xvfb. It opens the main window on a
copy of the demo workspace at 1600x1000 (and 1280x800), then shows the
synthetic 10k-node graph of ``render_bench`` in the same window's view.
Prints one flat JSON object (targets in brackets):

* ``labels_visible_demo`` (>= 40): labels on screen at the default view;
* ``label_overlaps_demo``, ``label_overlaps_10k`` (0): pairs of label
  rectangles that intersect;
* ``labels_clipped_demo``, ``labels_clipped_10k`` (0): label rectangles not
  inside the canvas;
* ``canvas_area_fraction_1600``, ``canvas_area_fraction_1280`` (>= 0.55 /
  >= 0.45): canvas widget area over window area, default layout;
* ``neighbour_ratio_demo`` (<= 0.5): mean angle between connected nodes over
  the mean angle between random nodes of the same shell;
* ``hover_highlight_ms_10k`` (< 50): from the pointer move to the frame that
  shows the highlighted neighbourhood, composed on screen (``frameSwapped``;
  median of 15 hovers);
* ``label_layout_ms_10k`` (< 8): placing the labels for one frame (median).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from render_bench import ensure_display, make_graph  # noqa: E402


def overlaps(rects: np.ndarray) -> int:
    """Pairs of rectangles ``(x0, y0, x1, y1)`` that intersect (touching edges do not count)."""
    r = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    if len(r) < 2:
        return 0
    ox = (r[:, None, 0] < r[None, :, 2]) & (r[None, :, 0] < r[:, None, 2])
    oy = (r[:, None, 1] < r[None, :, 3]) & (r[None, :, 1] < r[:, None, 3])
    both = ox & oy
    np.fill_diagonal(both, False)
    return int(both.sum() // 2)


def clipped(rects: np.ndarray, size: tuple[int, int]) -> int:
    """Rectangles not fully inside a canvas of ``size`` (width, height)."""
    r = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    w, h = size
    inside = (r[:, 0] >= 0) & (r[:, 1] >= 0) & (r[:, 2] <= w) & (r[:, 3] <= h)
    return int((~inside).sum())


def settle(app, seconds: float = 0.6) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def canvas_fraction(win) -> float:
    c = win.view.canvas.native
    return (c.width() * c.height()) / float(win.width() * win.height())


def label_figures(app, view) -> tuple[int, int, int]:
    """(visible, overlapping pairs, clipped) of the labels on screen now."""
    view.scene.flush()
    view.canvas.native.repaint()
    app.processEvents()
    layout = view.scene.label_layout()
    size = tuple(int(v) for v in view.canvas.size)
    return len(layout.ids), overlaps(layout.rects), clipped(layout.rects, size)


def hover_ms(app, view, samples: int = 15) -> float:
    """Pointer move over a node -> the highlighted frame is on screen (median ms).

    The clock stops at the canvas' ``frameSwapped`` for the first frame drawn
    after the hover took effect: Qt has then composed it into the window, so
    the figure includes the event, the highlight, the draw and the composition.
    """
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    g = view.graph
    w, h = view.canvas.size
    xy, _ = view.scene.projected()
    on = np.flatnonzero((xy[:, 0] > 30) & (xy[:, 0] < w - 30) & (xy[:, 1] > 30) & (xy[:, 1] < h - 30))
    rng = np.random.default_rng(7)
    swapped: list[float] = []
    view.canvas.native.frameSwapped.connect(lambda: swapped.append(time.perf_counter()))
    mark: list[int] = []  # frames swapped when the hover took effect (emitted right after it)
    view.hovered.connect(lambda nid: mark.append(len(swapped)) if nid else None)
    times = []
    for row in rng.choice(on, size=min(samples, len(on)), replace=False):
        nid = g.id_of(int(row))
        QTest.mouseMove(view.canvas.native, QPoint(3, 3))
        settle(app, 0.3)
        x, y = view.scene.screen_position(nid)
        swapped.clear()
        mark.clear()
        t = time.perf_counter()
        QTest.mouseMove(view.canvas.native, QPoint(round(x), round(y)))
        deadline = t + 2.0
        while time.perf_counter() < deadline and not (mark and len(swapped) > mark[0]):
            app.processEvents()
        if view.scene.hovered is None or not mark or len(swapped) <= mark[0]:
            continue  # another node's disc covers this one here
        times.append((swapped[mark[0]] - t) * 1000)
    return statistics.median(times) if times else float("nan")


def label_layout_ms(app, view, frames: int = 20) -> float:
    """One label placement for the current view (median ms over small camera turns)."""
    times = []
    for _ in range(frames):
        view.scene.camera.azimuth += 1.0
        t = time.perf_counter()
        view.scene.label_layout(recompute=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("--nodes", type=int, default=10_000)
    args = p.parse_args(argv)
    ensure_display()
    from PySide6.QtWidgets import QApplication

    from orchestrator_gui.demo import BUNDLED_DEMO
    from orchestrator_gui.model.layout import neighbour_ratio
    from orchestrator_gui.ui.main_window import MainWindow
    from orchestrator_gui.ui.settings import AppSettings

    app = QApplication.instance() or QApplication(["readability-bench"])
    tmp = Path(tempfile.mkdtemp(prefix="readability-"))
    root = tmp / "demo"
    shutil.copytree(BUNDLED_DEMO, root)
    out: dict = {}
    win = MainWindow(AppSettings.at(tmp / "settings.ini"), restore_layout=False)
    try:
        for w, h in ((1280, 800), (1600, 1000)):
            win.resize(w, h)
            win.show()
            settle(app)
            if win.session is None:
                assert win.open_workspace(root, keep_graph=True)
                settle(app, 1.0)
            out[f"canvas_area_fraction_{w}"] = round(canvas_fraction(win), 3)
        view = win.view
        view.scene.fit()
        settle(app, 1.0)
        out["labels_visible_demo"], out["label_overlaps_demo"], out["labels_clipped_demo"] = label_figures(app, view)
        out["neighbour_ratio_demo"] = round(float(neighbour_ratio(win.session.graph)), 3)
        big = make_graph(args.nodes, 5 * args.nodes, False)
        view.set_graph(big, fit=True)
        settle(app, 1.5)
        _, out["label_overlaps_10k"], out["labels_clipped_10k"] = label_figures(app, view)
        out["label_layout_ms_10k"] = round(label_layout_ms(app, view), 2)
        out["hover_highlight_ms_10k"] = round(hover_ms(app, view), 1)
        view.set_graph(win.session.graph)
    finally:
        win.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:28s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
