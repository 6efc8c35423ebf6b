"""One bad schedule never stops the others (issue 13): a poisoned and a healthy schedule under a controlled clock."""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC
from pathlib import Path

import pytest
from test_scheduler_loop import sched  # one schedule factory for the scheduler tests

from orchestrator_gui.engine import scheduler_loop
from orchestrator_gui.engine.config import EngineConfig
from orchestrator_gui.engine.executor import ThreadExecutor
from orchestrator_gui.engine.scheduler import Action
from orchestrator_gui.engine.scheduler_loop import SCHEDULER_LOG, Scheduler
from orchestrator_gui.engine.scheduler_settings import EngineSettings
from orchestrator_gui.formats.nextrun import parse_js_iso
from orchestrator_gui.formats.schedules import load_schedules

PY = sys.executable
WAIT = 20
HOUR = 3_600_000
# Poisons that crashed the whole tick before (OverflowError past the year 9999, ValueError past 4300 digits).
POISONS = {
    "interval-past-9999": {"timeInterval": "3000000", "timeUnit": "day", "nextExecutionTime": ""},
    "5000-digit-interval": {"timeInterval": "7" * 5000, "nextExecutionTime": ""},
    "5000-digit-delay": {"inactivityDelay": "9" * 5000},
}


class Clock:
    """A clock the test moves: ``clock()`` is the scheduler's ``now`` in epoch ms."""

    def __init__(self, iso: str) -> None:
        self.ms = parse_js_iso(iso)

    def __call__(self) -> int:
        return self.ms


def setup(tmp_path: Path, *schedules: dict):
    root = tmp_path / "ws"
    (root / ".roo").mkdir(parents=True)
    (root / ".roo" / "schedules.json").write_text(json.dumps({"schedules": list(schedules)}, indent=2),
                                                  encoding="utf-8")
    engine = ThreadExecutor(root, EngineConfig.model_validate({"runner": [PY, "-c", "pass"]}))
    clock = Clock("2026-03-02T09:00:30.000Z")
    lines: list[str] = []
    s = Scheduler(root, engine, settings=EngineSettings(), tz=UTC, clock=clock, log=lines.append)
    return root, engine, s, clock, lines


def finish(s: Scheduler) -> None:
    for fired in s.fired:
        if fired.handle is not None:
            assert fired.handle.result(WAIT).status == "completed"


@pytest.mark.parametrize("poison", list(POISONS), ids=list(POISONS))
def test_a_poisoned_schedule_is_reported_once_and_the_healthy_one_keeps_firing(tmp_path, poison):
    root, engine, s, clock, lines = setup(tmp_path, sched("P", **POISONS[poison]), sched("H"))
    try:
        for hour in range(3):  # three due times of H, an hour apart
            acted = {d.schedule_id: d.action for d in s.tick()}
            assert acted.get("H") is Action.FIRE, (hour, acted, s.problems)
            finish(s)
            clock.ms += HOUR
        assert [f.schedule_id for f in s.fired] == ["H", "H", "H"]
        assert [d.action for d in s.decisions if d.schedule_id == "P"] == [Action.INVALID]
        reports = [line for line in lines if "(P)" in line or "'P'" in line]
        assert len([line for line in reports if line.startswith("problem:")]) == 1, reports
        assert "out of range" in reports[0]
        log = (root / SCHEDULER_LOG).read_text(encoding="utf-8")
        assert log.count("schedule 'SP' (P)") == 1
        raw = load_schedules(root / ".roo" / "schedules.json").get("P").raw
        assert raw["lastExecutionTime"] == "2026-03-02T08:00:00.500Z"  # never run, nothing written for it
    finally:
        engine.shutdown(wait=True, cancel=True)


def test_an_unexpected_error_in_one_schedule_is_isolated_and_reported_once(tmp_path, monkeypatch):
    root, engine, s, clock, lines = setup(tmp_path, sched("P"), sched("H"))
    real = scheduler_loop.decide

    def decide(schedule, *args, **kwargs):  # a bug that only this one schedule triggers
        if schedule.get("id") == "P":
            raise RuntimeError("boom")
        return real(schedule, *args, **kwargs)

    monkeypatch.setattr(scheduler_loop, "decide", decide)
    try:
        for _ in range(2):
            s.turn()
            finish(s)
            clock.ms += HOUR
        assert [f.schedule_id for f in s.fired] == ["H", "H"]
        assert len(s.problems) == 2 and all("schedule 'P': scheduler error: RuntimeError: boom" in p
                                           for p in s.problems)
        assert len([line for line in lines if line.startswith("problem:") and "boom" in line]) == 1
    finally:
        engine.shutdown(wait=True, cancel=True)


def test_the_daemon_loop_keeps_firing_next_to_a_poisoned_schedule(tmp_path):
    root, engine, s, clock, lines = setup(tmp_path, sched("P", **POISONS["interval-past-9999"]), sched("H"))
    stop = threading.Event()

    def idle() -> None:  # the loop's own hook: move the clock an hour per turn, stop after three runs of H
        finish(s)
        if len(s.fired) >= 3:
            stop.set()
        clock.ms += HOUR
        s.wake.set()

    worker = threading.Thread(target=s.run_forever, args=(stop,), kwargs={"idle": idle}, daemon=True)
    try:
        worker.start()
        worker.join(WAIT)
        assert not worker.is_alive()
        assert [f.schedule_id for f in s.fired][:3] == ["H", "H", "H"]
        assert len([line for line in lines if line.startswith("problem:") and "(P)" in line]) == 1
    finally:
        stop.set()
        engine.shutdown(wait=True, cancel=True)
