"""The fleet's start gate: one machine per due slot, and the shared record of each schedule.

:class:`FleetGate` is the :class:`~orchestrator_gui.engine.scheduler.StartGate`
of a machine in fleet mode:

* :meth:`FleetGate.before_start` claims ``(schedule_id, due slot, attempt)`` in
  one transaction before the runner starts. The schedule's row in
  ``schedule_records`` is locked (``FOR UPDATE``) so the machines that found
  the same slot due take turns; the first inserts its claim (the primary key
  makes a second claim impossible) and writes the fields its start writes
  back (Roo's ``lastExecutionTime``, ``lastTaskId``, ``nextExecutionTime``)
  into the shared record. The others find the slot taken and are refused with
  those fields, which the scheduler writes into their own ``schedules.json``.
* :meth:`FleetGate.sync` hands over the shared record whenever another
  machine changed it, so every copy of ``schedules.json`` follows the fleet's
  cadence rather than its own (possibly stale) view.
* :meth:`FleetGate.offers` re-offers the claims of dead machines (marked
  ``lost`` by :mod:`.heartbeat`) under the missed-run policy: ``once``/``all``
  run the slot again (one machine wins the re-offer), ``skip`` drops it; both
  are reported.
* :meth:`FleetGate.after_finish` marks the claim finished, unless it was
  marked lost meanwhile: then the run's result is not recorded and the log
  says so (the slot belongs to whoever re-ran it).

Offline: when the database cannot be reached, ``offline = "pause"`` fires
nothing (the slot stays armed and is claimed when the database is back, if
no other machine ran it); ``offline = "local"`` fires on this machine alone
and records the claim when the database is back (a slot another machine ran
meanwhile is reported as run twice).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator_gui.engine.fleet_config import FleetSettings
from orchestrator_gui.engine.scheduler import Allow, Deny, Offer, Shared, StartRequest
from orchestrator_gui.fleet.journal import MemoryJournal
from orchestrator_gui.fleet.link import FleetOffline, Link
from orchestrator_gui.formats.nextrun import iso_ms


@dataclass(frozen=True)
class FleetState:
    """What the status bar shows: ``online``, and a sentence when not."""

    online: bool
    message: str


def _json(value: Mapping[str, Any]) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(dict(value))


class FleetGate:
    """Claims each due slot for this machine before its run starts (see the module docs).

    Parameters
    ----------
    settings : FleetSettings
        DSN, machine name, offline policy.
    policy : str
        The missed-run policy (``once``, ``all``, ``skip``) that applies to lost claims.
    log : callable, optional
        ``log(line)``: what the gate did (the scheduler's log).
    workspace : str
        Recorded with the machine's heartbeat (``fleet status``).
    journal : MemoryJournal, optional
        Where runs fired while offline wait to be recorded (an
        :class:`~orchestrator_gui.fleet.journal.OfflineJournal` survives a restart); default in memory.
    """

    def __init__(self, settings: FleetSettings, *, policy: str = "once",
                 log: Callable[[str], None] | None = None, workspace: str = "",
                 journal: MemoryJournal | None = None) -> None:
        self.settings = settings
        self.machine = settings.machine
        self.policy = str(policy)
        self.workspace = workspace
        self.link = Link(settings.dsn, retry_s=max(1.0, settings.heartbeat_s),
                         name=f"orchestrator-gui gate {self.machine}")
        self._log = log or (lambda _line: None)
        self._lock = threading.Lock()
        self._revisions: dict[str, int] = {}
        self._reoffers: set[tuple[str, int, int]] = set()
        self._running: dict[str, StartRequest] = {}   # task id -> its claim, while it runs
        self.journal = journal if journal is not None else MemoryJournal()
        self._offline_noted: str | None = None
        self.gone: set[str] = set()  # task ids whose claim was marked lost before they finished
        #: This process's claims belong to this session (a restarted machine is a new session).
        self.session = uuid.uuid4().hex

    # -- state -------------------------------------------------------------------------------------
    def state(self, error: str | None = None) -> FleetState:
        """Online, or why not (``error``, default the gate's own) and what happens to due slots meanwhile."""
        error = error or self.link.error
        if error is None:
            return FleetState(True, f"fleet: online as {self.machine}")
        what = "due slots wait" if self.settings.offline == "pause" else "due slots run on this machine alone"
        return FleetState(False, f"fleet database unreachable ({error}); working locally, "
                                 f"offline = \"{self.settings.offline}\": {what}")

    def running_claims(self) -> dict[str, StartRequest]:
        """This machine's claims whose runs have not finished, by task id."""
        with self._lock:
            return dict(self._running)

    def _offline(self, exc: FleetOffline) -> None:
        message = self.state().message
        if self._offline_noted != message:
            self._offline_noted = message
            self._log(message)

    def _online(self) -> None:
        if self._offline_noted is not None:
            self._offline_noted = None
            self._log(f"fleet database reachable again: online as {self.machine}")
        self._replay_now()

    def beat(self, cur: Any) -> None:
        """Write this machine's and this session's heartbeat (in the caller's transaction)."""
        # One statement (one round trip): it runs inside every claim.
        cur.execute(
            "WITH m AS (INSERT INTO machines (machine, heartbeat, pid, workspace) VALUES (%s, now(), %s, %s) "
            "ON CONFLICT (machine) DO UPDATE SET heartbeat = now(), pid = EXCLUDED.pid, "
            "workspace = EXCLUDED.workspace) "
            "INSERT INTO sessions (session, machine, pid) VALUES (%s, %s, %s) "
            "ON CONFLICT (session) DO UPDATE SET heartbeat = now()",
            (self.machine, os.getpid(), self.workspace, self.session, self.machine, os.getpid()))

    # -- StartGate ---------------------------------------------------------------------------------
    def sync(self, schedule_ids: list[str]) -> dict[str, Shared]:
        """The shared record's runtime fields of every schedule another machine changed since we looked."""
        try:
            with self.link.transaction() as cur:
                cur.execute("SELECT schedule_id, fields, revision, updated_by, last_slot_ms FROM schedule_records "
                            "WHERE schedule_id = ANY(%s)", (list(schedule_ids),))
                rows = cur.fetchall()
        except FleetOffline as exc:
            self._offline(exc)
            return {}
        self._online()
        out: dict[str, Shared] = {}
        with self._lock:
            for sid, fields, revision, by, slot in rows:
                if self._revisions.get(sid) != revision:
                    self._revisions[sid] = revision
                    if fields:
                        out[sid] = Shared(dict(fields), by=by, slot_ms=slot)
        return out

    def before_start(self, request: StartRequest) -> Allow | Deny:
        """Claim the request's slot for this machine, in one transaction."""
        if request.due_ms is None:
            return Allow()
        try:
            key = (request.schedule_id, request.due_ms, request.attempt)
            verdict = self._reclaim(request) if key in self._reoffers else self._claim(request)
        except FleetOffline as exc:
            self._offline(exc)
            if self.settings.offline == "local":
                with self._lock:
                    self._running[request.task_id] = request
                self.journal.append(self._entry("local", request))
                return Allow(f"{self.state().message}: fired on this machine alone (claim recorded when back)")
            return Deny(f"{self.state().message}: not fired (asked again when the database is back)", retry=True)
        self._online()
        if isinstance(verdict, Allow):
            with self._lock:
                self._running[request.task_id] = request
        return verdict

    def _holder(self, cur: Any, sid: str, due_ms: int) -> str | None:
        cur.execute("SELECT machine FROM claims WHERE schedule_id = %s AND due_ms <= %s "
                    "ORDER BY due_ms DESC, attempt DESC LIMIT 1", (sid, due_ms))
        row = cur.fetchone()
        return row[0] if row else None

    def _lock_record(self, cur: Any, sid: str) -> tuple[int | None, dict[str, Any], int]:
        # Creates the record or locks it (DO UPDATE takes the row lock), in one round trip: the
        # machines claiming one slot take turns here, the first one's claim is what the others see.
        cur.execute("INSERT INTO schedule_records (schedule_id) VALUES (%s) ON CONFLICT (schedule_id) "
                    "DO UPDATE SET schedule_id = EXCLUDED.schedule_id RETURNING last_slot_ms, fields, revision",
                    (sid,))
        last, fields, revision = cur.fetchone()
        return last, dict(fields or {}), revision

    def _advance(self, cur: Any, request: StartRequest, fields: dict[str, Any]) -> None:
        new = {**fields, **dict(request.updates)}
        cur.execute("UPDATE schedule_records SET last_slot_ms = GREATEST(coalesce(last_slot_ms, %s), %s), "
                    "fields = %s, revision = revision + 1, updated_by = %s, updated_at = now() "
                    "WHERE schedule_id = %s RETURNING revision",
                    (request.due_ms, request.due_ms, _json(new), self.machine, request.schedule_id))
        with self._lock:
            self._revisions[request.schedule_id] = cur.fetchone()[0]

    def _taken(self, sid: str, due_ms: int, holder: str | None, fields: dict[str, Any], revision: int) -> Deny:
        with self._lock:
            self._revisions[sid] = revision
        who = f"another machine ({holder})" if holder and holder != self.machine else "this fleet already"
        return Deny(f"{who} claimed the slot {iso_ms(due_ms)}", fields=fields or None, by=holder)

    def _claim(self, request: StartRequest) -> Allow | Deny:
        sid, due = request.schedule_id, int(request.due_ms or 0)
        with self.link.transaction() as cur:
            self.beat(cur)
            last, fields, revision = self._lock_record(cur, sid)
            if request.attempt == 0 and last is not None and due <= last:
                return self._taken(sid, due, self._holder(cur, sid, due), fields, revision)
            cur.execute("INSERT INTO claims (schedule_id, due_ms, attempt, machine, session, task_id) "
                        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                        (sid, due, request.attempt, self.machine, self.session, request.task_id))
            if cur.fetchone() is None:
                return self._taken(sid, due, self._holder(cur, sid, due), fields, revision)
            self._advance(cur, request, fields)
        return Allow()

    def _reclaim(self, request: StartRequest) -> Allow | Deny:
        sid, due = request.schedule_id, int(request.due_ms or 0)
        with self.link.transaction() as cur:
            self.beat(cur)
            _last, fields, revision = self._lock_record(cur, sid)
            cur.execute("SELECT machine, attempt FROM claims WHERE schedule_id = %s AND due_ms = %s "
                        "AND status = 'lost' AND resolution IS NULL ORDER BY attempt DESC LIMIT 1 FOR UPDATE",
                        (sid, due))
            lost = cur.fetchone()
            if lost is None:
                return self._taken(sid, due, self._holder(cur, sid, due), fields, revision)
            cur.execute("INSERT INTO claims (schedule_id, due_ms, attempt, machine, session, task_id) "
                        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                        (sid, due, request.attempt, self.machine, self.session, request.task_id))
            if cur.fetchone() is None:
                return self._taken(sid, due, self._holder(cur, sid, due), fields, revision)
            cur.execute("UPDATE claims SET resolution = %s WHERE schedule_id = %s AND due_ms = %s AND attempt = %s",
                        (f"re-offered: attempt {request.attempt} on {self.machine}", sid, due, lost[1]))
            self._advance(cur, request, fields)
        with self._lock:
            self._reoffers.discard((sid, due, request.attempt))
        return Allow(f"re-running the slot {iso_ms(due)} lost by machine {lost[0]} (attempt {request.attempt})")

    def after_finish(self, request: StartRequest, result: Any) -> None:
        """Mark the claim finished; a claim marked lost meanwhile keeps its state and the result is dropped."""
        summary = result.summary() if result is not None and hasattr(result, "summary") else None
        with self._lock:
            self._running.pop(request.task_id, None)
        if self.journal.pending():  # a run fired offline must be claimed before it can be finished
            self.journal.append(self._entry("finish", request, summary))
            self._replay_now()
            return
        try:
            self._finish(request, summary)
        except FleetOffline as exc:
            self._offline(exc)
            self.journal.append(self._entry("finish", request, summary))

    def _finish(self, request: StartRequest, summary: str | None, session: str | None = None) -> None:
        if request.task_id in self.gone:
            return  # reported already: the slot's claim belongs to another run
        session = session or self.session
        with self.link.transaction() as cur:
            cur.execute("UPDATE claims SET status = 'finished', finished_at = now(), result = %s "
                        "WHERE schedule_id = %s AND due_ms = %s AND attempt = %s AND session = %s AND task_id = %s "
                        "AND status = 'running' RETURNING 1",
                        (summary, request.schedule_id, request.due_ms, request.attempt, session,
                         request.task_id))
            done = cur.fetchone() is not None
        if not done:
            self.gone.add(request.task_id)
            self._log(f"schedule {request.schedule_id}: the claim of slot {iso_ms(request.due_ms or 0)} is gone "
                      f"(marked lost while this machine was silent): task {request.task_id}'s result is not "
                      "recorded in the fleet")

    def offers(self, now_ms: int) -> list[Offer]:
        """Lost claims to run again (policy ``once``/``all``), or drop and report (``skip``)."""
        try:
            with self.link.transaction() as cur:
                if self.policy == "skip":
                    cur.execute("UPDATE claims SET resolution = 'dropped (missed-run policy skip)' "
                                "WHERE status = 'lost' AND resolution IS NULL RETURNING schedule_id, due_ms, machine")
                    for sid, due, machine in cur.fetchall():
                        self._log(f"schedule {sid}: slot {iso_ms(due)} lost by machine {machine}: "
                                  "missed-run policy skip: not run again")
                    return []
                cur.execute("SELECT c.schedule_id, c.due_ms, c.machine, (SELECT max(d.attempt) FROM claims d "
                            "WHERE d.schedule_id = c.schedule_id AND d.due_ms = c.due_ms) FROM claims c "
                            "WHERE c.status = 'lost' AND c.resolution IS NULL")
                rows = cur.fetchall()
        except FleetOffline as exc:
            self._offline(exc)
            return []
        out = []
        for sid, due, machine, top in rows:
            attempt = int(top) + 1
            with self._lock:
                self._reoffers.add((sid, due, attempt))
            out.append(Offer(sid, int(due), attempt,
                             f"slot {iso_ms(due)} re-offered: machine {machine} stopped answering while running it "
                             f"(missed-run policy {self.policy})"))
        return out

    # -- offline journal ---------------------------------------------------------------------------
    def _entry(self, what: str, request: StartRequest, summary: str | None = None) -> dict[str, Any]:
        return {"what": what, "schedule_id": request.schedule_id, "name": request.name, "due_ms": request.due_ms,
                "task_id": request.task_id, "now_ms": request.now_ms, "attempt": request.attempt,
                "updates": dict(request.updates), "summary": summary, "session": self.session,
                "machine": self.machine}

    @staticmethod
    def _request(e: dict[str, Any]) -> StartRequest:
        return StartRequest(str(e["schedule_id"]), str(e.get("name") or e["schedule_id"]), int(e["due_ms"]),
                            str(e["task_id"]), int(e.get("now_ms") or 0), int(e.get("attempt") or 0),
                            dict(e.get("updates") or {}))

    def _replay_now(self) -> None:
        """Record what was done offline (by this process, or one before it in this workspace)."""
        if not self.journal.pending():
            return
        with self.journal.locked():
            entries = self.journal.load()
            finishes = {e.get("task_id"): e for e in entries if e.get("what") == "finish"}
            local = {e.get("task_id") for e in entries if e.get("what") == "local"}
            left: list[dict[str, Any]] = []
            for i, e in enumerate(entries):
                try:
                    request = self._request(e)
                    if e.get("what") == "local":
                        fin = finishes.get(request.task_id)
                        with self._lock:
                            here = e.get("session") == self.session and request.task_id in self._running
                        status = "running" if here else "finished" if fin else "lost"
                        self._record_local(request, e, status, fin.get("summary") if fin else None)
                    elif e.get("what") == "finish" and request.task_id not in local:
                        self._finish(request, e.get("summary"), str(e.get("session") or ""))
                except FleetOffline as exc:
                    left = entries[i:]
                    self._offline(exc)
                    break
                except (KeyError, TypeError, ValueError) as exc:  # a damaged entry: reported, dropped
                    self._log(f"fleet: offline journal entry dropped ({type(exc).__name__}: {exc})")
            self.journal.replace(left)

    def _record_local(self, request: StartRequest, e: dict[str, Any], status: str, summary: str | None) -> None:
        """Insert the claim of a run fired offline; a slot another machine ran meanwhile is reported."""
        sid, due = request.schedule_id, int(request.due_ms or 0)
        with self.link.transaction() as cur:
            last, fields, _revision = self._lock_record(cur, sid)
            cur.execute("INSERT INTO claims (schedule_id, due_ms, attempt, machine, session, task_id, status, "
                        "finished_at, lost_at, result) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                        "CASE WHEN %s = 'finished' THEN now() END, CASE WHEN %s = 'lost' THEN now() END, %s) "
                        "ON CONFLICT DO NOTHING RETURNING 1",
                        (sid, due, request.attempt, str(e.get("machine") or self.machine),
                         str(e.get("session") or self.session), request.task_id, status, status, status, summary))
            if cur.fetchone() is None:
                cur.execute("SELECT machine, task_id FROM claims WHERE schedule_id = %s AND due_ms = %s "
                            "AND attempt = %s", (sid, due, request.attempt))
                holder = cur.fetchone()
                if holder is not None and holder[1] == request.task_id:
                    return  # recorded by an earlier replay
                self.gone.add(request.task_id)  # its finish is not the slot's result either
                self._log(f"schedule {sid}: slot {iso_ms(due)} ran on this machine while the database was "
                          f"unreachable (offline = \"local\") and on {holder[0] if holder else 'another machine'} too")
                return
            if last is None or due > last:
                self._advance(cur, request, fields)
        self._log(f"schedule {sid}: slot {iso_ms(due)} run while offline recorded in the fleet ({status})")

    def close(self) -> None:
        """Close the connection."""
        self.link.close()


__all__ = ["FleetGate", "FleetState"]
