"""The values of one Roo schedule: what each key may hold, the numeric ranges, and CLI coercion.

docs/formats.md §1.3 lists the keys and §1.6 rule 7 the validation; the
ranges of the numeric fields are in the table of §1.3 ("Ranges"). Every
reader and editor shares these rules: ``check`` reports them, ``schedules
set``/``add`` and the app's form refuse a value outside them, and the
scheduler does not run a schedule that breaks a range (it reports it once;
:func:`orchestrator_gui.engine.scheduler.decide`).

Why ranges: the extension stores numbers as strings and never limits them.
A ``timeInterval`` of ``"3000000"`` days puts the next run past the year
9999 (Python's ``datetime`` stops there), and a 5000-digit one is past what
``int()`` converts. No real file comes near the limits below.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from orchestrator_gui.formats.jsonpos import stringify
from orchestrator_gui.formats.nextrun import DAY_KEYS, UNIT_MS

#: Key order the extension's UI writes for a new schedule (docs/formats.md §1.3).
UI_KEY_ORDER = (
    "id", "name", "mode", "taskInstructions", "scheduleType", "timeInterval", "timeUnit",
    "selectedDays", "startDate", "startHour", "startMinute", "expirationDate", "expirationHour",
    "expirationMinute", "requireActivity", "active", "taskInteraction", "inactivityDelay",
    "lastExecutionTime", "lastSkippedTime", "lastTaskId", "nextExecutionTime", "modeDisplayName",
    "createdAt", "updatedAt",
)
BOOL_KEYS = frozenset({"requireActivity", "active"})

#: Longest interval, whatever the unit: ten years (3650 days).
MAX_INTERVAL_DAYS = 3650
#: Largest ``timeInterval`` per ``timeUnit`` (the same ten years).
MAX_INTERVAL = {unit: MAX_INTERVAL_DAYS * UNIT_MS["day"] // ms for unit, ms in UNIT_MS.items()}
#: Largest ``inactivityDelay`` in minutes (a week).
MAX_INACTIVITY_MINUTES = 7 * 24 * 60
#: Years a start or expiration date may have.
MIN_YEAR, MAX_YEAR = 1970, 9999
# Digits beyond these cannot be in range; checked before int() (which refuses past 4300 digits).
_MAX_DIGITS = len(str(max(MAX_INTERVAL.values())))

_POS_INT = re.compile(r"^[1-9]\d*$")
_NONNEG_INT = re.compile(r"^\d+$")
_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)$")


def _whole(text: str) -> int | None:
    """``int(text)`` for at most :data:`_MAX_DIGITS` digits, ``None`` for longer (out of range anyway)."""
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else None


def range_problems(s: dict[str, Any]) -> list[str]:
    """Numeric values of one schedule outside their documented range (docs/formats.md §1.3).

    Only values of the right form are judged here (a ``timeInterval`` that is
    not a whole number is :func:`validate_values`'s business), so the
    scheduler can skip exactly the schedules whose numbers it cannot use.

    Parameters
    ----------
    s : dict
        The schedule object as stored (string values).

    Returns
    -------
    list of str
        Messages that start with the key concerned; empty when every value is in range.
    """
    msgs: list[str] = []
    ti, unit = s.get("timeInterval"), s.get("timeUnit")
    if isinstance(ti, str) and _POS_INT.match(ti):
        limit = MAX_INTERVAL.get(unit, MAX_INTERVAL["minute"]) if isinstance(unit, str) else MAX_INTERVAL["minute"]
        value = _whole(ti)
        if value is None or value > limit:
            shown = ti if len(ti) <= 20 else f"{ti[:12]}… ({len(ti)} digits)"
            per = f" {unit}s" if unit in MAX_INTERVAL else ""
            span = "" if unit == "day" else f" ({MAX_INTERVAL_DAYS} days)"
            msgs.append(f"timeInterval {shown}{per} is out of range: at most {limit}{per}{span}")
    delay = s.get("inactivityDelay")
    if isinstance(delay, str) and _NONNEG_INT.match(delay):
        value = _whole(delay)
        if value is None or value > MAX_INACTIVITY_MINUTES:
            shown = delay if len(delay) <= 20 else f"{delay[:12]}… ({len(delay)} digits)"
            msgs.append(f"inactivityDelay {shown} is out of range: 0 to {MAX_INACTIVITY_MINUTES} minutes (a week)")
    for prefix in ("start", "expiration"):
        d = s.get(f"{prefix}Date")
        m = _DATE.match(d) if isinstance(d, str) else None
        if m is None:
            continue
        y, mo, day = (int(g) for g in m.groups())
        try:
            date(y, mo, day)
        except ValueError:
            msgs.append(f"{prefix}Date {d!r} is not a date of the calendar")
            continue
        if not MIN_YEAR <= y <= MAX_YEAR:
            msgs.append(f"{prefix}Date {d!r} is out of range: years {MIN_YEAR} to {MAX_YEAR}")
    return msgs


def coerce_value(key: str, text: str) -> Any:
    """Turn a ``KEY=VALUE`` string from the CLI into the JSON value the extension expects.

    Booleans become ``true``/``false``; ``selectedDays`` takes ``mon,wed,fri``
    (or ``all``/``none``); numeric fields stay strings (``String(parseInt(v))``).

    Raises
    ------
    ValueError
        A value that cannot be read (the range is checked by :func:`validate_values`).
    """
    if key in BOOL_KEYS:
        low = text.strip().lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"{key} must be true or false, not {text!r}")
    if key == "selectedDays":
        low = text.strip().lower()
        chosen = set(DAY_KEYS) if low == "all" else set() if low in ("none", "") else {
            d.strip()[:3] for d in low.split(",")}
        bad = chosen - set(DAY_KEYS)
        if bad:
            raise ValueError(f"unknown day(s) {', '.join(sorted(bad))}; use sun,mon,tue,wed,thu,fri,sat")
        return {d: d in chosen for d in DAY_KEYS}
    if key in ("timeInterval", "inactivityDelay"):
        m = re.match(r"^\s*(\d+)", text)
        if not m:
            raise ValueError(f"{key} must be a whole number, not {text!r}")
        # String(parseInt(v)) without int(): a number too long for int() is still refused by its range.
        return m.group(1).lstrip("0") or "0"
    return text


def validate_values(s: dict[str, Any]) -> list[str]:
    """Check one schedule object's values (§1.6 rule 7 and the ranges of §1.3); returns messages, fixes nothing.

    Every message starts with the key it concerns, so callers can point at its line.
    """
    msgs: list[str] = []
    for key in ("id", "name", "mode", "taskInstructions"):
        if not isinstance(s.get(key), str) or not s.get(key, "").strip():
            msgs.append(f"{key} must be a non-empty string")
    for key, value in s.items():
        if key in BOOL_KEYS and not isinstance(value, bool):
            msgs.append(f"{key} must be true or false (found {stringify(value)})")
        elif key in UI_KEY_ORDER and key not in BOOL_KEYS and key != "selectedDays" and not isinstance(value, str):
            msgs.append(f"{key} must be a string (found {stringify(value)}); the extension expects \"...\"")
    if s.get("scheduleType", "time") != "time":
        msgs.append(f"scheduleType {s.get('scheduleType')!r} is never run by the extension (only \"time\")")
    ti = s.get("timeInterval")
    if isinstance(ti, str) and not _POS_INT.match(ti):
        msgs.append(f"timeInterval must be a positive whole number, not {_short(ti)!r}")
    if s.get("timeUnit") not in (None, "minute", "hour", "day"):
        msgs.append(f"timeUnit must be minute, hour or day, not {s.get('timeUnit')!r}")
    if s.get("taskInteraction") not in (None, "wait", "interrupt", "skip"):
        msgs.append(f"taskInteraction must be wait, interrupt or skip, not {s.get('taskInteraction')!r}")
    delay = s.get("inactivityDelay")
    if isinstance(delay, str) and delay and not _NONNEG_INT.match(delay):
        msgs.append(f"inactivityDelay must be a whole number of minutes, not {_short(delay)!r}")
    for prefix in ("start", "expiration"):
        d, h, m = (s.get(f"{prefix}{x}") for x in ("Date", "Hour", "Minute"))
        if isinstance(d, str) and d and not _DATE.match(d):
            msgs.append(f"{prefix}Date must be YYYY-MM-DD, not {_short(d)!r}")
        if isinstance(h, str) and h and not (h.isdigit() and len(h) == 2 and int(h) <= 23):
            msgs.append(f"{prefix}Hour must be 00-23, not {_short(h)!r}")
        if isinstance(m, str) and m and not (m.isdigit() and len(m) == 2 and int(m) <= 59):
            msgs.append(f"{prefix}Minute must be 00-59, not {_short(m)!r}")
    msgs.extend(range_problems(s))
    if s.get("startDate") and not s.get("startHour"):
        msgs.append("startDate is set but startHour is empty: the extension computes an Invalid Date")
    sd, ed = s.get("startDate"), s.get("expirationDate")
    if isinstance(sd, str) and isinstance(ed, str) and sd and ed and _DATE.match(sd) and _DATE.match(ed):
        start = (sd, s.get("startHour") or "00", s.get("startMinute") or "00")
        end = (ed, s.get("expirationHour") or "23", s.get("expirationMinute") or "59")
        if end <= start:
            msgs.append("expiration is not after the start")
    days = s.get("selectedDays")
    if days is not None and not (isinstance(days, dict) and all(isinstance(v, bool) for v in days.values())):
        msgs.append("selectedDays must be an object of true/false per day")
    elif isinstance(days, dict) and set(days) - set(DAY_KEYS):
        msgs.append(f"selectedDays has unknown keys {sorted(set(days) - set(DAY_KEYS))}")
    return msgs


def _short(text: str, limit: int = 40) -> str:
    """A value shortened for a message (a 5000-digit value must not fill the screen)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


__all__ = [
    "BOOL_KEYS",
    "MAX_INACTIVITY_MINUTES",
    "MAX_INTERVAL",
    "MAX_INTERVAL_DAYS",
    "MAX_YEAR",
    "MIN_YEAR",
    "UI_KEY_ORDER",
    "coerce_value",
    "range_problems",
    "validate_values",
]
