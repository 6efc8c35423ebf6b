"""Exactly once from the command line: three ``run --once --now T`` processes, one shared database, 10 slots."""

from __future__ import annotations

import json
import subprocess

from fleet_setup import FIRST_MS, MINUTE, PY, SID, copies, env_for, fleet_init, iso, query, runtime_fields, timing_pairs

SLOTS = 10


def _start(ws, machine: str, now: str) -> subprocess.Popen:
    return subprocess.Popen([PY, "-m", "orchestrator_gui", "-w", str(ws), "run", "--once", "--now", now, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(machine))


def test_three_cli_processes_fire_each_slot_exactly_once(tmp_path, fleet_dsn):
    wss = copies(tmp_path, fleet_dsn)
    fleet_init(wss[0])
    fired_by: list[str] = []
    for k in range(SLOTS):
        now = iso(FIRST_MS + k * MINUTE + 500)
        procs = {f"m{i + 1}": _start(ws, f"m{i + 1}", now) for i, ws in enumerate(wss)}  # started together
        results = {}
        for machine, p in procs.items():
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, (machine, err)
            results[machine] = (json.loads(out), err)
        winners = [m for m, (summary, _) in results.items() if summary["fired"]]
        assert len(winners) == 1, (k, {m: s["fired"] for m, (s, _) in results.items()})
        winner = winners[0]
        assert results[winner][0]["fired"][0]["result"]["status"] == "completed"
        for machine, (summary, err) in results.items():
            if machine == winner:
                continue
            assert summary["fired"] == []
            [refused] = summary["not_started"]
            assert refused["claimed_by"] == winner
            assert f"another machine ({winner}) claimed the slot" in refused["reason"]
            assert f"another machine ({winner}) claimed the slot" in err
        fired_by.append(winner)
        # the shared record keeps the three copies in agreement after every slot
        fields = [runtime_fields(ws) for ws in wss]
        assert fields[0] == fields[1] == fields[2], k
        assert fields[0]["lastTaskId"] == results[winner][0]["fired"][0]["task_id"]

    claims = query(fleet_dsn, "SELECT due_ms, machine, status FROM claims WHERE schedule_id = %s ORDER BY due_ms",
                   (SID,))
    assert len(claims) == SLOTS and len({c[0] for c in claims}) == SLOTS
    assert [c[1] for c in claims] == fired_by and {c[2] for c in claims} == {"finished"}
    pairs = [timing_pairs(ws) for ws in wss]
    assert sum(s for s, _ in pairs) == SLOTS and sum(f for _, f in pairs) == SLOTS
    # the runs table holds every machine's rows, with the machine's name
    runs = query(fleet_dsn, "SELECT machine, event FROM runs ORDER BY id")
    assert sorted(m for m, e in runs if e == "finished") == sorted(fired_by)
    assert len(runs) == 2 * SLOTS
    # and the three schedules.json files are byte for byte the same (minimal edits of one original)
    blobs = {(ws / ".roo" / "schedules.json").read_bytes() for ws in wss}
    assert len(blobs) == 1
