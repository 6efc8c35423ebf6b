"""Benchmark of the 3D view: drives the real GraphView (Qt + vispy) under X and prints figures.

Usage::

    python benchmarks/render_bench.py [--json] [--sizes 10000:50000,100000:500000] [--seconds 2]

Without ``DISPLAY`` it starts a private Xvfb (1280x1024x24); OpenGL is
whatever the X server offers (Mesa llvmpipe on the reference machine).
The view is 800x600, like the baseline in docs/rendering.md §5.1.

Graphs: the model benchmark's synthetic graph (``graph_bench.synthetic_columns``:
an 8-ary hierarchy plus local and random cross links) placed by the model's
own layout, so most edges are long chords across the shells -- the costly
case.  A ``short`` variant links each node to its nearest neighbours in space
instead (``--short``).

Figures per size ``N`` (k = thousands of nodes):

* ``fps_rotating_<N>``: frames per second while the camera turns (level of
  detail on: edge subset, small markers), each frame a synchronous repaint;
* ``full_detail_s_<N>``: from the last camera move until every edge is on
  screen (under software GL the still frame's edges are built up off-screen
  in ~15 ms steps and shown as one image); ``full_detail_block_ms_<N>``: the
  longest main-thread stall meanwhile;
* ``still_frame_ms_<N>``: one frame of the settled view (edge image complete);
* ``pick_ms_<N>``: median ``pick_at`` right after a camera change (projection
  of every node included); ``hover_pick_ms_<N>``: the same with the
  projection cached (the hover case);
* ``set_graph_ms_<N>``: upload of a whole graph into the GPU buffers;
* ``first_frame_s_demo``: a fresh interpreter, from process start to the first
  frame of GraphView on the demo workspace (imports, copy, build included);
* ``max_ui_block_ms`` (demo graph) and ``max_ui_block_ms_<N>``: the longest
  main-thread stall seen by a 5 ms heartbeat while a burst of transactions
  (add a child, change activation, grow animation) is applied every 40 ms,
  each followed by its buffer update and redraw, until the last animation
  ends; ``settle_block_ms_*``: the longest stall in the quiet second after,
  which holds the one full-detail frame of the settled view.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

_XVFB: subprocess.Popen | None = None


def ensure_display() -> None:
    """Start a private Xvfb when there is no display (the canvas needs a real GL context)."""
    global _XVFB
    if not os.environ.get("DISPLAY"):
        r, w = os.pipe()
        _XVFB = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                 pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as pipe:
            os.environ["DISPLAY"] = ":" + pipe.readline().strip()
    os.environ["QT_QPA_PLATFORM"] = "xcb"


def make_graph(n: int, m: int, short: bool):
    from graph_bench import synthetic_columns

    from orchestrator_gui.model import ThoughtGraph

    cols = synthetic_columns(n, m)
    g = ThoughtGraph.from_arrays(cols.pop("ids"), cols.pop("kinds"), now=1.7e9, **cols)
    if not short:
        return g
    from scipy.spatial import cKDTree

    pos = g.positions
    k = max(1, round(m / n))
    _, nn = cKDTree(pos).query(pos, k=k + 1)
    src = np.repeat(np.arange(n), k)
    dst = nn[:, 1:].ravel()
    rng = np.random.default_rng(3)
    return ThoughtGraph.from_arrays(
        [f"n{i}" for i in range(n)], g.kind_index, spherical=g.spherical, now=1.7e9,
        edge_src=src, edge_dst=dst, edge_types=["similar"] * len(src), edge_weights=rng.random(len(src)),
    )


def repaint_ms(app, view) -> float:
    t = time.perf_counter()
    view.canvas.native.repaint()
    app.processEvents()
    return (time.perf_counter() - t) * 1000


def measure_size(app, view, n: int, m: int, seconds: float, short: bool) -> dict:

    g = make_graph(n, m, short)
    t = time.perf_counter()
    view.set_graph(g, fit=True)
    set_graph_ms = (time.perf_counter() - t) * 1000
    scene, cam = view.scene, view.scene.camera
    # Warm-up: the adaptive detail settles on this machine's frame rate within a few frames.
    for _ in range(20):
        cam.azimuth += 1.0
        repaint_ms(app, view)
    moving = scene.stats()
    frames, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or frames < 5:
        cam.azimuth += 2.0
        repaint_ms(app, view)
        frames += 1
    fps = frames / (time.perf_counter() - t0)
    # The camera stops: time until every edge is on screen (the progressive
    # image under software GL), watching the main thread meanwhile.
    full_s, settle_gap = full_detail_s(app, view)
    assert not scene.moving
    still = min(repaint_ms(app, view) for _ in range(2))
    still_edges = scene.stats()["edges_drawn"]
    rng = np.random.default_rng(5)
    w, h = view.canvas.size
    cold, warm = [], []
    for _ in range(15):
        cam.azimuth += 3.0  # new pose: the projection must be recomputed
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        t = time.perf_counter()
        scene.pick_at(x, y)
        cold.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        scene.pick_at(x + 1, y)
        warm.append((time.perf_counter() - t) * 1000)
    block, settle = ui_block_ms(app, view, g, bursts=25)
    k = f"{n // 1000}k"
    return {
        f"fps_rotating_{k}": round(fps, 1),
        f"rotating_detail_{k}": round(moving["detail"], 3),
        f"rotating_nodes_drawn_{k}": moving["nodes_drawn"],
        f"rotating_edges_drawn_{k}": moving["edges_drawn"],
        f"still_frame_ms_{k}": round(still, 1),
        f"still_edges_drawn_{k}": still_edges,
        f"full_detail_s_{k}": round(full_s, 3),
        f"full_detail_block_ms_{k}": round(settle_gap, 1),
        f"pick_ms_{k}": round(statistics.median(cold), 2),
        f"hover_pick_ms_{k}": round(statistics.median(warm), 3),
        f"set_graph_ms_{k}": round(set_graph_ms, 1),
        f"max_ui_block_ms_{k}": round(block, 1),
        f"settle_block_ms_{k}": round(settle, 1),
        f"edges_{k}": g.number_of_edges(),
    }


def full_detail_s(app, view, timeout_s: float = 30.0) -> tuple[float, float]:
    """Seconds from the last camera move until every edge is drawn, and the longest main-thread stall meanwhile.

    The stall is measured like ``max_ui_block_ms`` (a 5 ms heartbeat); it
    covers the settle delay, the progressive edge steps and the frames that
    show the image.
    """
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    scene = view.scene
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]
    worst = [0.0]

    def beat():
        now = clock.nsecsElapsed()
        worst[0] = max(worst[0], (now - last[0]) / 1e6 - 5.0)
        last[0] = now
    heart = QTimer()
    heart.setTimerType(heart.timerType().PreciseTimer)
    heart.timeout.connect(beat)
    heart.start(5)
    scene.camera.azimuth += 1.0
    t0 = time.perf_counter()
    loop = QEventLoop()
    poll = QTimer()
    total = scene.stats()["edges"]

    def check():
        st = scene.stats()
        if (not st["moving"] and st["edges_drawn"] >= total) or time.perf_counter() - t0 > timeout_s:
            loop.quit()
    poll.timeout.connect(check)
    poll.start(2)
    loop.exec()
    poll.stop()
    heart.stop()
    return time.perf_counter() - t0, max(worst[0], 0.0)


def ui_block_ms(app, view, g, bursts: int = 40, every_ms: int = 40) -> tuple[float, float]:
    """Longest main-thread stalls (ms, beyond the 5 ms heartbeat period) while and after transactions apply.

    Returns ``(during, after)``: *during* covers the bursts and the growth
    animations they start (until the last animation has ended); *after* is
    the quiet second that follows, where the one full-detail frame of the
    settled view is drawn.
    """
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from orchestrator_gui.model import operations as ops

    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]
    worst = {"during": 0.0, "after": 0.0}
    phase = ["during"]

    def beat():
        now = clock.nsecsElapsed()
        worst[phase[0]] = max(worst[phase[0]], (now - last[0]) / 1e6 - 5.0)
        last[0] = now

    rng = np.random.default_rng(11)
    count = [0]
    loop = QEventLoop()
    ids = g.node_ids()

    def burst():
        if count[0] >= bursts:
            loop.quit()
            return
        count[0] += 1
        parent = ids[int(rng.integers(0, len(ids)))]
        child = f"bench-{count[0]}-{time.monotonic_ns()}"
        g.apply(ops.add_thought(g, f"idea {count[0]}", parent=parent, node_id=child, now=1.7e9 + count[0]))
        g.set_activation(rng.random(8), [ids[int(i)] for i in rng.integers(0, len(ids), 8)])
        view.animate_growth(parent, [child])

    heart = QTimer()
    heart.setTimerType(heart.timerType().PreciseTimer)
    heart.timeout.connect(beat)
    work = QTimer()
    work.timeout.connect(burst)
    heart.start(5)
    work.start(every_ms)
    loop.exec()
    work.stop()
    wait = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: None if view.scene.animating else wait.quit())
    poll.start(5)
    wait.exec()
    poll.stop()
    phase[0] = "after"
    end = QEventLoop()
    QTimer.singleShot(1000, end.quit)
    end.exec()
    heart.stop()
    return max(worst["during"], 0.0), max(worst["after"], 0.0)


_FIRST_FRAME = r"""
import os, sys, time, tempfile, shutil
start = float(sys.argv[1])
sys.path.insert(0, sys.argv[2])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from orchestrator_gui.demo import demo_workspace
from orchestrator_gui.migration import build_graph
from orchestrator_gui.ui.graph_view import GraphView
g = build_graph(demo_workspace())
v = GraphView()
v.resize(800, 600)
done = []
def drawn(event):
    if not done:
        done.append(time.time() - start)
        print(f"{done[0]:.3f}", flush=True)
        # The first frame may come before exec() starts: quit from the loop, not from paintGL.
        QTimer.singleShot(0, app.quit)
