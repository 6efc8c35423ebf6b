"""What ``orchestrator-gui fleet`` and ``timing list --fleet`` show: the fleet's machines, claims and runs.

Plain reads of the fleet tables, each in one short transaction; every
function raises :class:`~orchestrator_gui.fleet.link.FleetOffline` (a
message without password) when the database cannot be reached.
"""

from __future__ import annotations

from typing import Any

from orchestrator_gui.engine.fleet_config import FleetSettings
from orchestrator_gui.fleet.link import FleetOffline, Link, scrub
from orchestrator_gui.formats.nextrun import iso_ms

#: Most rows any listing returns.
MAX_ROWS = 10_000


def fleet_init(settings: FleetSettings) -> int:
    """Create or upgrade the fleet schema (graph and loop tables); return the schema version.

    Raises
    ------
    FleetOffline
        The database cannot be reached, or a migration failed (message scrubbed of any password).
    """
    import psycopg

    from orchestrator_gui.store.postgres_schema import migrate

    try:
        return migrate(settings.dsn)
    except psycopg.Error as exc:
        raise FleetOffline(scrub(str(exc).strip() or type(exc).__name__, settings.dsn)) from None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def fleet_status(settings: FleetSettings, *, claims: int = 20) -> dict[str, Any]:
    """Machines (with heartbeat age and state), running runs and the latest claims.

    Parameters
    ----------
    settings : FleetSettings
    claims : int
        How many of the latest claims to list (1..1000).
    """
    claims = max(1, min(int(claims), 1000))
    link = Link(settings.dsn, name="orchestrator-gui fleet status")
    try:
        with link.transaction() as cur:
            cur.execute("SELECT machine, heartbeat, extract(epoch FROM now() - heartbeat), pid, workspace, "
                        "(SELECT count(*) FROM claims c WHERE c.machine = m.machine AND c.status = 'running') "
                        "FROM machines m ORDER BY machine LIMIT %s", (MAX_ROWS,))
            machines = [{"machine": m, "heartbeat": _iso(hb), "silent_s": round(float(age), 1),
                         "state": "alive" if float(age) <= settings.dead_after_s else "silent",
                         "pid": pid, "workspace": ws, "running_claims": int(n)}
                        for m, hb, age, pid, ws, n in cur.fetchall()]
            # Started, not finished, and not a lost claim (a dead machine's run never writes its finish).
            cur.execute("SELECT s.machine, s.task_id, s.kind, s.subject_id, s.name, s.at FROM runs s "
                        "WHERE s.event = 'started' AND NOT EXISTS (SELECT 1 FROM runs f WHERE f.event = 'finished' "
                        "AND f.machine = s.machine AND f.task_id = s.task_id) AND NOT EXISTS (SELECT 1 FROM claims c "
                        "WHERE c.task_id = s.task_id AND c.status = 'lost') ORDER BY s.at DESC LIMIT %s",
                        (MAX_ROWS,))
            running = [{"machine": m, "task_id": t, "kind": k, "subject_id": sid, "name": n, "started": _iso(at)}
                       for m, t, k, sid, n, at in cur.fetchall()]
            cur.execute("SELECT schedule_id, due_ms, attempt, machine, task_id, status, claimed_at, finished_at, "
                        "lost_at, result, resolution FROM claims ORDER BY claimed_at DESC, due_ms DESC LIMIT %s",
                        (claims,))
            latest = [{"schedule_id": sid, "due": iso_ms(due), "attempt": att, "machine": m, "task_id": t,
                       "status": st, "claimed": _iso(ca), "finished": _iso(fa), "lost": _iso(la), "result": res,
                       "resolution": rz}
                      for sid, due, att, m, t, st, ca, fa, la, res, rz in cur.fetchall()]
    finally:
        link.close()
    return {"database": settings.shown_dsn, "machine": settings.machine, "dead_after_s": settings.dead_after_s,
            "machines": machines, "running": running, "claims": latest}


def fleet_runs(settings: FleetSettings, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """The newest ``limit`` rows of the ``runs`` table (after skipping ``offset``), oldest first."""
    limit, offset = max(1, min(int(limit), MAX_ROWS)), max(0, int(offset))
    link = Link(settings.dsn, name="orchestrator-gui fleet runs")
    try:
        with link.transaction() as cur:
            cur.execute("SELECT id, machine, task_id, event, at, kind, subject_id, name, mode, status, duration_s, "
                        "due_ms FROM runs ORDER BY at DESC, id DESC LIMIT %s OFFSET %s", (limit, offset))
            rows = cur.fetchall()
    finally:
        link.close()
    return [{"id": i, "machine": m, "task_id": t, "event": e, "at": _iso(at), "kind": k, "subject_id": sid,
             "name": n, "mode": mode, "status": st, "duration_s": d,
             "due": iso_ms(due) if due is not None else None}
            for i, m, t, e, at, k, sid, n, mode, st, d, due in reversed(rows)]


__all__ = ["MAX_ROWS", "fleet_init", "fleet_runs", "fleet_status"]
