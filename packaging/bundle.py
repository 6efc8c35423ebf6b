"""What the frozen app holds: one description shared by the Linux, Windows and macOS builds.

``orchestrator-gui.spec`` reads everything from here, so a data file, a hidden
import or an exclusion is written once for every platform. The Linux build
scripts (``dist.sh``, ``deb_depends.py``) read it too. This file is plain
Python without PyInstaller imports, so the scripts can use it outside a spec.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Name of the executable (and of the console command it stands for).
APP_NAME = "orchestrator-gui"
#: Name of the artifacts and of the install folder (``/opt/loop-orchestrator``).
DIST_NAME = "loop-orchestrator"
#: Name shown to people (window title, .desktop entry, installers).
DISPLAY_NAME = "Loop Orchestrator"
#: Windows: the windowed twin of the executable that Start menu entries start (no console window).
WINDOWS_GUI_EXE = "Loop Orchestrator"
#: Script PyInstaller freezes: it calls the console command's entry point.
ENTRY = ROOT / "packaging" / "entry.py"
#: Runs first in the frozen app (restores the user's ``LD_LIBRARY_PATH`` for child processes).
RUNTIME_HOOK = ROOT / "packaging" / "rthook_env.py"
ICON_SVG = ROOT / "packaging" / "icons" / "loop-orchestrator.svg"
#: Raster copy of the icon, drawn from the SVG by ``make_icon.py`` (PyInstaller turns it
#: into ``.ico``/``.icns`` on Windows and macOS when Pillow is installed).
ICON_PNG = ROOT / "build" / "icons" / "loop-orchestrator-256.png"


def version() -> str:
    """The one version string: ``[project].version`` in ``pyproject.toml``."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


#: Modules imported by name at run time, which PyInstaller's import scan cannot see.
#: vispy picks its Qt backend by the string "pyside6" (``SceneCanvas(app="pyside6")``).
HIDDEN_IMPORTS = ["vispy.app.backends._pyside6"]

#: Packages whose data files the app reads: the app's own package data, declared in
#: ``pyproject.toml`` (the demo workspace with its dot files ``.roo/`` and
#: ``.roomodes``, copied to the user's data folder on first use by
#: ``orchestrator_gui/demo.py``), and vispy's GLSL shaders, fonts and
#: ``spatial-filters.npy`` (notes: ../shared/RENDERING-NOTES.md, "Packaging").
#: The build freezes the app as pip installs it, so the bundle holds what a wheel holds.
COLLECT_DATA = ["orchestrator_gui", "vispy"]

#: Distributions whose metadata must travel: ``--version`` and About read the
#: version with ``importlib.metadata``.
COPY_METADATA = ["orchestrator-gui"]

#: Files the bundle must hold, checked after every build (relative to the contents folder).
REQUIRED_FILES = [
    "orchestrator_gui/resources/demo/.roo/schedules.json",
    "orchestrator_gui/resources/demo/.roomodes",
    "orchestrator_gui/resources/demo/TODO.md",
    "vispy/glsl/markers/marker.frag",
    "vispy/io/_data/spatial-filters.npy",
    "vispy/util/fonts/data/OpenSans-Regular.ttf",
    "docs",
]

#: Where the bundle keeps the docs (under PyInstaller's contents folder).
DOCS_DEST = "docs"
#: HTML docs written by ``scripts/build-docs`` when that script exists.
DOCS_HTML = ROOT / "build" / "docs-html"

