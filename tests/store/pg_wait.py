"""Polling with a deadline for the fleet tests (never a bare sleep-and-hope)."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(check: Callable[[], object], *, timeout: float = 10.0, what: str = "condition") -> object:
    """Call ``check`` every 10 ms until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def pulled_to(store, seq: int, *, timeout: float = 10.0) -> None:
    """Pull ``store`` until it has applied journal record ``seq``."""
    until(lambda: store.pull() is not None and store.last_seq >= seq, timeout=timeout,
          what=f"{store.machine} to reach journal seq {seq}")


def stop_server(server) -> None:
    """Stop the test PostgreSQL server for real, then let ``server`` forget its process.

    Why not ``server.stop()`` alone: as root the server runs under ``runuser``, which
    exits on SIGINT without passing it on, so the postgres process kept serving
    (and outlived the test session). SIGINT to the postmaster itself (its pid is the
    first line of ``postmaster.pid``) is PostgreSQL's fast shutdown, whatever its parent.
    """
    import os
    import signal
    import subprocess

    pid_file = server.data / "postmaster.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().split("\n", 1)[0]), signal.SIGINT)
    server.stop()
    probe = [str(server.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(server.port), "-q"]
    until(lambda: subprocess.run(probe, check=False).returncode == 2 and not pid_file.exists(), timeout=30,
          what="the server to stop")


def start_server(server) -> None:
    """Start the stopped test server again.

    Why the folder modes: as root the server runs as ``postgres``, which must reach its data
    folder; another pytest session starting meanwhile resets ``/tmp/pytest-of-root`` to 0700.
    """
    import os

    if os.geteuid() == 0:
        parent = server.root.parent
        while parent != parent.parent:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)
            parent = parent.parent
    server.start()
