"""The background thread of a shared store: LISTEN for commits, notice when the database goes and comes back.

It never touches the graph (only the thread that owns the graph may change
it); it calls back into the store, which records what is waiting and emits
``remote_pending`` so that owner calls ``pull()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

from orchestrator_gui.store.pg_io import CHANNEL, UNREACHABLE

#: How long one wait for notifications lasts before the stop flag is checked again (seconds).
POLL_S = 0.25
#: Pause between reconnection attempts while the database is unreachable (seconds).
RETRY_S = 0.5


class Listener:
    """A daemon thread holding one LISTEN connection.

    Parameters
    ----------
    conninfo : str
        The database.
    process : str
        This store's origin id; notifications it sent itself are ignored.
    on_remote : callable
        ``on_remote(seq)``: another writer committed journal record ``seq``.
    on_connected : callable
        ``on_connected(first)``: the LISTEN connection is up (``first`` false after an outage).
    on_lost : callable
        ``on_lost(reason)``: the connection broke; the thread keeps retrying.
    on_tick : callable
        ``on_tick()``: called every :data:`POLL_S` while connected.
    """

    def __init__(self, conninfo: str, process: str, *, on_remote: Callable[[int], None],
                 on_connected: Callable[[bool], None], on_lost: Callable[[str], None],
                 on_tick: Callable[[], None]) -> None:
        self._conninfo = conninfo
        self._process = process
        self._on_remote = on_remote
        self._on_connected = on_connected
        self._on_lost = on_lost
        self._on_tick = on_tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="graph-listener", daemon=True)
        self.ready = threading.Event()

    def start(self) -> None:
        """Start the thread; :attr:`ready` is set once the first LISTEN is in place (or failed)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (at most a few poll periods)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=2) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._on_connected(first)
                    first = False
                    self.ready.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=POLL_S):
                            self._handle(note.payload)
                        self._on_tick()
            except UNREACHABLE as exc:
                if not self._stop.is_set():
                    self._on_lost(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            self.ready.set()
            self._stop.wait(RETRY_S)

    def _handle(self, payload: str) -> None:
        parts = payload.split(" ")
        if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 19:
            return  # not ours: someone else NOTIFYing on the channel
        if parts[2] != self._process:
            self._on_remote(int(parts[0]))


__all__ = ["Listener", "POLL_S", "RETRY_S"]
