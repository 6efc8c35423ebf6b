"""Polling with a deadline, for every test that waits on another thread or process (never a bare sleep-and-hope).

Importable from any test as ``polling`` (a plain module beside the tests, like ``shared_fixtures``).
"""

from __future__ import annotations

import time
from collections.abc import Callable


def until(check: Callable[[], object], timeout: float = 10.0, what: str = "condition",
          interval: float = 0.02) -> object:
    """Call ``check`` every ``interval`` seconds until it returns something truthy (returned);
    fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
