"""This machine's heartbeat, and the reaping of the claims of machines that went silent.

A :class:`Heartbeat` thread writes ``machines.heartbeat = now()`` every
``heartbeat_s`` (the database's clock, so machines with skewed clocks agree).
In the same transaction it marks ``lost`` every running claim of a machine
whose heartbeat is older than ``dead_after_s``, and reports each one; the
scheduler's gate then re-offers them (:meth:`~.claims.FleetGate.offers`).

It also looks at this machine's own running claims: one marked lost means
this machine was silent too long (stopped, cut off) and another machine may
run the slot now, so the run is cancelled (no slot runs twice at once) and
its result is not recorded (:meth:`~.claims.FleetGate.after_finish`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from orchestrator_gui.fleet.claims import FleetGate
from orchestrator_gui.fleet.link import FleetOffline, Link
from orchestrator_gui.formats.nextrun import iso_ms


class Heartbeat:
    """The heartbeat thread of one machine (see the module docs).

    Parameters
    ----------
    gate : FleetGate
        The machine's gate (its settings and running claims).
    cancel : callable, optional
        ``cancel(task_id, reason)``: stop a run whose claim was marked lost.
    log : callable, optional
        ``log(line)``.
    """

    def __init__(self, gate: FleetGate, *, cancel: Callable[[str, str], object] | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.gate = gate
        self.settings = gate.settings
        self.link = Link(self.settings.dsn, retry_s=max(1.0, self.settings.heartbeat_s),
                         name=f"orchestrator-gui heartbeat {gate.machine}")
        self._cancel = cancel
        self._log = log or (lambda _line: None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cancelled: set[str] = set()
        self.beats = 0

    def start(self) -> Heartbeat:
        """Beat once now (so a claim right after start sees a live machine), then every ``heartbeat_s``."""
        self.beat()
        self._thread = threading.Thread(target=self._run, name="fleet-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_s):
            self.beat()

    def beat(self) -> bool:
        """One heartbeat, reap and self-check; False when the database is unreachable."""
        mine = self.gate.running_claims()
        try:
            with self.link.transaction() as cur:
                self.gate.beat(cur)
                # A claim is lost when its session (the process that made it) has been silent too long,
                # or is gone; the machine's name alone would hide a crashed process restarted at once.
                cur.execute(
                    "UPDATE claims c SET status = 'lost', lost_at = now() "
                    "FROM (SELECT c2.schedule_id, c2.due_ms, c2.attempt, "
                    "      extract(epoch FROM now() - coalesce(s.heartbeat, c2.claimed_at)) AS silent "
                    "      FROM claims c2 LEFT JOIN sessions s ON s.session = c2.session "
                    "      WHERE c2.status = 'running' AND c2.session <> %s "
                    "      AND coalesce(s.heartbeat, c2.claimed_at) < now() - make_interval(secs => %s)) d "
                    "WHERE c.schedule_id = d.schedule_id AND c.due_ms = d.due_ms AND c.attempt = d.attempt "
                    "AND c.status = 'running' "  # re-checked after a concurrent reaper's update: reported once
                    "RETURNING c.schedule_id, c.due_ms, c.machine, c.task_id, d.silent",
                    (self.gate.session, self.settings.dead_after_s))
                reaped = cur.fetchall()
                lost_mine: list[tuple[str, str, int]] = []
                if mine:
                    cur.execute("SELECT task_id, schedule_id, due_ms FROM claims WHERE session = %s "
                                "AND status = 'lost' AND task_id = ANY(%s)", (self.gate.session, list(mine)))
                    lost_mine = cur.fetchall()
        except FleetOffline as exc:
            self.gate._offline(exc)
            return False
        self.beats += 1
        for sid, due, machine, task_id, silent in reaped:
            self._log(f"fleet: machine {machine} silent for {float(silent):.0f} s (dead_after_s "
                      f"{self.settings.dead_after_s:g}): its claim of schedule {sid} slot {iso_ms(due)} "
                      f"(task {task_id}) is marked lost")
        for task_id, sid, due in lost_mine:
            if task_id in self._cancelled:
                continue
            self._cancelled.add(task_id)
            reason = (f"cancelled: the claim of schedule {sid} slot {iso_ms(due)} was marked lost while this "
                      "machine was silent; another machine may run it")
            self._log(f"fleet: {reason} (task {task_id})")
            if self._cancel is not None:
                self._cancel(task_id, reason)
        return True

    def stop(self) -> None:
        """Stop beating (the machine's row stays; it ages into "silent")."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.link.close()


__all__ = ["Heartbeat"]
