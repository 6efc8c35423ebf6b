"""Machine death: SIGKILL the machine running a slot; its claim is marked lost after dead_after_s and handled
by the missed-run policy (``once``: another machine runs the slot again, after the loss; ``skip``: dropped),
and reported in the survivors' logs and in ``fleet status``."""

from __future__ import annotations

import json
import os
import signal

import pytest
from fleet_setup import FIRST_MS, PY, SID, cli, copies, fleet_init, query, runtime_fields
from polling import until as wait_for
from test_fleet_engines import set_clock, start_engines, stop_engines

DEAD_AFTER_S = 5
RUNNER = """
import os, sys, time
with open("runner.pid", "w") as f:
    f.write(str(os.getpid()))
time.sleep(120 if os.path.exists("slow") else 0.1)
"""


@pytest.mark.parametrize("policy, restart", [("once", False), ("skip", False), ("once", True)])
def test_killed_machine_loses_its_claim_and_the_slot_follows_the_policy(tmp_path, fleet_dsn, policy, restart):
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    wss = copies(tmp_path, fleet_dsn, runner=[PY, str(runner)], fleet_extra=f"dead_after_s = {DEAD_AFTER_S}\n",
                 scheduler_extra=f'missed = "{policy}"\n')
    fleet_init(wss[0])
    for ws in wss:
        (ws / "slow").write_text("")
    clock = tmp_path / "clock"
    set_clock(clock, FIRST_MS - 30_000)
    procs = start_engines(wss, clock)
    try:
        wait_for(lambda: len(query(fleet_dsn, "SELECT 1 FROM machines")) == 3, 60, "three heartbeats")
        set_clock(clock, FIRST_MS + 500)
        [(victim,)] = wait_for(lambda: query(fleet_dsn, "SELECT machine FROM claims WHERE status = 'running'"),
                               60, "a running claim")
        i = int(victim[1:]) - 1
        pid_file = wss[i] / "runner.pid"
        wait_for(pid_file.exists, 60, "the victim's runner to start")
        runner_pid = int(wait_for(lambda: pid_file.read_text().strip(), 10, "the runner's pid"))
        for ws in wss:
            (ws / "slow").unlink()  # a re-run finishes at once
        # the machine dies: the engine and its runner, no goodbye
        os.killpg(procs[i].pid, signal.SIGKILL)
        os.kill(runner_pid, signal.SIGKILL)
        procs[i].wait(timeout=30)
        killed = query(fleet_dsn, "SELECT now()")[0][0]
        if restart:  # back at once under the same name: a new session, the old claim is still lost
            procs[i] = start_engines([wss[i]], clock, first=i + 1)[0]

        lost = wait_for(lambda: query(fleet_dsn, "SELECT lost_at FROM claims WHERE machine = %s AND "
                                      "status = 'lost'", (victim,)), DEAD_AFTER_S + 60, "the claim to be lost")
        lost_at = lost[0][0]
        # not before dead_after_s of silence of the process that held the claim
        [(heartbeat,)] = query(fleet_dsn, "SELECT s.heartbeat FROM claims c JOIN sessions s ON s.session = c.session "
                               "WHERE c.machine = %s AND c.status = 'lost'", (victim,))
        assert (lost_at - heartbeat).total_seconds() >= DEAD_AFTER_S
        assert lost_at > killed
        if policy == "once":
            rerun = wait_for(lambda: query(fleet_dsn, "SELECT machine, task_id FROM claims WHERE attempt = 1 AND "
                                           "status = 'finished'"), 60, "the slot's re-run")
            [(rerun_machine, rerun_task)] = rerun
            assert restart or rerun_machine != victim
            [(started,)] = query(fleet_dsn, "SELECT at FROM runs WHERE task_id = %s AND event = 'started'",
                                 (rerun_task,))
            assert started >= lost_at  # never two runs of the slot at once
            resolution = f"re-offered: attempt 1 on {rerun_machine}"
        else:
            resolution = "dropped (missed-run policy skip)"
        wait_for(lambda: query(fleet_dsn, "SELECT 1 FROM claims WHERE resolution = %s", (resolution,)), 30,
                 "the lost claim's resolution")
        status = cli("-w", str(wss[i - 1]), "fleet", "status", "--json", machine=f"m{(i + 2) % 3 + 1}")
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        states = {m["machine"]: m["state"] for m in report["machines"]}
        assert states[victim] == ("alive" if restart else "silent")
        assert sum(s == "alive" for s in states.values()) == (3 if restart else 2)
        [lost_claim] = [c for c in report["claims"] if c["status"] == "lost"]
        assert lost_claim["machine"] == victim and lost_claim["resolution"] == resolution
        assert victim not in {r["machine"] for r in report["running"]}  # its run is not shown as going on
    finally:
        errs = stop_engines([p for p in procs if p.poll() is None])
    said = "\n".join(errs)
    assert f"machine {victim} silent for" in said and "is marked lost" in said
    if policy == "skip":
        assert "missed-run policy skip: not run again" in said
        assert query(fleet_dsn, "SELECT count(*) FROM claims WHERE schedule_id = %s", (SID,))[0][0] == 1
    else:
        assert "re-offered: machine " + victim in said