#: The Qt modules the app imports (ui/, app.py and vispy's PySide6 backend).
#: Every other PySide6 module is excluded; their Qt libraries then stay out too.
QT_MODULES_USED = ("QtCore", "QtGui", "QtWidgets", "QtOpenGL", "QtOpenGLWidgets", "QtTest")
_QT_MODULES_ALL = (
    "Qt3DAnimation Qt3DCore Qt3DExtras Qt3DInput Qt3DLogic Qt3DRender QtAxContainer QtBluetooth QtCharts "
    "QtConcurrent QtDBus QtDataVisualization QtDesigner QtGraphs QtGraphsWidgets QtHelp QtHttpServer QtLocation "
    "QtMultimedia QtMultimediaWidgets QtNetwork QtNetworkAuth QtNfc QtPdf QtPdfWidgets QtPositioning QtPrintSupport "
    "QtQml QtQuick QtQuick3D QtQuickControls2 QtQuickTest QtQuickWidgets QtRemoteObjects QtScxml QtSensors "
    "QtSerialBus QtSerialPort QtSpatialAudio QtSql QtStateMachine QtSvg QtSvgWidgets QtTextToSpeech QtUiTools "
    "QtWebChannel QtWebEngineCore QtWebEngineQuick QtWebEngineWidgets QtWebSockets QtWebView QtXml"
).split()

#: Python modules never bundled: other Qt bindings and modules vispy, scipy and
#: networkx import only for optional features the app does not use.
EXCLUDES = [
    *(f"PySide6.{m}" for m in _QT_MODULES_ALL if m not in QT_MODULES_USED),
    "PyQt5", "PyQt6", "PySide2", "tkinter", "_tkinter", "IPython", "matplotlib", "PIL", "pytest",
    "jupyter_rfb", "ipywidgets", "pyglet", "glfw", "sdl2", "wx", "gi",
]

#: Qt plugin folders the app needs; every other plugin folder is left out (image
#: formats: screenshots are PNG, which Qt reads and writes without a plugin).
QT_PLUGIN_DIRS_KEPT = ("platforms", "xcbglintegrations", "platforminputcontexts", "platformthemes", "styles")
#: The one windowing plugin per platform. Linux: X11 (``xcb``); under Wayland Qt
#: falls back to it through XWayland. Offscreen/minimal cannot show the 3D view.
QT_PLATFORM_PLUGIN = {"linux": "libqxcb.so", "win32": "qwindows.dll", "darwin": "libqcocoa.dylib"}
#: Qt libraries kept besides those of :data:`QT_MODULES_USED`: QtGui links QtDBus on
#: Linux (accessibility, the desktop portal) and the X11 plugin lives in XcbQpa.
QT_SUPPORT_LIBS = ("DBus", "XcbQpa")
#: A Qt library's module name in its file name: ``libQt6Network.so.6`` (Linux),
#: ``Qt6Network.dll`` (Windows), ``QtNetwork.framework`` (macOS).
_QT_LIB = re.compile(r"^(?:lib)?Qt6?(?P<module>[A-Z][A-Za-z0-9]*?)(?:\.so\.6|\.dll|\.framework)$")
#: Kept folders' plugins that pull in a toolkit the app does not use.
QT_PLUGINS_DROPPED = ("libqgtk3.so", "libqtvirtualkeyboardplugin.so")

#: Linux: libraries taken from the system, never bundled. The bundle carries the
#: Python runtime and the wheels' own libraries (Qt, ICU, OpenBLAS, ...); every
#: library a Debian package provides comes from the target's packages, so the
#: graphics stack matches the machine's drivers and X server, and fontconfig its
#: font configuration. ``deb_depends.py`` turns what remains needed into ``Depends:``.
#: libpython is the exception: no system Python is needed.
SYSTEM_LIB_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/local/lib/")
BUNDLED_SYSTEM_LIBS = re.compile(r"^libpython3\.\d+\.so")


