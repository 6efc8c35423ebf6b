"""Scheduler decisions (pure): firing, expiration, requireActivity, taskInteraction, missed runs."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from orchestrator_gui.engine.missed import MissedPolicy, due_slots, planned_runs
from orchestrator_gui.engine.scheduler import (
    Action,
    RunningTask,
    armed_ms,
    decide,
    inactivity_delay_ms,
    no_recent_activity,
    started_updates,
    wait_retry_ms,
)
from orchestrator_gui.formats.nextrun import iso_ms, parse_js_iso

UTC = UTC
ALL_DAYS = {d: True for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")}


def ms(s: str) -> int:
    value = parse_js_iso(s)
    assert value is not None
    return value


def sched(**kw) -> dict:
    s = {"id": "1761482303261", "name": "Hourly", "mode": "code", "taskInstructions": "do it",
         "scheduleType": "time", "timeInterval": "1", "timeUnit": "hour", "selectedDays": dict(ALL_DAYS),
         "startDate": "", "startHour": "", "startMinute": "00", "expirationDate": "", "expirationHour": "00",
         "expirationMinute": "00", "requireActivity": False, "active": True, "taskInteraction": "wait",
         "inactivityDelay": "10", "lastExecutionTime": "2025-11-01T05:00:00.500Z", "lastSkippedTime": "",
         "lastTaskId": "", "nextExecutionTime": "2025-11-01T06:00:00.500Z"}
    s.update(kw)
    return s


DUE = "2025-11-01T06:00:30.000Z"  # 30 s after the stored nextExecutionTime


# -- firing -------------------------------------------------------------------------------------
def test_due_schedule_fires_once():
    d = decide(sched(), ms(DUE), UTC)
    assert (d.action, d.runs, d.missed, d.updates) == (Action.FIRE, 1, 0, {})
    assert d.due_ms == ms("2025-11-01T06:00:00.500Z")


def test_not_yet_due():
    d = decide(sched(), ms("2025-11-01T05:59:59.000Z"), UTC)
    assert d.action is Action.NOT_DUE and "06:00:00.500Z" in d.reason


@pytest.mark.parametrize("active, action", [(False, Action.INACTIVE), (True, Action.FIRE), (None, Action.FIRE)])
def test_active_missing_means_true(active, action):
    s = sched()
    if active is None:
        del s["active"]
    else:
        s["active"] = active
    assert decide(s, ms(DUE), UTC).action is action


def test_non_time_schedule_is_never_run():
    assert decide(sched(scheduleType="completion"), ms(DUE), UTC).action is Action.UNSUPPORTED


def test_armed_time_is_computed_when_nothing_is_stored():
    s = sched(nextExecutionTime="")
    assert armed_ms(s, ms("2025-11-01T05:30:00.000Z"), UTC) == ms("2025-11-01T06:00:00.500Z")
    d = decide(s, ms("2025-11-01T05:30:00.000Z"), UTC)
    assert d.action is Action.NOT_DUE
    s2 = sched(timeInterval="", nextExecutionTime="")
    assert decide(s2, ms(DUE), UTC).action is Action.NO_NEXT


def test_selected_days_move_the_computed_run_to_a_selected_day():
    # 2025-11-01 is a Saturday; only Mondays selected -> Monday 2025-11-03 at startHour:startMinute
    days = {d: d == "mon" for d in ALL_DAYS}
    s = sched(selectedDays=days, nextExecutionTime="")
    # (setHours keeps the milliseconds of the reference, as in JavaScript)
    assert iso_ms(armed_ms(s, ms("2025-11-01T05:30:00.000Z"), UTC)) == "2025-11-03T00:00:00.500Z"
    assert decide(s, ms("2025-11-01T06:30:00.000Z"), UTC).action is Action.NOT_DUE


# -- expiration ---------------------------------------------------------------------------------
def test_expired_schedule_is_deactivated_and_loses_next_time():
    s = sched(expirationDate="2025-11-01", expirationHour="05", expirationMinute="30")
    d = decide(s, ms(DUE), UTC)
    assert d.action is Action.EXPIRE
    assert d.updates == {"active": False, "nextExecutionTime": None}


def test_expiration_uses_the_local_zone_and_23_59_default():
    tz = ZoneInfo("America/New_York")  # UTC-4 on 2025-11-01
    s = sched(expirationDate="2025-11-01", expirationHour="", expirationMinute="")
    assert decide(s, ms("2025-11-02T03:58:00.000Z"), tz).action is Action.FIRE  # 23:58 local
    assert decide(s, ms("2025-11-02T04:00:00.000Z"), tz).action is Action.EXPIRE  # 00:00 local next day


def test_last_run_before_expiration_deactivates_on_rearm():
    s = sched(expirationDate="2025-11-01", expirationHour="06", expirationMinute="30")
    up = started_updates(s, ms(DUE), "t1", UTC)
    assert up == {"lastExecutionTime": "2025-11-01T06:00:30.000Z", "lastTaskId": "t1",
                  "active": False, "nextExecutionTime": None}


# -- write-back values --------------------------------------------------------------------------
def test_started_updates_follow_the_extension():
    up = started_updates(sched(), ms("2025-11-01T06:00:03.191Z"), "dc087996-78a6-4875-822a-6e875d7a8875", UTC)
    # next = start + 1 h with the seconds zeroed and the milliseconds kept
    assert up == {"lastExecutionTime": "2025-11-01T06:00:03.191Z",
                  "lastTaskId": "dc087996-78a6-4875-822a-6e875d7a8875",
                  "nextExecutionTime": "2025-11-01T07:00:00.191Z"}


def test_wait_retry_is_one_minute_later_with_seconds_zeroed():
    assert iso_ms(wait_retry_ms(ms("2025-11-01T06:49:00.983Z"))) == "2025-11-01T06:50:00.983Z"
    assert iso_ms(wait_retry_ms(ms("2025-11-01T06:49:37.012Z"))) == "2025-11-01T06:50:00.012Z"


@pytest.mark.parametrize("value, minutes", [(None, 1), ("", 1), ("0", 0), ("3", 3), ("10", 10), ("7 min", 7)])
def test_inactivity_delay_parse_int(value, minutes):
    s = sched()
    if value is None:
        del s["inactivityDelay"]
    else:
        s["inactivityDelay"] = value
    assert inactivity_delay_ms(s) == minutes * 60_000


# -- taskInteraction ----------------------------------------------------------------------------
def running(idle_s: float, now: str = DUE, started_s_ago: float = 3600) -> RunningTask:
    t = ms(now)
    return RunningTask("busy-task", started_ms=t - int(started_s_ago * 1000), last_output_ms=t - int(idle_s * 1000))


def test_wait_while_our_task_is_busy_writes_skip_and_retry():
    d = decide(sched(), ms(DUE), UTC, running=running(idle_s=30))
    assert d.action is Action.WAIT and d.interrupt is None
    assert d.updates == {"lastSkippedTime": "2025-11-01T06:00:30.000Z", "nextExecutionTime": "2025-11-01T06:01:00.000Z"}


def test_wait_cancels_a_task_idle_for_the_delay():
    d = decide(sched(inactivityDelay="10"), ms(DUE), UTC, running=running(idle_s=600))
    assert (d.action, d.interrupt, d.updates) == (Action.FIRE, "busy-task", {})
    d = decide(sched(inactivityDelay="10"), ms(DUE), UTC, running=running(idle_s=599))
    assert d.action is Action.WAIT


def test_wait_with_zero_delay_proceeds_at_once_and_missing_key_means_wait_one_minute():
    assert decide(sched(inactivityDelay="0"), ms(DUE), UTC, running=running(idle_s=0)).interrupt == "busy-task"
    s = sched()
    del s["taskInteraction"], s["inactivityDelay"]
    assert decide(s, ms(DUE), UTC, running=running(idle_s=59)).action is Action.WAIT
    assert decide(s, ms(DUE), UTC, running=running(idle_s=60)).action is Action.FIRE


def test_wait_counts_a_silent_task_as_active_since_its_start():
    t = ms(DUE)
    silent = RunningTask("quiet", started_ms=t - 30_000, last_output_ms=None)
    assert decide(sched(inactivityDelay="1"), t, UTC, running=silent).action is Action.WAIT
    silent = RunningTask("quiet", started_ms=t - 61_000, last_output_ms=None)
    assert decide(sched(inactivityDelay="1"), t, UTC, running=silent).interrupt == "quiet"


def test_interrupt_cancels_our_running_task():
    d = decide(sched(taskInteraction="interrupt"), ms(DUE), UTC, running=running(idle_s=0))
    assert (d.action, d.interrupt, d.runs) == (Action.FIRE, "busy-task", 1)


def test_skip_records_the_skip_and_rearms_from_it():
    d = decide(sched(taskInteraction="skip"), ms(DUE), UTC, running=running(idle_s=0))
    assert d.action is Action.SKIP and d.interrupt is None
    # without a startDate the cadence restarts from the skip: 06:00:30 + 1 h, seconds zeroed
    assert d.updates == {"lastSkippedTime": "2025-11-01T06:00:30.000Z", "nextExecutionTime": "2025-11-01T07:00:00.000Z"}


def test_no_running_task_means_every_interaction_just_fires():
    for interaction in ("wait", "interrupt", "skip"):
        d = decide(sched(taskInteraction=interaction), ms(DUE), UTC, running=None)
        assert (d.action, d.interrupt) == (Action.FIRE, None)


# -- requireActivity ----------------------------------------------------------------------------
def test_require_activity_skips_silently_when_nothing_else_ran():
    s = sched(requireActivity=True, lastTaskId="prev")
    activity = {"prev": ms("2025-11-01T05:40:00.000Z"), "other": ms("2025-11-01T04:00:00.000Z")}
    assert no_recent_activity(s, activity)
    d = decide(s, ms(DUE), UTC, activity=activity)
    assert d.action is Action.NO_ACTIVITY
    assert "lastSkippedTime" not in d.updates  # the extension does not record this skip
    assert d.updates == {"nextExecutionTime": "2025-11-01T07:00:00.500Z"}


def test_require_activity_runs_after_other_activity_or_with_no_history():
    s = sched(requireActivity=True, lastTaskId="prev")
    assert decide(s, ms(DUE), UTC, activity={"other": ms("2025-11-01T05:10:00.000Z")}).action is Action.FIRE
    assert decide(s, ms(DUE), UTC, activity={}).action is Action.FIRE
    assert decide(s, ms(DUE), UTC, activity={"prev": 0}).action is Action.FIRE  # only its own run: none other
    assert decide(sched(requireActivity=False), ms(DUE), UTC,
                  activity={"other": ms("2025-11-01T01:00:00.000Z")}).action is Action.FIRE


# -- missed runs --------------------------------------------------------------------------------
CLOSED = "2025-11-01T09:30:00.000Z"  # 06:00, 07:00, 08:00 and 09:00 passed while closed


def test_missed_slots_follow_the_cadence():
    s = sched()
    slots = due_slots(s, ms("2025-11-01T06:00:00.500Z"), ms(CLOSED), UTC)
    assert [iso_ms(x) for x in slots.slots] == [f"2025-11-01T0{h}:00:00.500Z" for h in (6, 7, 8, 9)]
    assert iso_ms(slots.next_ms) == "2025-11-01T10:00:00.500Z"
    assert slots.is_missed(ms(CLOSED))


@pytest.mark.parametrize("policy, action, runs, dropped", [
    ("once", Action.FIRE, 1, 3), ("all", Action.FIRE, 4, 0), ("skip", Action.MISSED_SKIP, 0, 4)])
def test_missed_run_policies(policy, action, runs, dropped):
    d = decide(sched(), ms(CLOSED), UTC, policy=policy)
    assert (d.action, d.runs, d.missed, d.dropped) == (action, runs, 4, dropped)
    assert "4 run(s) missed since 2025-11-01T06:00:00.500Z" in d.reason
    if policy == "skip":
        assert d.updates == {"nextExecutionTime": "2025-11-01T10:00:00.500Z"}


def test_one_slot_a_little_late_is_not_missed_but_long_late_is():
    assert decide(sched(), ms("2025-11-01T06:01:30.000Z"), UTC, policy="skip").action is Action.FIRE
    d = decide(sched(), ms("2025-11-01T06:30:00.000Z"), UTC, policy="skip")
    assert (d.action, d.missed) == (Action.MISSED_SKIP, 1)


def test_backfill_is_capped_and_the_rest_counted():
    s = sched(timeInterval="1", timeUnit="minute", nextExecutionTime="2025-11-01T06:00:00.500Z")
    d = decide(s, ms("2025-11-01T07:00:00.000Z"), UTC, policy="all", max_backfill=5)
    assert (d.runs, d.missed, d.dropped) == (5, 60, 55)
    assert planned_runs(MissedPolicy.ALL, 3) == 3 and planned_runs("once", 0) == 0


def test_missed_slots_stop_at_expiration():
    s = sched(expirationDate="2025-11-01", expirationHour="07", expirationMinute="30")
    slots = due_slots(s, ms("2025-11-01T06:00:00.500Z"), ms(CLOSED), UTC)
    assert slots.count == 2 and slots.next_ms is None


def test_day_interval_with_start_date_counts_grid_days():
    s = sched(timeInterval="1", timeUnit="day", startDate="2025-10-01", startHour="08", startMinute="00",
              lastExecutionTime="2025-10-28T08:00:01.000Z", nextExecutionTime="2025-10-29T08:00:00.000Z")
    d = decide(s, ms("2025-11-01T09:00:00.000Z"), UTC, policy="once")
    assert (d.action, d.missed, d.runs) == (Action.FIRE, 4, 1)  # 29, 30, 31 Oct and 1 Nov


def test_a_next_run_after_the_expiration_deactivates_like_timer_setup():
    s = sched(expirationDate="2025-11-01", expirationHour="06", expirationMinute="30",
              nextExecutionTime="2025-11-01T07:00:00.500Z")
    d = decide(s, ms("2025-11-01T06:10:00.000Z"), UTC)
    assert d.action is Action.EXPIRE and "after the expiration" in d.reason
    assert d.updates == {"active": False, "nextExecutionTime": None}
