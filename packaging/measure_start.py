"""Time the bundle's cold start to the first frame of the demo graph on the screen.

Usage: ``python packaging/measure_start.py EXECUTABLE [--runs N] [--warm] [--json]``

What is measured, from outside the app (it needs no hook in it):

* An ``Xvfb`` server is started with ``-fbdir``, which keeps its screen in a
  memory-mapped file (XWD format) that this script reads while the app runs.
* Each run starts ``EXECUTABLE --demo --screenshot FILE --size 1280x800`` with
  empty per-user folders (``XDG_DATA_HOME``, ``XDG_CONFIG_HOME``,
  ``XDG_CACHE_HOME``): the demo workspace is copied and its graph built from
  scratch, as on a first start. The page cache stays warm (dropping it would
  slow everyone on a shared machine), so "cold" means a cold app, not a cold disk.
* ``first_frame_s``: from just before the process is started to the first
  screen poll (every 10 ms) in which the middle of the window, where the 3D view
  sits, shows the graph's nodes (``pixels.graph_pixels``: strongly coloured
  pixels; panels, text and the empty view are grey). A view that cannot draw
  ("3D view unavailable") never shows them, and the run fails.
* ``first_frame_cpu_s``: the CPU time (user + system, all threads) the process had
  used at that moment. The wall time grows with the machine's load; this grows
  much less, and on an idle 2-core machine the wall time cannot be much below
  half of it (llvmpipe draws on both cores, the rest of the start runs on one).
* ``exit_s``: until the process has saved its screenshot and exited.

``--warm`` times later starts instead: one start (not timed) fills the user
folders (demo copy, graph database, shader caches), and every timed run reuses them.

Prints one flat JSON object with ``--json``, otherwise a line per run.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pixels import MIN_GRAPH_PIXELS, graph_pixels  # noqa: E402

SCREEN = (1280, 1024)
WINDOW = "1280x800"
POLL_S = 0.01
RUN_TIMEOUT_S = 60.0
MAX_RUNS = 20


def _free_display(fbdir: str) -> tuple[subprocess.Popen, str]:
    """Start Xvfb on a free display; returns the process and ``:N``."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("error: Xvfb is not installed (apt-get install xvfb)")
    rfd, wfd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(wfd), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-fbdir", fbdir,
         "-nolisten", "tcp", "-br"],
        pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(wfd)
    deadline = time.monotonic() + 15
    text = b""
    os.set_blocking(rfd, False)
    while time.monotonic() < deadline and not text.endswith(b"\n"):
        try:
            text += os.read(rfd, 16)
        except BlockingIOError:
            time.sleep(0.01)
        if proc.poll() is not None:
            break
    os.close(rfd)
    if not text.strip().isdigit():
        proc.kill()
        raise SystemExit("error: Xvfb did not start")
    return proc, f":{int(text)}"


class Screen:
    """Xvfb's screen 0, read from its ``-fbdir`` file (XWD: a big-endian header, then the pixels)."""

    def __init__(self, fbdir: str) -> None:
        path = Path(fbdir) / "Xvfb_screen0"
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        self._fh = open(path, "rb")
        self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
        fields = struct.unpack(">25I", self._map[:100])
        header_size, bpp, bytes_per_line = fields[0], fields[11], fields[12]
        width, height, ncolors = fields[4], fields[5], fields[19]
        if bpp != 32:
            raise SystemExit(f"error: Xvfb screen has {bpp} bits per pixel; expected 32")
        offset = header_size + 12 * ncolors
        self.pixels = np.ndarray((height, bytes_per_line // 4, 4), np.uint8, self._map, offset)[:, :width]

    def graph_pixels(self) -> int:
        """Strongly coloured pixels in the middle of the window (where the 3D view is)."""
        w, h = (int(v) for v in WINDOW.split("x"))
        return graph_pixels(self.pixels[..., 2::-1], w, h)  # the screen is BGRX; pixels.py wants RGB

    def close(self) -> None:
        """Let go of the mapping."""
        self.pixels = None
        self._map.close()
        self._fh.close()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process, all its threads (``/proc/PID/stat``)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(exe: str, display: str, screen: Screen, workdir: Path) -> dict[str, float]:
    """Start the app once with empty user folders; returns its timings in seconds."""
    env = dict(os.environ, DISPLAY=display)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[var] = str(workdir / var.lower())
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)
    shot = workdir / "shot.png"
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe, "--demo", "--screenshot", str(shot), "--size", WINDOW], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    first = first_cpu = None
    while proc.poll() is None:
        now = time.perf_counter() - t0
        if now > RUN_TIMEOUT_S:
            proc.kill()
            raise SystemExit(f"error: {exe} did not finish within {RUN_TIMEOUT_S:.0f} s")
        if first is None and screen.graph_pixels() >= MIN_GRAPH_PIXELS:
            first = now
            try:
                first_cpu = _cpu_s(proc.pid)
            except (OSError, IndexError, ValueError):
                first_cpu = float("nan")  # exited between the poll and the read
        time.sleep(POLL_S)
    done = time.perf_counter() - t0
    out = proc.stdout.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"error: {exe} exited with status {proc.returncode}:\n{out}")
    if first is None:
        raise SystemExit(f"error: the graph never appeared on the screen (no coloured nodes in the 3D view):\n{out}")
    return {"first_frame_s": first, "first_frame_cpu_s": first_cpu, "exit_s": done}


def main(argv: list[str]) -> int:
    """Measure; returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("executable")
    p.add_argument("--runs", type=int, default=3, help=f"cold starts to time, 1-{MAX_RUNS} (default 3)")
    p.add_argument("--warm", action="store_true", help="time later starts: user folders filled by an untimed start")
    p.add_argument("--json", action="store_true", help="print one flat JSON object")
    args = p.parse_args(argv)
    if not 1 <= args.runs <= MAX_RUNS:
        p.error(f"--runs must be 1-{MAX_RUNS}")
    exe = str(Path(args.executable).resolve())
    with tempfile.TemporaryDirectory(prefix="measure-start-") as tmp:
        fbdir = os.path.join(tmp, "fb")
        os.mkdir(fbdir)
        xvfb, display = _free_display(fbdir)
        screen = Screen(fbdir)
        try:
            runs = []
            if args.warm:
                (Path(tmp) / "warm").mkdir()
                one_run(exe, display, screen, Path(tmp) / "warm")
            for i in range(args.runs):
                work = Path(tmp) / ("warm" if args.warm else f"run{i}")
                work.mkdir(exist_ok=True)
                runs.append(one_run(exe, display, screen, work))
        finally:
            screen.close()
            xvfb.terminate()
            xvfb.wait(10)
    firsts = [r["first_frame_s"] for r in runs]
    exits = [r["exit_s"] for r in runs]
    result = {"runs": len(runs), "warm": args.warm, "first_frame_s_median": round(statistics.median(firsts), 3),
              "first_frame_s_max": round(max(firsts), 3), "first_frame_s_first_run": round(firsts[0], 3),
              "first_frame_cpu_s_median": round(statistics.median(r["first_frame_cpu_s"] for r in runs), 3),
              "exit_s_median": round(statistics.median(exits), 3)}
    if args.json:
        print(json.dumps(result))
    else:
        for i, r in enumerate(runs, 1):
            print(f"run {i}: first frame of the demo graph {r['first_frame_s']:.2f} s "
                  f"({r['first_frame_cpu_s']:.2f} s of CPU), screenshot saved and exited {r['exit_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
