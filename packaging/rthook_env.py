"""PyInstaller runtime hook: give child processes the environment the user started the app with.

On Linux the bootloader points ``LD_LIBRARY_PATH`` at the bundle's own libraries
(Qt, ICU, libpython) and keeps the user's value in ``LD_LIBRARY_PATH_ORIG``.
The dynamic loader of this process read the variable when the process started,
so it no longer needs it; but every program the app starts (the agent loop's
commands, git, editors) would inherit it and could load the bundle's Qt or ICU
instead of its own. Restoring the user's value here prevents that.
"""

import os
import sys

if sys.platform.startswith("linux") and getattr(sys, "frozen", False):
    _orig = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if _orig is not None:
        os.environ["LD_LIBRARY_PATH"] = _orig
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)
