"""The Linux installers run on a bare Debian 12: packaging/test-bare.sh, which takes minutes.

Deselected by default (pyproject.toml addopts ``-m "not slow"``); run it with
``.venv/bin/python -m pytest -m slow tests/packaging``. It needs root and the Debian
mirror, and builds the artifacts afresh first (``--rebuild``), so it tests this tree.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "test-bare.sh"
#: make dist (about 3-8 minutes on 2 cores) plus the chroot test (2-8 minutes).
TIMEOUT_S = 45 * 60


@pytest.mark.slow
def test_deb_and_tarball_run_on_a_bare_debian_12():
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        pytest.skip("the Linux installers are built and tested on Linux x86_64")
    if os.geteuid() != 0:
        pytest.skip("packaging/test-bare.sh needs root (debootstrap, chroot, mount)")
    if shutil.which("apt-get") is None:
        pytest.skip("packaging/test-bare.sh needs a Debian-family machine")
    res = subprocess.run([str(SCRIPT), "--rebuild"], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-6000:]
    # What the script proved, in its own words: both artifacts drew the demo graph inside the chroot.
    for label in ("deb", "tgz"):
        assert f"build/test-bare/shot-{label}.png: ok: 1280x800" in out, out[-6000:]
    assert "nothing under /opt/loop-orchestrator changed" in out
    assert "still no Python in the chroot" in out
