"""The bundled demo workspace, copied to a user data folder before use.

The copy inside the package is never opened for writing: the app and the
CLI work on ``$XDG_DATA_HOME/loop-orchestrator/demo`` (``~/.local/share/…``
by default), created from the bundled files on first use.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

BUNDLED_DEMO = Path(__file__).resolve().parent / "resources" / "demo"


def user_data_dir() -> Path:
    """Per-user data folder of the app (XDG base directory rules)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "loop-orchestrator"


def demo_workspace(*, reset: bool = False) -> Path:
    """Return the user's copy of the demo workspace, creating it if needed.

    Parameters
    ----------
    reset : bool
        Replace an existing copy with a fresh one from the package.
    """
    target = user_data_dir() / "demo"
    if reset and target.exists():
        shutil.rmtree(target)
    if not target.exists():
        tmp = target.with_name(".demo.tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        shutil.copytree(BUNDLED_DEMO, tmp)
        for p in tmp.rglob("*"):  # a read-only install must not give a read-only copy
            p.chmod(p.stat().st_mode | 0o200)
        tmp.rename(target)
    return target
