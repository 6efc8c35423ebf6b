"""A real PostgreSQL server for the fleet tests, from Debian's ``postgresql`` package.

Importable from any test as ``postgres_server`` (a plain module beside the tests, like
``shared_fixtures``). The server runs ``initdb`` into a temporary folder and ``postgres`` on a
free localhost port; it can be stopped and started again mid-test (the partition tests), and
it is stopped when the test session ends.

When PostgreSQL cannot be started the fleet tests *fail* (the issue asks for that): this module
raises, it never skips.

Root cannot run ``initdb``; as root the server runs as the ``postgres`` system user (created by
the Debian package) through ``runuser``, with the data folder handed to that user.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["PostgresServer", "find_pg_bin"]

_START_TIMEOUT_S = 60.0


def find_pg_bin() -> Path:
    """Return the folder holding ``initdb``/``postgres``/``pg_isready``.

    Raises
    ------
    RuntimeError
        When no PostgreSQL server binaries are installed.
    """
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found: install Debian's 'postgresql' package "
        "(scripts/bootstrap.sh does this when run as root)"
    )


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited: no such process, or a zombie nobody reaped yet (the postmaster is
    the child of ``runuser``, which exits first; a subreaper test process may inherit it)."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (ProcessLookupError, FileNotFoundError):
        return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One throw-away PostgreSQL cluster on ``127.0.0.1:<port>`` with trust authentication.

    Parameters
    ----------
    root : Path
        An empty temporary folder; the cluster's data, socket and log live below it.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.bin = find_pg_bin()
        self.data = self.root / "data"
        self.sockets = self.root / "sock"
        self.log_path = self.root / "postgres.log"
        self.port = _free_port()
        self.user = "postgres"
        self._proc: subprocess.Popen | None = None
        self._as_root = os.geteuid() == 0
        self._initdb()

    # -- plumbing --------------------------------------------------------------------------
    def _argv(self, *argv: str) -> list[str]:
        if self._as_root:
            return ["runuser", "-u", "postgres", "--", *argv]
        return list(argv)

    def _initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockets.mkdir(exist_ok=True)
        if self._as_root:
            # The postgres user must be able to reach and own its folders.
            for path in (self.root, self.sockets):
                shutil.chown(path, user="postgres", group="postgres")
            parent = self.root.parent
            while parent != parent.parent:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
                parent = parent.parent
        result = subprocess.run(
            self._argv(
                str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user,
                "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
            ),
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}): {result.stderr.strip()}")

    @property
    def dsn(self) -> str:
        """A libpq connection string for the ``postgres`` database."""
        return self.dsn_for("postgres")

    def dsn_for(self, dbname: str) -> str:
        """A libpq connection string for ``dbname`` on this server."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the server (again) on the same port and wait until it accepts connections."""
        if self.running:
            return
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it open
        self._proc = subprocess.Popen(
            self._argv(
                str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-k", str(self.sockets), "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "max_connections=200",
            ),
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with {self._proc.returncode}: "
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"postgres did not accept connections within {_START_TIMEOUT_S:.0f} s")

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are cut) and wait until it is gone.

        SIGINT goes to the postmaster itself (its pid is the first line of ``postmaster.pid``):
        as root the server runs under ``runuser``, which exits on SIGINT without passing it on,
        and the server kept serving -- a "partition" that cut nothing.
        """
        proc, self._proc = self._proc, None
        pid = self._postmaster_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pid = None
        elif proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30
        while pid is not None and time.monotonic() < deadline:
            if _gone(pid):
                break
            time.sleep(0.02)
        else:
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        # Gone for sure: no server answers on the port any more.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False).returncode == 0:
            time.sleep(0.05)

    def create_database(self, name: str) -> str:
        """Create database ``name`` (a plain identifier) and return its DSN."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a plain database name: {name!r}")
        result = subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", self.user, name],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"createdb {name} failed: {result.stderr.strip()}")
        return self.dsn_for(name)
