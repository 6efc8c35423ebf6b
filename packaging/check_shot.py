"""Check that a screenshot of the app shows the window with the demo graph drawn, not a blank picture.

Usage: ``python packaging/check_shot.py PNG WIDTHxHEIGHT``. Exit status 0 and
one line of figures when it is good; 1 and the reason otherwise. Needs
PySide6 (to read the PNG) and numpy: run it with ``build/dist-venv/bin/python``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pixels import MIN_COLOURS, MIN_GRAPH_PIXELS, distinct_colours, graph_pixels  # noqa: E402

MAX_SIDE = 8192


def read_rgb(path: str) -> np.ndarray:
    """The PNG as an ``(height, width, 3)`` uint8 array."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QImage

    img = QImage(path)
    if img.isNull():
        raise SystemExit(f"{path}:1: error: not a picture Qt can read")
    if img.width() > MAX_SIDE or img.height() > MAX_SIDE:
        raise SystemExit(f"{path}:1: error: {img.width()}x{img.height()} is larger than {MAX_SIDE} a side")
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def main(argv: list[str]) -> int:
    """Check the picture; returns the exit status."""
    if len(argv) != 2 or "x" not in argv[1]:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[0]
    try:
        want = tuple(int(v) for v in argv[1].split("x"))
    except ValueError:
        print(f"error: size must look like 1280x800, not {argv[1]!r}", file=sys.stderr)
        return 2
    rgb = read_rgb(path)
    size = (rgb.shape[1], rgb.shape[0])
    colours = distinct_colours(rgb)
    nodes = graph_pixels(rgb, *size)
    problems = []
    if size != want:
        problems.append(f"it is {size[0]}x{size[1]}, not {want[0]}x{want[1]}")
    if colours < MIN_COLOURS:
        problems.append(f"only {colours} colours (a drawn window has {MIN_COLOURS} or more): blank")
    if nodes < MIN_GRAPH_PIXELS:
        problems.append(f"the 3D view shows no graph ({nodes} coloured samples, {MIN_GRAPH_PIXELS} needed)")
    if problems:
        print(f"{path}: error: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"{path}: ok: {size[0]}x{size[1]}, {colours} colours, {nodes} coloured samples in the 3D view")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