def test_resurrected_machine_learns_its_claim_is_gone(tmp_path, fleet_dsn):
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    wss = copies(tmp_path, fleet_dsn, runner=[PY, str(runner)], fleet_extra=f"dead_after_s = {DEAD_AFTER_S}\n")
    fleet_init(wss[0])
    for ws in wss:
        (ws / "slow").write_text("")
    clock = tmp_path / "clock"
    set_clock(clock, FIRST_MS - 30_000)
    procs = start_engines(wss, clock)
    try:
        wait_for(lambda: len(query(fleet_dsn, "SELECT 1 FROM machines")) == 3, 60, "three heartbeats")
        set_clock(clock, FIRST_MS + 500)
        [(victim, task)] = wait_for(lambda: query(fleet_dsn, "SELECT machine, task_id FROM claims "
                                                  "WHERE status = 'running'"), 60, "a running claim")
        i = int(victim[1:]) - 1
        pid_file = wss[i] / "runner.pid"
        wait_for(pid_file.exists, 60, "the victim's runner to start")
        runner_pid = int(wait_for(lambda: pid_file.read_text().strip(), 10, "the runner's pid"))
        for ws in wss:
            (ws / "slow").unlink()
        # the machine freezes (engine and runner): silent, but not gone
        os.killpg(procs[i].pid, signal.SIGSTOP)
        os.kill(runner_pid, signal.SIGSTOP)
        [(rerun_machine, rerun_task)] = wait_for(
            lambda: query(fleet_dsn, "SELECT machine, task_id FROM claims WHERE attempt = 1 AND status = 'finished'"),
            DEAD_AFTER_S + 60, "the slot's re-run elsewhere")
        assert rerun_machine != victim
        os.kill(runner_pid, signal.SIGCONT)
        os.killpg(procs[i].pid, signal.SIGCONT)
        # back: it learns its claim is gone, stops its run, and records no result for the slot
        wait_for(lambda: query(fleet_dsn, "SELECT 1 FROM runs WHERE task_id = %s AND event = 'finished'", (task,)),
                 60, "the resurrected run to end")
        wait_for(lambda: runtime_fields(wss[i])["lastTaskId"] == rerun_task, 30, "its copy to follow the fleet")
    finally:
        errs = stop_engines([p for p in procs if p.poll() is None])
    [(status, finished_at, result)] = query(fleet_dsn, "SELECT status, finished_at, result FROM claims "
                                            "WHERE task_id = %s", (task,))
    assert (status, finished_at, result) == ("lost", None, None)  # not overwritten by the late run
    [(run_status,)] = query(fleet_dsn, "SELECT status FROM runs WHERE task_id = %s AND event = 'finished'", (task,))
    assert run_status == "cancelled"
    said = errs[i]
    assert "was marked lost while this machine was silent" in said
    assert f"task {task}'s result is not recorded in the fleet" in said
    shared = query(fleet_dsn, "SELECT fields->>'lastTaskId' FROM schedule_records WHERE schedule_id = %s", (SID,))
    assert shared == [(rerun_task,)]
