"""One PostgreSQL connection for a fleet component, with offline detection.

Each component (the gate, the heartbeat, the run recorder) holds its own
:class:`Link`: three long-lived connections per process are all the loop
needs, and keeping them apart means a slow heartbeat never delays a claim.
When the database cannot be reached the link says so (:attr:`Link.online`,
:attr:`Link.error`) and does not try again before ``retry_s`` has passed, so
a loop that ticks every second does not stall on connect timeouts.

Messages never hold a password: libpq's own messages do not, and
:func:`scrub` removes one anyway should a DSN be echoed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orchestrator_gui.engine.fleet_config import redact_dsn

#: Seconds libpq waits for a connection before the database counts as unreachable.
CONNECT_TIMEOUT_S = 3
#: Seconds a statement may run (a claim takes milliseconds; a lock held by a dead session does not hang us).
STATEMENT_TIMEOUT_MS = 10_000


class FleetOffline(RuntimeError):
    """The fleet database cannot be reached (or a statement failed on the connection)."""


def _password_of(dsn: str) -> str | None:
    try:
        from psycopg.conninfo import conninfo_to_dict

        value = conninfo_to_dict(dsn).get("password")
    except Exception:  # noqa: BLE001 - an unparsable DSN fails at connect time, with libpq's message
        return None
    return str(value) if value else None


def scrub(message: str, dsn: str) -> str:
    """``message`` with the DSN redacted and any password in it replaced by ``***``."""
    out = message.replace(dsn, redact_dsn(dsn))
    secret = _password_of(dsn)
    if secret:
        out = out.replace(secret, "***")
    return out


class Link:
    """A lazily opened connection to the fleet database.

    Parameters
    ----------
    dsn : str
        libpq connection string.
    retry_s : float
        After a failure, seconds before the next connection attempt.
    name : str
        ``application_name`` (shows in ``pg_stat_activity``).
    """

    def __init__(self, dsn: str, *, retry_s: float = 2.0, name: str = "orchestrator-gui") -> None:
        self.dsn = dsn
        self.retry_s = retry_s
        self.name = name
        self.error: str | None = None
        self._conn: Any = None
        self._lock = threading.RLock()
        self._next_try = 0.0

    @property
    def online(self) -> bool:
        """False after the last attempt failed (until one succeeds)."""
        return self.error is None

    def _connect(self) -> Any:
        import psycopg

        if self._conn is not None and not self._conn.closed:
            return self._conn
        now = time.monotonic()
        if now < self._next_try and self.error is not None:
            raise FleetOffline(self.error)
        try:
            self._conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                         application_name=self.name,
                                         options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}")
        except psycopg.Error as exc:
            self._fail(exc)
        return self._conn

    def _fail(self, exc: BaseException) -> None:
        self.error = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, self.dsn)
        self._next_try = time.monotonic() + self.retry_s
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001, S110 - the connection is broken already
                pass
        raise FleetOffline(self.error) from None

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor in one transaction: committed on success, rolled back on any error.

        Raises
        ------
        FleetOffline
            The database is unreachable, or the connection broke.
        psycopg.Error
            Any other database error (the transaction is rolled back; the link stays usable).
        """
        import psycopg

        with self._lock:
            conn = self._connect()
            try:
                with conn.transaction(), conn.cursor() as cur:
                    yield cur
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self._fail(exc)
            self.error = None

    def close(self) -> None:
        """Close the connection (a later :meth:`transaction` opens a new one)."""
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001, S110 - closing a broken connection
                    pass


__all__ = ["CONNECT_TIMEOUT_S", "FleetOffline", "Link", "scrub"]
