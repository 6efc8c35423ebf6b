"""Next-run computation against hand-worked cases of roo-scheduler's algorithm (docs/formats.md §1.4)."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from shared_fixtures import fixture

from orchestrator_gui.formats.nextrun import iso_ms, next_execution_ms, parse_js_iso, upcoming_runs
from orchestrator_gui.formats.schedules import load_schedules

UTC = UTC
ALL_DAYS = {d: True for d in ("sun", "mon", "tue", "wed", "thu", "fri", "sat")}


def nxt(schedule: dict, now: str, tz=UTC) -> str | None:
    ms = next_execution_ms(schedule, parse_js_iso(now), tz)
    return None if ms is None else iso_ms(ms)


def base(**kw) -> dict:
    s = {"timeInterval": "10", "timeUnit": "minute", "selectedDays": dict(ALL_DAYS), "startDate": "",
         "startHour": "", "startMinute": "00", "lastExecutionTime": "", "lastSkippedTime": ""}
    s.update(kw)
    return s


def test_cadence_from_last_run_keeps_milliseconds_and_zeroes_seconds():
    # 05:07:03.191 + 10 min = 05:17:03.191, setSeconds(0) -> 05:17:00.191
    s = base(lastExecutionTime="2025-11-01T05:07:03.191Z")
    assert nxt(s, "2025-11-01T05:10:00.000Z") == "2025-11-01T05:17:00.191Z"


def test_zeroed_seconds_before_now_adds_one_minute():
    s = base(lastExecutionTime="2025-11-01T05:07:03.191Z")
    assert nxt(s, "2025-11-01T05:17:01.000Z") == "2025-11-01T05:18:00.191Z"


def test_newer_skip_is_the_reference():
    s = base(lastExecutionTime="2025-11-01T05:07:03.191Z", lastSkippedTime="2025-11-01T05:21:00.192Z")
    assert nxt(s, "2025-11-01T05:21:30.000Z") == "2025-11-01T05:31:00.192Z"


def test_missed_runs_are_not_backfilled():
    # closed for 3 hours: the next run is the first grid point after now, not the missed ones
    s = base(lastExecutionTime="2025-11-01T05:00:00.500Z")
    assert nxt(s, "2025-11-01T08:05:00.000Z") == "2025-11-01T08:10:00.500Z"


def test_quirk_a_start_minute_without_start_date_anchors_this_hour():
    s = base(timeInterval="1", timeUnit="hour", startMinute="30", lastExecutionTime="2025-11-01T10:05:00.000Z")
    assert nxt(s, "2025-11-01T10:10:00.000Z") == "2025-11-01T10:30:00.000Z"


def test_quirk_b_utc_date_with_local_hour_pushes_evening_runs_to_tomorrow():
    ny = ZoneInfo("America/New_York")
    # 2026-11-26T01:30Z is 20:30 on Nov 25 in New York; the anchor is "2026-11-26" + local hour 20
    s = base(timeInterval="1", timeUnit="hour", lastExecutionTime="2026-11-26T01:00:00.000Z")
    assert nxt(s, "2026-11-26T01:30:00.000Z", ny) == "2026-11-27T01:00:00.000Z"


def test_start_date_in_future_returns_the_anchor_in_local_time():
    s = base(timeInterval="1", timeUnit="day", startDate="2026-12-01", startHour="09", startMinute="15")
    assert nxt(s, "2026-11-26T12:00:00.000Z", ZoneInfo("Europe/Paris")) == "2026-12-01T08:15:00.000Z"


def test_start_date_keeps_the_grid_whatever_the_last_run():
    s = base(timeInterval="1", timeUnit="day", startDate="2026-11-20", startHour="09",
             lastExecutionTime="2026-11-25T09:00:05.341Z")
    assert nxt(s, "2026-11-25T12:00:00.000Z") == "2026-11-26T09:00:00.000Z"


def test_selected_days_skip_to_monday_at_start_hour_quirk():
    # Fri 2026-11-27: +1 day lands on Saturday; unselected days move to the next day at
    # parseInt(startHour||'0'):parseInt(startMinute||'0'), milliseconds kept.
    weekdays = {**ALL_DAYS, "sat": False, "sun": False}
    s = base(timeInterval="1", timeUnit="day", selectedDays=weekdays, lastExecutionTime="2026-11-27T08:00:05.341Z")
    assert nxt(s, "2026-11-27T09:00:00.000Z") == "2026-11-30T00:00:00.341Z"


def test_no_selected_day_means_every_day():
    s = base(selectedDays={d: False for d in ALL_DAYS}, lastExecutionTime="2025-11-01T05:07:03.191Z")
    assert nxt(s, "2025-11-01T05:10:00.000Z") == "2025-11-01T05:17:00.191Z"


@pytest.mark.parametrize("field, value", [("timeInterval", ""), ("timeUnit", "")])
def test_missing_interval_or_unit_gives_no_next_time(field, value):
    assert nxt(base(**{field: value}), "2025-11-01T05:10:00.000Z") is None


def test_start_date_without_hour_is_invalid_date():
    assert nxt(base(startDate="2026-11-20", startHour=""), "2026-11-26T12:00:00.000Z") is None


def test_real_fixture_reproduces_stored_next_time_in_london():
    # ryantulloch: startDate 2025-05-08 18:21 local, every 35 min; the extension stored 00:56:00.000Z
    doc = load_schedules(fixture("schedules", "ryantulloch"))
    raw = doc.schedules[0].raw
    after_run = parse_js_iso(raw["lastExecutionTime"]) + 1000
    assert iso_ms(next_execution_ms(raw, after_run, ZoneInfo("Europe/London"))) == raw["nextExecutionTime"]


def test_dst_change_keeps_local_wall_clock_for_daily_grid():
    # Europe/Berlin leaves DST on 2026-10-25: a 1-day millisecond interval drifts one hour in
    # local time, exactly as the extension's intervalMs arithmetic does.
    berlin = ZoneInfo("Europe/Berlin")
    s = base(timeInterval="1", timeUnit="day", startDate="2026-10-20", startHour="09")
    assert nxt(s, "2026-10-26T07:30:00.000Z", berlin) == "2026-10-27T07:00:00.000Z"


def test_upcoming_runs_preview_stops_at_expiration():
    s = base(timeInterval="1", timeUnit="day", startDate="2026-11-20", startHour="09",
             expirationDate="2026-11-28", expirationHour="12", expirationMinute="00")
    from orchestrator_gui.formats.nextrun import from_ms
    runs = upcoming_runs(s, from_ms(parse_js_iso("2026-11-26T10:00:00.000Z")), UTC, count=5)
    assert [r.strftime("%m-%d %H:%M") for r in runs] == ["11-27 09:00", "11-28 09:00"]
