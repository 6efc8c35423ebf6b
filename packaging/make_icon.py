"""Draw the raster icons (PNG) from ``packaging/icons/loop-orchestrator.svg`` with Qt's SVG renderer.

Usage: ``python packaging/make_icon.py OUT_DIR [SIZE ...]`` writes
``OUT_DIR/loop-orchestrator-<SIZE>.png`` for each size (default 48 256).
Runs in the build environment (PySide6-Essentials has QtSvg); needs no display.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SVG = Path(__file__).resolve().parent / "icons" / "loop-orchestrator.svg"
SIZES = (48, 256)


def main(argv: list[str]) -> int:
    """Write the PNGs; returns the exit status."""
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0])
    try:
        sizes = [int(s) for s in argv[1:]] or list(SIZES)
    except ValueError:
        print(f"error: sizes are whole numbers, not {argv[1:]}", file=sys.stderr)
        return 2
    if any(not 16 <= s <= 1024 for s in sizes):
        print("error: icon sizes are 16 to 1024 pixels", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # painting into an image needs no screen
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(["make_icon"])  # noqa: F841  (kept alive while painting)
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"{SVG}:1: error: Qt cannot read this SVG", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        img = QImage(size, size, QImage.Format.Format_ARGB32)
        img.fill(Qt.GlobalColor.transparent)
        painter = QPainter(img)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out / f"loop-orchestrator-{size}.png"
        if not img.save(str(path), "PNG"):
            print(f"error: cannot write {path}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
