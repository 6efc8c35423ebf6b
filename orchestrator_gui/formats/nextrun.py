"""Next execution time of a schedule, computed exactly as roo-scheduler does.

This reproduces ``calculateNextExecutionTime`` of the Roo Scheduler extension
(v0.0.11; docs/formats.md §1.4), quirks included, for a given ``now`` and time
zone, so the app shows the same "next run" the extension will use.

Times are handled the way JavaScript ``Date`` does: an integer count of
milliseconds since the epoch, with calendar fields read and set in the
*local* time zone of the machine running VS Code. Keeping milliseconds as
integers matters: the extension carries the milliseconds of the reference
time into ``nextExecutionTime`` (``…06:50:00.983Z``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

UNIT_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
DAY_KEYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$")
_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)$")
_TWO = re.compile(r"^\d\d$")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The last instant Python's ``datetime`` can hold (JavaScript goes on to the year 275760). A next
#: run after it is reported as "no next run" instead of overflowing (docs/formats.md §1.4).
MAX_MS = (datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - _EPOCH) // timedelta(milliseconds=1)
#: The longest interval computed (3650 days, the range of ``timeInterval``; docs/formats.md §1.3).
MAX_INTERVAL_MS = 3650 * 86_400_000


def to_ms(dt: datetime) -> int:
    """Convert an aware datetime to epoch milliseconds."""
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int) -> datetime:
    """Convert epoch milliseconds to an aware UTC datetime."""
    return _EPOCH + timedelta(milliseconds=ms)


def iso_ms(ms: int) -> str:
    """Format like JavaScript ``Date.prototype.toISOString``."""
    dt = from_ms(ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_js_iso(value: str) -> int | None:
    """Parse an ISO timestamp as ``new Date(value)`` would; ``None`` if invalid or empty."""
    if not value or not _ISO_Z.match(value):
        return None
    v = value
    if v.endswith("Z"):
        v = v[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        return None
    if dt.tzinfo is None:  # JS reads date-time forms without offset as local; we only get UTC strings here
        dt = dt.replace(tzinfo=UTC)
    return to_ms(dt)


def _local_fields(ms: int, tz: tzinfo) -> datetime:
    return from_ms(ms).astimezone(tz)


def _from_local(y: int, mo: int, d: int, h: int, mi: int, s: int, msec: int, tz: tzinfo) -> int:
    """Local wall-clock fields to epoch ms, normalising overflow like JS ``new Date(y, mo, d, …)``."""
    base = datetime(y, mo, 1, tzinfo=tz) + timedelta(days=d - 1)
    naive = datetime(base.year, base.month, base.day) + timedelta(hours=h, minutes=mi, seconds=s)
    # fold=0 picks the earlier instant for ambiguous times and moves
    # non-existent (DST gap) times forward, matching V8.
    local = naive.replace(tzinfo=tz, fold=0)
    offset = local.utcoffset() or timedelta(0)
    return to_ms((naive - offset).replace(tzinfo=UTC)) + msec


def parse_local(date_s: str, hour_s: str, minute_s: str, tz: tzinfo) -> int | None:
    """``new Date("YYYY-MM-DDTHH:MM:00")`` in local time; ``None`` for an Invalid Date."""
    m = _DATE.match(date_s or "")
    if not m or not _TWO.match(hour_s or "") or not _TWO.match(minute_s or ""):
        return None
    y, mo, d = (int(g) for g in m.groups())
    h, mi = int(hour_s), int(minute_s)
    if h > 23 or mi > 59:
        return None
    try:
        date(y, mo, d)
        return _from_local(y, mo, d, h, mi, 0, 0, tz)
    except (ValueError, OverflowError):  # not a date, or a local time beyond the year 9999
        return None


def _set_local(ms: int, tz: tzinfo, *, add_days: int = 0, hour: int | None = None,
               minute: int | None = None, second: int | None = None) -> int:
    """JS ``setDate(getDate()+n)``, ``setHours``, ``setMinutes``, ``setSeconds`` in local time (ms kept)."""
    lt = _local_fields(ms, tz)
    msec = ms % 1000
    h = lt.hour if hour is None else hour
    mi = lt.minute if minute is None else minute
    s = lt.second if second is None else second
    return _from_local(lt.year, lt.month, lt.day + add_days, h, mi, s, msec, tz)


def _js_int(value: Any, default: int) -> int:
    """``parseInt(value || default)`` restricted to what the forms produce.

    More than 18 digits read as ``±10**18`` (far out of every range): ``int()``
    refuses strings past 4300 digits, and no caller needs the exact value.
    """
    m = re.match(r"^\s*([+-]?)(\d+)", str(value)) if value else None
    if not m:
        return default
    sign, digits = m.group(1), m.group(2).lstrip("0") or "0"
    number = int(digits) if len(digits) <= 18 else 10**18
    return -number if sign == "-" else number


def _weekday_key(ms: int, tz: tzinfo) -> str:
    # Python: Monday=0 … Sunday=6; JS getDay(): Sunday=0.
    return DAY_KEYS[(_local_fields(ms, tz).weekday() + 1) % 7]


def next_execution_ms(schedule: Mapping[str, Any], now_ms: int, tz: tzinfo) -> int | None:
    """Return the next execution time (epoch ms) or ``None`` when none is computed.

    Parameters
    ----------
    schedule : mapping
        A schedule object as stored in ``schedules.json`` (string values).
    now_ms : int
        Current time in epoch milliseconds.
    tz : tzinfo
        Local time zone of the machine running the scheduler.

    Returns
    -------
    int or None
        ``None`` also when the interval is longer than :data:`MAX_INTERVAL_MS`
        or the next run would fall after :data:`MAX_MS` (the year 9999).
    """
    try:
        nxt = _next_execution_ms(schedule, now_ms, tz)
    except OverflowError:  # a calendar step past the year 9999 (datetime's end)
        return None
    return None if nxt is None or nxt > MAX_MS else nxt


def _next_execution_ms(schedule: Mapping[str, Any], now_ms: int, tz: tzinfo) -> int | None:
    interval_n = _js_int(schedule.get("timeInterval"), 0) if schedule.get("timeInterval") else None
    unit = schedule.get("timeUnit")
    if not schedule.get("timeInterval") or not unit:
        return None
    interval = (interval_n or 0) * UNIT_MS.get(str(unit), 0)
    if interval > MAX_INTERVAL_MS or now_ms > MAX_MS:
        return None  # out of the documented range: no time is computed (and none could be represented)
    start_minute = schedule.get("startMinute") or "00"
    start_date = schedule.get("startDate") or ""
    # 1. start anchor
    if start_date:
        start = parse_local(start_date, schedule.get("startHour") or "", start_minute, tz)
    else:
        # QUIRK B: the UTC calendar date combined with the *local* hour.
        utc_date = from_ms(now_ms).strftime("%Y-%m-%d")
        local_hour = f"{_local_fields(now_ms, tz).hour:02d}"
        start = parse_local(utc_date, local_hour, start_minute, tz)
    if start is None:
        return None  # Invalid Date: every comparison is false and the extension gets nothing usable
    if now_ms < start:
        return start
    # 2. reference time
    last_exec = parse_js_iso(schedule.get("lastExecutionTime") or "")
    last_skip = parse_js_iso(schedule.get("lastSkippedTime") or "")
    if (schedule.get("lastExecutionTime") or schedule.get("lastSkippedTime")) and not start_date:
        ref = max(last_exec or 0, last_skip or 0)
    else:
        ref = start
    nxt = ref
    if now_ms > nxt:
        if interval <= 0:
            return None  # division by zero in the extension: Invalid Date
        periods = -(-(now_ms - ref) // interval)
        nxt = ref + periods * interval
        nxt = _set_local(nxt, tz, second=0)  # milliseconds survive, as in JS
        if now_ms > nxt:
            nxt += 60_000
    # 3. day-of-week filter, only when at least one day is selected
    days = schedule.get("selectedDays")
    if isinstance(days, Mapping) and any(bool(v) for v in days.values()):
        start_h = _js_int(schedule.get("startHour"), 0)
        start_m = _js_int(schedule.get("startMinute"), 0)
        for _ in range(7):
            if days.get(_weekday_key(nxt, tz)):
                if nxt <= now_ms:
                    nxt = _set_local(now_ms, tz, hour=start_h, minute=start_m, second=0)
                    if nxt <= now_ms:
                        nxt = _set_local(nxt, tz, add_days=1)
                    for _checked in range(7):
                        if days.get(_weekday_key(nxt, tz)):
                            break
                        nxt = _set_local(nxt, tz, add_days=1)
                    else:
                        return None
                return nxt
            nxt = _set_local(nxt, tz, add_days=1, hour=start_h, minute=start_m, second=0)
        return None
    return nxt


def next_execution(schedule: Mapping[str, Any], now: datetime, tz: tzinfo) -> datetime | None:
    """Datetime wrapper of :func:`next_execution_ms` (``now`` must be timezone-aware)."""
    ms = next_execution_ms(schedule, to_ms(now), tz)
    return None if ms is None else from_ms(ms)


def expiration_ms(schedule: Mapping[str, Any], tz: tzinfo) -> int | None:
    """Local expiration instant (``expirationHour`` defaults to 23, minute to 59), or ``None``."""
    if not schedule.get("expirationDate"):
        return None
    return parse_local(str(schedule.get("expirationDate")),
                       str(schedule.get("expirationHour") or "23"),
                       str(schedule.get("expirationMinute") or "59"), tz)


def upcoming_runs(schedule: Mapping[str, Any], now: datetime, tz: tzinfo, count: int = 5) -> list[datetime]:
    """Preview the next ``count`` run times, assuming each run happens on time.

    Each step feeds the previous result back as ``lastExecutionTime``, which
    is what the extension writes after a run. Stops at expiration.
    """
    out: list[datetime] = []
    sched = dict(schedule)
    now_ms = to_ms(now)
    exp = expiration_ms(schedule, tz)
    for _ in range(count):
        nxt = next_execution_ms(sched, now_ms, tz)
        if nxt is None or (exp is not None and nxt > exp) or nxt >= MAX_MS:
            break
        out.append(from_ms(nxt))
        sched["lastExecutionTime"] = iso_ms(nxt)
        now_ms = nxt + 1
    return out