#: Linux: packages whose libraries are loaded by name at run time (``dlopen``), so no
#: ELF file names them and ``dpkg-shlibdeps`` cannot see them. libglvnd's
#: ``libGL``/``libEGL`` load Mesa's GLX and EGL vendors, which load the DRI
#: driver (llvmpipe where there is no GPU).
LINUX_DLOPENED_PACKAGES = ("libglx-mesa0", "libegl-mesa0", "libgl1-mesa-dri")
#: Linux: Debian packages the build machine needs. The build tools: ``dpkg-shlibdeps``
#: (dpkg-dev, which runs binutils' objdump), a venv for PyInstaller, Xvfb to time the
#: start, ``desktop-file-validate``. The runtime libraries: PyInstaller and dpkg-shlibdeps must find every
#: library the bundle links to, and the start is timed on this machine.
LINUX_BUILD_PACKAGES = (
    "dpkg-dev", "binutils", "python3-venv", "xvfb", "desktop-file-utils",
    "libgl1", "libegl1", "libgl1-mesa-dri", "libglx-mesa0", "libfontconfig1", "libdbus-1-3", "libglib2.0-0",
    "libxkbcommon0", "libxkbcommon-x11-0", "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1",
    "libxcb-render-util0", "libxcb-render0", "libxcb-shape0", "libxcb-util1", "libxcb-xkb1",
)


def platform_key() -> str:
    """``linux``, ``win32`` or ``darwin``."""
    return "linux" if sys.platform.startswith("linux") else sys.platform


def keep_qt_file(dest: str, platform: str | None = None) -> bool:
    """Whether a file PyInstaller collected belongs in the bundle, as far as Qt goes.

    Parameters
    ----------
    dest : str
        Its path inside the bundle, e.g. ``PySide6/Qt/plugins/platforms/libqxcb.so``
        (PyInstaller also links Qt's libraries at the top, ``libQt6Gui.so.6``).
    platform : str, optional
        ``linux``, ``win32`` or ``darwin`` (default: this one).
    """
    parts = Path(dest).parts
    kept_libs = {m[2:] for m in QT_MODULES_USED} | set(QT_SUPPORT_LIBS)
    for part in parts:
        lib = _QT_LIB.match(part)
        if lib and lib["module"] not in kept_libs:
            return False  # a library of a Qt module the app does not use (or of a dropped plugin)
    if not parts or parts[0] != "PySide6":
        return True
    if "translations" in parts or "qml" in parts:
        return False  # the app is in English and uses no QML
    if "plugins" not in parts:
        return True
    i = parts.index("plugins")
    if len(parts) < i + 3:
        return True
    folder, name = parts[i + 1], parts[-1]
    if folder not in QT_PLUGIN_DIRS_KEPT or name in QT_PLUGINS_DROPPED:
        return False
    if folder == "platforms":
        return name == QT_PLATFORM_PLUGIN[platform or platform_key()]
    return True


def keep_system_lib(src: str, dest: str) -> bool:
    """Linux: whether a library PyInstaller found outside the wheels is bundled (only libpython)."""
    if not src.startswith(SYSTEM_LIB_DIRS):
        return True
    return bool(BUNDLED_SYSTEM_LIBS.match(Path(dest).name))


def docs_files() -> list[tuple[str, str]]:
    """The docs to bundle as PyInstaller ``(source, folder in the bundle)`` pairs.

    The HTML site when ``scripts/build-docs`` built it, else the Markdown
    sources (``docs/*.md`` with their pictures, and ``README.md``).
    """
    if (DOCS_HTML / "index.html").is_file():
        return [(str(DOCS_HTML), DOCS_DEST)]
    files = sorted(p for p in (ROOT / "docs").iterdir() if p.suffix in (".md", ".png", ".svg"))
    return [(str(p), DOCS_DEST) for p in files] + [(str(ROOT / "README.md"), DOCS_DEST)]


def _main(argv: list[str]) -> int:
    """``python3 packaging/bundle.py FIELD``: print one field for the shell scripts, one item a line."""
    fields = {
        "version": lambda: [version()],
        "app-name": lambda: [APP_NAME],
        "dist-name": lambda: [DIST_NAME],
        "display-name": lambda: [DISPLAY_NAME],
        "required-files": lambda: REQUIRED_FILES,
        "dlopened-packages": lambda: list(LINUX_DLOPENED_PACKAGES),
        "build-packages": lambda: list(LINUX_BUILD_PACKAGES),
    }
    if len(argv) != 1 or argv[0] not in fields:
        print(f"usage: bundle.py {{{'|'.join(fields)}}}", file=sys.stderr)
        return 2
    print("\n".join(fields[argv[0]]()))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