v.canvas.events.draw.connect(drawn, position="last")
v.set_graph(g)
v.show()
app.exec()
v.close()
"""


def first_frame_s() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, XDG_DATA_HOME=tmp)
        start = time.time()
        out = subprocess.run([sys.executable, "-c", _FIRST_FRAME, str(start), str(ROOT)], env=env,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0 or not out.stdout.strip():
            raise RuntimeError(f"first-frame child failed: {out.stderr[-2000:]}")
        return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print one flat JSON object")
    ap.add_argument("--sizes", default="10000:50000,100000:500000", help="nodes:edges,... (default %(default)s)")
    ap.add_argument("--seconds", type=float, default=2.0, help="rotation time per size")
    ap.add_argument("--short", action="store_true", help="nearest-neighbour edges instead of the model's graph")
    args = ap.parse_args(argv)
    ensure_display()
    from PySide6.QtWidgets import QApplication

    from orchestrator_gui.migration import build_graph
    from orchestrator_gui.ui.graph_view import GraphView

    app = QApplication.instance() or QApplication([])
    out: dict = {"first_frame_s_demo": round(first_frame_s(), 3)}
    view = GraphView()
    view.resize(800, 600)
    view.show()
    for _ in range(5):
        app.processEvents()
    tmp = tempfile.mkdtemp()
    try:
        shutil.copytree(ROOT / "orchestrator_gui" / "resources" / "demo", Path(tmp) / "demo")
        demo = build_graph(Path(tmp) / "demo")
        view.set_graph(demo, fit=True)
        repaint_ms(app, view)
        block, settle = ui_block_ms(app, view, demo)
        out["max_ui_block_ms"] = round(block, 1)
        out["settle_block_ms_demo"] = round(settle, 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for spec in args.sizes.split(","):
        n, m = (int(x) for x in spec.split(":"))
        out.update(measure_size(app, view, n, m, args.seconds, args.short))
    from vispy import gloo

    out["gl_renderer"] = gloo.gl.glGetParameter(gloo.gl.GL_RENDERER) if view.canvas.context else "?"
    out["canvas"] = "x".join(map(str, view.canvas.size))
    out["edge_variant"] = "short (nearest neighbours)" if args.short else "model synthetic (mostly long chords)"
    view.close()
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:28s} {value}")
    sys.stdout.flush()
    if _XVFB is not None:
        # Exit before Qt can notice its X server going away (it would print an I/O error).
        _XVFB.terminate()
        os._exit(0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
