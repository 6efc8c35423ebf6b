"""One version string: ``pyproject.toml``'s, shown by ``--version`` (and About, see tests/ui/test_help_menu.py)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import orchestrator_gui
from orchestrator_gui import UNKNOWN_VERSION, read_version

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_dash_dash_version_prints_the_pyproject_version():
    done = subprocess.run([sys.executable, "-m", "orchestrator_gui", "--version"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"orchestrator-gui {VERSION}"
    assert orchestrator_gui.__version__ == VERSION


def test_a_checkout_pyproject_wins_over_stale_installed_metadata(tmp_path):
    bumped = tmp_path / "pyproject.toml"
    bumped.write_text('[project]\nname = "orchestrator-gui"\nversion = "9.8.7"\n')
    assert read_version(bumped) == "9.8.7"


def test_without_our_pyproject_the_installed_metadata_is_used(tmp_path):
    try:
        installed = metadata.version("orchestrator-gui")
    except metadata.PackageNotFoundError:
        installed = UNKNOWN_VERSION
    other = tmp_path / "pyproject.toml"
    other.write_text('[project]\nname = "something-else"\nversion = "1.2.3"\n')
    assert read_version(other) == installed
    broken = tmp_path / "broken.toml"
    broken.write_text('[project\nname = "orchestrator-gui"\n')
    assert read_version(broken) == installed
    huge = tmp_path / "huge.toml"
    huge.write_text('[project]\nname = "orchestrator-gui"\nversion = "6.6.6"\n' + "#" * 300_000 + "\n")
    assert read_version(huge) == installed  # size limit: not parsed
    assert read_version(tmp_path / "missing.toml") == installed
