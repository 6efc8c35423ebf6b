"""Exactly once with long-running engines: three ``run`` loops on one database, a 1-minute schedule, 30 slots.

The three engines read the time from one clock file (``run --clock-file``); the test moves it slot by slot
and waits (with a deadline) for the slot's claim to finish before moving on.
"""

from __future__ import annotations

import os
import signal
import subprocess

from fleet_setup import (
    FIRST_MS,
    MINUTE,
    PY,
    SID,
    copies,
    env_for,
    fleet_init,
    iso,
    query,
    runtime_fields,
    timing_pairs,
)
from polling import until as wait_for

SLOTS = 30


def set_clock(path, ms: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(ms))
    os.replace(tmp, path)  # the engines never read a half-written time


def start_engines(wss, clock, *, first: int = 1) -> list[subprocess.Popen]:
    """``run`` loops on the workspaces, as machines m<first>, m<first + 1>, ... (each its own process group)."""
    return [subprocess.Popen([PY, "-m", "orchestrator_gui", "-w", str(ws), "run", "--clock-file", str(clock)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(f"m{i + first}"),
                             start_new_session=True)
            for i, ws in enumerate(wss)]


def stop_engines(procs) -> list[str]:
    errs = []
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        _out, err = p.communicate(timeout=60)
        errs.append(err)
    return errs


def test_three_engines_fire_thirty_slots_exactly_once(tmp_path, fleet_dsn):
    wss = copies(tmp_path, fleet_dsn)
    fleet_init(wss[0])
    clock = tmp_path / "clock"
    set_clock(clock, FIRST_MS - 30_000)  # before the first slot: nothing due
    procs = start_engines(wss, clock)
    try:
        wait_for(lambda: len(query(fleet_dsn, "SELECT 1 FROM machines")) == 3, 60, "three heartbeats")
        for k in range(SLOTS):
            set_clock(clock, FIRST_MS + k * MINUTE + 500)
            wait_for(lambda k=k: query(fleet_dsn, "SELECT count(*) FROM claims WHERE status = 'finished'")[0][0]
                     == k + 1, 60, f"slot {k} to finish")
            assert all(p.poll() is None for p in procs)
        # every copy of schedules.json follows the shared record
        wait_for(lambda: len({tuple(runtime_fields(ws).items()) for ws in wss}) == 1, 30, "copies to agree")
    finally:
        errs = stop_engines(procs)
    assert [p.returncode for p in procs] == [0, 0, 0], errs

    claims = query(fleet_dsn, "SELECT due_ms, attempt, machine, status FROM claims WHERE schedule_id = %s", (SID,))
    assert len(claims) == SLOTS  # one claim per slot: no slot fired twice, none re-run
    assert len({c[0] for c in claims}) == SLOTS and {c[1] for c in claims} == {0}
    per_machine = {m: sum(1 for c in claims if c[2] == m) for m in ("m1", "m2", "m3")}
    assert sum(per_machine.values()) == SLOTS
    pairs = [timing_pairs(ws) for ws in wss]
    assert sum(s for s, _ in pairs) == SLOTS and sum(f for _, f in pairs) == SLOTS, pairs
    # each machine's task_timing.tsv holds exactly the runs it claimed
    assert [f for _, f in pairs] == [per_machine["m1"], per_machine["m2"], per_machine["m3"]]
    assert len(query(fleet_dsn, "SELECT 1 FROM runs WHERE event = 'finished'")) == SLOTS
    assert runtime_fields(wss[0])["nextExecutionTime"] == iso(FIRST_MS + SLOTS * MINUTE + 500)
    losers_said = sum(e.count("claimed the slot") for e in errs)
    assert losers_said >= SLOTS  # at least one other engine saw each slot go to another machine
