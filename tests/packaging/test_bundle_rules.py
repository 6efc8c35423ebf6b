"""The installers' one description of the bundle (packaging/bundle.py) keeps up with the app.

Fast: no build runs here. The full proof, a bare Debian 12 chroot, is test_bare_machine.py (marked slow).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import bundle  # noqa: E402


def _qt_modules_imported() -> set[str]:
    found = set()
    for path in (ROOT / "orchestrator_gui").rglob("*.py"):
        found.update(re.findall(r"PySide6\.(Qt[A-Za-z0-9]+)", path.read_text(encoding="utf-8")))
    return found


def test_every_qt_module_the_app_imports_is_bundled():
    # A Qt module used in the code but missing here would be cut out of the installers: the app would
    # start from source and fail to import in the bundle.
    missing = _qt_modules_imported() - set(bundle.QT_MODULES_USED)
    assert not missing, f"add {sorted(missing)} to QT_MODULES_USED in packaging/bundle.py"
    assert not set(bundle.QT_MODULES_USED) & {m.removeprefix("PySide6.") for m in bundle.EXCLUDES}


def test_artifact_names_use_the_pyproject_version():
    with open(ROOT / "pyproject.toml", "rb") as fh:
        assert bundle.version() == tomllib.load(fh)["project"]["version"]


@pytest.mark.parametrize(("dest", "kept"), [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so", True),
    ("PySide6/Qt/lib/libQt6OpenGLWidgets.so.6", True),
    ("libQt6Gui.so.6", True),
    ("PySide6/Qt/lib/libQt6DBus.so.6", True),  # QtGui links it on Linux
    ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),  # would pull in GTK
    ("PySide6/Qt/plugins/imageformats/libqsvg.so", False),
    ("PySide6/Qt/lib/libQt6Network.so.6", False),
    ("libQt6Network.so.6", False),
    ("PySide6/Qt/translations/qtbase_de.qm", False),
    ("vispy/glsl/markers/marker.frag", True),
])
def test_linux_bundle_leaves_out_the_qt_the_app_does_not_use(dest, kept):
    assert bundle.keep_qt_file(dest, "linux") is kept


def test_only_libpython_is_taken_from_the_system():
    assert bundle.keep_system_lib("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "libpython3.11.so.1.0")
    assert not bundle.keep_system_lib("/lib/x86_64-linux-gnu/libfontconfig.so.1", "libfontconfig.so.1")
    assert bundle.keep_system_lib("/build/venv/site-packages/numpy.libs/libscipy_openblas.so",
                                  "numpy.libs/libscipy_openblas.so")
