"""The path of "Generate" from the 3D view's context menu to the journal, traced in the real window.

Usage::

    python benchmarks/generate_path.py [--json]      # starts its own Xvfb when DISPLAY is unset

It opens a copy of the demo in the main window, runs the context menu's
*Generate* on one TODO item, and records with ``sys.setprofile`` (every
thread) the calls made by the package from the menu slot until the journal
row is written. Printed figures:

* ``calls``: calls into package functions along that path whose caller is
  package code too, counting only the frames on the way to the journal (a
  call whose subtree never reaches the journal write is left out, as are
  pydantic and numpy internals);
* ``layer_crossings``: how many of those calls go from package code in one
  layer (``ui``, ``workspace``, ``engine``, ``model``, ``store``, ...) into
  another (calls made by Qt or the thread pool are not crossings);
* ``thread_hops``: how often the path moves to another thread;
* ``path``: the calls themselves, ``layer:function`` in order.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

PKG = str(HERE.parent / "orchestrator_gui") + os.sep


def _layer(filename: str) -> str | None:
    if not filename.startswith(PKG):
        return None
    rel = filename[len(PKG):]
    return rel.split(os.sep)[0].removesuffix(".py")


def trace_generate() -> dict:
    from PySide6.QtWidgets import QApplication

    from orchestrator_gui.demo import BUNDLED_DEMO
    from orchestrator_gui.ui.main_window import MainWindow
    from orchestrator_gui.ui.settings import AppSettings

    qapp = QApplication.instance() or QApplication(["generate-path"])
    tmp = Path(tempfile.mkdtemp(prefix="generate-path-"))
    root = tmp / "ws"
    shutil.copytree(BUNDLED_DEMO, root)
    win = MainWindow(AppSettings.at(tmp / "settings.ini"), restore_layout=False)
    win.resize(1200, 800)
    win.show()
    assert win.open_workspace(root, keep_graph=True)
    g = win.session.graph
    nid = next(n.id for n in g.nodes() if n.kind.value == "todo")
    menu = win.build_context_menu([nid])
    action = next(a for a in menu.actions() if a.text() == "Generate")

    events: list[tuple] = []  # (thread, event, caller layer, layer, name)
    stacks: dict[int, list] = {}
    journal_hit = threading.Event()

    def prof(frame, event, arg):
        if event not in ("call", "return"):
            return
        code = frame.f_code
        layer = _layer(code.co_filename)
        tid = threading.get_ident()
        stack = stacks.setdefault(tid, [])
        if event == "call":
            caller = next((lay for lay in reversed(stack) if lay is not None), None)
            stack.append(layer)
            if layer is not None:
                events.append((tid, "call", caller, layer, code.co_qualname))
                if code.co_qualname == "GraphStore._journal":
                    journal_hit.set()
        else:
            if stack:
                stack.pop()
            if layer is not None:
                events.append((tid, "return", len(stack) + 1, layer, code.co_qualname))

    # Qt's pool threads are not Python threads: profile each job from inside it.
    from orchestrator_gui.ui import executor_qt

    job_run = executor_qt._Job.run

    def profiled_run(self):
        sys.setprofile(prof)
        try:
            job_run(self)
        finally:
            sys.setprofile(None)

    executor_qt._Job.run = profiled_run
    before = g.number_of_nodes()
    threading.setprofile(prof)
    sys.setprofile(prof)
    try:
        action.trigger()
        deadline = 2000
        while not journal_hit.is_set() and deadline:
            qapp.processEvents()
            journal_hit.wait(0.005)
            deadline -= 1
        qapp.processEvents()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        executor_qt._Job.run = job_run
    ok = g.number_of_nodes() > before
    win.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return {"events": events, "ok": ok}


def on_path(events: list[tuple]) -> list[tuple[int, str, str]]:
    """The calls whose subtree reaches the journal write, or that hand work to the next thread/turn.

    A call belongs to the path when, in its thread, the journal write happens
    inside it, or when it is an ancestor of the submission that leads there:
    we keep every call that is open (on a stack) at one of the path's
    checkpoints -- the menu's slot, the hand-over to the worker, the
    worker's build, the hand-back, the apply -- in order.
    """
    path: list[tuple[int, str, str]] = []
    open_calls: dict[int, list[tuple[int, str, str]]] = {}
    kept: set[tuple[int, int]] = set()
    marks = ("transform_task", "Engine.submit", "Engine._run_transform", "GraphActions._on_finished",
             "GraphStore._journal", "GraphActions.build", "Thinking.build", "transforms.generate", ".generate")
    for i, (tid, ev, _caller, layer, name) in enumerate(events):
        st = open_calls.setdefault(tid, [])
        if ev == "call":
            st.append((i, layer, name))
            if any(name.endswith(m) for m in marks):
                for j, lay, nm in st:
                    if (tid, j) not in kept:
                        kept.add((tid, j))
                        path.append((j, lay, nm))
            if name.endswith("GraphStore._journal"):
                break
        elif st:
            st.pop()
    path.sort()
    return [(j, lay, nm) for j, lay, nm in path]


def summarise(trace: dict) -> dict:
    events = trace["events"]
    path = on_path(events)
    threads = {}
    for event in events:
        threads.setdefault(event[0], len(threads))
    by_index = {i: e[0] for i, e in enumerate(events)}
    crossings, hops, prev = 0, 0, None
    for j, layer, _name in path:
        tid, caller = by_index[j], events[j][2]
        if caller is not None and caller != layer:
            crossings += 1  # a call from package code in one layer into another layer
        if prev is not None and tid != prev:
            hops += 1
        prev = tid
    return {"ok": trace["ok"], "calls": len(path), "layer_crossings": crossings, "thread_hops": hops,
            "path": [f"{layer}:{name}" for _, layer, name in path]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if not os.environ.get("DISPLAY") and not os.environ.get("_GENERATE_PATH_XVFB"):
        env = dict(os.environ, _GENERATE_PATH_XVFB="1", QT_QPA_PLATFORM="xcb")
        return subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1400x1000x24", sys.executable, __file__,
                                *(argv if argv is not None else sys.argv[1:])], env=env)
    result = summarise(trace_generate())
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"calls {result['calls']}, layer crossings {result['layer_crossings']}, "
              f"thread hops {result['thread_hops']}")
        for step in result["path"]:
            print("  " + step)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
