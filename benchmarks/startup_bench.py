"""Where a cold start of the app goes, in GUI-thread CPU time: less load-sensitive than the wall clock.

Usage: ``python benchmarks/startup_bench.py [--runs N] [--json]``

``packaging/measure_start.py`` times the bundle from outside (wall clock to
the first screen poll that shows the graph), which on a shared 2-core
machine swings with everyone else's load. This script starts the source
install the same way (``--demo --screenshot FILE --size 1280x800``, empty
``XDG_*`` folders: the demo is copied and its graph built, the shader caches
are empty) in a fresh interpreter per run under a private Xvfb, with hooks
added from outside the app, and reports for the GUI thread (seconds):

* ``*_main_cpu_s``: the GUI thread's own CPU time at each phase's end:
  ``imports`` (the command line and the main window's modules),
  ``window`` (the main window built), ``shown`` (the window's first frame),
  ``opened`` (the demo open: graph, panels), ``first_graph_frame`` (the
  first frame drawn after the view was given the demo graph; it may come
  before ``opened`` ends).
  On an idle machine the GUI thread is the critical path: the other
  threads (the graph build worker, llvmpipe's rasterizers) fit on the second core.
* ``first_graph_frame_process_cpu_s``: all threads of the process;
* ``first_graph_frame_wall_s``: the wall clock (from interpreter start) for reference.

Medians over ``--runs`` (1-20, default 3). Prints one flat JSON object with ``--json``.
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

PHASES = ("imports", "window", "shown", "opened", "first_graph_frame")
MAX_RUNS = 20
RUN_TIMEOUT_S = 120
_MARK = "STARTUP-BENCH "


def _child(shot: str) -> None:
    """Run the app once in this interpreter, printing the phase stamps as one JSON line."""
    t0 = time.perf_counter()
    stamps: dict[str, float] = {}

    def stamp(name: str) -> None:
        if name not in stamps:
            stamps[f"{name}_main_cpu_s"] = time.thread_time()
            stamps[name] = 1.0
            if name == "first_graph_frame":
                stamps["first_graph_frame_process_cpu_s"] = time.process_time()
                stamps["first_graph_frame_wall_s"] = time.perf_counter() - t0

    import orchestrator_gui.app as app
    from orchestrator_gui.cli import main as cli_main
    from orchestrator_gui.ui import graph_view, main_window

    stamp("imports")
    import vispy.app.backends._pyside6  # noqa: F401 - registers the Qt backend module _qt reads
    from vispy.app.backends import _qt

    state = {"graph": False}
    real_init, real_open, real_paint = app.OrchestratorApp.__init__, main_window.MainWindow.open_workspace, \
        _qt.CanvasBackendDesktop.paintGL
    real_set_graph = graph_view.GraphView.set_graph

    def init(self, *a, **k):
        real_init(self, *a, **k)
        stamp("window")

    def open_ws(self, *a, **k):
        ok = real_open(self, *a, **k)
        stamp("opened")
        return ok

    def set_graph(self, graph, *a, **k):
        real_set_graph(self, graph, *a, **k)
        state["graph"] = state["graph"] or (graph is not None and graph.number_of_nodes() > 0)

    def paint(self, *a):
        real_paint(self, *a)
        stamp("shown")
        if state["graph"]:  # the first frame drawn once the view has the demo graph
            stamp("first_graph_frame")

    app.OrchestratorApp.__init__ = init
    main_window.MainWindow.open_workspace = open_ws
    _qt.CanvasBackendDesktop.paintGL = paint
    graph_view.GraphView.set_graph = set_graph
    code = cli_main.main(["--demo", "--screenshot", shot, "--size", "1280x800"])
    print(_MARK + json.dumps({k: round(v, 3) for k, v in stamps.items() if k.endswith("_s")}), flush=True)
    sys.exit(code)


def _one_run(tmp: Path) -> dict[str, float]:
    env = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp / var.lower())
    env.pop("QT_QPA_PLATFORM", None)
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        raise SystemExit("error: xvfb-run is not installed (apt-get install xvfb)")
    cmd = [xvfb_run, "-a", "-s", "-screen 0 1344x1088x24", sys.executable, __file__, "--child", str(tmp / "shot.png")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(_MARK)]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"error: the app run failed (status {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    result = json.loads(lines[-1][len(_MARK):])
    missing = [p for p in PHASES if f"{p}_main_cpu_s" not in result]
    if missing:
        raise SystemExit(f"error: the run never reached {', '.join(missing)}")
    return result


def main(argv: list[str] | None = None) -> int:
    """Measure; returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help=f"cold starts, 1-{MAX_RUNS} (default 3)")
    p.add_argument("--json", action="store_true", help="print one flat JSON object")
    p.add_argument("--child", metavar="SHOT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.child)
    if not 1 <= args.runs <= MAX_RUNS:
        p.error(f"--runs must be 1-{MAX_RUNS}")
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
            runs.append(_one_run(Path(tmp)))
    out: dict[str, float | int | str] = {"runs": len(runs), "load_average_1m": round(os.getloadavg()[0], 2)}
    for key in runs[0]:
        out[key] = round(statistics.median(r[key] for r in runs), 3)
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
